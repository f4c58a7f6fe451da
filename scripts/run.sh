#!/usr/bin/env bash
# Set up and run: installs what is missing, builds a Release build and opens the GUI on
# the bundled sample traces. Without a display it says so and writes the default
# dashboard's figures and CSVs to a folder it names.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/deps.sh"
build="${KVTIER_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DKVTIER_BUILD_TESTS=OFF -DKVTIER_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target kvtier kvtier-cli
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$build/app/kvtier" --scenario "$root/sample_traces/default.kvtier.json" "$@"
fi
out="${KVTIER_EXPORT_DIR:-$root/kvtier-export}"
echo "kvtier: no display (DISPLAY and WAYLAND_DISPLAY are unset); writing the default dashboard to $out"
"$build/app/kvtier" --export "$out" --overwrite --scenario "$root/sample_traces/default.kvtier.json" "$@"
echo "kvtier: wrote $(find "$out" -type f | wc -l) files to $out"
