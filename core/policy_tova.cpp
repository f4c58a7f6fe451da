// Last-step attention (TOVA), online. A unit's key is its relevance at the last observed
// step (score_sum at t-1; 0 if not scored then). New units are admitted, evicting the
// lowest-key residents when tier 0 is full; then the lowest-key resident is swapped for the
// highest-key non-resident while the latter's key is strictly higher, at most
// max_swaps_per_step times. A unit created at step t-1 has no score yet at step t (it was
// not readable at t-1) and is not evicted then. Ties: lower unit id first.
//
// Cost per step: O(units scored at t-1 or t-2 + moves * log units) amortised (lazy heaps:
// only key changes towards a heap's top push an entry).
#include "core/policy.hpp"
#include "core/unit_heaps.hpp"

#include <algorithm>
#include <stdexcept>

namespace kvtier {

namespace {

using heaps::HeapEntry;
using heaps::HighKeyLowIdFirst;
using heaps::LazyHeap;
using heaps::LowKeyLowIdFirst;

class Tova final : public Policy {
    // Heap helpers first: their return types are deduced.
    auto keyFn() const
    {
        return [this](uint32_t u) { return key_[u]; };
    }
    auto liveRes() const
    {
        return [this](const HeapEntry& e) {
            return e.stamp == stamp_[e.unit] && active_[e.unit] && resident_[e.unit];
        };
    }
    auto liveNon() const
    {
        return [this](const HeapEntry& e) {
            return e.stamp == stamp_[e.unit] && active_[e.unit] && !resident_[e.unit];
        };
    }

public:
    Tova(const PolicyContext& ctx, int64_t maxSwaps)
        : cap_(ctx.fast_capacity_units), maxSwaps_(maxSwaps)
    {
        const auto total = static_cast<size_t>(ctx.layout.totalUnits());
        limit_ = 2 * total + 1024;
        key_.assign(total, 0.0);
        stamp_.assign(total, 0);
        scoredAt_.assign(total, 0);
        resident_.assign(total, 0);
        active_.assign(total, 0);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, capacity, fast);
        for (uint32_t u : fast) resident_[u] = 1;
        count_ = static_cast<int64_t>(fast.size());
        for (int64_t u = 0; u < prefillUnits; ++u) activate(static_cast<uint32_t>(u));
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        if (tier0.count() != count_) throw std::logic_error("tova: tier 0 mirror out of step");
        const auto nNew = static_cast<int64_t>(tier0.newUnits().size());
        for (int64_t need = count_ + nNew - cap_; need > 0; --need) {
            const uint32_t w = res_.top(liveRes(), keyFn());
            if (w == kNone) break;
            res_.pop();
            evict(w, out);
        }
        for (uint32_t u : tier0.newUnits()) {
            if (count_ >= cap_) break;
            resident_[u] = 1;
            ++count_;
            out.admit_new.push_back(u);
            admittedNow_.push_back(u);   // protected until it has a score
        }

        for (int64_t swaps = 0; maxSwaps_ == 0 || swaps < maxSwaps_; ++swaps) {
            const uint32_t b = non_.top(liveNon(), keyFn());
            if (b == kNone) break;
            if (count_ < cap_) {   // free room (only when everything else fits)
                if (!(key_[b] > 0)) break;
                non_.pop();
                promote(b, out);
                continue;
            }
            const uint32_t w = res_.top(liveRes(), keyFn());
            if (w == kNone || !(key_[b] > key_[w])) break;
            non_.pop();
            res_.pop();
            evict(w, out);
            promote(b, out);
        }
        for (uint32_t u : tier0.newUnits())
            if (!resident_[u]) activate(u);
    }

    void observe(const StepObservation& obs) override
    {
        const auto tag = static_cast<uint32_t>(obs.t + 1);
        for (size_t i = 0; i < obs.score_units.size(); ++i) {
            const uint32_t u = obs.score_units[i];
            scoredAt_[u] = tag;
            setKey(u, static_cast<double>(obs.score_sum[i]));
        }
        for (uint32_t u : lastScored_)
            if (scoredAt_[u] != tag) setKey(u, 0.0);
        lastScored_.assign(obs.score_units.begin(), obs.score_units.end());
        // Units created at the step before this one have their first score now.
        for (uint32_t u : admittedPrev_)
            if (resident_[u]) activate(u);
        admittedPrev_.swap(admittedNow_);
        admittedNow_.clear();
        res_.compact(limit_, liveRes());
        non_.compact(limit_, liveNon());
    }

private:
    static constexpr uint32_t kNone = LazyHeap<HighKeyLowIdFirst>::kNone;

    void file(uint32_t u)
    {
        const uint32_t s = ++stamp_[u];
        if (resident_[u]) res_.push(key_[u], u, s);
        else non_.push(key_[u], u, s);
    }
    void activate(uint32_t u)
    {
        active_[u] = 1;
        file(u);
    }
    void setKey(uint32_t u, double k)
    {
        const double old = key_[u];
        if (k == old) return;
        key_[u] = k;
        if (!active_[u]) return;
        // Only moves towards a heap's top need a fresh entry.
        if (resident_[u] ? k < old : k > old) file(u);
    }
    void evict(uint32_t u, StepPlan& out)
    {
        resident_[u] = 0;
        --count_;
        out.evict.push_back(u);
        file(u);
    }
    void promote(uint32_t u, StepPlan& out)
    {
        resident_[u] = 1;
        ++count_;
        out.promote.push_back(u);
        file(u);
    }

    int64_t cap_, maxSwaps_;
    size_t limit_ = 0;
    std::vector<double> key_;          // score_sum at the last observed step
    std::vector<uint32_t> stamp_, scoredAt_;
    std::vector<uint8_t> resident_, active_;   // active: filed in a heap
    std::vector<uint32_t> lastScored_, admittedPrev_, admittedNow_;
    int64_t count_ = 0;
    LazyHeap<LowKeyLowIdFirst> res_;   // residents, lowest key first
    LazyHeap<HighKeyLowIdFirst> non_;  // non-residents, highest key first
};

const PolicyInfo& tovaInfo()
{
    static const PolicyInfo info{
        "tova", "Last-step attention (TOVA)",
        "Keeps in HBM the units the last step attended to most: each step the new units enter (evicting "
        "the lowest last-step score) and the weakest residents are swapped for stronger units from DRAM "
        "(bounded per step).",
        true,
        {{"max_swaps_per_step", "Max swaps per step", ParamSpec::Type::Int, 0, 1e9, 64,
          "Units swapped in per step at most; 0 = unlimited."}}};
    return info;
}

} // namespace

PolicyEntry tovaPolicy()
{
    return {tovaInfo(), [](const PolicyContext& ctx, const PolicyParams& given) -> std::unique_ptr<Policy> {
                const PolicyParams p = resolveParams(tovaInfo(), given, "tova");
                return std::make_unique<Tova>(ctx, static_cast<int64_t>(p.at("max_swaps_per_step")));
            }};
}

} // namespace kvtier
