#include "core/engine/view_compare.hpp"

#include <limits>

namespace kvtier {

const char* toString(RowKind k)
{
    switch (k) {
    case RowKind::Online: return "online";
    case RowKind::Oracle: return "oracle";
    case RowKind::Bound: return "bound";
    }
    return "?";
}

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double a, double b) { return b > 0 ? a / b : kNaN; }

// Fills the gaps of a row with total time `time` against the result's bounds.
void setGaps(ComparisonRow& r, double time, const AnalysisResult& result)
{
    r.gap = result.balanced ? ratio(time, result.balanced->total_time) : kNaN;
    r.gap_to_migration_bound = result.migration_bound ? ratio(time, result.migration_bound->total_time) : kNaN;
    r.gap_to_schedule = result.migration_bound ? ratio(time, result.migration_bound->schedule_time()) : kNaN;
}

ComparisonRow timedRow(const std::string& name, const std::string& label, RowKind kind, const TimingResult& t,
                       const AnalysisResult& result)
{
    ComparisonRow r;
    r.name = name;
    r.label = label;
    r.kind = kind;
    r.time_per_token = t.timePerToken();
    r.throughput = t.throughput();
    r.hbm_hit_ratio = t.hbmHitRatio();
    r.migrated_bytes = t.migrated_bytes;
    setGaps(r, t.total_time, result);
    return r;
}

ComparisonRow boundRow(const std::string& name, const std::string& label, double total, const AnalysisResult& result)
{
    ComparisonRow r;
    r.name = name;
    r.label = label;
    r.kind = RowKind::Bound;
    const int64_t steps = result.selection ? result.selection->layout.steps : 0;
    const double tokens = static_cast<double>(result.scenario.batch * steps);
    r.time_per_token = steps > 0 ? total / static_cast<double>(steps) : 0;
    r.throughput = total > 0 ? tokens / total : 0;
    setGaps(r, total, result);
    r.hbm_hit_ratio = r.migrated_bytes = kNaN;
    return r;
}

} // namespace

std::vector<ComparisonRow> comparisonRows(const AnalysisResult& result)
{
    std::vector<ComparisonRow> rows;
    for (const PolicyOutcome& o : result.policies) {
        if (!o.timing)
            continue;
        ComparisonRow r = timedRow(o.info.name, o.info.label, o.info.online ? RowKind::Online : RowKind::Oracle,
                                   *o.timing, result);
        r.gap = o.gapToBound;   // the pipeline's own ratio, bit for bit
        rows.push_back(r);
    }
    if (result.migration_bound && result.migration_bound->schedule.timing)
        rows.push_back(timedRow("schedule", "best schedule found", RowKind::Oracle,
                                *result.migration_bound->schedule.timing, result));
    if (result.annealed && result.annealed->schedule.timing)
        rows.push_back(timedRow("annealed", "annealed schedule", RowKind::Oracle, *result.annealed->schedule.timing,
                                result));
    if (result.migration_bound)
        rows.push_back(boundRow("migration_aware", "migration-aware bound", result.migration_bound->total_time, result));
    for (const auto& b : {result.balanced, result.paper}) {
        if (!b)
            continue;
        ComparisonRow r = boundRow(b->name, b->name == "paper" ? "paper bound" : "balanced bound", b->total_time, result);
        // As the bound reports them itself (its own batch and steps).
        r.time_per_token = b->timePerToken();
        r.throughput = b->throughput();
        rows.push_back(r);
    }
    return rows;
}

namespace {

void addSequenceRow(std::vector<SequenceRow>& rows, const std::string& name, const std::string& label, RowKind kind,
                    const TimingResult& t)
{
    if (t.sequences.empty())
        return;
    SequenceRow r;
    r.name = name;
    r.label = label;
    r.kind = kind;
    for (const SequenceTotals& q : t.sequences)
        r.sequences.push_back({q.time_share, q.hbmHitRatio(), q.kv_read_bytes, q.migrated_bytes});
    rows.push_back(std::move(r));
}

} // namespace

std::vector<SequenceRow> sequenceRows(const AnalysisResult& result)
{
    std::vector<SequenceRow> rows;
    for (const PolicyOutcome& o : result.policies)
        if (o.timing)
            addSequenceRow(rows, o.info.name, o.info.label, o.info.online ? RowKind::Online : RowKind::Oracle, *o.timing);
    if (result.migration_bound && result.migration_bound->schedule.timing)
        addSequenceRow(rows, "schedule", "best schedule found", RowKind::Oracle, *result.migration_bound->schedule.timing);
    if (result.annealed && result.annealed->schedule.timing)
        addSequenceRow(rows, "annealed", "annealed schedule", RowKind::Oracle, *result.annealed->schedule.timing);
    return rows;
}

BoundBand boundBand(const AnalysisResult& result)
{
    BoundBand b;
    if (!result.migration_bound || !result.selection || result.selection->layout.steps <= 0)
        return b;
    const double steps = static_cast<double>(result.selection->layout.steps);
    b.present = true;
    b.bound_time_per_token = result.migration_bound->total_time / steps;
    b.schedule_time_per_token = result.migration_bound->schedule_time() / steps;
    b.gap = result.migration_bound->gap();
    return b;
}

} // namespace kvtier
