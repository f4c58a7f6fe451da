// ARC over read units (online). docs/POLICIES.md "arc".
//
// The cache directory follows Megiddo & Modha (FAST 2003), Figure 4, with c = tier 0
// capacity in units: T1 (seen once recently), T2 (seen at least twice), ghost lists B1/B2
// (recently evicted from T1/T2) and the adaptive target p for |T1|. Requests, in order:
// at step t the units step t-1 read (ascending id; a miss among them is admitted at t since
// migration is charged in the step it happens, MODEL.md §5), then the units step t creates
// (first-time requests, case IV). The step's moves are the net change of T1 ∪ T2: a unit
// admitted and replaced within the same step's requests never moves. Prefill residents
// start in T1 (ascending id, the highest most recent), p = 0.
//
// Cost per step: O(reads of t-1 + new units) list operations. The reads are requested as
// they are observed, the new units in plan(), which then settles the step's net change.
#include "core/policies/policy_arc.hpp"

#include "core/policies/policy.hpp"

#include <algorithm>

namespace kvtier {

ArcLists::ArcLists(size_t ids, int64_t capacity) : c_(std::max<int64_t>(0, capacity))
{
    lists_.reset(ids, 2);   // rings T1 + B1 and T2 + B2
}

void ArcLists::seed(uint32_t x)
{
    lists_.pushHead(T1, x);
    lists_.setMark(x, true);
}

void ArcLists::toT2(uint32_t x)
{
    lists_.unlink(x);
    lists_.pushHead(T2, x);
}

std::vector<uint32_t> ArcLists::contents(List l) const
{
    std::vector<uint32_t> out;
    lists_.forEachFromTail(l, [&out](uint32_t x) { out.push_back(x); });
    return out;
}

// REPLACE(x, p): demote the LRU page of T1 (to B1) or of T2 (to B2).
void ArcLists::replace(bool xInB2)
{
    const auto t1 = static_cast<double>(lists_.size(T1));
    bool fromT1 = lists_.size(T1) >= 1 && ((xInB2 && t1 == p_) || t1 > p_);
    // Not reached while ARC's invariants hold (the cache is full whenever REPLACE runs,
    // so T2 is not empty when T1 is not chosen); kept so a bug never pops an empty list.
    if (!fromT1 && lists_.size(T2) == 0) fromT1 = true;
    if (lists_.size(fromT1 ? T1 : T2) == 0) return;
    changed_.push_back(lists_.demote(fromT1 ? T1 : T2));   // to the head of B1 or B2
}

bool ArcLists::access(uint32_t x)
{
    if (c_ == 0) return false;
    const auto c = static_cast<double>(c_);
    const uint8_t l = lists_.listOf(x);
    if (l == T1 || l == T2) {   // case I: hit
        toT2(x);
        return true;
    }
    const auto b1 = static_cast<double>(lists_.size(B1));
    const auto b2 = static_cast<double>(lists_.size(B2));
    if (l == B1) {   // case II: ghost hit in B1, favour recency
        p_ = std::min(c, p_ + (b1 >= b2 ? 1.0 : b2 / b1));
        replace(false);
        toT2(x);
        changed_.push_back(x);
        return false;
    }
    if (l == B2) {   // case III: ghost hit in B2, favour frequency
        p_ = std::max(0.0, p_ - (b2 >= b1 ? 1.0 : b1 / b2));
        replace(true);
        toT2(x);
        changed_.push_back(x);
        return false;
    }
    // Case IV: a page seen for the first time (or forgotten).
    const size_t l1 = lists_.size(T1) + lists_.size(B1);
    const auto cap = static_cast<size_t>(c_);
    if (l1 == cap) {
        if (lists_.size(T1) < cap) {
            lists_.popOldTail(T1);   // the LRU end of B1
            replace(false);
        } else {
            const uint32_t y = lists_.tail(T1);
            lists_.unlink(y);
            changed_.push_back(y);
        }
    } else {
        const size_t total = l1 + lists_.size(T2) + lists_.size(B2);
        if (total >= cap) {
            if (total == 2 * cap) lists_.popOldTail(T2);   // the LRU end of B2
            replace(false);
        }
    }
    lists_.pushHead(T1, x);
    changed_.push_back(x);
    return false;
}

// Case IV as it runs on most requests of a long trace (units read once, then forgotten): x
// in no list, T1 ∪ B1 full (|T1| + |B1| = c) with neither empty, and REPLACE taking T1's LRU
// page (|T1| > p). Then B1's LRU page leaves, T1's LRU page goes to B1 and x to T1, which
// changes no list's size and not p: the state holds until a request of another case.
bool ArcLists::steady() const
{
    const size_t t1 = lists_.size(T1);
    const auto cap = static_cast<size_t>(c_);
    return t1 >= 1 && t1 < cap && t1 + lists_.size(B1) == cap && static_cast<double>(t1) > p_;
}

// In that state a request is one RingLists::rotate. Its two flips are listed in changed_ as
// access(x) lists them, except a listing that cannot be the id's first since the last settle
// (settle() acts on first listings only): T1's LRU page leaving with its mark clear (it was
// not cached then, so it came in since, and was listed then), x coming in with its mark set
// (it was cached then, so it left since, and was listed then).
void ArcLists::access(std::span<const uint32_t> xs)
{
    bool fast = steady();
    for (uint32_t x : xs) {
        if (fast && lists_.listOf(x) == kNone) {
            const uint32_t y = lists_.rotate(T1, x);
            if (lists_.mark(y)) changed_.push_back(y);
            if (!lists_.mark(x)) changed_.push_back(x);
        } else {
            access(x);
            fast = steady();
        }
    }
}

namespace {

class Arc final : public Policy {
public:
    explicit Arc(const PolicyContext& ctx)
        : arc_(static_cast<size_t>(ctx.layout.totalUnits()), ctx.fast_capacity_units)
    {
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, std::min(capacity, arc_.capacity()), fast);
        for (uint32_t u : fast) arc_.seed(u);
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        // The reads of step t-1 were requested in observe(t-1).
        arc_.access(tier0.newUnits());
        // The net change (tier 0 is ARC's cache as last settled): a unit created this step
        // can only be admitted, as it was in no tier before.
        const auto before = static_cast<uint32_t>(tier0.unitsBefore());
        arc_.settle([&](uint32_t u, bool now) {
            if (u >= before)
                out.admit_new.push_back(u);
            else
                (now ? out.promote : out.evict).push_back(u);
        });
        std::sort(out.admit_new.begin(), out.admit_new.end());
    }

    // Requests the units read at step t in order (ascending id), before step t+1's new units.
    void observe(const StepObservation& obs) override
    {
        arc_.access(obs.read_units);
    }

private:
    ArcLists arc_;   // tier 0 is its cache as last settled
};

} // namespace

PolicyEntry arcPolicy()
{
    return {{"arc", "ARC",
             "Adaptive Replacement Cache over read units: balances recently and frequently read units "
             "in HBM with ghost lists that tune the split; a unit read from a slower tier at step t-1 is "
             "admitted at step t, evicting by ARC's REPLACE rule.",
             true, {}},
            [](const PolicyContext& ctx, const PolicyParams&) -> std::unique_ptr<Policy> {
                return std::make_unique<Arc>(ctx);
            }};
}

} // namespace kvtier
