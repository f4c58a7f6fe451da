#include "core/sweep.hpp"

#include "core/error.hpp"
#include "core/presets.hpp"

#include "core/parallel.hpp"

#include <atomic>
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
        while (std::getline(ss, p, ',')) a.values.push_back(parseNumber(p, spec));
    }
    if (a.values.empty()) throw InputError("--vary " + spec, "no values");
    return a;
}

SweepResult runSweep(Pipeline& pipeline, const nlohmann::json& scenario, const std::string& where,
                     const PresetLibrary& presets, const std::vector<SweepAxis>& axes, const JobControl& job,
                     const SweepPointSink& onPoint)
{
    if (axes.empty()) throw InputError(where, "a sweep needs at least one --vary axis");
    const Scenario base = scenarioFromJson(scenario, where, presets);
    SweepResult r;
    r.axes = axes;
    for (const auto& p : base.policies) r.policies.push_back(p.name);
    // The grid size, multiplied with a check: a product that wrapped would run "0 points"
    // and report success.
    constexpr size_t kMaxPoints = 1'000'000;
    size_t total = 1;
    bool tooMany = false;
    std::string shape;
    for (const auto& a : axes) {
        if (!findPath(scenario, a.key))
            throw InputError(where, "--vary " + a.key + ": the scenario has no such key");
        shape += (shape.empty() ? "" : " x ") + std::to_string(a.values.size());
        if (a.values.empty()) throw InputError(where, "--vary " + a.key + ": no values");
        if (tooMany) continue;
        if (total > kMaxPoints / a.values.size()) tooMany = true;
        else total *= a.values.size();
    }
    if (tooMany)
        throw InputError(where, "the sweep grid has " + shape + " points, more than the limit of " +
                                    std::to_string(kMaxPoints));
    r.points.resize(total);
    std::atomic<size_t> done{0};
    // Every feasible point has the trace's step count; an infeasible first point has none.
    std::atomic<int64_t> steps{0};
    parallelFor(size_t(0), total, [&](size_t i) {
        job.check();
        SweepPoint& pt = r.points[i];
        nlohmann::json doc = scenario;
        size_t rest = i;
        pt.x.assign(axes.size(), 0);
        for (size_t k = axes.size(); k-- > 0;) {
            const auto& a = axes[k];
            pt.x[k] = a.values[rest % a.values.size()];
            rest /= a.values.size();
            const nlohmann::json* cur = findPath(doc, a.key);
            // Integer-valued keys stay integers in the JSON.
            if (cur && cur->is_number_integer() && pt.x[k] == std::floor(pt.x[k]))
                setPath(doc, a.key, static_cast<int64_t>(pt.x[k]));
            else
                setPath(doc, a.key, pt.x[k]);
        }
        try {
            const Scenario s = scenarioFromJson(doc, where, presets);
            JobControl inner;
            inner.cancel = job.cancel;
            const AnalysisResult res = pipeline.run(s, inner);
            pt.balanced_s = res.balanced->total_time;
            pt.paper_s = res.paper->total_time;
            pt.balanced_tok_s = res.balanced->throughput();
            pt.paper_tok_s = res.paper->throughput();
            for (const auto& o : res.policies)
                pt.policies.push_back({o.timing->total_time, o.timing->throughput(), o.timing->hbmHitRatio(),
                                       o.timing->migrated_bytes});
            steps.store(res.selection->layout.steps, std::memory_order_relaxed);
        } catch (const Cancelled&) {
            throw;
        } catch (const InfeasibleError& e) {
            pt.error = e.what();
        } catch (const InputError& e) {
            pt.error = e.what();
        }
        if (onPoint) onPoint(i, pt);
        const size_t n = ++done;
        job.report(static_cast<double>(n) / static_cast<double>(total));
    }, job);
    r.steps = steps.load();
    return r;
}

std::string sweepToCsv(const SweepResult& r)
{
    std::ostringstream o;
    o.precision(10);
    for (const auto& a : r.axes) o << a.key << ',';
    o << "balanced_s,paper_s";
    for (const auto& p : r.policies)
        o << ',' << p << "_time_s," << p << "_throughput_tok_s," << p << "_hbm_hit_ratio," << p << "_migrated_bytes";
    o << ",error\n";
    for (const auto& pt : r.points) {
        for (double x : pt.x) o << x << ',';
        if (!pt.error.empty()) {
            o << ',';
            for (size_t k = 0; k < r.policies.size(); ++k) o << ",,,,";
            std::string e = pt.error;
            for (char& c : e)
                if (c == '"') c = '\'';
            o << ",\"" << e << "\"\n";
            continue;
        }
        o << pt.balanced_s << ',' << pt.paper_s;
        for (const auto& p : pt.policies)
            o << ',' << p.total_time_s << ',' << p.throughput_tok_s << ',' << p.hbm_hit_ratio << ',' << p.migrated_bytes;
        o << ",\n";
    }
    return o.str();
}

} // namespace kvtier
