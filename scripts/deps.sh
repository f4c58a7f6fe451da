#!/usr/bin/env bash
# Installs the Debian packages kvtier needs, only those that are missing. Idempotent.
# Called by run.sh and test.sh; also runnable alone. Real package names only (libqt6svg6-dev
# is a virtual name for qt6-svg-dev, which dpkg-query would never report as installed).
#   --gui-tools (or KVTIER_GUI_TOOLS=1): also what the GUI screenshot tests need.
#   --fuzz (or KVTIER_FUZZ_TOOLS=1): also clang and its libFuzzer runtime (scripts/fuzz.sh).
#   --capture (or KVTIER_CAPTURE_TOOLS=1): also Debian's PyTorch and NumPy for the capture
#     package (capture/README.md) and its tests; test.sh asks for them.
set -euo pipefail
KVTIER_PACKAGES=(build-essential cmake pkg-config qt6-base-dev qt6-svg-dev libqcustomplot-dev
  libqcustomplot2.1-qt6 libtbb-dev libsqlite3-dev nlohmann-json3-dev zlib1g-dev libzip-dev
  parallel)   # GNU parallel: the sharded-sweep test (tests/cli/check_parallel_shards.sh)
gui_tools="${KVTIER_GUI_TOOLS:-0}"
fuzz_tools="${KVTIER_FUZZ_TOOLS:-0}"
capture_tools="${KVTIER_CAPTURE_TOOLS:-0}"
for arg in "$@"; do
  case "$arg" in
    --gui-tools) gui_tools=1 ;;
    --fuzz) fuzz_tools=1 ;;
    --capture) capture_tools=1 ;;
  esac
done
if [ "$gui_tools" = 1 ]; then
  KVTIER_PACKAGES+=(xvfb xauth imagemagick)
fi
if [ "$fuzz_tools" = 1 ]; then
  KVTIER_PACKAGES+=(clang libclang-rt-14-dev)
fi
if [ "$capture_tools" = 1 ]; then
  KVTIER_PACKAGES+=(python3 python3-torch python3-numpy)
fi
missing=()
for p in "${KVTIER_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kvtier: installing missing packages: ${missing[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    $sudo_cmd apt-get update -q >/dev/null
    $sudo_cmd apt-get install -y -q "${missing[@]}"
  }
fi
