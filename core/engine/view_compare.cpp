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

std::vector<ComparisonRow> comparisonRows(const AnalysisResult& result)
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<ComparisonRow> rows;
    for (const PolicyOutcome& o : result.policies) {
        if (!o.timing)
            continue;
        ComparisonRow r;
        r.name = o.info.name;
        r.label = o.info.label;
        r.kind = o.info.online ? RowKind::Online : RowKind::Oracle;
        r.time_per_token = o.timing->timePerToken();
        r.throughput = o.timing->throughput();
        r.hbm_hit_ratio = o.timing->hbmHitRatio();
        r.migrated_bytes = o.timing->migrated_bytes;
        r.gap = o.gapToBound;
        rows.push_back(r);
    }
    for (const auto& b : {result.balanced, result.paper}) {
        if (!b)
            continue;
        ComparisonRow r;
        r.name = b->name;
        r.label = b->name == "paper" ? "paper bound" : "balanced bound";
        r.kind = RowKind::Bound;
        r.time_per_token = b->timePerToken();
        r.throughput = b->throughput();
        r.gap = result.balanced && result.balanced->total_time > 0 ? b->total_time / result.balanced->total_time : nan;
        r.hbm_hit_ratio = r.migrated_bytes = nan;
        rows.push_back(r);
    }
    return rows;
}

} // namespace kvtier
