#pragma once
// A streamed analysis (docs/PERFORMANCE.md "Streamed analysis"): the trace is read from its
// database a window of steps at a time; each window is selected, every policy places and
// times it, both per-step bounds are added, and the window is dropped before the next is
// read. Memory is the window (bounded by a stated budget) plus per-unit state of the
// policies and per-step totals, never the whole trace, so traces far larger than memory can
// be analysed. The oracle policies (belady, look-ahead, windowed-look-ahead) read the
// future: when the scenario has one, a pre-pass first reads and selects the trace once more
// a window at a time and writes each read's next read of its unit to a spill file in the
// temp dir (future_spill.hpp: 8 B per read entry on disk, per-unit state in memory), which
// each oracle then reads ahead of its steps in chunks. Every number equals Pipeline::run's
// on the same scenario bit for bit (tst_stream_analysis); what needs the whole trace is not
// produced: the relevance statistics, the annealed schedule and the joint expert policy's
// budget. The migration-aware bound (bounds.migration_aware) is the windowed one
// (migration_bound_windowed.hpp, docs/BOUNDS.md "Windows"): each window's bound with the
// placement at its start free, run after the window's policies, summed; a valid bound,
// looser than the whole-trace one, with the fastest policy as its certificate.
// A policy that places exactly as another the scenario runs (lru-fair and lru-demand on one
// sequence: PolicyInfo::same_on_one_sequence) is run once and reported under both names;
// placements list their moves only for a placement heatmap.
#include "core/engine/future_spill.hpp"
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
    // Where the oracles' spill file goes (future_spill.hpp); empty: the system temp dir.
    std::string spill_dir;
    // Entries the spill is written and read back in per chunk (future_spill.hpp).
    int64_t spill_chunk_entries = FutureSpill::kChunkEntries;
};

struct StreamReport {
    int64_t window_steps = 0;   // steps per window (the last may hold fewer)
    int64_t windows = 0;
    double window_bytes_estimate = 0;   // what one window takes, by the model of PERFORMANCE.md
    std::vector<std::string> oracles_left_out;   // scenario policies a stream cannot run (none now)
    // The oracles' pre-pass (none without oracles): the spill file (already unlinked, so only
    // a name) and the bytes it took on disk, and the pre-pass's time.
    std::string spill_path;
    int64_t spill_bytes = 0;
    double prepass_ms = 0;
    double read_ms = 0, select_ms = 0, place_ms = 0, bound_ms = 0, total_ms = 0;
    double migration_bound_ms = 0;   // the windowed migration-aware bound, when enabled
    // Per scenario policy (as `result.policies`): the CPU time its placement, timing and
    // heatmaps took on the threads that ran them, summed over the windows. A policy run as
    // another (PolicyInfo::same_on_one_sequence) has 0: its time is that one's.
    std::vector<double> policy_cpu_ms;
};

struct StreamedAnalysis {
    // As Pipeline::run fills it, except: `selection` holds the layout and config only (no
    // per-step lists), `trace` the metadata only, `relevance` is null, placements keep their
    // totals (per-step traffic and moves are not kept), `migration_bound` is the windowed
    // bound (its `windows` > 0; its schedule the fastest policy's outcome, no tier-0
    // schedule) and `annealed` is null.
    AnalysisResult result;
    StreamReport report;
    std::optional<RelevanceGrid> relevance_grid;   // when asked for
    std::vector<PlacementGrid> placement_grids;     // as asked for, in that order
};

// Steps per window for a trace of `entriesPerStep` stored entries per step (all sequences
// and layers) and `policies` policies, within `bytes`; at least 1.
int64_t streamWindowSteps(double entriesPerStep, int64_t rowsPerStep, size_t policies, int32_t tiers, int64_t bytes);

// Runs the scenario streamed. Throws InputError before reading any record when no policy
// is chosen, for the annealed schedule (bounds.annealed: it needs the whole trace), for a
// migration-aware bound the scenario cannot have (checkMigrationBound: inclusive placement,
// experts), for the joint expert policy, or for a placement heatmap of a policy the
// scenario does not run; the
// usual InputErrors for the trace, the scenario and the heatmaps' windows; InputError
// naming the spill file when it cannot be created or written (a full disk).
StreamedAnalysis analyzeStreamed(const Scenario& s, const StreamOptions& options = {}, const JobControl& job = {});

} // namespace kvtier
