// MoE expert routing for generated traces (docs/GENERATOR.md "Experts"): per layer a random
// ranking of the experts with Zipf weights, top-k distinct experts per token, temporal
// reuse of a token's previous experts. One PRNG stream per (sequence, layer), steps in
// order; X[t][l] is the union over the batch's sequences (MODEL.md §9).
#include "core/synth/generator.hpp"
#include "core/model/error.hpp"
#include "core/synth/generator_random.hpp"

#include <cmath>
#include <numeric>

namespace kvtier {

namespace {

using synth::kExperts;

// Adds the routes of sequence `sequence` to `sets`. The layer's ranking comes from the
// stream (seed, kExperts, l), the model's, common to all sequences; sequence 0 goes on
// drawing its tokens from that same stream (a one-sequence trace is what it always was),
// sequence s > 0 from (seed of s, kExperts, l).
void routeSequence(const GeneratorParams& p, int32_t sequence, ExpertSets& sets)
{
    const int32_t E = p.experts, k = p.expert_top_k, tokens = p.expert_tokens;
    std::vector<double> weight(static_cast<size_t>(E));
    std::vector<int32_t> rank(static_cast<size_t>(E));
    std::vector<double> w;
    std::vector<uint16_t> chosen;
    for (int32_t l = 0; l < p.layers; ++l) {
        synth::Rng rng(synth::streamKey(p.seed, kExperts, static_cast<uint64_t>(l), 0));
        // This layer's ranking: a Fisher-Yates shuffle; expert rank[r] has weight (r+1)^-zipf.
        std::iota(rank.begin(), rank.end(), 0);
        for (int32_t i = E - 1; i > 0; --i) std::swap(rank[static_cast<size_t>(i)], rank[static_cast<size_t>(rng.between(0, i))]);
        for (int32_t r = 0; r < E; ++r)
            weight[static_cast<size_t>(rank[static_cast<size_t>(r)])] = std::pow(static_cast<double>(r + 1), -p.expert_zipf);
        if (sequence > 0)
            rng = synth::Rng(synth::streamKey(synth::sequenceSeed(p.seed, sequence), kExperts, static_cast<uint64_t>(l), 0));
        // Each token's experts at the previous step (k per token).
        std::vector<uint16_t> previous(static_cast<size_t>(tokens) * static_cast<size_t>(k));
        for (int64_t t = 0; t < p.steps; ++t) {
            for (int32_t j = 0; j < tokens; ++j) {
                uint16_t* mine = previous.data() + static_cast<size_t>(j) * static_cast<size_t>(k);
                const bool reuse = t > 0 && rng.uniform() < p.expert_reuse;
                if (!reuse) {
                    // k distinct experts, each drawn in proportion to its weight among those left.
                    w = weight;
                    for (int32_t c = 0; c < k; ++c) {
                        double total = 0;
                        for (double x : w) total += x;
                        double u = rng.uniform() * total;
                        int32_t e = 0;
                        for (; e < E - 1; ++e) {
                            if (w[static_cast<size_t>(e)] > 0 && u < w[static_cast<size_t>(e)]) break;
                            u -= w[static_cast<size_t>(e)];
                        }
                        while (w[static_cast<size_t>(e)] <= 0) --e;   // rounding at the end: the last one left
                        mine[c] = static_cast<uint16_t>(e);
                        w[static_cast<size_t>(e)] = 0;
                    }
                }
                for (int32_t c = 0; c < k; ++c) sets.set(t, l, mine[c]);
            }
        }
    }
}

} // namespace

ExpertSets generateExperts(const GeneratorParams& p)
{
    validate(p);
    if (p.experts == 0) return {};
    ExpertSets sets(p.experts, p.steps, p.layers, "generator");
    for (int32_t s = 0; s < p.sequences; ++s) routeSequence(p, s, sets);
    return sets;
}

ExpertSets generateSequenceExperts(const GeneratorParams& p, int32_t sequence)
{
    validate(p);
    if (sequence < 0 || sequence >= p.sequences)
        throw InputError("generator", "sequence " + std::to_string(sequence) + " outside 0.." +
                                          std::to_string(p.sequences - 1));
    if (p.experts == 0) return {};
    ExpertSets sets(p.experts, p.steps, p.layers, "generator");
    routeSequence(p, sequence, sets);
    return sets;
}

} // namespace kvtier
