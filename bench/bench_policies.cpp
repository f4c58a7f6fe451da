// Placement-stage benchmark per policy (issue 13: the slow policies within a small factor of
// LRU per read, and the distance to a streaming floor). Prints one JSON object.
//   bench_policies [--scenario FILE]... [--runs N]
// Defaults: sample_traces/default.kvtier.json (aggregated) and layers32.kvtier.json (per layer).
// For each scenario the selection is computed once; then runPlacement (engine/placement.hpp)
// alone runs N times per policy on one thread. Reported per policy: the median (min, max)
// milliseconds, "ns_per_read" = median / reads (every (step, unit) the selection reads),
// "x_lru" = its ns per read over LRU's, and "x_floor" = over the streaming floor: one pass
// that reads every step's read units and adds their token counts into the per-(step, slot)
// traffic rows, the least any placement must do per read (a lower bound on the simulator's
// own work, not on a policy's).
#include "core/config/data_dir.hpp"
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/store/trace_store.hpp"

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace kvtier;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
    double median = 0, min = 0, max = 0;
};

template <class F>
Stats timeRuns(int runs, const F& body)
{
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        body();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const size_t n = ms.size();
    return {n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms.front(), ms.back()};
}

// The floor: every read unit's tokens added into its (step, slot) row, nothing else.
double streamingFloor(const Selection& sel)
{
    const UnitLayout& lay = sel.layout;
    std::vector<double> rows(static_cast<size_t>(lay.steps * lay.slot_count), 0.0);
    for (int64_t t = 0; t < lay.steps; ++t)
        for (uint32_t u : sel.step_units.row(static_cast<size_t>(t)))
            rows[sel.row(t, lay.slotOf(u))] += static_cast<double>(lay.unitTokens(u, t));
    double sum = 0;
    for (double x : rows) sum += x;
    return sum;
}

nlohmann::json benchScenario(const std::string& path, const PresetLibrary& presets, int runs)
{
    const Scenario s = loadScenario(path, presets);
    Pipeline pipe;
    const AnalysisResult r = pipe.run(s);   // the capacity plan and the selection, as analyze makes them
    const Selection& sel = *r.selection;
    const PlacementConfig pc{s.inclusive, r.capacity.units, s.observe_scores};
    const auto reads = static_cast<double>(sel.step_units.items.size());
    nlohmann::json out;
    const auto& m = r.trace->meta();
    out["scenario"] = path;
    out["trace"] = {{"name", m.name}, {"S", m.sequenceCount()}, {"P", m.prefill}, {"T", m.steps}, {"L", m.layers},
                    {"mode", toString(m.layer_mode)}, {"units", sel.layout.totalUnits()}, {"reads", reads}};
    double sink = 0;
    const Stats floor = timeRuns(runs, [&] { sink += streamingFloor(sel); });
    const double floorNs = floor.median * 1e6 / reads;
    out["floor"] = {{"median_ms", floor.median}, {"ns_per_read", floorNs}};
    double lruNs = 0;
    nlohmann::json pols = nlohmann::json::array();
    for (const auto& spec : s.policies) {
        const PolicyEntry& e = findPolicy(spec.name);
        const Stats st = timeRuns(runs, [&] { sink += runPlacement(sel, e, spec.params, pc).migrated_tokens; });
        const double ns = st.median * 1e6 / reads;
        if (spec.name == "lru") lruNs = ns;
        pols.push_back({{"name", spec.name}, {"online", e.info.online}, {"median_ms", st.median}, {"min_ms", st.min},
                        {"max_ms", st.max}, {"ns_per_read", ns}, {"x_floor", ns / floorNs}});
    }
    for (auto& p : pols) p["x_lru"] = lruNs > 0 ? p["ns_per_read"].get<double>() / lruNs : 0.0;
    out["policies"] = pols;
    out["checksum"] = sink;   // keeps the work observable
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> scenarios;
    int runs = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_policies: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--scenario") scenarios.push_back(value());
        else if (a == "--runs") {
            const std::string v = value();
            runs = std::max(1, std::atoi(v.c_str()));
        } else {
            std::fprintf(stderr, "usage: bench_policies [--scenario FILE]... [--runs N]\n");
            return 2;
        }
    }
    if (scenarios.empty())
        scenarios = {std::string(KVTIER_SOURCE_DIR) + "/sample_traces/default.kvtier.json",
                     std::string(KVTIER_SOURCE_DIR) + "/sample_traces/layers32.kvtier.json"};
    try {
        setDataDir(KVTIER_BUILD_DATA_DIR);
        const PresetLibrary presets = PresetLibrary::loadBuiltin();
        // One thread: a policy is sequential; the figure is its own cost per read.
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        nlohmann::json out = nlohmann::json::array();
        for (const auto& sc : scenarios) out.push_back(benchScenario(sc, presets, runs));
        std::cout << out.dump(2) << "\n";
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_policies: %s\n", e.what());
        return 1;
    }
    return 0;
}
