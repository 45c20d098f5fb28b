#!/usr/bin/python3
"""Medians per (model, threads, batch) of pipeline's and PyTorch's JSON lines, and their ratios.

  summarize_throughput.py FILE
"""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
peaks = {}  # (threads, dtype) -> GFLOP/s of oneDNN matmul, measured in the same run
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if r.get("kind") == "peak":
        peaks[(int(r["threads"]), r["dtype"])] = r["gflops"]
        continue
    impl = r.get("impl", "pytorch" if r.get("kind") == "run" else None)
    if impl is None:
        continue
    runs[(r["model"], r.get("precision", "f32"), int(r["threads"]), int(r["batch"]), impl)].append(r)

def peak_share(gflops, threads, precision):
    peak = peaks.get((threads, precision))  # the peak of the same precision
    return f"{100 * gflops / peak:.0f}%" if peak else "-"

for (threads, dtype), g in sorted(peaks.items(), key=str):
    print(f"this machine's oneDNN matmul peak, {dtype}, {threads} threads: {g} GFLOP/s")

def median(key, rows):
    return statistics.median(r[key] for r in rows)

print("| model | precision | threads | batch | train img/s pipeline | train img/s PyTorch | ratio | "
      "infer img/s pipeline | infer img/s PyTorch | ratio | train GFLOP/s | % of peak (same precision) | peak RSS MB pipeline / PyTorch |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
# Each precision against PyTorch at the same precision (bf16: its torch.autocast).
for (model, precision, threads, batch) in sorted({k[:4] for k in runs},
                                                 key=lambda k: (["cnn", "rnn", "lstm", "gru"].index(k[0]), k[2], k[3], k[1])):
    ours = runs.get((model, precision, threads, batch, "pipeline"))
    theirs = runs.get((model, precision, threads, batch, "pytorch"))
    if not ours or not theirs:
        continue
    tr_o, tr_t = median("train_ips", ours), median("train_ips", theirs)
    in_o, in_t = median("infer_ips", ours), median("infer_ips", theirs)
    print(f"| {model} | {precision} | {threads} | {batch} | {tr_o:.0f} | {tr_t:.0f} | {tr_o / tr_t:.2f} | {in_o:.0f} | {in_t:.0f} | "
          f"{in_o / in_t:.2f} | {median('train_gflops', ours):.1f} | {peak_share(median('train_gflops', ours), threads, precision)} | "
          f"{median('peak_rss_mb', ours):.0f} / "
          f"{median('peak_rss_mb', theirs):.0f} |")

# bf16 against our own f32, same config.
for (model, precision, threads, batch) in sorted(k[:4] for k in runs if k[1] == "bf16" and k[4] == "pipeline"):
    f32 = runs.get((model, "f32", threads, batch, "pipeline"))
    if f32:
        bf16 = runs[(model, precision, threads, batch, "pipeline")]
        print(f"\n{model}, {threads} threads, batch {batch}: pipeline bf16 / f32 training {median('train_ips', bf16) / median('train_ips', f32):.2f}x, "
              f"inference {median('infer_ips', bf16) / median('infer_ips', f32):.2f}x")
