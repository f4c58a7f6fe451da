#pragma once
// MoE experts in the engine (MODEL.md §9): where each expert lives, what the weights take
// of every tier's capacity, and the expert bytes a layer-step reads from each tier.
// With the expert policy `static` experts stay where the initial placement puts them: after
// the dense weights, in (layer, expert) order, each into the fastest tier with room for it.
// Any other expert policy splits tier 0's room: hbm_share of it (whole experts) is the
// expert budget, or, with `joint`, the budget its ranking chose (TimingConfig::expert_budget,
// expert_joint.hpp), held by the first experts in (layer, expert) order at the start; the
// rest go first-fit into tiers 1.. (docs/MODEL.md "Experts"); expert_residency.hpp moves them.
#include "core/model/experts.hpp"
#include "core/model/timing_config.hpp"

#include <cstdint>
#include <vector>

namespace kvtier {

struct ExpertPlacement {
    int32_t layers = 0, experts = 0;
    std::vector<int32_t> tier;      // l * E + e: the expert's tier, -1 when it fits nowhere
    std::vector<double> bytes;      // per tier: expert bytes it holds (all layers)
    int64_t unplaced = 0;           // experts that fit in no tier (the scenario is infeasible)
    int64_t budget = 0;             // experts tier 0 holds (a dynamic expert policy: its expert budget)
    bool dynamic = false;           // an expert policy other than static: tier 0 is split
    int32_t at(int32_t l, int32_t e) const { return tier[static_cast<size_t>(l) * static_cast<size_t>(experts) + static_cast<size_t>(e)]; }
};

// The initial placement of the experts; dense weights (omega of them in tier 0, the rest in
// the last tier) and reserves take capacity first. Empty for a dense model (E = 0).
// A dynamic expert policy (c.experts): tier 0 gets budget = min(L x E, floor(hbm_share x
// room_0 / expert_bytes)) experts, room_0 = fastTierRoom(c), or with `joint` budget =
// c.expert_budget (InputError when it was not chosen, < 0), and every other expert goes
// first-fit into tiers 1 .. M-1, never into tier 0's KV part.
ExpertPlacement placeExperts(const TimingConfig& c);
// Tier 0's room for experts and KV: C_0 - dense_0 - reserve_0, 0 if negative (with one tier
// all dense weights are in it). What a dynamic expert policy splits.
double fastTierRoom(const TimingConfig& c);
// Throws InfeasibleError with the numbers when some expert fits in no tier.
void requireExpertsPlaced(const ExpertPlacement& p, const TimingConfig& c);

// Bytes of weights resident in each tier, dense and experts: what weights take of the
// tier's capacity before any KV (MODEL.md §4 "Weights take capacity first", §9).
std::vector<double> residentWeightBytes(const TimingConfig& c, const ExpertPlacement& p);

// The expert bytes layer l of step t reads from each tier (added to perTier, M entries):
// expert_bytes for each expert in X[t][l], or for every expert of the layer when the
// trace has no expert sets (`sets` null or empty).
void addExpertReads(const ExpertPlacement& p, const ExpertSets* sets, double expertBytes, int64_t t, int32_t l,
                    double* perTier);
// Active expert bytes of layer l at step t (all tiers together).
double activeExpertBytes(const ExpertSets* sets, const Model& m, int64_t t, int32_t l);

// Throws InputError when a trace's expert sets do not fit the model (E differs, or the
// sets' layers differ from the model's L). `where` names the trace.
void checkExpertsMatch(const ExpertSets& sets, const Model& m, const std::string& where);

} // namespace kvtier
