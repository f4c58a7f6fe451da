#pragma once
// View data: a 2-D sweep (two axes) as a grid over axis 0 x axis 1, per cell the best
// policy's total time, which policy that is, and the time of one chosen policy. Cells of
// points not (yet) computed or infeasible are NaN with no best policy, so a partial
// sweep (points still running, or a cancelled one) shows what has finished.
#include "core/engine/sweep.hpp"

#include <string>
#include <vector>

namespace kvtier {

struct SweepGrid2d {
    std::vector<double> x, y;          // axis 0's values (columns), axis 1's values (rows)
    // Cell (i, j) for x[i], y[j] sits at i * y.size() + j: the sweep's grid index (last
    // axis fastest).
    std::vector<double> best_time_s;   // the smallest total time over the policies; NaN: no value
    std::vector<int> best_policy;      // index into SweepResult::policies; -1: no value
    std::vector<double> policy_time_s; // the chosen policy's total time; NaN: none chosen or no value
    std::vector<std::string> error;    // an infeasible point's reason; empty otherwise
    std::vector<bool> done;            // the point has finished (feasible or not)
    size_t finished = 0;               // how many cells are done
    double min_time_s = 0, max_time_s = 0;   // range of best_time_s over the finite cells (0, 0: none)

    size_t cell(size_t i, size_t j) const { return i * y.size() + j; }
};

// The grid of a sweep over exactly two axes (InputError(where, ...) otherwise). `r.points`
// may hold any subset of the grid (each at its SweepPoint::index). `policy` names the
// chosen policy by its index in r.policies; -1 chooses none.
SweepGrid2d sweepGrid2d(const SweepResult& r, int policy = -1, const std::string& where = "sweep");

// The grid as CSV: one row per axis-1 value, one column per axis-0 value, each cell the
// best policy's total time in seconds (empty when it has none); the corner names both
// axes ("<axis1 key> \ <axis0 key>"). A categorical axis shows its labels.
std::string sweepGrid2dToCsv(const SweepResult& r, const SweepGrid2d& g);

} // namespace kvtier
