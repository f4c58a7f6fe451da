#include "core/engine/expert_joint.hpp"

#include "core/engine/expert_placement.hpp"
#include "core/engine/kv_units.hpp"

#include <algorithm>
#include <vector>

namespace kvtier {

namespace {

struct Candidate {
    double score;   // bytes saved per byte of tier 0: the fraction of steps that read it
    bool kv;        // false: an expert (ranked first at equal score)
    int64_t id;     // u = l x E + e, or the KV unit
};

} // namespace

int64_t jointExpertBudget(const Selection& sel, const TimingConfig& c, const JobControl& job)
{
    const int64_t T = sel.layout.steps;
    if (c.model.experts <= 0 || c.hardware.tiers.empty() || T <= 0) return 0;
    const int32_t L = c.model.layers, E = c.model.experts;
    std::vector<Candidate> ranked;
    // Experts: the fraction of the steps that read each.
    const ExpertSets* sets = sel.experts && !sel.experts->empty() ? sel.experts.get() : nullptr;
    const auto N = static_cast<size_t>(L) * static_cast<size_t>(E);
    std::vector<int64_t> reads(N, sets ? 0 : T);
    if (sets) {
        const int32_t layers = std::min(L, sets->layers());
        for (int64_t t = 0; t < std::min(T, sets->steps()); ++t) {
            if (t % 256 == 0) job.check();
            for (int32_t l = 0; l < layers; ++l)
                for (uint16_t e : sets->ids(t, l))
                    if (e < E) ++reads[static_cast<size_t>(l) * static_cast<size_t>(E) + e];
        }
    }
    for (size_t u = 0; u < N; ++u)
        if (reads[u] > 0)
            ranked.push_back({static_cast<double>(reads[u]) / static_cast<double>(T), false, static_cast<int64_t>(u)});
    // KV units: the fraction of the steps they exist in that read them.
    const std::vector<double> kv = unitReadFractions(sel, job);
    for (size_t u = 0; u < kv.size(); ++u)
        if (kv[u] > 0) ranked.push_back({kv[u], true, static_cast<int64_t>(u)});
    job.check();
    std::sort(ranked.begin(), ranked.end(), [](const Candidate& a, const Candidate& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.kv != b.kv) return !a.kv;
        return a.id < b.id;
    });
    job.check();
    const double expertBytes = c.model.expert_bytes;
    const double unitBytes = static_cast<double>(c.batch) * kvUnitBytes(c.model, sel.layout);
    const double smallest = std::min(expertBytes, unitBytes);
    double left = fastTierRoom(c);
    int64_t budget = 0;
    for (const Candidate& x : ranked) {
        if (left < smallest) break;   // nothing more fits
        const double size = x.kv ? unitBytes : expertBytes;
        if (size > left) continue;
        left -= size;
        if (!x.kv) ++budget;
    }
    return budget;
}

TimingConfig resolveExpertBudget(const Selection& sel, TimingConfig c, const JobControl& job)
{
    if (c.experts.policy == ExpertPolicy::Joint && c.model.experts > 0) c.expert_budget = jointExpertBudget(sel, c, job);
    return c;
}

} // namespace kvtier
