#!/usr/bin/env bash
# The speedup of cached feature extraction: the flagship's feature-extraction arm (seed CNN, all
# but the head frozen, 30 epochs on 250 images) trained on cached features of the frozen layers
# vs running them every step. Runs alternate, REPS each; prints the median training seconds of
# each and their ratio, with the accuracy of each (they must agree).
#   bench/feature_cache.sh [BUILD_DIR] [REPS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
reps="${2:-5}"
runs="$(mktemp -d)"
for rep in $(seq 1 "$reps"); do
  for cache in true false; do
    "$build/bin/pipeline" run "$here/../pipelines/fashion_transfer.yaml" --quiet --runs-dir "$runs/$cache" \
      --set features.cache_features=$cache > /dev/null 2>&1
  done
done
/usr/bin/python3 - "$runs" <<'PY'
import glob, json, statistics, sys
root = sys.argv[1]
def collect(cache):
    secs, accs = [], set()
    for run in glob.glob(f"{root}/{cache}/*/*/"):
        secs.append(json.load(open(run + "timings.json"))["features"]["train_seconds"])
        accs.add(json.load(open(run + "metrics.json"))["stages"]["score_features"]["metrics"]["accuracy"])
    return statistics.median(secs), len(secs), accs
on, off = collect("true"), collect("false")
print(json.dumps({"bench": "feature_cache", "runs_each": on[1], "cached_train_s": round(on[0], 4),
                  "uncached_train_s": round(off[0], 4), "speedup": round(off[0] / on[0], 2),
                  "accuracy_cached": sorted(on[2]), "accuracy_uncached": sorted(off[2])}))
PY
