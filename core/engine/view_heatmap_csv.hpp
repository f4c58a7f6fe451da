#pragma once
// The heatmap grids as CSV, one line per cell: what `kvtier-cli view heatmap` (and `view
// experts`) writes and the GUI's full-resolution heatmap export writes (the same text for
// the same grid).
#include "core/engine/view_experts.hpp"
#include "core/engine/view_heatmap.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace kvtier {

// A window of one cell per step and row (up to kFullResolutionCells of each; beyond, rows
// or steps are pooled as the views pool them).
inline constexpr int kFullResolutionCells = 8192;
HeatmapWindow fullResolutionWindow(int64_t t0 = 0, int64_t t1 = 0, int64_t y0 = 0, int64_t y1 = 0, int32_t layer = -1);

void writeRelevanceCsv(std::ostream& out, const RelevanceGrid& g, const std::string& traceName);
void writePlacementCsv(std::ostream& out, const PlacementGrid& g, const std::string& policyName);
// The expert heatmap of one layer; tierNames name the tiers (tier and moved_from columns).
void writeExpertCsv(std::ostream& out, const ExpertGrid& g, const std::string& policyName, const std::string& expertPolicy,
                    const std::vector<std::string>& tierNames);

} // namespace kvtier
