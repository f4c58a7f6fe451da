#include "ui/heatmaps.hpp"

#include "core/model/error.hpp"
#include "ui/theme.hpp"

#include <qcustomplot.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cmath>
#include <limits>

namespace kvtier::ui {

RelevanceHeatmap::~RelevanceHeatmap() = default;
PlacementHeatmap::~PlacementHeatmap() = default;

namespace {

PooledGrid makeGrid(const HeatmapWindow& w)
{
    PooledGrid g;
    g.window = w;
    g.nx = std::max<int64_t>(2, std::min<int64_t>(w.width, w.t1 - w.t0));
    g.ny = std::max<int64_t>(2, std::min<int64_t>(w.height, w.y1 - w.y0));
    return g;
}

// Steps and rows are drawn as unit-wide cells centred on their integer position.
std::unique_ptr<QCPColorMapData> makeData(const PooledGrid& g)
{
    const double sx = g.stepsPerCell(), sy = g.rowsPerCell();
    const double x0 = static_cast<double>(g.window.t0) - 0.5 + 0.5 * sx;
    const double y0 = static_cast<double>(g.window.y0) - 0.5 + 0.5 * sy;
    return std::make_unique<QCPColorMapData>(static_cast<int>(g.nx), static_cast<int>(g.ny),
                                             QCPRange(x0, x0 + sx * static_cast<double>(g.nx - 1)),
                                             QCPRange(y0, y0 + sy * static_cast<double>(g.ny - 1)));
}

int64_t cellX(const PooledGrid& g, int64_t t)
{
    return (t - g.window.t0) * g.nx / (g.window.t1 - g.window.t0);
}
int64_t cellY(const PooledGrid& g, int64_t y)
{
    return (y - g.window.y0) * g.ny / (g.window.y1 - g.window.y0);
}
// Last step of column bx and first row of row by (integer bounds of the pooled cells).
int64_t lastStepOf(const PooledGrid& g, int64_t bx)
{
    const int64_t span = g.window.t1 - g.window.t0;
    return g.window.t0 + ((bx + 1) * span + g.nx - 1) / g.nx - 1;
}
int64_t firstRowOf(const PooledGrid& g, int64_t by)
{
    const int64_t span = g.window.y1 - g.window.y0;
    return g.window.y0 + (by * span + g.ny - 1) / g.ny;
}

} // namespace

HeatmapWindow clampWindow(HeatmapWindow w, int64_t steps, int64_t rows)
{
    if (w.t1 <= 0 || w.t1 > steps)
        w.t1 = steps;
    w.t0 = std::clamp<int64_t>(w.t0, 0, std::max<int64_t>(0, w.t1 - 1));
    if (w.y1 <= 0 || w.y1 > rows)
        w.y1 = rows;
    w.y0 = std::clamp<int64_t>(w.y0, 0, std::max<int64_t>(0, w.y1 - 1));
    w.width = std::clamp(w.width, 2, 8192);
    w.height = std::clamp(w.height, 2, 8192);
    return w;
}

std::unique_ptr<RelevanceHeatmap> buildRelevanceHeatmap(const Trace& trace, const Selection& sel, HeatmapWindow w,
                                                        const JobControl& job)
{
    const TraceMeta& meta = trace.meta();
    const int64_t rows = meta.prefill + meta.steps;
    w = clampWindow(w, meta.steps, rows);
    auto out = std::make_unique<RelevanceHeatmap>();
    out->grid = makeGrid(w);
    const PooledGrid& g = out->grid;
    const size_t cells = static_cast<size_t>(g.nx * g.ny);
    std::vector<float> value(cells, 0.f);
    std::vector<uint8_t> chosen(cells, 0);
    const int32_t nslots = meta.layerSlots();
    const auto y0 = static_cast<uint32_t>(w.y0), y1 = static_cast<uint32_t>(w.y1);
    for (int64_t t = w.t0; t < w.t1; ++t) {
        if ((t & 31) == 0)
            job.check();
        const size_t bx = static_cast<size_t>(cellX(g, t));
        for (int32_t s = 0; s < nslots && trace.recordId(t, s) < static_cast<size_t>(trace.recordCount()); ++s) {
            const size_t rec = trace.recordId(t, s);
            const auto idx = trace.indices(rec);
            const auto val = trace.values(rec);
            for (size_t k = static_cast<size_t>(std::lower_bound(idx.begin(), idx.end(), y0) - idx.begin());
                 k < idx.size() && idx[k] < y1; ++k) {
                const size_t c = static_cast<size_t>(cellY(g, idx[k])) * static_cast<size_t>(g.nx) + bx;
                value[c] = std::max(value[c], val[k]);
            }
            if (sel.tokens.rows() > sel.row(t, s)) {
                const auto chosenTokens = sel.tokens.row(sel.row(t, s));
                for (auto it = std::lower_bound(chosenTokens.begin(), chosenTokens.end(), y0);
                     it != chosenTokens.end() && *it < y1; ++it)
                    chosen[static_cast<size_t>(cellY(g, *it)) * static_cast<size_t>(g.nx) + bx] = 1;
            }
        }
    }
    float vmax = 0, vminPos = std::numeric_limits<float>::infinity();
    for (float v : value) {
        vmax = std::max(vmax, v);
        if (v > 0)
            vminPos = std::min(vminPos, v);
    }
    out->vmax = vmax > 0 ? static_cast<double>(vmax) : 1.0;
    out->vmin = std::isfinite(vminPos) ? std::max(static_cast<double>(vminPos), out->vmax * 1e-5) : out->vmax * 1e-5;
    if (out->vmin >= out->vmax)
        out->vmin = out->vmax * 1e-3;
    out->values = makeData(g);
    out->selected = makeData(g);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int64_t by = 0; by < g.ny; ++by) {
        const int64_t firstRow = firstRowOf(g, by);
        for (int64_t bx = 0; bx < g.nx; ++bx) {
            const bool exists = firstRow < meta.prefill + lastStepOf(g, bx);
            const size_t c = static_cast<size_t>(by * g.nx + bx);
            const int kx = static_cast<int>(bx), ky = static_cast<int>(by);
            if (!exists) {
                out->values->setCell(kx, ky, nan);
                out->selected->setCell(kx, ky, nan);
            } else {
                out->values->setCell(kx, ky, value[c] > 0 ? std::max(static_cast<double>(value[c]), out->vmin) : out->vmin);
                out->selected->setCell(kx, ky, chosen[c] ? 1.0 : 0.0);
            }
        }
    }
    return out;
}

std::unique_ptr<PlacementHeatmap> buildPlacementHeatmap(const Selection& sel, const PlacementResult& p, HeatmapWindow w,
                                                        const JobControl& job)
{
    const UnitLayout& L = p.layout;
    const int64_t pages = L.pagesAt(L.prefill + L.steps);
    w = clampWindow(w, L.steps, pages);
    auto out = std::make_unique<PlacementHeatmap>();
    out->policy = p.policy;
    out->grid = makeGrid(w);
    const PooledGrid& g = out->grid;
    const size_t cells = static_cast<size_t>(g.nx * g.ny);
    std::vector<uint8_t> cat(cells, kNotCreated);
    std::vector<uint8_t> promo(cells, 0), evict(cells, 0);

    const auto nslots = static_cast<int64_t>(L.slot_count);
    const int64_t units = L.totalUnits();
    const int64_t uLo = w.y0 * nslots, uHi = std::min<int64_t>(w.y1 * nslots, units);
    // Row offset of each unit's cell in the grid, computed once (no division per cell).
    std::vector<uint32_t> rowOffset(static_cast<size_t>(std::max<int64_t>(0, uHi - uLo)));
    for (int64_t u = uLo; u < uHi; ++u)
        rowOffset[static_cast<size_t>(u - uLo)] = static_cast<uint32_t>(cellY(g, u / nslots) * g.nx);
    // Category by (location, read): 0 = HBM, 1..254 = a lower tier, 255 = not created.
    uint8_t code[256][2];
    for (int loc = 0; loc < 256; ++loc) {
        code[loc][0] = loc == 255 ? kNotCreated : (loc == 0 ? kFastIdle : kLowerIdle);
        code[loc][1] = loc == 255 ? kNotCreated : (loc == 0 ? kFastRead : kLowerRead);
    }

    // Columns are split among a few threads; each replays the moves from step 0 to its
    // own first step (cheap: moves only) and then scans its steps. Columns are disjoint,
    // so the threads never write the same cell.
    std::atomic<bool> stop{false};
    auto scan = [&](int64_t c0, int64_t c1) {
        const int64_t span = w.t1 - w.t0;
        const int64_t ts = w.t0 + (c0 * span + g.nx - 1) / g.nx;
        const int64_t te = c1 >= g.nx ? w.t1 : w.t0 + (c1 * span + g.nx - 1) / g.nx;
        std::vector<uint8_t> loc(static_cast<size_t>(units), 255);
        std::vector<int64_t> lastRead(static_cast<size_t>(units), -1);
        int64_t existing = 0;
        for (int64_t t = 0; t < te; ++t) {
            if ((t & 15) == 0 && (job.cancelled() || stop.load(std::memory_order_relaxed))) {
                stop = true;
                return;
            }
            const int64_t before = std::min<int64_t>(L.unitsBefore(t), units);
            for (int64_t u = existing; u < before; ++u)
                loc[static_cast<size_t>(u)] = p.created_tier[static_cast<size_t>(u)];
            existing = std::max(existing, before);
            const bool draw = t >= ts;
            const int64_t bx = draw ? cellX(g, t) : 0;
            if (static_cast<size_t>(t) < p.moves.rows()) {
                for (const Move& m : p.moves.row(static_cast<size_t>(t))) {
                    loc[m.unit] = m.to;
                    if (!draw)
                        continue;
                    const int64_t page = L.pageOf(m.unit);
                    if (page < w.y0 || page >= w.y1)
                        continue;
                    const size_t c = static_cast<size_t>(cellY(g, page) * g.nx + bx);
                    if (m.to == 0 && m.from != 0)
                        promo[c] = 1;
                    else if (m.from == 0 && m.to != 0)
                        evict[c] = 1;
                }
            }
            if (!draw)
                continue;
            if (static_cast<size_t>(t) < sel.step_units.rows())
                for (uint32_t u : sel.step_units.row(static_cast<size_t>(t)))
                    if (static_cast<int64_t>(u) < units)
                        lastRead[u] = t;
            const int64_t hi = std::min(uHi, before);
            const uint8_t* where = loc.data();
            const int64_t* read = lastRead.data();
            uint8_t* column = cat.data() + bx;
            for (int64_t u = uLo; u < hi; ++u) {
                uint8_t& cell = column[rowOffset[static_cast<size_t>(u - uLo)]];
                cell = std::max(cell, code[where[u]][read[u] == t ? 1 : 0]);
            }
        }
    };
    const int64_t work = (w.t1 - w.t0) * std::max<int64_t>(1, uHi - uLo);
    const int threads = work > 2'000'000 ? static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1u, 4u)) : 1;
    if (threads == 1) {
        scan(0, g.nx);
    } else {
        std::vector<std::thread> pool;
        for (int k = 1; k < threads; ++k)
            pool.emplace_back(scan, g.nx * k / threads, g.nx * (k + 1) / threads);
        scan(0, g.nx / threads);
        for (std::thread& th : pool)
            th.join();
    }
    job.check();
    if (stop)
        throw Cancelled();

    out->categories = makeData(g);
    for (int64_t by = 0; by < g.ny; ++by)
        for (int64_t bx = 0; bx < g.nx; ++bx) {
            const size_t c = static_cast<size_t>(by * g.nx + bx);
            out->categories->setCell(static_cast<int>(bx), static_cast<int>(by), cat[c]);
            const double x = static_cast<double>(w.t0) - 0.5 + (static_cast<double>(bx) + 0.5) * g.stepsPerCell();
            const double y = static_cast<double>(w.y0) - 0.5 + (static_cast<double>(by) + 0.5) * g.rowsPerCell();
            if (promo[c])
                out->promotions.append(QPointF(x, y));
            if (evict[c])
                out->evictions.append(QPointF(x, y));
        }
    return out;
}

std::vector<uint8_t> unitTimeline(const PlacementResult& p, uint32_t unit)
{
    const UnitLayout& L = p.layout;
    std::vector<uint8_t> out(static_cast<size_t>(L.steps), 255);
    uint8_t loc = 255;
    for (int64_t t = 0; t < L.steps; ++t) {
        if (loc == 255 && static_cast<int64_t>(unit) < L.unitsBefore(t) && unit < p.created_tier.size())
            loc = p.created_tier[unit];
        if (static_cast<size_t>(t) < p.moves.rows())
            for (const Move& m : p.moves.row(static_cast<size_t>(t)))
                if (m.unit == unit)
                    loc = m.to;
        out[static_cast<size_t>(t)] = loc;
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

} // namespace kvtier::ui
