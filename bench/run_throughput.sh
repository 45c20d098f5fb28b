#!/usr/bin/env bash
# Side-by-side throughput of pipeline and PyTorch (../shared/anchors) on this machine: every
# (model, threads, batch) config in a fresh process, implementations and repetitions interleaved
# so machine noise hits both alike. Prints JSON lines, then a Markdown table of medians and ratios.
#   bench/run_throughput.sh [BUILD_DIR] [REPS]     (MODELS="cnn rnn", THREADS="2", BATCHES="64", PRECISIONS="f32" to narrow)
# PRECISIONS="f32 bf16" (the default) adds pipeline's `precision: bf16` against PyTorch's torch.autocast
# (bench/pytorch_autocast.py).
# Needs: cmake -DPIPELINE_BUILD_BENCH=ON; apt-get install python3-torch libopenblas0-pthread
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
reps="${2:-3}"
anchors="$here/../../shared/anchors/pytorch"
out="$(mktemp)"
# The machine's own peak in the same run (oneDNN matmul f32 and bf16), for the % of peak column.
for threads in ${THREADS:-1 2}; do
  OMP_NUM_THREADS=$threads "$build/bin/peak" --min-time 2 | tee -a "$out"
done
# Each implementation in its best threading environment, measured in the same run:
# - pipeline with OpenMP's default (active) waiting, as `pipeline run` uses; passive waiting makes
#   every parallel region a futex wake-up, which oneDNN's RNNs (many small regions a step) pay
#   dearly for (measured: RNN at 2 threads, batch 64, 5x slower).
# - PyTorch with OMP_WAIT_POLICY=passive: its OpenMP team and OpenBLAS's threads spin against each
#   other otherwise (measured: LSTM at 2 threads, batch 64, 8x slower).
for rep in $(seq 1 "$reps"); do
  for model in ${MODELS:-cnn rnn lstm gru}; do
    for threads in ${THREADS:-1 2}; do
      for batch in ${BATCHES:-64 256}; do
        for precision in ${PRECISIONS:-f32 bf16}; do
          OMP_NUM_THREADS=$threads "$build/bin/throughput" "$model" "$batch" --min-time 3 --precision "$precision" | tee -a "$out"
          anchor="$anchors/bench_throughput.py"
          [ "$precision" = bf16 ] && anchor="$here/pytorch_autocast.py"
          OMP_WAIT_POLICY=passive /usr/bin/python3 "$anchor" --one "$model" "$threads" "$batch" --min-time 3 2>/dev/null \
            | grep '"kind": "run"' | tee -a "$out" || true
        done
      done
    done
  done
done
/usr/bin/python3 "$here/summarize_throughput.py" "$out"
