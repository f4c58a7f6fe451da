// kvtier-cli view: exactly what the GUI's views show (core/engine/view_*.hpp), without a
// window and at full resolution by default: heatmap grids, a step's explanation, a
// token's timeline, the comparison rows.
#include "command.hpp"
#include "scenario_args.hpp"

#include "core/engine/view_compare.hpp"
#include "core/engine/view_explain.hpp"
#include "core/engine/stream_analysis.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/engine/view_heatmap_csv.hpp"
#include "core/engine/view_timeline.hpp"
#include "core/io/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>

namespace kvtier::cli {

namespace {

// "A:B" (either side may be empty) into [lo, hi); hi 0 means "to the end".
std::pair<int64_t, int64_t> rangeOf(const Args& a, const std::string& key)
{
    const auto v = a.get(key);
    if (!v) return {0, 0};
    const size_t colon = v->find(':');
    if (colon == std::string::npos) throw UsageError("--" + key + " wants FIRST:END, got '" + *v + "'");
    auto num = [&](const std::string& s) -> int64_t {
        if (s.empty()) return 0;
        size_t used = 0;
        long long x = 0;
        try {
            x = std::stoll(s, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != s.size() || x < 0) throw UsageError("--" + key + ": '" + s + "' is not a step or row number");
        return x;
    };
    return {num(v->substr(0, colon)), num(v->substr(colon + 1))};
}

std::string num(double v)
{
    if (!std::isfinite(v)) return "";
    std::ostringstream o;
    o.precision(17);
    o << v;
    return o.str();
}

const PolicyOutcome& outcomeOf(const AnalysisResult& r, const Args& a)
{
    const std::string name = a.get("policy").value_or(r.policies.empty() ? "" : r.policies.front().info.name);
    for (const PolicyOutcome& o : r.policies)
        if (o.info.name == name) return o;
    throw UsageError("--policy '" + name + "' is not among the scenario's policies");
}

// --steps, --rows and --cells: the window of a heatmap.
HeatmapWindow windowOf(const Args& a)
{
    HeatmapWindow w;
    std::tie(w.t0, w.t1) = rangeOf(a, "steps");
    std::tie(w.y0, w.y1) = rangeOf(a, "rows");
    w.width = w.height = kFullResolutionCells;   // one cell per step and row (up to 8192 of each)
    if (auto cells = a.get("cells")) {
        int cw = 0, ch = 0;
        char x = 0;
        std::istringstream in(*cells);
        if (!(in >> cw >> x >> ch) || x != 'x' || cw < 2 || ch < 2) throw UsageError("--cells wants WxH (each >= 2)");
        w.width = cw;
        w.height = ch;
    }
    return w;
}

// The heatmap's window from --steps, --rows, --cells, --layer and --sequence.
HeatmapWindow heatmapWindowOf(const Args& a)
{
    HeatmapWindow w = windowOf(a);
    w.layer = static_cast<int32_t>(a.getInt("layer", -1));
    w.sequence = static_cast<int32_t>(a.getInt("sequence", 0));   // the core names the range when out of it
    return w;
}

std::string heatmapKind(const Args& a)
{
    const std::string kind = a.get("kind").value_or("placement");
    if (kind != "relevance" && kind != "placement")
        throw UsageError("--kind must be placement or relevance, not '" + kind + "'");
    return kind;
}

// view heatmap --stream: the grid pooled while a streamed analysis passes (bounded memory).
void writeStreamedHeatmap(const Scenario& s, const Args& a, std::ostream& out)
{
    StreamOptions o;
    const HeatmapWindow w = heatmapWindowOf(a);
    const bool relevance = heatmapKind(a) == "relevance";
    if (relevance) o.relevance_grid = w;
    else o.placement_grids.push_back({s.policies.front().name, w});
    StreamedAnalysis st;
    try {
        st = analyzeStreamed(s, o);
    } catch (const std::bad_alloc&) {
        throw tooLargeForMemory(s);
    }
    if (relevance) writeRelevanceCsv(out, *st.relevance_grid, st.result.trace->meta().name);
    else writePlacementCsv(out, st.placement_grids.front(), s.policies.front().name);
}

void writeHeatmap(const AnalysisResult& r, const Args& a, std::ostream& out)
{
    const std::string kind = heatmapKind(a);
    const HeatmapWindow w = heatmapWindowOf(a);
    if (kind == "relevance") {
        writeRelevanceCsv(out, relevanceGrid(*r.trace, *r.selection, w), r.trace->meta().name);
    } else if (kind == "placement") {
        const PolicyOutcome& o = outcomeOf(r, a);
        writePlacementCsv(out, placementGrid(*r.selection, *o.placement, w), o.info.name);
    }
}

// The expert heatmap of one model layer (MODEL.md §9) for the policy's run.
void writeExperts(const AnalysisResult& r, const Args& a, std::ostream& out)
{
    HeatmapWindow w = windowOf(a);
    w.layer = static_cast<int32_t>(a.getInt("layer", 0));   // the core names the range when out of it
    const PolicyOutcome& o = outcomeOf(r, a);
    if (!o.timing || !o.timing->expert_residency)
        throw UsageError("the scenario's model '" + r.scenario.model.name + "' has no experts (model.experts = 0): no expert heatmap");
    std::vector<std::string> tiers;
    for (const Tier& t : r.scenario.hardware.tiers) tiers.push_back(t.name);
    writeExpertCsv(out, expertGrid(r.selection->experts.get(), *o.timing->expert_residency, w), o.info.name,
                   toString(o.timing->expert_policy), tiers);
}

void writeExplain(const AnalysisResult& r, const Args& a, std::ostream& out)
{
    using nlohmann::json;
    if (!a.has("step")) throw UsageError("view explain needs --step T");
    const StepExplanation e = explainStep(r, outcomeOf(r, a), a.getInt("step", 0));
    auto n = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    json tiers = json::array();
    for (const TierTerms& c : e.tiers)
        tiers.push_back({{"name", c.name}, {"R_bytes", c.read}, {"W_bytes", c.write},
                         {"(R+W)/B_s", c.by_bandwidth},
                         {"R/Lr_s", c.has_read_link ? json(c.by_read_link) : json(nullptr)},
                         {"W/Lw_s", c.has_write_link ? json(c.by_write_link) : json(nullptr)},
                         {"time_s", c.time},
                         {"binding", json::array({c.binding[0], c.binding[1], c.binding[2]})}});
    if (r.scenario.model.experts > 0)   // MODEL.md §9: the experts' part of R, per tier
        for (size_t m = 0; m < e.tiers.size(); ++m) tiers[m]["expert_R_bytes"] = e.tiers[m].expert_read;
    json j = {{"step", e.step}, {"policy", e.policy}, {"online", e.online}, {"context_tokens", e.context},
              {"batch", e.batch}, {"layers", e.layers}, {"aggregated", e.aggregated}, {"tiers", tiers},
              {"layer_time_s", e.layer_time},
              {"limiting_tier", e.limiting_tier >= 0 ? json(e.tiers[static_cast<size_t>(e.limiting_tier)].name) : json(nullptr)},
              {"compute_floor_s", e.compute_floor}, {"step_time_s", e.step_time},
              {"recomputed_step_time_s", n(e.recomputed_step_time)},
              {"balanced_bound", {{"step_time_s", n(e.balanced_step_time)}, {"fast_share", n(e.balanced_fast_share)},
                                  {"policy_over_bound", n(e.ratio_to_bound)}}},
              {"paper_bound", {{"step_time_s", n(e.paper_step_time)}, {"sum_min_B_Lr", e.paper_denominator}}},
              {"run", {{"time_per_token_s", e.time_per_token}, {"bound_time_per_token_s", n(e.bound_time_per_token)},
                       {"throughput_tok_s", e.throughput}, {"hbm_hit_ratio", e.hbm_hit_ratio},
                       {"migrated_bytes", e.migrated_bytes}}}};
    out << j.dump(2) << "\n";
}

void writeTimeline(const AnalysisResult& r, const Args& a, std::ostream& out)
{
    if (!a.has("token")) throw UsageError("view timeline needs --token N");
    const int64_t token = a.getInt("token", 0);
    if (token < 0 || token > 0xFFFFFFFFll) throw UsageError("--token must be a token index");
    const PolicyOutcome& o = outcomeOf(r, a);
    const int64_t sequence = a.getInt("sequence", 0);
    if (sequence < 0 || sequence > 0x7FFFFFFFll) throw UsageError("--sequence must be a sequence index");
    const TokenTimeline tl = tokenTimeline(*r.trace, *r.selection, *o.placement, static_cast<uint32_t>(token),
                                           static_cast<int32_t>(a.getInt("layer", -1)), static_cast<int32_t>(sequence));
    const auto& tiers = r.scenario.hardware.tiers;
    out << "# token " << tl.token;
    if (r.trace->meta().sequenceCount() > 1) out << " of sequence " << tl.sequence;
    out << " (unit " << tl.unit << ") under policy " << o.info.name << "\n";
    out << "step,relevance,selected,tier\n";
    for (size_t t = 0; t < tl.tier.size(); ++t)
        out << t << ',' << num(t < tl.relevance.size() ? tl.relevance[t] : NAN) << ','
            << int(t < tl.selected.size() ? tl.selected[t] : 0) << ','
            << (tl.tier[t] < tiers.size() ? tiers[tl.tier[t]].name : std::string()) << '\n';
}

void writeCompare(const AnalysisResult& r, std::ostream& out)
{
    // The migration-aware columns only when that bound was computed (--migration-bound or
    // the scenario's "bounds"), so the plain comparison keeps its columns.
    const bool band = r.migration_bound != nullptr;
    out << "policy,label,kind,time_per_token_s,throughput_tok_s,gap_to_balanced_bound,hbm_hit_ratio,migrated_bytes";
    if (band) out << ",gap_to_migration_bound,gap_to_schedule";
    out << '\n';
    for (const ComparisonRow& c : comparisonRows(r)) {
        out << c.name << ",\"" << c.label << "\"," << toString(c.kind) << ',' << num(c.time_per_token) << ','
            << num(c.throughput) << ',' << num(c.gap) << ',' << num(c.hbm_hit_ratio) << ',' << num(c.migrated_bytes);
        if (band) out << ',' << num(c.gap_to_migration_bound) << ',' << num(c.gap_to_schedule);
        out << '\n';
    }
}

// Writes the view to --out (atomically) or standard output; the command's exit code.
int writeOut(const std::string& text, std::optional<AtomicFile>& file)
{
    if (file) {
        file->stream() << text;
        file->commit();
    } else {
        std::cout << text;
    }
    return 0;
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"scenario", "kind", "policy", "steps", "rows", "cells", "layer", "sequence", "step", "token", "out"},
           {"migration-bound", "anneal", "stream"},
           {"set", "presets"});
    if (a.positional().size() != 1) throw UsageError("name one view: heatmap, experts, explain, timeline or compare");
    const std::string what = a.positional()[0];
    if (what != "heatmap" && what != "experts" && what != "explain" && what != "timeline" && what != "compare")
        throw UsageError("unknown view '" + what + "' (heatmap, experts, explain, timeline, compare)");
    const PresetLibrary presets = presetsFrom(a);
    Scenario s = scenarioFrom(a, presets);
    if (a.has("migration-bound") || a.has("anneal")) {
        if (what != "compare") throw UsageError("--migration-bound and --anneal belong to 'view compare'");
        if (s.inclusive)
            throw UsageError("--migration-bound covers exclusive placement only; this scenario's placement is inclusive");
        s.bounds.migration_aware.enabled = true;
        if (a.has("anneal")) s.bounds.annealed.enabled = true;
    }
    std::optional<AtomicFile> file;
    if (auto o = a.get("out")) file.emplace(*o);
    // One policy is enough for the views of one policy: only it is placed.
    if (what != "compare" && a.has("policy"))
        std::erase_if(s.policies, [&](const PolicySpec& p) { return p.name != *a.get("policy"); });
    if (s.policies.empty()) throw UsageError("--policy '" + *a.get("policy") + "' is not among the scenario's policies");
    if (what == "experts" && s.model.experts <= 0)
        throw UsageError("the scenario's model '" + s.model.name + "' has no experts (model.experts = 0): no expert heatmap");
    std::ostringstream text;
    if (a.has("stream")) {
        if (what != "heatmap") throw UsageError("--stream belongs to 'view heatmap'");
        // One policy is placed: --policy's (an oracle adds its pre-pass, docs/PERFORMANCE.md
        // "Streamed analysis"), or the scenario's first online one (the relevance heatmap
        // needs none, but a streamed analysis runs at least one).
        if (!a.has("policy"))
            std::erase_if(s.policies, [](const PolicySpec& p) { return !findPolicy(p.name).info.online; });
        if (s.policies.size() > 1) s.policies.resize(1);
        if (s.policies.empty())
            throw UsageError("--stream needs an online policy among the scenario's policies, or --policy");
        writeStreamedHeatmap(s, a, text);
        return writeOut(text.str(), file);
    }
    Pipeline pipeline;
    AnalysisResult r;
    try {
        r = pipeline.run(s);
    } catch (const std::bad_alloc&) {
        if (what == "heatmap") throw withStreamHint(tooLargeForMemory(s), "view heatmap");
        throw tooLargeForMemory(s);
    } catch (const InputError& e) {
        if (what == "heatmap") throw withStreamHint(e, "view heatmap");
        throw;
    }
    if (what == "heatmap") writeHeatmap(r, a, text);
    else if (what == "experts") writeExperts(r, a, text);
    else if (what == "explain") writeExplain(r, a, text);
    else if (what == "timeline") writeTimeline(r, a, text);
    else writeCompare(r, text);
    return writeOut(text.str(), file);
}

Registration reg("view",
                 {"export what the GUI's views show, at full resolution",
                  "usage: kvtier-cli view VIEW --scenario FILE [--set key.path=value ...] [--policy NAME] [--out FILE]\n"
                  "                            [--migration-bound] [--anneal]\n\n"
                  "The data the GUI draws (core/engine/view_*.hpp), without a window. VIEW is one of:\n"
                  "  heatmap    the placement or relevance heatmap as CSV, one line per cell\n"
                  "             --kind placement|relevance (default placement)\n"
                  "             --steps FIRST:END, --rows FIRST:END  the window (default: everything; rows are\n"
                  "                        pages for placement, tokens for relevance)\n"
                  "             --cells WxH  pool to W x H cells like the GUI (default one cell per step and row,\n"
                  "                        up to 8192 each); pooling keeps the maximum / the highest category\n"
                  "             --layer N  one layer slot of a per-layer trace (default: the max over all)\n"
                  "             --sequence N  the sequence of a batch whose tokens or pages are shown (default 0)\n"
                  "             --stream   pool while a streamed analysis reads the trace a window of steps at a\n"
                  "                        time, in bounded memory (as analyze --stream)\n"
                  "  experts    the expert heatmap of a MoE model as CSV, one line per cell: per step and expert\n"
                  "             of one model layer, whether it is read and from which tier, or moved by the\n"
                  "             expert policy (categories lower_idle < fast_idle < fast_read < lower_read <\n"
                  "             migrated; pooling keeps the highest) and the pairs of each state per cell\n"
                  "             --layer N  the model layer (default 0); --steps FIRST:END, --rows FIRST:END\n"
                  "                        (rows are experts), --cells WxH as for heatmap\n"
                  "  explain    the Explain panel for one step as JSON: each tier's R, W, (R+W)/B, R/Lr, W/Lw,\n"
                  "             time_m and the binding term, tau, the bounds' step times  (--step T)\n"
                  "  timeline   one token's relevance, selection and tier per step as CSV (--token N [--layer N]\n"
                  "             [--sequence N]: token N of that sequence of a batch, default 0)\n"
                  "  compare    the comparison table: every policy and both bounds, as CSV\n"
                  "             --migration-bound  also the migration-aware bound B, its best schedule S and\n"
                  "                        each row's time / B and time / S (docs/BOUNDS.md)\n"
                  "             --anneal   also the annealed schedule (implies --migration-bound)\n\n"
                  "  --policy NAME  the policy the view shows (default: the scenario's first)\n"
                  "  --out FILE     write there (atomically) instead of standard output\n",
                  run});

} // namespace
} // namespace kvtier::cli
