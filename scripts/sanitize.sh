#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer, and the libFuzzer
# targets, from one instrumented build (clang-14): build-sanitize/ beside build/.
#   bash scripts/sanitize.sh [FUZZ_SECONDS]     (default 20 s per fuzz target; 0: no fuzzing)
# Suppressions, only for code that is not ours, are in tests/sanitizers/ with the reason for each.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
build=build-sanitize
# -O1: half the compile time of -O3 under the sanitizers, and the stack traces stay readable.
CXX=clang++-14 cmake -S . -B "$build" -DPIPELINE_SANITIZE=ON -DPIPELINE_FUZZ=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" > /dev/null
cmake --build "$build" -j2
here="$(pwd)"
# allow_user_segv_handler: the crash handler (run/crash_report.cpp) names the stage, as in a
# normal build, and the fault tests check it.
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:allow_user_segv_handler=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$here/tests/sanitizers/ubsan.supp"
export LSAN_OPTIONS="use_tls=0:suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0"  # use_tls: see lsan.supp
# Three Slurm tests are left to the normal build: each drives a whole cluster run several times
# with instrumented workers (about 7 of the instrumented suite's 14 minutes), and the coordinator
# and worker code they run is run here by the other Slurm tests (a failing trial, a federation's
# jobs, bad settings, a worker refusing a plan).
slow_under_sanitizers='the reduced transfer sweep on Slurm|a coordinator killed with -9 resumes|a job Slurm loses'
ctest --test-dir "$build" --no-tests=error --output-on-failure -j2 -E "$slow_under_sanitizers"
if [ "$seconds" != 0 ]; then
  bash scripts/run-fuzzers.sh "$build" "$seconds"
fi
