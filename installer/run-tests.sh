#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite (unit, integration, gui).
# Then the sanitizer stage: the unit tests under ASan + UBSan and each fuzzer for a bounded time, in a separate
# clang build (installer/run-sanitizers.sh). FEDWB_SANITIZERS=0 skips that stage (and says so).
# Benchmarks are not part of it: see tests/benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/install-deps.sh
bash installer/build.sh
cd build
status=0
QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 900 -LE bench || status=$?
# ctest lists a skipped test without its reason: print the SKIPPED: lines the tests gave.
skips=$(awk '/^[0-9]+\/[0-9]+ Test: /{name=$3} /^SKIPPED:/{print "  " name ": " $0}' Testing/Temporary/LastTest.log 2>/dev/null || true)
[ -z "$skips" ] || printf 'run-tests: skipped tests and why:\n%s\n' "$skips"
[ "$status" = 0 ] || exit "$status"
cd ..
if [ "${FEDWB_SANITIZERS:-1}" = 0 ]; then
  echo "run-tests: SKIPPED the sanitizer stage (FEDWB_SANITIZERS=0): no ASan/UBSan tests, no fuzzing"
else
  bash installer/run-sanitizers.sh
fi
