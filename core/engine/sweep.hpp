#pragma once
// Sweeps: one scenario evaluated over a grid of values of one or more axes, every policy
// and bound at every point, points in parallel. Infeasible points are kept with their
// reason, not dropped. The engine sees typed scenarios: the caller builds each point's
// Scenario from its axis values (config/sweep_paths.hpp does it for `--vary key.path`).
#include "core/engine/pipeline.hpp"

#include <functional>
#include <string>
#include <vector>

namespace kvtier {

struct SweepAxis {
    std::string key;               // what varies, e.g. the scenario path "selection.value"
    std::vector<double> values;
    // A categorical axis (e.g. trace.name over several traces): the values are 0..n-1 and
    // name labels[value], which the point's scenario holds and the CSV shows. Empty: numbers.
    // (A default member initializer: SweepAxis{key, values} stays warning-free.)
    std::vector<std::string> labels = {};
};

struct SweepPolicyPoint {
    double total_time_s = 0, throughput_tok_s = 0, hbm_hit_ratio = 0, migrated_bytes = 0;
};

struct SweepPoint {
    size_t index = 0;                  // its place in the grid (cartesian product, last axis fastest)
    std::vector<double> x;             // one value per axis
    std::string error;                 // non-empty: infeasible or invalid here
    double balanced_s = 0, paper_s = 0;
    double balanced_tok_s = 0, paper_tok_s = 0;   // the bounds as throughput (batch x T / time)
    // The heavy bounds (docs/BOUNDS.md), when the scenario enables them; else 0. The
    // migration-aware bound B, its best achievable schedule S, the annealed schedule.
    double migration_bound_s = 0, schedule_s = 0, annealed_s = 0;
    double migration_bound_tok_s = 0, schedule_tok_s = 0, annealed_tok_s = 0;
    std::vector<SweepPolicyPoint> policies;   // same order as SweepResult::policies
};

struct SweepResult {
    std::vector<SweepAxis> axes;
    std::vector<std::string> policies;
    int64_t steps = 0, batch_of_base = 1;
    bool migration_bound = false, annealed = false;   // the base scenario enables them
    std::vector<SweepPoint> points;    // cartesian product, last axis fastest (or the points asked for)
};

// Receives each point as soon as it is complete (index into SweepResult::points), from a
// worker thread, possibly several at once: the receiver synchronises. A cancelled sweep
// throws Cancelled and returns nothing, so a caller that wants to keep the finished
// points (the GUI's Cancel) collects them here; every point it receives is complete.
using SweepPointSink = std::function<void(size_t index, const SweepPoint& point)>;

// Points a sweep may have at most.
inline constexpr size_t kMaxSweepPoints = 1'000'000;

// The number of grid points, multiplied with a check (a product that wrapped would run
// "0 points" and report success). Throws InputError(where, ...) for an empty axis or a
// grid beyond kMaxSweepPoints, naming every axis's size.
size_t sweepGridSize(const std::vector<SweepAxis>& axes, const std::string& where);

// The scenario of one grid point, from its value on every axis (x[k] on axes[k]). May
// throw InputError or InfeasibleError: the point is kept with that reason.
using SweepScenarioAt = std::function<Scenario(const std::vector<double>& x)>;

// Runs `base`'s policies at every point of the grid (cartesian product, last axis fastest).
// `where` names the sweep in errors. `only` (grid indices, each below the grid's size) runs
// just those points, for a shard or a resumed sweep: r.points then holds them in that order
// and onPoint's index is a position in r.points. Empty runs the whole grid.
SweepResult runSweep(Pipeline& pipeline, const Scenario& base, const std::vector<SweepAxis>& axes,
                     const SweepScenarioAt& scenarioAt, const std::string& where, const JobControl& job = {},
                     const SweepPointSink& onPoint = {}, const std::vector<size_t>& only = {});

} // namespace kvtier
