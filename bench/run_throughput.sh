#!/usr/bin/env bash
# Side-by-side throughput of pipeline and PyTorch (../shared/anchors) on this machine: every
# (model, threads, batch) config in a fresh process, implementations and repetitions interleaved
# so machine noise hits both alike. Prints JSON lines, then a Markdown table of medians and ratios.
#   bench/run_throughput.sh [BUILD_DIR] [REPS]
# Needs: cmake -DPIPELINE_BUILD_BENCH=ON; apt-get install python3-torch libopenblas0-pthread
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
reps="${2:-3}"
anchors="$here/../../shared/anchors/pytorch"
out="$(mktemp)"
export OMP_WAIT_POLICY=passive
for rep in $(seq 1 "$reps"); do
  for model in cnn rnn lstm gru; do
    for threads in 1 2; do
      for batch in 64 256; do
        OMP_NUM_THREADS=$threads "$build/bin/throughput" "$model" "$batch" --min-time 3 | tee -a "$out"
        /usr/bin/python3 "$anchors/bench_throughput.py" --one "$model" "$threads" "$batch" --min-time 3 2>/dev/null \
          | grep '"kind": "run"' | tee -a "$out" || true
      done
    done
  done
done
/usr/bin/python3 "$here/summarize_throughput.py" "$out"
