// LRU over read units (online). docs/POLICIES.md "lru".
//
// Recency key of a unit: (last step it was used, unit id); "used" = read at that step or
// created at that step. Units used at the same step are ordered by id (higher id = more
// recent), which is what a sequential LRU sees when a step reads its units in ascending
// order. Tier 0 holds the `capacity` units with the highest keys among the units it held,
// the units step t-1 read and the units step t creates.
//
// Admission on miss: migration is charged in the step it happens (MODEL.md §5), so a unit
// that step t-1 read from a slow tier (a miss) is promoted at step t; its read at t-1 was
// already served from where it was.
//
// Cost per step: O(reads of t-1 + moves) with one intrusive list of residents.
#include "core/policies/lru_step.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>

namespace kvtier {

namespace {

class Lru final : public Policy {
public:
    explicit Lru(const PolicyContext& ctx) : cap_(std::max<int64_t>(0, ctx.fast_capacity_units))
    {
        const auto total = static_cast<size_t>(ctx.layout.totalUnits());
        res_.reset(total);
        list_.reset(total);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, std::min(capacity, cap_), fast);
        for (uint32_t u : fast) {   // ascending: the highest id ends up most recent
            res_.seed(u);
            list_.pushNewest(0, u);
        }
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        kit::lruStep<uint8_t>(res_, list_, 0, cap_, tier0.newUnits(), lastNew_, reads_, kept_, out);
        reads_.clear();
    }

    void observe(const StepObservation& obs) override { reads_.assign(obs.read_units.begin(), obs.read_units.end()); }

private:
    int64_t cap_;
    kit::ResidentSet res_;            // tier 0
    kit::RecencyLists<uint8_t> list_;   // residents, oldest first
    std::vector<uint32_t> reads_;     // read at the last observed step, ascending
    std::vector<uint32_t> lastNew_;   // created (and admitted) at the last planned step, ascending
    std::vector<uint32_t> kept_;
};

} // namespace

PolicyEntry lruPolicy()
{
    return {{"lru", "LRU",
             "Keeps the most recently read units in HBM: a unit read from a slower tier at step t-1 is "
             "promoted at step t, evicting the least recently read resident; new units enter HBM as just used.",
             true, {}},
            [](const PolicyContext& ctx, const PolicyParams&) -> std::unique_ptr<Policy> {
                return std::make_unique<Lru>(ctx);
            }};
}

} // namespace kvtier

namespace kvtier {

// LRU with tier 0 split equally among a batch's sequences (MODEL.md §8): the same rule per
// sequence, on floor(C / S) units each (policy_per_sequence.hpp), so a long request
// cannot evict another's KV. On one sequence it is LRU.
PolicyEntry lruFairPolicy()
{
    return {{"lru-fair", "LRU, fair share",
             "LRU within each sequence of a batch, each on an equal share of HBM (a global LRU lets a request "
             "that reads much evict the others' KV). On one sequence it is LRU.",
             true, {}, true, "lru"},
            [](const PolicyContext& ctx, const PolicyParams&) -> std::unique_ptr<Policy> {
                return std::make_unique<Lru>(ctx);
            }};
}

} // namespace kvtier
