#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang and runs each for a bounded time
# (docs/FUZZING.md). Exits non-zero when any harness finds a crash, a timeout or an
# out-of-memory, printing the reproducer's path.
#
#   scripts/fuzz.sh                     CI mode: KVTIER_FUZZ_SECONDS (default 30) per harness
#   scripts/fuzz.sh --soak 600          a longer local soak: 600 s per harness
#   scripts/fuzz.sh [--soak N] npz ...  only the harnesses named
#
# Each harness starts from a scratch copy of tests/fuzz/corpus/<name>; nothing is ever
# written into the repository. Reproducers go to $KVTIER_FUZZ_ARTIFACTS (default
# build-fuzz/findings/<name>/). Environment: KVTIER_FUZZ_BUILD_DIR (build-fuzz),
# KVTIER_FUZZ_SCRATCH (scratch folder; default /dev/shm when writable, else $TMPDIR or /tmp),
# KVTIER_FUZZ_JOBS (harnesses run at once and build jobs; default: the number of cores, at
# most 2), KVTIER_FUZZ_KEEP_CORPUS=1 keeps the scratch corpora (path printed at the end).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all=(paper_csv seed_csv dsa_topk long_csv npy npz kvtier_db record_blob scenario_json preset_json)
seconds="${KVTIER_FUZZ_SECONDS:-30}"
harnesses=()
while [ $# -gt 0 ]; do
  case "$1" in
    --soak) seconds="${2:?--soak needs a number of seconds per harness}"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
  [[ " ${all[*]} " == *" $h "* ]] || { echo "fuzz.sh: unknown harness '$h' (known: ${all[*]})" >&2; exit 2; }
done
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: seconds must be a whole number, not '$seconds'" >&2; exit 2 ;; esac

cores="$(nproc)"
jobs="${KVTIER_FUZZ_JOBS:-$(( cores < 2 ? cores : 2 ))}"

bash "$root/scripts/deps.sh" --fuzz

build="${KVTIER_FUZZ_BUILD_DIR:-$root/build-fuzz}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# The compiler by its full path: a cache that names it another way is wiped by CMake, and with
# it every other option given here (KVTIER_FUZZ among them).
clangxx="$(command -v clang++)" || { echo "fuzz.sh: clang++ not found (scripts/deps.sh --fuzz installs it)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DKVTIER_FUZZ=ON -DCMAKE_CXX_COMPILER="$clangxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVTIER_BUILD_GUI=OFF -DKVTIER_BUILD_TESTS=OFF \
  -DKVTIER_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
cmake --build "$build" -j "$jobs" "${targets[@]}"

# Longest input per harness: text formats 64 KiB, databases 1 MiB.
max_len() {
  case "$1" in
    kvtier_db) echo 1048576 ;;
    npz) echo 262144 ;;
    *) echo 65536 ;;
  esac
}

artifacts="${KVTIER_FUZZ_ARTIFACTS:-$build/findings}"
# The harnesses create a SQLite store per input: on tmpfs that is several times faster.
scratch="${KVTIER_FUZZ_SCRATCH:-}"
if [ -z "$scratch" ]; then
  scratch="${TMPDIR:-/tmp}"
  [ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
fi
work="$(mktemp -d "$scratch/kvtier-fuzz.XXXXXX")"
[ "${KVTIER_FUZZ_KEEP_CORPUS:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_one() {
  local h="$1" dir="$work/$1"
  mkdir -p "$dir/corpus" "$dir/tmp" "$artifacts/$h"
  cp "$root/tests/fuzz/corpus/$h/." "$dir/corpus/" -R 2>/dev/null || true
  # -rss_limit_mb / -malloc_limit_mb: an input that makes kvtier allocate a gigabyte is a
  # finding, like a crash. TMPDIR: the harness's temporary files live in the scratch folder.
  (cd "$dir" && TMPDIR="$dir/tmp" "$build/tests/fuzz/fuzz_$h" "$dir/corpus" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -max_len="$(max_len "$h")" -artifact_prefix="$artifacts/$h/" -print_final_stats=1 \
      >"$dir/log" 2>&1)
}

echo "fuzz.sh: ${#harnesses[@]} harness(es), ${seconds} s each, $jobs at a time; scratch corpora in $work"
status=0
running=0
for h in "${harnesses[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  { rc=0; run_one "$h" || rc=$?; echo "$rc" >"$work/$h.rc"; } &
  running=$((running + 1))
done
wait

for h in "${harnesses[@]}"; do
  rc="$(cat "$work/$h.rc" 2>/dev/null || echo 99)"
  log="$work/$h/log"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  if [ "$rc" -eq 0 ]; then
    printf 'fuzz.sh: %-14s ok       %8s runs  %6s exec/s  cov %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}"
  else
    status=1
    repro="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
    printf 'fuzz.sh: %-14s FAILED (exit %s)\n' "$h" "$rc"
    grep -E '==kvtier-fuzz==|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|ALARM|out-of-memory' "$log" \
      | head -5 | sed 's/^/    /' || true
    echo "    log tail:"; tail -n 25 "$log" | sed 's/^/      /'
    if [ -n "$repro" ]; then
      echo "    reproducer: $repro"
      echo "    rerun:      $build/tests/fuzz/fuzz_$h $repro"
    fi
  fi
done
[ "${KVTIER_FUZZ_KEEP_CORPUS:-0}" = 1 ] && echo "fuzz.sh: scratch corpora kept in $work"
exit "$status"
