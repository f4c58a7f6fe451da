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
    // The heavy bounds as throughput; NaN when the sweep did not compute them.
    double migration_bound = 0, schedule = 0, annealed = 0;
    std::vector<double> policy;          // throughput per policy, in the sweep's order
};

SweepSeriesPoint sweepSeriesPoint(const SweepPoint& point, size_t policies);

} // namespace kvtier
