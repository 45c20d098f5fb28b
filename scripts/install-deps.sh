#!/usr/bin/env bash
# Installs every Debian 12 package the project needs to build, test and run its examples, the
# compiler and cmake included (a debootstrap minbase system has neither). Idempotent: a second run
# installs nothing and does not touch the network.
set -euo pipefail

packages=(
  g++ cmake make                    # toolchain
  libtbb-dev                        # oneTBB flow graph
  libdnnl-dev ocl-icd-opencl-dev    # oneDNN 2.6; its CMake config requires OpenCL headers
  libyaml-cpp-dev                   # experiment files
  libboost-dev                      # Boost.DLL (header-only)
  catch2                            # tests
  zlib1g-dev                        # gzipped IDX files
  nlohmann-json3-dev                # run records
  dataset-fashion-mnist             # the real data: /usr/share/datasets/fashion-mnist
)

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
