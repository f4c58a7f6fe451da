#pragma once
// What the placement stage (engine/placement.hpp) is configured with, and a policy's
// parameters as the scenario carries them (resolved against the policy's ParamSpecs in
// policies/).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kvtier {

// A policy's parameters by key, every one present once resolved (policies/policy.hpp).
using PolicyParams = std::map<std::string, double>;

// Which units' scores a policy learns after a step (scenario `placement.observe_scores`).
// Read: only the units the step read. A sparse-attention kernel computes attention over the
// pages it loads, so it knows those scores (every token of a read page) and no others.
// All: every unit with a score in the trace, including unread ones in the slow tiers, as if
// their scores were known for free; an optimistic what-if, not a system that exists.
enum class ObserveScores { Read, All };
const char* toString(ObserveScores o);
ObserveScores observeScoresFromString(const std::string& s);   // throws InputError

struct PlacementConfig {
    bool inclusive = false;
    std::vector<int64_t> capacity_units;   // per tier: KV capacity in units, per sequence
    ObserveScores observe_scores = ObserveScores::Read;   // scores the policies learn
    bool operator==(const PlacementConfig&) const = default;
};

} // namespace kvtier
