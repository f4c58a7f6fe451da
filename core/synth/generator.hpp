#pragma once
// The synthetic trace generator (docs/GENERATOR.md). It draws attention-like score
// records that show the known phenomena of decode attention, each behind one documented
// knob: attention sinks, a recency kernel, persistent heavy hitters, bursts that
// re-activate old spans, a drifting retrieval focus, per-layer sharpness and log-normal
// noise; a batch of S sequences, each with its own, optionally sharing a prompt prefix.
// Seeded and deterministic: every record draws from its own PRNG stream keyed by
// (sequence's seed, step, layer), so the output is bit-identical for any number of threads.
#include "core/model/cancel.hpp"
#include "core/model/trace.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kvtier {

enum class RecencyKernel { Power, Exponential };

// Relevance before noise is a mixture; each *_share is the weight of one component
// (the shares are normalised by their sum at each record). Noise and temperature then
// reshape it: p_i ∝ exp((log mix_i + token_sigma*u_i + noise_sigma*e_i) / temperature).
struct GeneratorParams {
    // Shape of the run (MODEL.md §1).
    uint64_t seed = 1;
    int64_t prefill = 4096;           // P
    int64_t steps = 512;              // T
    int32_t layers = 32;              // L
    bool per_layer = false;           // one record per (step, layer) instead of per step

    // A batch of S sequences decoded in lock step (MODEL.md §8, docs/GENERATOR.md
    // "Batches"). Sequence s draws from its own streams (sequence 0 from `seed` itself, so
    // S = 1 is the one-sequence generator); nothing of sequence s depends on S.
    int32_t sequences = 1;            // S
    double prefill_spread = 0;        // P_s = P - U{0, ..., floor(prefill_spread * P)}; 0: all P
    int64_t shared_prefix = 0;        // N: the first N prompt tokens are common to all sequences

    // Attention sinks: the first tokens of the context.
    int32_t sink_tokens = 4;
    double sink_share = 0.15;
    double sink_decay = 0.5;          // sink k gets sink_decay^k of the first one's weight

    // Recency: weight of a token at distance d = n_t - 1 - i from the newest one.
    double recency_share = 0.25;
    RecencyKernel recency_kernel = RecencyKernel::Power;
    double recency_exponent = 1.1;    // power: (1 + d)^-exponent
    double recency_scale = 32;        // exp: exp(-d / scale), in tokens

    // Persistent heavy hitters: prefill tokens with high relevance for the whole run.
    double heavy_share = 0.25;
    int32_t heavy_count = 64;
    double heavy_sigma = 1.0;         // log-normal spread of their individual weights
    double heavy_shared = 0.5;        // per-layer traces: fraction of the set common to all layers

    // Bursts: an old span re-activates for a while (Poisson arrivals).
    double burst_rate = 0.02;         // expected new bursts per step
    double burst_span = 64;           // mean span length, tokens (uniform in [span/2, 3span/2])
    double burst_duration = 24;       // mean duration, steps (geometric)
    double burst_share = 0.3;         // weight of one active burst
    int64_t burst_min_age = 512;      // the span ends at least this many tokens before the newest

    // Retrieval focus: a Gaussian bump whose centre drifts across the context.
    double focus_share = 0.1;
    double focus_width = 48;          // standard deviation, tokens
    double focus_start = 0.1;         // initial centre as a fraction of the prefill
    double focus_speed = 0;           // drift, tokens per step (may be negative)
    double focus_jitter = 4;          // random-walk standard deviation, tokens per step

    // Everything else: uniform over the context.
    double background_share = 0.05;

    // Sharpness. Aggregated traces use `temperature`; per-layer traces interpolate
    // linearly from temp_first (layer 0, broad) to temp_last (layer L-1, focused).
    double temperature = 1.0;
    double temp_first = 1.6;
    double temp_last = 0.7;

    // Log-normal noise: fresh per (step, layer, token), and static per (layer, token).
    double noise_sigma = 0.6;
    double token_sigma = 0.5;

    // Output. keep_top / keep_mass thin score records at generation time (0 / 1 = off;
    // both given: the smaller set). selection_ratio > 0 emits selections instead: the
    // ceil(ratio * n_t) highest generated scores of each record (MODEL.md §2 order).
    int64_t keep_top = 0;
    double keep_mass = 1.0;
    double selection_ratio = 0;

    // MoE expert routing (MODEL.md §9, docs/GENERATOR.md "Experts"); experts = 0: none.
    // Each of `expert_tokens` tokens per step (the batch's tokens) is routed to
    // `expert_top_k` distinct experts of each layer, drawn by a Zipf law over a per-layer
    // random ranking of the experts (weight of rank r: (r + 1)^-expert_zipf; 0 is uniform);
    // with probability `expert_reuse` a token keeps its previous step's experts instead.
    // X[t][l] is the union over the step's tokens.
    int32_t experts = 0;
    int32_t expert_top_k = 2;
    int32_t expert_tokens = 1;
    double expert_zipf = 1.0;
    double expert_reuse = 0;

    bool operator==(const GeneratorParams&) const = default;
};

// What the generator decided before drawing records: the ground truth behind a trace,
// for tests, docs and overlays.
struct Burst {
    int64_t start_step = 0;     // active for start_step <= t < end_step
    int64_t end_step = 0;
    uint32_t first_token = 0;   // tokens [first_token, first_token + length)
    uint32_t length = 0;
};

// One plan per sequence of a batch (sequence 0's for a one-sequence trace).
struct GeneratorPlan {
    int64_t prefill = 0;                              // P_s
    std::vector<Burst> bursts;                        // by start step
    std::vector<double> focus_centre;                 // per step, token position
    std::vector<std::vector<uint32_t>> heavy;         // per layer slot, ascending tokens
    std::vector<std::vector<double>> heavy_weight;    // per layer slot, sums to 1
    std::vector<std::vector<double>> heavy_raw;       // per layer slot, exp(heavy_sigma * N(0,1)) before normalising
    std::vector<std::vector<float>> static_relevance; // per layer slot, per token < P_s + T: token_sigma * u_i
};

// Throws InputError("generator", "<param>: <problem>") on an out-of-range value.
void validate(const GeneratorParams& p);
// The plan of sequence `sequence` (in [0, S)).
GeneratorPlan generatorPlan(const GeneratorParams& p, int32_t sequence = 0);
// P_s of every sequence s < S (docs/GENERATOR.md "Batches"); {prefill} when S = 1 and no spread.
std::vector<int64_t> sequencePrefills(const GeneratorParams& p);

// Emits T * S (aggregated) or T * S * L (per layer) records in (step, sequence, layer)
// order to `sink`, which runs on the calling thread. Records are computed in parallel in
// batches of bounded size, so memory does not grow with T or S beyond the plans.
void generate(const GeneratorParams& p, const std::function<void(const Record&)>& sink,
              const JobControl& job = {});
// The per-step expert sets of a generated trace (empty when p.experts = 0): X[t][l] is the
// union over the S sequences' routes. Deterministic by seed: each (sequence, layer) draws
// from its own stream, steps in order; the expert ranking of a layer is the model's,
// common to all sequences.
ExpertSets generateExperts(const GeneratorParams& p);
// The routes of sequence `sequence` alone (its tokens' experts), same shape.
ExpertSets generateSequenceExperts(const GeneratorParams& p, int32_t sequence);
// Metadata for a generated trace: shape, kind, and the parameters as JSON in `source`.
TraceMeta generatorMeta(const GeneratorParams& p);
// The whole trace in memory (for tests and the GUI's "generate" action).
Trace generateTrace(const GeneratorParams& p, const std::string& name = "synthetic",
                    const JobControl& job = {});

// JSON: every field by its member name; recency_kernel is "power" or "exp".
nlohmann::json generatorParamsToJson(const GeneratorParams& p);
// Applies the keys present in `j` on top of `base` and validates. Unknown keys and
// wrong types are InputErrors naming `where` and the key.
GeneratorParams generatorParamsFromJson(const nlohmann::json& j, const std::string& where,
                                        GeneratorParams base = {});
// One `key=value` setting (the CLI's --set): value is read as JSON when it parses
// (numbers, true/false), else as a string.
void applyGeneratorSetting(GeneratorParams& p, const std::string& keyValue);

// Named starting points: default, stable, drift, bursty, sinks-recency, per-layer.
std::vector<std::string> generatorPresetNames();
GeneratorParams generatorPreset(const std::string& name);   // throws InputError
std::string generatorPresetDescription(const std::string& name);

struct GeneratorParamDoc {
    std::string name;     // JSON key and --set key
    std::string group;    // sinks, recency, ...
    std::string help;     // one line
};
// Every parameter, in the order of GeneratorParams, for --help and docs.
const std::vector<GeneratorParamDoc>& generatorParamDocs();

} // namespace kvtier
