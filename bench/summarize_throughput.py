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
    runs[(r["model"], int(r["threads"]), int(r["batch"]), impl)].append(r)

def peak_share(gflops, threads):
    peak = peaks.get((threads, "f32"))
    return f"{100 * gflops / peak:.0f}%" if peak else "-"

for (threads, dtype), g in sorted(peaks.items(), key=str):
    print(f"this machine's oneDNN matmul peak, {dtype}, {threads} threads: {g} GFLOP/s")

def median(key, rows):
    return statistics.median(r[key] for r in rows)

print("| model | threads | batch | train img/s pipeline | train img/s PyTorch | ratio | "
      "infer img/s pipeline | infer img/s PyTorch | ratio | train GFLOP/s | % of f32 peak | peak RSS MB pipeline / PyTorch |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for (model, threads, batch) in sorted({k[:3] for k in runs}, key=lambda k: (["cnn", "rnn", "lstm", "gru"].index(k[0]), k[1], k[2])):
    ours, theirs = runs.get((model, threads, batch, "pipeline")), runs.get((model, threads, batch, "pytorch"))
    if not ours or not theirs:
        continue
    tr_o, tr_t = median("train_ips", ours), median("train_ips", theirs)
    in_o, in_t = median("infer_ips", ours), median("infer_ips", theirs)
    print(f"| {model} | {threads} | {batch} | {tr_o:.0f} | {tr_t:.0f} | {tr_o / tr_t:.2f} | {in_o:.0f} | {in_t:.0f} | "
          f"{in_o / in_t:.2f} | {median('train_gflops', ours):.1f} | {peak_share(median('train_gflops', ours), threads)} | "
          f"{median('peak_rss_mb', ours):.0f} / "
          f"{median('peak_rss_mb', theirs):.0f} |")
