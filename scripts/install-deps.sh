#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build and run its examples, the compiler
# and cmake included (a debootstrap minbase system has neither); with --test, also what only the
# test suite needs. Idempotent: a second run installs nothing and does not touch the network.
#
#   bash scripts/install-deps.sh          # build and run
#   bash scripts/install-deps.sh --test   # and run every test
set -euo pipefail

with_tests=false
for arg in "$@"; do
  case "$arg" in
    --test) with_tests=true ;;
    *) echo "install-deps: unknown option '$arg' (use --test)" >&2; exit 2 ;;
  esac
done

packages=(
  g++ cmake make                    # toolchain
  libtbb-dev                        # oneTBB flow graph
  libdnnl-dev ocl-icd-opencl-dev    # oneDNN 2.6; its CMake config requires OpenCL headers
  libyaml-cpp-dev                   # experiment files
  libboost-dev                      # Boost.DLL (header-only)
  catch2                            # tests
  zlib1g-dev                        # gzipped IDX files
  libpng-dev libjpeg62-turbo-dev    # image folders (PNG, JPEG)
  nlohmann-json3-dev                # run records
  dataset-fashion-mnist             # the real data: /usr/share/datasets/fashion-mnist
)

# Only for tests: torchvision writes the checkpoints that the compatibility test loads (never a
# run-time dependency of the tool); a real single-node Slurm cluster runs the Slurm executor's
# tests (tests/slurm/cluster.sh starts and stops it). Users of --executor slurm have their site's.
# clang builds the ASan/UBSan suite and the libFuzzer targets; headless Chromium renders the
# HTML report in its test.
test_packages=(
  python3-torch python3-torchvision libopenblas0-pthread
  slurm-wlm munge python3
  clang-14 libfuzzer-14-dev         # the sanitizer suite and the fuzzers (scripts/sanitize.sh)
  chromium                          # report.html rendered for real (tests/e2e/report_test.cpp)
)
if $with_tests; then
  packages+=("${test_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root (missing: ${missing[*]})" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
