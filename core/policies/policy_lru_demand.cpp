// LRU with tier 0 shared among a batch's sequences in proportion to their demand (online).
// docs/POLICIES.md "lru-demand".
//
// Demand of sequence s at step t: the units of s that steps t-W .. t-1 read (W =
// window_steps; a unit read at several steps counts at each). Shares of the C units of tier
// 0 at step t: with no demand at all, equal shares (equalShares, as lru-fair); otherwise
// each sequence with demand gets one unit per layer slot first (when C holds that for all of
// them), and the rest R is split in proportion to demand by largest remainder:
// floor(R * d_s / D), then one more unit to the largest remainders (R * d_s mod D), ties to
// the lower sequence. Sequences without demand get nothing. Within its share each sequence
// runs lru's rule on its own units (policy_lru.cpp): its part of tier 0 becomes the share_s
// units with the highest (last use, id) among its residents, its units read at t-1 and its
// units created at t. A sequence over its share evicts its own least recently used units.
//
// Runs over the batch layout directly (not the per-sequence adapter: shares move every
// step). On one sequence the share is always C and this is lru, step for step.
//
// Cost per step: O(S + reads of t-1 + moves), plus O(a log a) for the a sequences with a
// remainder; one intrusive LRU list per sequence.
#include "core/policies/lru_step.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"
#include "core/policies/policy_per_sequence.hpp"

#include <algorithm>
#include <utility>

namespace kvtier {

namespace {

__extension__ typedef unsigned __int128 Wide;   // R * d_s exactly (R < 2^63, d_s < 2^63)

class LruDemand final : public Policy {
public:
    LruDemand(const PolicyContext& ctx, int64_t window)
        : lay_(ctx.layout), S_(ctx.layout.sequences()), cap_(std::max<int64_t>(0, ctx.fast_capacity_units))
    {
        const auto total = static_cast<size_t>(lay_.totalUnits());
        const auto S = static_cast<size_t>(S_);
        res_.reset(total);
        list_.reset(total, S);
        share_.assign(S, 0);
        demand_.assign(S, 0);
        reads_.resize(S);
        lastNew_.resize(S);
        fresh_.resize(S);
        // One row per step of the window; a window longer than the run never drops a step.
        ring_.resize(static_cast<size_t>(std::max<int64_t>(1, std::min(window, lay_.steps))));
    }

    // Prefill: each sequence's lowest units up to its equal share (no demand is known yet).
    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        const std::vector<int64_t> equal = equalShares(std::min(capacity, cap_), S_);
        std::vector<int64_t> taken(static_cast<size_t>(S_), 0);
        for (int64_t i = 0; i < prefillUnits; ++i) {
            const auto u = static_cast<uint32_t>(i);
            const auto s = static_cast<uint32_t>(lay_.sequenceOf(u));
            if (taken[s] >= equal[s]) continue;
            ++taken[s];
            fast.push_back(u);
            res_.seed(u);
            list_.pushNewest(s, u);   // ascending: the highest id ends up most recent
        }
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        res_.check(tier0, "lru-demand");
        computeShares();
        for (uint32_t u : tier0.newUnits()) fresh_[static_cast<size_t>(lay_.sequenceOf(u))].push_back(u);
        for (uint32_t s = 0; s < static_cast<uint32_t>(S_); ++s) planSequence(s, out);
        for (uint32_t s : readers_) reads_[s].clear();
        readers_.clear();
    }

    void observe(const StepObservation& obs) override
    {
        for (uint32_t u : obs.read_units) {
            const auto s = static_cast<uint32_t>(lay_.sequenceOf(u));
            if (reads_[s].empty()) readers_.push_back(s);
            reads_[s].push_back(u);   // ascending within a sequence too
        }
        // Step t enters the window of step t+1, step t - W leaves it (its row is reused).
        auto& row = ring_[static_cast<size_t>(obs.t) % ring_.size()];
        for (const auto& [s, n] : row) addDemand(s, -n);
        row.clear();
        for (uint32_t s : readers_) {
            const auto n = static_cast<int64_t>(reads_[s].size());
            row.emplace_back(s, n);
            addDemand(s, n);
        }
    }

private:
    void addDemand(uint32_t s, int64_t n)
    {
        const bool had = demand_[s] > 0;
        demand_[s] += n;
        total_ += n;
        active_ += static_cast<int64_t>(demand_[s] > 0) - static_cast<int64_t>(had);
    }

    // share_ for the coming step from the demand of the last W observed steps.
    void computeShares()
    {
        if (total_ == 0) {
            share_ = equalShares(cap_, S_);
            return;
        }
        const int64_t floorUnits = cap_ >= active_ * lay_.slot_count ? lay_.slot_count : 0;
        const int64_t R = cap_ - active_ * floorUnits;
        int64_t left = R;
        rest_.clear();
        for (size_t s = 0; s < share_.size(); ++s) {
            share_[s] = 0;
            if (demand_[s] == 0) continue;
            const Wide prod = static_cast<Wide>(R) * static_cast<Wide>(demand_[s]);
            const auto q = static_cast<int64_t>(prod / static_cast<Wide>(total_));
            const auto r = static_cast<int64_t>(prod % static_cast<Wide>(total_));
            share_[s] = floorUnits + q;
            left -= q;
            if (r > 0) rest_.emplace_back(r, static_cast<uint32_t>(s));
        }
        // The fractional parts sum to `left`, each below 1: more than `left` of them are positive.
        auto larger = [](const std::pair<int64_t, uint32_t>& a, const std::pair<int64_t, uint32_t>& b) {
            return a.first > b.first || (a.first == b.first && a.second < b.second);
        };
        const auto k = static_cast<size_t>(left);
        std::partial_sort(rest_.begin(), rest_.begin() + static_cast<std::ptrdiff_t>(k), rest_.end(), larger);
        for (size_t i = 0; i < k; ++i) ++share_[rest_[i].second];
    }

    // lru's step (policy_lru.cpp) on sequence s's units and its share.
    void planSequence(uint32_t s, StepPlan& out)
    {
        kit::lruStep<uint32_t>(res_, list_, s, share_[s], fresh_[s], lastNew_[s], reads_[s], kept_, out);
        fresh_[s].clear();
    }

    UnitLayout lay_;
    int32_t S_;
    int64_t cap_;
    kit::ResidentSet res_;                            // tier 0
    kit::RecencyLists<uint32_t> list_;                // residents, one list per sequence, oldest first
    std::vector<int64_t> share_;                      // units of tier 0 per sequence this step
    std::vector<int64_t> demand_;                     // reads per sequence over the window
    int64_t total_ = 0, active_ = 0;                  // sum of demand_, sequences with demand > 0
    std::vector<std::vector<std::pair<uint32_t, int64_t>>> ring_;   // per window step: (sequence, reads)
    std::vector<std::vector<uint32_t>> reads_;        // per sequence: read at the last observed step, ascending
    std::vector<uint32_t> readers_;                   // sequences with reads_ not empty
    std::vector<std::vector<uint32_t>> lastNew_;      // per sequence: admitted at the last planned step
    std::vector<std::vector<uint32_t>> fresh_;        // per sequence: created at this step
    std::vector<std::pair<int64_t, uint32_t>> rest_;  // (remainder, sequence) of this step's shares
    std::vector<uint32_t> kept_;
};

} // namespace

PolicyEntry lruDemandPolicy()
{
    return {{"lru-demand", "LRU, demand share",
             "LRU within each sequence of a batch, each on a share of HBM proportional to the units it read over the "
             "last window_steps steps (one page per layer first, if HBM holds that for all). On one sequence it is LRU.",
             true,
             {{"window_steps", "Demand window (steps)", ParamSpec::Type::Int, 1, 1e6, 32,
               "A sequence's demand is the number of its units read over this many past steps."}},
             false, "lru"},
            [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<LruDemand>(ctx, static_cast<int64_t>(p.at("window_steps")));
            }};
}

} // namespace kvtier
