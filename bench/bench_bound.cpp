// Migration-aware bound benchmark (docs/PERFORMANCE.md "Migration-aware bound"). Prints one
// JSON object: for every sample scenario (sample_traces/*.kvtier.json) at three HBM
// capacities (x0.8, x1, x1.2 of the scenario's), the balanced bound, the migration-aware
// bound B, the best schedule S, the certified gap S / B, the annealed schedule, the best
// policy, and the wall time of the bound and of the annealing (medians over --runs).
//   bench_bound [--runs N] [--time-budget S] [--scenario FILE ...]
// Inclusive scenarios are run as exclusive (the bound covers exclusive placement only).
#include "core/config/data_dir.hpp"
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/engine/pipeline.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

using namespace kvtier;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv)
{
    int runs = 1;
    double budget = 10;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::stoi(argv[++i]));
        else if (a == "--time-budget" && i + 1 < argc) budget = std::stod(argv[++i]);
        else if (a == "--scenario" && i + 1 < argc) files.emplace_back(argv[++i]);
        else {
            std::cerr << "usage: bench_bound [--runs N] [--time-budget S] [--scenario FILE ...]\n";
            return 2;
        }
    }
    if (files.empty()) {
        for (const auto& e : std::filesystem::directory_iterator(std::string(KVTIER_SOURCE_DIR) + "/sample_traces"))
            if (e.path().string().ends_with(".kvtier.json")) files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
    }
    setDataDir(KVTIER_BUILD_DATA_DIR);
    const PresetLibrary presets = PresetLibrary::loadBuiltin();
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& f : files) {
        for (double scale : {0.8, 1.0, 1.2}) {
            Scenario s = loadScenario(f, presets);
            s.hardware.tiers[0].capacity_bytes *= scale;
            const bool wasInclusive = s.inclusive;
            s.inclusive = false;
            s.bounds.migration_aware.enabled = true;
            s.bounds.migration_aware.time_budget_s = budget;
            s.bounds.annealed.enabled = true;
            s.bounds.annealed.time_budget_s = budget;
            std::vector<double> boundMs, annealMs, B, S, A, bal, best;
            bool budgetHit = false;
            int64_t iterations = 0;
            std::string source;
            for (int r = 0; r < runs; ++r) {
                Pipeline p;   // fresh: nothing cached
                AnalysisResult res;
                try {
                    res = p.run(s);
                } catch (const std::exception& e) {
                    out.push_back({{"scenario", std::filesystem::path(f).filename().string()}, {"hbm_scale", scale},
                                   {"error", e.what()}});
                    break;
                }
                boundMs.push_back(res.stats.migration_bound_ms);
                annealMs.push_back(res.stats.anneal_ms);
                B.push_back(res.migration_bound->total_time);
                S.push_back(res.migration_bound->schedule_time());
                A.push_back(res.annealed->total_time());
                bal.push_back(res.balanced->total_time);
                double b = 1e300;
                for (const auto& o : res.policies) b = std::min(b, o.timing->total_time);
                best.push_back(b);
                budgetHit = budgetHit || res.migration_bound->budget_hit;
                iterations = res.migration_bound->iterations;
                source = res.migration_bound->schedule_source;
            }
            if (B.empty()) continue;
            const double mB = median(B), mS = median(S), mA = median(A);
            out.push_back({{"scenario", std::filesystem::path(f).filename().string()},
                           {"hbm_scale", scale},
                           {"run_as_exclusive", wasInclusive},
                           {"balanced_s", median(bal)},
                           {"bound_s", mB},
                           {"schedule_s", mS},
                           {"schedule_source", source},
                           {"gap", mS / mB},
                           {"annealed_s", mA},
                           {"annealed_gap", std::min(mS, mA) / mB},
                           {"best_policy_s", median(best)},
                           {"bound_ms", median(boundMs)},
                           {"anneal_ms", median(annealMs)},
                           {"iterations", iterations},
                           {"budget_hit", budgetHit},
                           {"runs", runs}});
            std::cerr << out.back().dump() << "\n";
        }
    }
    std::cout << out.dump(2) << "\n";
    return 0;
}
