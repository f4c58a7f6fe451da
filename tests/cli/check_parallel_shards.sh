#!/usr/bin/env bash
# CI: a 4-shard sweep through GNU parallel, merged, equals the unsharded sweep byte for byte
# (docs/SWEEPS.md). Usage: check_parallel_shards.sh KVTIER_CLI SOURCE_DIR
# Exit 77 (CTest: skipped) when GNU parallel is not installed; scripts/deps.sh installs it.
set -euo pipefail
cli="$1"
src="$2"
if ! parallel --version 2>/dev/null | grep -q "GNU parallel"; then
  echo "GNU parallel is not installed (Debian package 'parallel', scripts/deps.sh): skipped" >&2
  exit 77
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The sample scenario, 4 HBM sizes x 2 batch sizes, two policies: 8 points.
sweep=(sweep --scenario "$src/sample_traces/default.kvtier.json" --quiet
  --set 'policies=[{"name":"first-fit"},{"name":"lru"}]'
  --vary hardware.tiers.0.capacity_bytes=2e10:3.5e10:5e9 --vary batch=1,2)
"$cli" "${sweep[@]}" --csv "$work/unsharded.csv"
# Two jobs at a time (the machine's cores); {} is the shard number.
parallel --halt now,fail=1 -j 2 "$cli" "${sweep[@]@Q}" --shard {}/4 --out "$work/shard-{}.jsonl" ::: 1 2 3 4
"$cli" merge "$work/merged.csv" "$work"/shard-{1,2,3,4}.jsonl --quiet
cmp "$work/unsharded.csv" "$work/merged.csv"
points=$(($(wc -l < "$work/merged.csv") - 1))
[ "$points" -eq 8 ] || { echo "expected 8 points, merged $points" >&2; exit 1; }
# The shards split the grid: 2 points each, none twice.
for i in 1 2 3 4; do
  n=$(($(wc -l < "$work/shard-$i.jsonl") - 1))
  [ "$n" -eq 2 ] || { echo "shard $i/4 holds $n points, expected 2" >&2; exit 1; }
done
# A larger sweep as a journal (--resume), killed at some moment (whenever it lands: before
# the header, between points, mid-line or after the last point), then run again with
# --resume: the same table as a run without interruption.
# All 14 policies of the sample scenario: a few seconds, so the kill lands mid-run here.
big=(sweep --scenario "$src/sample_traces/default.kvtier.json" --quiet
  --vary hardware.tiers.0.capacity_bytes=2e10:3.5e10:5e9 --vary batch=1,2)
"$cli" "${big[@]}" --csv "$work/big.csv"
"$cli" "${big[@]}" --out "$work/killed.jsonl" --resume &
pid=$!
sleep 1.5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
kept=0
[ -f "$work/killed.jsonl" ] && kept=$(($(wc -l < "$work/killed.jsonl") - 1))
"$cli" "${big[@]}" --out "$work/killed.jsonl" --resume --csv "$work/big-resumed.csv"
cmp "$work/big.csv" "$work/big-resumed.csv"
"$cli" merge - "$work/killed.jsonl" --quiet | cmp "$work/big.csv" -
echo "4 shards through GNU parallel merge to the unsharded sweep ($points points);" \
  "a $(($(wc -l < "$work/big.csv") - 1))-point sweep killed after $kept points and resumed too"
