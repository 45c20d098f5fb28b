#!/usr/bin/env bash
# ResNet-18 side by side with PyTorch 1.13 + OpenBLAS (torchvision's resnet18) on this machine:
# batch 32 at 3x64x64 and 3x224x224, training and inference images/s, each config in a fresh
# process, implementations and repetitions interleaved so machine noise hits both alike; then the
# frozen-backbone finetune per epoch with and without cached features against a full finetune.
# Prints JSON lines, then a Markdown table of medians and ratios.
#   bench/run_resnet.sh [BUILD_DIR] [REPS]      (SIZES="64 224", THREADS="2", PRECISIONS="f32" to change)
# PRECISIONS="f32 bf16" (the default): pipeline's `precision: bf16` against PyTorch's torch.autocast.
# Needs: cmake -DPIPELINE_BUILD_BENCH=ON; apt-get install python3-torch python3-torchvision libopenblas0-pthread
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
reps="${2:-3}"
out="$(mktemp)"
# The machine's own peak in the same run (oneDNN matmul f32 and bf16), for the % columns.
for threads in ${THREADS:-2}; do
  OMP_NUM_THREADS=$threads "$build/bin/peak" --min-time 2 | tee -a "$out"
done
# Waiting policies as in run_throughput.sh: ours OpenMP's default, PyTorch passive (its OpenMP and
# OpenBLAS threads spin against each other otherwise).
for rep in $(seq 1 "$reps"); do
  for size in ${SIZES:-64 224}; do
    for threads in ${THREADS:-2}; do
      for precision in ${PRECISIONS:-f32 bf16}; do
        OMP_NUM_THREADS=$threads "$build/bin/resnet_throughput" throughput "$size" --min-time 5 --precision "$precision" | tee -a "$out"
        OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=passive /usr/bin/python3 "$here/resnet_pytorch.py" "$size" --min-time 5 \
          --precision "$precision" | tee -a "$out"
      done
    done
  done
done
for threads in ${THREADS:-2}; do
  OMP_NUM_THREADS=$threads "$build/bin/resnet_throughput" finetune 64 --images 250 --epochs 3 | tee -a "$out"
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
peaks = {(r["threads"], r["dtype"]): r["gflops"] for r in rows if r["kind"] == "peak"}
for (threads, dtype), g in sorted(peaks.items(), key=str):
    print(f"this machine's oneDNN matmul peak, {dtype}, {threads} threads: {g} GFLOP/s")
print("\n| input | precision | threads | train img/s pipeline | train img/s PyTorch | ratio | infer img/s pipeline | infer img/s PyTorch | ratio | train % of peak (same precision) pipeline / PyTorch | peak RSS MB pipeline / PyTorch |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
keys = sorted({(r["size"], r["threads"], r.get("precision", "f32")) for r in rows if r["kind"] == "throughput"}, key=str)
def med_of(impl, field, size, threads, precision):
    v = [r[field] for r in rows if r["kind"] == "throughput" and r["impl"] == impl and r["size"] == size
         and r["threads"] == threads and r.get("precision", "f32") == precision]
    return statistics.median(v) if v else float("nan")
for size, threads, precision in keys:
    def med(impl, field):
        return med_of(impl, field, size, threads, precision)
    t_ours, t_pt, i_ours, i_pt = med("pipeline", "train_ips"), med("pytorch", "train_ips"), med("pipeline", "infer_ips"), med("pytorch", "infer_ips")
    # Training FLOPs per image as resnet_throughput counts them (the same network in both).
    train_flops = med("pipeline", "train_flops_per_image")
    peak = peaks.get((threads, precision)) or float("nan")  # the peak of the same precision
    share = lambda ips: f"{100 * ips * train_flops / 1e9 / peak:.0f}%"
    print(f"| 3x{size}x{size} | {precision} | {threads} | {t_ours:.1f} | {t_pt:.1f} | {t_ours / t_pt:.2f} | {i_ours:.1f} | {i_pt:.1f} | {i_ours / i_pt:.2f} | "
          f"{share(t_ours)} / {share(t_pt)} | {med('pipeline', 'peak_rss_mb'):.0f} / {med('pytorch', 'peak_rss_mb'):.0f} |")
for size, threads, precision in keys:
    if precision == "bf16":
        f32 = lambda field: med_of("pipeline", field, size, threads, "f32")
        bf16 = lambda field: med_of("pipeline", field, size, threads, "bf16")
        print(f"\n3x{size}x{size}, {threads} threads: pipeline bf16 / f32 training {bf16('train_ips') / f32('train_ips'):.2f}x, "
              f"inference {bf16('infer_ips') / f32('infer_ips'):.2f}x")
for r in rows:
    if r["kind"] == "finetune":
        print(f"\nfinetune, 3x{r['size']}x{r['size']}, {r['images']} images, {r['threads']} threads, s/epoch: frozen backbone with cached "
              f"features {r['epoch_seconds_frozen_cached']:.3f}, frozen without cache {r['epoch_seconds_frozen_uncached']:.3f}, "
              f"full finetune {r['epoch_seconds_full']:.3f}: {r['speedup_cached_vs_full']:.1f}x faster than a full finetune, "
              f"{r['speedup_cached_vs_uncached']:.1f}x than the uncached frozen one")
PY
