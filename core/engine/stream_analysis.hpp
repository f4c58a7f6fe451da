#pragma once
// A streamed analysis (docs/PERFORMANCE.md "Streamed analysis"): the trace is read from its
// database a window of steps at a time; each window is selected, every online policy
// places and times it, both per-step bounds are added, and the window is dropped before
// the next is read. Memory is the window (bounded by a stated budget) plus per-unit state
// of the policies and per-step totals, never the whole trace, so traces far larger than
// memory can be analysed. Every number equals Pipeline::run's on the same scenario bit for
// bit (tst_stream_analysis); what needs the whole trace is not produced: the oracle
// policies (they read the future), the relevance statistics, the migration-aware bound and
// the joint expert policy's budget.
#include "core/engine/pipeline.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/model/cancel.hpp"
#include "core/model/scenario.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kvtier {

struct StreamOptions {
    // Bytes a window may take (its records, its selection and the policies' traffic of
    // it); the window's steps follow from the trace's entries per step.
    int64_t window_bytes = int64_t{256} << 20;
    // Steps per window; 0: from window_bytes.
    int64_t window_steps = 0;
    // Heatmaps pooled while the windows pass (view_heatmap.hpp): the relevance heatmap of
    // this window of the trace, and the placement heatmaps of these online policies.
    std::optional<HeatmapWindow> relevance_grid;
    struct PlacementHeatmap {
        std::string policy;
        HeatmapWindow window;
    };
    std::vector<PlacementHeatmap> placement_grids;
};

struct StreamReport {
    int64_t window_steps = 0;   // steps per window (the last may hold fewer)
    int64_t windows = 0;
    double window_bytes_estimate = 0;   // what one window takes, by the model of PERFORMANCE.md
    std::vector<std::string> oracles_left_out;   // scenario policies a stream cannot run
    double read_ms = 0, select_ms = 0, place_ms = 0, bound_ms = 0, total_ms = 0;
};

struct StreamedAnalysis {
    // As Pipeline::run fills it, except: `selection` holds the layout and config only (no
    // per-step lists), `trace` the metadata only, `relevance` is null, placements keep their
    // totals (per-step traffic and moves are not kept), and the oracle policies are absent.
    AnalysisResult result;
    StreamReport report;
    std::optional<RelevanceGrid> relevance_grid;   // when asked for
    std::vector<PlacementGrid> placement_grids;     // as asked for, in that order
};

// Steps per window for a trace of `entriesPerStep` stored entries per step (all sequences
// and layers) and `policies` policies, within `bytes`; at least 1.
int64_t streamWindowSteps(double entriesPerStep, int64_t rowsPerStep, size_t policies, int32_t tiers, int64_t bytes);

// Runs the scenario streamed. Throws InputError before reading any record when no online
// policy is chosen, when the bounds need the whole trace (bounds.migration_aware), for
// the joint expert policy, or for a placement heatmap of a policy the stream does not
// run; the usual InputErrors for the trace, the scenario and the heatmaps' windows.
StreamedAnalysis analyzeStreamed(const Scenario& s, const StreamOptions& options = {}, const JobControl& job = {});

} // namespace kvtier
