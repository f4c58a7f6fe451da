#pragma once
// View data: MODEL.md §4 and §6 filled in for one step of one policy, as the Explain panel
// shows it and `kvtier-cli view explain` writes it. Every number comes from the engine's
// TimingResult and BoundResult and core's tierTime; the three terms are the ones tierTime
// takes the maximum of.
#include "core/engine/pipeline.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

// One tier in one layer-step: time_m(R, W) = max((R+W)/B, R/Lr, W/Lw).
struct TierTerms {
    std::string name;
    double read = 0, write = 0;     // R and W, bytes per layer for the whole batch
    double expert_read = 0;         // the part of R that is MoE experts living here (MODEL.md §9)
    double by_bandwidth = 0;        // (R+W)/B
    double by_read_link = 0;        // R/Lr (0 when Lr is unlimited)
    double by_write_link = 0;       // W/Lw (0 when Lw is unlimited)
    bool has_read_link = false, has_write_link = false;   // the link is finite
    double time = 0;                // tierTime(tier, R, W): the largest term
    // Which terms equal time (the binding one; several in a tie). 0: (R+W)/B, 1: R/Lr, 2: W/Lw.
    bool binding[3] = {false, false, false};
};

struct StepExplanation {
    int64_t step = 0;
    std::string policy, policy_label;
    bool online = true;
    int64_t context = 0;        // n_t = P + t
    int64_t batch = 1;
    int32_t layers = 1;
    // Aggregated traces have identical layers, so the step's sums / L are each layer's R
    // and W exactly; a per-layer trace shows the mean layer.
    bool aggregated = true;
    // The layer shown: -1 the mean layer (sums / L); a per-layer trace's layer l: that
    // layer's own R, W and time (its share of tau[t]).
    int32_t layer = -1;
    std::vector<TierTerms> tiers;
    double layer_time = 0;      // max over tiers of time_m (of the layer shown)
    int32_t limiting_tier = -1; // the tier reaching layer_time first, -1 when every time is 0
    double compute_floor = 0;   // seconds per layer-step
    double step_time = 0;       // tau[t] from the TimingResult (sum over layers)
    // Aggregated traces: L x max(layer_time, compute_floor), which is tau[t] (exactly when
    // L is a power of two, else within rounding). Per-layer traces, and models with experts
    // (whose layers differ by their experts' tiers): NaN.
    double recomputed_step_time = 0;

    double balanced_step_time = 0;   // NaN without the bound
    double balanced_fast_share = 0;  // share of the KV read bytes tier 0 serves in the bound
    double ratio_to_bound = 0;       // step_time / balanced_step_time
    double paper_step_time = 0;      // NaN without the bound
    double paper_denominator = 0;    // sum over tiers of min(B, Lr), bytes/s

    // The whole run.
    double time_per_token = 0, bound_time_per_token = 0, throughput = 0, hbm_hit_ratio = 0, migrated_bytes = 0;
};

// Throws InputError when the policy has no timing, t is outside [0, steps) or the layer is
// neither -1 nor a layer of a per-layer trace (an aggregated trace has no layer of its own).
StepExplanation explainStep(const AnalysisResult& result, const PolicyOutcome& outcome, int64_t t, int32_t layer = -1);

// The outcome of the named policy, or the first one (what the views fall back to); null when none.
const PolicyOutcome* findOutcome(const AnalysisResult& result, const std::string& policy);

// The heavy bounds' schedules as outcomes the views show like a policy's (oracles,
// online = false): "schedule" (the best schedule S of the migration-aware bound) and
// "annealed", in that order, each when computed. Names match comparisonRows().
std::vector<PolicyOutcome> scheduleOutcomes(const AnalysisResult& result);

} // namespace kvtier
