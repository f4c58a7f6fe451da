#!/usr/bin/env bash
# Regenerates the screenshot matrix of docs/SCREENSHOTS.md: the explorer's window in every
# state listed below, at 1920x1080 and 1366x768, in the light and the dark theme, each taken
# on a real X server (Xvfb) from a first launch (fresh settings), as a user would see it;
# saved with a 256-colour palette (a quarter of the size, no visible loss on a UI).
#
#   scripts/screenshots.sh [BUILD_DIR] [OUT_DIR]     default: build, docs/screenshots/matrix
#   KVTIER_SHOT_WAIT=12 scripts/screenshots.sh ...   seconds before each shot (default 10)
#   scripts/screenshots.sh BUILD OUT default layers  only the states named
#
# Needs the GUI built and `scripts/deps.sh --gui-tools` (Xvfb, xauth, ImageMagick); the dark
# theme is GTK's Adwaita dark through Qt's gtk3 platform theme (qt6-gtk-platformtheme), the
# way a GNOME desktop in dark mode shows it. Exits non-zero when any shot fails, naming it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
out="${2:-$root/docs/screenshots/matrix}"
shift $(( $# < 2 ? $# : 2 ))
wait_s="${KVTIER_SHOT_WAIT:-10}"
gui="$build/app/kvtier"
[ -x "$gui" ] || { echo "screenshots.sh: no GUI at $gui (build with KVTIER_BUILD_GUI=ON)" >&2; exit 1; }
for tool in Xvfb import convert; do
  command -v "$tool" >/dev/null || { echo "screenshots.sh: $tool missing: run scripts/deps.sh --gui-tools" >&2; exit 1; }
done
samples="$root/sample_traces"

# state -> the window's arguments. Each state shows items of docs/GUI.md; `--view` picks the
# tab in front where the views are tabs (1366x768), so the state's view is the one shown.
declare -A args=(
  # The first launch: 14 policies on the long-context sample, placement matters.
  [default]="--scenario $samples/default.kvtier.json"
  # A per-layer trace (32 layers): the layer selector, views stating what they aggregate.
  [layers]="--scenario $samples/layers32.kvtier.json --view placement"
  # Three tiers (HBM, host DDR5, CXL), each in its own colour in every view.
  [three-tiers]="--scenario $samples/default.kvtier.json --set hardware=h100-ddr5-cxl --view placement"
  # An infeasible value: the banner names it and its fix; the views keep the last feasible result.
  [infeasible]="--scenario $samples/default.kvtier.json --set hardware.tiers.0.capacity_bytes=1e10"
  # The paper's simulator defaults on its 4-layer selection trace.
  [paper]="--scenario $samples/paper.kvtier.json"
  # LRU shown, token 3000 (a heavy hitter) followed: its relevance and tier over time under the heatmap.
  [follow]="--scenario $samples/default.kvtier.json --policy lru --token 3000 --view relevance"
)
order=(default layers three-tiers infeasible paper follow)
[ $# -gt 0 ] && order=("$@")
for s in "${order[@]}"; do
  [ -n "${args[$s]+x}" ] || { echo "screenshots.sh: unknown state '$s' (known: ${!args[*]})" >&2; exit 2; }
done

mkdir -p "$out"
failed=()
shoot() {   # state size theme
  local state="$1" size="$2" theme="$3" file="$out/$1-$2-$3.png" cfg d xp ap
  cfg="$(mktemp -d "${TMPDIR:-/tmp}/kvtier-shot.XXXXXX")"
  d=99; while [ -e /tmp/.X11-unix/X$d ] || [ -e /tmp/.X$d-lock ]; do d=$((d + 1)); done
  Xvfb ":$d" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 & xp=$!
  sleep 1
  local -a env_theme=()
  [ "$theme" = dark ] && env_theme=(QT_QPA_PLATFORMTHEME=gtk3 GTK_THEME=Adwaita:dark)
  # shellcheck disable=SC2086 # the state's arguments are words by design
  env DISPLAY=":$d" QT_QPA_PLATFORM=xcb XDG_CONFIG_HOME="$cfg" KVTIER_DATA_DIR="$build/share/kvtier" \
      "${env_theme[@]}" "$gui" ${args[$state]} >"$cfg/log" 2>&1 & ap=$!
  sleep "$wait_s"
  if kill -0 "$ap" 2>/dev/null && DISPLAY=":$d" import -window root "$file" 2>/dev/null &&
     convert "$file" -trim +repage -colors 256 "PNG8:$file"; then
    echo "wrote $file"
  else
    echo "screenshots.sh: $state at $size ($theme) failed; the window's output:" >&2
    tail -5 "$cfg/log" >&2
    failed+=("$state-$size-$theme")
  fi
  kill "$ap" 2>/dev/null || true; wait "$ap" 2>/dev/null || true
  kill "$xp" 2>/dev/null || true; wait "$xp" 2>/dev/null || true
  rm -rf "$cfg"
}
for s in "${order[@]}"; do
  for size in 1920x1080 1366x768; do
    for theme in light dark; do shoot "$s" "$size" "$theme"; done
  done
done
[ ${#failed[@]} -eq 0 ] || { echo "screenshots.sh: failed: ${failed[*]}" >&2; exit 1; }
