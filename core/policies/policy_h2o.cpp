// Accumulated attention (H2O, heavy-hitter oracle; an online policy despite the name).
// Each unit's key is its running sum of observed relevance (score_sum), decayed by `decay`
// per step. Tier 0 holds the units of the last recent_tokens tokens (the token step t
// writes included), which are never evicted for others, plus the non-recent units with
// the highest keys: each step, after admitting the new units (evicting the lowest-key
// non-recent residents, or the oldest recent ones if there are none), it swaps the
// lowest-key non-recent resident for the highest-key non-resident while the latter's key is
// strictly higher, at most max_swaps_per_step times. Ties: lower unit id first.
//
// Cost per step: O(scored units + moves * log units) amortised. Two lazy heaps hold the
// non-recent units (residents, lowest key on top; non-residents, highest on top). Keys
// only grow, which moves a resident away from its heap's top: its entry may lag and is
// repaired when it surfaces, so scoring a resident costs nothing. A non-resident whose new
// key is still at most the lowest resident key of the last plan (the gate) cannot be
// promoted unless that lowest key falls (a light unit leaving the recent window): it is
// only listed as dirty, and the dirty list is pushed into the heap when that happens; any
// other non-resident gets a fresh heap entry. Decay is lazy: a unit's stored key is its sum
// divided by decay^t (a global scale), renormalised by an exact power of two when it grows
// large.
#include "core/policies/policy.hpp"
#include "core/policies/unit_heaps.hpp"

#include <algorithm>
#include <stdexcept>

namespace kvtier {

namespace {

using heaps::HeapEntry;
using heaps::HighKeyLowIdFirst;
using heaps::LazyHeap;
using heaps::LowKeyLowIdFirst;

class H2O final : public Policy {
    // Heap helpers first: their return types are deduced.
    auto keyFn() const
    {
        return [this](uint32_t u) { return key_[u]; };
    }
    auto liveRes() const
    {
        return [this](const HeapEntry& e) { return e.stamp == stamp_[e.unit] && resident_[e.unit]; };
    }
    auto liveNon() const
    {
        return [this](const HeapEntry& e) { return e.stamp == stamp_[e.unit] && !resident_[e.unit]; };
    }

public:
    H2O(const PolicyContext& ctx, double decay, int64_t recent, int64_t maxSwaps)
        : lay_(ctx.layout), cap_(ctx.fast_capacity_units), decay_(decay), recent_(recent), maxSwaps_(maxSwaps)
    {
        const auto total = static_cast<size_t>(lay_.totalUnits());
        key_.assign(total, 0.0);
        stamp_.assign(total, 0);
        resident_.assign(total, 0);
        dirty_.assign(total, 0);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        // The recent units, most recent first, then the lowest ids.
        const int64_t k = std::min(prefillUnits, capacity);
        const int64_t recentFrom = std::max(recentLo(0), prefillUnits - k);
        for (int64_t u = recentFrom; u < prefillUnits; ++u) fast.push_back(static_cast<uint32_t>(u));
        for (int64_t u = 0; u < recentFrom && static_cast<int64_t>(fast.size()) < k; ++u)
            fast.push_back(static_cast<uint32_t>(u));
        std::sort(fast.begin(), fast.end());
        for (uint32_t u : fast) resident_[u] = 1;
        count_ = static_cast<int64_t>(fast.size());
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        if (tier0.count() != count_) throw std::logic_error("h2o: tier 0 mirror out of step");
        const auto before = static_cast<uint32_t>(tier0.unitsBefore());
        // Units that left the recent window join the competition.
        const auto retire = static_cast<uint32_t>(std::min<int64_t>(recentLo(t), before));
        for (; retired_ < retire; ++retired_) file(retired_);
        oldestRecent_ = std::max(oldestRecent_, retired_);

        // Room for the new units.
        const auto nNew = static_cast<int64_t>(tier0.newUnits().size());
        for (int64_t need = count_ + nNew - cap_; need > 0; --need) {
            uint32_t u = res_.top(liveRes(), keyFn());
            if (u == kNone) {   // only recent units left: the oldest goes
                while (oldestRecent_ < before && !resident_[oldestRecent_]) ++oldestRecent_;
                if (oldestRecent_ >= before) break;
                u = oldestRecent_++;
            }
            evict(u, out);
        }
        for (uint32_t u : tier0.newUnits()) {
            if (count_ >= cap_) break;
            resident_[u] = 1;
            ++count_;
            out.admit_new.push_back(u);
        }

        // Heavy hitters in, light residents out.
        for (int64_t swaps = 0; maxSwaps_ == 0 || swaps < maxSwaps_; ++swaps) {
            const bool room = count_ < cap_;   // free room (only when everything else fits)
            const uint32_t w = room ? kNone : res_.top(liveRes(), keyFn());
            if (!room && w == kNone) break;
            const double bar = room ? 0.0 : key_[w];   // a non-resident must beat this
            if (dirtyMax_ > bar) flushDirty();
            const uint32_t b = non_.top(liveNon(), keyFn());
            if (b == kNone || !(key_[b] > bar)) break;
            if (!room) evict(w, out);
            promote(b, out);
        }
        const uint32_t w = res_.top(liveRes(), keyFn());
        gate_ = w == kNone ? 0.0 : key_[w];
        const size_t live = static_cast<size_t>(before) + 1024;
        res_.compact(2 * live, liveRes());
        non_.compact(2 * live, liveNon());
    }

    void observe(const StepObservation& obs) override
    {
        for (size_t i = 0; i < obs.score_units.size(); ++i) {
            const uint32_t u = obs.score_units[i];
            const double s = static_cast<double>(obs.score_sum[i]);
            if (!(s > 0)) continue;
            const double k = (key_[u] += s * scale_);
            if (u >= retired_ || resident_[u]) continue;   // recent, or moving away from res_'s top
            if (k > gate_) {
                file(u);
            } else {
                if (!dirty_[u]) {
                    dirty_[u] = 1;
                    dirtyList_.push_back(u);
                }
                dirtyMax_ = std::max(dirtyMax_, k);
            }
        }
        if (decay_ < 1) {
            scale_ /= decay_;
            if (scale_ > kRenormAt) {   // exact: a power of two
                for (double& k : key_) k *= kRenorm;
                res_.scale(kRenorm);
                non_.scale(kRenorm);
                gate_ *= kRenorm;
                dirtyMax_ = dirtyMax_ < 0 ? dirtyMax_ : dirtyMax_ * kRenorm;
                scale_ *= kRenorm;
            }
        }
    }

private:
    static constexpr uint32_t kNone = LazyHeap<HighKeyLowIdFirst>::kNone;
    static constexpr double kRenormAt = 0x1p500;
    static constexpr double kRenorm = 0x1p-500;

    // First unit of the recent window at step t: the pages of tokens n_t+1-R .. n_t. The page
    // step t writes is the current page and always stays, so R = 0 keeps it just as R = 1 does.
    int64_t recentLo(int64_t t) const
    {
        const int64_t first = std::max<int64_t>(0, lay_.prefill + t + 1 - std::max<int64_t>(recent_, 1));
        return first / lay_.page_tokens * lay_.slot_count;
    }
    // Gives a non-recent unit an exact entry in the heap of its side.
    void file(uint32_t u)
    {
        const uint32_t s = ++stamp_[u];
        dirty_[u] = 0;
        if (resident_[u]) res_.push(key_[u], u, s);
        else non_.push(key_[u], u, s);
    }
    void flushDirty()
    {
        for (uint32_t u : dirtyList_)
            if (dirty_[u]) file(u);
        dirtyList_.clear();
        dirtyMax_ = -1;
    }
    void evict(uint32_t u, StepPlan& out)
    {
        resident_[u] = 0;
        --count_;
        out.evict.push_back(u);
        if (u < retired_) file(u);
    }
    void promote(uint32_t u, StepPlan& out)
    {
        resident_[u] = 1;
        ++count_;
        out.promote.push_back(u);
        file(u);
    }

    UnitLayout lay_;
    int64_t cap_;
    double decay_;
    int64_t recent_, maxSwaps_;
    double scale_ = 1;                 // decay^-t: what a score observed now adds per unit of relevance
    std::vector<double> key_;          // accumulated relevance / decay^t
    std::vector<uint32_t> stamp_;      // a unit's heap entry is live while its stamp matches
    std::vector<uint8_t> resident_;
    std::vector<uint8_t> dirty_;       // non-resident whose heap entry lags its key
    std::vector<uint32_t> dirtyList_;
    double dirtyMax_ = -1;             // largest key of a dirty unit (-1: none)
    double gate_ = 0;                  // lowest non-recent resident key after the last plan
    uint32_t retired_ = 0;             // units below this are not recent: they sit in a heap
    uint32_t oldestRecent_ = 0;        // recent units below this are not in tier 0
    int64_t count_ = 0;
    LazyHeap<LowKeyLowIdFirst> res_;   // non-recent residents, lowest key first
    LazyHeap<HighKeyLowIdFirst> non_;  // non-recent non-residents, highest key first
};

const PolicyInfo& h2oInfo()
{
    static const PolicyInfo info{
        "h2o", "Accumulated attention (H2O)",
        "Keeps in HBM the most recent tokens plus the units with the highest running sum of observed "
        "relevance; each step it swaps a heavier unit from DRAM for the lightest non-recent one in HBM "
        "(bounded per step). New units go to HBM.",
        true,
        {{"decay", "Decay per step", ParamSpec::Type::Double, 0.001, 1, 1,
          "Factor applied to the running sums each step; 1 = plain sum."},
         {"recent_tokens", "Recent window (tokens)", ParamSpec::Type::Int, 0, 1e9, 256,
          "Most recent tokens (including the one being written) kept in HBM; the page being written "
          "always stays, so 0 and 1 are the same."},
         {"max_swaps_per_step", "Max swaps per step", ParamSpec::Type::Int, 0, 1e9, 64,
          "Units swapped in per step at most; 0 = unlimited."}}};
    return info;
}

} // namespace

PolicyEntry h2oPolicy()
{
    return {h2oInfo(), [](const PolicyContext& ctx, const PolicyParams& given) -> std::unique_ptr<Policy> {
                const PolicyParams p = resolveParams(h2oInfo(), given, "h2o");
                return std::make_unique<H2O>(ctx, p.at("decay"), static_cast<int64_t>(p.at("recent_tokens")),
                                             static_cast<int64_t>(p.at("max_swaps_per_step")));
            }};
}

} // namespace kvtier
