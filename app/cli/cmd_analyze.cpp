// kvtier-cli analyze: every policy and bound of one scenario, as a table or JSON.
#include "bound_json.hpp"
#include "experts_json.hpp"
#include "command.hpp"
#include "scenario_args.hpp"

#include "core/engine/pipeline.hpp"
#include "core/engine/stream_analysis.hpp"
#include "core/io/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <optional>

namespace kvtier::cli {

namespace {

nlohmann::json toJson(const AnalysisResult& r)
{
    using nlohmann::json;
    const auto& lay = r.selection->layout;
    json j;
    j["trace"] = {{"db", r.scenario.trace_db}, {"name", r.scenario.trace_name}};
    j["steps"] = lay.steps;
    j["sequences"] = lay.sequences();
    j["layers"] = r.scenario.model.layers;
    j["batch"] = r.scenario.batch;
    j["observe_scores"] = toString(r.scenario.observe_scores);
    j["capacity"] = {{"unit_bytes", r.capacity.unit_bytes},
                     {"units_needed", r.capacity.units_needed},
                     {"tier_units", r.capacity.units},
                     {"tier_kv_bytes", r.capacity.kv_bytes}};
    auto bound = [](const BoundResult& b) {
        return json{{"total_time_s", b.total_time},
                    {"time_per_token_s", b.timePerToken()},
                    {"throughput_tok_s", b.throughput()}};
    };
    j["bounds"] = {{"balanced", bound(*r.balanced)}, {"paper", bound(*r.paper)}};
    addHeavyBounds(j["bounds"], r);
    // A streamed analysis (--stream) has no relevance statistics: they need the whole trace.
    if (r.relevance)
        j["relevance"] = {{"mean_turnover", r.relevance->mean_turnover},
                          {"mean_reuse_distance_steps", r.relevance->mean_reuse_distance},
                          {"mean_stay_steps", r.relevance->mean_stay_length}};
    else
        j["relevance"] = nullptr;
    json pols = json::array();
    for (const auto& o : r.policies) {
        const TimingResult& t = *o.timing;
        json p = {{"name", o.info.name},
                  {"label", o.info.label},
                  {"online", o.info.online},
                  {"params", policyParamsToJson(o.info, o.params)},
                  {"total_time_s", t.total_time},
                  {"time_per_token_s", t.timePerToken()},
                  {"throughput_tok_s", t.throughput()},
                  {"hbm_hit_ratio", t.hbmHitRatio()},
                  {"migrated_bytes", t.migrated_bytes},
                  {"gap_to_balanced_bound", o.gapToBound}};
        json tiers = json::array();
        for (const auto& tt : t.tier_totals)
            tiers.push_back({{"name", tt.name},
                             {"read_bytes", tt.read_bytes},
                             {"write_bytes", tt.write_bytes},
                             {"kv_read_bytes", tt.kv_read_bytes},
                             {"migration_bytes", tt.mig_bytes},
                             {"busy_s", tt.busy_s},
                             {"busy_fraction", tt.busy_fraction},
                             {"bandwidth_use", tt.bandwidth_use}});
        // Only for a model with experts: dense scenarios' output stays as it was.
        if (t.experts) {
            for (size_t m = 0; m < t.tier_totals.size(); ++m)
                tiers[m]["expert_read_bytes"] = t.tier_totals[m].expert_read_bytes;
        }
        // The experts under a dynamic expert policy (docs/MODEL.md "Experts"); only then, so
        // a static scenario's output keeps its bytes.
        if (t.experts && r.scenario.experts.dynamic()) {
            p["expert_hit_ratio"] = t.expertHitRatio();
            p["expert_read_bytes"] = t.expert_read_bytes;
            p["expert_migrated_bytes"] = t.expert_migrated_bytes;
        }
        p["tiers"] = tiers;
        if (!t.sequences.empty()) {
            json seqs = json::array();
            for (size_t s = 0; s < t.sequences.size(); ++s) {
                const SequenceTotals& q = t.sequences[s];
                seqs.push_back({{"sequence", s},
                                {"prefill", lay.prefillOf(static_cast<int32_t>(s))},
                                {"hbm_hit_ratio", q.hbmHitRatio()},
                                {"kv_read_bytes", q.kv_read_bytes},
                                {"migrated_bytes", q.migrated_bytes},
                                {"time_share", q.time_share}});
            }
            p["per_sequence"] = seqs;
        }
        pols.push_back(p);
    }
    j["policies"] = pols;
    if (r.scenario.model.experts > 0) j["experts"] = expertsJson(r);
    j["stats_ms"] = {{"load", r.stats.load_ms}, {"select", r.stats.select_ms}, {"bounds", r.stats.bound_ms},
                     {"place", r.stats.place_ms}, {"time", r.stats.time_ms}, {"total", r.stats.total_ms}};
    return j;
}

void printTable(const AnalysisResult& r)
{
    const auto& s = r.scenario;
    const auto& lay = r.selection->layout;
    if (s.model.experts > 0) std::printf("%s\n", expertsNote(r).c_str());
    std::printf("trace %s (%s): %s=%lld T=%lld L=%d, %s, batch %lld\n", s.trace_name.c_str(), s.trace_db.c_str(),
                lay.sequences() > 1 ? ("S=" + std::to_string(lay.sequences()) + " sequences, P_0").c_str() : "P",
                static_cast<long long>(lay.prefill), static_cast<long long>(lay.steps), s.model.layers,
                r.trace->meta().layer_mode == LayerMode::Aggregated ? "aggregated" : "per-layer",
                static_cast<long long>(s.batch));
    std::printf("selection %s %g, page %lld tokens; %s placement, policies observe %s scores; KV units of %.4g MB;"
                " tier units:",
                toString(s.selection.mode), s.selection.value, static_cast<long long>(s.selection.page_tokens),
                s.inclusive ? "inclusive" : "exclusive", toString(s.observe_scores), r.capacity.unit_bytes / 1e6);
    for (size_t m = 0; m < r.capacity.units.size(); ++m)
        std::printf(" %s %lld", s.hardware.tiers[m].name.c_str(), static_cast<long long>(r.capacity.units[m]));
    std::printf(" (need %lld)\n", static_cast<long long>(r.capacity.units_needed));
    if (r.relevance)
        std::printf("selected set: %.1f%% new per step, read again after %.2f steps on average, stays %.2f steps\n\n",
                    100 * r.relevance->mean_turnover, r.relevance->mean_reuse_distance, r.relevance->mean_stay_length);
    else
        std::printf("\n");
    std::printf("%-22s %-7s %12s %12s %9s %12s %8s\n", "policy", "kind", "ms/token", "tokens/s", "HBM hit",
                "migrated GB", "x bound");
    auto bound = [&](const char* name, const BoundResult& b) {
        std::printf("%-22s %-7s %12.4f %12.1f %9s %12s %8.3f\n", name, "bound", b.timePerToken() * 1e3, b.throughput(),
                    "", "", b.total_time / r.balanced->total_time);
    };
    bound("balanced bound", *r.balanced);
    bound("paper bound", *r.paper);
    for (const auto& o : r.policies) {
        const TimingResult& t = *o.timing;
        std::printf("%-22s %-7s %12.4f %12.1f %9.4f %12.4f %8.3f\n", o.info.name.c_str(),
                    o.info.online ? "online" : "oracle", t.timePerToken() * 1e3, t.throughput(), t.hbmHitRatio(),
                    t.migrated_bytes / 1e9, o.gapToBound);
    }
    if (lay.sequences() > 1) {
        // A batch (MODEL.md §8): each sequence's share of the time and its HBM hit ratio.
        std::printf("\nper sequence: time share %% / HBM hit ratio\n%-10s %8s", "sequence", "prefill");
        for (const auto& o : r.policies) std::printf(" %15.15s", o.info.name.c_str());
        std::printf("\n");
        for (int32_t q = 0; q < lay.sequences(); ++q) {
            std::printf("%-10d %8lld", q, static_cast<long long>(lay.prefillOf(q)));
            for (const auto& o : r.policies) {
                const SequenceTotals& x = o.timing->sequences[static_cast<size_t>(q)];
                std::printf("   %5.1f / %5.3f", 100 * x.time_share, x.hbmHitRatio());
            }
            std::printf("\n");
        }
    }
    if (r.migration_bound) std::printf("\n");
    printHeavyBounds(r);
    std::printf("\n%.1f ms (select %.1f, bounds %.1f, place %.1f, time %.1f)\n", r.stats.total_ms, r.stats.select_ms,
                r.stats.bound_ms, r.stats.place_ms, r.stats.time_ms);
}

void writePerStep(const AnalysisResult& r, AtomicFile& file)
{
    std::ostream& out = file.stream();
    out.precision(10);
    out << "step,balanced_s,paper_s";
    for (const auto& o : r.policies) {
        out << ',' << o.info.name << "_s";
        for (const auto& tt : o.timing->tier_totals) out << ',' << o.info.name << '_' << tt.name << "_busy_fraction";
    }
    out << '\n';
    const int64_t T = r.selection->layout.steps;
    for (int64_t t = 0; t < T; ++t) {
        const auto i = static_cast<size_t>(t);
        out << t << ',' << r.balanced->step_time[i] << ',' << r.paper->step_time[i];
        for (const auto& o : r.policies) {
            const double tau = o.timing->step_time[i];
            out << ',' << tau;
            for (int32_t m = 0; m < o.timing->tiers; ++m) out << ',' << (tau > 0 ? o.timing->at(t, m).busy_s / tau : 0);
        }
        out << '\n';
    }
    file.commit();
}

nlohmann::json streamJson(const StreamReport& rep, const AnalysisResult& r)
{
    nlohmann::json cpu = nlohmann::json::array();
    for (size_t i = 0; i < rep.policy_cpu_ms.size() && i < r.policies.size(); ++i)
        cpu.push_back({{"name", r.policies[i].info.name}, {"cpu_ms", rep.policy_cpu_ms[i]}});
    return {{"window_steps", rep.window_steps},
            {"windows", rep.windows},
            {"window_bytes_estimate", rep.window_bytes_estimate},
            {"oracles_left_out", rep.oracles_left_out},
            {"spill_bytes", rep.spill_bytes},
            {"ms", {{"oracle_prepass", rep.prepass_ms}, {"read", rep.read_ms}, {"select", rep.select_ms},
                    {"place_and_time", rep.place_ms}, {"bounds", rep.bound_ms},
                    {"migration_bound", rep.migration_bound_ms}, {"total", rep.total_ms}}},
            {"policy_cpu_ms", cpu}};
}

void printStream(const StreamReport& rep)
{
    std::printf("streamed: %lld windows of %lld steps (about %.0f MB each)", static_cast<long long>(rep.windows),
                static_cast<long long>(rep.window_steps), rep.window_bytes_estimate / 1e6);
    if (!rep.oracles_left_out.empty()) {
        std::printf("; oracles not run (they read the whole future):");
        for (size_t i = 0; i < rep.oracles_left_out.size(); ++i)
            std::printf("%s %s", i ? "," : "", rep.oracles_left_out[i].c_str());
    }
    if (rep.spill_bytes > 0)
        std::printf("; oracles' pre-pass %.1f ms, %.1f MB spilled to the temp dir", rep.prepass_ms,
                    static_cast<double>(rep.spill_bytes) / 1e6);
    std::printf("\nread %.1f ms, select %.1f ms, place and time %.1f ms, bounds %.1f ms", rep.read_ms, rep.select_ms,
                rep.place_ms, rep.bound_ms);
    if (rep.migration_bound_ms > 0) std::printf(", migration-aware bound %.1f ms", rep.migration_bound_ms);
    std::printf("\n");
}

// A whole number >= 1 of an option, or a UsageError naming it.
int64_t positiveOption(const Args& a, const std::string& name)
{
    const int64_t x = a.getInt(name, 0);
    if (x < 1) throw UsageError("--" + name + " needs a whole number >= 1, not '" + *a.get(name) + "'");
    return x;
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"scenario", "per-step", "window-steps", "window-mb"}, {"json", "migration-bound", "anneal", "stream"},
           {"set", "presets"});
    if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
    const PresetLibrary presets = presetsFrom(a);
    Scenario s = scenarioFrom(a, presets);
    if (a.has("migration-bound") || a.has("anneal")) s.bounds.migration_aware.enabled = true;
    if (a.has("anneal")) s.bounds.annealed.enabled = true;
    if (s.bounds.migration_aware.enabled && s.inclusive)
        throw UsageError("--migration-bound covers exclusive placement only; this scenario's placement is inclusive");
    // The output is checked (a folder, a missing folder) before the analysis runs.
    std::optional<AtomicFile> perStep;
    if (auto per = a.get("per-step")) perStep.emplace(*per);
    if (!a.has("stream") && (a.get("window-steps") || a.get("window-mb")))
        throw UsageError("--window-steps and --window-mb go with --stream");
    if (a.has("stream")) {
        StreamOptions options;
        if (a.get("window-steps")) options.window_steps = positiveOption(a, "window-steps");
        if (a.get("window-mb")) {
            const int64_t mb = positiveOption(a, "window-mb");
            if (mb > (int64_t{1} << 30)) throw UsageError("--window-mb is at most 1073741824");
            options.window_bytes = mb << 20;
        }
        StreamedAnalysis st;
        try {
            st = analyzeStreamed(s, options);
        } catch (const std::bad_alloc&) {
            throw tooLargeForMemory(s);
        }
        if (perStep) writePerStep(st.result, *perStep);
        if (a.has("json")) {
            nlohmann::json j = toJson(st.result);
            j["stream"] = streamJson(st.report, st.result);
            std::cout << j.dump(2) << "\n";
        } else {
            printTable(st.result);
            printStream(st.report);
        }
        return 0;
    }
    Pipeline pipeline;
    AnalysisResult r;
    try {
        r = pipeline.run(s);
    } catch (const std::bad_alloc&) {
        throw withStreamHint(tooLargeForMemory(s), "analyze");
    } catch (const InputError& e) {
        throw withStreamHint(e, "analyze");
    }
    if (perStep) writePerStep(r, *perStep);
    if (a.has("json")) std::cout << toJson(r).dump(2) << "\n";
    else printTable(r);
    return 0;
}

// The policies and their parameters, for --help: built from the registry, never stale.
std::string policyHelp()
{
    std::string h = "\npolicies (\"policies\": \"all\" or a list of {\"name\": ..., parameter: value}):\n";
    for (const PolicyEntry& e : policyRegistry()) {
        h += "  " + e.info.name + (e.info.online ? "" : " (oracle)") + ": " + e.info.label + "\n";
        for (const ParamSpec& p : e.info.params) {
            std::string range;
            if (p.type == ParamSpec::Type::Choice) {
                for (const std::string& c : p.choices) range += (range.empty() ? " [" : " | ") + c;
                range += ", default " + choiceName(p, p.def) + "]";
            } else {
                char buf[160];
                std::snprintf(buf, sizeof buf, " [%g .. %g, default %g]", p.min, p.max, p.def);
                range = buf;
            }
            h += "      " + p.key + range + ": " + p.help + "\n";
        }
    }
    return h;
}

Registration reg("analyze",
                 {"run every policy and bound of a scenario",
                  "usage: kvtier-cli analyze --scenario FILE [--set key.path=value ...] [--json] [--per-step CSV]\n"
                  "                          [--presets FILE ...] [--migration-bound] [--anneal]\n"
                  "                          [--stream [--window-mb MB | --window-steps N]]\n\n"
                  "Runs the scenario (docs/SCENARIO.md): selection, every listed policy's placement, per-tier\n"
                  "traffic and time, and the balanced and paper bounds (docs/MODEL.md).\n\n"
                  "  --scenario FILE     a *.kvtier.json scenario\n"
                  "  --set k.path=v      override any scenario key, e.g. --set selection.value=0.6\n"
                  "                      --set hardware.tiers.0.capacity_bytes=2e10 (repeatable)\n"
                  "  --json              print one JSON object instead of the table\n"
                  "  --per-step CSV      write per-step times (bounds, each policy, tier busy fractions)\n"
                  "  --presets FILE      add a user preset file (repeatable)\n"
                  "  --migration-bound   also the migration-aware bound and its schedule (docs/BOUNDS.md;\n"
                  "                      exclusive placement; as scenario bounds.migration_aware.enabled)\n"
                  "  --anneal            also the annealed schedule (implies --migration-bound)\n"
                  "  --stream            read the trace a window of steps at a time, in bounded memory\n"
                  "                      (docs/PERFORMANCE.md \"Streamed analysis\"): the same numbers for\n"
                  "                      every policy and both bounds; oracles add a pre-pass that spills\n"
                  "                      8 B per read to the temp dir ($TMPDIR); the migration-aware bound\n"
                  "                      is the windowed one (docs/BOUNDS.md \"Windows\"); relevance\n"
                  "                      statistics and --anneal need the whole trace and are left out\n"
                  "  --window-mb MB      memory a window may take (default 256)\n"
                  "  --window-steps N    steps per window instead\n" +
                      policyHelp(),
                  run});

} // namespace
} // namespace kvtier::cli
