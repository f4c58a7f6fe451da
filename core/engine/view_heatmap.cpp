#include "core/engine/view_heatmap.hpp"

#include "core/engine/placement.hpp"
#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kvtier {

const char* toString(PlacementCategory c)
{
    switch (c) {
    case kNotCreated: return "not_created";
    case kLowerIdle: return "lower_idle";
    case kFastIdle: return "fast_idle";
    case kFastRead: return "fast_read";
    case kLowerRead: return "lower_read";
    default: return "?";
    }
}

PooledGrid pooledGrid(const HeatmapWindow& w)
{
    PooledGrid g;
    g.window = w;
    g.nx = std::max<int64_t>(2, std::min<int64_t>(w.width, w.t1 - w.t0));
    g.ny = std::max<int64_t>(2, std::min<int64_t>(w.height, w.y1 - w.y0));
    return g;
}

namespace {

// Last step of column bx.
int64_t lastStepOf(const PooledGrid& g, int64_t bx)
{
    return g.firstStepOf(bx + 1) - 1;
}

void checkSequence(int32_t sequence, int32_t sequences, const std::string& what)
{
    if (sequence < 0 || sequence >= sequences)
        throw InputError("sequence " + std::to_string(sequence),
                         what + " has " + std::to_string(sequences) + " sequence(s): 0.." + std::to_string(sequences - 1));
}

void checkLayer(int32_t layer, int32_t slots, const std::string& what)
{
    if (layer < -1 || layer >= slots)
        throw InputError("layer " + std::to_string(layer),
                         what + " has " + std::to_string(slots) + " layer slot" + (slots == 1 ? "" : "s") +
                             " (0.." + std::to_string(slots - 1) + "); -1 shows the maximum over all");
}

// Column blocks for the pooling loops: each block owns whole columns, so no two tasks
// write the same cell and the result does not depend on the number of threads.
int64_t blocksFor(int64_t columns, int64_t work, int64_t maxBlocks)
{
    if (work <= 2'000'000)
        return 1;
    return std::clamp<int64_t>(maxBlocks, 1, columns);
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

double RelevanceGrid::shownValue(size_t c) const
{
    if (!exists[c])
        return std::numeric_limits<double>::quiet_NaN();
    return max_value[c] > 0 ? std::max(static_cast<double>(max_value[c]), vmin) : vmin;
}

double RelevanceGrid::shownSelected(size_t c) const
{
    if (!exists[c])
        return std::numeric_limits<double>::quiet_NaN();
    return selected[c] ? 1.0 : 0.0;
}

namespace {

// The grid of a relevance heatmap: checks, clamps and allocates. `prefill` receives P_q.
RelevanceGrid startRelevance(const TraceMeta& meta, HeatmapWindow w, int64_t& prefill)
{
    const int32_t nslots = meta.layerSlots();
    checkLayer(w.layer, nslots, "trace '" + meta.name + "'");
    checkSequence(w.sequence, meta.sequenceCount(), "trace '" + meta.name + "'");
    prefill = meta.prefillOf(w.sequence);
    w = clampWindow(w, meta.steps, prefill + meta.steps);
    RelevanceGrid out;
    out.grid = pooledGrid(w);
    out.max_value.assign(out.grid.cells(), 0.f);
    out.selected.assign(out.grid.cells(), 0);
    out.exists.assign(out.grid.cells(), 0);
    return out;
}

// Pools steps [ts, te) of the grid's window (the trace and selection hold them: the whole
// run or a window of it) into `out` by maximum, so pooling a run in pieces gives the same cells.
void poolRelevance(const Trace& trace, const Selection& sel, int64_t ts, int64_t te, RelevanceGrid& out,
                   const JobControl& job)
{
    const PooledGrid& g = out.grid;
    const HeatmapWindow& w = g.window;
    const int32_t q = w.sequence;
    const int32_t nslots = trace.meta().layerSlots();
    const auto y0 = static_cast<uint32_t>(w.y0), y1 = static_cast<uint32_t>(w.y1);
    const int32_t s0 = w.layer < 0 ? 0 : w.layer, s1 = w.layer < 0 ? nslots : w.layer + 1;
    for (int64_t t = std::max(ts, w.t0); t < std::min(te, w.t1); ++t) {
        if ((t & 31) == 0)
            job.check();
        const size_t bx = static_cast<size_t>(g.cellOfStep(t));
        for (int32_t s = s0; s < s1 && trace.recordId(t, q, s) < static_cast<size_t>(trace.recordCount()); ++s) {
            const size_t rec = trace.recordId(t, q, s);
            const auto idx = trace.indices(rec);
            const auto val = trace.values(rec);
            for (size_t k = static_cast<size_t>(std::lower_bound(idx.begin(), idx.end(), y0) - idx.begin());
                 k < idx.size() && idx[k] < y1; ++k) {
                const size_t c = static_cast<size_t>(g.cellOfRow(idx[k])) * static_cast<size_t>(g.nx) + bx;
                out.max_value[c] = std::max(out.max_value[c], val[k]);
            }
            if (sel.tokens.rows() > sel.recordRow(t, q, s)) {
                const auto chosen = sel.tokens.row(sel.recordRow(t, q, s));
                for (auto it = std::lower_bound(chosen.begin(), chosen.end(), y0); it != chosen.end() && *it < y1; ++it)
                    out.selected[static_cast<size_t>(g.cellOfRow(*it)) * static_cast<size_t>(g.nx) + bx] = 1;
            }
        }
    }
}

// The colour range and which cells exist, once every step is pooled.
void finishRelevance(RelevanceGrid& out, int64_t prefill)
{
    const PooledGrid& g = out.grid;
    float vmax = 0, vminPos = std::numeric_limits<float>::infinity();
    for (float v : out.max_value) {
        vmax = std::max(vmax, v);
        if (v > 0)
            vminPos = std::min(vminPos, v);
    }
    out.vmax = vmax > 0 ? static_cast<double>(vmax) : 1.0;
    out.vmin = std::isfinite(vminPos) ? std::max(static_cast<double>(vminPos), out.vmax * 1e-5) : out.vmax * 1e-5;
    if (out.vmin >= out.vmax)
        out.vmin = out.vmax * 1e-3;
    for (int64_t by = 0; by < g.ny; ++by) {
        const int64_t firstRow = g.firstRowOf(by);
        for (int64_t bx = 0; bx < g.nx; ++bx)
            out.exists[g.index(bx, by)] = firstRow < prefill + lastStepOf(g, bx) ? 1 : 0;
    }
}

// Code by (location, read): 0 = HBM, 1..254 = a lower tier, 255 = not created. The code is
// category * 32 + tier, so the pooled maximum is the highest category and, among equals,
// the deepest tier; finishPlacement splits it into category and tier.
constexpr int kTierBits = 32;

// The units a placement heatmap shows and the replayed state of every unit: where it is
// and when it was last read. One per pass over the steps (a block of columns, or a stream).
struct PlacementPass {
    std::vector<uint32_t> shown;       // the window's units (sequence q's pages y0..y1, one slot or all)
    std::vector<uint32_t> rowOffset;   // of each one's cell row in the grid
    uint8_t code[256][2] = {};
    std::vector<uint8_t> loc;          // per unit, 255 until created
    std::vector<int64_t> lastRead;     // per unit
    int64_t existing = 0;              // units created so far

    // withState = false: the shown units only (to size the work).
    PlacementPass(const UnitLayout& L, const PooledGrid& g, bool withState = true)
    {
        const HeatmapWindow& w = g.window;
        const int64_t units = L.totalUnits();
        for (int64_t page = w.y0; page < w.y1; ++page)
            for (int32_t s = w.layer < 0 ? 0 : w.layer; s < (w.layer < 0 ? L.slot_count : w.layer + 1); ++s) {
                const uint32_t u = L.unit(w.sequence, page, s);
                if (static_cast<int64_t>(u) >= units) continue;
                shown.push_back(u);
                rowOffset.push_back(static_cast<uint32_t>(g.cellOfRow(page) * g.nx));
            }
        for (int l = 0; l < 256; ++l) {
            const int tierPart = std::min(l, kTierBits - 1);
            code[l][0] = static_cast<uint8_t>(l == 255 ? 0 : (l == 0 ? kFastIdle : kLowerIdle) * kTierBits + tierPart);
            code[l][1] = static_cast<uint8_t>(l == 255 ? 0 : (l == 0 ? kFastRead : kLowerRead) * kTierBits + tierPart);
        }
        if (!withState) return;
        loc.assign(static_cast<size_t>(units), 255);
        lastRead.assign(static_cast<size_t>(units), -1);
    }

    // Replays steps [from, to) (sel and p hold them: p.moves row t - sel.first_step) and
    // pools those at or after `drawFrom` into out's cells (codes, by maximum).
    void run(const Selection& sel, const PlacementResult& p, int64_t from, int64_t to, int64_t drawFrom,
             PlacementGrid& out, const JobControl& job)
    {
        const PooledGrid& g = out.grid;
        const HeatmapWindow& w = g.window;
        const UnitLayout& L = p.layout;
        const int32_t q = w.sequence;
        const int64_t units = static_cast<int64_t>(loc.size());
        for (int64_t t = from; t < to; ++t) {
            if ((t & 15) == 0)
                job.check();
            const int64_t before = std::min<int64_t>(L.unitsBefore(t), units);
            for (int64_t u = existing; u < before; ++u)
                loc[static_cast<size_t>(u)] = p.created_tier[static_cast<size_t>(u)];
            existing = std::max(existing, before);
            const bool draw = t >= drawFrom;
            const int64_t bx = draw ? g.cellOfStep(t) : 0;
            const auto moveRow = static_cast<size_t>(t - sel.first_step);
            if (moveRow < p.moves.rows()) {
                for (const Move& m : p.moves.row(moveRow)) {
                    loc[m.unit] = m.to;
                    if (!draw || (w.layer >= 0 && L.slotOf(m.unit) != w.layer) || L.sequenceOf(m.unit) != q)
                        continue;
                    const int64_t page = L.pageOf(m.unit);
                    if (page < w.y0 || page >= w.y1)
                        continue;
                    const size_t c = g.index(bx, g.cellOfRow(page));
                    if (m.to == 0 && m.from != 0)
                        out.promoted[c] = 1;
                    else if (m.from == 0 && m.to != 0)
                        out.evicted[c] = 1;
                }
            }
            if (!draw)
                continue;
            if (t >= sel.first_step && t < sel.endStep())
                for (uint32_t u : sel.step_units.row(sel.stepRow(t)))
                    if (static_cast<int64_t>(u) < units)
                        lastRead[u] = t;
            const uint8_t* where = loc.data();
            const int64_t* read = lastRead.data();
            uint8_t* column = out.category.data() + bx;
            for (size_t k = 0; k < shown.size(); ++k) {
                const uint32_t u = shown[k];
                if (static_cast<int64_t>(u) >= before) continue;   // not created yet: stays "not created"
                uint8_t& cell = column[rowOffset[k]];
                cell = std::max(cell, code[where[u]][read[u] == t ? 1 : 0]);
            }
        }
    }
};

PlacementGrid startPlacement(const UnitLayout& L, const std::string& policy, HeatmapWindow w)
{
    checkLayer(w.layer, L.slot_count, "the placement of '" + policy + "'");
    checkSequence(w.sequence, L.sequences(), "the placement of '" + policy + "'");
    const int64_t pages = L.pagesAt(L.prefillOf(w.sequence) + L.steps);
    w = clampWindow(w, L.steps, pages);
    PlacementGrid out;
    out.policy = policy;
    out.grid = pooledGrid(w);
    out.category.assign(out.grid.cells(), kNotCreated);
    out.promoted.assign(out.grid.cells(), 0);
    out.evicted.assign(out.grid.cells(), 0);
    return out;
}

void finishPlacement(PlacementGrid& out)
{
    out.tier.assign(out.grid.cells(), 255);
    for (size_t c = 0; c < out.grid.cells(); ++c) {
        const uint8_t v = out.category[c];
        out.category[c] = static_cast<uint8_t>(v / kTierBits);
        if (out.category[c] != kNotCreated)
            out.tier[c] = static_cast<uint8_t>(v % kTierBits);
    }
}

} // namespace

RelevanceGrid relevanceGrid(const Trace& trace, const Selection& sel, HeatmapWindow w, const JobControl& job)
{
    int64_t prefill = 0;
    RelevanceGrid out = startRelevance(trace.meta(), w, prefill);
    const PooledGrid& g = out.grid;
    const HeatmapWindow& cw = g.window;
    const int64_t blocks = blocksFor(g.nx, (cw.t1 - cw.t0) * (cw.y1 - cw.y0), 64);
    // Each block owns whole columns: no two tasks write the same cell.
    parallelFor(int64_t(0), blocks, [&](int64_t b) {
        const int64_t ts = std::max(cw.t0, g.firstStepOf(g.nx * b / blocks));
        const int64_t te = b + 1 == blocks ? cw.t1 : g.firstStepOf(g.nx * (b + 1) / blocks);
        poolRelevance(trace, sel, ts, te, out, job);
    }, job);
    finishRelevance(out, prefill);
    return out;
}

PlacementGrid placementGrid(const Selection& sel, const PlacementResult& p, HeatmapWindow w, const JobControl& job)
{
    PlacementGrid out = startPlacement(p.layout, p.policy, w);
    const PooledGrid& g = out.grid;
    const HeatmapWindow& cw = g.window;
    // Each block of columns replays the moves from step 0 to its own first step (cheap:
    // moves only) and then scans its steps. A few blocks: the replay is repeated per block.
    const PlacementPass probe(p.layout, g, false);
    const int64_t work = (cw.t1 - cw.t0) * std::max<int64_t>(1, static_cast<int64_t>(probe.shown.size()));
    const int64_t blocks = blocksFor(g.nx, work, std::min(tbb::this_task_arena::max_concurrency(), 8));
    parallelFor(int64_t(0), blocks, [&](int64_t b) {
        const int64_t ts = g.firstStepOf(g.nx * b / blocks);
        const int64_t te = b + 1 == blocks ? cw.t1 : g.firstStepOf(g.nx * (b + 1) / blocks);
        PlacementPass pass(p.layout, g);
        pass.run(sel, p, 0, te, ts, out, job);
    }, job);
    finishPlacement(out);
    return out;
}

struct RelevanceGridStream::Impl {
    RelevanceGrid grid;
    int64_t prefill = 0;
};

RelevanceGridStream::RelevanceGridStream(const TraceMeta& meta, const HeatmapWindow& w) : d(std::make_unique<Impl>())
{
    d->grid = startRelevance(meta, w, d->prefill);
}

RelevanceGridStream::~RelevanceGridStream() = default;

void RelevanceGridStream::add(const Trace& window, const Selection& sel, const JobControl& job)
{
    poolRelevance(window, sel, sel.first_step, sel.endStep(), d->grid, job);
}

RelevanceGrid RelevanceGridStream::finish()
{
    finishRelevance(d->grid, d->prefill);
    return std::move(d->grid);
}

struct PlacementGridStream::Impl {
    PlacementGrid grid;
    PlacementPass pass;
    Impl(PlacementGrid g, const UnitLayout& layout) : grid(std::move(g)), pass(layout, grid.grid) {}
};

PlacementGridStream::PlacementGridStream(const UnitLayout& layout, const std::string& policy, const HeatmapWindow& w)
    : d(std::make_unique<Impl>(startPlacement(layout, policy, w), layout))
{
}

PlacementGridStream::~PlacementGridStream() = default;

void PlacementGridStream::add(const Selection& sel, const PlacementResult& placement, const JobControl& job)
{
    // Steps past the grid's window change nothing it shows.
    const int64_t to = std::min(sel.endStep(), d->grid.grid.window.t1);
    if (sel.first_step < to) d->pass.run(sel, placement, sel.first_step, to, d->grid.grid.window.t0, d->grid, job);
}

PlacementGrid PlacementGridStream::finish()
{
    finishPlacement(d->grid);
    return std::move(d->grid);
}

} // namespace kvtier
