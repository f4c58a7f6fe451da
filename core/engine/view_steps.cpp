#include "core/engine/view_steps.hpp"

#include <algorithm>
#include <cmath>
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
            out[kWeightRead][i] += x.weight_read + x.expert_read;   // experts are weights (MODEL.md §9)
            out[kKvRead][i] += x.kv_read;
            out[kKvWrite][i] += x.kv_write;
            out[kMigration][i] += x.mig_read + x.mig_write;
        }
    return out;
}

DecimatedCurve decimateMinMax(const std::vector<double>& y, int64_t t0, int64_t t1, int buckets)
{
    DecimatedCurve out;
    const auto n = static_cast<int64_t>(y.size());
    t0 = std::clamp<int64_t>(t0, 0, n);
    t1 = std::clamp<int64_t>(t1, t0, n);
    const int64_t b = std::max(1, buckets);
    auto push = [&](int64_t t) {
        out.x.push_back(static_cast<double>(t));
        out.y.push_back(y[static_cast<size_t>(t)]);
    };
    if (t1 - t0 <= 4 * b) {
        for (int64_t t = t0; t < t1; ++t)
            push(t);
        return out;
    }
    out.x.reserve(static_cast<size_t>(4 * b));
    out.y.reserve(static_cast<size_t>(4 * b));
    for (int64_t k = 0; k < b; ++k) {
        const int64_t s = t0 + (t1 - t0) * k / b, e = t0 + (t1 - t0) * (k + 1) / b;
        int64_t lo = -1, hi = -1, first = -1, last = -1;
        for (int64_t t = s; t < e; ++t) {
            const double v = y[static_cast<size_t>(t)];
            if (std::isnan(v))
                continue;
            if (first < 0)
                first = t;
            last = t;
            if (lo < 0 || v < y[static_cast<size_t>(lo)])
                lo = t;
            if (hi < 0 || v > y[static_cast<size_t>(hi)])
                hi = t;
        }
        if (first < 0) {   // a gap stays a gap
            out.x.push_back(static_cast<double>(s));
            out.y.push_back(std::numeric_limits<double>::quiet_NaN());
            continue;
        }
        int64_t pts[4] = {first, lo, hi, last};
        std::sort(pts, pts + 4);
        for (int i = 0; i < 4; ++i)
            if (i == 0 || pts[i] != pts[i - 1])
                push(pts[i]);
    }
    return out;
}

std::vector<int64_t> decimatedSteps(const std::vector<const std::vector<double>*>& curves, int64_t t0, int64_t t1,
                                    int buckets)
{
    std::vector<int64_t> steps;
    for (const std::vector<double>* c : curves) {
        const DecimatedCurve d = decimateMinMax(*c, t0, t1, buckets);
        for (double x : d.x)
            steps.push_back(static_cast<int64_t>(x));
    }
    std::sort(steps.begin(), steps.end());
    steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
    return steps;
}

} // namespace kvtier
