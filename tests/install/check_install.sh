#!/usr/bin/env bash
# CTest `install`: installs the build into a temporary prefix and checks that the installed
# kvtier stands alone: the files are where data_dir looks (<prefix>/share/kvtier, the Help
# menu's documents in <prefix>/share/doc/kvtier), the
# installed kvtier-cli (and kvtier --export, when the GUI is built) runs the installed
# default scenario with no environment help, and the checkout's path appears in no
# installed binary.
#   tests/install/check_install.sh BUILD_DIR SOURCE_DIR [check|skip]
# `skip` (sanitized builds): AddressSanitizer stores each instrumented global's source file
# by its full path, which no prefix map rewrites; such a build is never installed for use.
set -euo pipefail
build="${1:?build folder}"
src="$(cd "${2:?source folder}" && pwd)"
path_check="${3:-check}"
prefix="$(mktemp -d "${TMPDIR:-/tmp}/kvtier-install.XXXXXX")"
trap 'rm -rf "$prefix"' EXIT

# --strip: the debug information of a RelWithDebInfo build names the sources by design.
cmake --install "$build" --prefix "$prefix" --strip >/dev/null

status=0
for f in bin/kvtier-cli share/kvtier/presets/hardware.json share/kvtier/presets/models.json \
         share/kvtier/sample_traces/default.kvtier.json share/kvtier/sample_traces/kvtier-samples.sqlite \
         share/applications/kvtier.desktop share/icons/hicolor/scalable/apps/kvtier.svg \
         share/doc/kvtier/MODEL.md share/doc/kvtier/POLICIES.md share/doc/kvtier/BOUNDS.md share/doc/kvtier/GUI.md; do
  [ -f "$prefix/$f" ] || { echo "install: missing $f"; status=1; }
done
[ "$status" -eq 0 ] || exit 1

# From an unrelated folder, without KVTIER_DATA_DIR / KVTIER_PRESET_DIR (ctest sets the
# first for the test suites): the binary finds its data beside itself.
out="$prefix/analyze.json"
if ! (cd "$prefix" && env -u KVTIER_DATA_DIR -u KVTIER_PRESET_DIR "$prefix/bin/kvtier-cli" analyze \
        --scenario "$prefix/share/kvtier/sample_traces/default.kvtier.json" --json >"$out"); then
  echo "install: the installed kvtier-cli failed on the installed default scenario"; exit 1
fi
grep -q '"policies"' "$out" || { echo "install: no policy results in the analyze output"; exit 1; }

# The GUI, when built: its headless export runs on the installed data as well.
if [ -x "$prefix/bin/kvtier" ]; then
  if ! (cd "$prefix" && env -u KVTIER_DATA_DIR -u KVTIER_PRESET_DIR XDG_CONFIG_HOME="$prefix/config" \
          "$prefix/bin/kvtier" --export "$prefix/figures" --size 400x300 \
          --scenario "$prefix/share/kvtier/sample_traces/default.kvtier.json" >/dev/null); then
    echo "install: the installed kvtier --export failed on the installed default scenario"; exit 1
  fi
  [ -s "$prefix/figures/comparison.csv" ] || { echo "install: kvtier --export wrote no comparison.csv"; exit 1; }
fi

if [ "$path_check" = skip ]; then
  echo "install ok: $(ls "$prefix/bin" | tr '\n' ' ')run from $prefix (sanitized build: source-path check skipped)"
  exit 0
fi
for b in "$prefix"/bin/*; do
  if grep -qaF "$src" "$b"; then
    echo "install: $(basename "$b") contains the source path $src:"
    # The printable text around each occurrence says what put it there.
    grep -aoE "[[:print:]]{0,80}$(printf '%s' "$src" | sed 's/[][\.*^$/]/\\&/g')[[:print:]]{0,80}" "$b" | head -5
    readelf -S -W "$b" 2>/dev/null | grep -E '\.debug|\.comment' | head -3 || true
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "install ok: $(ls "$prefix/bin" | tr '\n' ' ')run from $prefix, no source path inside"
exit "$status"
