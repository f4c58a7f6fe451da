#include "core/engine/view_baseline.hpp"

#include "core/engine/bounds.hpp"

#include <limits>

namespace kvtier {

std::vector<BaselineDelta> baselineDeltas(const AnalysisResult& now, const AnalysisResult& base)
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<BaselineDelta> out;
    auto finish = [&](BaselineDelta& d) {
        const bool both = d.in_now && d.in_baseline;
        d.delta = both ? d.total_now - d.total_baseline : nan;
        d.ratio = both && d.total_baseline > 0 ? d.total_now / d.total_baseline : nan;
        out.push_back(d);
    };
    auto timingOf = [](const AnalysisResult& r, const std::string& name) -> const TimingResult* {
        for (const PolicyOutcome& o : r.policies)
            if (o.info.name == name && o.timing)
                return o.timing.get();
        return nullptr;
    };
    auto fill = [&](BaselineDelta& d, const TimingResult* n, const TimingResult* b) {
        d.in_now = n != nullptr;
        d.in_baseline = b != nullptr;
        d.total_now = n ? n->total_time : nan;
        d.per_token_now = n ? n->timePerToken() : nan;
        d.total_baseline = b ? b->total_time : nan;
        d.per_token_baseline = b ? b->timePerToken() : nan;
    };
    for (const PolicyOutcome& o : now.policies) {
        if (!o.timing)
            continue;
        BaselineDelta d;
        d.name = o.info.name;
        d.label = o.info.label;
        fill(d, o.timing.get(), timingOf(base, o.info.name));
        finish(d);
    }
    for (const PolicyOutcome& o : base.policies) {
        if (!o.timing || timingOf(now, o.info.name))
            continue;
        BaselineDelta d;
        d.name = o.info.name;
        d.label = o.info.label;
        fill(d, nullptr, o.timing.get());
        finish(d);
    }
    if (now.balanced || base.balanced) {
        BaselineDelta d;
        d.name = "balanced";
        d.label = "balanced bound";
        d.in_now = now.balanced != nullptr;
        d.in_baseline = base.balanced != nullptr;
        d.total_now = now.balanced ? now.balanced->total_time : nan;
        d.per_token_now = now.balanced ? now.balanced->timePerToken() : nan;
        d.total_baseline = base.balanced ? base.balanced->total_time : nan;
        d.per_token_baseline = base.balanced ? base.balanced->timePerToken() : nan;
        finish(d);
    }
    return out;
}

} // namespace kvtier
