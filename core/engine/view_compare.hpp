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
    // The two ends of the certified band (docs/BOUNDS.md), NaN when the migration-aware
    // bound was not computed: total time / the migration-aware bound B (>= 1), and total
    // time / the best schedule S (below 1: this row beats the schedule found).
    double gap_to_migration_bound = 0;
    double gap_to_schedule = 0;
    double hbm_hit_ratio = 0;     // NaN for a bound
    double migrated_bytes = 0;    // NaN for a bound
};

// The policies with a timing, in the scenario's order; then, when computed, the best
// schedule and the annealed schedule (oracles: found with the whole trace known); then the
// migration-aware bound ("migration_aware"), the balanced and the paper bound.
std::vector<ComparisonRow> comparisonRows(const AnalysisResult& result);

// The certified band: no exclusive placement takes less than `bound` (B), and `schedule`
// (S) is achieved; times per output token. Absent without the migration-aware bound.
struct BoundBand {
    bool present = false;
    double bound_time_per_token = 0, schedule_time_per_token = 0;
    double gap = 0;               // S / B
};
BoundBand boundBand(const AnalysisResult& result);

// One sequence of a batch (MODEL.md §8) under one policy, as TimingResult::sequences has it.
struct SequenceCell {
    double time_share = 0;        // its share of the total time (the shares of a row add up to 1)
    double hbm_hit_ratio = 0;     // its KV read from units with a copy in HBM / its KV read
    double kv_read_bytes = 0;
    double migrated_bytes = 0;
};

// One policy (or schedule) of the comparison with a cell per sequence, 0..S-1.
struct SequenceRow {
    std::string name, label;
    RowKind kind = RowKind::Online;
    std::vector<SequenceCell> sequences;
};

// The per-sequence books of the timed rows of comparisonRows (policies, then the best and
// the annealed schedule), in its order; empty for a trace of one sequence (S = 1).
std::vector<SequenceRow> sequenceRows(const AnalysisResult& result);

} // namespace kvtier
