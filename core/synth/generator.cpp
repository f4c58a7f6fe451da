#include "core/synth/generator.hpp"

#include "core/model/error.hpp"
#include "core/support/parallel.hpp"
#include "core/synth/generator_random.hpp"

#include <nlohmann/json.hpp>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>

namespace kvtier {

// The plan and the records. The parameters, their checks and the presets are in
// generator_params.cpp; the random streams in generator_random.hpp.

using nlohmann::json;
using namespace synth;

// ---------------------------------------------------------------------------------
// The plan: everything drawn once per trace and sequence, before the records.
namespace {

using HeavyDraw = std::vector<std::vector<std::pair<uint32_t, double>>>;   // per slot: (token, raw weight)

// `count` heavy hitters from `pool` for each layer slot, from the streams of `seed`: a
// fraction heavy_shared (per-layer traces) common to all slots, the rest per slot.
HeavyDraw drawHeavy(const GeneratorParams& p, const std::vector<uint32_t>& pool, size_t count, int32_t slots,
                    uint64_t seed)
{
    count = std::min(count, pool.size());
    const size_t shared = slots == 1 ? count : static_cast<size_t>(std::llround(p.heavy_shared * static_cast<double>(count)));
    Rng sharedRng(streamKey(seed, kHeavyShared, 0, 0));
    const std::vector<uint32_t> core = sampleDistinct(pool, shared, sharedRng);
    std::vector<double> coreWeight;
    for (size_t i = 0; i < core.size(); ++i) coreWeight.push_back(std::exp(p.heavy_sigma * sharedRng.normal()));
    std::vector<uint32_t> rest;
    std::set_difference(pool.begin(), pool.end(), core.begin(), core.end(), std::back_inserter(rest));
    HeavyDraw out;
    for (int32_t s = 0; s < slots; ++s) {
        Rng rng(streamKey(seed, kHeavyOwn, static_cast<uint64_t>(s), 0));
        const std::vector<uint32_t> own = sampleDistinct(rest, count - core.size(), rng);
        std::vector<std::pair<uint32_t, double>> all;
        for (size_t i = 0; i < core.size(); ++i) all.emplace_back(core[i], coreWeight[i]);
        for (uint32_t tok : own) all.emplace_back(tok, std::exp(p.heavy_sigma * rng.normal()));
        out.push_back(std::move(all));
    }
    return out;
}

std::vector<uint32_t> tokenRange(int64_t from, int64_t to)
{
    std::vector<uint32_t> v;
    for (int64_t i = from; i < to; ++i) v.push_back(static_cast<uint32_t>(i));
    return v;
}

uint64_t sharedPrefixSeed(uint64_t seed) { return streamKey(seed, kSharedPrefix, 0, 0); }

} // namespace

std::vector<int64_t> sequencePrefills(const GeneratorParams& p)
{
    validate(p);
    std::vector<int64_t> out;
    const auto spread = static_cast<int64_t>(std::floor(p.prefill_spread * static_cast<double>(p.prefill)));
    for (int32_t s = 0; s < p.sequences; ++s) {
        if (spread == 0) {
            out.push_back(p.prefill);
            continue;
        }
        Rng rng(streamKey(p.seed, kPrefill, static_cast<uint64_t>(s), 0));
        out.push_back(p.prefill - rng.between(0, spread));
    }
    return out;
}

namespace {

// The plan of sequence `sequence`, whose prefill is `prefill` (params validated): the
// one-sequence generator with the sequence's own seed and prefill.
GeneratorPlan planOf(const GeneratorParams& params, int32_t sequence, int64_t prefill)
{
    GeneratorParams p = params;
    p.seed = sequenceSeed(params.seed, sequence);
    p.prefill = prefill;
    const int64_t N = params.shared_prefix;
    const uint64_t prefixSeed = sharedPrefixSeed(params.seed);

    GeneratorPlan plan;
    plan.prefill = p.prefill;
    const int32_t slots = p.per_layer ? p.layers : 1;

    {   // Bursts, in start order.
        Rng rng(streamKey(p.seed, kBursts, 0, 0));
        const auto lo = std::max<int64_t>(1, std::llround(p.burst_span / 2));
        const auto hi = std::max<int64_t>(lo, std::llround(p.burst_span * 1.5));
        for (int64_t t = 0; t < p.steps && p.burst_rate > 0; ++t) {
            const int k = rng.poisson(p.burst_rate);
            for (int b = 0; b < k; ++b) {
                const int64_t len = rng.between(lo, hi);
                const int64_t dur = rng.geometric(p.burst_duration);
                const double where = rng.uniform();
                const int64_t latestStart = p.prefill + t - p.burst_min_age - len;
                if (latestStart < 0) continue;   // no span that old yet
                Burst burst;
                burst.start_step = t;
                burst.end_step = std::min(p.steps, t + dur);
                burst.first_token = static_cast<uint32_t>(std::min<int64_t>(
                    latestStart, static_cast<int64_t>(where * static_cast<double>(latestStart + 1))));
                burst.length = static_cast<uint32_t>(len);
                plan.bursts.push_back(burst);
            }
        }
    }
    {   // Focus path: a reflected random walk with drift.
        Rng rng(streamKey(p.seed, kFocus, 0, 0));
        plan.focus_centre.resize(static_cast<size_t>(p.steps));
        double c = p.focus_start * static_cast<double>(p.prefill - 1);
        for (int64_t t = 0; t < p.steps; ++t) {
            const double hiPos = static_cast<double>(p.prefill + t - 1);
            if (t > 0) c += p.focus_speed + p.focus_jitter * rng.normal();
            for (int guard = 0; guard < 4 && (c < 0 || c > hiPos); ++guard) {
                if (c < 0) c = -c;
                if (c > hiPos) c = 2 * hiPos - c;
            }
            c = std::clamp(c, 0.0, hiPos);
            plan.focus_centre[static_cast<size_t>(t)] = c;
        }
    }
    {   // Heavy hitters: from the prefill after the sinks; per layer, a shared core. With a
        // shared prefix, those inside it are the batch's (drawn once from the prefix seed),
        // the others the sequence's own, from [N, P_s).
        const auto count = static_cast<size_t>(p.heavy_count);
        HeavyDraw draw;
        if (N == 0) {
            const int64_t from = p.prefill > p.sink_tokens ? p.sink_tokens : 0;
            draw = drawHeavy(p, tokenRange(from, p.prefill), count, slots, p.seed);
        } else {
            const int64_t nominalFrom = params.prefill > p.sink_tokens ? p.sink_tokens : 0;
            const int64_t prefixFrom = std::min<int64_t>(p.sink_tokens, N);
            const auto prefixPool = tokenRange(prefixFrom, N);
            const auto inPrefix = std::min(prefixPool.size(), static_cast<size_t>(std::llround(
                static_cast<double>(count) * static_cast<double>(prefixPool.size()) /
                static_cast<double>(params.prefill - nominalFrom))));
            const int64_t from = p.prefill > p.sink_tokens ? p.sink_tokens : 0;
            draw = drawHeavy(p, prefixPool, inPrefix, slots, prefixSeed);
            const HeavyDraw own = drawHeavy(p, tokenRange(std::max(from, N), p.prefill), count - inPrefix, slots, p.seed);
            for (size_t s = 0; s < draw.size(); ++s) draw[s].insert(draw[s].end(), own[s].begin(), own[s].end());
        }
        for (auto& all : draw) {
            std::sort(all.begin(), all.end());
            double sum = 0;
            for (const auto& a : all) sum += a.second;
            std::vector<uint32_t> toks;
            std::vector<double> w, raw;
            for (const auto& a : all) {
                toks.push_back(a.first);
                w.push_back(a.second / sum);
                raw.push_back(a.second);
            }
            plan.heavy.push_back(std::move(toks));
            plan.heavy_weight.push_back(std::move(w));
            plan.heavy_raw.push_back(std::move(raw));
        }
    }
    {   // Static relevance per (layer slot, token); the shared prefix's from the prefix seed.
        const auto maxN = static_cast<size_t>(p.prefill + p.steps);
        const auto prefixEnd = static_cast<size_t>(N);
        plan.static_relevance.resize(static_cast<size_t>(slots));
        for (int32_t s = 0; s < slots; ++s) {
            auto& tbl = plan.static_relevance[static_cast<size_t>(s)];
            tbl.resize(maxN);
            if (p.token_sigma > 0) {
                Rng shared(streamKey(prefixSeed, kStatic, static_cast<uint64_t>(s), 0));
                for (size_t i = 0; i < prefixEnd; ++i) tbl[i] = static_cast<float>(p.token_sigma * shared.normal());
                Rng rng(streamKey(p.seed, kStatic, static_cast<uint64_t>(s), 0));
                for (size_t i = prefixEnd; i < maxN; ++i) tbl[i] = static_cast<float>(p.token_sigma * rng.normal());
                // A sink's weight is structural (position, not content): no static factor.
                for (size_t i = 0; i < static_cast<size_t>(std::max(0, p.sink_tokens)) && i < maxN; ++i) tbl[i] = 0.0f;
            }
        }
    }
    return plan;
}

} // namespace

GeneratorPlan generatorPlan(const GeneratorParams& p, int32_t sequence)
{
    validate(p);
    if (sequence < 0 || sequence >= p.sequences)
        throw InputError("generator", "sequence " + std::to_string(sequence) + " outside 0.." +
                                          std::to_string(p.sequences - 1));
    return planOf(p, sequence, sequencePrefills(p)[static_cast<size_t>(sequence)]);
}

// ---------------------------------------------------------------------------------
// Records.
namespace {

struct Context {
    const GeneratorParams& p;
    std::vector<GeneratorPlan> plans;        // per sequence
    std::vector<uint64_t> seeds;             // per sequence: the seed of its record streams
    std::vector<double> kernel;              // recency weight by distance
    std::vector<double> kernelPrefix;        // kernelPrefix[n] = sum of kernel[0..n-1]
    std::vector<double> sinkWeight;          // unnormalised, by position
    std::vector<double> invTemperature;      // per slot

    explicit Context(const GeneratorParams& params) : p(params)
    {
        const std::vector<int64_t> prefills = sequencePrefills(p);   // validates
        for (int32_t q = 0; q < p.sequences; ++q) {
            plans.push_back(planOf(p, q, prefills[static_cast<size_t>(q)]));
            seeds.push_back(sequenceSeed(p.seed, q));
        }
        const auto maxN = static_cast<size_t>(p.prefill + p.steps);   // P_s <= P
        kernel.resize(maxN);
        kernelPrefix.assign(maxN + 1, 0.0);
        for (size_t d = 0; d < maxN; ++d) {
            const double x = static_cast<double>(d);
            kernel[d] = p.recency_kernel == RecencyKernel::Power ? std::pow(1.0 + x, -p.recency_exponent)
                                                                  : std::exp(-x / p.recency_scale);
            kernelPrefix[d + 1] = kernelPrefix[d] + kernel[d];
        }
        double w = 1.0;
        for (int32_t k = 0; k < p.sink_tokens; ++k, w *= p.sink_decay) sinkWeight.push_back(w);

        const int32_t slots = p.per_layer ? p.layers : 1;
        invTemperature.resize(static_cast<size_t>(slots));
        for (int32_t s = 0; s < slots; ++s) {
            double temp = p.temperature;
            if (p.per_layer) {
                const double f = p.layers > 1 ? static_cast<double>(s) / static_cast<double>(p.layers - 1) : 0.0;
                temp = p.temp_first + (p.temp_last - p.temp_first) * f;
            }
            invTemperature[static_cast<size_t>(s)] = 1.0 / temp;
        }
    }
};

struct Scratch {
    std::vector<double> mix;
    std::vector<uint32_t> order;
};

void drawRecord(const Context& c, int64_t t, int32_t sequence, int32_t slot, Scratch& s, Record& out)
{
    const GeneratorParams& p = c.p;
    const GeneratorPlan& plan = c.plans[static_cast<size_t>(sequence)];
    const auto n = static_cast<size_t>(plan.prefill + t);
    const auto us = static_cast<size_t>(slot);
    std::vector<double>& mix = s.mix;
    mix.assign(n, p.background_share / static_cast<double>(n));

    if (p.recency_share > 0) {
        const double scale = p.recency_share / c.kernelPrefix[n];
        for (size_t i = 0; i < n; ++i) mix[i] += scale * c.kernel[n - 1 - i];
    }
    if (p.sink_share > 0 && !c.sinkWeight.empty()) {
        const size_t k = std::min(n, c.sinkWeight.size());
        double sum = 0;
        for (size_t i = 0; i < k; ++i) sum += c.sinkWeight[i];
        for (size_t i = 0; i < k; ++i) mix[i] += p.sink_share * c.sinkWeight[i] / sum;
    }
    if (p.heavy_share > 0) {
        const auto& toks = plan.heavy[us];
        const auto& w = plan.heavy_weight[us];
        for (size_t i = 0; i < toks.size(); ++i) mix[toks[i]] += p.heavy_share * w[i];
    }
    if (p.burst_share > 0)
        for (const Burst& b : plan.bursts) {
            if (b.start_step > t) break;
            if (t >= b.end_step) continue;
            const double each = p.burst_share / b.length;
            const size_t end = std::min(n, static_cast<size_t>(b.first_token) + b.length);
            for (size_t i = b.first_token; i < end; ++i) mix[i] += each;
        }
    if (p.focus_share > 0) {
        const double centre = plan.focus_centre[static_cast<size_t>(t)];
        const double w = p.focus_width;
        const auto lo = static_cast<size_t>(std::max(0.0, std::floor(centre - 4 * w)));
        const size_t hi = std::min(n - 1, static_cast<size_t>(std::ceil(centre + 4 * w)));
        double sum = 0;
        for (size_t i = lo; i <= hi; ++i) {
            const double z = (static_cast<double>(i) - centre) / w;
            sum += std::exp(-0.5 * z * z);
        }
        const double scale = p.focus_share / sum;
        for (size_t i = lo; i <= hi; ++i) {
            const double z = (static_cast<double>(i) - centre) / w;
            mix[i] += scale * std::exp(-0.5 * z * z);
        }
    }

    // Noise and temperature, in log space; mix becomes the normalised probabilities.
    Rng rng(streamKey(c.seeds[static_cast<size_t>(sequence)], kRecord, static_cast<uint64_t>(t), us));
    const double invT = c.invTemperature[us];
    const float* stat = plan.static_relevance[us].data();
    double top = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
        double l = std::log(mix[i]) + static_cast<double>(stat[i]);
        if (p.noise_sigma > 0) l += p.noise_sigma * rng.normal();
        l *= invT;
        mix[i] = l;
        top = std::max(top, l);
    }
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
        mix[i] = std::exp(mix[i] - top);
        sum += mix[i];
    }
    const double inv = 1.0 / sum;
    for (size_t i = 0; i < n; ++i) mix[i] *= inv;

    out.step = t;
    out.sequence = sequence;
    out.layer = p.per_layer ? slot : -1;
    out.index.clear();
    out.value.clear();
    // Highest score first, ties by lower index (MODEL.md §2).
    auto higher = [&mix](uint32_t a, uint32_t b) { return mix[a] > mix[b] || (mix[a] == mix[b] && a < b); };

    if (p.selection_ratio > 0) {
        const auto want = static_cast<size_t>(std::ceil(p.selection_ratio * static_cast<double>(n) - 1e-9));
        const size_t k = std::clamp<size_t>(want, 1, n);
        s.order.resize(n);
        for (size_t i = 0; i < n; ++i) s.order[i] = static_cast<uint32_t>(i);
        std::nth_element(s.order.begin(), s.order.begin() + static_cast<std::ptrdiff_t>(k - 1), s.order.end(), higher);
        s.order.resize(k);
        std::sort(s.order.begin(), s.order.end());
        out.index.assign(s.order.begin(), s.order.end());
        out.value.assign(k, 1.0f);
        return;
    }
    if (p.keep_top > 0 || p.keep_mass < 1) {
        s.order.resize(n);
        for (size_t i = 0; i < n; ++i) s.order[i] = static_cast<uint32_t>(i);
        size_t k = p.keep_top > 0 ? std::min(n, static_cast<size_t>(p.keep_top)) : n;
        if (p.keep_mass < 1) {
            std::sort(s.order.begin(), s.order.end(), higher);
            const double target = p.keep_mass * (1 - 1e-12);
            double acc = 0;
            size_t m = 0;
            while (m < n && acc < target) acc += mix[s.order[m++]];
            k = std::min(k, m);
        } else if (k < n) {
            std::nth_element(s.order.begin(), s.order.begin() + static_cast<std::ptrdiff_t>(k - 1), s.order.end(), higher);
        }
        s.order.resize(k);
        std::sort(s.order.begin(), s.order.end());
        for (uint32_t i : s.order) {
            const auto v = static_cast<float>(mix[i]);
            if (v > 0) {
                out.index.push_back(i);
                out.value.push_back(v);
            }
        }
        return;
    }
    for (size_t i = 0; i < n; ++i) {
        const auto v = static_cast<float>(mix[i]);
        if (v > 0) {
            out.index.push_back(static_cast<uint32_t>(i));
            out.value.push_back(v);
        }
    }
}

} // namespace

void generate(const GeneratorParams& p, const std::function<void(const Record&)>& sink, const JobControl& job)
{
    const Context ctx(p);
    const int64_t slots = p.per_layer ? p.layers : 1;
    const int64_t perStep = slots * p.sequences;
    const int64_t total = p.steps * perStep;
    // Batches bound memory; records inside a batch are independent and land in
    // fixed positions, so the order the sink sees never depends on scheduling.
    const int64_t batch = std::max<int64_t>(16, 262144 / (p.prefill + p.steps));
    std::vector<Record> records(static_cast<size_t>(std::min(batch, total)));
    tbb::enumerable_thread_specific<Scratch> scratch;
    for (int64_t first = 0; first < total; first += batch) {
        job.check();
        const int64_t count = std::min(batch, total - first);
        parallelFor(tbb::blocked_range<int64_t>(0, count, 1), [&](const tbb::blocked_range<int64_t>& r) {
            Scratch& s = scratch.local();
            for (int64_t k = r.begin(); k < r.end(); ++k) {
                const int64_t id = first + k;
                drawRecord(ctx, id / perStep, static_cast<int32_t>((id % perStep) / slots),
                           static_cast<int32_t>(id % slots), s, records[static_cast<size_t>(k)]);
            }
        }, job);
        for (int64_t k = 0; k < count; ++k) sink(records[static_cast<size_t>(k)]);
        job.report(static_cast<double>(first + count) / static_cast<double>(total));
    }
}

TraceMeta generatorMeta(const GeneratorParams& p)
{
    validate(p);
    TraceMeta m;
    m.name = "synthetic";
    m.description = "synthetic trace (kvtier generator)";
    m.source = "kvtier generator " + generatorParamsToJson(p).dump();
    m.model_name = "synthetic";
    m.head_reduction = "synthetic";
    const std::vector<int64_t> prefills = sequencePrefills(p);
    m.prefill = prefills.front();
    if (p.sequences > 1) m.sequence_prefill = prefills;
    m.steps = p.steps;
    m.layers = p.layers;
    m.layer_mode = p.per_layer ? LayerMode::PerLayer : LayerMode::Aggregated;
    m.kind = p.selection_ratio > 0 ? RecordKind::Selection : RecordKind::Scores;
    std::string notes = "generated (docs/GENERATOR.md)";
    if (p.selection_ratio > 0)
        notes += "; selections of the top " + json(p.selection_ratio).dump() + " of each record's generated scores";
    if (p.keep_top > 0)
        notes += "; only the " + std::to_string(p.keep_top) + " highest scores per record stored";
    if (p.keep_mass < 1)
        notes += "; only the highest scores covering " + json(p.keep_mass).dump() +
                 " of each record's mass stored (records sum to about that)";
    if (p.sequences > 1)
        notes += "; a batch of " + std::to_string(p.sequences) + " sequences, each with its own heavy hitters and drift";
    if (p.shared_prefix > 0)
        notes += "; the first " + std::to_string(p.shared_prefix) + " prompt tokens are a prefix shared by every sequence";
    m.notes = notes;
    return m;
}

Trace generateTrace(const GeneratorParams& p, const std::string& name, const JobControl& job)
{
    TraceMeta meta = generatorMeta(p);
    meta.name = name;
    Trace trace(meta);
    generate(p, [&](const Record& r) { trace.append(r); }, job);
    trace.setExperts(generateExperts(p));
    return trace;
}

} // namespace kvtier
