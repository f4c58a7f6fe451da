#include "core/config/sweep_paths.hpp"

#include "core/config/scenario_json.hpp"
#include "core/model/error.hpp"

#include <cmath>
#include <sstream>

namespace kvtier {

namespace {

double parseNumber(const std::string& s, const std::string& spec)
{
    try {
        size_t used = 0;
        const double v = std::stod(s, &used);
        if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
        return v;
    } catch (const std::exception&) {
        throw InputError("--vary " + spec, "'" + s + "' is not a number");
    }
}

} // namespace

SweepAxis parseSweepAxis(const std::string& spec)
{
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
        throw InputError("--vary " + spec, "expected key.path=start:stop:step or key.path=v1,v2,...");
    SweepAxis a;
    a.key = spec.substr(0, eq);
    const std::string range = spec.substr(eq + 1);
    if (range.find(':') != std::string::npos) {
        std::vector<std::string> parts;
        std::stringstream ss(range);
        std::string p;
        while (std::getline(ss, p, ':')) parts.push_back(p);
        if (parts.size() != 3) throw InputError("--vary " + spec, "a range is start:stop:step");
        const double start = parseNumber(parts[0], spec), stop = parseNumber(parts[1], spec),
                     step = parseNumber(parts[2], spec);
        if (step == 0 || (stop - start) / step < -1e-9)
            throw InputError("--vary " + spec, "the step must be non-zero and go from start towards stop");
        const double count = std::floor((stop - start) / step + 1e-9);
        if (count > 100000) throw InputError("--vary " + spec, "more than 100000 points");
        for (int64_t i = 0; i <= static_cast<int64_t>(count); ++i) a.values.push_back(start + static_cast<double>(i) * step);
    } else {
        std::stringstream ss(range);
        std::string p;
        std::vector<std::string> items;
        while (std::getline(ss, p, ',')) items.push_back(p);
        bool numbers = true;
        for (const auto& item : items) {
            try {
                a.values.push_back(parseNumber(item, spec));
            } catch (const InputError&) {
                numbers = false;
            }
        }
        if (!numbers) {
            if (items.size() > 100000) throw InputError("--vary " + spec, "more than 100000 points");
            return categoricalSweepAxis(a.key, items);
        }
    }
    if (a.values.empty()) throw InputError("--vary " + spec, "no values");
    return a;
}

SweepAxis categoricalSweepAxis(const std::string& key, const std::vector<std::string>& labels)
{
    SweepAxis a;
    a.key = key;
    a.labels = labels;
    for (size_t i = 0; i < labels.size(); ++i) a.values.push_back(static_cast<double>(i));
    return a;
}

std::string sweepAxisValueText(const SweepAxis& axis, double x)
{
    if (axis.labels.empty()) {
        std::ostringstream o;
        o.precision(10);
        o << x;
        return o.str();
    }
    return axis.labels.at(static_cast<size_t>(x));
}

void checkSweepAxes(const nlohmann::json& input, const std::vector<SweepAxis>& axes, const std::string& where)
{
    // A section a scenario may leave out counts with its defaults ("experts.hbm_share").
    const nlohmann::json scenario = withOptionalSections(input);
    // Every key first, so a missing key is reported before the grid's size.
    for (const auto& a : axes)
        if (!findPath(scenario, a.key, "--vary"))
            throw InputError(where, "--vary " + a.key + ": the scenario has no such key");
    // A list that is not all numbers is text: only for a key that holds text.
    for (const auto& a : axes)
        if (!a.labels.empty() && !findPath(scenario, a.key, "--vary")->is_string())
            for (const auto& l : a.labels) parseNumber(l, a.key);
    sweepGridSize(axes, where);
}

SweepResult runSweep(Pipeline& pipeline, const nlohmann::json& scenario, const std::string& where,
                     const PresetLibrary& presets, const std::vector<SweepAxis>& axes, const JobControl& job,
                     const SweepPointSink& onPoint, const std::vector<size_t>& only)
{
    if (axes.empty()) throw InputError(where, "a sweep needs at least one --vary axis");
    const Scenario base = scenarioFromJson(scenario, where, presets);
    checkSweepAxes(scenario, axes, where);
    // Each point: the scenario JSON with every axis's key set, read like a scenario file.
    const auto scenarioAt = [&](const std::vector<double>& x) {
        return scenarioFromJson(sweepPointScenario(scenario, axes, x), where, presets);
    };
    return runSweep(pipeline, base, axes, scenarioAt, where, job, onPoint, only);
}

nlohmann::json sweepPointScenario(const nlohmann::json& scenario, const std::vector<SweepAxis>& axes,
                                  const std::vector<double>& x)
{
    nlohmann::json doc = scenario;
    for (size_t k = axes.size(); k-- > 0;) {
        const auto& a = axes[k];
        const nlohmann::json* cur = findPath(doc, a.key, "--vary");
        if (!a.labels.empty())
            setPath(doc, a.key, a.labels.at(static_cast<size_t>(x[k])), "--vary");
        // Integer-valued keys stay integers in the JSON.
        else if (cur && cur->is_number_integer() && x[k] == std::floor(x[k]))
            setPath(doc, a.key, static_cast<int64_t>(x[k]), "--vary");
        else
            setPath(doc, a.key, x[k], "--vary");
    }
    return doc;
}

std::vector<double> sweepPointValues(const std::vector<SweepAxis>& axes, size_t index)
{
    std::vector<double> x(axes.size(), 0);
    for (size_t k = axes.size(); k-- > 0;) {
        x[k] = axes[k].values[index % axes[k].values.size()];
        index /= axes[k].values.size();
    }
    return x;
}

namespace {

// A CSV cell of axis a's value x: the number, or the label quoted when it holds a comma
// or a quote.
std::string axisCell(const SweepAxis& a, double x)
{
    if (a.labels.empty()) {
        std::ostringstream o;
        o.precision(10);
        o << x;
        return o.str();
    }
    std::string l = a.labels.at(static_cast<size_t>(x));
    if (l.find_first_of(",\"\n\r") == std::string::npos)
        return l;
    std::string q = "\"";
    for (char c : l) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

} // namespace

std::string sweepToLongCsv(const SweepResult& r)
{
    std::ostringstream o;
    o.precision(10);
    for (const auto& a : r.axes) o << a.key << ',';
    o << "policy,time_s,throughput_tok_s,hbm_hit_ratio,migrated_bytes,balanced_s,paper_s,error\n";
    for (const auto& pt : r.points) {
        std::string axes;
        for (size_t k = 0; k < pt.x.size(); ++k) axes += axisCell(r.axes[k], pt.x[k]) + ',';
        std::string e = pt.error;
        for (char& c : e)
            if (c == '"') c = '\'';
        for (size_t k = 0; k < r.policies.size(); ++k) {
            o << axes << r.policies[k] << ',';
            if (!pt.error.empty() || k >= pt.policies.size()) {
                o << ",,,,,,\"" << e << "\"\n";
                continue;
            }
            const SweepPolicyPoint& p = pt.policies[k];
            o << p.total_time_s << ',' << p.throughput_tok_s << ',' << p.hbm_hit_ratio << ',' << p.migrated_bytes << ','
              << pt.balanced_s << ',' << pt.paper_s << ",\n";
        }
    }
    return o.str();
}

std::string sweepToCsv(const SweepResult& r)
{
    std::ostringstream o;
    o.precision(10);
    for (const auto& a : r.axes) o << a.key << ',';
    o << "balanced_s,paper_s";
    // The heavy bounds' columns only when the sweep computed them, so a sweep without
    // them writes the same columns as before.
    if (r.migration_bound) o << ",migration_bound_s,schedule_s";
    if (r.annealed) o << ",annealed_s";
    for (const auto& p : r.policies)
        o << ',' << p << "_time_s," << p << "_throughput_tok_s," << p << "_hbm_hit_ratio," << p << "_migrated_bytes";
    o << ",error\n";
    for (const auto& pt : r.points) {
        for (size_t k = 0; k < pt.x.size(); ++k) {
            if (r.axes[k].labels.empty()) {
                o << pt.x[k] << ',';
                continue;
            }
            // A label (a trace's name) quoted when it holds a comma or a quote.
            std::string l = r.axes[k].labels.at(static_cast<size_t>(pt.x[k]));
            if (l.find_first_of(",\"\n\r") != std::string::npos) {
                std::string q = "\"";
                for (char c : l) q += c == '"' ? std::string("\"\"") : std::string(1, c);
                l = q + "\"";
            }
            o << l << ',';
        }
        if (!pt.error.empty()) {
            o << ',';
            if (r.migration_bound) o << ",,";
            if (r.annealed) o << ',';
            for (size_t k = 0; k < r.policies.size(); ++k) o << ",,,,";
            std::string e = pt.error;
            for (char& c : e)
                if (c == '"') c = '\'';
            o << ",\"" << e << "\"\n";
            continue;
        }
        o << pt.balanced_s << ',' << pt.paper_s;
        if (r.migration_bound) o << ',' << pt.migration_bound_s << ',' << pt.schedule_s;
        if (r.annealed) o << ',' << pt.annealed_s;
        for (const auto& p : pt.policies)
            o << ',' << p.total_time_s << ',' << p.throughput_tok_s << ',' << p.hbm_hit_ratio << ',' << p.migrated_bytes;
        o << ",\n";
    }
    return o.str();
}

} // namespace kvtier
