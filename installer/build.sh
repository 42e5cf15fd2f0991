#!/usr/bin/env bash
# Configures and builds FedWorkbench (Release, Ninja, ccache when present) into build/.
# usage: installer/build.sh [extra ninja targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${FEDWB_JOBS:-$(nproc)}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j "$jobs" ${1:+--target "$@"}
