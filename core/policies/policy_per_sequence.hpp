#pragma once
// A policy run once per sequence of a batch (MODEL.md §8; docs/POLICIES.md "Batches").
// Each sequence gets its own instance of the policy, built for that sequence alone (a
// one-sequence UnitLayout with its own P_s), and its own share of tier 0: floor(C / S)
// units, the first C mod S sequences one more. The instances see only their own
// sequence's units, reads and scores, so one long request cannot take another's HBM.
// It is how policies whose rule is about positions in one context (per_sequence in their
// PolicyInfo) run on batches, and what the fair-share variant of LRU is.
#include "core/policies/policy.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace kvtier {

// Tier 0 units of each of `sequences` sequences sharing `capacity` units equally.
std::vector<int64_t> equalShares(int64_t capacity, int32_t sequences);

// The per-sequence form of an online policy for the batch `ctx.layout` describes.
// Throws std::logic_error for an oracle policy (its instances would need a per-sequence future).
std::unique_ptr<Policy> makePerSequence(const PolicyEntry& policy, const PolicyContext& ctx,
                                        const PolicyParams& params);

} // namespace kvtier
