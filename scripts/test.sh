#!/usr/bin/env bash
# Set up and test: installs what is missing, builds with warnings on, runs every test
# through CTest on the offscreen platform. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/deps.sh" --capture   # the capture package's test needs PyTorch
build="${KVTIER_TEST_BUILD_DIR:-$root/build-test}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKVTIER_WARNINGS_AS_ERRORS=ON \
  -DKVTIER_BUILD_TESTS=ON -DKVTIER_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
export QT_QPA_PLATFORM=offscreen
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
