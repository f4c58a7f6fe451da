// Engine benchmark (issue: speed of the live pipeline). Prints one JSON object.
//   bench_engine [--scenario FILE] [--per-layer-scenario FILE] [--batch-scenario FILE] [--runs N]
// Defaults: sample_traces/default.kvtier.json, sample_traces/layers32.kvtier.json and, for a
// batch of 16 distinct sequences with expert sets (MODEL.md §8, §9), moe-batch.kvtier.json.
// Every figure is the median (and min/max) over N runs, in milliseconds:
//   full_analysis   a fresh pipeline: load from SQLite, select, place, time, bounds
//   retime          a bandwidth change on a warm pipeline (placements cached)
//   replace_all     a capacity change: every policy re-placed (selection cached)
//   replace_online  the same with the online policies only
//   reselect        a sparsity change: everything downstream recomputed
// and full_analysis with 1 and 2 threads for scaling.
#include "core/config/data_dir.hpp"
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/engine/pipeline.hpp"

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

using namespace kvtier;
using Clock = std::chrono::steady_clock;

namespace {

nlohmann::json stats(std::vector<double> ms)
{
    std::sort(ms.begin(), ms.end());
    const size_t n = ms.size();
    const double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    return {{"median_ms", median}, {"min_ms", ms.front()}, {"max_ms", ms.back()}, {"runs", n}};
}

std::vector<double> repeat(int runs, const std::function<void(int)>& body)
{
    std::vector<double> out;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        body(i);
        out.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return out;
}

nlohmann::json benchScenario(const std::string& path, const PresetLibrary& presets, int runs, bool full)
{
    const Scenario base = loadScenario(path, presets);
    nlohmann::json out;
    out["scenario"] = path;
    out["policies"] = base.policies.size();
    {
        Pipeline probe;
        const AnalysisResult r = probe.run(base);
        const auto& m = r.trace->meta();
        out["trace"] = {{"name", m.name}, {"S", m.sequenceCount()}, {"P", m.prefill}, {"T", m.steps}, {"L", m.layers},
                        {"mode", toString(m.layer_mode)}, {"entries", r.trace->entryCount()},
                        {"units", r.selection->layout.totalUnits()},
                        {"selected_tokens_per_step", static_cast<double>(r.selection->tokens.items.size()) /
                                                          static_cast<double>(m.recordCount())}};
    }
    out["full_analysis"] = stats(repeat(runs, [&](int) {
        Pipeline p;
        p.run(base);
    }));
    Pipeline warm;
    warm.run(base);
    // Each run uses a value not seen before, so no cache can answer it.
    out["retime"] = stats(repeat(runs, [&](int i) {
        Scenario s = base;
        s.hardware.tiers.back().bandwidth *= 1.0 + 0.01 * (i + 1);
        warm.run(s);
    }));
    const double unit = warm.run(base).capacity.unit_bytes * static_cast<double>(base.batch);
    out["replace_all"] = stats(repeat(runs, [&](int i) {
        Scenario s = base;
        s.hardware.tiers[0].capacity_bytes += unit * (i + 1);
        warm.run(s);
    }));
    Scenario online = base;
    online.policies.clear();
    for (const auto& p : base.policies)
        if (findPolicy(p.name).info.online) online.policies.push_back(p);
    out["online_policies"] = online.policies.size();
    out["replace_online"] = stats(repeat(runs, [&](int i) {
        Scenario s = online;
        s.hardware.tiers[0].capacity_bytes += unit * (i + 1000);
        warm.run(s);
    }));
    if (full) {
        out["reselect"] = stats(repeat(std::max(3, runs / 2), [&](int i) {
            Scenario s = base;
            // A new sparsity each run: K + 8 (i + 1) for topk, +0.01 (i + 1) for ratio/mass.
            if (s.selection.mode == SelectionMode::TopK) s.selection.value += 8.0 * (i + 1);
            else s.selection.value = std::min(1.0, s.selection.value + 0.01 * (i + 1));
            warm.run(s);
        }));
        for (int threads : {1, 2}) {
            tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads));
            out["full_analysis_threads_" + std::to_string(threads)] = stats(repeat(std::max(3, runs / 2), [&](int) {
                Pipeline p;
                p.run(base);
            }));
        }
        const double t1 = out["full_analysis_threads_1"]["median_ms"], t2 = out["full_analysis_threads_2"]["median_ms"];
        out["speedup_2_threads"] = t1 / t2;
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    std::string scenario = std::string(KVTIER_SOURCE_DIR) + "/sample_traces/default.kvtier.json";
    std::string perLayer = std::string(KVTIER_SOURCE_DIR) + "/sample_traces/layers32.kvtier.json";
    std::string batch = std::string(KVTIER_SOURCE_DIR) + "/sample_traces/moe-batch.kvtier.json";
    int runs = 15;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_engine: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--scenario") scenario = value();
        else if (a == "--per-layer-scenario") perLayer = value();
        else if (a == "--batch-scenario") batch = value();
        else if (a == "--runs") runs = std::max(1, std::stoi(value()));
        else {
            std::fprintf(stderr, "usage: bench_engine [--scenario FILE] [--per-layer-scenario FILE] [--batch-scenario FILE] [--runs N]\n");
            return 2;
        }
    }
    try {
        setDataDir(KVTIER_BUILD_DATA_DIR);
        const PresetLibrary presets = PresetLibrary::loadBuiltin();
        nlohmann::json out;
        out["hardware_threads"] = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
        out["aggregated"] = benchScenario(scenario, presets, runs, true);
        out["per_layer"] = benchScenario(perLayer, presets, runs, false);
        out["batch"] = benchScenario(batch, presets, runs, false);
        std::cout << out.dump(2) << "\n";
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_engine: %s\n", e.what());
        return 1;
    }
    return 0;
}
