#include "core/generator.hpp"

#include "core/error.hpp"
#include "core/json_check.hpp"
#include "core/json_text.hpp"
#include "core/parallel.hpp"

#include <nlohmann/json.hpp>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <numbers>
#include <type_traits>

namespace kvtier {

using nlohmann::json;
namespace jc = jsoncheck;

// ---------------------------------------------------------------------------------
// Randomness: splitmix64 to derive independent stream keys, xoshiro256** per stream.
// A stream is keyed by (seed, purpose, a, b), so any record can be drawn alone, in any
// order, on any thread, and come out the same.
namespace {

uint64_t splitmix64(uint64_t& x)
{
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

enum Purpose : uint64_t { kRecord = 1, kBursts = 2, kFocus = 3, kHeavyShared = 4, kHeavyOwn = 5, kStatic = 6 };

uint64_t streamKey(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    uint64_t s = seed;
    uint64_t h = splitmix64(s);
    for (uint64_t part : {purpose, a, b}) {
        s = h ^ (part * 0xD6E8FEB86659FD93ULL);
        h = splitmix64(s);
    }
    return h;
}

class Rng {
public:
    explicit Rng(uint64_t key)
    {
        for (auto& w : s_) w = splitmix64(key);
    }
    uint64_t next()
    {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // [0, 1)
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // (0, 1]
    double uniformPositive() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
    // Integer in [lo, hi].
    int64_t between(int64_t lo, int64_t hi)
    {
        const auto span = static_cast<uint64_t>(hi - lo) + 1;
        return lo + static_cast<int64_t>(next() % span);   // bias < 2^-40 for our spans
    }
    // Standard normal, Box-Muller; the second value of each pair is kept for next time.
    double normal()
    {
        if (hasSpare_) {
            hasSpare_ = false;
            return spare_;
        }
        const double r = std::sqrt(-2.0 * std::log(uniformPositive()));
        const double a = 2.0 * std::numbers::pi * uniform();
        spare_ = r * std::sin(a);
        hasSpare_ = true;
        return r * std::cos(a);
    }
    int poisson(double lambda)
    {
        const double limit = std::exp(-lambda);
        int k = 0;
        double prod = uniform();
        while (prod > limit) {
            ++k;
            prod *= uniform();
        }
        return k;
    }
    // Geometric on {1, 2, ...} with the given mean (>= 1).
    int64_t geometric(double mean)
    {
        if (mean <= 1.0) return 1;
        const double q = 1.0 - 1.0 / mean;
        return 1 + static_cast<int64_t>(std::floor(std::log(uniformPositive()) / std::log(q)));
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
    double spare_ = 0;
    bool hasSpare_ = false;
};

// k distinct values drawn from `pool` (partial Fisher-Yates), ascending.
std::vector<uint32_t> sampleDistinct(std::vector<uint32_t> pool, size_t k, Rng& rng)
{
    k = std::min(k, pool.size());
    for (size_t i = 0; i < k; ++i) {
        const auto j = static_cast<size_t>(rng.between(static_cast<int64_t>(i), static_cast<int64_t>(pool.size()) - 1));
        std::swap(pool[i], pool[j]);
    }
    pool.resize(k);
    std::sort(pool.begin(), pool.end());
    return pool;
}

[[noreturn]] void bad(const std::string& param, const std::string& problem)
{
    throw InputError("generator", param + ": " + problem);
}

} // namespace

// ---------------------------------------------------------------------------------
// Parameters: one table drives JSON in and out, --set and the help text.
namespace {

struct Field {
    GeneratorParamDoc doc;
    std::function<json(const GeneratorParams&)> get;
    std::function<void(GeneratorParams&, const json&, const std::string& where, const std::string& path)> set;
};

template <class T>
Field numberField(const char* name, const char* group, const char* help, T GeneratorParams::*member)
{
    Field f;
    f.doc = {name, group, help};
    f.get = [member](const GeneratorParams& p) { return json(p.*member); };
    f.set = [member](GeneratorParams& p, const json& v, const std::string& where, const std::string& path) {
        if constexpr (std::is_same_v<T, double>) {
            p.*member = jc::number(v, where, path);
        } else if constexpr (std::is_same_v<T, bool>) {
            p.*member = jc::boolean(v, where, path);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
            if (v.is_number_unsigned()) p.*member = v.get<uint64_t>();
            else {
                const int64_t i = jc::integer(v, where, path);
                if (i < 0) jc::fail(where, path, "must be >= 0");
                p.*member = static_cast<uint64_t>(i);
            }
        } else {
            const int64_t i = jc::integer(v, where, path);
            if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
                i > static_cast<int64_t>(std::numeric_limits<T>::max()))
                jc::fail(where, path, "out of range");
            p.*member = static_cast<T>(i);
        }
    };
    return f;
}

const std::vector<Field>& fields()
{
    using P = GeneratorParams;
    static const std::vector<Field> all = [] {
        std::vector<Field> v;
        v.push_back(numberField("seed", "run", "PRNG seed; same seed, same trace, bit for bit", &P::seed));
        v.push_back(numberField("prefill", "run", "P, prompt tokens before the first decode step", &P::prefill));
        v.push_back(numberField("steps", "run", "T, decode steps", &P::steps));
        v.push_back(numberField("layers", "run", "L, model layers", &P::layers));
        v.push_back(numberField("per_layer", "run", "one record per (step, layer) instead of one per step", &P::per_layer));
        v.push_back(numberField("sink_tokens", "sinks", "number of attention-sink tokens at the start", &P::sink_tokens));
        v.push_back(numberField("sink_share", "sinks", "mixture weight of the sinks", &P::sink_share));
        v.push_back(numberField("sink_decay", "sinks", "sink k gets sink_decay^k of sink 0's weight", &P::sink_decay));
        v.push_back(numberField("recency_share", "recency", "mixture weight of the recency kernel", &P::recency_share));
        {
            Field f;
            f.doc = {"recency_kernel", "recency", "power: (1+d)^-exponent, exp: exp(-d/scale); d = distance from newest"};
            f.get = [](const P& p) { return json(p.recency_kernel == RecencyKernel::Power ? "power" : "exp"); };
            f.set = [](P& p, const json& value, const std::string& where, const std::string& path) {
                const std::string s = jc::string(value, where, path);
                if (s == "power") p.recency_kernel = RecencyKernel::Power;
                else if (s == "exp") p.recency_kernel = RecencyKernel::Exponential;
                else jc::fail(where, path, "must be \"power\" or \"exp\", not \"" + s + "\"");
            };
            v.push_back(std::move(f));
        }
        v.push_back(numberField("recency_exponent", "recency", "power-law exponent of the recency kernel", &P::recency_exponent));
        v.push_back(numberField("recency_scale", "recency", "decay length of the exp kernel, tokens", &P::recency_scale));
        v.push_back(numberField("heavy_share", "heavy", "mixture weight of the persistent heavy hitters", &P::heavy_share));
        v.push_back(numberField("heavy_count", "heavy", "number of heavy-hitter tokens (drawn from the prefill)", &P::heavy_count));
        v.push_back(numberField("heavy_sigma", "heavy", "log-normal spread of the heavy hitters' weights", &P::heavy_sigma));
        v.push_back(numberField("heavy_shared", "heavy", "per-layer: fraction of heavy hitters common to all layers", &P::heavy_shared));
        v.push_back(numberField("burst_rate", "bursts", "expected new bursts per step (Poisson)", &P::burst_rate));
        v.push_back(numberField("burst_span", "bursts", "mean burst span, tokens (uniform in [span/2, 3span/2])", &P::burst_span));
        v.push_back(numberField("burst_duration", "bursts", "mean burst duration, steps (geometric)", &P::burst_duration));
        v.push_back(numberField("burst_share", "bursts", "mixture weight of one active burst", &P::burst_share));
        v.push_back(numberField("burst_min_age", "bursts", "a burst span ends at least this many tokens before the newest", &P::burst_min_age));
        v.push_back(numberField("focus_share", "focus", "mixture weight of the drifting retrieval focus", &P::focus_share));
        v.push_back(numberField("focus_width", "focus", "standard deviation of the focus bump, tokens", &P::focus_width));
        v.push_back(numberField("focus_start", "focus", "initial focus centre, fraction of the prefill", &P::focus_start));
        v.push_back(numberField("focus_speed", "focus", "focus drift, tokens per step (may be negative)", &P::focus_speed));
        v.push_back(numberField("focus_jitter", "focus", "random-walk standard deviation of the focus, tokens per step", &P::focus_jitter));
        v.push_back(numberField("background_share", "background", "mixture weight spread uniformly over the context", &P::background_share));
        v.push_back(numberField("temperature", "layers", "aggregated traces: sharpness (< 1 focused, > 1 broad)", &P::temperature));
        v.push_back(numberField("temp_first", "layers", "per-layer traces: temperature of layer 0", &P::temp_first));
        v.push_back(numberField("temp_last", "layers", "per-layer traces: temperature of layer L-1 (linear between)", &P::temp_last));
        v.push_back(numberField("noise_sigma", "noise", "log-normal noise per (step, layer, token)", &P::noise_sigma));
        v.push_back(numberField("token_sigma", "noise", "static log-normal relevance per (layer, token)", &P::token_sigma));
        v.push_back(numberField("keep_top", "output", "keep only the K highest scores per record (0 = all)", &P::keep_top));
        v.push_back(numberField("keep_mass", "output", "keep the fewest highest scores covering this mass (1 = all)", &P::keep_mass));
        v.push_back(numberField("selection_ratio", "output", "> 0: emit selections of the ceil(ratio*n_t) highest scores", &P::selection_ratio));
        return v;
    }();
    return all;
}

} // namespace

const std::vector<GeneratorParamDoc>& generatorParamDocs()
{
    static const std::vector<GeneratorParamDoc> docs = [] {
        std::vector<GeneratorParamDoc> d;
        for (const Field& f : fields()) d.push_back(f.doc);
        return d;
    }();
    return docs;
}

json generatorParamsToJson(const GeneratorParams& p)
{
    json j = json::object();
    for (const Field& f : fields()) j[f.doc.name] = f.get(p);
    return j;
}

GeneratorParams generatorParamsFromJson(const json& j, const std::string& where, GeneratorParams base)
{
    jc::requireObject(j, where, "");
    for (auto it = j.begin(); it != j.end(); ++it) {
        const auto f = std::find_if(fields().begin(), fields().end(),
                                    [&](const Field& x) { return x.doc.name == it.key(); });
        if (f == fields().end())
            jc::fail(where, it.key(), "unknown generator parameter (see kvtier-cli generate --help)");
        f->set(base, it.value(), where, it.key());
    }
    try {
        validate(base);
    } catch (const InputError& e) {
        throw InputError(where, e.problem());
    }
    return base;
}

void applyGeneratorSetting(GeneratorParams& p, const std::string& keyValue)
{
    const auto eq = keyValue.find('=');
    if (eq == std::string::npos || eq == 0)
        throw InputError("--set " + keyValue, "expected key=value");
    const std::string key = keyValue.substr(0, eq);
    const std::string text = keyValue.substr(eq + 1);
    checkJsonText(text, "--set " + key);
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;
    p = generatorParamsFromJson(json{{key, value}}, "--set " + keyValue, p);
}

void validate(const GeneratorParams& p)
{
    if (p.prefill < 1) bad("prefill", "must be >= 1");
    if (p.steps < 1) bad("steps", "must be >= 1");
    if (p.prefill + p.steps > (int64_t{1} << 31)) bad("steps", "prefill + steps must be < 2^31");
    if (p.layers < 1 || p.layers > kMaxLayers) bad("layers", "must be in [1, " + std::to_string(kMaxLayers) + "]");
    auto nonNeg = [](const char* n, double v) {
        if (!(v >= 0) || !std::isfinite(v)) bad(n, "must be >= 0");
    };
    auto pos = [](const char* n, double v) {
        if (!(v > 0) || !std::isfinite(v)) bad(n, "must be > 0");
    };
    auto unit = [](const char* n, double v) {
        if (!(v >= 0 && v <= 1)) bad(n, "must be in [0, 1]");
    };
    if (p.sink_tokens < 0) bad("sink_tokens", "must be >= 0");
    nonNeg("sink_share", p.sink_share);
    if (!(p.sink_decay > 0 && p.sink_decay <= 1)) bad("sink_decay", "must be in (0, 1]");
    nonNeg("recency_share", p.recency_share);
    nonNeg("recency_exponent", p.recency_exponent);
    pos("recency_scale", p.recency_scale);
    nonNeg("heavy_share", p.heavy_share);
    if (p.heavy_count < 0) bad("heavy_count", "must be >= 0");
    nonNeg("heavy_sigma", p.heavy_sigma);
    unit("heavy_shared", p.heavy_shared);
    if (!(p.burst_rate >= 0 && p.burst_rate <= 10)) bad("burst_rate", "must be in [0, 10]");
    if (!(p.burst_span >= 1)) bad("burst_span", "must be >= 1");
    if (!(p.burst_duration >= 1)) bad("burst_duration", "must be >= 1");
    nonNeg("burst_share", p.burst_share);
    if (p.burst_min_age < 0) bad("burst_min_age", "must be >= 0");
    nonNeg("focus_share", p.focus_share);
    pos("focus_width", p.focus_width);
    unit("focus_start", p.focus_start);
    if (!std::isfinite(p.focus_speed)) bad("focus_speed", "must be finite");
    nonNeg("focus_jitter", p.focus_jitter);
    nonNeg("background_share", p.background_share);
    pos("temperature", p.temperature);
    pos("temp_first", p.temp_first);
    pos("temp_last", p.temp_last);
    if (!(p.noise_sigma >= 0 && p.noise_sigma <= 10)) bad("noise_sigma", "must be in [0, 10]");
    if (!(p.token_sigma >= 0 && p.token_sigma <= 10)) bad("token_sigma", "must be in [0, 10]");
    if (p.keep_top < 0) bad("keep_top", "must be >= 0 (0 keeps all)");
    if (!(p.keep_mass > 0 && p.keep_mass <= 1)) bad("keep_mass", "must be in (0, 1] (1 keeps all)");
    unit("selection_ratio", p.selection_ratio);
    if (p.selection_ratio > 0 && (p.keep_top > 0 || p.keep_mass < 1))
        bad("selection_ratio", "selections cannot be combined with keep_top/keep_mass (those thin score records)");
    const bool always = p.background_share > 0 || p.recency_share > 0 || p.focus_share > 0 ||
                        (p.sink_share > 0 && p.sink_tokens > 0) || (p.heavy_share > 0 && p.heavy_count > 0);
    if (!always)
        bad("background_share", "every record needs some relevance outside bursts: make background, recency, "
                                "focus, sink or heavy share > 0");
}

// ---------------------------------------------------------------------------------
// Presets.
namespace {

struct NamedPreset {
    const char* name;
    const char* description;
    void (*apply)(GeneratorParams&);
};

const std::vector<NamedPreset>& presets()
{
    static const std::vector<NamedPreset> all = {
        {"default", "every phenomenon at a moderate level", [](GeneratorParams&) {}},
        {"stable", "stable heavy hitters: a fixed set of prefill tokens dominates, no bursts, little drift",
         [](GeneratorParams& p) {
             p.heavy_share = 0.5;
             p.heavy_count = 96;
             p.heavy_sigma = 0.8;
             p.recency_share = 0.2;
             p.sink_share = 0.12;
             p.focus_share = 0.03;
             p.focus_jitter = 0.5;
             p.burst_rate = 0;
             p.noise_sigma = 0.4;
         }},
        {"drift", "drifting retrieval: a wide focus bump walks steadily through the context",
         [](GeneratorParams& p) {
             p.focus_share = 0.45;
             p.focus_width = 96;
             p.focus_start = 0.02;
             p.focus_speed = 6;
             p.focus_jitter = 2;
             p.heavy_share = 0.08;
             p.recency_share = 0.2;
             p.sink_share = 0.1;
             p.burst_rate = 0;
         }},
        {"bursty", "bursty re-activation: old spans light up for a few steps, then fade",
         [](GeneratorParams& p) {
             p.burst_rate = 0.08;
             p.burst_share = 0.6;
             p.burst_span = 96;
             p.burst_duration = 12;
             p.heavy_share = 0.1;
             p.focus_share = 0.03;
         }},
        {"sinks-recency", "sinks and recency only: what StreamingLLM assumes",
         [](GeneratorParams& p) {
             p.sink_share = 0.3;
             p.recency_share = 0.62;
             p.recency_exponent = 1.3;
             p.background_share = 0.08;
             p.heavy_share = 0;
             p.focus_share = 0;
             p.burst_rate = 0;
             p.token_sigma = 0.2;
         }},
        {"per-layer", "per-layer trace: broad low layers, focused high layers",
         [](GeneratorParams& p) {
             p.per_layer = true;
             p.prefill = 1024;
             p.steps = 128;
             p.layers = 32;
             p.temp_first = 2.0;
             p.temp_last = 0.6;
             p.burst_min_age = 128;
             p.heavy_shared = 0.4;
         }},
    };
    return all;
}

} // namespace

std::vector<std::string> generatorPresetNames()
{
    std::vector<std::string> n;
    for (const auto& p : presets()) n.emplace_back(p.name);
    return n;
}

static const NamedPreset& findPreset(const std::string& name)
{
    for (const auto& p : presets())
        if (name == p.name) return p;
    std::string known;
    for (const auto& p : presets()) known += (known.empty() ? "" : ", ") + std::string(p.name);
    throw InputError("generator", "unknown preset '" + name + "' (known: " + known + ")");
}

GeneratorParams generatorPreset(const std::string& name)
{
    GeneratorParams p;
    findPreset(name).apply(p);
    return p;
}

std::string generatorPresetDescription(const std::string& name) { return findPreset(name).description; }

// ---------------------------------------------------------------------------------
// The plan: everything drawn once per trace, before the records.
GeneratorPlan generatorPlan(const GeneratorParams& p)
{
    validate(p);
    GeneratorPlan plan;
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
    {   // Heavy hitters: from the prefill after the sinks; per layer, a shared core.
        std::vector<uint32_t> pool;
        const int64_t from = p.prefill > p.sink_tokens ? p.sink_tokens : 0;
        for (int64_t i = from; i < p.prefill; ++i) pool.push_back(static_cast<uint32_t>(i));
        const size_t count = std::min(static_cast<size_t>(p.heavy_count), pool.size());
        const size_t shared = slots == 1 ? count : static_cast<size_t>(std::llround(p.heavy_shared * static_cast<double>(count)));
        Rng sharedRng(streamKey(p.seed, kHeavyShared, 0, 0));
        const std::vector<uint32_t> core = sampleDistinct(pool, shared, sharedRng);
        std::vector<double> coreWeight;
        for (size_t i = 0; i < core.size(); ++i) coreWeight.push_back(std::exp(p.heavy_sigma * sharedRng.normal()));
        std::vector<uint32_t> rest;
        std::set_difference(pool.begin(), pool.end(), core.begin(), core.end(), std::back_inserter(rest));
        for (int32_t s = 0; s < slots; ++s) {
            Rng rng(streamKey(p.seed, kHeavyOwn, static_cast<uint64_t>(s), 0));
            const std::vector<uint32_t> own = sampleDistinct(rest, count - core.size(), rng);
            std::vector<std::pair<uint32_t, double>> all;
            for (size_t i = 0; i < core.size(); ++i) all.emplace_back(core[i], coreWeight[i]);
            for (uint32_t tok : own) all.emplace_back(tok, std::exp(p.heavy_sigma * rng.normal()));
            std::sort(all.begin(), all.end());
            double sum = 0;
            for (const auto& a : all) sum += a.second;
            std::vector<uint32_t> toks;
            std::vector<double> w;
            for (const auto& a : all) {
                toks.push_back(a.first);
                w.push_back(a.second / sum);
            }
            plan.heavy.push_back(std::move(toks));
            plan.heavy_weight.push_back(std::move(w));
        }
    }
    return plan;
}

// ---------------------------------------------------------------------------------
// Records.
namespace {

struct Context {
    const GeneratorParams& p;
    GeneratorPlan plan;
    std::vector<double> kernel;              // recency weight by distance
    std::vector<double> kernelPrefix;        // kernelPrefix[n] = sum of kernel[0..n-1]
    std::vector<double> sinkWeight;          // unnormalised, by position
    std::vector<std::vector<float>> staticLog;   // per slot, per token: token_sigma * N(0,1), 0 for sinks
    std::vector<double> invTemperature;      // per slot

    explicit Context(const GeneratorParams& params) : p(params), plan(generatorPlan(params))
    {
        const auto maxN = static_cast<size_t>(p.prefill + p.steps);
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
        staticLog.resize(static_cast<size_t>(slots));
        invTemperature.resize(static_cast<size_t>(slots));
        for (int32_t s = 0; s < slots; ++s) {
            auto& tbl = staticLog[static_cast<size_t>(s)];
            tbl.resize(maxN);
            if (p.token_sigma > 0) {
                Rng rng(streamKey(p.seed, kStatic, static_cast<uint64_t>(s), 0));
                for (auto& v : tbl) v = static_cast<float>(p.token_sigma * rng.normal());
                // A sink's weight is structural (position, not content): no static factor.
                for (size_t i = 0; i < sinkWeight.size() && i < maxN; ++i) tbl[i] = 0.0f;
            }
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

void drawRecord(const Context& c, int64_t t, int32_t slot, Scratch& s, Record& out)
{
    const GeneratorParams& p = c.p;
    const auto n = static_cast<size_t>(p.prefill + t);
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
        const auto& toks = c.plan.heavy[us];
        const auto& w = c.plan.heavy_weight[us];
        for (size_t i = 0; i < toks.size(); ++i) mix[toks[i]] += p.heavy_share * w[i];
    }
    if (p.burst_share > 0)
        for (const Burst& b : c.plan.bursts) {
            if (b.start_step > t) break;
            if (t >= b.end_step) continue;
            const double each = p.burst_share / b.length;
            const size_t end = std::min(n, static_cast<size_t>(b.first_token) + b.length);
            for (size_t i = b.first_token; i < end; ++i) mix[i] += each;
        }
    if (p.focus_share > 0) {
        const double centre = c.plan.focus_centre[static_cast<size_t>(t)];
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
    Rng rng(streamKey(p.seed, kRecord, static_cast<uint64_t>(t), us));
    const double invT = c.invTemperature[us];
    const float* stat = c.staticLog[us].data();
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
    const int64_t total = p.steps * slots;
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
                drawRecord(ctx, id / slots, static_cast<int32_t>(id % slots), s, records[static_cast<size_t>(k)]);
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
    m.prefill = p.prefill;
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
    m.notes = notes;
    return m;
}

Trace generateTrace(const GeneratorParams& p, const std::string& name, const JobControl& job)
{
    TraceMeta meta = generatorMeta(p);
    meta.name = name;
    Trace trace(meta);
    generate(p, [&](const Record& r) { trace.append(r); }, job);
    return trace;
}

} // namespace kvtier
