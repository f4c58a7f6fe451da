// Last-step attention (TOVA), online. A unit's key is its relevance at the last observed
// step (score_sum at t-1; 0 if not scored then). New units are admitted, evicting the
// lowest-key residents when tier 0 is full; then the lowest-key resident is swapped for the
// highest-key non-resident while the latter's key is strictly higher, at most
// max_swaps_per_step times. A unit created at step t-1 has no score yet at step t (it was
// not readable at t-1) and is not evicted then. Ties: lower unit id first.
//
// Cost per step: O(k) for the k units scored at t-1, plus the moves. Only those units have
// a key above 0, so the candidates to promote are the scored non-residents (listed while
// observing; the best max_swaps_per_step of them are picked with a small heap) and the
// residents to evict are, in order: the unscored residents by id (found by scanning a
// bitset of the residents from the start, skipping the scored ones), then the scored
// residents by key (sorted only if ever needed). Nothing is done per unit that was not
// scored, and no structure keeps all units in order.
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <span>

namespace kvtier {

namespace {

class Tova final : public Policy {
public:
    Tova(const PolicyContext& ctx, int64_t maxSwaps) : cap_(ctx.fast_capacity_units), maxSwaps_(maxSwaps)
    {
        const auto total = static_cast<size_t>(ctx.layout.totalUnits());
        u_.assign(total, UnitState{});
        active_.assign(total, 0);
        movedAt_.assign(total, 0);
        in_.reset(total);
        res_.reset(total);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, capacity, fast);
        for (uint32_t u : fast) in_.seed(u);
        for (int64_t u = 0; u < prefillUnits; ++u) activate(static_cast<uint32_t>(u));
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        in_.check(tier0, "tova");
        ++planTag_;
        const auto nNew = static_cast<int64_t>(tier0.newUnits().size());
        const int64_t need = std::max<int64_t>(0, in_.count() + nNew - cap_);
        // The best `budget` scored non-residents, best first: one pass keeping them in a
        // small heap of (key, unit) with the worst of them on top, then a sort of those.
        const std::span<const Cand> cands(nonResScored_.data(), nNonResScored_);
        const size_t budget = maxSwaps_ == 0 ? cands.size() : std::min(static_cast<size_t>(maxSwaps_), cands.size());
        const auto better = [](const Cand& a, const Cand& b) { return a.key != b.key ? a.key > b.key : a.unit < b.unit; };
        best_.clear();
        for (const Cand& c : cands) {
            if (best_.size() < budget) {
                best_.push_back(c);
                std::push_heap(best_.begin(), best_.end(), better);
            } else if (better(c, best_.front())) {
                std::pop_heap(best_.begin(), best_.end(), better);
                best_.back() = c;
                std::push_heap(best_.begin(), best_.end(), better);
            }
        }
        std::sort_heap(best_.begin(), best_.end(), better);   // best first
        cursor_ = 0;
        lowReady_ = false;
        lowNext_ = 0;

        for (int64_t i = 0; i < need; ++i) {
            const uint32_t w = nextWorst();
            if (w == kNone) break;
            evict(w, out);
        }
        for (uint32_t u : tier0.newUnits()) {
            if (in_.count() >= cap_) break;
            in_.admit(u, out);   // not active yet: protected until it has a score
            admittedNow_.push_back(u);
        }
        uint32_t w = kNone;   // the next resident to give up, once looked at
        for (const Cand& c : best_) {
            const uint32_t b = c.unit;
            if (in_.count() < cap_) {   // free room (only when everything else fits)
                promote(b, out);
                continue;
            }
            if (w == kNone) w = nextWorst();
            if (w == kNone || !(key(b) > key(w))) break;
            evict(w, out);
            w = kNone;
            promote(b, out);
        }
        for (uint32_t u : tier0.newUnits())
            if (!in_.contains(u)) activate(u);
    }

    void observe(const StepObservation& obs) override
    {
        lastTag_ = static_cast<uint32_t>(obs.t + 1);
        const size_t k = obs.score_units.size();
        if (scored_.size() < k) {   // the lists never shrink: no step fills them afresh
            scored_.resize(k);
            nonResScored_.resize(k);
        }
        size_t n = 0, m = 0;
        for (size_t i = 0; i < k; ++i) {   // branch-free: the side is a coin toss
            const uint32_t u = obs.score_units[i];
            const float key = obs.score_sum[i];
            u_[u] = {key, lastTag_};
            const unsigned positive = key > 0;
            scored_[n] = u;
            nonResScored_[m] = {key, u};   // with its key: plan() reads no unit's state for it
            n += positive;
            m += positive & active_[u] & (in_.contains(u) ? 0u : 1u);
        }
        nScored_ = n;
        nNonResScored_ = m;
        // Units created at the step before this one have their first score now.
        for (uint32_t u : admittedPrev_) activate(u);
        admittedPrev_.swap(admittedNow_);
        admittedNow_.clear();
    }

private:
    static constexpr uint32_t kNone = 0xffffffffu;

    struct Cand {
        float key;
        uint32_t unit;
    };
    struct UnitState {   // what observe() writes, 8 bytes a unit
        float key = 0;          // score_sum when last scored
        uint32_t scoredAt = 0;  // t + 1 of that step
    };

    float key(uint32_t u) const { return u_[u].scoredAt == lastTag_ ? u_[u].key : 0.0f; }
    // Residents that may be evicted, in order: those with key 0 by id (the bitset of
    // active residents, skipping the ones scored at the last step), then the scored
    // residents by key. Units moved during this plan are skipped.
    uint32_t nextWorst()
    {
        for (uint32_t u; (u = res_.next(cursor_)) != kit::IdBitset::kNone;) {
            cursor_ = size_t{u} + 1;
            if (u_[u].scoredAt != lastTag_ && movedAt_[u] != planTag_) return u;
        }
        cursor_ = SIZE_MAX;   // scanned to the end
        if (!lowReady_) {
            low_.clear();
            for (uint32_t u : std::span<const uint32_t>(scored_.data(), nScored_))
                if (active_[u] && in_.contains(u) && movedAt_[u] != planTag_) low_.push_back(u);
            std::sort(low_.begin(), low_.end(), [this](uint32_t a, uint32_t b) {
                return u_[a].key != u_[b].key ? u_[a].key < u_[b].key : a < b;
            });
            lowReady_ = true;
        }
        while (lowNext_ < low_.size()) {
            const uint32_t u = low_[lowNext_++];
            if (in_.contains(u) && movedAt_[u] != planTag_) return u;
        }
        return kNone;
    }
    void activate(uint32_t u)
    {
        active_[u] = 1;
        res_.set(u, in_.contains(u));
    }
    void evict(uint32_t u, StepPlan& out)
    {
        movedAt_[u] = planTag_;
        in_.evict(u, out);
        res_.remove(u);
    }
    void promote(uint32_t u, StepPlan& out)
    {
        movedAt_[u] = planTag_;
        in_.promote(u, out);
        res_.insert(u);
    }

    int64_t cap_, maxSwaps_;
    std::vector<UnitState> u_;
    std::vector<uint8_t> active_;          // 0: created at the last step, unscored, protected
    std::vector<uint32_t> movedAt_;        // plan tag of the unit's last move
    kit::ResidentSet in_;                  // tier 0
    kit::IdBitset res_;                    // the active residents
    std::vector<uint32_t> scored_;         // [0, nScored_): units with a score above 0 at the last step
    std::vector<Cand> nonResScored_;       // [0, nNonResScored_): those of them that were active
    size_t nScored_ = 0, nNonResScored_ = 0;   // non-residents, with their keys
    std::vector<uint32_t> low_;            // scored residents by key, built when needed
    std::vector<Cand> best_;               // this step's candidates, best first
    std::vector<uint32_t> admittedPrev_, admittedNow_;
    uint32_t lastTag_ = kNone, planTag_ = 0;   // lastTag_: t + 1 of the last observed step
    size_t cursor_ = 0, lowNext_ = 0;
    bool lowReady_ = false;
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
    return {tovaInfo(), [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<Tova>(ctx, static_cast<int64_t>(p.at("max_swaps_per_step")));
            }};
}

} // namespace kvtier
