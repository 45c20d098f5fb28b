#!/usr/bin/env bash
# The speedup of cached feature extraction: the flagship's feature-extraction arm (seed CNN, all
# but the head frozen, 30 epochs on 250 images) trained on cached features of the frozen layers
# vs running them every step. Runs alternate, REPS each; prints medians of the whole stage's
# seconds (feature extraction included) and of the training loop alone, their ratios, and the
# accuracy of each (they must agree).
#   bench/feature_cache.sh [BUILD_DIR] [REPS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
reps="${2:-5}"
runs="$(mktemp -d)"
for rep in $(seq 1 "$reps"); do
  for cache in true false; do
    "$build/bin/pipeline" run "$here/../pipelines/fashion_transfer.yaml" --quiet --no-cache --runs-dir "$runs/$cache" \
      --set features.cache_features=$cache > /dev/null 2>&1
  done
done
/usr/bin/python3 - "$runs" <<'PY'
import glob, json, statistics, sys
root = sys.argv[1]
def collect(cache):
    stage, loop, accs = [], [], set()
    for run in glob.glob(f"{root}/{cache}/*/*/"):
        t = json.load(open(run + "timings.json"))["features"]
        stage.append(t["seconds"])
        loop.append(t["train_seconds"])
        accs.add(json.load(open(run + "metrics.json"))["stages"]["score_features"]["metrics"]["accuracy"])
    return statistics.median(stage), statistics.median(loop), len(stage), accs
on, off = collect("true"), collect("false")
print(json.dumps({"bench": "feature_cache", "runs_each": on[2],
                  "stage_s_cached": round(on[0], 4), "stage_s_uncached": round(off[0], 4),
                  "stage_speedup": round(off[0] / on[0], 2),
                  "train_loop_s_cached": round(on[1], 4), "train_loop_s_uncached": round(off[1], 4),
                  "train_loop_speedup": round(off[1] / on[1], 2),
                  "accuracy_cached": sorted(on[3]), "accuracy_uncached": sorted(off[3])}))
PY
