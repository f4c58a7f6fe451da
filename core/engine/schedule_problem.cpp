#include "core/engine/schedule_problem.hpp"

#include "core/engine/timing.hpp"
#include "core/model/error.hpp"

#include <algorithm>

namespace kvtier {

double ScheduleProblem::rowTime(const int64_t* kvRead, const int64_t* migRead, const int64_t* write,
                                const int64_t* migWrite) const
{
    double tau = 0;
    for (int32_t m = 0; m < tiers; ++m) {
        const auto i = static_cast<size_t>(m);
        const double r = weights[i] + bytes_per_token * static_cast<double>(kvRead[m]) +
                         bytes_per_token * static_cast<double>(migRead[m]);
        const double w = bytes_per_token * static_cast<double>(write[m]) + bytes_per_token * static_cast<double>(migWrite[m]);
        tau = std::max(tau, tierTime(tier[i], r, w));
    }
    return layer_factor * std::max(tau, floor_s);
}

void checkScheduleProblem(const TimingConfig& c, const std::vector<int64_t>& cap)
{
    const size_t tiers = c.hardware.tiers.size();
    if (tiers < 1 || tiers > 16 || cap.size() != tiers)
        throw InputError("hardware.tiers", "needs between 1 and 16 tiers, each with a capacity");
    // The schedule problem has no expert reads or expert capacity (docs/BOUNDS.md): refused
    // rather than a "bound" that is not one.
    if (c.model.experts > 0)
        throw InputError("bounds.migration_aware",
                         "not computed for a model with experts (E = " + std::to_string(c.model.experts) +
                             " per layer): the migration-aware bound and the annealed schedule model KV "
                             "and dense weights only; turn them off or use a dense model");
}

namespace {

ScheduleProblem buildProblem(const Selection& sel, const TimingConfig& c, const std::vector<int64_t>& cap, bool window)
{
    ScheduleProblem p;
    p.layout = sel.layout;
    const UnitLayout& lay = sel.layout;
    checkScheduleProblem(c, cap);
    p.tiers = static_cast<int32_t>(c.hardware.tiers.size());
    p.first_step = window ? sel.first_step : 0;
    p.end_step = window ? sel.endStep() : lay.steps;
    const int64_t F = p.first_step, E = p.end_step;
    p.units = lay.unitsBefore(E);
    if (!window && p.units * (lay.steps + 1) > kMaxScheduleCells)
        throw InputError("bounds.migration_aware",
                         "the trace has " + std::to_string(p.units) + " units x " + std::to_string(lay.steps + 1) +
                             " steps; the migration-aware bound handles at most " +
                             std::to_string(kMaxScheduleCells) + " (use larger pages: selection.page_tokens)");
    p.tier = c.hardware.tiers;
    p.capacity_units = cap;
    p.weights = weightBytesPerLayer(c);
    p.bytes_per_token = c.model.kv_bytes_per_token_layer * static_cast<double>(c.batch);
    p.layer_factor = lay.slot_count == 1 ? static_cast<double>(c.model.layers) : 1.0;
    p.floor_s = c.compute_floor_s;

    p.created.assign(static_cast<size_t>(p.units), static_cast<int32_t>(F - 1));
    for (int64_t t = F; t < E; ++t)
        for (int64_t u = lay.unitsBefore(t); u < lay.unitsBefore(t + 1); ++u)
            p.created[static_cast<size_t>(u)] = static_cast<int32_t>(t);

    // Read events per unit: count, then fill (steps ascend, so every row is sorted).
    std::vector<size_t> count(static_cast<size_t>(p.units) + 1, 0);
    for (int64_t t = F; t < E; ++t)
        for (uint32_t u : sel.step_units.row(sel.stepRow(t))) count[u + 1]++;
    for (size_t u = 0; u < static_cast<size_t>(p.units); ++u) count[u + 1] += count[u];
    p.reads.offset = count;
    p.reads.items.resize(count.back());
    std::vector<size_t> fill(count.begin(), count.end() - 1);
    for (int64_t t = F; t < E; ++t)
        for (uint32_t u : sel.step_units.row(sel.stepRow(t)))
            p.reads.items[fill[u]++] = {static_cast<int32_t>(t), static_cast<int32_t>(lay.unitTokens(u, t))};
    return p;
}

} // namespace

ScheduleProblem makeScheduleProblem(const Selection& sel, const TimingConfig& c, const std::vector<int64_t>& cap)
{
    return buildProblem(sel, c, cap, false);
}

ScheduleProblem makeWindowScheduleProblem(const Selection& window, const TimingConfig& c, const std::vector<int64_t>& cap)
{
    return buildProblem(window, c, cap, true);
}

} // namespace kvtier
