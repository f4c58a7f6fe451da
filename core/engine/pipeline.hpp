#pragma once
// The pipeline of cached stages (DESIGN.md "Data flow"):
//   trace -> selection -> placement per policy -> timing -> metrics, plus the bounds.
// Each stage is a pure function of its inputs and cached by them, so a bandwidth change
// re-times without re-placing, a capacity change re-places without re-selecting, and a
// sparsity change re-selects. Thread-safe: the GUI worker and sweeps share one Pipeline.
#include "core/engine/annealing.hpp"
#include "core/engine/bounds.hpp"
#include "core/engine/migration_bound.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/relevance.hpp"
#include "core/engine/timing.hpp"
#include "core/model/cancel.hpp"
#include "core/model/scenario.hpp"
#include "core/model/trace.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kvtier {

struct PolicyOutcome {
    PolicyInfo info;
    PolicyParams params;
    std::shared_ptr<const PlacementResult> placement;
    std::shared_ptr<const TimingResult> timing;
    // time / balanced bound time (>= 1)
    double gapToBound = 0;
    // The placement stage's cache key: equal keys, identical placements (views cache by it).
    std::string placement_key;
};

struct StageStats {
    double load_ms = 0, select_ms = 0, place_ms = 0, time_ms = 0, bound_ms = 0, total_ms = 0;
    double migration_bound_ms = 0, anneal_ms = 0;   // the heavy bounds, when enabled
    int selections_computed = 0, placements_computed = 0, timings_computed = 0, bounds_computed = 0;
    int heavy_bounds_computed = 0;
};

// Capacities as MODEL.md §4 defines them, with the numbers for messages.
struct CapacityPlan {
    double unit_bytes = 0;                    // g x kappa (x L for aggregated traces), one sequence
    std::vector<double> kv_bytes;             // per tier, all sequences: C - weights - reserve
    std::vector<int64_t> units;               // per tier, per sequence
    int64_t units_needed = 0;                 // units at the end of the run
};
// Throws InfeasibleError with the numbers when weights or KV cannot fit. `tc` is the timing
// config the stages run with (s.timingConfig(), with the joint expert policy's budget
// resolved: expert_joint.hpp); the two-argument form uses s.timingConfig() as it is.
CapacityPlan planCapacity(const Scenario& s, const UnitLayout& layout, const TimingConfig& tc);
CapacityPlan planCapacity(const Scenario& s, const UnitLayout& layout);
// Units a tier can hold are capped here (exact in a double; 16 tiers still sum in int64).
inline constexpr int64_t kMaxTierUnits = int64_t{1} << 53;

// Per-unit state is what analyses allocate most of; beyond this many units per sequence
// (pages x layer slots) a run is refused before anything is sized by them
// (docs/SCENARIO.md "Limits").
inline constexpr int64_t kMaxAnalysisUnits = int64_t{1} << 27;
// Throws InputError naming the trace when it needs more units than kMaxAnalysisUnits.
void checkAnalysisSize(const Trace& trace, const Scenario& s);
// Throws InputError("model.layers", ...) when a per-layer trace has other layers than the model.
void checkLayersMatch(const TraceMeta& meta, const Scenario& s);
// About how many bytes an analysis of this trace takes, for "too large for memory" messages.
double analysisBytesEstimate(const TraceMeta& meta, int64_t entries, const Scenario& s);

struct AnalysisResult {
    Scenario scenario;
    std::shared_ptr<const Trace> trace;
    std::shared_ptr<const Selection> selection;
    std::string selection_key;   // the selection stage's cache key (trace file, name, selection config)
    std::shared_ptr<const RelevanceStats> relevance;   // of the selection: turnover, reuse, stays
    CapacityPlan capacity;
    std::shared_ptr<const BoundResult> balanced, paper;
    std::vector<PolicyOutcome> policies;
    // Scenario "bounds" (null unless enabled): the migration-aware bound B with its best
    // schedule S (an oracle placement, drawable like a policy), and the annealed schedule.
    std::shared_ptr<const MigrationBoundResult> migration_bound;
    std::shared_ptr<const AnnealResult> annealed;
    // Their cache keys (empty when absent): equal keys, identical schedules (views cache by it).
    std::string migration_bound_key, annealed_key;
    StageStats stats;
    // The joint expert policy's budget, chosen from the selection (expert_joint.hpp); -1
    // for every other expert policy.
    int64_t expert_budget = -1;
    // The timing config the stages ran with: scenario.timingConfig() with expert_budget.
    TimingConfig timingConfig() const
    {
        TimingConfig c = scenario.timingConfig();
        c.expert_budget = expert_budget;
        return c;
    }
};

// The stages in data-flow order; a later one reruns whenever an earlier one does.
enum class Stage { None = 0, Timing = 1, Placement = 2, Selection = 3, Trace = 4 };
const char* toString(Stage s);

// The earliest stage that must rerun when the scenario changes from `from` to `to`
// (a change of names alone reruns Timing, which only reads the caches). Decided from the
// inputs the stages' cache keys are built from, so callers never guess which field forces
// what; a field this function does not know (a new one) reruns from the trace.
Stage firstStageToRerun(const Scenario& from, const Scenario& to);

class Pipeline {
public:
    Pipeline();
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Loads (or returns the cached) trace. The cache key includes the file's size and
    // modification time, so a re-imported database is re-read.
    std::shared_ptr<const Trace> trace(const std::string& db, const std::string& name, const JobControl& job = {});

    // Runs everything the scenario asks for. Policies run in parallel.
    AnalysisResult run(const Scenario& s, const JobControl& job = {});

    void clear();

private:
    void heavyBounds(const Scenario& s, AnalysisResult& r, const PlacementConfig& pc, const TimingConfig& tc,
                     const std::string& baseKey, const JobControl& job);
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace kvtier
