// The paper's look-ahead baseline (an oracle): at step t it knows which units step t reads.
// It promotes the read units that are not in tier 0 (lowest unit id first, as many as
// capacity allows once the units step t reads and already holds are kept), evicting the
// oldest-admitted residents that step t does not read. New units enter tier 0 only while it
// has room. Prefill: the units step 0 reads (lowest id first), then the lowest ids.
#include "core/policies/future_reads.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <memory>

namespace kvtier {

namespace {

class LookAhead final : public Policy {
public:
    explicit LookAhead(const PolicyContext& ctx)
        : future_(futureOf(ctx, owned_, "look-ahead")), cap_(ctx.fast_capacity_units)
    {
        const auto total = static_cast<size_t>(ctx.layout.totalUnits());
        res_.reset(total);
        fifo_.reset(total);
        mark_.assign(total, 0);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        const int64_t k = std::min(prefillUnits, capacity);
        std::vector<uint8_t> chosen(static_cast<size_t>(prefillUnits), 0);
        if (future_.steps() > 0)
            for (uint32_t u : future_.reads(0)) {
                if (static_cast<int64_t>(fast.size()) >= k) break;
                chosen[u] = 1;
                fast.push_back(u);
            }
        for (uint32_t u = 0; u < prefillUnits && static_cast<int64_t>(fast.size()) < k; ++u)
            if (!chosen[u]) {
                chosen[u] = 1;
                fast.push_back(u);
            }
        std::sort(fast.begin(), fast.end());
        for (uint32_t u : fast) {
            res_.seed(u);
            fifo_.pushHead(0, u);
        }
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        res_.check(tier0, "look-ahead");
        const int64_t count = res_.count();
        const auto stamp = static_cast<uint32_t>(t + 1);
        future_.advance(t);
        const auto reads = future_.reads(t);
        int64_t kept = 0;
        missing_.clear();
        for (uint32_t u : reads) {
            mark_[u] = stamp;
            if (res_.contains(u)) ++kept;
            else missing_.push_back(u);
        }
        const int64_t promote = std::min<int64_t>(static_cast<int64_t>(missing_.size()), cap_ - kept);
        int64_t evict = std::max<int64_t>(0, count + promote - cap_);
        // Oldest first, skipping what step t reads: at most `kept` units are skipped.
        for (uint32_t u = fifo_.tail(); evict > 0 && u != kit::IdLists::kNil;) {
            const uint32_t newer = fifo_.prev(u);
            if (mark_[u] != stamp) {
                fifo_.unlink(u);
                res_.evict(u, out);
                --evict;
            }
            u = newer;
        }
        for (int64_t i = 0; i < promote; ++i) {
            const uint32_t u = missing_[static_cast<size_t>(i)];
            fifo_.pushHead(0, u);
            res_.promote(u, out);
        }
        for (uint32_t u : tier0.newUnits()) {
            if (res_.count() >= cap_) break;
            fifo_.pushHead(0, u);
            res_.admit(u, out);
        }
    }

private:
    std::unique_ptr<FutureReads> owned_;   // built from the whole selection, when not given one
    FutureReads& future_;                  // only the step being planned is asked for
    int64_t cap_;
    kit::ResidentSet res_;          // tier 0
    kit::IdLists fifo_;             // tier 0 by admission, the oldest at the tail
    std::vector<uint32_t> mark_;    // per unit: t + 1 when step t reads it
    std::vector<uint32_t> missing_;
};

const PolicyInfo& lookAheadInfo()
{
    static const PolicyInfo info{
        "look-ahead", "Look-ahead (oracle)",
        "Knows each step's reads: before step t it promotes the units step t reads that are not in HBM "
        "(lowest id first, as many as fit), evicting the oldest-admitted units step t does not read; new "
        "units go to HBM only while it has room. The paper's look-ahead baseline.",
        false,
        {}};
    return info;
}

} // namespace

PolicyEntry lookAheadPolicy()
{
    return {lookAheadInfo(), [](const PolicyContext& ctx, const PolicyParams&) -> std::unique_ptr<Policy> {
                return std::make_unique<LookAhead>(ctx);
            }};
}

} // namespace kvtier
