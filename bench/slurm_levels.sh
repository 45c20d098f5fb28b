#!/usr/bin/env bash
# What the Slurm executor costs per DAG level: a chain of L training stages (1 epoch on 40
# Fashion-MNIST images each, so the work is negligible), run with --executor local and
# --executor slurm side by side, L = 1, 2, 4, 8, each from an empty cache. Every training stage is
# a job that waits for the previous one (afterok), so the slope of the Slurm wall time over L,
# minus the local slope, is the coordinator's and the scheduler's overhead per level.
#   SLURM_CONF=... bench/slurm_levels.sh [BUILD_DIR] [REPS]
# A test cluster: tests/slurm/cluster.sh start DIR (then SLURM_CONF=DIR/slurm.conf).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
reps="${2:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: "${SLURM_CONF:?set SLURM_CONF to the slurm.conf of the cluster}"

chain() {  # chain L: an experiment of L chained training stages and an evaluation
  local levels=$1 file="$work/chain$1.yaml" previous=net
  cat > "$file" <<YAML
experiment: chain-$levels
seed: 0
stages:
  data:
    plugin: idx_dataset
    params:
      images: /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
      labels: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz
      classes: [0, 1]
      per_class: 20
  net:
    plugin: model
    params: {input: [1, 28, 28], layers: [flatten, {linear: {name: fc, out: 2}}]}
YAML
  for level in $(seq 1 "$levels"); do
    printf '  t%d:\n    plugin: train\n    inputs: {model: %s, data: data.train}\n    params: {epochs: 1, batch_size: 8, lr: 0.05}\n' \
      "$level" "$previous" >> "$file"
    previous=t$level
  done
  printf '  score: {plugin: evaluate, inputs: {model: %s, data: data.train}}\n' "$previous" >> "$file"
  echo "$file"
}

# Warm-up: the data files into the page cache, so the first measurement pays no more than the rest.
"$build/bin/pipeline" run "$(chain 1)" --cache-dir "$work/cache" --runs-dir "$work/runs" > /dev/null 2>&1
echo "| levels | local s | slurm s | jobs |"
echo "|---|---|---|---|"
for levels in 1 2 4 8; do
  file=$(chain "$levels")
  for rep in $(seq 1 "$reps"); do
    for executor in local slurm; do
      rm -rf "$work/cache" "$work/runs"
      start=$(date +%s%N)
      "$build/bin/pipeline" run "$file" --executor "$executor" --cache-dir "$work/cache" --runs-dir "$work/runs" \
        > /dev/null 2> "$work/err"
      end=$(date +%s%N)
      t=$(( (end - start) / 1000000 ))  # ms
      jobs=$(sed -n 's/.*\[slurm\] \([0-9]*\) job(s) submitted.*/\1/p' "$work/err")
      echo "$levels $executor $t ${jobs:-0}" >> "$work/times"
    done
  done
done
python3 - "$work/times" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for levels, executor, t, jobs in rows:
    by.setdefault(int(levels), {}).setdefault(executor, []).append(float(t) / 1000)
    by[int(levels)]["jobs"] = jobs
for levels in sorted(by):
    d = by[levels]
    print(f"| {levels} | {statistics.median(d['local']):.2f} | {statistics.median(d['slurm']):.2f} | {d['jobs']} |")
ls = sorted(by)
def slope(e):  # least squares over the medians
    xs, ys = ls, [statistics.median(by[l][e]) for l in ls]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
print(f"\nper level: local {slope('local'):.2f} s, slurm {slope('slurm'):.2f} s; "
      f"overhead per level {slope('slurm') - slope('local'):.2f} s")
PY
