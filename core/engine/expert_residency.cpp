#include "core/engine/expert_residency.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <set>
#include <utility>

namespace kvtier {

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

class Simulation {
public:
    Simulation(const ExpertPlacement& p, const ExpertSets* sets, const TimingConfig& c, int64_t steps,
               ExpertResidency& r)
        : p_(p), sets_(sets && !sets->empty() ? sets : nullptr), T_(steps), E_(p.experts),
          N_(static_cast<int32_t>(static_cast<int64_t>(p.layers) * p.experts)), eb_(c.model.expert_bytes),
          tier_(p.tier), r_(r)
    {
    }

    // The active experts of step t, ascending id u = l * E + e.
    const std::vector<int32_t>& active(int64_t t)
    {
        active_.clear();
        for (int32_t l = 0; l < p_.layers; ++l)
            for (uint16_t e : sets_->ids(t, l)) active_.push_back(l * E_ + e);
        return active_;
    }

    // Tier 0 holds exactly the experts with inFast[u]; the others fill the lower tiers' slots
    // (as many per tier as the initial placement gave it) in ascending id.
    void arrange(const std::vector<char>& inFast)
    {
        std::vector<int64_t> slots(static_cast<size_t>(r_.tiers), 0);
        for (int32_t m : p_.tier) ++slots[static_cast<size_t>(m)];
        size_t m = 1;
        for (int32_t u = 0; u < N_; ++u) {
            if (inFast[static_cast<size_t>(u)]) {
                tier_[static_cast<size_t>(u)] = 0;
                continue;
            }
            while (slots[m] == 0) ++m;
            --slots[m];
            tier_[static_cast<size_t>(u)] = static_cast<int32_t>(m);
        }
        r_.initial = tier_;   // the oracles' own start, before any move
    }

    // x (not in tier 0) comes into tier 0; y (in tier 0) takes x's slot. Charged at step t,
    // each half to its own expert's layer.
    void swap(int64_t t, int32_t x, int32_t y)
    {
        const int32_t a = tier_[static_cast<size_t>(x)];
        move(t, x, a, 0);
        move(t, y, 0, a);
    }

    // Step t's reads, from where the experts live after the step's moves; returns the misses.
    void read(int64_t t, const std::vector<int32_t>& act, std::vector<int32_t>& misses)
    {
        misses.clear();
        for (int32_t u : act) {
            const int32_t m = tier_[static_cast<size_t>(u)];
            r_.read[r_.index(t, u / E_, m)] += eb_;
            ++r_.reads;
            r_.read_bytes += eb_;
            if (m == 0) r_.read_fast_bytes += eb_;
            else {
                ++r_.misses;
                misses.push_back(u);
            }
        }
    }

    int32_t at(int32_t u) const { return tier_[static_cast<size_t>(u)]; }
    int32_t count() const { return N_; }
    int64_t steps() const { return T_; }
    bool hasSets() const { return sets_ != nullptr; }

private:
    void move(int64_t t, int32_t u, int32_t from, int32_t to)
    {
        const int32_t l = u / E_;
        r_.mig_read[r_.index(t, l, from)] += eb_;
        r_.mig_write[r_.index(t, l, to)] += eb_;
        r_.migrated_bytes += eb_;
        r_.moves.push_back({t, l, u % E_, from, to});
        tier_[static_cast<size_t>(u)] = to;
    }

    const ExpertPlacement& p_;
    const ExpertSets* sets_;
    int64_t T_;
    int32_t E_, N_;
    double eb_;
    std::vector<int32_t> tier_;
    ExpertResidency& r_;
    std::vector<int32_t> active_;
};

// LRU: tier 0 becomes the `budget` experts with the highest keys (last step read, resident
// at the start of the step, lower id) among its residents and the misses of t-1.
void runLru(Simulation& s, const JobControl& job)
{
    std::vector<int64_t> last(static_cast<size_t>(s.count()), -1);
    std::set<std::pair<int64_t, int32_t>> residents;   // (last use, -id): begin() is evicted first
    for (int32_t u = 0; u < s.count(); ++u)
        if (s.at(u) == 0) residents.insert({-1, -u});
    std::vector<int32_t> misses, prev;
    for (int64_t t = 0; t < s.steps(); ++t) {
        if (t % 256 == 0) job.check();
        for (int32_t x : prev) {   // ascending id
            if (residents.empty() || residents.begin()->first >= t - 1) break;
            const int32_t y = -residents.begin()->second;
            residents.erase(residents.begin());
            s.swap(t, x, y);
            residents.insert({t - 1, -x});
        }
        const std::vector<int32_t>& act = s.active(t);
        s.read(t, act, misses);
        for (int32_t u : act) {
            if (s.at(u) == 0) {
                residents.erase({last[static_cast<size_t>(u)], -u});
                residents.insert({t, -u});
            }
            last[static_cast<size_t>(u)] = t;
        }
        prev.swap(misses);
    }
}

// LFU: frequency = steps read before t. Misses of t-1, most frequent first (ties: lower id),
// each promoted while its frequency is strictly above the least frequent resident's (ties:
// lower id evicted first); the first that is not ends the step. Arrivals of step t stay.
void runLfu(Simulation& s, const JobControl& job)
{
    std::vector<int64_t> freq(static_cast<size_t>(s.count()), 0);
    std::set<std::pair<int64_t, int32_t>> residents;   // (frequency, id)
    for (int32_t u = 0; u < s.count(); ++u)
        if (s.at(u) == 0) residents.insert({0, u});
    std::vector<int32_t> misses, prev, arrived;
    for (int64_t t = 0; t < s.steps(); ++t) {
        if (t % 256 == 0) job.check();
        std::stable_sort(prev.begin(), prev.end(), [&](int32_t a, int32_t b) {
            return freq[static_cast<size_t>(a)] > freq[static_cast<size_t>(b)];
        });
        arrived.clear();
        for (int32_t x : prev) {
            if (residents.empty() || freq[static_cast<size_t>(x)] <= residents.begin()->first) break;
            const int32_t y = residents.begin()->second;
            residents.erase(residents.begin());
            s.swap(t, x, y);
            arrived.push_back(x);
        }
        for (int32_t x : arrived) residents.insert({freq[static_cast<size_t>(x)], x});
        const std::vector<int32_t>& act = s.active(t);
        s.read(t, act, misses);
        for (int32_t u : act) {
            int64_t& f = freq[static_cast<size_t>(u)];
            if (s.at(u) == 0) {
                residents.erase({f, u});
                residents.insert({f + 1, u});
            }
            ++f;
        }
        prev.swap(misses);
    }
}

// Frequency oracle (and joint, at its own budget): the `budget` experts read at the most
// steps of the whole run (ties: lower id) live in tier 0 from the start; nothing moves.
void runFrequencyOracle(Simulation& s, int64_t budget, const JobControl& job)
{
    std::vector<int64_t> freq(static_cast<size_t>(s.count()), 0);
    for (int64_t t = 0; t < s.steps(); ++t) {
        if (t % 256 == 0) job.check();
        for (int32_t u : s.active(t)) ++freq[static_cast<size_t>(u)];
    }
    std::vector<int32_t> order(static_cast<size_t>(s.count()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return freq[static_cast<size_t>(a)] > freq[static_cast<size_t>(b)];
    });
    std::vector<char> inFast(static_cast<size_t>(s.count()), 0);
    for (int64_t i = 0; i < budget; ++i) inFast[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;
    s.arrange(inFast);
    std::vector<int32_t> misses;
    for (int64_t t = 0; t < s.steps(); ++t) s.read(t, s.active(t), misses);
}

// Belady (max-hits): start with the experts read soonest (ties: lower id). Step t's misses,
// soonest next use after t first (ties: lower id), each swapped with the resident read
// furthest in the future (ties: higher id) while that resident is not read at t.
void runBelady(Simulation& s, int64_t budget, const JobControl& job)
{
    const auto N = static_cast<size_t>(s.count());
    std::vector<std::vector<int64_t>> uses(N);
    for (int64_t t = 0; t < s.steps(); ++t) {
        if (t % 256 == 0) job.check();
        for (int32_t u : s.active(t)) uses[static_cast<size_t>(u)].push_back(t);
    }
    std::vector<size_t> next(N, 0);   // index into uses[u] of its first use >= the current step
    auto nextUse = [&](int32_t u, size_t skip) {
        const auto& v = uses[static_cast<size_t>(u)];
        const size_t i = next[static_cast<size_t>(u)] + skip;
        return i < v.size() ? v[i] : kNever;
    };
    std::vector<int32_t> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return nextUse(a, 0) < nextUse(b, 0); });
    std::vector<char> inFast(N, 0);
    for (int64_t i = 0; i < budget; ++i) inFast[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;
    s.arrange(inFast);
    std::set<std::pair<int64_t, int32_t>> residents;   // (next use >= t, id): rbegin() is evicted first
    for (int32_t u = 0; u < s.count(); ++u)
        if (s.at(u) == 0) residents.insert({nextUse(u, 0), u});
    std::vector<int32_t> misses, wanted;
    for (int64_t t = 0; t < s.steps(); ++t) {
        if (t % 256 == 0) job.check();
        const std::vector<int32_t> act = s.active(t);
        wanted.clear();
        for (int32_t u : act)
            if (s.at(u) != 0) wanted.push_back(u);
        std::stable_sort(wanted.begin(), wanted.end(), [&](int32_t a, int32_t b) { return nextUse(a, 1) < nextUse(b, 1); });
        for (int32_t x : wanted) {
            if (residents.empty() || residents.rbegin()->first <= t) break;
            const int32_t y = residents.rbegin()->second;
            residents.erase(std::prev(residents.end()));
            s.swap(t, x, y);
            residents.insert({t, x});
        }
        s.read(t, act, misses);
        for (int32_t u : act) {
            const bool resident = s.at(u) == 0;
            if (resident) residents.erase({nextUse(u, 0), u});
            ++next[static_cast<size_t>(u)];
            if (resident) residents.insert({nextUse(u, 0), u});
        }
    }
}

} // namespace

ExpertResidency simulateExpertResidency(const ExpertPlacement& p, const ExpertSets* sets, const TimingConfig& c,
                                        int64_t steps, const JobControl& job)
{
    ExpertResidency r;
    r.tiers = static_cast<int32_t>(c.hardware.tiers.size());
    r.layers = p.layers;
    r.steps = steps;
    r.initial = p.tier;
    if (p.experts == 0) return r;
    const size_t cells = static_cast<size_t>(steps) * static_cast<size_t>(p.layers) * static_cast<size_t>(r.tiers);
    r.read.assign(cells, 0.0);
    r.mig_read.assign(cells, 0.0);
    r.mig_write.assign(cells, 0.0);
    Simulation s(p, sets, c, steps, r);
    // Without expert sets every expert is read every step: by each policy's rules nothing
    // ever moves (every resident is as recent, as frequent, as soon needed as any other
    // expert, and the ties keep the residents), and the oracles' first choice is the
    // initial placement's (all tie, lower ids first). So the initial placement is read.
    const bool moving = p.dynamic && s.hasSets() && p.budget > 0 && p.budget < s.count();
    if (moving) {
        switch (c.experts.policy) {
        case ExpertPolicy::Lru: runLru(s, job); break;
        case ExpertPolicy::Lfu: runLfu(s, job); break;
        // joint: the frequency oracle's rule at the budget its ranking chose.
        case ExpertPolicy::FrequencyOracle:
        case ExpertPolicy::Joint: runFrequencyOracle(s, p.budget, job); break;
        case ExpertPolicy::Belady: runBelady(s, p.budget, job); break;
        case ExpertPolicy::Static: break;
        }
        return r;
    }
    std::vector<int32_t> misses;
    if (s.hasSets()) {
        for (int64_t t = 0; t < steps; ++t) {
            if (t % 256 == 0) job.check();
            s.read(t, s.active(t), misses);
        }
        return r;
    }
    // Every expert every step: one step's reads, repeated.
    std::vector<int32_t> all(static_cast<size_t>(s.count()));
    std::iota(all.begin(), all.end(), 0);
    for (int64_t t = 0; t < steps; ++t) {
        if (t % 256 == 0) job.check();
        s.read(t, all, misses);
    }
    return r;
}

} // namespace kvtier
