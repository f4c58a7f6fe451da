#pragma once
// View data: a sweep's curves, one value per point for the bounds and every policy, as
// the sweep view draws them. A point that is infeasible or has no value is NaN (a gap).
#include "core/engine/sweep.hpp"

#include <vector>

namespace kvtier {

struct SweepSeriesPoint {
    double x = 0;               // the first axis's value
    bool feasible = false;
    double balanced = 0, paper = 0;      // throughput, tokens/s
    std::vector<double> policy;          // throughput per policy, in the sweep's order
};

SweepSeriesPoint sweepSeriesPoint(const SweepPoint& point, size_t policies);

} // namespace kvtier
