#pragma once
// Sweeps: one scenario evaluated over a grid of values of one or more scenario keys
// (e.g. hardware.tiers.0.capacity_bytes), every policy and bound at every point, points
// in parallel. Infeasible points are kept with their reason, not dropped.
#include "core/pipeline.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace kvtier {

class PresetLibrary;

struct SweepAxis {
    std::string key;               // scenario path, e.g. "selection.value"
    std::vector<double> values;
};

// "key=start:stop:step" (inclusive of stop within 1e-9 of a step) or "key=v1,v2,v3".
SweepAxis parseSweepAxis(const std::string& spec);

struct SweepPolicyPoint {
    double total_time_s = 0, throughput_tok_s = 0, hbm_hit_ratio = 0, migrated_bytes = 0;
};

struct SweepPoint {
    std::vector<double> x;             // one value per axis
    std::string error;                 // non-empty: infeasible or invalid here
    double balanced_s = 0, paper_s = 0;
    double balanced_tok_s = 0, paper_tok_s = 0;   // the bounds as throughput (batch x T / time)
    std::vector<SweepPolicyPoint> policies;   // same order as SweepResult::policies
};

struct SweepResult {
    std::vector<SweepAxis> axes;
    std::vector<std::string> policies;
    int64_t steps = 0, batch_of_base = 1;
    std::vector<SweepPoint> points;    // cartesian product, last axis fastest
};

// Receives each point as soon as it is complete (index into SweepResult::points), from a
// worker thread, possibly several at once: the receiver synchronises. A cancelled sweep
// throws Cancelled and returns nothing, so a caller that wants to keep the finished
// points (the GUI's Cancel) collects them here; every point it receives is complete.
using SweepPointSink = std::function<void(size_t index, const SweepPoint& point)>;

// `scenario` is the scenario JSON with presets expanded and the trace db resolved.
SweepResult runSweep(Pipeline& pipeline, const nlohmann::json& scenario, const std::string& where,
                     const PresetLibrary& presets, const std::vector<SweepAxis>& axes, const JobControl& job = {},
                     const SweepPointSink& onPoint = {});

// CSV: axis columns, then balanced_s, paper_s, then per policy <name>_time_s,
// <name>_throughput_tok_s, <name>_hbm_hit_ratio, <name>_migrated_bytes, then error.
std::string sweepToCsv(const SweepResult& r);

} // namespace kvtier
