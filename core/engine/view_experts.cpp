#include "core/engine/view_experts.hpp"

#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <tbb/task_arena.h>

#include <algorithm>

namespace kvtier {

const char* toString(ExpertCategory c)
{
    switch (c) {
    case kExpertLowerIdle: return "lower_idle";
    case kExpertFastIdle: return "fast_idle";
    case kExpertFastRead: return "fast_read";
    case kExpertLowerRead: return "lower_read";
    case kExpertMigrated: return "migrated";
    default: return "?";
    }
}

ExpertGrid expertGrid(const ExpertSets* sets, const ExpertResidency& r, HeatmapWindow w, const JobControl& job)
{
    if (r.layers <= 0 || r.initial.empty() || r.initial.size() % static_cast<size_t>(r.layers) != 0)
        throw InputError("experts", "the model has no experts (model.experts = 0): there is no expert heatmap");
    const auto E = static_cast<int32_t>(r.initial.size() / static_cast<size_t>(r.layers));
    const int32_t l = w.layer;
    if (l < 0 || l >= r.layers)
        throw InputError("layer " + std::to_string(l), "the model has " + std::to_string(r.layers) + " layer" +
                                                           (r.layers == 1 ? "" : "s") + " (0.." + std::to_string(r.layers - 1) + ")");
    if (sets && sets->empty())
        sets = nullptr;
    if (sets && (sets->experts() != E || sets->layers() != r.layers || sets->steps() < r.steps))
        throw InputError("trace expert sets", "they hold " + std::to_string(sets->steps()) + " steps x " +
                                                  std::to_string(sets->layers()) + " layers x " + std::to_string(sets->experts()) +
                                                  " experts, the run " + std::to_string(r.steps) + " x " +
                                                  std::to_string(r.layers) + " x " + std::to_string(E));
    w = clampWindow(w, r.steps, E);
    ExpertGrid out;
    out.grid = pooledGrid(w);
    out.experts = E;
    out.layers = r.layers;
    out.expert_sets = sets != nullptr;
    const PooledGrid& g = out.grid;
    std::vector<uint8_t> code(g.cells(), 0);
    out.moved_from.assign(g.cells(), 255);
    out.counts.assign(g.cells(), {});

    // The layer's moves, in the order they happen (ascending step).
    std::vector<const ExpertMove*> moves;
    for (const ExpertMove& m : r.moves)
        if (m.layer == l) moves.push_back(&m);
    // Row offset of each shown expert's cell, computed once.
    std::vector<size_t> rowOffset;
    for (int64_t e = w.y0; e < w.y1; ++e) rowOffset.push_back(static_cast<size_t>(g.cellOfRow(e) * g.nx));

    // Code = category * 32 + tier: the pooled maximum is the highest category and, among
    // equals, the deepest tier; split into category and tier at the end.
    constexpr int kTierBits = 32;
    const int64_t work = (w.t1 - w.t0) * (w.y1 - w.y0);
    const int64_t blocks =
        work <= 2'000'000 ? 1 : std::clamp<int64_t>(std::min(tbb::this_task_arena::max_concurrency(), 8), 1, g.nx);
    // Each block owns whole columns: it replays the moves before its first step, then scans.
    parallelFor(int64_t(0), blocks, [&](int64_t b) {
        const int64_t ts = g.firstStepOf(g.nx * b / blocks);
        const int64_t te = b + 1 == blocks ? w.t1 : g.firstStepOf(g.nx * (b + 1) / blocks);
        std::vector<int32_t> loc(r.initial.begin() + static_cast<std::ptrdiff_t>(l) * E,
                                 r.initial.begin() + static_cast<std::ptrdiff_t>(l + 1) * E);
        std::vector<int64_t> movedAt(static_cast<size_t>(E), -1);
        std::vector<int32_t> movedFrom(static_cast<size_t>(E), 0);
        size_t k = 0;
        for (; k < moves.size() && moves[k]->step < ts; ++k) loc[static_cast<size_t>(moves[k]->expert)] = moves[k]->to;
        for (int64_t t = ts; t < te; ++t) {
            if ((t & 15) == 0) job.check();
            for (; k < moves.size() && moves[k]->step <= t; ++k) {
                const auto e = static_cast<size_t>(moves[k]->expert);
                loc[e] = moves[k]->to;
                movedAt[e] = t;
                movedFrom[e] = moves[k]->from;
            }
            const int64_t bx = g.cellOfStep(t);
            for (int64_t e = w.y0; e < w.y1; ++e) {
                const auto ei = static_cast<size_t>(e);
                const int32_t m = loc[ei];
                const bool read = sets ? sets->active(t, l, static_cast<int32_t>(e)) : true;
                uint8_t cat = read ? (m == 0 ? kExpertFastRead : kExpertLowerRead) : (m == 0 ? kExpertFastIdle : kExpertLowerIdle);
                const size_t c = rowOffset[static_cast<size_t>(e - w.y0)] + static_cast<size_t>(bx);
                ++out.counts[c][cat];
                if (movedAt[ei] == t) {
                    cat = kExpertMigrated;
                    ++out.counts[c][kExpertMigrated];
                    out.moved_from[c] = static_cast<uint8_t>(movedFrom[ei]);
                }
                code[c] = std::max(code[c], static_cast<uint8_t>(cat * kTierBits + std::min(m, kTierBits - 1)));
            }
        }
    }, job);
    out.category.assign(g.cells(), kExpertLowerIdle);
    out.tier.assign(g.cells(), 255);
    for (size_t c = 0; c < g.cells(); ++c) {
        const auto& n = out.counts[c];
        if (n[kExpertLowerIdle] + n[kExpertFastIdle] + n[kExpertFastRead] + n[kExpertLowerRead] == 0)
            continue;   // a window of one step or expert: a column or row with no pair
        out.category[c] = static_cast<uint8_t>(code[c] / kTierBits);
        out.tier[c] = static_cast<uint8_t>(code[c] % kTierBits);
    }
    return out;
}

} // namespace kvtier
