#include "core/engine/oracle_schedule.hpp"

#include <stdexcept>

namespace kvtier {

namespace {

// Moves each step whatever the schedule says: evictions, promotions, admitted new units.
class FixedSchedulePolicy : public Policy {
public:
    explicit FixedSchedulePolicy(const TierZeroSchedule& s) : s_(s) {}

    void initial(int64_t prefillUnits, int64_t, std::vector<uint32_t>& fast) override
    {
        for (int64_t u = 0; u < prefillUnits; ++u)
            if (s_.at(static_cast<uint32_t>(u), -1)) fast.push_back(static_cast<uint32_t>(u));
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        for (int64_t i = 0; i < tier0.unitsBefore(); ++i) {
            const auto u = static_cast<uint32_t>(i);
            const bool want = s_.at(u, t), have = tier0.contains(u);
            if (have && !want) out.evict.push_back(u);
            else if (!have && want) out.promote.push_back(u);
        }
        for (uint32_t u : tier0.newUnits())
            if (s_.at(u, t)) out.admit_new.push_back(u);
    }

private:
    const TierZeroSchedule& s_;
};

} // namespace

TierZeroSchedule scheduleFromPlacement(const PlacementResult& p)
{
    const UnitLayout& lay = p.layout;
    TierZeroSchedule s(lay.totalUnits(), lay.steps);
    std::vector<uint8_t> fast(static_cast<size_t>(s.units), 0);
    const int64_t prefillUnits = lay.unitsBefore(0);
    for (int64_t u = 0; u < prefillUnits; ++u) {
        fast[static_cast<size_t>(u)] = p.created_tier[static_cast<size_t>(u)] == 0;
        s.set(static_cast<uint32_t>(u), -1, fast[static_cast<size_t>(u)]);
    }
    for (int64_t t = 0; t < lay.steps; ++t) {
        for (const Move& mv : p.moves.row(static_cast<size_t>(t))) fast[mv.unit] = mv.to == 0;
        for (int64_t u = lay.unitsBefore(t); u < lay.unitsBefore(t + 1); ++u)
            fast[static_cast<size_t>(u)] = p.created_tier[static_cast<size_t>(u)] == 0;
        const int64_t exist = lay.unitsBefore(t + 1);
        for (int64_t u = 0; u < exist; ++u) s.set(static_cast<uint32_t>(u), t, fast[static_cast<size_t>(u)]);
    }
    return s;
}

ScheduleOutcome simulateSchedule(const Selection& selection, std::shared_ptr<const TierZeroSchedule> schedule,
                                 const PlacementConfig& placement, const TimingConfig& timing,
                                 const std::string& name, const JobControl& job)
{
    const UnitLayout& lay = selection.layout;
    if (schedule->units != lay.totalUnits() || schedule->steps != lay.steps)
        throw std::logic_error("schedule does not match the selection's units and steps");
    FixedSchedulePolicy policy(*schedule);
    PolicyInfo info;
    info.name = name;
    info.label = name;
    info.description = "A fixed tier-0 schedule found with knowledge of the whole trace.";
    info.online = false;
    ScheduleOutcome out;
    out.name = name;
    out.schedule = std::move(schedule);
    out.placement = std::make_shared<const PlacementResult>(runPlacementWith(selection, policy, info, {}, placement, job));
    out.timing = std::make_shared<const TimingResult>(computeTiming(selection, *out.placement, timing, job));
    return out;
}

} // namespace kvtier
