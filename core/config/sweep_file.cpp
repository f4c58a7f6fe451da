#include "core/config/sweep_file.hpp"

#include "core/config/sweep_paths.hpp"
#include "core/model/error.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <optional>

namespace kvtier {

namespace {

using ojson = nlohmann::ordered_json;
constexpr int kFormat = 1;   // the "kvtier_sweep" header field: this file's layout

// JSON has no NaN or infinity; they are written as the strings the CSV shows for them.
ojson numberJson(double v)
{
    if (std::isfinite(v)) return v;
    if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
    return v > 0 ? "inf" : "-inf";
}

std::optional<double> numberFrom(const nlohmann::json& j)
{
    if (j.is_number()) return j.get<double>();
    if (!j.is_string()) return std::nullopt;
    const auto& s = j.get_ref<const std::string&>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "-nan") return -std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    return std::nullopt;
}

// The result columns of the sweep CSV, in its order (sweepToCsv), without the axes and error.
std::vector<std::string> resultColumns(const SweepFileHeader& h)
{
    std::vector<std::string> c = {"balanced_s", "paper_s"};
    if (h.migration_bound) c.insert(c.end(), {"migration_bound_s", "schedule_s"});
    if (h.annealed) c.push_back("annealed_s");
    for (const auto& p : h.policies)
        c.insert(c.end(), {p + "_time_s", p + "_throughput_tok_s", p + "_hbm_hit_ratio", p + "_migrated_bytes"});
    return c;
}

// A point's results in resultColumns order, and back.
std::vector<double> resultValues(const SweepFileHeader& h, const SweepPoint& p)
{
    std::vector<double> v = {p.balanced_s, p.paper_s};
    if (h.migration_bound) v.insert(v.end(), {p.migration_bound_s, p.schedule_s});
    if (h.annealed) v.push_back(p.annealed_s);
    for (const auto& q : p.policies) v.insert(v.end(), {q.total_time_s, q.throughput_tok_s, q.hbm_hit_ratio, q.migrated_bytes});
    return v;
}

void setResultValues(const SweepFileHeader& h, const std::vector<double>& v, SweepPoint& p)
{
    size_t k = 0;
    p.balanced_s = v[k++];
    p.paper_s = v[k++];
    if (h.migration_bound) {
        p.migration_bound_s = v[k++];
        p.schedule_s = v[k++];
    }
    if (h.annealed) p.annealed_s = v[k++];
    p.policies.resize(h.policies.size());
    for (auto& q : p.policies) {
        q.total_time_s = v[k++];
        q.throughput_tok_s = v[k++];
        q.hbm_hit_ratio = v[k++];
        q.migrated_bytes = v[k++];
    }
}

SweepFileHeader headerFrom(const nlohmann::json& j, const std::string& path)
{
    const auto bad = [&](const std::string& what) {
        return InputError(path, "not a kvtier sweep result file (line 1: " + what + ")");
    };
    if (!j.is_object() || !j.contains("kvtier_sweep")) throw bad("no sweep header");
    if (j["kvtier_sweep"] != kFormat)
        throw InputError(path, "a sweep result file of another layout (" + j["kvtier_sweep"].dump() + "; this kvtier reads " +
                                   std::to_string(kFormat) + ")");
    SweepFileHeader h;
    try {
        h.version = j.at("kvtier_version").get<std::string>();
        h.scenario = j.at("scenario");
        if (!h.scenario.is_object()) throw bad("the scenario is not an object");
        for (const auto& a : j.at("axes")) {
            SweepAxis axis;
            axis.key = a.at("key").get<std::string>();
            for (const auto& v : a.at("values")) axis.values.push_back(v.get<double>());
            if (a.contains("labels")) {
                for (const auto& l : a.at("labels")) axis.labels.push_back(l.get<std::string>());
                if (axis.labels.size() != axis.values.size()) throw bad("the axis " + axis.key + " has not one label per value");
                for (size_t i = 0; i < axis.values.size(); ++i)
                    if (axis.values[i] != static_cast<double>(i)) throw bad("the axis " + axis.key + "'s values are not 0, 1, ...");
            }
            h.axes.push_back(std::move(axis));
        }
        for (const auto& p : j.at("policies")) h.policies.push_back(p.get<std::string>());
        h.migration_bound = j.at("migration_bound").get<bool>();
        h.annealed = j.at("annealed").get<bool>();
        h.grid_points = j.at("grid_points").get<size_t>();
        h.shard = parseSweepShard(j.at("shard").get<std::string>());
    } catch (const InputError& e) {
        throw bad(e.what());
    } catch (const nlohmann::json::exception&) {
        throw bad("a field is missing or of the wrong kind");
    }
    if (h.axes.empty()) throw bad("no axes");
    for (size_t k = 0; k < h.axes.size(); ++k)
        for (size_t m = 0; m < k; ++m)
            if (h.axes[k].key == h.axes[m].key) throw bad("the axis " + h.axes[k].key + " twice");
    if (sweepGridSize(h.axes, path) != h.grid_points) throw bad("grid_points is not the axes' product");
    return h;
}

SweepPoint pointFrom(const SweepFileHeader& h, const nlohmann::json& j, uint64_t& id, const std::string& where)
{
    if (!j.is_object()) throw InputError(where, "not a JSON object");
    const std::vector<std::string> columns = resultColumns(h);
    if (j.size() != 3 + h.axes.size() + columns.size())
        throw InputError(where, "has " + std::to_string(j.size()) + " fields, a point of this sweep has " +
                                    std::to_string(3 + h.axes.size() + columns.size()));
    SweepPoint p;
    const auto idx = j.find("index");
    if (idx == j.end() || !idx->is_number_unsigned()) throw InputError(where, "no point index");
    p.index = idx->get<size_t>();
    if (p.index >= h.grid_points)
        throw InputError(where, "point #" + std::to_string(p.index) + " is beyond the grid's " +
                                    std::to_string(h.grid_points) + " points");
    const auto idField = j.find("id");
    const std::string idText = idField != j.end() && idField->is_string() ? idField->get<std::string>() : "";
    if (idText.size() != 16 || idText.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw InputError(where, "point #" + std::to_string(p.index) + ": the id is not 16 hex digits");
    id = std::stoull(idText, nullptr, 16);
    p.x = sweepPointValues(h.axes, p.index);
    const std::string name = sweepPointName(h, p.index, id);
    for (size_t k = 0; k < h.axes.size(); ++k) {
        const auto v = j.find(h.axes[k].key);
        const bool same = v != j.end() && (h.axes[k].labels.empty()
                                               ? v->is_number() && v->get<double>() == p.x[k]
                                               : v->is_string() && *v == h.axes[k].labels[static_cast<size_t>(p.x[k])]);
        if (!same)
            throw InputError(where, name + ": its " + h.axes[k].key + " is not the grid's value there");
    }
    const auto err = j.find("error");
    if (err == j.end() || !err->is_string()) throw InputError(where, name + ": no error field");
    p.error = err->get<std::string>();
    std::vector<double> values;
    for (const auto& c : columns) {
        const auto v = j.find(c);
        if (v == j.end()) throw InputError(where, name + ": no " + c);
        if (!p.error.empty()) {
            if (!v->is_null()) throw InputError(where, name + ": an infeasible point with a value for " + c);
            continue;
        }
        const auto x = numberFrom(*v);
        if (!x) throw InputError(where, name + ": " + c + " is not a number");
        values.push_back(*x);
    }
    if (p.error.empty()) setResultValues(h, values, p);
    return p;
}

} // namespace

SweepFileHeader sweepFileHeader(const Scenario& base, const nlohmann::json& scenario, const std::vector<SweepAxis>& axes,
                                const SweepShard& shard, const std::string& version)
{
    SweepFileHeader h;
    h.version = version;
    h.scenario = canonicalScenario(scenario);
    h.axes = axes;
    for (const auto& p : base.policies) h.policies.push_back(p.name);
    h.migration_bound = base.bounds.migration_aware.enabled;
    h.annealed = base.bounds.annealed.enabled;
    h.grid_points = sweepGridSize(axes, "sweep");
    h.shard = shard;
    return h;
}

std::string sweepDifference(const SweepFileHeader& a, const SweepFileHeader& b)
{
    if (a.version != b.version) return "the kvtier version (" + a.version + ", " + b.version + ")";
    if (a.scenario != b.scenario) return "the base scenario";
    if (a.axes.size() != b.axes.size()) return "the number of axes";
    for (size_t k = 0; k < a.axes.size(); ++k)
        if (a.axes[k].key != b.axes[k].key || a.axes[k].values != b.axes[k].values || a.axes[k].labels != b.axes[k].labels)
            return "the axis " + a.axes[k].key;
    if (a.policies != b.policies) return "the policies";
    if (a.migration_bound != b.migration_bound || a.annealed != b.annealed) return "the heavy bounds";
    return "";
}

std::string sweepHeaderLine(const SweepFileHeader& h)
{
    ojson j;
    j["kvtier_sweep"] = kFormat;
    j["kvtier_version"] = h.version;
    j["shard"] = sweepShardText(h.shard);
    j["grid_points"] = h.grid_points;
    ojson axes = ojson::array();
    for (const auto& a : h.axes) {
        ojson axis = {{"key", a.key}, {"values", a.values}};
        if (!a.labels.empty()) axis["labels"] = a.labels;
        axes.push_back(axis);
    }
    j["axes"] = axes;
    j["policies"] = h.policies;
    j["migration_bound"] = h.migration_bound;
    j["annealed"] = h.annealed;
    std::vector<std::string> columns = {"index", "id"};
    for (const auto& a : h.axes) columns.push_back(a.key);
    for (const auto& c : resultColumns(h)) columns.push_back(c);
    columns.push_back("error");
    j["columns"] = columns;
    // The scenario keeps canonicalScenario's sorted keys.
    j["scenario"] = ojson::parse(canonicalScenarioText(h.scenario));
    return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::string sweepPointLine(const SweepFileHeader& h, const SweepPoint& p, uint64_t id)
{
    ojson j;
    j["index"] = p.index;
    j["id"] = sweepIdText(id);
    for (size_t k = 0; k < h.axes.size(); ++k) {
        if (h.axes[k].labels.empty()) j[h.axes[k].key] = p.x[k];
        else j[h.axes[k].key] = h.axes[k].labels.at(static_cast<size_t>(p.x[k]));
    }
    const std::vector<std::string> columns = resultColumns(h);
    const std::vector<double> values = resultValues(h, p);
    for (size_t k = 0; k < columns.size(); ++k) j[columns[k]] = p.error.empty() ? numberJson(values[k]) : ojson();
    j["error"] = p.error;
    return j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::string sweepPointName(const SweepFileHeader& h, size_t index, uint64_t id)
{
    std::string s = "point #" + std::to_string(index) + " (id " + sweepIdText(id);
    const std::vector<double> x = sweepPointValues(h.axes, index);
    for (size_t k = 0; k < h.axes.size(); ++k) s += ", " + h.axes[k].key + "=" + sweepAxisValueText(h.axes[k], x[k]);
    return s + ")";
}

SweepFile readSweepFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path, "cannot open");
    SweepFile f;
    f.path = path;
    std::string line;
    size_t number = 0;
    bool header = false;
    while (std::getline(in, line)) {
        ++number;
        // The last line without its newline: torn by a killed run, never read.
        if (in.eof()) {
            f.torn = !line.empty();
            break;
        }
        const std::string where = path + " line " + std::to_string(number);
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception&) {
            if (!header) throw InputError(path, "not a kvtier sweep result file (line 1 is not JSON)");
            throw InputError(where, "not a JSON object");
        }
        if (!header) {
            f.header = headerFrom(j, path);
            header = true;
        } else {
            SweepFilePoint p;
            p.point = pointFrom(f.header, j, p.id, where);
            p.line = number;
            f.points.push_back(std::move(p));
        }
        f.complete_bytes += line.size() + 1;
    }
    if (in.bad()) throw InputError(path, "cannot be read");
    if (!header) throw InputError(path, "not a kvtier sweep result file (no complete header line)");
    return f;
}

void checkSweepFilePoints(const SweepFile& f, const std::vector<uint64_t>& ids)
{
    const std::vector<size_t> shardOf =
        f.header.shard.whole() ? std::vector<size_t>() : sweepShardOf(ids, f.header.shard.count);
    for (const auto& p : f.points) {
        const std::string where = f.path + " line " + std::to_string(p.line);
        const size_t g = p.point.index;
        if (p.id != ids[g])
            throw InputError(where, sweepPointName(f.header, g, p.id) + ": the id is not that point's (" +
                                        sweepIdText(ids[g]) + ")");
        if (!shardOf.empty() && shardOf[g] != f.header.shard.index)
            throw InputError(where, sweepPointName(f.header, g, p.id) + " belongs to shard " +
                                        std::to_string(shardOf[g]) + "/" + std::to_string(f.header.shard.count) +
                                        ", not this file's " + sweepShardText(f.header.shard));
    }
}

SweepResult sweepResultOf(const SweepFileHeader& h, std::vector<SweepPoint> points)
{
    SweepResult r;
    r.axes = h.axes;
    r.policies = h.policies;
    r.migration_bound = h.migration_bound;
    r.annealed = h.annealed;
    r.points = std::move(points);
    return r;
}

SweepResult mergeSweepFiles(const std::vector<std::string>& paths)
{
    if (paths.empty()) throw InputError("merge", "no result files");
    std::vector<SweepFile> files;
    for (const auto& path : paths) {
        files.push_back(readSweepFile(path));
        const SweepFile& f = files.back();
        if (f.torn)
            throw InputError(path, "the last line is incomplete (a killed run: finish it with kvtier-cli sweep --resume)");
        const std::string diff = sweepDifference(files.front().header, f.header);
        if (!diff.empty()) throw InputError(path, "a different sweep than " + paths.front() + " (" + diff + " differs)");
    }
    const SweepFileHeader& h = files.front().header;
    const std::vector<uint64_t> ids = sweepPointIds(h.scenario, h.axes);
    // Where each grid point was found first: file, position in it.
    std::vector<std::pair<size_t, size_t>> found(h.grid_points, {SIZE_MAX, 0});
    for (size_t fi = 0; fi < files.size(); ++fi) {
        const SweepFile& f = files[fi];
        checkSweepFilePoints(f, ids);
        for (size_t pi = 0; pi < f.points.size(); ++pi) {
            const SweepFilePoint& p = f.points[pi];
            auto& first = found[p.point.index];
            if (first.first == SIZE_MAX) {
                first = {fi, pi};
                continue;
            }
            const SweepFilePoint& q = files[first.first].points[first.second];
            if (sweepPointLine(h, p.point, p.id) != sweepPointLine(h, q.point, q.id))
                throw InputError(f.path + " line " + std::to_string(p.line),
                                 sweepPointName(h, p.point.index, p.id) + " has other results than in " +
                                     files[first.first].path + " line " + std::to_string(q.line));
        }
    }
    size_t missing = 0, firstMissing = 0;
    for (size_t g = 0; g < found.size(); ++g)
        if (found[g].first == SIZE_MAX && missing++ == 0) firstMissing = g;
    if (missing) {
        const size_t count = files.front().header.shard.count;
        std::string problem = "in none of the files (" + std::to_string(missing) + " of " + std::to_string(h.grid_points) +
                              " points missing";
        if (count > 1)
            problem += "; it belongs to shard " + std::to_string(sweepShardOf(ids, count)[firstMissing]) + "/" +
                       std::to_string(count);
        throw InputError(sweepPointName(h, firstMissing, ids[firstMissing]), problem + ")");
    }
    std::vector<SweepPoint> points(h.grid_points);
    for (size_t g = 0; g < found.size(); ++g) points[g] = std::move(files[found[g].first].points[found[g].second].point);
    return sweepResultOf(h, std::move(points));
}

} // namespace kvtier
