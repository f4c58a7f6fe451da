#!/usr/bin/env bash
# Sanitizer runs (CI runs both after scripts/test.sh):
#   scripts/sanitize.sh asan   address + undefined behaviour: the whole test suite, GUI included
#   scripts/sanitize.sh tsan   thread sanitizer: the engine, pipeline and cancellation stress tests
#   scripts/sanitize.sh        both
# Any report fails the run: ASan and UBSan abort the test, TSan exits non-zero.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/deps.sh"
jobs="$(nproc)"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export QT_QPA_PLATFORM=offscreen

asan() {
  local build="${KVTIER_ASAN_BUILD_DIR:-$root/build-asan}"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DKVTIER_SANITIZE=ON -DKVTIER_WARNINGS_AS_ERRORS=ON \
    -DKVTIER_BUILD_TESTS=ON -DKVTIER_BUILD_BENCH=OFF -DKVTIER_BUILD_GUI=ON "${launcher[@]}" >/dev/null
  cmake --build "$build" -j "$jobs"
  # Leaks are reported by the core suites; the GUI suite's are Qt's own caches at exit.
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1" \
  LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  KVTIER_STRESS_ITERATIONS="${KVTIER_STRESS_ITERATIONS:-600}" \
    ctest --test-dir "$build" --output-on-failure -j "$jobs"
}

tsan() {
  local build="${KVTIER_TSAN_BUILD_DIR:-$root/build-tsan}"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVTIER_SANITIZE_THREAD=ON \
    -DKVTIER_WARNINGS_AS_ERRORS=ON -DKVTIER_BUILD_TESTS=ON -DKVTIER_BUILD_BENCH=OFF -DKVTIER_BUILD_GUI=OFF \
    "${launcher[@]}" >/dev/null
  local tests=(tst_cancel_stress tst_pipeline tst_engine_properties tst_timing tst_selection tst_relevance)
  cmake --build "$build" -j "$jobs" --target "${tests[@]}"
  local regex
  regex="^($(IFS='|'; echo "${tests[*]}"))\$"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/scripts/tsan.supp" \
  KVTIER_STRESS_ITERATIONS="${KVTIER_STRESS_ITERATIONS:-300}" \
    ctest --test-dir "$build" --output-on-failure -j "$jobs" -R "$regex"
}

case "${1:-all}" in
  asan) asan ;;
  tsan) tsan ;;
  all) asan; tsan ;;
  *) echo "usage: scripts/sanitize.sh [asan|tsan]" >&2; exit 2 ;;
esac
