#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite (unit, integration, gui).
# Benchmarks are not part of it: see tests/benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/install-deps.sh
bash installer/build.sh
cd build
QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 900 -LE bench
