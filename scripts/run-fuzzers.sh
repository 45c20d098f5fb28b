#!/usr/bin/env bash
# Runs each libFuzzer target of BUILD_DIR (PIPELINE_FUZZ=ON) for SECONDS on its seed corpus
# (fuzz/corpus/TARGET plus files from pipelines/ and the tests' data), and fails on any finding.
# Prints the executions per target.
#   bash scripts/run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
build="$(cd "${1:?build directory}" && pwd)"
seconds="${2:-20}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"  # the targets' scratch files, removed with the rest
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$here/tests/sanitizers/ubsan.supp}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/tests/sanitizers/lsan.supp}"

seed() {  # seed TARGET FILES...: the committed corpus plus files of the repository
  local target=$1; shift
  mkdir -p "$work/$target"
  cp "$here/fuzz/corpus/$target"/* "$work/$target/" 2>/dev/null || true
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$work/$target/$(basename "$f")-$(echo "$f" | md5sum | cut -c1-8)"; done
  return 0
}
seed fuzz_config "$here"/pipelines/*.yaml "$here"/pipelines/errors/*.yaml
seed fuzz_override
seed fuzz_idx /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
seed fuzz_csv "$here"/pipelines/data/*.csv
seed fuzz_safetensors
seed fuzz_manifest
seed fuzz_model_json
seed fuzz_image

failed=0
printf '| target | executions | seconds | result |\n|---|---|---|---|\n' > "$work/table"
for target in fuzz_config fuzz_override fuzz_idx fuzz_csv fuzz_safetensors fuzz_manifest fuzz_model_json fuzz_image; do
  mkdir -p "$work/findings-$target"
  set +e
  (cd "$work/findings-$target" && "$build/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 "$work/$target" > "$work/$target.log" 2>&1)
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$target.log" | tail -1)
  if [ $rc -ne 0 ]; then
    failed=1
    echo "run-fuzzers: $target found a problem (exit $rc); its log:" >&2
    tail -60 "$work/$target.log" >&2
    ls "$work/findings-$target" >&2 || true
    printf '| %s | %s | %s | FINDING |\n' "$target" "${runs:-?}" "$seconds" >> "$work/table"
  else
    printf '| %s | %s | %s | ok |\n' "$target" "${runs:-?}" "$seconds" >> "$work/table"
  fi
done
cat "$work/table"
exit $failed
