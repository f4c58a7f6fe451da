#pragma once
// Heatmap images for the relevance, placement and expert views: the core's pooled grids
// (core/engine/view_heatmap.hpp) converted to QCPColorMapData, nothing computed here.
// The QCPColorMapData is handed to the view, which takes ownership (setData(ptr, false)).
#include "core/engine/view_experts.hpp"
#include "core/engine/view_heatmap.hpp"

#include <QPointF>
#include <QVector>

#include <cstdint>
#include <memory>
#include <string>

class QCPColorMapData;

namespace kvtier::ui {

struct RelevanceHeatmap {
    PooledGrid grid;
    std::unique_ptr<QCPColorMapData> values;     // max relevance per cell; NaN where no token exists yet
    std::unique_ptr<QCPColorMapData> selected;   // 1: some token of the cell selected, 0: none, NaN: none exist
    double vmin = 1e-6, vmax = 1;                 // colour range (log scale)
    uint64_t key = 0;                             // identifies the content (same key, same image)
    ~RelevanceHeatmap();
};

struct PlacementHeatmap {
    PooledGrid grid;
    std::unique_ptr<QCPColorMapData> categories;  // placementClass (ui/theme.hpp) per cell: category and tier
    QVector<QPointF> promotions, evictions;       // (step, page) marks, one per pooled cell
    std::string policy;
    uint64_t key = 0;
    ~PlacementHeatmap();
};

// The expert heatmap of one layer: the core's grid (its counts tell the hover text) and the
// image, expertClass (ui/theme.hpp) per cell, NaN where a cell covers no (step, expert).
struct ExpertHeatmap {
    ExpertGrid grid;
    std::unique_ptr<QCPColorMapData> classes;
    int tiers = 2;
    uint64_t key = 0;
    ~ExpertHeatmap();
};

std::unique_ptr<RelevanceHeatmap> toHeatmap(const RelevanceGrid& grid);
std::unique_ptr<PlacementHeatmap> toHeatmap(const PlacementGrid& grid);
std::unique_ptr<ExpertHeatmap> toHeatmap(const ExpertGrid& grid, int tiers);

// Copies with a fresh QCPColorMapData, for a second consumer of a cached image.
std::unique_ptr<RelevanceHeatmap> cloneHeatmap(const RelevanceHeatmap& h);
std::unique_ptr<PlacementHeatmap> cloneHeatmap(const PlacementHeatmap& h);
std::unique_ptr<ExpertHeatmap> cloneHeatmap(const ExpertHeatmap& h);

} // namespace kvtier::ui
