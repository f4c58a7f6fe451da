#!/usr/bin/env bash
# Rebuilds sample_traces/kvtier-samples.sqlite from scratch with kvtier-cli (see
# sample_traces/README.md). Deterministic: the generator is seeded, so the same build
# gives the same traces.
#   usage: scripts/make_samples.sh BUILD_DIR      (BUILD_DIR holds app/kvtier-cli)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:?usage: scripts/make_samples.sh BUILD_DIR (a build folder holding app/kvtier-cli)}"
cli="$build/app/kvtier-cli"
[ -x "$cli" ] || { echo "make_samples: $cli not found; build kvtier-cli first" >&2; exit 2; }
out="$root/sample_traces/kvtier-samples.sqlite"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
db="$work/kvtier-samples.sqlite"

gen() { "$cli" generate "$db" "$@"; }

# Four regimes, aggregated, P = 4096, T = 512, thinned to the highest scores covering 90%
# of each step's attention (at most 384 tokens), stored as sparse f16.
regime=(--prefill 4096 --steps 512 --layers 32 --keep-mass 0.9 --keep-top 384 --encoding sparse_f16)
gen --name stable --preset stable --seed 101 "${regime[@]}" \
  --description "stable heavy hitters: 96 prefill tokens dominate the whole run, no bursts"
gen --name drift --preset drift --seed 102 "${regime[@]}" \
  --description "drifting retrieval: a focus bump walks through the context at 6 tokens per step"
gen --name bursty --preset bursty --seed 103 "${regime[@]}" \
  --description "bursty re-activation: old spans light up for about 12 steps, 0.08 new bursts per step"
gen --name sinks-recency --preset sinks-recency --seed 104 "${regime[@]}" \
  --description "sinks + recency only: 4 attention sinks and a power-law recent window"

# Per layer: 32 layers, broad low layers, focused high layers.
gen --name layers32 --preset per-layer --seed 105 --prefill 1024 --steps 128 --layers 32 \
  --keep-mass 0.9 --keep-top 96 --encoding sparse_f16 \
  --description "per-layer, 32 layers: low layers broad (temperature 2.0), high layers focused (0.6)"

# Selections in the paper simulator's CSV shape, imported through the paper-csv importer.
"$cli" generate --preset per-layer --seed 106 --prefill 2048 --steps 128 --layers 4 \
  --selection-ratio 0.1 --csv "$work/paper-selections.csv"
"$cli" import "$db" "$work/paper-selections.csv" --format paper-csv --name paper-selections \
  --description "top-10% selections per layer (4 layers) in the paper's n,l,read_kv CSV format, imported"

# Long context: P = 8192, T = 2048, aggregated; 90% of the mass, at most 640 tokens per step.
gen --name long-context --preset default --seed 107 --prefill 8192 --steps 2048 --layers 32 \
  --keep-mass 0.9 --keep-top 640 --encoding sparse_f16 \
  --description "long context: P=8192, T=2048, every phenomenon moderate, top scores covering 90% (<= 640)"

# A serving batch on an MoE model: 16 distinct requests with expert sets (MODEL.md §8, §9).
gen --name moe-batch --preset default --seed 108 --sequences 16 --prefill 2048 --prefill-spread 0.5 \
  --shared-prefix 256 --steps 256 --layers 32 --keep-mass 0.9 --keep-top 128 --encoding sparse_f16 \
  --experts 8 --expert-top-k 2 --expert-zipf 1.0 --expert-reuse 0.3 \
  --description "MoE serving batch: 16 requests (P_s 1142..2008, a 256-token shared prompt), T=256, aggregated, expert routing over 8 experts per layer (top-2, Zipf 1, reuse 0.3)"

mkdir -p "$(dirname "$out")"
mv -f "$db" "$out"
ls -l "$out"
