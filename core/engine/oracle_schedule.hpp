#pragma once
// A fixed tier-0 schedule (which units live in tier 0 after every step) and its exact
// cost: an oracle Policy replays it through the engine's own simulator (runPlacement)
// and timing (computeTiming), so a schedule's time is the engine's, never an estimate.
// Lower tiers are filled by the simulator's rule (fastest lower tier with room).
#include "core/engine/placement.hpp"
#include "core/engine/timing.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kvtier {

struct TierZeroSchedule {
    int64_t units = 0, steps = 0;
    // in0[u * (steps + 1) + t + 1]: unit u is in tier 0 at the end of step t (t = -1: before
    // step 0, the initial placement). 0 before the unit exists.
    std::vector<uint8_t> in0;

    TierZeroSchedule() = default;
    TierZeroSchedule(int64_t u, int64_t t) : units(u), steps(t), in0(static_cast<size_t>(u * (t + 1)), 0) {}
    size_t index(uint32_t u, int64_t t) const { return static_cast<size_t>(u) * static_cast<size_t>(steps + 1) + static_cast<size_t>(t + 1); }
    bool at(uint32_t u, int64_t t) const { return in0[index(u, t)] != 0; }
    void set(uint32_t u, int64_t t, bool v) { in0[index(u, t)] = v ? 1 : 0; }
};

// The tier-0 membership a placement had (a policy's, to start a search from it).
TierZeroSchedule scheduleFromPlacement(const PlacementResult& placement);

// A schedule simulated by the engine: what a GUI draws like a policy (marked oracle).
struct ScheduleOutcome {
    std::string name;                                   // e.g. "migration-aware schedule"
    std::shared_ptr<const TierZeroSchedule> schedule;
    std::shared_ptr<const PlacementResult> placement;   // online = false
    std::shared_ptr<const TimingResult> timing;
    double total_time() const { return timing ? timing->total_time : 0; }
};

// Replays `schedule` (it must keep tier 0 within capacity at every step, else the
// simulator reports the broken rule as std::logic_error) and times it.
ScheduleOutcome simulateSchedule(const Selection& selection, std::shared_ptr<const TierZeroSchedule> schedule,
                                 const PlacementConfig& placement, const TimingConfig& timing,
                                 const std::string& name, const JobControl& job = {});

} // namespace kvtier
