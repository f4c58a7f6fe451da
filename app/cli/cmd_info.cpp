// kvtier-cli info: everything known about one stored trace, plus statistics over its records.
#include "args.hpp"
#include "command.hpp"

#include "core/store/trace_store.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>

namespace kvtier::cli {

namespace {

std::string usage()
{
    return "usage: kvtier-cli info DB NAME [--json]\n"
           "\n"
           "Shows the metadata of trace NAME in the trace database DB (description, source,\n"
           "model, head reduction, notes, kind, layer mode, P, T, L, encoding, size, creation\n"
           "time) and statistics from reading every record once: non-zero (scores) or selected\n"
           "(selections) entries per record — mean, min, max — and the mean share of the\n"
           "context n_t = P + t they cover; and whether it holds per-step MoE expert sets\n"
           "(experts: E per layer, 0 when none).\n"
           "\n"
           "  --json   print one JSON object instead of the text\n";
}

struct Stats {
    int64_t records = 0;
    int64_t entries = 0;
    int64_t minEntries = std::numeric_limits<int64_t>::max();
    int64_t maxEntries = 0;
    double shareSum = 0;   // sum over records of entries / n_t
    double scoreSum = 0;   // sum of all scores (scores traces)
};

Stats scan(const TraceStore& store, const std::string& name)
{
    Stats s;
    auto reader = store.reader(name);
    const TraceMeta& m = reader->meta();
    Record r;
    while (reader->next(r)) {
        const auto n = static_cast<int64_t>(r.index.size());
        ++s.records;
        s.entries += n;
        s.minEntries = std::min(s.minEntries, n);
        s.maxEntries = std::max(s.maxEntries, n);
        const int64_t ctx = m.contextAt(r.sequence, r.step);
        if (ctx > 0) s.shareSum += static_cast<double>(n) / static_cast<double>(ctx);
        for (float v : r.value) s.scoreSum += static_cast<double>(v);
    }
    if (s.records == 0) s.minEntries = 0;
    return s;
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {}, {"json"});
    if (a.positional().size() != 2) throw UsageError("expected two arguments, the database file and the trace name");
    auto store = TraceStore::open(a.positional()[0], TraceStore::Mode::ReadOnly);
    const TraceSummary sum = store->get(a.positional()[1]);
    const TraceMeta& m = sum.meta;
    const Stats st = scan(*store, m.name);
    const double records = static_cast<double>(std::max<int64_t>(st.records, 1));
    const double meanEntries = static_cast<double>(st.entries) / records;
    const double meanShare = st.shareSum / records;
    const bool selection = m.kind != RecordKind::Scores;   // no scores to sum (ranked: ranks)
    const int32_t experts = store->experts(m.name);   // E of the expert sets, 0: none (MODEL.md §9)

    if (a.has("json")) {
        nlohmann::json j = {{"name", m.name},
                            {"description", m.description},
                            {"source", m.source},
                            {"model_name", m.model_name},
                            {"head_reduction", m.head_reduction},
                            {"notes", m.notes},
                            {"kind", toString(m.kind)},
                            {"layer_mode", toString(m.layer_mode)},
                            {"prefill", m.prefill},
                            {"sequences", m.sequenceCount()},
                            {"steps", m.steps},
                            {"layers", m.layers},
                            {"records", sum.records},
                            {"encoding", encodingText(sum)},
                            {"bytes", sum.blob_bytes},
                            {"created_at", sum.created_at},
                            {"entries", st.entries},
                            {"entries_per_record", {{"mean", meanEntries}, {"min", st.minEntries}, {"max", st.maxEntries}}},
                            {"mean_context_share", meanShare},
                            {"experts", experts}};
        if (!selection) j["mean_score_sum_per_record"] = st.scoreSum / records;
        if (m.sequenceCount() > 1) j["sequence_prefill"] = m.sequence_prefill;
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    auto row = [](const char* key, const std::string& value) { std::printf("%-16s %s\n", key, value.c_str()); };
    char buf[160];
    row("name", m.name);
    row("description", m.description);
    row("source", m.source);
    row("model", m.model_name);
    row("head reduction", m.head_reduction);
    row("notes", m.notes);
    row("kind", toString(m.kind));
    row("layer mode", toString(m.layer_mode));
    row("sequences S", std::to_string(m.sequenceCount()));
    if (m.sequenceCount() > 1) {
        std::string list;
        for (size_t q = 0; q < m.sequence_prefill.size(); ++q)
            list += (q ? ", " : "") + std::to_string(m.sequence_prefill[q]);
        row("prefill P_s", list);
    } else {
        row("prefill P", std::to_string(m.prefill));
    }
    row("steps T", std::to_string(m.steps));
    row("layers L", std::to_string(m.layers));
    std::snprintf(buf, sizeof buf, "%lld of %lld", static_cast<long long>(sum.records),
                  static_cast<long long>(m.recordCount()));
    row("records", buf);
    row("encoding", encodingText(sum));
    std::snprintf(buf, sizeof buf, "%lld bytes of record data", static_cast<long long>(sum.blob_bytes));
    row("stored", buf);
    row("created", sum.created_at);
    std::snprintf(buf, sizeof buf, "%lld %s; per record mean %.2f, min %lld, max %lld", static_cast<long long>(st.entries),
                  selection ? "selected" : "non-zero", meanEntries, static_cast<long long>(st.minEntries),
                  static_cast<long long>(st.maxEntries));
    row("entries", buf);
    std::snprintf(buf, sizeof buf, "%.4f of n_t on average", meanShare);
    row("coverage", buf);
    if (!selection) {
        std::snprintf(buf, sizeof buf, "%.6g per record on average", st.scoreSum / records);
        row("score sum", buf);
    }
    row("experts", experts > 0 ? "per-step expert sets, E = " + std::to_string(experts) + " per layer"
                               : std::string("none (a MoE model then reads every expert every step)"));
    return 0;
}

const Registration reg("info", Command{"show one trace's metadata and record statistics", usage(), run});

} // namespace

} // namespace kvtier::cli
