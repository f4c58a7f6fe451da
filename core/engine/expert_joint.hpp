#pragma once
// The joint expert policy's split of tier 0 (docs/POLICIES.md "Expert residency", joint;
// docs/MODEL.md "Experts"): experts and KV units ranked together by the bytes they save per
// byte of tier 0, which is the fraction of the steps that read them, fill tier 0's room;
// the experts admitted are the expert budget. Which experts then live in tier 0 is the
// frequency oracle's rule at that budget (expert_residency.hpp).
#include "core/model/cancel.hpp"
#include "core/model/selection.hpp"
#include "core/model/timing_config.hpp"

#include <cstdint>

namespace kvtier {

// The budget B of experts.policy = joint for this selection:
//  - an expert (l, e) scores (steps t < T with e in X[t][l]) / T, every expert 1 without
//    expert sets; a KV unit that exists at the end of the run scores its read fraction
//    (kv_units.hpp unitReadFractions); a candidate scoring 0 saves nothing and is left out;
//  - candidates in descending score (ties: experts before KV units, then lower id: u = l x E
//    + e for experts, the unit id for KV) are each admitted when their size still fits in
//    what is left of room_0 = fastTierRoom(c): expert_bytes, or batch x kvUnitBytes for a
//    KV unit; B is the number of experts admitted (so B x expert_bytes <= room_0).
// 0 for a model without experts or when T = 0. Deterministic.
int64_t jointExpertBudget(const Selection& sel, const TimingConfig& c, const JobControl& job = {});

// The timing config the stages run with: c, and with experts.policy = joint on a model
// with experts its expert_budget = jointExpertBudget(sel, c). Any other config unchanged.
TimingConfig resolveExpertBudget(const Selection& sel, TimingConfig c, const JobControl& job = {});

} // namespace kvtier
