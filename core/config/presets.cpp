#include "core/config/presets.hpp"

#include "core/config/data_dir.hpp"
#include "core/model/error.hpp"
#include "core/model/trace.hpp"
#include "core/support/json_check.hpp"
#include "core/support/json_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace kvtier {

using nlohmann::json;
namespace jc = jsoncheck;

namespace {

// Bandwidths are divisors of byte counts: bounded below as well as above so that no
// step time becomes infinite.
double bandwidthFrom(const json& v, const std::string& where, const std::string& path)
{
    jc::positive(v, where, path);
    return jc::between(v, where, path, kMinBandwidth, kMaxBandwidth, "B/s");
}

// A link: absent or null means "no link" (infinite), otherwise a bandwidth.
double linkFrom(const json& j, const char* key, const std::string& where, const std::string& path)
{
    if (!jc::present(j, key)) return kNoLink;
    return bandwidthFrom(j.at(key), where, jc::join(path, key));
}

json linkTo(double v) { return std::isinf(v) ? json(nullptr) : json(v); }

int positiveInt(const json& j, const char* key, const std::string& where, const std::string& path)
{
    const std::string p = jc::join(path, key);
    const int64_t v = jc::integer(j.at(key), where, p);
    if (v < 1) jc::fail(where, p, "must be >= 1");
    if (v > 1'000'000) jc::fail(where, p, "must be <= 1000000");
    return static_cast<int>(v);
}

std::string knownIds(const auto& list)
{
    std::string s;
    for (const auto& p : list) s += (s.empty() ? "" : ", ") + p.id;
    return s;
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "cannot open file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool isPresetDir(const std::filesystem::path& dir)
{
    std::error_code ec;
    return std::filesystem::is_regular_file(dir / "hardware.json", ec) &&
           std::filesystem::is_regular_file(dir / "models.json", ec);
}

} // namespace

Tier tierFromJson(const json& j, const std::string& where, const std::string& path)
{
    jc::checkKeys(j, where, path,
                  {"name", "capacity_bytes", "bandwidth", "link_read", "link_write", "reserve_bytes", "source"});
    Tier t;
    t.name = jc::string(jc::require(j, "name", where, path), where, jc::join(path, "name"));
    if (t.name.empty()) jc::fail(where, jc::join(path, "name"), "must not be empty");
    const std::string cp = jc::join(path, "capacity_bytes");
    t.capacity_bytes = jc::positive(jc::require(j, "capacity_bytes", where, path), where, cp);
    t.capacity_bytes = jc::between(j.at("capacity_bytes"), where, cp, 0, kMaxBytes, "(1 EB)");
    t.bandwidth = bandwidthFrom(jc::require(j, "bandwidth", where, path), where, jc::join(path, "bandwidth"));
    t.link_read = linkFrom(j, "link_read", where, path);
    t.link_write = linkFrom(j, "link_write", where, path);
    if (jc::present(j, "reserve_bytes")) {
        jc::nonNegative(j.at("reserve_bytes"), where, jc::join(path, "reserve_bytes"));
        t.reserve_bytes = jc::between(j.at("reserve_bytes"), where, jc::join(path, "reserve_bytes"), 0, kMaxBytes, "(1 EB)");
        if (t.reserve_bytes > t.capacity_bytes)
            jc::fail(where, jc::join(path, "reserve_bytes"), "must not exceed capacity_bytes");
    }
    if (j.contains("source")) jc::string(j.at("source"), where, jc::join(path, "source"));
    return t;
}

Hardware hardwareFromJson(const json& j, const std::string& where, const std::string& path)
{
    jc::checkKeys(j, where, path, {"name", "tiers", "id", "description", "source"});
    Hardware h;
    h.name = j.contains("name") ? jc::string(j.at("name"), where, jc::join(path, "name")) : "custom";
    for (const char* doc : {"id", "description", "source"})
        if (j.contains(doc)) jc::string(j.at(doc), where, jc::join(path, doc));
    const std::string tp = jc::join(path, "tiers");
    const json& tiers = jc::require(j, "tiers", where, path);
    if (!tiers.is_array()) jc::fail(where, tp, std::string("must be an array, not ") + tiers.type_name());
    if (tiers.empty()) jc::fail(where, tp, "must hold at least one tier");
    for (size_t i = 0; i < tiers.size(); ++i)
        h.tiers.push_back(tierFromJson(tiers[i], where, jc::item(tp, i)));
    return h;
}

// MODEL.md §9: `experts` (E per layer) and `expert_bytes` come together; weight_bytes is
// W, all weights, so it must hold the L * E experts. `experts_per_token` (top-k) is
// documentary: the traffic comes from the trace's expert sets.
static void readExperts(const json& j, const std::string& where, const std::string& path, Model& m)
{
    const bool e = j.contains("experts"), b = j.contains("expert_bytes");
    if (j.contains("experts_per_token")) {
        const int k = positiveInt(j, "experts_per_token", where, path);
        if (!e) jc::fail(where, jc::join(path, "experts_per_token"), "given without experts");
        if (k > positiveInt(j, "experts", where, path))
            jc::fail(where, jc::join(path, "experts_per_token"), "must be at most experts");
    }
    if (!e && !b) return;
    if (e != b) jc::fail(where, jc::join(path, e ? "expert_bytes" : "experts"), "missing (experts and expert_bytes come together)");
    const int n = positiveInt(j, "experts", where, path);
    if (n > kMaxExperts) jc::fail(where, jc::join(path, "experts"), "must be <= " + std::to_string(kMaxExperts));
    const std::string bp = jc::join(path, "expert_bytes");
    m.experts = n;
    m.expert_bytes = jc::between(j.at("expert_bytes"), where, bp, 1, kMaxBytes, "(1 EB)");
    const double all = static_cast<double>(m.layers) * n * m.expert_bytes;
    if (all > m.weight_bytes)
        jc::fail(where, jc::join(path, "weight_bytes"),
                 "is " + readableNumber(m.weight_bytes) + " but must include the experts: layers x experts x expert_bytes = " +
                     readableNumber(all));
}

// The model keys plus the documentary size keys; kappa derived or checked.
static Model modelAndShape(const json& j, const std::string& where, const std::string& path,
                           ModelPreset* shape)
{
    jc::checkKeys(j, where, path,
                  {"name", "layers", "kv_bytes_per_token_layer", "weight_bytes", "kv_heads", "head_dim",
                   "dtype_bytes", "kv_latent_dim", "id", "description", "source", "experts", "expert_bytes",
                   "experts_per_token"});
    Model m;
    m.name = j.contains("name") ? jc::string(j.at("name"), where, jc::join(path, "name")) : "custom";
    for (const char* doc : {"id", "description", "source"})
        if (j.contains(doc)) jc::string(j.at(doc), where, jc::join(path, doc));
    jc::require(j, "layers", where, path);
    m.layers = positiveInt(j, "layers", where, path);
    if (m.layers > kMaxLayers)
        jc::fail(where, jc::join(path, "layers"), "must be <= " + std::to_string(kMaxLayers));
    const std::string wp = jc::join(path, "weight_bytes");
    jc::nonNegative(jc::require(j, "weight_bytes", where, path), where, wp);
    m.weight_bytes = jc::between(j.at("weight_bytes"), where, wp, 0, kMaxBytes, "(1 EB)");

    const bool heads = j.contains("kv_heads") || j.contains("head_dim");
    const bool latent = j.contains("kv_latent_dim");
    if (heads && latent)
        jc::fail(where, path.empty() ? "kv_latent_dim" : jc::join(path, "kv_latent_dim"),
                 "give kv_heads and head_dim (K and V caches) or kv_latent_dim (latent cache), not both");
    int kvHeads = 0, headDim = 0, latentDim = 0;
    double dtype = 0;
    double derived = 0;
    std::string formula;
    if (heads || latent) {
        if (!j.contains("dtype_bytes")) jc::fail(where, jc::join(path, "dtype_bytes"), "missing");
        dtype = jc::positive(j.at("dtype_bytes"), where, jc::join(path, "dtype_bytes"));
    } else if (j.contains("dtype_bytes")) {
        dtype = jc::positive(j.at("dtype_bytes"), where, jc::join(path, "dtype_bytes"));
    }
    if (heads) {
        jc::require(j, "kv_heads", where, path);
        jc::require(j, "head_dim", where, path);
        kvHeads = positiveInt(j, "kv_heads", where, path);
        headDim = positiveInt(j, "head_dim", where, path);
        derived = 2.0 * kvHeads * headDim * dtype;
        formula = "2 * kv_heads * head_dim * dtype_bytes";
    } else if (latent) {
        latentDim = positiveInt(j, "kv_latent_dim", where, path);
        derived = latentDim * dtype;
        formula = "kv_latent_dim * dtype_bytes";
    }
    const std::string kp = jc::join(path, "kv_bytes_per_token_layer");
    if (j.contains("kv_bytes_per_token_layer")) {
        m.kv_bytes_per_token_layer = jc::positive(j.at("kv_bytes_per_token_layer"), where, kp);
        if (derived > 0 && std::fabs(m.kv_bytes_per_token_layer - derived) > 1e-9 * derived) {
            std::ostringstream ss;
            ss << m.kv_bytes_per_token_layer << " does not match " << formula << " = " << derived;
            jc::fail(where, kp, ss.str());
        }
    } else if (derived > 0) {
        m.kv_bytes_per_token_layer = derived;
    } else {
        jc::fail(where, kp, "missing (give it, or kv_heads, head_dim and dtype_bytes, or kv_latent_dim and dtype_bytes)");
    }
    // Also when derived: kv_heads x head_dim x dtype_bytes can leave every range.
    if (!(m.kv_bytes_per_token_layer <= kMaxKvBytesPerTokenLayer))
        jc::fail(where, kp, "must be at most " + readableNumber(kMaxKvBytesPerTokenLayer) + ", got " +
                                readableNumber(m.kv_bytes_per_token_layer));
    readExperts(j, where, path, m);
    if (shape) {
        shape->kv_heads = kvHeads;
        shape->head_dim = headDim;
        shape->dtype_bytes = dtype;
        shape->kv_latent_dim = latentDim;
    }
    return m;
}

Model modelFromJson(const json& j, const std::string& where, const std::string& path)
{
    return modelAndShape(j, where, path, nullptr);
}

HardwarePreset hardwarePresetFromJson(const json& j, const std::string& where, const std::string& path)
{
    jc::requireObject(j, where, path);
    HardwarePreset p;
    p.id = jc::string(jc::require(j, "id", where, path), where, jc::join(path, "id"));
    if (p.id.empty()) jc::fail(where, jc::join(path, "id"), "must not be empty");
    p.name = jc::string(jc::require(j, "name", where, path), where, jc::join(path, "name"));
    p.source = jc::string(jc::require(j, "source", where, path), where, jc::join(path, "source"));
    if (j.contains("description"))
        p.description = jc::string(j.at("description"), where, jc::join(path, "description"));
    p.hardware = hardwareFromJson(j, where, path);
    p.hardware.name = p.id;
    const json& tiers = j.at("tiers");
    for (size_t i = 0; i < tiers.size(); ++i)
        p.tier_sources.push_back(tiers[i].contains("source") ? tiers[i].at("source").get<std::string>()
                                                              : std::string());
    return p;
}

ModelPreset modelPresetFromJson(const json& j, const std::string& where, const std::string& path)
{
    jc::requireObject(j, where, path);
    ModelPreset p;
    p.id = jc::string(jc::require(j, "id", where, path), where, jc::join(path, "id"));
    if (p.id.empty()) jc::fail(where, jc::join(path, "id"), "must not be empty");
    p.name = jc::string(jc::require(j, "name", where, path), where, jc::join(path, "name"));
    p.source = jc::string(jc::require(j, "source", where, path), where, jc::join(path, "source"));
    if (j.contains("description"))
        p.description = jc::string(j.at("description"), where, jc::join(path, "description"));
    p.model = modelAndShape(j, where, path, &p);
    p.model.name = p.id;
    return p;
}

json tierToJson(const Tier& t)
{
    return json{{"name", t.name},
                {"capacity_bytes", t.capacity_bytes},
                {"bandwidth", t.bandwidth},
                {"link_read", linkTo(t.link_read)},
                {"link_write", linkTo(t.link_write)},
                {"reserve_bytes", t.reserve_bytes}};
}

json hardwareToJson(const Hardware& h)
{
    json tiers = json::array();
    for (const Tier& t : h.tiers) tiers.push_back(tierToJson(t));
    return json{{"name", h.name}, {"tiers", std::move(tiers)}};
}

json modelToJson(const Model& m)
{
    json j{{"name", m.name},
                {"layers", m.layers},
                {"kv_bytes_per_token_layer", m.kv_bytes_per_token_layer},
                {"weight_bytes", m.weight_bytes}};
    if (m.experts > 0) {   // only then: dense models' JSON stays as it was
        j["experts"] = m.experts;
        j["expert_bytes"] = m.expert_bytes;
    }
    return j;
}

json hardwarePresetToJson(const HardwarePreset& p)
{
    json j = hardwareToJson(p.hardware);
    j.erase("name");
    j["id"] = p.id;
    j["name"] = p.name;
    j["description"] = p.description;
    j["source"] = p.source;
    for (size_t i = 0; i < p.tier_sources.size() && i < j["tiers"].size(); ++i)
        if (!p.tier_sources[i].empty()) j["tiers"][i]["source"] = p.tier_sources[i];
    return j;
}

json modelPresetToJson(const ModelPreset& p)
{
    json j = modelToJson(p.model);
    j["id"] = p.id;
    j["name"] = p.name;
    j["source"] = p.source;
    if (!p.description.empty()) j["description"] = p.description;
    if (p.kv_heads > 0) {
        j["kv_heads"] = p.kv_heads;
        j["head_dim"] = p.head_dim;
    }
    if (p.kv_latent_dim > 0) j["kv_latent_dim"] = p.kv_latent_dim;
    if (p.dtype_bytes > 0) j["dtype_bytes"] = p.dtype_bytes;
    return j;
}

void to_json(json& j, const Tier& t) { j = tierToJson(t); }
void to_json(json& j, const Hardware& h) { j = hardwareToJson(h); }
void to_json(json& j, const Model& m) { j = modelToJson(m); }

// ---- library ----

std::string PresetLibrary::builtinDir()
{
    namespace fs = std::filesystem;
    std::vector<fs::path> tried;
    if (const char* env = std::getenv("KVTIER_PRESET_DIR"); env && *env) {
        // An explicit choice: use it or say why not, never fall back silently.
        if (!isPresetDir(env))
            throw InputError(env, "KVTIER_PRESET_DIR does not hold hardware.json and models.json");
        return env;
    }
    if (const std::string data = dataDir(); !data.empty()) tried.push_back(fs::path(data) / "presets");
    for (const auto& d : tried)
        if (isPresetDir(d)) return d.string();
    std::string list;
    for (const auto& d : tried) list += (list.empty() ? "" : ", ") + d.string();
    if (list.empty()) list = "no data folder known";
    throw InputError("presets", "built-in presets not found (looked in: " + list +
                                    "; set KVTIER_DATA_DIR to kvtier's data folder, <prefix>/share/kvtier, or "
                                    "KVTIER_PRESET_DIR to the folder holding hardware.json and models.json)");
}

PresetLibrary PresetLibrary::loadBuiltin()
{
    const std::filesystem::path dir = builtinDir();
    PresetLibrary lib;
    lib.addFile((dir / "hardware.json").string());
    lib.addFile((dir / "models.json").string());
    return lib;
}

void PresetLibrary::addFile(const std::string& path)
{
    const std::string text = readFile(path);
    addJson(parseJsonText(text, path), path);
}

template <class P>
static void merge(std::vector<P>& into, std::vector<P>&& add)
{
    for (P& p : add) {
        auto it = std::find_if(into.begin(), into.end(), [&](const P& q) { return q.id == p.id; });
        if (it != into.end()) *it = std::move(p);
        else into.push_back(std::move(p));
    }
}

void PresetLibrary::addJson(const json& doc, const std::string& where)
{
    jc::checkKeys(doc, where, "", {"kind", "presets", "comment"});
    const std::string kind = jc::string(jc::require(doc, "kind", where, ""), where, "kind");
    if (kind != "hardware" && kind != "models")
        jc::fail(where, "kind", "must be \"hardware\" or \"models\", not \"" + kind + "\"");
    const json& list = jc::require(doc, "presets", where, "");
    if (!list.is_array()) jc::fail(where, "presets", std::string("must be an array, not ") + list.type_name());
    if (doc.contains("comment")) jc::string(doc.at("comment"), where, "comment");

    std::set<std::string> seen;
    auto checkUnique = [&](const std::string& id, size_t i) {
        if (!seen.insert(id).second)
            jc::fail(where, jc::join(jc::item("presets", i), "id"), "duplicate id '" + id + "' in this file");
    };
    // Parse everything first so a bad file changes nothing.
    if (kind == "hardware") {
        std::vector<HardwarePreset> add;
        for (size_t i = 0; i < list.size(); ++i) {
            add.push_back(hardwarePresetFromJson(list[i], where, jc::item("presets", i)));
            checkUnique(add.back().id, i);
        }
        merge(hardware_, std::move(add));
    } else {
        std::vector<ModelPreset> add;
        for (size_t i = 0; i < list.size(); ++i) {
            add.push_back(modelPresetFromJson(list[i], where, jc::item("presets", i)));
            checkUnique(add.back().id, i);
        }
        merge(models_, std::move(add));
    }
}

const HardwarePreset& PresetLibrary::hardwareById(const std::string& id) const
{
    for (const auto& p : hardware_)
        if (p.id == id) return p;
    throw InputError("presets", "unknown hardware preset '" + id + "' (known: " + knownIds(hardware_) + ")");
}

const ModelPreset& PresetLibrary::modelById(const std::string& id) const
{
    for (const auto& p : models_)
        if (p.id == id) return p;
    throw InputError("presets", "unknown model preset '" + id + "' (known: " + knownIds(models_) + ")");
}

} // namespace kvtier
