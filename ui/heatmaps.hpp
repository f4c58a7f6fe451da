#pragma once
// Heatmap images for the relevance and placement views, built in the worker thread and
// pooled to about the plot's pixel size. Pooling takes the maximum (relevance) or the
// highest-priority category (placement), so a single hot token or a single miss stays
// visible at any zoom; zoomed in far enough, a cell is one step x one token.
// The QCPColorMapData is handed to the view, which takes ownership (setData(ptr, false)).
#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/model/cancel.hpp"
#include "core/model/trace.hpp"

#include <QPointF>
#include <QVector>

#include <cstdint>
#include <memory>

class QCPColorMapData;

namespace kvtier::ui {

// The window of the data to draw. Rows are tokens (relevance) or pages (placement).
struct HeatmapWindow {
    int64_t t0 = 0, t1 = 0;   // steps [t0, t1)
    int64_t y0 = 0, y1 = 0;   // rows [y0, y1)
    int width = 800, height = 400;   // target cells (about the plot's pixels)
    bool operator==(const HeatmapWindow&) const = default;
};

struct PooledGrid {
    int64_t nx = 0, ny = 0;      // cells
    HeatmapWindow window;
    // Cell i covers steps [t0 + i*(t1-t0)/nx, ...), likewise rows.
    double stepsPerCell() const { return static_cast<double>(window.t1 - window.t0) / static_cast<double>(nx); }
    double rowsPerCell() const { return static_cast<double>(window.y1 - window.y0) / static_cast<double>(ny); }
};

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
    std::unique_ptr<QCPColorMapData> categories;  // PlacementCategory per cell
    QVector<QPointF> promotions, evictions;       // (step, page) marks, one per pooled cell
    std::string policy;
    uint64_t key = 0;
    ~PlacementHeatmap();
};

// Clamps a requested window to the data; t1 <= 0 or y1 <= 0 mean "all".
HeatmapWindow clampWindow(HeatmapWindow w, int64_t steps, int64_t rows);

std::unique_ptr<RelevanceHeatmap> buildRelevanceHeatmap(const Trace& trace, const Selection& sel,
                                                        HeatmapWindow w, const JobControl& job = {});
std::unique_ptr<PlacementHeatmap> buildPlacementHeatmap(const Selection& sel, const PlacementResult& placement,
                                                        HeatmapWindow w, const JobControl& job = {});

// Where one unit lives at every step (255 before it exists), replaying the placement's
// moves in step order (the same semantics as core's locationsAt, one unit at a time).
std::vector<uint8_t> unitTimeline(const PlacementResult& placement, uint32_t unit);

// Copies with a fresh QCPColorMapData, for a second consumer of a cached image.
std::unique_ptr<RelevanceHeatmap> cloneHeatmap(const RelevanceHeatmap& h);
std::unique_ptr<PlacementHeatmap> cloneHeatmap(const PlacementHeatmap& h);

} // namespace kvtier::ui
