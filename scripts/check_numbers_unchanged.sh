#!/usr/bin/env bash
# Are the engine's numbers unchanged? Runs `kvtier-cli analyze --scenario F --json` for every
# sample scenario (sample_traces/*.kvtier.json) and compares the JSON byte for byte.
# Builds nothing.
#
#   scripts/check_numbers_unchanged.sh BASE NEW
#       BASE: a kvtier-cli binary, or a folder of outputs saved with --save
#       NEW:  a kvtier-cli binary
#   scripts/check_numbers_unchanged.sh --save DIR CLI
#       writes CLI's outputs to DIR/<scenario>.json, to compare against later
#
# Two things are normalised before comparing: "stats_ms", the run's own stage timings
# (replaced by a placeholder line), and the checkout's own path in the trace's "db" (written
# as <checkout>/...), so outputs from two checkouts compare; the rest stays byte for byte
# what the CLI printed.
# Exits 0 when every scenario matches, 1 on any difference, 2 on a usage error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() { sed -n '5,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# analyze CLI SCENARIO: the JSON with the run timings blanked out.
analyze() {
  "$1" analyze --scenario "$2" --json | awk '
    skip && /^  }/ { skip = 0; sub(/^  }/, ""); print "  \"stats_ms\": \"(run timings removed)\"" $0; next }
    skip { next }
    /^  "stats_ms": \{$/ { skip = 1; next }
    { print }' | sed "s|\"$root/|\"<checkout>/|g"
}

scenarios=("$root"/sample_traces/*.kvtier.json)
[[ -e "${scenarios[0]}" ]] || { echo "no sample scenarios in $root/sample_traces" >&2; exit 2; }

if [[ "${1:-}" == "--save" ]]; then
  [[ $# -eq 3 && -x "$3" ]] || usage
  mkdir -p "$2"
  for s in "${scenarios[@]}"; do
    name="$(basename "$s" .kvtier.json)"
    analyze "$3" "$s" > "$2/$name.json"
    echo "saved $2/$name.json ($(wc -c < "$2/$name.json") bytes)"
  done
  exit 0
fi

[[ $# -eq 2 && -x "$2" && ( -x "$1" || -d "$1" ) ]] || usage
base="$1" new="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for s in "${scenarios[@]}"; do
  name="$(basename "$s" .kvtier.json)"
  if [[ -d "$base" ]]; then
    [[ -f "$base/$name.json" ]] || { echo "MISSING $name: no $base/$name.json"; status=1; continue; }
    cp "$base/$name.json" "$tmp/base.json"
  else
    analyze "$base" "$s" > "$tmp/base.json"
  fi
  analyze "$new" "$s" > "$tmp/new.json"
  if cmp -s "$tmp/base.json" "$tmp/new.json"; then
    echo "same    $name ($(wc -c < "$tmp/new.json") bytes, $(sha256sum < "$tmp/new.json" | cut -c1-16))"
  else
    echo "DIFFERS $name"
    diff -u "$tmp/base.json" "$tmp/new.json" | head -40
    status=1
  fi
done
exit $status
