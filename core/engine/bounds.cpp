#include "core/engine/bounds.hpp"

#include "core/engine/expert_placement.hpp"
#include "core/engine/split.hpp"
#include "core/support/parallel.hpp"

#include <tbb/blocked_range.h>

#include <algorithm>
#include <limits>

namespace kvtier {

std::vector<double> kvCapacityBytes(const TimingConfig& c)
{
    const auto& tiers = c.hardware.tiers;
    const std::vector<double> w = residentWeightBytes(c, placeExperts(c));
    std::vector<double> cap(tiers.size());
    for (size_t m = 0; m < tiers.size(); ++m)
        cap[m] = tiers[m].capacity_bytes - tiers[m].reserve_bytes - w[m];
    return cap;
}

std::vector<double> movableCapacityBytes(const TimingConfig& c)
{
    const auto& tiers = c.hardware.tiers;
    const std::vector<double> w = residentWeightBytes(c, ExpertPlacement{});
    std::vector<double> cap(tiers.size());
    for (size_t m = 0; m < tiers.size(); ++m)
        cap[m] = tiers[m].capacity_bytes - tiers[m].reserve_bytes - w[m];
    return cap;
}

namespace {

BoundResult emptyBound(const char* name, const UnitLayout& lay, const TimingConfig& c)
{
    BoundResult r;
    r.name = name;
    r.steps = lay.steps;
    r.batch = c.batch;
    r.step_time.assign(static_cast<size_t>(lay.steps), 0.0);
    r.fast_share.assign(static_cast<size_t>(lay.steps), 0.0);
    return r;
}

void sumBound(BoundResult& r)
{
    r.total_time = 0;
    for (double x : r.step_time) r.total_time += x;
}

// The bound of the steps `sel` holds (all, or a window), into r's per-step arrays.
template <class PerSlot>
void boundSteps(const Selection& sel, const TimingConfig& c, const JobControl& job, BoundResult& r, PerSlot perSlot)
{
    const UnitLayout& lay = sel.layout;
    // With experts every model layer is its own problem (its active experts differ).
    const bool experts = c.model.experts > 0;
    if (experts && sel.experts) checkExpertsMatch(*sel.experts, c.model, "trace expert sets");
    const int32_t layerRuns = experts ? c.model.layers : lay.slot_count;
    const double layerFactor = lay.slot_count == 1 && !experts ? static_cast<double>(c.model.layers) : 1.0;
    const double bytesPerToken = c.model.kv_bytes_per_token_layer * static_cast<double>(c.batch);
    parallelFor(tbb::blocked_range<int64_t>(sel.first_step, sel.endStep(), 64), [&](const tbb::blocked_range<int64_t>& range) {
        job.check();
        for (int64_t t = range.begin(); t != range.end(); ++t) {
            double time = 0, fast = 0, all = 0;
            for (int32_t l = 0; l < layerRuns; ++l) {
                const double kv = bytesPerToken * static_cast<double>(sel.read_tokens[sel.row(t, lay.slot_count == 1 ? 0 : l)]);
                const double x = activeExpertBytes(sel.experts.get(), c.model, t, l);
                const double v = experts ? kv + x : kv;
                double fastBytes = 0;
                time += layerFactor * std::max(perSlot(v, x, fastBytes), c.compute_floor_s);
                fast += fastBytes;
                all += v;
            }
            r.step_time[static_cast<size_t>(t)] = time;
            r.fast_share[static_cast<size_t>(t)] = all > 0 ? fast / all : 0;
        }
    }, job);
}

// Balanced bound of one layer-step: the read volume (experts' part) -> time, and the bytes
// tier 0 serves.
auto balancedPerSlot(const TimingConfig& c, bool aggregated)
{
    const auto& tiers = c.hardware.tiers;
    const size_t M = tiers.size();
    const std::vector<double> w = weightBytesPerLayer(c);
    // Experts are movable like KV (MODEL.md §9): the capacity left after the dense weights.
    const std::vector<double> full = movableCapacityBytes(c);
    std::vector<double> cap = full;
    // In an aggregated trace a unit holds all layers: a layer-step can read at most 1/L of it.
    if (aggregated)
        for (double& x : cap) x /= c.model.layers;
    const double writeBytes = c.model.kv_bytes_per_token_layer * static_cast<double>(c.batch);
    return [tiers, M, w, full, cap, aggregated, writeBytes](double volume, double expertVolume, double& fastBytes) {
        std::vector<TierLoad> load(M);
        std::vector<double> share, bestShare;
        // Aggregated with experts: a tier serves at most 1/L of its capacity as KV plus the
        // layer's own active experts, never more than its capacity (docs/BOUNDS.md).
        std::vector<double> layerCap;
        if (aggregated && expertVolume > 0) {
            layerCap.resize(M);
            for (size_t m = 0; m < M; ++m)
                layerCap[m] = std::min(full[m], cap[m] + std::min(expertVolume, std::max(0.0, full[m])));
        }
        const std::vector<double>& capNow = layerCap.empty() ? cap : layerCap;
        double best = std::numeric_limits<double>::infinity();
        for (size_t wt = 0; wt < M; ++wt) {
            for (size_t m = 0; m < M; ++m) load[m] = {w[m], m == wt ? writeBytes : 0.0};
            const double tau = splitReads(tiers, load, capNow, volume, share);
            if (tau < best) {
                best = tau;
                bestShare = share;
            }
        }
        fastBytes = bestShare.empty() ? 0 : bestShare[0];
        return best;
    };
}

// The paper's bound of one layer-step.
auto paperPerSlot(const TimingConfig& c)
{
    double aggregate = 0;
    for (const Tier& t : c.hardware.tiers) aggregate += std::min(t.bandwidth, t.link_read);
    const double weightsPerLayer = c.model.denseWeightBytes() / c.model.layers;
    const double fastShare = std::min(c.hardware.tiers[0].bandwidth, c.hardware.tiers[0].link_read) / aggregate;
    return [aggregate, weightsPerLayer, fastShare](double volume, double, double& fastBytes) {
        fastBytes = fastShare * volume;
        return (weightsPerLayer + volume) / aggregate;
    };
}

} // namespace

BoundResult balancedBound(const Selection& selection, const TimingConfig& c, const JobControl& job)
{
    BoundResult r = emptyBound("balanced", selection.layout, c);
    boundSteps(selection, c, job, r, balancedPerSlot(c, selection.layout.slot_count == 1));
    sumBound(r);
    return r;
}

BoundResult paperBound(const Selection& selection, const TimingConfig& c, const JobControl& job)
{
    BoundResult r = emptyBound("paper", selection.layout, c);
    boundSteps(selection, c, job, r, paperPerSlot(c));
    sumBound(r);
    return r;
}

BoundStream::BoundStream(const UnitLayout& layout, const TimingConfig& config)
    : config_(config), balanced_(emptyBound("balanced", layout, config)), paper_(emptyBound("paper", layout, config))
{
}

void BoundStream::add(const Selection& window, const JobControl& job)
{
    boundSteps(window, config_, job, balanced_, balancedPerSlot(config_, window.layout.slot_count == 1));
    job.check();
    boundSteps(window, config_, job, paper_, paperPerSlot(config_));
    job.check();
}

double BoundStream::balancedTime(int64_t first, int64_t end) const
{
    double sum = 0;
    for (int64_t t = first; t < end; ++t) sum += balanced_.step_time[static_cast<size_t>(t)];
    return sum;
}

BoundResult BoundStream::finishBalanced()
{
    sumBound(balanced_);
    return std::move(balanced_);
}

BoundResult BoundStream::finishPaper()
{
    sumBound(paper_);
    return std::move(paper_);
}

} // namespace kvtier
