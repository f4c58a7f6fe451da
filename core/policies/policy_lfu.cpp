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
// Cost per step: O(reads + residents + moves log moves). A step that moves anything takes
// its evictions from the residents in ascending frequency and its promotions from the
// misses in descending frequency, sorting each only as far as it takes (kit::OrderedPicks).
// (A heap of residents kept across steps cost O(log capacity) for every read of a resident,
// since nearly every resident is read again before it could be evicted.)
#include "core/policies/ordered_picks.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>

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
        // Misses of t-1, most frequent first (sorted only as far as they are taken).
        const auto frequency = [this](uint32_t u) { return f_[u]; };
        mostFrequent_.fill(misses_, frequency, lastPromotions_);
        while (!mostFrequent_.done()) {
            const uint32_t u = mostFrequent_.take();
            if (room == 0) {
                if (!residentLeft() || f_[u] < leastFrequent_.peek().key) break;   // bypass
                evictLeast(out);
                ++room;
            }
            --room;
            in_.promote(u, out);
            arrived_.push_back(u);
        }
        lastPromotions_ = mostFrequent_.taken();
        misses_.clear();
        if (evictions_ != evictedBefore || !arrived_.empty()) updateResidents();
    }

    void observe(const StepObservation& obs) override
    {
        scale_.advance();
        const double w = scale_.weight();
        // Misses appended without a branch (a hit or a miss is a coin toss to the predictor).
        size_t n = misses_.size();
        misses_.resize(n + obs.read_units.size());
        for (uint32_t u : obs.read_units) {
            f_[u] += w;
            misses_[n] = u;
            n += in_.contains(u) ? 0 : 1;
        }
        misses_.resize(n);
        if (const double k = scale_.renormalise(); k != 1.0)
            for (double& v : f_) v *= k;
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
    // residents_ := the residents left, with the arrivals merged in (ascending ids).
    void updateResidents()
    {
        size_t w = 0;
        for (uint32_t u : residents_)
            if (in_.contains(u)) residents_[w++] = u;
        residents_.resize(w);
        std::sort(arrived_.begin(), arrived_.end());
        residents_.insert(residents_.end(), arrived_.begin(), arrived_.end());
        std::inplace_merge(residents_.begin(), residents_.begin() + static_cast<std::ptrdiff_t>(w), residents_.end());
    }

    int64_t cap_;
    bool admitNew_;
    kit::DecayScale scale_;
    std::vector<double> f_;    // frequency * scale_.weight()
    kit::ResidentSet in_;
    std::vector<uint32_t> residents_;         // tier 0, ascending ids
    kit::OrderedPicks<kit::LowKeyLowId> leastFrequent_;    // this step's residents, (f, id) ascending
    kit::OrderedPicks<kit::HighKeyHighId> mostFrequent_;   // this step's misses, (f, id) descending
    bool gathered_ = false;                   // leastFrequent_ holds this step's residents
    size_t evictions_ = 0;                    // in all steps so far
    size_t lastEvictions_ = 0, lastPromotions_ = 0;   // taken at the last step: the next first chunk
    std::vector<uint32_t> misses_;            // read at the last step from a slower tier
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
