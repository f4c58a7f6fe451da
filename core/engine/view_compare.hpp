#pragma once
// View data: the comparison of every policy against the bounds, one row each, as the
// comparison view shows it and `kvtier-cli view compare` writes it.
#include "core/engine/pipeline.hpp"

#include <string>
#include <vector>

namespace kvtier {

enum class RowKind { Online, Oracle, Bound };
const char* toString(RowKind k);   // "online", "oracle", "bound"

struct ComparisonRow {
    std::string name, label;      // policy or bound ("balanced", "paper")
    RowKind kind = RowKind::Online;
    double time_per_token = 0;    // seconds
    double throughput = 0;        // output tokens/s over the batch
    double gap = 0;               // total time / the balanced bound's (NaN without it)
    double hbm_hit_ratio = 0;     // NaN for a bound
    double migrated_bytes = 0;    // NaN for a bound
};

// The policies with a timing, in the scenario's order, then the balanced and paper bounds.
std::vector<ComparisonRow> comparisonRows(const AnalysisResult& result);

} // namespace kvtier
