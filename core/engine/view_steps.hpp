#pragma once
// View data: the per-step curves of one policy the bandwidth view draws: step time and
// the bounds, each tier's bandwidth use and busy fraction, and the traffic by kind.
#include "core/engine/pipeline.hpp"

#include <array>
#include <vector>

namespace kvtier {

enum TrafficKind { kWeightRead = 0, kKvRead = 1, kKvWrite = 2, kMigration = 3, kTrafficKinds = 4 };

struct StepSeries {
    std::vector<double> step_time;             // tau[t], seconds
    std::vector<double> balanced, paper;       // the bounds' step times (NaN where missing)
    std::vector<std::vector<double>> tier_use;   // [tier][t]: (R+W) / (B tau), a fraction
    std::vector<std::vector<double>> tier_busy;  // [tier][t]: time_m / tau
};

StepSeries stepSeries(const AnalysisResult& result, const PolicyOutcome& outcome);

// Bytes per step by kind (weights read, KV read, KV written, migrations read + written),
// of one tier or of all (tier = -1), summed over layers and the batch.
std::array<std::vector<double>, kTrafficKinds> trafficSeries(const TimingResult& timing, int32_t tier = -1);

// A curve reduced to about `buckets` columns (the plot's pixel width) for drawing: per
// column of steps [t0, t1) the first and last point and the minimum and the maximum, in
// step order, so every extreme of the full curve is still drawn. NaN points are kept as
// gaps (a column of NaN gives one NaN point). When the range has no more than 4 points
// per column nothing is dropped.
struct DecimatedCurve {
    std::vector<double> x, y;   // x: step index
};
DecimatedCurve decimateMinMax(const std::vector<double>& y, int64_t t0, int64_t t1, int buckets);
// For curves drawn on shared steps (stacked areas): the union, in step order, of every
// curve's decimateMinMax steps, so each curve keeps its own extremes.
std::vector<int64_t> decimatedSteps(const std::vector<const std::vector<double>*>& curves, int64_t t0, int64_t t1,
                                    int buckets);

} // namespace kvtier
