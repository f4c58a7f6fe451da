#pragma once
// Relevance analysis of a trace itself (independent of hardware and policy): how a
// token's relevance evolves, how fast the selected set turns over, how far apart a
// token's reads are, and how long a token stays selected. Feeds the relevance views.
#include "core/engine/selection.hpp"
#include "core/model/trace.hpp"

#include <cstdint>
#include <vector>

namespace kvtier {

// Relevance of `token` of sequence `sequence` (MODEL.md §8; 0 for one sequence) at every
// step (NaN before the token exists in that sequence's context P_s + t); per-layer traces:
// the mean over layers, or one layer when `layer >= 0`. Selection traces give 1/0.
std::vector<double> tokenRelevance(const Trace& trace, uint32_t token, int32_t layer = -1, int32_t sequence = 0);
// Whether `token` of `sequence` is selected at each step (any layer, or one layer when layer >= 0).
std::vector<uint8_t> tokenSelected(const Selection& sel, uint32_t token, int32_t layer = -1, int32_t sequence = 0);

struct RelevanceStats {
    // Per step: |S_t \ S_{t-1}| / |S_t| (0 at t = 0), averaged over layer slots.
    std::vector<double> turnover;
    // Per step: selected tokens (mean over layer slots).
    std::vector<double> selected;
    // Histogram of reuse distance: entry d = how often a token is selected again d steps
    // after its previous selection (d >= 1; the last bin collects everything longer).
    std::vector<int64_t> reuse_distance;
    // Histogram of how many consecutive steps a token stays selected (run length >= 1).
    std::vector<int64_t> stay_length;
    double mean_turnover = 0, mean_reuse_distance = 0, mean_stay_length = 0;
};

RelevanceStats relevanceStats(const Selection& sel, int64_t maxBin = 256, const JobControl& job = {});

} // namespace kvtier
