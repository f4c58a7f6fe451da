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

// A batch's per-sequence totals from the placement's books, in bytes (MODEL.md §8).
void addSequenceTotals(const PlacementResult& p, const UnitLayout& lay, double layers, double bytesPerToken,
                       TimingResult& r)
{
    const int32_t S = p.sequences;
    if (S <= 1) return;
    const auto M = static_cast<size_t>(p.tiers);
    // Book tokens are per layer slot: an aggregated trace's unit stands for every layer.
    const double perToken = bytesPerToken * (lay.slot_count == 1 ? layers : 1.0);
    r.sequences.assign(static_cast<size_t>(S), SequenceTotals{});
    for (size_t s = 0; s < static_cast<size_t>(S); ++s) {
        SequenceTotals& q = r.sequences[s];
        for (size_t m = 0; m < M; ++m) q.kv_read_bytes += perToken * p.sequence_read[s * M + m];
        q.kv_read_fast_bytes = perToken * p.sequence_read[s * M];
        q.migrated_bytes = perToken * p.sequence_migrated[s];
    }
    for (int64_t t = 0; t < r.steps; ++t) {
        const double* moved = &p.sequence_step[static_cast<size_t>(t) * static_cast<size_t>(S)];
        double all = 0;
        for (int32_t s = 0; s < S; ++s) all += moved[s];
        if (!(all > 0)) continue;
        for (int32_t s = 0; s < S; ++s)
            r.sequences[static_cast<size_t>(s)].time_share += r.step_time[static_cast<size_t>(t)] * moved[s] / all;
    }
    if (r.total_time > 0)
        for (SequenceTotals& q : r.sequences) q.time_share /= r.total_time;
}

} // namespace

TimingResult computeTiming(const Selection& selection, const PlacementResult& placement,
                           const TimingConfig& config, const JobControl& job)
{
    const auto& tiers = config.hardware.tiers;
    const auto M = static_cast<int32_t>(tiers.size());
    if (M != placement.tiers)
        throw InputError("hardware.tiers", "the placement was computed for " + std::to_string(placement.tiers) +
                                               " tiers, the timing has " + std::to_string(M));
    const UnitLayout& lay = selection.layout;
    const int64_t T = lay.steps;
    const int32_t slots = lay.slot_count;
    // An aggregated trace stands for every layer: one slot, counted L times. With experts
    // the layers differ by where their experts live: each layer is timed on its own.
    const bool experts = config.model.experts > 0;
    const int32_t layerRuns = experts ? config.model.layers : slots;
    if (experts && slots != 1 && slots != config.model.layers)
        throw InputError("model.layers", "the trace has " + std::to_string(slots) + " layers, the model " +
                                             std::to_string(config.model.layers));
    const double layerFactor = slots == 1 && !experts ? static_cast<double>(config.model.layers) : 1.0;
    const double bytesPerToken = config.model.kv_bytes_per_token_layer * static_cast<double>(config.batch);
    const std::vector<double> weights = weightBytesPerLayer(config);
    const bool balanced = config.route == Route::Balanced && placement.config.inclusive;
    const ExpertPlacement ep = placeExperts(config);
    requireExpertsPlaced(ep, config);
    const ExpertSets* sets = selection.experts.get();
    if (experts && sets) checkExpertsMatch(*sets, config.model, "trace expert sets");
    // A dynamic expert policy: where every expert is at every step, and its moves.
    const bool moving = experts && ep.dynamic;
    ExpertResidency res = moving ? simulateExpertResidency(ep, sets, config, T, job) : ExpertResidency{};

    TimingResult r;
    r.experts = experts;
    r.expert_sets = experts && sets != nullptr;
    r.expert_policy = config.experts.policy;
    r.expert_budget = ep.budget;
    r.expert_migrated_bytes = res.migrated_bytes;
    r.tiers = M;
    r.steps = T;
    r.batch = config.batch;
    r.step_time.assign(static_cast<size_t>(T), 0.0);
    r.tier_step.assign(static_cast<size_t>(T * M), TierStep{});

    parallelFor(tbb::blocked_range<int64_t>(0, T, 64), [&](const tbb::blocked_range<int64_t>& range) {
        job.check();
        std::vector<TierLoad> load(static_cast<size_t>(M));
        std::vector<double> flex(static_cast<size_t>(M)), fromFast;
        std::vector<double> fixed(weights);   // dense weights plus this layer's experts
        for (int64_t t = range.begin(); t != range.end(); ++t) {
            double stepTime = 0;
            TierStep* ts = &r.tier_step[static_cast<size_t>(t * M)];
            for (int32_t l = 0; l < layerRuns; ++l) {
                const size_t row = selection.row(t, slots == 1 ? 0 : l);
                double expertRead[16] = {}, expertMigR[16] = {}, expertMigW[16] = {};
                if (moving) {
                    for (int32_t m = 0; m < M; ++m) {
                        const size_t i = res.index(t, l, m);
                        expertRead[m] = res.read[i];
                        expertMigR[m] = res.mig_read[i];
                        expertMigW[m] = res.mig_write[i];
                        fixed[static_cast<size_t>(m)] = weights[static_cast<size_t>(m)] + expertRead[m];
                    }
                } else if (experts) {
                    addExpertReads(ep, sets, config.model.expert_bytes, t, l, expertRead);
                    for (int32_t m = 0; m < M; ++m)
                        fixed[static_cast<size_t>(m)] = weights[static_cast<size_t>(m)] + expertRead[m];
                }
                double kvRead[16];
                routedKvRead(tiers, placement, row, fixed, bytesPerToken, balanced, load, flex, fromFast, kvRead);
                double slotTau = 0;
                for (int32_t m = 0; m < M; ++m) {
                    const SlotTraffic& st = placement.at(row, m);
                    TierStep& x = ts[m];
                    const double w = fixed[static_cast<size_t>(m)];
                    const double migR = bytesPerToken * st.mig_read + expertMigR[m];
                    const double migW = bytesPerToken * st.mig_write + expertMigW[m];
                    const double kvW = bytesPerToken * st.write;
                    const double busy = tierTime(tiers[static_cast<size_t>(m)], w + kvRead[m] + migR, kvW + migW);
                    slotTau = std::max(slotTau, busy);
                    x.busy_s += layerFactor * busy;
                    x.weight_read += layerFactor * weights[static_cast<size_t>(m)];
                    x.expert_read += layerFactor * expertRead[m];
                    x.kv_read += layerFactor * kvRead[m];
                    x.kv_write += layerFactor * kvW;
                    x.mig_read += layerFactor * migR;
                    x.mig_write += layerFactor * migW;
                    x.expert_mig_write += expertMigW[m];
                }
                stepTime += layerFactor * std::max(slotTau, config.compute_floor_s);
            }
            r.step_time[static_cast<size_t>(t)] = stepTime;
        }
    }, job);

    // Totals in a fixed order: the same result on any number of threads.
    r.tier_totals.resize(static_cast<size_t>(M));
    for (int32_t m = 0; m < M; ++m) r.tier_totals[static_cast<size_t>(m)].name = tiers[static_cast<size_t>(m)].name;
    for (int64_t t = 0; t < T; ++t) {
        r.total_time += r.step_time[static_cast<size_t>(t)];
        for (int32_t m = 0; m < M; ++m) {
            const TierStep& x = r.at(t, m);
            TierTotals& tt = r.tier_totals[static_cast<size_t>(m)];
            tt.read_bytes += x.readBytes();
            tt.write_bytes += x.writeBytes();
            tt.kv_read_bytes += x.kv_read;
            tt.expert_read_bytes += x.expert_read;
            r.expert_read_bytes += x.expert_read;
            tt.mig_bytes += x.mig_read + x.mig_write;
            tt.busy_s += x.busy_s;
            r.kv_read_bytes += x.kv_read;
            r.migrated_bytes += moving ? x.mig_write - x.expert_mig_write : x.mig_write;
        }
        r.kv_read_fast_bytes += r.at(t, 0).kv_read;
        r.expert_read_fast_bytes += r.at(t, 0).expert_read;
    }
    if (experts) {
        // Kept for the expert view: the start and the moves; the bytes are in tier_step.
        ExpertResidency kept;
        kept.tiers = M;
        kept.layers = ep.layers;
        kept.steps = T;
        kept.initial = moving ? std::move(res.initial) : ep.tier;
        kept.moves = std::move(res.moves);
        r.expert_residency = std::make_shared<const ExpertResidency>(std::move(kept));
    }
    addSequenceTotals(placement, lay, static_cast<double>(config.model.layers), bytesPerToken, r);
    for (int32_t m = 0; m < M; ++m) {
        TierTotals& tt = r.tier_totals[static_cast<size_t>(m)];
        if (r.total_time > 0) {
            tt.busy_fraction = tt.busy_s / r.total_time;
            tt.bandwidth_use = (tt.read_bytes + tt.write_bytes) / (tiers[static_cast<size_t>(m)].bandwidth * r.total_time);
        }
    }
    return r;
}

} // namespace kvtier
