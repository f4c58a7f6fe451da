// The paper's SA policy with its two parameters set by hand (an oracle). At step t it ranks
// the units by how many of steps t .. t+w-1 read them (more first; ties: sooner next read,
// then lower unit id). The target set is the top of that ranking, up to tier 0's capacity,
// among existing units the window reads. Each step it promotes the best-ranked
// ceil(ratio * missing) of the target units not in tier 0, admits new units in the target,
// and makes room by evicting residents outside the target, lowest rank first (a resident
// the window does not read ranks by its next read: the furthest is evicted first). New
// units outside the target use free room only; prefill fills tier 0 with the initial
// target, then the lowest ids.
//
// Cost per step: O((reads leaving and entering the window + target changes + moves) *
// log units). Window counts slide with the window; next reads come from the future's reads
// (future_reads.hpp: one backward pass over the whole selection, or a streamed analysis's
// spill file read ahead). The target is kept by indexed heaps (target, worst on top; candidates,
// best on top) rebalanced after re-keying only the units whose count changed; two more
// give the missing target units (best first) and the residents outside the target (worst
// first). A key change updates only the heaps it moves towards the top of; in the others
// the node lags and is repaired when it surfaces (kit::topLazy).
#include "core/policies/future_reads.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace kvtier {

namespace {

struct WindowedParams {
    int64_t windowSteps;
    double promotionRatio;
};

class WindowedLookAhead final : public Policy {
public:
    WindowedLookAhead(const PolicyContext& ctx, const WindowedParams& p)
        : future_(futureOf(ctx, owned_, "windowed-look-ahead")), lay_(ctx.layout), cap_(ctx.fast_capacity_units), w_(p.windowSteps),
          ratio_(p.promotionRatio)
    {
        const auto total = static_cast<size_t>(lay_.totalUnits());
        cnt_.assign(total, 0);
        nextUse_ = future_.firstReads();   // the window starts at step 0
        touch_.assign(total, 0);
        ta_.reset(total);
        mt_.reset(total);
        cb_.reset(total);
        er_.reset(total);
        inTarget_.assign(total, 0);
        res_.reset(total);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        existEnd_ = static_cast<uint32_t>(prefillUnits);
        slide(0);
        rebalance();
        const int64_t k = std::min(prefillUnits, capacity);
        for (uint32_t u = 0; u < existEnd_; ++u)
            if (inTarget_[u]) fast.push_back(u);
        for (uint32_t u = 0; u < existEnd_ && static_cast<int64_t>(fast.size()) < k; ++u)
            if (!inTarget_[u]) fast.push_back(u);
        std::sort(fast.begin(), fast.end());
        for (uint32_t u : fast) setResident(u, true);
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        res_.check(tier0, "windowed-look-ahead");
        slide(t);
        for (uint32_t u : tier0.newUnits()) {
            existEnd_ = std::max(existEnd_, u + 1);
            refresh(u);
        }
        rebalance();

        const auto before = static_cast<uint32_t>(tier0.unitsBefore());
        int64_t newInTarget = 0;
        for (uint32_t u : tier0.newUnits()) newInTarget += inTarget_[u];
        const int64_t missing = missing_ - newInTarget;
        const int64_t promote = std::clamp<int64_t>(
            static_cast<int64_t>(std::ceil(ratio_ * static_cast<double>(missing) - 1e-9)), 0, missing);
        for (int64_t done = 0; done < promote;) {
            const uint32_t u = top(mt_);
            if (u == kNone) throw std::logic_error("windowed-look-ahead: missing-target heap ran dry");
            mt_.erase(u);
            if (u >= before) continue;   // created this step: admitted below
            out.promote.push_back(u);
            setResident(u, true);
            ++done;
        }
        int64_t evict = res_.count() + newInTarget - cap_;
        while (evict-- > 0) {
            const uint32_t u = top(er_);
            if (u == kNone) throw std::logic_error("windowed-look-ahead: nothing left to evict");
            er_.erase(u);
            out.evict.push_back(u);
            setResident(u, false);
        }
        for (uint32_t u : tier0.newUnits())
            if (inTarget_[u]) {
                out.admit_new.push_back(u);
                setResident(u, true);
            }
        for (uint32_t u : tier0.newUnits())
            if (!inTarget_[u] && res_.count() < cap_) {
                out.admit_new.push_back(u);
                setResident(u, true);
            }
        std::sort(out.admit_new.begin(), out.admit_new.end());
    }

private:
    static constexpr uint32_t kNever = 0xffffffffu;
    static constexpr uint32_t kNone = UINT32_MAX;
    using Worst = kit::IndexedHeap<kit::LowKeyHighId>;   // lowest rank on top
    using Best = kit::IndexedHeap<kit::HighKeyLowId>;    // highest rank on top

    // Rank key: window count first, then sooner next read (exact in a double).
    double key(uint32_t u) const
    {
        return static_cast<double>(cnt_[u]) * 4294967296.0 + static_cast<double>(kNever - nextUse_[u]);
    }
    bool better(uint32_t a, uint32_t b) const
    {
        const double ka = key(a), kb = key(b);
        return ka != kb ? ka > kb : a < b;
    }

    // The top of a heap by true key, or kNone.
    template <class Heap>
    uint32_t top(Heap& h)
    {
        return h.empty() ? kNone : kit::topLazy(h, [this](uint32_t u) { return key(u); });
    }
    // Puts u into (or out of) a heap, with its exact key when in.
    template <class Heap>
    void file(Heap& h, uint32_t u, bool in)
    {
        if (in) h.pushOrSet(u, key(u));
        else h.eraseIfPresent(u);
    }
    // Re-files an existing u after a change of membership: exact keys in the heaps it is in.
    void refresh(uint32_t u)
    {
        if (u >= existEnd_) return;
        file(ta_, u, inTarget_[u]);
        file(mt_, u, inTarget_[u] && !res_.contains(u));
        file(cb_, u, !inTarget_[u] && cnt_[u] > 0);
        file(er_, u, !inTarget_[u] && res_.contains(u));
    }
    // After a key change only the heaps the key moved towards the top of are updated; in
    // the others the node lags (towards the top) and topLazy repairs it when it surfaces.
    // A count reaching or leaving 0 moves a unit outside the target into or out of cb_.
    void rekey(uint32_t u, double old)
    {
        if (u >= existEnd_) return;
        const double k = key(u);
        const bool candidate = !inTarget_[u] && cnt_[u] > 0;
        if (candidate != cb_.contains(u)) {
            if (candidate) cb_.push(u, k);
            else cb_.erase(u);
        } else if (k > old && candidate) {
            cb_.set(u, k);
        }
        if (k > old) {
            if (mt_.contains(u)) mt_.set(u, k);
        } else if (k < old) {
            if (ta_.contains(u)) ta_.set(u, k);
            if (er_.contains(u)) er_.set(u, k);
        }
    }
    void setTarget(uint32_t u, bool in)
    {
        inTarget_[u] = in;
        targetSize_ += in ? 1 : -1;
        if (!res_.contains(u)) missing_ += in ? 1 : -1;
        refresh(u);
    }
    void setResident(uint32_t u, bool in)
    {
        if (in) res_.set(u);
        else res_.clear(u);
        if (inTarget_[u]) missing_ += in ? -1 : 1;
        refresh(u);
    }

    // Called before u's key changes: remembers the key the slide started from.
    void note(uint32_t u)
    {
        if (touch_[u] == tag_) return;
        touch_[u] = tag_;
        changed_.push_back(u);
        oldKey_.push_back(key(u));
    }
    // Moves the window to steps [t, t + w).
    void slide(int64_t t)
    {
        ++tag_;
        changed_.clear();
        oldKey_.clear();
        for (; winLo_ < t; ++winLo_) {
            const std::span<const uint32_t> reads = future_.reads(winLo_);
            const std::span<const uint32_t> next = future_.nextReads(winLo_);
            for (size_t i = 0; i < reads.size(); ++i) {
                const uint32_t u = reads[i];
                note(u);
                --cnt_[u];
                nextUse_[u] = next[i];
            }
        }
        future_.advance(t);
        const int64_t hi = std::min(lay_.steps, t + w_);
        for (; winHi_ < hi; ++winHi_)
            for (uint32_t u : future_.reads(winHi_)) {
                note(u);
                ++cnt_[u];
            }
        for (size_t i = 0; i < changed_.size(); ++i) rekey(changed_[i], oldKey_[i]);
    }

    void rebalance()
    {
        for (;;) {   // units the window no longer reads leave the target
            const uint32_t w = top(ta_);
            if (w == kNone || cnt_[w] > 0) break;
            setTarget(w, false);
        }
        while (targetSize_ < cap_) {
            const uint32_t b = top(cb_);
            if (b == kNone) break;
            setTarget(b, true);
        }
        for (;;) {
            const uint32_t b = top(cb_);
            const uint32_t w = top(ta_);
            if (b == kNone || w == kNone || !better(b, w)) break;
            setTarget(w, false);
            setTarget(b, true);
        }
    }

    std::unique_ptr<FutureReads> owned_;   // built from the whole selection, when not given one
    FutureReads& future_;                  // steps t .. t + w - 1 are asked for at step t
    UnitLayout lay_;
    int64_t cap_, w_;
    double ratio_;
    std::vector<uint32_t> cnt_;       // reads in the window
    std::vector<uint32_t> nextUse_;   // first read at or after the window's start
    std::vector<uint32_t> touch_;
    std::vector<uint8_t> inTarget_;
    kit::ResidentSet res_;            // tier 0 (the plan is written next to each change)
    std::vector<uint32_t> changed_;
    std::vector<double> oldKey_;
    uint32_t tag_ = 0;
    uint32_t existEnd_ = 0;           // units 0 .. existEnd_-1 exist
    int64_t winLo_ = 0, winHi_ = 0;
    int64_t targetSize_ = 0, missing_ = 0;
    Worst ta_;  // target, worst first
    Best mt_;   // target units not in tier 0, best first
    Best cb_;   // read in the window, not in the target, best first
    Worst er_;  // residents outside the target, worst first
};

const PolicyInfo& windowedInfo()
{
    static const PolicyInfo info{
        "windowed-look-ahead", "Windowed look-ahead (oracle)",
        "Knows the next window_steps steps: HBM tends to the units those steps read most (ties: sooner "
        "read); each step it promotes the best promotion_ratio share of the missing ones, evicting the "
        "lowest-ranked units outside that set. The paper's SA policy with hand-set parameters.",
        false,
        {{"window_steps", "Window (steps)", ParamSpec::Type::Int, 1, 4096, 8,
          "Future steps whose reads rank the units."},
         {"promotion_ratio", "Promotion ratio", ParamSpec::Type::Double, 0, 1, 0.5,
          "Share of the missing target units promoted per step (rounded up)."}}};
    return info;
}

} // namespace

PolicyEntry windowedLookAheadPolicy()
{
    return {windowedInfo(), [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<WindowedLookAhead>(
                    ctx, WindowedParams{static_cast<int64_t>(p.at("window_steps")), p.at("promotion_ratio")});
            }};
}

} // namespace kvtier
