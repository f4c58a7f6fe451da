// Belady / OPT (oracle). docs/POLICIES.md "belady".
//
// next(u, t) = the first step >= t that reads u (infinity if none). At step t, the units
// step t reads that are not in tier 0 are taken in ascending order of their next use
// *after* t (ties: lower id), i.e. most valuable first. Each is promoted if tier 0 has room;
// otherwise let v be the resident with the furthest next(v, t) (ties: highest id); u is
// promoted and v evicted only if u's next use is strictly sooner than next(v, t), else u is
// read where it is (bypass) and so are the remaining misses. Two variants, by what counts as
// u's next use:
//   bypass (default, REFERENCE.md's "OPT with bypass"): its next use *after* t. A unit is
//     fetched into tier 0 only if it will be needed again before some resident is; the
//     misses come in ascending next use, so once one fails the rest fail too.
//   max-hits: t itself. Every read unit is promoted unless every resident is read at t, so
//     each step serves min(reads, capacity) of its reads from tier 0: the fewest misses any
//     placement can have, bought with migrations a unit read once does not repay.
// Then the units step t creates: admitted if there is room, or if their first use is strictly
// sooner than the furthest resident next use (evicting it). Initial placement: the prefill
// units with the soonest first use (ties: lower id).
//
// The future (future_reads.hpp): each read's next read and each unit's first read, from one
// backward pass over the whole selection's read units, O(total reads), or from a streamed
// analysis's spill file, read ahead one chunk at a time.
// Cost per step: O((reads + moves) log capacity) with an indexed heap of residents.
#include "core/policies/future_reads.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <span>

namespace kvtier {

namespace {

// Values of the `variant` parameter (indices into its choices).
constexpr double kBypass = 0;
constexpr double kMaxHits = 1;

class Belady final : public Policy {
    static constexpr int32_t kNever = std::numeric_limits<int32_t>::max();

public:
    Belady(const PolicyContext& ctx, bool maxHits)
        : future_(futureOf(ctx, owned_, "belady")), cap_(std::max<int64_t>(0, ctx.fast_capacity_units)),
          maxHits_(maxHits)
    {
        const auto total = static_cast<size_t>(ctx.layout.totalUnits());
        const std::vector<uint32_t>& first = future_.firstReads();
        nu_.resize(total);
        for (size_t u = 0; u < total; ++u) nu_[u] = step32(first[u]);
        in_.reset(total);
        res_.reset(total);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        const int64_t k = std::min({prefillUnits, capacity, cap_});
        if (k <= 0) return;
        std::vector<uint32_t> all(static_cast<size_t>(prefillUnits));
        for (size_t u = 0; u < all.size(); ++u) all[u] = static_cast<uint32_t>(u);
        auto sooner = [this](uint32_t a, uint32_t b) { return nu_[a] < nu_[b] || (nu_[a] == nu_[b] && a < b); };
        std::nth_element(all.begin(), all.begin() + (k - 1), all.end(), sooner);
        all.resize(static_cast<size_t>(k));
        std::sort(all.begin(), all.end());
        for (uint32_t u : all) {
            fast.push_back(u);
            in_.seed(u);
            res_.push(u, nu_[u]);
        }
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        future_.advance(t);
        const std::span<const uint32_t> reads = future_.reads(t);
        const std::span<const uint32_t> next = future_.nextReads(t);   // kNever sorts last
        int64_t room = cap_ - tier0.count();

        misses_.clear();
        for (size_t k = 0; k < reads.size(); ++k)
            if (!in_.contains(reads[k])) misses_.push_back(k);
        // Most valuable first; a heap, since the loop often stops early.
        auto later = [&next](size_t a, size_t b) { return next[a] > next[b] || (next[a] == next[b] && a > b); };
        std::make_heap(misses_.begin(), misses_.end(), later);
        for (auto last = misses_.end(); last != misses_.begin(); --last) {
            std::pop_heap(misses_.begin(), last, later);
            const size_t k = *(last - 1);
            const uint32_t u = reads[k];
            const int64_t use = maxHits_ ? t : step32(next[k]);   // u's next use being compared
            if (room == 0) {
                // bypass: the misses come in ascending next use, so once one fails the rest fail
                // too. max-hits: stops once every resident is read at t.
                if (res_.empty() || nu_[res_.top()] <= use) break;
                evict(res_.pop(), out);
                ++room;
            }
            --room;
            in_.promote(u, out);
            res_.push(u, nu_[u]);   // next use t: never the furthest while a resident is not read at t
        }
        for (uint32_t u : tier0.newUnits()) {
            if (room == 0) {
                if (res_.empty() || nu_[res_.top()] <= nu_[u]) continue;
                evict(res_.pop(), out);
                ++room;
            }
            --room;
            in_.admit(u, out);
        }
        for (uint32_t u : out.admit_new) res_.push(u, nu_[u]);   // not evictable before they exist
        // Step t's reads are done: their next use moves past t.
        for (size_t k = 0; k < reads.size(); ++k) {
            const uint32_t u = reads[k];
            nu_[u] = step32(next[k]);
            if (in_.contains(u)) res_.set(u, nu_[u]);
        }
    }

private:
    void evict(uint32_t u, StepPlan& out) { in_.evict(u, out); }
    static int32_t step32(uint32_t step) { return step == FutureReads::kNever ? kNever : static_cast<int32_t>(step); }

    std::unique_ptr<FutureReads> owned_;   // built from the whole selection, when not given one
    FutureReads& future_;
    int64_t cap_;
    bool maxHits_;
    std::vector<int32_t> nu_;          // per unit: first step >= the current one that reads it
    kit::ResidentSet in_;
    kit::IndexedHeap<kit::HighKeyHighId> res_;   // residents by next use, furthest on top
    std::vector<size_t> misses_;              // indices into the step's reads
};

} // namespace

PolicyEntry beladyPolicy()
{
    return {{"belady", "Belady / OPT (oracle)",
             "Knows every future read. bypass (default): a unit read from a slower tier is promoted only "
             "if it is needed again sooner than the resident needed furthest in the future, which is "
             "evicted; otherwise it is read where it is. max-hits: every read unit is promoted unless "
             "every resident is read now. New units enter HBM only if needed sooner than some resident.",
             false,
             {{"variant", "Variant", ParamSpec::Type::Choice, 0, 1, kBypass,
               "bypass: promote a missed unit only if its next use after this step comes before some "
               "resident's (OPT with bypass, fewest fetches); max-hits: promote it unless every resident "
               "is read now (fewest misses, more migration).",
               {"bypass", "max-hits"}}}},
            [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<Belady>(ctx, p.at("variant") == kMaxHits);
            }};
}

} // namespace kvtier
