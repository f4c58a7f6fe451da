#pragma once
// Expert residency (MODEL.md §9, docs/MODEL.md "Experts", docs/POLICIES.md "Expert
// residency"): with a dynamic expert policy, which experts live in tier 0 at every step,
// the moves that get them there, and the expert bytes every layer-step reads and migrates
// on each tier. One budget over all (layer, expert) pairs: tier 0 holds `budget` experts
// of any layers (ExpertPlacement::budget), the others live in tiers 1 .. M-1.
//
// A move is a swap: the expert coming in from tier a takes a tier-0 slot and the expert
// it displaces takes its slot in tier a, so every tier holds as many experts at every step
// as at the start. Each half is charged to its own expert's layer in the step it happens
// (MODEL.md §5): expert_bytes read from the source tier and written to the destination.
#include "core/engine/expert_placement.hpp"
#include "core/model/cancel.hpp"

#include <cstdint>
#include <vector>

namespace kvtier {

struct ExpertMove {
    int64_t step = 0;
    int32_t layer = 0, expert = 0;
    int32_t from = 0, to = 0;   // tiers
    bool operator==(const ExpertMove&) const = default;
};

struct ExpertResidency {
    int32_t tiers = 0, layers = 0;
    int64_t steps = 0;
    // Per (step, layer, tier), index (t * layers + l) * tiers + m, in bytes: the active
    // experts read from the tier, and the migrations read from / written to it.
    std::vector<double> read, mig_read, mig_write;
    std::vector<ExpertMove> moves;   // in the order they happen
    std::vector<int32_t> initial;    // l * E + e: the expert's tier before step 0
    int64_t reads = 0, misses = 0;   // expert reads, and those not served by tier 0
    double read_bytes = 0, read_fast_bytes = 0, migrated_bytes = 0;   // migrated: each move once

    size_t index(int64_t t, int32_t l, int32_t m) const
    {
        return (static_cast<size_t>(t) * static_cast<size_t>(layers) + static_cast<size_t>(l)) *
                   static_cast<size_t>(tiers) + static_cast<size_t>(m);
    }
    double hitRatio() const { return read_bytes > 0 ? read_fast_bytes / read_bytes : 0; }
};

// Runs c.experts.policy over `steps` steps of `sets` (null or empty: every expert of every
// layer is active every step) from the placement p = placeExperts(c), which must be placed
// (requireExpertsPlaced). Static and budget 0 move nothing. Deterministic.
ExpertResidency simulateExpertResidency(const ExpertPlacement& p, const ExpertSets* sets, const TimingConfig& c,
                                        int64_t steps, const JobControl& job = {});

} // namespace kvtier
