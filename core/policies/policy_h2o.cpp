// Accumulated attention (H2O, heavy-hitter oracle; an online policy despite the name).
// Each unit's key is its running sum of observed relevance (score_sum), decayed by `decay`
// per step. Tier 0 holds the units of the last recent_tokens tokens (the token step t
// writes included), which are never evicted for others, plus the non-recent units with
// the highest keys: each step, after admitting the new units (evicting the lowest-key
// non-recent residents, or the oldest recent ones if there are none), it swaps the
// lowest-key non-recent resident for the highest-key non-resident while the latter's key is
// strictly higher, at most max_swaps_per_step times. Ties: lower unit id first.
//
// Cost per step: O(scored units + moves * log units) amortised. The non-recent residents sit
// in an indexed heap, lowest key on top. Keys only grow, which moves a resident away from
// that top: its node may lag and is repaired when it surfaces (kit::topLazy), so scoring a
// resident costs nothing. The non-recent non-residents are a kit::TopSlice, highest key on
// top: only the heaviest few thousand sit in a small heap, the rest are their keys alone
// (most of the units are non-residents and most of them rise every step, but a step promotes
// at most max_swaps_per_step of them), refilled by one scan of the units when the slice runs
// empty. Decay is lazy (kit::DecayScale): a unit's stored key is its decayed sum times the
// scale's weight; a renormalisation refills the slice.
#include "core/policies/policy.hpp"
#include "core/policies/kit_top_slice.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>

namespace kvtier {

namespace {

struct H2OParams {
    double decay;
    int64_t recentTokens, maxSwaps;
};

class H2O final : public Policy {
public:
    H2O(const PolicyContext& ctx, const H2OParams& p)
        : lay_(ctx.layout), cap_(ctx.fast_capacity_units), recent_(p.recentTokens), maxSwaps_(p.maxSwaps),
          scale_(p.decay, kit::Renormalise::By2p500)
    {
        const auto total = static_cast<size_t>(lay_.totalUnits());
        key_.assign(total, 0.0);
        in_.reset(total);
        res_.reset(total);
        non_.reset(total);
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
        for (uint32_t u : fast) in_.seed(u);
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        in_.check(tier0, "h2o");
        const auto before = static_cast<uint32_t>(tier0.unitsBefore());
        // Units that left the recent window join the competition.
        const auto retire = static_cast<uint32_t>(std::min<int64_t>(recentLo(t), before));
        for (; retired_ < retire; ++retired_) file(retired_);
        oldestRecent_ = std::max(oldestRecent_, retired_);

        // Room for the new units.
        const auto nNew = static_cast<int64_t>(tier0.newUnits().size());
        for (int64_t need = in_.count() + nNew - cap_; need > 0; --need) {
            uint32_t u = lightest();
            if (u == kNone) {   // only recent units left: the oldest goes
                while (oldestRecent_ < before && !in_.contains(oldestRecent_)) ++oldestRecent_;
                if (oldestRecent_ >= before) break;
                u = oldestRecent_++;
            }
            evict(u, out);
        }
        for (uint32_t u : tier0.newUnits()) {
            if (in_.count() >= cap_) break;
            in_.admit(u, out);
        }

        // Heavy hitters in, light residents out.
        for (int64_t swaps = 0; maxSwaps_ == 0 || swaps < maxSwaps_; ++swaps) {
            const bool room = in_.count() < cap_;   // free room (only when everything else fits)
            const uint32_t w = room ? kNone : lightest();
            if (!room && w == kNone) break;
            const double bar = room ? 0.0 : key_[w];   // a non-resident must beat this
            const uint32_t b = heaviest();
            if (b == kNone || !(key_[b] > bar)) break;
            if (!room) evict(w, out);
            promote(b, out);
        }
    }

    void observe(const StepObservation& obs) override
    {
        for (size_t i = 0; i < obs.score_units.size(); ++i) {
            const uint32_t u = obs.score_units[i];
            const double s = static_cast<double>(obs.score_sum[i]);
            if (!(s > 0)) continue;
            const double k = (key_[u] += s * scale_.weight());
            if (u >= retired_ || in_.contains(u)) continue;   // recent, or moving away from res_'s top
            non_.raise(u, k);
        }
        scale_.advance();
        if (const double k = scale_.renormalise(); k != 1.0) {   // exact: a power of two
            for (double& v : key_) v *= k;
            res_.scaleKeys(k);
            non_.invalidate();   // refilled from the scaled keys when next used
        }
    }

private:
    static constexpr uint32_t kNone = UINT32_MAX;
    static constexpr size_t kSlice = 4096;   // non-residents kept in the slice's heap by a refill

    // First unit of the recent window at step t: the pages of tokens n_t+1-R .. n_t. The page
    // step t writes is the current page and always stays, so R = 0 keeps it just as R = 1 does.
    int64_t recentLo(int64_t t) const
    {
        const int64_t first = std::max<int64_t>(0, lay_.prefill + t + 1 - std::max<int64_t>(recent_, 1));
        return first / lay_.page_tokens * lay_.slot_count;
    }
    // The non-recent resident with the lowest key (its node may lag: keys only grow), or kNone.
    uint32_t lightest()
    {
        return res_.empty() ? kNone : kit::topLazy(res_, [this](uint32_t u) { return key_[u]; });
    }
    // The non-recent non-resident with the highest key, or kNone.
    uint32_t heaviest()
    {
        const size_t outside = retired_ - res_.size();   // non-recent non-residents
        if (outside == 0) return kNone;
        if (non_.complete() && non_.size() > 2 * kSlice) non_.trim(kSlice);
        if (!non_.complete() || non_.empty()) {
            non_.refill(kSlice, [this](auto&& add) {
                for (uint32_t u = 0; u < retired_; ++u)
                    if (!in_.contains(u)) add(u, key_[u]);
            });
        }
        return non_.top();
    }
    // Puts a non-recent unit on its side with its exact key.
    void file(uint32_t u)
    {
        if (in_.contains(u)) {
            non_.leave(u);
            res_.pushOrSet(u, key_[u]);
        } else {
            res_.eraseIfPresent(u);
            non_.raise(u, key_[u]);
        }
    }
    void evict(uint32_t u, StepPlan& out)
    {
        in_.evict(u, out);
        if (u < retired_) file(u);
    }
    void promote(uint32_t u, StepPlan& out)
    {
        in_.promote(u, out);
        file(u);
    }

    UnitLayout lay_;
    int64_t cap_;
    int64_t recent_, maxSwaps_;
    kit::DecayScale scale_;            // a score observed now adds score * weight
    std::vector<double> key_;          // accumulated relevance * scale_.weight()
    kit::ResidentSet in_;              // tier 0
    uint32_t retired_ = 0;             // units below this are not recent: they sit in a heap
    uint32_t oldestRecent_ = 0;        // recent units below this are not in tier 0
    kit::IndexedHeap<kit::LowKeyLowId> res_;    // non-recent residents, lowest key first
    kit::TopSlice<kit::HighKeyLowId> non_;      // non-recent non-residents, highest key first
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
          "Units swapped in per step at most; 0 = unlimited."}},
        true};
    return info;
}

} // namespace

PolicyEntry h2oPolicy()
{
    return {h2oInfo(), [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<H2O>(ctx, H2OParams{p.at("decay"), static_cast<int64_t>(p.at("recent_tokens")),
                                                            static_cast<int64_t>(p.at("max_swaps_per_step"))});
            }};
}

} // namespace kvtier
