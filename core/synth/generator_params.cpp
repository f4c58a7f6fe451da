#include "core/synth/generator.hpp"

#include "core/model/error.hpp"
#include "core/support/json_check.hpp"
#include "core/support/json_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <type_traits>

// The generator's parameters (one table drives JSON in and out, --set and the help text),
// their validation, and the named presets. The plan and the records: generator.cpp.

namespace kvtier {

using nlohmann::json;
namespace jc = jsoncheck;

namespace {

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
        v.push_back(numberField("sequences", "batch", "S, sequences decoded in lock step, each its own heavy hitters and drift", &P::sequences));
        v.push_back(numberField("prefill_spread", "batch", "P_s = P - U{0..floor(spread*P)} per sequence, [0, 1); 0: every P_s = P", &P::prefill_spread));
        v.push_back(numberField("shared_prefix", "batch", "N, first prompt tokens common to all sequences (their heavy hitters, static relevance)", &P::shared_prefix));
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
        v.push_back(numberField("experts", "experts", "E experts per layer to route to (0 = no expert sets)", &P::experts));
        v.push_back(numberField("expert_top_k", "experts", "experts each token is routed to per layer", &P::expert_top_k));
        v.push_back(numberField("expert_tokens", "experts", "tokens routed per step (X[t][l] is their union)", &P::expert_tokens));
        v.push_back(numberField("expert_zipf", "experts", "Zipf exponent over a per-layer ranking of the experts (0 = uniform)", &P::expert_zipf));
        v.push_back(numberField("expert_reuse", "experts", "probability a token keeps its previous step's experts", &P::expert_reuse));
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
    for (const Field& f : fields()) {
        // The expert keys only when routing is on, the batch keys only for a batch: the
        // sources of one-sequence dense traces stay as they were.
        if (p.experts == 0 && f.doc.group == "experts") continue;
        if (f.doc.group == "batch" && p.sequences == 1 && p.prefill_spread == 0 && p.shared_prefix == 0) continue;
        j[f.doc.name] = f.get(p);
    }
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
    if (p.sequences < 1 || p.sequences > kMaxSequences)
        bad("sequences", "must be in [1, " + std::to_string(kMaxSequences) + "]");
    if (!(p.prefill_spread >= 0 && p.prefill_spread < 1)) bad("prefill_spread", "must be in [0, 1)");
    const int64_t shortest = p.prefill - static_cast<int64_t>(std::floor(p.prefill_spread * static_cast<double>(p.prefill)));
    if (p.shared_prefix < 0 || p.shared_prefix > shortest)
        bad("shared_prefix", "must be in [0, " + std::to_string(shortest) +
                                 "] (the shortest prefill, prefill - floor(prefill_spread * prefill))");
    // Each sequence's plan holds a static relevance per (layer slot, token < P_s + T).
    if (static_cast<double>(p.sequences) * (p.per_layer ? p.layers : 1) * static_cast<double>(p.prefill + p.steps) >
        static_cast<double>(int64_t{1} << 28))
        bad("sequences", "sequences x layer slots x (prefill + steps) exceed 2^28 (the plans' static relevance, 1 GiB)");
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
    if (p.experts < 0 || p.experts > kMaxExperts) bad("experts", "must be in [0, " + std::to_string(kMaxExperts) + "]");
    if (p.experts > 0) {
        if (p.expert_top_k < 1 || p.expert_top_k > p.experts) bad("expert_top_k", "must be in [1, experts]");
        if (p.expert_tokens < 1 || p.expert_tokens > 65536) bad("expert_tokens", "must be in [1, 65536]");
        if (!(p.expert_zipf >= 0 && p.expert_zipf <= 10)) bad("expert_zipf", "must be in [0, 10]");
        unit("expert_reuse", p.expert_reuse);
        if (p.steps * p.layers * ((p.experts + 63) / 64) > kMaxExpertWords)
            bad("experts", "steps x layers x experts exceed the expert-set limit");
    }
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

} // namespace kvtier
