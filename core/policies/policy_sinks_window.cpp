// StreamingLLM's cache as a placement (online, needs no scores). At step t tier 0 holds the
// units of the first sinks_tokens tokens and of the last window_tokens tokens of the
// context once step t's token is written (tokens n_t+1-W .. n_t), i.e. at most S + W
// tokens' pages, as StreamingLLM's cache of S sinks and W recent tokens. With less
// capacity: the sink units first (unit order), then the most recent window units that fit.
// As the window slides, the units that leave it are evicted and new units admitted; the
// wanted set only gains new units, so nothing is ever promoted. O(changes) per step.
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>

namespace kvtier {

namespace {

class SinksWindow final : public Policy {
public:
    SinksWindow(const PolicyContext& ctx, int64_t sinks, int64_t window)
        : lay_(ctx.layout), cap_(ctx.fast_capacity_units), window_(window)
    {
        res_.reset(static_cast<size_t>(lay_.totalUnits()));
        sinkEnd_ = std::min(lay_.pagesAt(sinks) * lay_.slot_count, cap_);
    }

    void initial(int64_t prefillUnits, int64_t, std::vector<uint32_t>& fast) override
    {
        lo_ = windowLo(0);
        for (int64_t u = 0; u < prefillUnits; ++u)
            if (u < sinkEnd_ || u >= lo_) {
                fast.push_back(static_cast<uint32_t>(u));
                res_.seed(static_cast<uint32_t>(u));
            }
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        res_.check(tier0, "sinks-window");
        const int64_t lo = windowLo(t);
        for (int64_t u = std::max(lo_, sinkEnd_); u < lo && u < tier0.unitsBefore(); ++u)
            if (res_.contains(static_cast<uint32_t>(u))) res_.evict(static_cast<uint32_t>(u), out);
        lo_ = std::max(lo_, lo);
        for (uint32_t u : tier0.newUnits())
            if ((u < sinkEnd_ || u >= lo_) && res_.count() < cap_) res_.admit(u, out);
    }

private:
    // First unit of the wanted window at step t (window units are [lo, top)).
    int64_t windowLo(int64_t t) const
    {
        const int64_t newest = lay_.prefill + t;   // the token step t writes
        const int64_t top = (newest / lay_.page_tokens + 1) * lay_.slot_count;
        if (window_ <= 0) return top;
        const int64_t first = std::max<int64_t>(0, newest + 1 - window_);
        const int64_t room = cap_ - sinkEnd_;
        return std::min(top, std::max(first / lay_.page_tokens * lay_.slot_count, top - room));
    }

    UnitLayout lay_;
    int64_t cap_, window_;
    int64_t sinkEnd_ = 0;   // sink units are [0, sinkEnd_)
    int64_t lo_ = 0;        // window units below lo_ have left tier 0
    kit::ResidentSet res_;
};

const PolicyInfo& sinksWindowInfo()
{
    static const PolicyInfo info{
        "sinks-window", "Sinks + window (StreamingLLM)",
        "Keeps in HBM the units of the first sinks_tokens tokens and of the last window_tokens tokens; as "
        "the window slides the unit leaving it is evicted and the new one admitted. Never promotes.",
        true,
        {{"sinks_tokens", "Sink tokens", ParamSpec::Type::Int, 0, 1e9, 4,
          "First tokens of the context kept in HBM."},
         {"window_tokens", "Recent window (tokens)", ParamSpec::Type::Int, 0, 1e9, 1024,
          "Most recent tokens (including the one being written) kept in HBM."}},
        true};
    return info;
}

} // namespace

PolicyEntry sinksWindowPolicy()
{
    return {sinksWindowInfo(), [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<SinksWindow>(ctx, static_cast<int64_t>(p.at("sinks_tokens")),
                                                     static_cast<int64_t>(p.at("window_tokens")));
            }};
}

} // namespace kvtier
