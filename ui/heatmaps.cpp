#include "ui/heatmaps.hpp"

#include "ui/theme.hpp"

#include <qcustomplot.h>

#include <limits>

namespace kvtier::ui {

RelevanceHeatmap::~RelevanceHeatmap() = default;
PlacementHeatmap::~PlacementHeatmap() = default;
ExpertHeatmap::~ExpertHeatmap() = default;

namespace {

// Cells are placed at the grid's cell centres (steps and rows centred on integers).
std::unique_ptr<QCPColorMapData> makeData(const PooledGrid& g)
{
    return std::make_unique<QCPColorMapData>(static_cast<int>(g.nx), static_cast<int>(g.ny),
                                             QCPRange(g.centreX(0), g.centreX(0) + g.stepsPerCell() * static_cast<double>(g.nx - 1)),
                                             QCPRange(g.centreY(0), g.centreY(0) + g.rowsPerCell() * static_cast<double>(g.ny - 1)));
}

} // namespace

std::unique_ptr<RelevanceHeatmap> toHeatmap(const RelevanceGrid& r)
{
    auto out = std::make_unique<RelevanceHeatmap>();
    out->grid = r.grid;
    out->vmin = r.vmin;
    out->vmax = r.vmax;
    out->values = makeData(r.grid);
    out->selected = makeData(r.grid);
    for (int64_t by = 0; by < r.grid.ny; ++by)
        for (int64_t bx = 0; bx < r.grid.nx; ++bx) {
            const size_t c = r.grid.index(bx, by);
            out->values->setCell(static_cast<int>(bx), static_cast<int>(by), r.shownValue(c));
            out->selected->setCell(static_cast<int>(bx), static_cast<int>(by), r.shownSelected(c));
        }
    return out;
}

std::unique_ptr<PlacementHeatmap> toHeatmap(const PlacementGrid& p)
{
    auto out = std::make_unique<PlacementHeatmap>();
    out->grid = p.grid;
    out->policy = p.policy;
    out->categories = makeData(p.grid);
    for (int64_t by = 0; by < p.grid.ny; ++by)
        for (int64_t bx = 0; bx < p.grid.nx; ++bx) {
            const size_t c = p.grid.index(bx, by);
            out->categories->setCell(static_cast<int>(bx), static_cast<int>(by),
                                     placementClass(p.category[c], c < p.tier.size() ? p.tier[c] : 0));
            if (p.promoted[c])
                out->promotions.append(QPointF(p.grid.centreX(bx), p.grid.centreY(by)));
            if (p.evicted[c])
                out->evictions.append(QPointF(p.grid.centreX(bx), p.grid.centreY(by)));
        }
    return out;
}

std::unique_ptr<ExpertHeatmap> toHeatmap(const ExpertGrid& e, int tiers)
{
    auto out = std::make_unique<ExpertHeatmap>();
    out->grid = e;
    out->tiers = tiers;
    out->classes = makeData(e.grid);
    for (int64_t by = 0; by < e.grid.ny; ++by)
        for (int64_t bx = 0; bx < e.grid.nx; ++bx) {
            const size_t c = e.grid.index(bx, by);
            out->classes->setCell(static_cast<int>(bx), static_cast<int>(by),
                                  e.tier[c] == 255 ? std::numeric_limits<double>::quiet_NaN()
                                                   : static_cast<double>(expertClass(e.category[c], e.tier[c], tiers)));
        }
    return out;
}

std::unique_ptr<RelevanceHeatmap> cloneHeatmap(const RelevanceHeatmap& h)
{
    auto c = std::make_unique<RelevanceHeatmap>();
    c->grid = h.grid;
    c->vmin = h.vmin;
    c->vmax = h.vmax;
    c->key = h.key;
    if (h.values)
        c->values = std::make_unique<QCPColorMapData>(*h.values);
    if (h.selected)
        c->selected = std::make_unique<QCPColorMapData>(*h.selected);
    return c;
}

std::unique_ptr<PlacementHeatmap> cloneHeatmap(const PlacementHeatmap& h)
{
    auto c = std::make_unique<PlacementHeatmap>();
    c->grid = h.grid;
    c->promotions = h.promotions;
    c->evictions = h.evictions;
    c->policy = h.policy;
    c->key = h.key;
    if (h.categories)
        c->categories = std::make_unique<QCPColorMapData>(*h.categories);
    return c;
}

std::unique_ptr<ExpertHeatmap> cloneHeatmap(const ExpertHeatmap& h)
{
    auto c = std::make_unique<ExpertHeatmap>();
    c->grid = h.grid;
    c->tiers = h.tiers;
    c->key = h.key;
    if (h.classes)
        c->classes = std::make_unique<QCPColorMapData>(*h.classes);
    return c;
}

} // namespace kvtier::ui
