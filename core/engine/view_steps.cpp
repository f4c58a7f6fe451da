#include "core/engine/view_steps.hpp"

#include <limits>

namespace kvtier {

StepSeries stepSeries(const AnalysisResult& r, const PolicyOutcome& o)
{
    StepSeries s;
    if (!o.timing)
        return s;
    const TimingResult& tm = *o.timing;
    const auto T = static_cast<size_t>(tm.steps);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    s.step_time = tm.step_time;
    s.balanced.assign(T, nan);
    s.paper.assign(T, nan);
    for (size_t t = 0; t < T; ++t) {
        if (r.balanced && t < r.balanced->step_time.size())
            s.balanced[t] = r.balanced->step_time[t];
        if (r.paper && t < r.paper->step_time.size())
            s.paper[t] = r.paper->step_time[t];
    }
    const auto& tiers = r.scenario.hardware.tiers;
    s.tier_use.assign(tiers.size(), std::vector<double>(T, 0.0));
    s.tier_busy.assign(tiers.size(), std::vector<double>(T, 0.0));
    for (size_t m = 0; m < tiers.size() && static_cast<int32_t>(m) < tm.tiers; ++m)
        for (size_t t = 0; t < T; ++t) {
            const TierStep& x = tm.at(static_cast<int64_t>(t), static_cast<int32_t>(m));
            const double st = tm.step_time[t];
            s.tier_use[m][t] = st > 0 ? (x.readBytes() + x.writeBytes()) / (tiers[m].bandwidth * st) : 0;
            s.tier_busy[m][t] = st > 0 ? x.busy_s / st : 0;
        }
    return s;
}

std::array<std::vector<double>, kTrafficKinds> trafficSeries(const TimingResult& tm, int32_t tier)
{
    std::array<std::vector<double>, kTrafficKinds> out;
    for (auto& v : out)
        v.assign(static_cast<size_t>(tm.steps), 0.0);
    for (int64_t t = 0; t < tm.steps; ++t)
        for (int32_t m = 0; m < tm.tiers; ++m) {
            if (tier >= 0 && m != tier)
                continue;
            const TierStep& x = tm.at(t, m);
            const auto i = static_cast<size_t>(t);
            out[kWeightRead][i] += x.weight_read;
            out[kKvRead][i] += x.kv_read;
            out[kKvWrite][i] += x.kv_write;
            out[kMigration][i] += x.mig_read + x.mig_write;
        }
    return out;
}

} // namespace kvtier
