#pragma once
// View data: the expert heatmap of a MoE model (MODEL.md §9, docs/GUI.md "Experts"): for one
// model layer, steps x experts, whether each expert is read at the step and where it lives
// then (after the step's moves, from which its reads are served), and whether the expert
// policy moved it at that step. Pooled like the placement heatmap (view_heatmap.hpp): a
// pooled cell shows the highest-priority class of the (step, expert) pairs it covers, among
// equals the deepest tier, so a single miss or move stays visible at any zoom; exact counts
// per class stay with every cell (the hover text). `kvtier-cli view experts` writes it.
#include "core/engine/expert_residency.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/model/cancel.hpp"
#include "core/model/experts.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

// Expert heatmap classes, in pooling priority (a pooled cell shows the highest).
enum ExpertCategory : uint8_t {
    kExpertLowerIdle = 0,   // lives in a lower tier, not read this step
    kExpertFastIdle = 1,    // lives in tier 0, not read
    kExpertFastRead = 2,    // read from tier 0 (a hit)
    kExpertLowerRead = 3,   // read from a lower tier (a miss)
    kExpertMigrated = 4,    // moved by the expert policy at this step (read or not)
    kExpertCategoryCount = 5
};
const char* toString(ExpertCategory c);

struct ExpertGrid {
    PooledGrid grid;                  // rows are the experts 0 .. E-1; window.layer the model layer
    int32_t experts = 0, layers = 0;  // E, L
    bool expert_sets = false;         // false: the trace names no experts, every one is read every step
    std::vector<uint8_t> category;    // ExpertCategory per cell (grid.index(bx, by))
    // Per cell, the tier of the pair that decided its category (the deepest among equals):
    // where the expert lives after the step's moves (for a move: where it went).
    std::vector<uint8_t> tier;
    // Per cell, the tier a move of the cell came from (its last move in (step, expert)
    // order), 255 when nothing moved.
    std::vector<uint8_t> moved_from;
    // Per cell, the (step, expert) pairs in each state, kExpertCategoryCount entries: each
    // pair counts once among the first four (idle or read, by its tier), and a moved pair
    // also counts as kExpertMigrated.
    std::vector<std::array<uint32_t, kExpertCategoryCount>> counts;
};

// The grid of model layer w.layer (0 .. L-1) over steps [t0, t1) and experts [y0, y1) of w
// (clamped as clampWindow does), from the residency (its initial tiers and moves;
// TimingResult::expert_residency) and the trace's expert sets (null or empty: every expert is
// read every step). Throws InputError when the layer is not one of the model's or the
// residency has no experts. Pooling runs on oneTBB through parallelFor; a cancelled job throws.
ExpertGrid expertGrid(const ExpertSets* sets, const ExpertResidency& residency, HeatmapWindow w,
                      const JobControl& job = {});

} // namespace kvtier
