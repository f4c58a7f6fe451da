// LFU with decay (online). docs/POLICIES.md "lfu".
//
// Frequency f_u(t) = decay * f_u(t-1) + [u read at t]; decay = 1 is plain LFU. The decay
// is lazy: stored values are f / decay^(t+1), so one step costs nothing for unread units and the
// order of all frequencies never changes by decaying (kit::DecayScale).
//
// Step t: first the units created at t (admit_new = 1: frequency 1, admitted, evicting the
// least frequent resident when tier 0 is full), then the misses of step t-1 (units read at
// t-1 from a slower tier; migration is charged in the step it happens, MODEL.md §5), most
// frequent first: promoted while there is room, else promoted only if its frequency is >=
// the least frequent resident's, which is evicted; otherwise the unit stays where it is
// (bypass) and so do all less frequent misses. Ties: the lower unit id is the less frequent.
//
// Cost per step: O(reads + residents + moves). A step that moves anything takes its
// evictions from the residents in ascending frequency and its promotions from the misses in
// descending frequency, each from the nodes before a sampled pivot put in order by radix
// passes (kit::OrderedPicks). Each miss is listed with its frequency while observing.
// (A heap of residents kept across steps cost O(log capacity) for every read of a resident,
// since nearly every resident is read again before it could be evicted.)
#include "core/policies/kit_radix_sort.hpp"
#include "core/policies/ordered_picks.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <span>

namespace kvtier {

namespace {

constexpr double kDecay = 0.95;
constexpr double kAdmitNew = 1;

struct LfuParams {
    double decay;
    bool admitNew;
};

class Lfu final : public Policy {
public:
    Lfu(const PolicyContext& ctx, const LfuParams& params)
        : cap_(std::max<int64_t>(0, ctx.fast_capacity_units)), admitNew_(params.admitNew), scale_(params.decay)
    {
        const auto total = static_cast<size_t>(ctx.layout.totalUnits());
        f_.assign(total, 0.0);
        in_.reset(total);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, std::min(capacity, cap_), fast);
        for (uint32_t u : fast) in_.seed(u);
        residents_ = fast;
        std::sort(residents_.begin(), residents_.end());
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        int64_t room = cap_ - tier0.count();
        arrived_.clear();
        gathered_ = false;
        const size_t evictedBefore = evictions_;
        if (admitNew_) {
            const double now = scale_.nextWeight();   // weight of one use at step t
            for (uint32_t u : tier0.newUnits()) {
                f_[u] = now;
                if (room == 0) {
                    if (!residentLeft()) continue;
                    evictLeast(out);
                    ++room;
                }
                --room;
                in_.admit(u, out);
                arrived_.push_back(u);
            }
        }
        // Misses of t-1, most frequent first (only those before a sampled pivot put in order).
        mostFrequent_.fill(std::span<const kit::KeyedNode>(misses_.data(), missCount_), lastPromotions_);
        while (!mostFrequent_.done()) {
            const double f = mostFrequent_.peek().key;
            const uint32_t u = mostFrequent_.take();
            if (room == 0) {
                if (!residentLeft() || f < leastFrequent_.peek().key) break;   // bypass
                evictLeast(out);
                ++room;
            }
            --room;
            in_.promote(u, out);
            arrived_.push_back(u);
        }
        lastPromotions_ = mostFrequent_.taken();
        missCount_ = 0;
        if (evictions_ != evictedBefore || !arrived_.empty()) updateResidents();
    }

    void observe(const StepObservation& obs) override
    {
        scale_.advance();
        const double w = scale_.weight();
        // Misses appended without a branch (a hit or a miss is a coin toss to the predictor).
        // Each with its frequency, so that plan() reads no frequency of a miss again. (plan()
        // and observe() alternate: plan() took the misses of the step before.)
        size_t n = 0;
        if (misses_.size() < obs.read_units.size()) misses_.resize(obs.read_units.size());   // never shrinks
        for (uint32_t u : obs.read_units) {
            const double f = (f_[u] += w);
            misses_[n] = {f, u};
            n += in_.contains(u) ? 0 : 1;
        }
        missCount_ = n;
        if (const double k = scale_.renormalise(); k != 1.0) {
            for (double& v : f_) v *= k;
            for (size_t i = 0; i < n; ++i) misses_[i].key *= k;   // the same product as f_'s
        }
    }

private:
    // Is a resident left to evict this step? The residents' frequencies are read once per
    // step, at the first eviction.
    bool residentLeft()
    {
        if (!gathered_) {
            leastFrequent_.fill(residents_, [this](uint32_t u) { return f_[u]; }, lastEvictions_);
            gathered_ = true;
        }
        return !leastFrequent_.done();
    }
    void evictLeast(StepPlan& out)
    {
        in_.evict(leastFrequent_.take(), out);
        ++evictions_;
        lastEvictions_ = leastFrequent_.taken();
    }
    // residents_ := the residents left, with the arrivals merged in (ascending ids), in one
    // pass. The arrivals were not residents at the start of the step, so the two are disjoint.
    void updateResidents()
    {
        kit::radixSortIds(arrived_, next_);
        next_.resize(residents_.size() + arrived_.size());
        size_t w = 0, a = 0;
        for (uint32_t u : residents_) {
            while (a < arrived_.size() && arrived_[a] < u) next_[w++] = arrived_[a++];
            next_[w] = u;
            w += in_.contains(u) ? 1 : 0;   // without a branch: an evicted resident is overwritten
        }
        while (a < arrived_.size()) next_[w++] = arrived_[a++];
        next_.resize(w);
        residents_.swap(next_);
    }

    int64_t cap_;
    bool admitNew_;
    kit::DecayScale scale_;
    std::vector<double> f_;    // frequency * scale_.weight()
    kit::ResidentSet in_;
    std::vector<uint32_t> residents_;         // tier 0, ascending ids
    std::vector<uint32_t> next_;              // residents_ being rebuilt
    kit::OrderedPicks<kit::LowKeyLowId> leastFrequent_;    // this step's residents, (f, id) ascending
    kit::OrderedPicks<kit::HighKeyHighId> mostFrequent_;   // this step's misses, (f, id) descending
    bool gathered_ = false;                   // leastFrequent_ holds this step's residents
    size_t evictions_ = 0;                    // in all steps so far
    size_t lastEvictions_ = 0, lastPromotions_ = 0;   // taken at the last step: the next pivots' guide
    std::vector<kit::KeyedNode> misses_;      // [0, missCount_): read at the last step from a slower
    size_t missCount_ = 0;                    // tier, as (f, id) in ascending ids
    std::vector<uint32_t> arrived_;
};

} // namespace

PolicyEntry lfuPolicy()
{
    return {{"lfu", "LFU (decayed)",
             "Keeps the most frequently read units in HBM, frequencies decaying by a factor per step: a "
             "unit read from a slower tier at step t-1 is promoted at step t if it is at least as frequent "
             "as the least frequent resident (which is evicted), otherwise it stays where it is.",
             true,
             {{"decay", "Decay per step", ParamSpec::Type::Double, 0.01, 1, kDecay,
               "Frequencies are multiplied by this each step; 1 is plain LFU."},
              {"admit_new", "Admit new units", ParamSpec::Type::Bool, 0, 1, kAdmitNew,
               "New units enter HBM with frequency 1 (evicting the least frequent); off: they start "
               "in the slower tier with frequency 0."}}},
            [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<Lfu>(ctx, LfuParams{p.at("decay"), p.at("admit_new") != 0});
            }};
}

} // namespace kvtier
