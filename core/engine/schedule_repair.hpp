#pragma once
// From a relaxed solution of the migration-aware bound (a tier per unit and step, which
// may overfill tier 0) to a schedule that keeps tier 0's capacity at every step: follow
// the relaxed tier-0 decisions, and where they overfill tier 0 keep the units read
// soonest (Belady's rule; pages cost the same per byte), preferring units already there;
// where the lower tiers cannot hold the rest, add the units read soonest.
#include "core/engine/oracle_schedule.hpp"
#include "core/engine/schedule_problem.hpp"

#include <vector>

namespace kvtier {

// `wantFast(u, t)`: the relaxed solution puts unit u in tier 0 at the end of step t.
// Index of `relaxed`: the schedule's (u * (steps + 1) + t + 1), value 1 = tier 0.
TierZeroSchedule repairToCapacity(const ScheduleProblem& problem, const std::vector<uint8_t>& relaxed);

} // namespace kvtier
