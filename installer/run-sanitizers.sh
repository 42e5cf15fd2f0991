#!/usr/bin/env bash
# The sanitizer stage of the test suite (installer/run-tests.sh runs it after the normal suite; CI too):
#   1. configures a separate clang build (build-sanitize/: FEDWB_FUZZ=ON, i.e. ASan + UBSan + libFuzzer)
#      and builds only what it needs: the unit tests and the fuzzers (no GUI, CLI or benchmarks);
#   2. runs the unit tests under ASan + UBSan (ctest -L unit);
#   3. replays every fuzz seed and saved regression input (ctest -L fuzz);
#   4. fuzzes each target for a bounded time (tests/fuzz/README.md).
# Any sanitizer report, leak, crash, timeout or a fuzzer that did not run fails the script.
#
# Environment: FEDWB_FUZZ_SECONDS (per fuzzer, default 60), FEDWB_JOBS (default: all cores),
#              FEDWB_SANITIZE_DIR (default build-sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
dir=${FEDWB_SANITIZE_DIR:-build-sanitize}
seconds=${FEDWB_FUZZ_SECONDS:-60}
jobs=${FEDWB_JOBS:-$(nproc)}
fuzzers=(workspace idx store protocol)

fail() {
    echo "run-sanitizers: FAILED: $*" >&2
    exit 1
}
for tool in clang++ llvm-symbolizer; do
    command -v "$tool" >/dev/null || fail "$tool is missing (bash installer/install-deps.sh installs it)"
done
runtime=$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a)
[ -f "$runtime" ] || fail "libFuzzer's runtime is missing (Debian package libclang-rt-14-dev)"

# The precompiled torch header is rebuilt when its flags change; ccache can cache the units that use it.
export CCACHE_BASEDIR=$src
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}

start=$(date +%s)
if [ ! -f "$dir/build.ninja" ]; then
    # -O1 and line tables only: fast enough to run, small enough to build, and reports name file:line.
    cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DFEDWB_FUZZ=ON
fi
cmake --build "$dir" -j "$jobs" --target fedwb-unit-tests fedwb-fuzzers
built=$(date +%s)
echo "run-sanitizers: clang ASan + UBSan + libFuzzer build: $((built - start)) s"

# shellcheck source=/dev/null
source "$dir/sanitizer-env.sh" # ASAN_OPTIONS, LSAN_OPTIONS, UBSAN_OPTIONS as ctest sets them
# A failing step is recorded and the next one still runs, so one CI run reports every problem.
failures=()
(cd "$dir" && ctest --output-on-failure --no-tests=error -L unit) || failures+=("unit tests under ASan + UBSan")
tested=$(date +%s)
echo "run-sanitizers: unit tests under ASan + UBSan: $((tested - built)) s"
(cd "$dir" && ctest --output-on-failure --no-tests=error -L fuzz) ||
    failures+=("replaying the fuzz seeds and regressions (ctest -L fuzz)")

# Fuzzing proper. New inputs go to a work corpus in the build dir (seeded from the committed and the generated
# seeds); a crash, leak, UB report, timeout (-timeout s per input) or memory blow-up (-rss_limit_mb) is saved
# under $dir/tests/fuzz/artifacts/ and printed in base64 below, since CI's folder does not outlive the run.
passed=0
failed=0
for f in "${fuzzers[@]}"; do
    bin=$dir/tests/fuzz/fuzz_$f
    work=$dir/tests/fuzz/work/$f
    artifacts=$dir/tests/fuzz/artifacts/$f
    log=$dir/tests/fuzz/fuzz_$f.log
    mkdir -p "$work" "$artifacts"
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
        -artifact_prefix="$artifacts/")
    [ "$f" = workspace ] && args+=(-dict="$dir/tests/fuzz/seeds/workspace.dict" -max_len=8192)
    [ "$f" = store ] && args+=(-max_len=32768)
    [ "$f" = protocol ] && args+=(-max_len=65536)
    seeds=("$src/tests/fuzz/corpus/$f" "$dir/tests/fuzz/seeds/$f")
    existing=()
    for s in "${seeds[@]}"; do [ -d "$s" ] && existing+=("$s"); done
    echo "run-sanitizers: fuzzing $f for $seconds s (log: $log)"
    rc=0
    "$bin" "${args[@]}" "$work" "${existing[@]}" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    if [ "$rc" -ne 0 ] || [ -z "$runs" ] || [ "$runs" -eq 0 ] || ! grep -q '^Done [0-9]* runs' "$log"; then
        failed=$((failed + 1))
        failures+=("fuzz_$f")
        echo "run-sanitizers: fuzz_$f FAILED (exit $rc, ${runs:-no} executions); the end of its log:" >&2
        tail -60 "$log" >&2
        for a in "$artifacts"/*; do
            [ -f "$a" ] || continue
            echo "run-sanitizers: reproducer $(basename "$a") ($(stat -c %s "$a") bytes), base64:" >&2
            head -c 65536 "$a" | base64 >&2
        done
    else
        passed=$((passed + 1))
        echo "run-sanitizers: fuzz_$f ok: $runs executions in $seconds s ($speed exec/s, $cov)"
    fi
done
end=$(date +%s)
echo "run-sanitizers: fuzzing: $((end - tested)) s; whole sanitizer stage: $((end - start)) s"
echo "fuzz: $passed passed, $failed failed"
if [ ${#failures[@]} -ne 0 ]; then
    printf 'run-sanitizers: FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "run-sanitizers: all passed"
