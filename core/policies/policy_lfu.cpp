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
// Cost per step: O(reads + moves log capacity): a heap of residents whose keys are lower
// bounds (frequencies only grow in the scaled domain), raised only when they reach the top.
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
        res_.reset(total);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, std::min(capacity, cap_), fast);
        for (uint32_t u : fast) {
            in_.seed(u);
            res_.push(u, 0.0);
        }
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        int64_t room = cap_ - tier0.count();
        arrived_.clear();
        if (admitNew_) {
            const double now = scale_.nextWeight();   // weight of one use at step t
            for (uint32_t u : tier0.newUnits()) {
                f_[u] = now;
                if (room == 0) {
                    if (res_.empty()) continue;
                    evict(popLeast(), out);
                    ++room;
                }
                --room;
                in_.admit(u, out);
                arrived_.push_back(u);
            }
        }
        // Misses of t-1, most frequent first (a heap: the loop usually stops early).
        auto less = [this](uint32_t a, uint32_t b) { return f_[a] < f_[b] || (f_[a] == f_[b] && a < b); };
        std::make_heap(misses_.begin(), misses_.end(), less);
        for (auto end = misses_.end(); end != misses_.begin(); --end) {
            std::pop_heap(misses_.begin(), end, less);
            const uint32_t u = *(end - 1);
            if (room == 0) {
                if (res_.empty() || f_[u] < f_[lowest()]) break;   // bypass
                evict(popLeast(), out);
                ++room;
            }
            --room;
            in_.promote(u, out);
            arrived_.push_back(u);
        }
        misses_.clear();
        for (uint32_t u : arrived_) res_.push(u, f_[u]);
    }

    void observe(const StepObservation& obs) override
    {
        scale_.advance();
        const double w = scale_.weight();
        for (uint32_t u : obs.read_units) {
            f_[u] += w;   // a resident's heap key is a lower bound, raised when it surfaces
            if (!in_.contains(u)) misses_.push_back(u);
        }
        if (const double k = scale_.renormalise(); k != 1.0) {
            for (double& v : f_) v *= k;
            res_.scaleKeys(k);
        }
    }

private:
    uint32_t lowest() { return kit::topLazy(res_, [this](uint32_t u) { return f_[u]; }); }
    uint32_t popLeast()
    {
        lowest();
        return res_.pop();
    }
    void evict(uint32_t u, StepPlan& out) { in_.evict(u, out); }

    int64_t cap_;
    bool admitNew_;
    kit::DecayScale scale_;
    std::vector<double> f_;    // frequency * scale_.weight()
    kit::ResidentSet in_;
    kit::IndexedHeap<kit::LowKeyLowId> res_;   // residents by (frequency lower bound, id)
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
