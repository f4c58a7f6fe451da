// kvtier-cli bound: the migration-aware bound B, its best schedule S, the certified gap
// S / B, the annealed schedule, the balanced bound and the best policy of one scenario.
#include "bound_json.hpp"
#include "command.hpp"
#include "scenario_args.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace kvtier::cli {

namespace {

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"scenario", "time-budget", "seed", "iterations", "moves"}, {"json", "no-anneal"}, {"set", "presets"});
    if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
    const PresetLibrary presets = presetsFrom(a);
    Scenario s = scenarioFrom(a, presets);
    if (s.inclusive)
        throw UsageError("the migration-aware bound covers exclusive placement only; this scenario's placement is "
                         "inclusive (try --set placement.inclusive=false)");
    auto& m = s.bounds.migration_aware;
    auto& an = s.bounds.annealed;
    m.enabled = true;
    an.enabled = !a.has("no-anneal");
    if (a.has("time-budget")) {
        const double b = a.getDouble("time-budget", 10);
        if (!(b > 0) || b > 86400) throw UsageError("--time-budget must be between 0 and 86400 seconds");
        m.time_budget_s = an.time_budget_s = b;
    }
    if (a.has("seed")) {
        an.seed = a.getInt("seed", 1);
        if (an.seed < 0) throw UsageError("--seed must be 0 or more");
    }
    if (a.has("iterations")) {
        m.iterations = a.getInt("iterations", m.iterations);
        if (m.iterations < 1 || m.iterations > 1'000'000) throw UsageError("--iterations must be between 1 and 1000000");
    }
    if (a.has("moves")) {
        an.moves = a.getInt("moves", an.moves);
        if (an.moves < 0 || an.moves > 1'000'000'000) throw UsageError("--moves must be between 0 and 1000000000");
    }
    Pipeline pipeline;
    AnalysisResult r;
    try {
        r = pipeline.run(s);
    } catch (const std::bad_alloc&) {
        throw tooLargeForMemory(s);
    }
    const PolicyOutcome* best = nullptr;
    for (const PolicyOutcome& o : r.policies)
        if (!best || o.timing->total_time < best->timing->total_time) best = &o;
    const MigrationBoundResult& mb = *r.migration_bound;
    if (a.has("json")) {
        nlohmann::json j;
        j["trace"] = {{"db", s.trace_db}, {"name", s.trace_name}};
        j["bounds"] = {{"balanced", {{"total_time_s", r.balanced->total_time}}}};
        addHeavyBounds(j["bounds"], r);
        j["best_policy"] = {{"name", best->info.name},
                            {"total_time_s", best->timing->total_time},
                            {"gap_to_migration_aware_bound", best->timing->total_time / mb.total_time}};
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::printf("trace %s: %lld steps, %s placement (the bound covers exclusive placement)\n", s.trace_name.c_str(),
                static_cast<long long>(r.selection->layout.steps), "exclusive");
    std::printf("%-34s %14s %10s\n", "", "total s", "x bound");
    auto line = [&](const std::string& what, double x) {
        std::printf("%-34s %14.6g %10.4f\n", what.c_str(), x, x / mb.total_time);
    };
    line("balanced bound", r.balanced->total_time);
    line("migration-aware bound B", mb.total_time);
    line("best schedule S (" + mb.schedule_source + ")", mb.schedule_time());
    if (r.annealed) line("annealed schedule", r.annealed->total_time());
    if (r.annealed && r.annealed->tuned_timing) line("windowed-look-ahead, annealed params", r.annealed->tuned_time);
    line("best policy (" + best->info.name + ")", best->timing->total_time);
    std::printf("certified gap S / B = %.4f%s; %lld subgradient iterations, %.2f s", mb.gap(),
                mb.budget_hit ? " (time budget hit)" : "", static_cast<long long>(mb.iterations), mb.elapsed_s);
    if (r.annealed) std::printf("; annealing %.2f s", r.annealed->elapsed_s);
    std::printf("\n");
    return 0;
}

Registration reg("bound",
                 {"migration-aware bound, best schedule and certified gap of a scenario",
                  "usage: kvtier-cli bound --scenario FILE [--time-budget S] [--seed N] [--iterations N] [--moves N]\n"
                  "                        [--no-anneal] [--json] [--set key.path=value ...] [--presets FILE ...]\n\n"
                  "A lower bound B on the time of every exclusive placement that charges migrations and keeps\n"
                  "capacity at every step (Lagrangian relaxation, docs/BOUNDS.md), the best achievable schedule S\n"
                  "found (simulated by the engine), the certified gap S / B, the annealed schedule, the balanced\n"
                  "bound and the scenario's best policy. Inclusive scenarios are refused (not covered).\n\n"
                  "  --scenario FILE     a *.kvtier.json scenario (its \"bounds\" settings are the defaults)\n"
                  "  --time-budget S     wall-clock cap in seconds for the bound and for the annealing (default 10)\n"
                  "  --seed N            the annealing's seed (default 1); results are deterministic for a\n"
                  "                      seed unless a time budget cuts a run short (then it says so)\n"
                  "  --iterations N      subgradient iterations (default 300)\n"
                  "  --moves N           annealing moves per chain (default 200000)\n"
                  "  --no-anneal         skip the annealed schedule\n"
                  "  --json              print one JSON object\n"
                  "  --set k.path=v      override any scenario key (repeatable)\n"
                  "  --presets FILE      add a user preset file (repeatable)\n",
                  run});

} // namespace
} // namespace kvtier::cli
