#include "core/config/scenario_json.hpp"

#include "core/io/atomic_file.hpp"

#include "core/config/presets.hpp"
#include "core/model/error.hpp"
#include "core/model/text.hpp"
#include "core/support/json_check.hpp"
#include "core/support/json_text.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kvtier {

namespace jc = jsoncheck;
using nlohmann::json;

namespace {

// A preset reference ("id" or {"preset": "id", ...overrides}) becomes the full object,
// overrides applied on top, with "preset" kept so the origin is not lost.
void expandOne(json& doc, const char* key, const std::string& where, const PresetLibrary& presets)
{
    auto it = doc.find(key);
    if (it == doc.end()) return;
    json& v = *it;
    std::string id;
    json overrides = json::object();
    if (v.is_string()) {
        id = v.get<std::string>();
    } else if (v.is_object() && v.contains("preset")) {
        id = jc::string(v.at("preset"), where, std::string(key) + ".preset");
        overrides = v;
        overrides.erase("preset");
    } else {
        return;
    }
    json full;
    if (std::string(key) == "model") {
        try { full = modelToJson(presets.modelById(id).model); }
        catch (const InputError& e) { throw InputError(where, std::string(key) + ": " + e.problem()); }
    } else {
        try { full = hardwareToJson(presets.hardwareById(id).hardware); }
        catch (const InputError& e) { throw InputError(where, std::string(key) + ": " + e.problem()); }
    }
    for (auto o = overrides.begin(); o != overrides.end(); ++o) full[o.key()] = o.value();
    full["preset"] = id;
    v = std::move(full);
}

// One reference token of a JSON pointer: '~' and '/' escaped (RFC 6901).
std::string escapeToken(const std::string& key)
{
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

// The tokens of a pointer, first to last (json_pointer hands out only its last one).
std::vector<std::string> tokensOf(json::json_pointer ptr)
{
    std::vector<std::string> out;
    while (!ptr.empty()) {
        out.push_back(ptr.back());
        ptr.pop_back();
    }
    return {out.rbegin(), out.rend()};
}

// The step into array `a` that `token` names, through json_pointer's own rules for an
// index (digits, no leading zero); its exceptions become kvtier's words.
json& arrayStep(json& a, const std::string& token, const std::string& where)
{
    try {
        return a.at(json::json_pointer("/" + escapeToken(token)));
    } catch (const json::exception& e) {
        const bool digits = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
        if (e.id == 106)   // a leading zero
            throw InputError(where, "'" + excerpt(token, 40) + "' is not an array index (no leading zeros)");
        if (digits || token == "-")   // 401 out of range, 404/410 beyond size_t, 402 "-"
            throw InputError(where, "index " + excerpt(token, 40) + " is past the end (the array has " +
                                        std::to_string(a.size()) + " entries)");
        throw InputError(where, "'" + excerpt(token, 40) + "' must be an array index");
    }
}

PolicyParams paramsFromJson(const json& j, const PolicyInfo& info, const std::string& where, const std::string& path)
{
    PolicyParams given;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "name") continue;
        const std::string p = jc::join(path, it.key());
        const ParamSpec* spec = nullptr;
        for (const ParamSpec& ps : info.params)
            if (ps.key == it.key()) spec = &ps;
        if (spec && spec->type == ParamSpec::Type::Choice) {
            // Named values only: an index in a file would say nothing about the variant.
            try { given[it.key()] = choiceValue(*spec, jc::string(*it, where, p), p); }
            catch (const InputError& e) { throw InputError(where, e.where() + ": " + e.problem()); }
        } else if (it->is_boolean()) {
            given[it.key()] = it->get<bool>() ? 1.0 : 0.0;
        } else {
            given[it.key()] = jc::number(*it, where, p);
        }
    }
    try {
        return resolveParams(info, given, path);
    } catch (const InputError& e) {
        throw InputError(where, e.where() + ": " + e.problem());
    }
}

} // namespace

void expandPresets(json& doc, const std::string& where, const PresetLibrary& presets)
{
    jc::requireObject(doc, where, "");
    expandOne(doc, "model", where, presets);
    expandOne(doc, "hardware", where, presets);
}

json::json_pointer scenarioPointer(const std::string& path, const std::string& option)
{
    const std::string where = option + " " + excerpt(path);
    if (path.empty()) throw InputError(option, "empty key");
    std::string text;
    if (path.front() == '/') {
        text = path;   // a JSON pointer as typed
    } else {
        for (size_t start = 0;;) {
            const size_t dot = path.find('.', start);
            const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
            if (key.empty()) throw InputError(where, "empty key in the path");
            text += "/" + escapeToken(key);
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
    }
    try {
        return json::json_pointer(text);
    } catch (const json::exception&) {   // only a bad escape can fail here (parse_error 108)
        throw InputError(where, "'~' in a JSON pointer must be followed by 0 or 1 (~0 is '~', ~1 is '/')");
    }
}

const json* findPath(const json& doc, const std::string& path, const std::string& option)
{
    const json::json_pointer ptr = scenarioPointer(path, option);
    try {
        return doc.contains(ptr) ? &doc.at(ptr) : nullptr;
    } catch (const json::exception&) {
        return nullptr;   // an index beyond size_t (out_of_range 404): past every array's end
    }
}

void setPath(json& doc, const std::string& path, const json& value, const std::string& option)
{
    const std::string where = option + " " + excerpt(path);
    // Walked token by token, not with doc[ptr]: that would grow an array to any index named.
    json* cur = &doc;
    for (const std::string& token : tokensOf(scenarioPointer(path, option))) {
        if (cur->is_array()) {
            cur = &arrayStep(*cur, token, where);
        } else if (cur->is_object() || cur->is_null()) {
            if (cur->is_null()) *cur = json::object();
            cur = &(*cur)[token];
        } else {
            throw InputError(where, "'" + excerpt(token, 40) + "' is inside a value that is not an object or array");
        }
    }
    *cur = value;
}

void applyOverride(json& doc, const std::string& assignment)
{
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw InputError("--set " + excerpt(assignment), "expected key.path=value");
    const std::string key = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    // A value that is not JSON is a string, but one nested too deep must not reach the
    // recursive copy below.
    checkJsonText(text, "--set " + key);
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;   // a bare word is a string
    setPath(doc, key, value);
}

namespace {

// "bounds": {"migration_aware": {...}, "annealed": {...}} (docs/SCENARIO.md).
BoundsConfig boundsFromJson(const json& b, const std::string& where, bool inclusive)
{
    BoundsConfig c;
    jc::requireObject(b, where, "bounds");
    jc::checkKeys(b, where, "bounds", {"migration_aware", "annealed"});
    if (jc::present(b, "migration_aware")) {
        const json& m = b.at("migration_aware");
        const std::string p = "bounds.migration_aware";
        jc::requireObject(m, where, p);
        jc::checkKeys(m, where, p, {"enabled", "time_budget_s", "iterations", "target_gap"});
        auto& x = c.migration_aware;
        if (m.contains("enabled")) x.enabled = jc::boolean(m.at("enabled"), where, p + ".enabled");
        if (m.contains("time_budget_s"))
            x.time_budget_s = jc::between(m.at("time_budget_s"), where, p + ".time_budget_s", 0.001, 86400, "s");
        if (m.contains("iterations")) {
            x.iterations = jc::integer(m.at("iterations"), where, p + ".iterations");
            if (x.iterations < 1 || x.iterations > 1'000'000) jc::fail(where, p + ".iterations", "must be between 1 and 1000000");
        }
        if (m.contains("target_gap")) x.target_gap = jc::between(m.at("target_gap"), where, p + ".target_gap", 0, 10, "");
    }
    if (jc::present(b, "annealed")) {
        const json& a = b.at("annealed");
        const std::string p = "bounds.annealed";
        jc::requireObject(a, where, p);
        jc::checkKeys(a, where, p, {"enabled", "time_budget_s", "moves", "chains", "seed", "tune_evaluations"});
        auto& x = c.annealed;
        if (a.contains("enabled")) x.enabled = jc::boolean(a.at("enabled"), where, p + ".enabled");
        if (a.contains("time_budget_s"))
            x.time_budget_s = jc::between(a.at("time_budget_s"), where, p + ".time_budget_s", 0.001, 86400, "s");
        if (a.contains("moves")) {
            x.moves = jc::integer(a.at("moves"), where, p + ".moves");
            if (x.moves < 0 || x.moves > 1'000'000'000) jc::fail(where, p + ".moves", "must be between 0 and 1000000000");
        }
        if (a.contains("chains")) {
            const int64_t n = jc::integer(a.at("chains"), where, p + ".chains");
            if (n < 1 || n > 64) jc::fail(where, p + ".chains", "must be between 1 and 64");
            x.chains = static_cast<int32_t>(n);
        }
        if (a.contains("seed")) {
            x.seed = jc::integer(a.at("seed"), where, p + ".seed");
            if (x.seed < 0) jc::fail(where, p + ".seed", "must be 0 or more");
        }
        if (a.contains("tune_evaluations")) {
            x.tune_evaluations = jc::integer(a.at("tune_evaluations"), where, p + ".tune_evaluations");
            if (x.tune_evaluations < 0 || x.tune_evaluations > 100000)
                jc::fail(where, p + ".tune_evaluations", "must be between 0 and 100000");
        }
    }
    if (c.annealed.enabled && !c.migration_aware.enabled)
        jc::fail(where, "bounds.annealed", "needs bounds.migration_aware.enabled (it starts from that schedule)");
    if ((c.migration_aware.enabled || c.annealed.enabled) && inclusive)
        jc::fail(where, "bounds.migration_aware", "covers exclusive placement only; set placement.inclusive to false");
    return c;
}

} // namespace

Scenario scenarioFromJson(const json& input, const std::string& where, const PresetLibrary& presets)
{
    json doc = input;
    expandPresets(doc, where, presets);
    jc::checkKeys(doc, where, "", {"trace", "model", "hardware", "selection", "placement", "batch", "policies",
                                   "bounds", "experts", "comment", "kvtier_scenario"});
    Scenario s;

    const json& tr = jc::require(doc, "trace", where, "");
    jc::checkKeys(tr, where, "trace", {"db", "name"});
    s.trace_db = jc::string(jc::require(tr, "db", where, "trace"), where, "trace.db");
    s.trace_name = jc::string(jc::require(tr, "name", where, "trace"), where, "trace.name");

    json model = jc::require(doc, "model", where, "");
    jc::requireObject(model, where, "model");
    if (model.contains("preset")) {
        s.model_preset = jc::string(model.at("preset"), where, "model.preset");
        model.erase("preset");
    }
    s.model = modelFromJson(model, where, "model");

    json hw = jc::require(doc, "hardware", where, "");
    jc::requireObject(hw, where, "hardware");
    if (hw.contains("preset")) {
        s.hardware_preset = jc::string(hw.at("preset"), where, "hardware.preset");
        hw.erase("preset");
    }
    if (!hw.contains("name")) hw["name"] = s.hardware_preset.empty() ? "custom" : s.hardware_preset;
    s.hardware = hardwareFromJson(hw, where, "hardware");
    if (s.hardware.tiers.size() > 16) jc::fail(where, "hardware.tiers", "at most 16 tiers");

    if (jc::present(doc, "selection")) {
        const json& sel = doc.at("selection");
        jc::checkKeys(sel, where, "selection", {"mode", "value", "sinks", "window", "page_tokens"});
        if (sel.contains("mode")) {
            try { s.selection.mode = selectionModeFromString(jc::string(sel.at("mode"), where, "selection.mode")); }
            catch (const InputError& e) { throw InputError(where, e.where() + ": " + e.problem()); }
        }
        if (sel.contains("value")) s.selection.value = jc::number(sel.at("value"), where, "selection.value");
        if (sel.contains("sinks")) s.selection.sinks = jc::integer(sel.at("sinks"), where, "selection.sinks");
        if (sel.contains("window")) s.selection.window = jc::integer(sel.at("window"), where, "selection.window");
        if (sel.contains("page_tokens"))
            s.selection.page_tokens = jc::integer(sel.at("page_tokens"), where, "selection.page_tokens");
        try { validate(s.selection); }
        catch (const InputError& e) { throw InputError(where, e.where() + ": " + e.problem()); }
    }

    if (jc::present(doc, "placement")) {
        const json& pl = doc.at("placement");
        jc::checkKeys(pl, where, "placement",
                      {"inclusive", "route", "weights_in_fast_tier", "compute_floor_s", "observe_scores"});
        if (pl.contains("inclusive")) s.inclusive = jc::boolean(pl.at("inclusive"), where, "placement.inclusive");
        if (pl.contains("route")) {
            try { s.route = routeFromString(jc::string(pl.at("route"), where, "placement.route")); }
            catch (const InputError& e) { throw InputError(where, e.where() + ": " + e.problem()); }
        }
        if (pl.contains("weights_in_fast_tier")) {
            s.weights_in_fast_tier = jc::number(pl.at("weights_in_fast_tier"), where, "placement.weights_in_fast_tier");
            if (s.weights_in_fast_tier < 0 || s.weights_in_fast_tier > 1)
                jc::fail(where, "placement.weights_in_fast_tier", "must be between 0 and 1");
        }
        if (pl.contains("compute_floor_s"))
            s.compute_floor_s = jc::between(pl.at("compute_floor_s"), where, "placement.compute_floor_s", 0,
                                            kMaxComputeFloorS, "s");
        if (pl.contains("observe_scores")) {
            try {
                s.observe_scores =
                    observeScoresFromString(jc::string(pl.at("observe_scores"), where, "placement.observe_scores"));
            } catch (const InputError& e) {
                throw InputError(where, e.where() + ": " + e.problem());
            }
        }
    }

    if (jc::present(doc, "batch")) {
        s.batch = jc::integer(doc.at("batch"), where, "batch");
        if (s.batch < 1 || s.batch > 1'000'000) jc::fail(where, "batch", "must be between 1 and 1000000");
    }

    if (jc::present(doc, "bounds")) s.bounds = boundsFromJson(doc.at("bounds"), where, s.inclusive);

    if (jc::present(doc, "experts")) {
        const json& ex = doc.at("experts");
        jc::requireObject(ex, where, "experts");
        jc::checkKeys(ex, where, "experts", {"policy", "hbm_share"});
        if (ex.contains("policy")) {
            try { s.experts.policy = expertPolicyFromString(jc::string(ex.at("policy"), where, "experts.policy")); }
            catch (const InputError& e) { throw InputError(where, e.where() + ": " + e.problem()); }
        }
        if (ex.contains("hbm_share"))
            s.experts.hbm_share = jc::between(ex.at("hbm_share"), where, "experts.hbm_share", 0, 1, "");
    }

    const json& pol = jc::require(doc, "policies", where, "");
    if (pol.is_string()) {
        if (pol.get<std::string>() != "all") jc::fail(where, "policies", "must be \"all\" or a list of policies");
        for (const auto& e : policyRegistry()) s.policies.push_back({e.info.name, resolveParams(e.info, {}, "")});
    } else if (pol.is_array()) {
        for (size_t i = 0; i < pol.size(); ++i) {
            const std::string path = jc::item("policies", i);
            const json& p = pol[i];
            json obj = p.is_string() ? json{{"name", p}} : p;
            jc::requireObject(obj, where, path);
            const std::string name = jc::string(jc::require(obj, "name", where, path), where, jc::join(path, "name"));
            const PolicyEntry* entry = nullptr;
            try { entry = &findPolicy(name); }
            catch (const InputError& e) { jc::fail(where, jc::join(path, "name"), e.problem()); }
            s.policies.push_back({name, paramsFromJson(obj, entry->info, where, path)});
        }
    } else {
        jc::fail(where, "policies", "must be \"all\" or a list of policies");
    }
    return s;
}

json withOptionalSections(const json& doc)
{
    json out = doc;
    if (!out.is_object()) return out;
    const ExpertResidencyConfig d;
    const json experts = {{"policy", toString(d.policy)}, {"hbm_share", d.hbm_share}};
    if (!out.contains("experts")) out["experts"] = experts;
    else if (out["experts"].is_object())
        for (const auto& [k, v] : experts.items())
            if (!out["experts"].contains(k)) out["experts"][k] = v;
    return out;
}

json scenarioToJson(const Scenario& s)
{
    json doc;
    doc["trace"] = {{"db", s.trace_db}, {"name", s.trace_name}};
    doc["model"] = modelToJson(s.model);
    if (!s.model_preset.empty()) doc["model"]["preset"] = s.model_preset;
    doc["hardware"] = hardwareToJson(s.hardware);
    if (!s.hardware_preset.empty()) doc["hardware"]["preset"] = s.hardware_preset;
    doc["selection"] = {{"mode", toString(s.selection.mode)},
                        {"value", s.selection.value},
                        {"sinks", s.selection.sinks},
                        {"window", s.selection.window},
                        {"page_tokens", s.selection.page_tokens}};
    doc["placement"] = {{"inclusive", s.inclusive},
                        {"route", toString(s.route)},
                        {"weights_in_fast_tier", s.weights_in_fast_tier},
                        {"compute_floor_s", s.compute_floor_s},
                        {"observe_scores", toString(s.observe_scores)}};
    doc["batch"] = s.batch;
    // Written only when asked for, so scenarios without it keep their bytes.
    if (s.bounds != BoundsConfig{}) {
        const auto& m = s.bounds.migration_aware;
        const auto& a = s.bounds.annealed;
        doc["bounds"] = {{"migration_aware",
                          {{"enabled", m.enabled}, {"time_budget_s", m.time_budget_s}, {"iterations", m.iterations},
                           {"target_gap", m.target_gap}}},
                         {"annealed",
                          {{"enabled", a.enabled}, {"time_budget_s", a.time_budget_s}, {"moves", a.moves},
                           {"chains", a.chains}, {"seed", a.seed}, {"tune_evaluations", a.tune_evaluations}}}};
    }
    // Written only when not the default, so scenarios without it keep their bytes.
    if (s.experts != ExpertResidencyConfig{})
        doc["experts"] = {{"policy", toString(s.experts.policy)}, {"hbm_share", s.experts.hbm_share}};
    json pol = json::array();
    for (const auto& p : s.policies) {
        json o = policyParamsToJson(findPolicy(p.name).info, p.params);
        o["name"] = p.name;
        pol.push_back(o);
    }
    doc["policies"] = pol;
    return doc;
}

json policyParamsToJson(const PolicyInfo& info, const PolicyParams& params)
{
    json o = json::object();
    for (const auto& [k, v] : params) {
        o[k] = v;
        for (const ParamSpec& spec : info.params)
            if (spec.key == k && spec.type == ParamSpec::Type::Choice) o[k] = choiceName(spec, v);
    }
    return o;
}

std::string resolveTraceDb(const std::string& db, const std::string& scenarioPath)
{
    namespace fs = std::filesystem;
    const fs::path p(db);
    if (p.is_absolute()) return db;
    if (!scenarioPath.empty()) {
        const fs::path beside = fs::path(scenarioPath).parent_path() / p;
        if (fs::exists(beside)) return beside.lexically_normal().string();
    }
    if (fs::exists(p)) return p.lexically_normal().string();
    return db;   // opening it will name the missing file
}

Scenario loadScenario(const std::string& path, const PresetLibrary& presets, const std::vector<std::string>& overrides)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "cannot open the scenario file");
    std::stringstream ss;
    ss << in.rdbuf();
    json doc = parseJsonText(ss.str(), path);
    expandPresets(doc, path, presets);
    for (const auto& o : overrides) {
        try { applyOverride(doc, o); }
        catch (const InputError& e) { throw InputError(path, e.where() + ": " + e.problem()); }
    }
    Scenario s = scenarioFromJson(doc, path, presets);
    s.trace_db = resolveTraceDb(s.trace_db, path);
    return s;
}

void saveScenario(const Scenario& s, const std::string& path)
{
    // A failure never leaves half a file, nor touches a user's PATH.tmp.
    const std::string text = scenarioToJson(s).dump(2) + "\n";
    AtomicFile file(path);
    file.stream() << text;
    file.commit();
}

} // namespace kvtier
