#include "core/engine/schedule_repair.hpp"

#include <algorithm>
#include <limits>

namespace kvtier {

TierZeroSchedule repairToCapacity(const ScheduleProblem& p, const std::vector<uint8_t>& relaxed)
{
    const UnitLayout& lay = p.layout;
    const int64_t T = lay.steps;
    TierZeroSchedule s(p.units, T);
    const int64_t cap = std::max<int64_t>(0, p.capacity_units[0]);
    std::vector<uint8_t> inFast(static_cast<size_t>(p.units), 0);
    std::vector<size_t> nextRead(p.reads.offset.begin(), p.reads.offset.end() - 1);
    int64_t count = 0;
    // Exclusive: what the lower tiers cannot hold must be in tier 0.
    int64_t lower = 0;
    for (size_t m = 1; m < p.capacity_units.size(); ++m) lower += std::max<int64_t>(0, p.capacity_units[m]);
    // Step of u's first read after step t (a large value when none).
    auto nextUse = [&](uint32_t u, int64_t t) {
        size_t& i = nextRead[u];
        const size_t end = p.reads.offset[u + 1];
        while (i < end && p.reads.items[i].t <= t) ++i;
        return i < end ? static_cast<int64_t>(p.reads.items[i].t) : std::numeric_limits<int64_t>::max();
    };
    struct Cand {
        int64_t next;
        uint8_t stays;   // already in tier 0: moving it costs traffic, so it wins ties
        uint32_t u;
    };
    std::vector<Cand> pool;
    std::vector<uint32_t> adds;
    for (int64_t t = -1; t < T; ++t) {
        const int64_t exist = lay.unitsBefore(t + 1);
        adds.clear();
        for (int64_t i = 0; i < exist; ++i) {
            const auto u = static_cast<uint32_t>(i);
            const bool want = relaxed[s.index(u, t)] != 0;
            if (inFast[u] && !want) {
                inFast[u] = 0;
                --count;
            } else if (!inFast[u] && want) {
                adds.push_back(u);
            }
        }
        if (count + static_cast<int64_t>(adds.size()) <= cap) {
            for (uint32_t u : adds) inFast[u] = 1;
            count += static_cast<int64_t>(adds.size());
        } else {
            pool.clear();
            for (int64_t i = 0; i < exist; ++i)
                if (inFast[static_cast<size_t>(i)]) pool.push_back({nextUse(static_cast<uint32_t>(i), t), 1, static_cast<uint32_t>(i)});
            for (uint32_t u : adds) pool.push_back({nextUse(u, t), 0, u});
            auto better = [](const Cand& a, const Cand& b) {
                if (a.next != b.next) return a.next < b.next;
                if (a.stays != b.stays) return a.stays > b.stays;
                return a.u < b.u;
            };
            const auto keep = static_cast<size_t>(cap);
            std::nth_element(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(keep), pool.end(), better);
            for (size_t k = 0; k < pool.size(); ++k) inFast[pool[k].u] = k < keep ? 1 : 0;
            count = static_cast<int64_t>(keep);
        }
        if (const int64_t need = exist - lower; count < need) {
            pool.clear();
            for (int64_t i = 0; i < exist; ++i)
                if (!inFast[static_cast<size_t>(i)]) pool.push_back({nextUse(static_cast<uint32_t>(i), t), 0, static_cast<uint32_t>(i)});
            const auto add = static_cast<size_t>(need - count);
            std::nth_element(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(add - 1), pool.end(),
                             [](const Cand& a, const Cand& b) { return a.next != b.next ? a.next < b.next : a.u < b.u; });
            for (size_t k = 0; k < add; ++k) inFast[pool[k].u] = 1;
            count = need;
        }
        for (int64_t i = 0; i < exist; ++i)
            if (inFast[static_cast<size_t>(i)]) s.set(static_cast<uint32_t>(i), t, true);
    }
    return s;
}

} // namespace kvtier
