#include "core/engine/timing.hpp"

#include "core/engine/expert_placement.hpp"
#include "core/engine/expert_residency.hpp"
#include "core/engine/split.hpp"
#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <tbb/blocked_range.h>

#include <algorithm>
#include <cmath>

namespace kvtier {

std::vector<double> weightBytesPerLayer(const TimingConfig& c)
{
    const size_t M = c.hardware.tiers.size();
    std::vector<double> w(M, 0.0);
    const double perLayer = c.model.denseWeightBytes() / c.model.layers;
    w[0] += c.weights_in_fast_tier * perLayer;
    w[M - 1] += (1 - c.weights_in_fast_tier) * perLayer;
    return w;
}

namespace {

// The KV bytes each tier serves in one slot (row) of one step, after routing: the reads
// of copies kept in several tiers go where the balanced route sends them, or to tier 0.
// computeTiming and slotBytes share it, so the Explain panel's layer is the timed one.
void routedKvRead(const std::vector<Tier>& tiers, const PlacementResult& placement, size_t row,
                  const std::vector<double>& weights, double bytesPerToken, bool balanced, std::vector<TierLoad>& load,
                  std::vector<double>& flex, std::vector<double>& fromFast, double* kvRead)
{
    const auto M = static_cast<int32_t>(tiers.size());
    double flexTotal = 0;
    for (int32_t m = 0; m < M; ++m) {
        const SlotTraffic& st = placement.at(row, m);
        auto& ld = load[static_cast<size_t>(m)];
        ld.read = weights[static_cast<size_t>(m)] + bytesPerToken * (st.kv_read + st.mig_read);
        ld.write = bytesPerToken * (st.write + st.mig_write);
        flex[static_cast<size_t>(m)] = bytesPerToken * st.flex_read;
        flexTotal += flex[static_cast<size_t>(m)];
    }
    if (balanced && flexTotal > 0) routeBalanced(tiers, load, flex, fromFast);
    else fromFast = flex;   // home: every copy in tier 0 serves its reads
    for (int32_t m = 0; m < M; ++m) {
        const SlotTraffic& st = placement.at(row, m);
        kvRead[m] = bytesPerToken * st.kv_read + flex[static_cast<size_t>(m)] - fromFast[static_cast<size_t>(m)];
    }
    for (int32_t m = 1; m < M; ++m) kvRead[0] += fromFast[static_cast<size_t>(m)];
}

} // namespace

SlotBytes slotBytes(const Selection& selection, const PlacementResult& placement, const TimingConfig& config,
                    int64_t t, int32_t slot, int32_t layer)
{
    const auto& tiers = config.hardware.tiers;
    const auto M = static_cast<int32_t>(tiers.size());
    const UnitLayout& lay = selection.layout;
    if (M != placement.tiers || M > 16)
        throw InputError("hardware.tiers", "the placement was computed for " + std::to_string(placement.tiers) + " tiers");
    if (t < 0 || t >= lay.steps || slot < 0 || slot >= lay.slot_count)
        throw InputError("step " + std::to_string(t) + ", layer " + std::to_string(slot),
                         "outside the run (" + std::to_string(lay.steps) + " steps, " + std::to_string(lay.slot_count) + " layer slots)");
    const double bytesPerToken = config.model.kv_bytes_per_token_layer * static_cast<double>(config.batch);
    std::vector<double> weights = weightBytesPerLayer(config);
    const bool balanced = config.route == Route::Balanced && placement.config.inclusive;
    std::vector<TierLoad> load(static_cast<size_t>(M));
    std::vector<double> flex(static_cast<size_t>(M)), fromFast;
    double kvRead[16];
    std::vector<double> expertRead(static_cast<size_t>(M), 0.0), expertMigR(static_cast<size_t>(M), 0.0),
        expertMigW(static_cast<size_t>(M), 0.0);
    if (config.model.experts > 0) {
        const ExpertPlacement ep = placeExperts(config);
        requireExpertsPlaced(ep, config);
        const int32_t l = layer >= 0 ? layer : (lay.slot_count == 1 ? 0 : slot);
        if (l >= config.model.layers) throw InputError("layer " + std::to_string(l), "outside the model's layers");
        if (ep.dynamic) {
            // The residency up to step t decides where the layer's experts are at t.
            const ExpertResidency res = simulateExpertResidency(ep, selection.experts.get(), config, t + 1);
            for (int32_t m = 0; m < M; ++m) {
                const size_t i = res.index(t, l, m);
                expertRead[static_cast<size_t>(m)] = res.read[i];
                expertMigR[static_cast<size_t>(m)] = res.mig_read[i];
                expertMigW[static_cast<size_t>(m)] = res.mig_write[i];
            }
        } else {
            addExpertReads(ep, selection.experts.get(), config.model.expert_bytes, t, l, expertRead.data());
        }
        for (int32_t m = 0; m < M; ++m) weights[static_cast<size_t>(m)] += expertRead[static_cast<size_t>(m)];
    }
    const size_t row = selection.row(t, slot);
    routedKvRead(tiers, placement, row, weights, bytesPerToken, balanced, load, flex, fromFast, kvRead);
    SlotBytes b;
    for (int32_t m = 0; m < M; ++m) {
        const SlotTraffic& st = placement.at(row, m);
        const auto mi = static_cast<size_t>(m);
        b.read.push_back(weights[mi] + kvRead[m] + bytesPerToken * st.mig_read + expertMigR[mi]);
        b.write.push_back(bytesPerToken * st.write + bytesPerToken * st.mig_write + expertMigW[mi]);
    }
    b.expert_read = std::move(expertRead);
    b.expert_mig_read = std::move(expertMigR);
    b.expert_mig_write = std::move(expertMigW);
    return b;
}

namespace {

// What timing a run needs besides the traffic: computed once per run (a streamed run:
// once for all its windows).
struct TimingSetup {
    const std::vector<Tier>* tiers = nullptr;
    int32_t M = 0, slots = 1, layerRuns = 1;
    bool experts = false, balanced = false, moving = false;
    double layerFactor = 1, bytesPerToken = 0;
    std::vector<double> weights;
    ExpertPlacement ep;
    const ExpertSets* sets = nullptr;
    ExpertResidency res;   // a dynamic expert policy: where every expert is at every step
};

TimingSetup setUpTiming(const UnitLayout& lay, const ExpertSets* sets, const PlacementConfig& placementConfig,
                        int32_t placementTiers, const TimingConfig& config, const JobControl& job)
{
    TimingSetup x;
    x.tiers = &config.hardware.tiers;
    x.M = static_cast<int32_t>(config.hardware.tiers.size());
    if (x.M != placementTiers)
        throw InputError("hardware.tiers", "the placement was computed for " + std::to_string(placementTiers) +
                                               " tiers, the timing has " + std::to_string(x.M));
    x.slots = lay.slot_count;
    // An aggregated trace stands for every layer: one slot, counted L times. With experts
    // the layers differ by where their experts live: each layer is timed on its own.
    x.experts = config.model.experts > 0;
    x.layerRuns = x.experts ? config.model.layers : x.slots;
    if (x.experts && x.slots != 1 && x.slots != config.model.layers)
        throw InputError("model.layers", "the trace has " + std::to_string(x.slots) + " layers, the model " +
                                             std::to_string(config.model.layers));
    x.layerFactor = x.slots == 1 && !x.experts ? static_cast<double>(config.model.layers) : 1.0;
    x.bytesPerToken = config.model.kv_bytes_per_token_layer * static_cast<double>(config.batch);
    x.weights = weightBytesPerLayer(config);
    x.balanced = config.route == Route::Balanced && placementConfig.inclusive;
    x.ep = placeExperts(config);
    requireExpertsPlaced(x.ep, config);
    x.sets = sets;
    if (x.experts && sets) checkExpertsMatch(*sets, config.model, "trace expert sets");
    x.moving = x.experts && x.ep.dynamic;
    if (x.moving) x.res = simulateExpertResidency(x.ep, sets, config, lay.steps, job);
    return x;
}

// An empty result for the run: per-step arrays for all T steps, totals zero.
TimingResult emptyTiming(const TimingSetup& x, const UnitLayout& lay, const TimingConfig& config)
{
    TimingResult r;
    r.experts = x.experts;
    r.expert_sets = x.experts && x.sets != nullptr;
    r.expert_policy = config.experts.policy;
    r.expert_budget = x.ep.budget;
    r.expert_migrated_bytes = x.res.migrated_bytes;
    r.tiers = x.M;
    r.steps = lay.steps;
    r.batch = config.batch;
    r.step_time.assign(static_cast<size_t>(lay.steps), 0.0);
    r.tier_step.assign(static_cast<size_t>(lay.steps * x.M), TierStep{});
    r.tier_totals.resize(static_cast<size_t>(x.M));
    for (int32_t m = 0; m < x.M; ++m) r.tier_totals[static_cast<size_t>(m)].name = (*x.tiers)[static_cast<size_t>(m)].name;
    if (lay.sequences() > 1) r.sequences.assign(static_cast<size_t>(lay.sequences()), SequenceTotals{});
    return r;
}

// Times the steps `selection` holds (all, or a window) from the placement's traffic of
// the same steps: r.step_time[t] and r's tier_step of t, in parallel over steps.
void timeSteps(const TimingSetup& x, const Selection& selection, const PlacementResult& placement,
               const TimingConfig& config, TimingResult& r, const JobControl& job)
{
    const auto& tiers = *x.tiers;
    const int32_t M = x.M;
    parallelFor(tbb::blocked_range<int64_t>(selection.first_step, selection.endStep(), 64),
                [&](const tbb::blocked_range<int64_t>& range) {
        job.check();
        std::vector<TierLoad> load(static_cast<size_t>(M));
        std::vector<double> flex(static_cast<size_t>(M)), fromFast;
        std::vector<double> fixed(x.weights);   // dense weights plus this layer's experts
        for (int64_t t = range.begin(); t != range.end(); ++t) {
            double stepTime = 0;
            TierStep* ts = &r.tier_step[static_cast<size_t>(t * M)];
            for (int32_t l = 0; l < x.layerRuns; ++l) {
                const size_t row = selection.row(t, x.slots == 1 ? 0 : l);
                double expertRead[16] = {}, expertMigR[16] = {}, expertMigW[16] = {};
                if (x.moving) {
                    for (int32_t m = 0; m < M; ++m) {
                        const size_t i = x.res.index(t, l, m);
                        expertRead[m] = x.res.read[i];
                        expertMigR[m] = x.res.mig_read[i];
                        expertMigW[m] = x.res.mig_write[i];
                        fixed[static_cast<size_t>(m)] = x.weights[static_cast<size_t>(m)] + expertRead[m];
                    }
                } else if (x.experts) {
                    addExpertReads(x.ep, x.sets, config.model.expert_bytes, t, l, expertRead);
                    for (int32_t m = 0; m < M; ++m)
                        fixed[static_cast<size_t>(m)] = x.weights[static_cast<size_t>(m)] + expertRead[m];
                }
                double kvRead[16];
                routedKvRead(tiers, placement, row, fixed, x.bytesPerToken, x.balanced, load, flex, fromFast, kvRead);
                double slotTau = 0;
                for (int32_t m = 0; m < M; ++m) {
                    const SlotTraffic& st = placement.at(row, m);
                    TierStep& ty = ts[m];
                    const double w = fixed[static_cast<size_t>(m)];
                    const double migR = x.bytesPerToken * st.mig_read + expertMigR[m];
                    const double migW = x.bytesPerToken * st.mig_write + expertMigW[m];
                    const double kvW = x.bytesPerToken * st.write;
                    const double busy = tierTime(tiers[static_cast<size_t>(m)], w + kvRead[m] + migR, kvW + migW);
                    slotTau = std::max(slotTau, busy);
                    ty.busy_s += x.layerFactor * busy;
                    ty.weight_read += x.layerFactor * x.weights[static_cast<size_t>(m)];
                    ty.expert_read += x.layerFactor * expertRead[m];
                    ty.kv_read += x.layerFactor * kvRead[m];
                    ty.kv_write += x.layerFactor * kvW;
                    ty.mig_read += x.layerFactor * migR;
                    ty.mig_write += x.layerFactor * migW;
                    ty.expert_mig_write += expertMigW[m];
                }
                stepTime += x.layerFactor * std::max(slotTau, config.compute_floor_s);
            }
            r.step_time[static_cast<size_t>(t)] = stepTime;
        }
    }, job);
}

// Adds steps [t0, t1) to the totals in step order (the same sums on any number of threads
// and in any windowing), and a batch's time shares from the placement's books of those
// steps (placement.sequence_step row t - t0: what each sequence moved).
void addToTotals(const TimingSetup& x, const PlacementResult& placement, int64_t t0, int64_t t1, TimingResult& r)
{
    const int32_t M = x.M;
    for (int64_t t = t0; t < t1; ++t) {
        r.total_time += r.step_time[static_cast<size_t>(t)];
        for (int32_t m = 0; m < M; ++m) {
            const TierStep& ty = r.at(t, m);
            TierTotals& tt = r.tier_totals[static_cast<size_t>(m)];
            tt.read_bytes += ty.readBytes();
            tt.write_bytes += ty.writeBytes();
            tt.kv_read_bytes += ty.kv_read;
            tt.expert_read_bytes += ty.expert_read;
            r.expert_read_bytes += ty.expert_read;
            tt.mig_bytes += ty.mig_read + ty.mig_write;
            tt.busy_s += ty.busy_s;
            r.kv_read_bytes += ty.kv_read;
            r.migrated_bytes += x.moving ? ty.mig_write - ty.expert_mig_write : ty.mig_write;
        }
        r.kv_read_fast_bytes += r.at(t, 0).kv_read;
        r.expert_read_fast_bytes += r.at(t, 0).expert_read;
    }
    // A batch (MODEL.md §8): each step's time split in proportion to the KV each sequence
    // moved in it; divided by the total time in finishTiming.
    const int32_t S = placement.sequences;
    if (S <= 1) return;
    for (int64_t t = t0; t < t1; ++t) {
        const double* moved = &placement.sequence_step[static_cast<size_t>(t - t0) * static_cast<size_t>(S)];
        double all = 0;
        for (int32_t s = 0; s < S; ++s) all += moved[s];
        if (!(all > 0)) continue;
        for (int32_t s = 0; s < S; ++s)
            r.sequences[static_cast<size_t>(s)].time_share += r.step_time[static_cast<size_t>(t)] * moved[s] / all;
    }
}

// Once every step is in the totals: the expert residency kept for the view, a batch's
// per-sequence bytes (placement's totals), shares and fractions.
void finishTiming(TimingSetup& x, const PlacementResult& placement, const UnitLayout& lay, const TimingConfig& config,
                  TimingResult& r)
{
    if (x.experts) {
        // Kept for the expert view: the start and the moves; the bytes are in tier_step.
        ExpertResidency kept;
        kept.tiers = x.M;
        kept.layers = x.ep.layers;
        kept.steps = lay.steps;
        kept.initial = x.moving ? std::move(x.res.initial) : x.ep.tier;
        kept.moves = std::move(x.res.moves);
        r.expert_residency = std::make_shared<const ExpertResidency>(std::move(kept));
    }
    const int32_t S = placement.sequences;
    if (S > 1) {
        const auto M = static_cast<size_t>(placement.tiers);
        // Book tokens are per layer slot: an aggregated trace's unit stands for every layer.
        const double perToken = x.bytesPerToken * (lay.slot_count == 1 ? static_cast<double>(config.model.layers) : 1.0);
        for (size_t s = 0; s < static_cast<size_t>(S); ++s) {
            SequenceTotals& q = r.sequences[s];
            for (size_t m = 0; m < M; ++m) q.kv_read_bytes += perToken * placement.sequence_read[s * M + m];
            q.kv_read_fast_bytes = perToken * placement.sequence_read[s * M];
            q.migrated_bytes = perToken * placement.sequence_migrated[s];
            if (r.total_time > 0) q.time_share /= r.total_time;
        }
    }
    for (int32_t m = 0; m < x.M; ++m) {
        TierTotals& tt = r.tier_totals[static_cast<size_t>(m)];
        if (r.total_time > 0) {
            tt.busy_fraction = tt.busy_s / r.total_time;
            tt.bandwidth_use = (tt.read_bytes + tt.write_bytes) / ((*x.tiers)[static_cast<size_t>(m)].bandwidth * r.total_time);
        }
    }
}

} // namespace

TimingResult computeTiming(const Selection& selection, const PlacementResult& placement,
                           const TimingConfig& config, const JobControl& job)
{
    const UnitLayout& lay = selection.layout;
    TimingSetup x = setUpTiming(lay, selection.experts.get(), placement.config, placement.tiers, config, job);
    TimingResult r = emptyTiming(x, lay, config);
    timeSteps(x, selection, placement, config, r, job);
    addToTotals(x, placement, selection.first_step, selection.endStep(), r);
    finishTiming(x, placement, lay, config, r);
    return r;
}

struct TimingStream::Impl {
    TimingConfig config;
    UnitLayout layout;
    TimingSetup setup;
    TimingResult result;
};

TimingStream::TimingStream(const UnitLayout& layout, const ExpertSets* sets, const PlacementResult& placement,
                           const TimingConfig& config, const JobControl& job)
    : d(std::make_unique<Impl>())
{
    d->config = config;
    d->layout = layout;
    d->setup = setUpTiming(layout, sets, placement.config, placement.tiers, config, job);
    d->result = emptyTiming(d->setup, layout, config);
}

TimingStream::~TimingStream() = default;

void TimingStream::add(const Selection& window, const PlacementResult& placement, const JobControl& job)
{
    timeSteps(d->setup, window, placement, d->config, d->result, job);
    job.check();
    addToTotals(d->setup, placement, window.first_step, window.endStep(), d->result);
}

double TimingStream::time(int64_t first, int64_t end) const
{
    double sum = 0;
    for (int64_t t = first; t < end; ++t) sum += d->result.step_time[static_cast<size_t>(t)];
    return sum;
}

TimingResult TimingStream::finish(const PlacementResult& placement)
{
    finishTiming(d->setup, placement, d->layout, d->config, d->result);
    return std::move(d->result);
}

} // namespace kvtier
