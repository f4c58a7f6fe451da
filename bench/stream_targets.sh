#!/usr/bin/env bash
# The streamed analysis's measured targets (docs/PERFORMANCE.md "Streamed analysis"):
# generates the traces (once; kept in DIR) and runs bench_stream on them, whole-trace and
# streamed, printing one JSON line per measurement.
#
#   bench/stream_targets.sh BUILD DIR [seed] [scaling] [paper] [--runs N]
#
#   seed     the seed simulator's per-layer shape: P = 2048, T = 2048, 32 layers, 40 % of the
#            context selected (80.5 M entries, 261 MB): first-fit and the 14 online policies
#   scaling  P = 2048, 32 layers, T = 256 and T = 2560: peak memory against T
#   paper    the seed paper's shape: P = 31,299, T = 1,024 and 10,240, 32 layers, 40 %
#            (4.77 G entries, 5.3 GB at T = 10,240; generating it took 33 min here):
#            the 14 online policies, streamed only (whole-trace would need about 290 GB)
#
# BUILD holds app/kvtier-cli and bench/bench_stream. Scenario: Llama-3-8B on a GH200
# (HBM3 + LPDDR5X), batch 256 (paper shape: 64, so its 41.5k-token contexts fit the
# 560 GB), the records read as given (selection "dense").
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build="$(cd "$1" && pwd)"
dir="$2"
shift 2
runs=3
what=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    seed|scaling|paper) what+=("$1"); shift ;;
    *) echo "stream_targets.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#what[@]} -gt 0 ] || what=(seed scaling)
mkdir -p "$dir"
cli="$build/app/kvtier-cli"
bench="$build/bench/bench_stream"
online='[{"name":"first-fit"},{"name":"reactive"},{"name":"page"},{"name":"sinks-window"},{"name":"h2o"},{"name":"tova"},{"name":"quest"},{"name":"arkvale"},{"name":"hisparse"},{"name":"lru"},{"name":"lru-fair"},{"name":"lru-demand"},{"name":"lfu"},{"name":"arc"}]'

# trace DB NAME PREFILL STEPS SEED BATCH: generates it unless DB already holds NAME; writes
# NAME.kvtier.json with that batch.
trace() {
  local db="$dir/$1" name="$2" prefill="$3" steps="$4" seed="$5" batch="$6"
  if ! "$cli" traces "$db" 2>/dev/null | grep -q "^$name "; then
    "$cli" generate "$db" --name "$name" --preset per-layer --seed "$seed" --prefill "$prefill" --steps "$steps" \
      --layers 32 --selection-ratio 0.4 --encoding index_varint >&2
  fi
  cat >"$dir/$name.kvtier.json" <<EOF
{"trace": {"db": "$1", "name": "$name"}, "model": "llama-3-8b", "hardware": "gh200-hbm3",
 "selection": {"mode": "dense", "value": 1, "page_tokens": 1},
 "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
 "batch": $batch, "policies": "all"}
EOF
}

# measure LABEL NAME POLICIES MODE...
measure() {
  local label="$1" name="$2" policies="$3"
  shift 3
  printf '{"target": "%s", "trace": "%s", "result": ' "$label" "$name"
  "$bench" --scenario "$dir/$name.kvtier.json" --set "policies=$policies" --runs "$runs" "$@" 2>"$dir/last-rows.txt" | tr -d '\n'
  printf '}\n'
}

for w in "${what[@]}"; do
  case "$w" in
    seed)
      trace seed.sqlite seed 2048 2048 202 256
      measure "seed shape, first-fit" seed '[{"name":"first-fit"}]' --stream
      measure "seed shape, first-fit" seed '[{"name":"first-fit"}]'
      measure "seed shape, 14 online policies" seed "$online" --stream
      measure "seed shape, 14 online policies" seed "$online"
      ;;
    scaling)
      trace scaling.sqlite T256 2048 256 41 256
      trace scaling.sqlite T2560 2048 2560 41 256
      for name in T256 T2560; do
        measure "memory against T, 14 online policies" "$name" "$online" --stream
        measure "memory against T, 14 online policies" "$name" "$online"
      done
      ;;
    paper)
      trace paper.sqlite paper-shape-1024 31299 1024 31 64
      trace paper.sqlite paper-shape 31299 10240 31 64
      measure "paper shape, T / 10, 14 online policies" paper-shape-1024 "$online" --stream
      measure "paper shape, 14 online policies" paper-shape "$online" --stream
      ;;
  esac
done
