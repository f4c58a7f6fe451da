#pragma once
// View data: the pooled heatmap grids the relevance and placement views draw (and
// `kvtier-cli view heatmap` writes). A window of steps x rows (tokens or pages) is pooled
// to about the plot's pixel size by taking the maximum (relevance) or the highest-priority
// category (placement), so a single hot token or a single miss stays visible at any zoom;
// zoomed in far enough, a cell is one step x one row. Either one layer slot is shown or
// the maximum over all of them (layer = -1). Pooling runs on oneTBB through parallelFor.
#include "core/model/cancel.hpp"
#include "core/model/selection.hpp"
#include "core/model/trace.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kvtier {

struct PlacementResult;

// Placement heatmap categories, in pooling priority (a pooled cell shows the highest).
enum PlacementCategory : uint8_t {
    kNotCreated = 0,
    kLowerIdle = 1,     // lives in a lower tier, not read this step
    kFastIdle = 2,      // resident in HBM, not read
    kFastRead = 3,      // read from HBM
    kLowerRead = 4,     // read from a lower tier (the expensive case)
    kCategoryCount = 5
};
const char* toString(PlacementCategory c);

// The window of the data to draw. Rows are tokens (relevance) or pages (placement).
struct HeatmapWindow {
    int64_t t0 = 0, t1 = 0;          // steps [t0, t1)
    int64_t y0 = 0, y1 = 0;          // rows [y0, y1)
    int width = 800, height = 400;   // target cells (about the plot's pixels)
    int32_t layer = -1;              // a layer slot, or -1: the maximum over every slot
    int32_t sequence = 0;            // the sequence of a batch (MODEL.md §8) whose rows are shown
    bool operator==(const HeatmapWindow&) const = default;
};

// Clamps a requested window to the data; t1 <= 0 or y1 <= 0 mean "all".
HeatmapWindow clampWindow(HeatmapWindow w, int64_t steps, int64_t rows);

// The cells of a clamped window. Cell bx covers steps [t0 + bx*(t1-t0)/nx, ...), likewise rows.
struct PooledGrid {
    int64_t nx = 0, ny = 0;
    HeatmapWindow window;
    double stepsPerCell() const { return static_cast<double>(window.t1 - window.t0) / static_cast<double>(nx); }
    double rowsPerCell() const { return static_cast<double>(window.y1 - window.y0) / static_cast<double>(ny); }
    // Steps and rows are drawn as unit-wide cells centred on their integer position.
    double centreX(int64_t bx) const { return static_cast<double>(window.t0) - 0.5 + (static_cast<double>(bx) + 0.5) * stepsPerCell(); }
    double centreY(int64_t by) const { return static_cast<double>(window.y0) - 0.5 + (static_cast<double>(by) + 0.5) * rowsPerCell(); }
    int64_t cellOfStep(int64_t t) const { return (t - window.t0) * nx / (window.t1 - window.t0); }
    int64_t cellOfRow(int64_t y) const { return (y - window.y0) * ny / (window.y1 - window.y0); }
    // Integer bounds of the pooled cells: first step of column bx, first row of row by.
    int64_t firstStepOf(int64_t bx) const { return window.t0 + (bx * (window.t1 - window.t0) + nx - 1) / nx; }
    int64_t firstRowOf(int64_t by) const { return window.y0 + (by * (window.y1 - window.y0) + ny - 1) / ny; }
    size_t cells() const { return static_cast<size_t>(nx * ny); }
    size_t index(int64_t bx, int64_t by) const { return static_cast<size_t>(by * nx + bx); }
};
// The pooled cells of a clamped window: at least 2 x 2, at most one per step and row (a
// window of one step or row leaves a column or row with none).
PooledGrid pooledGrid(const HeatmapWindow& clamped);

// Relevance of the trace's tokens (rows) over steps, and whether the selection read them.
struct RelevanceGrid {
    PooledGrid grid;
    std::vector<float> max_value;    // per cell (index(bx, by)): the largest score, 0 when none
    std::vector<uint8_t> selected;   // 1: some token of the cell selected
    std::vector<uint8_t> exists;     // 1: some token of the cell exists at some step of it
    double vmin = 1e-6, vmax = 1;    // colour range of a log scale
    // What a cell shows on the log colour scale: NaN where no token exists yet, else the
    // maximum raised to vmin (a zero or tiny score is the scale's floor).
    double shownValue(size_t c) const;
    double shownSelected(size_t c) const;   // NaN, 0 or 1
};

// Where the units (rows = pages) are and whether they are read, over steps.
struct PlacementGrid {
    PooledGrid grid;
    std::string policy;
    std::vector<uint8_t> category;   // PlacementCategory per cell
    // Per cell, the tier of the unit that decided its category (the deepest tier among
    // equals, so a read from CXL outranks one from DRAM); 255 where nothing exists yet.
    // Idle and read categories of tiers 1.. are told apart by this, not by the category.
    std::vector<uint8_t> tier;
    std::vector<uint8_t> promoted;   // 1: some unit of the cell moved into tier 0 at one of its steps
    std::vector<uint8_t> evicted;    // 1: some unit of the cell left tier 0
};

// Throws InputError when the layer is neither -1 nor a slot of the trace.
RelevanceGrid relevanceGrid(const Trace& trace, const Selection& sel, HeatmapWindow w, const JobControl& job = {});
PlacementGrid placementGrid(const Selection& sel, const PlacementResult& placement, HeatmapWindow w,
                            const JobControl& job = {});

// The same grids pooled while a streamed analysis passes (engine/stream_analysis.hpp): each
// window of steps is pooled as it goes by and dropped. Pooling takes maxima, so the finished
// grid equals relevanceGrid's / placementGrid's on the whole run, cell for cell; memory is
// the grid plus, for placements, two per-unit arrays (where each unit is, when it was read).
class RelevanceGridStream {
public:
    // Throws InputError for a layer or sequence the trace does not have.
    RelevanceGridStream(const TraceMeta& meta, const HeatmapWindow& w);
    ~RelevanceGridStream();
    RelevanceGridStream(const RelevanceGridStream&) = delete;
    RelevanceGridStream& operator=(const RelevanceGridStream&) = delete;
    void add(const Trace& window, const Selection& sel, const JobControl& job = {});   // in step order
    RelevanceGrid finish();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

class PlacementGridStream {
public:
    PlacementGridStream(const UnitLayout& layout, const std::string& policy, const HeatmapWindow& w);
    ~PlacementGridStream();
    PlacementGridStream(const PlacementGridStream&) = delete;
    PlacementGridStream& operator=(const PlacementGridStream&) = delete;
    // A window's selection and the policy's placement of it (PlacementStream::run's
    // result: its moves are the window's), in step order.
    void add(const Selection& sel, const PlacementResult& placement, const JobControl& job = {});
    PlacementGrid finish();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace kvtier
