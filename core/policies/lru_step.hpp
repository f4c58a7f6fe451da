#pragma once
// One step of the LRU rule, shared by lru, lru-fair, lru-demand and hisparse.
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"
#include "core/policies/recency_lists.hpp"

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace kvtier::kit {

// One step of the LRU rule (docs/POLICIES.md "lru") for the residents on list `l`: they
// become the `capacity` units with the highest keys (last step used, id) among themselves,
// the units created at the last step (`lastNew`, ascending) and the units read at it
// (`reads`, ascending), plus the highest-id units created now (`fresh`, ascending), which
// are admitted and become the new `lastNew`. Misses are promoted, the least recent evicted;
// every move goes through `res` into `out`. `kept` is scratch. Used by lru, lru-demand (one
// list per sequence) and hisparse (no new units). O(last step's units + moves), in order
// through memory (RecencyLists).
template <class ListId>
void lruStep(ResidentSet& res, RecencyLists<ListId>& lists, ListId l, int64_t capacity,
             std::span<const uint32_t> fresh, std::vector<uint32_t>& lastNew, std::span<const uint32_t> reads,
             std::vector<uint32_t>& kept, StepPlan& out)
{
    const size_t k = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(fresh.size()), capacity));
    int64_t budget = capacity - static_cast<int64_t>(k);   // places left for units used at t-1 and older
    // Units used at t-1, most recent first: the units created at t-1 (ids above every unit
    // read at t-1), then the units read at t-1 by descending id.
    kept.clear();
    const auto consider = [&](uint32_t u) {
        if (budget > 0) {
            kept.push_back(u);
            --budget;
            lists.withdraw(l, u);   // joins the newest group below
        } else if (res.contains(u)) {
            lists.withdraw(l, u);
            res.evict(u, out);
        }
    };
    for (size_t i = lastNew.size(); i-- > 0;) consider(lastNew[i]);
    for (size_t i = reads.size(); i-- > 0;) consider(reads[i]);
    // Older residents: keep the most recent ones that still fit.
    while (static_cast<int64_t>(lists.size(l)) > budget) res.evict(lists.popOldest(l), out);
    lists.beginGroup(l);
    for (size_t i = kept.size(); i-- > 0;) {   // ascending key: the most recent pushed last
        const uint32_t u = kept[i];
        if (!res.contains(u)) res.promote(u, out);   // a miss of step t-1
        lists.pushNewest(l, u);
    }
    lastNew.clear();
    for (size_t j = fresh.size() - k; j < fresh.size(); ++j) {   // the k highest ids
        const uint32_t u = fresh[j];
        res.admit(u, out);
        lists.pushNewest(l, u);
        lastNew.push_back(u);
    }
    lists.tidy(l);
}

} // namespace kvtier::kit
