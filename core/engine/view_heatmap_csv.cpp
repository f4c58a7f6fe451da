#include "core/engine/view_heatmap_csv.hpp"

namespace kvtier {

HeatmapWindow fullResolutionWindow(int64_t t0, int64_t t1, int64_t y0, int64_t y1, int32_t layer)
{
    HeatmapWindow w;
    w.t0 = t0;
    w.t1 = t1;
    w.y0 = y0;
    w.y1 = y1;
    w.width = w.height = kFullResolutionCells;
    w.layer = layer;
    return w;
}

void writeRelevanceCsv(std::ostream& out, const RelevanceGrid& g, const std::string& traceName)
{
    const int32_t layer = g.grid.window.layer;
    out.precision(9);
    out << "# relevance of trace '" << traceName << "', " << (layer < 0 ? "max over layers" : "layer " + std::to_string(layer))
        << "; cell (x, y) covers steps [step_first, next cell's) and tokens [token_first, next cell's)\n";
    out << "x,y,step_first,token_first,max_relevance,selected,exists\n";
    for (int64_t by = 0; by < g.grid.ny; ++by)
        for (int64_t bx = 0; bx < g.grid.nx; ++bx) {
            const size_t c = g.grid.index(bx, by);
            out << bx << ',' << by << ',' << g.grid.firstStepOf(bx) << ',' << g.grid.firstRowOf(by) << ',' << g.max_value[c] << ','
                << int(g.selected[c]) << ',' << int(g.exists[c]) << '\n';
        }
}

void writePlacementCsv(std::ostream& out, const PlacementGrid& g, const std::string& policyName)
{
    const int32_t layer = g.grid.window.layer;
    out.precision(9);
    out << "# placement of policy " << policyName << ", " << (layer < 0 ? "max over layers" : "layer " + std::to_string(layer))
        << "; cell (x, y) covers steps [step_first, next cell's) and pages [page_first, next cell's)\n";
    out << "x,y,step_first,page_first,category,promoted,evicted\n";
    for (int64_t by = 0; by < g.grid.ny; ++by)
        for (int64_t bx = 0; bx < g.grid.nx; ++bx) {
            const size_t c = g.grid.index(bx, by);
            out << bx << ',' << by << ',' << g.grid.firstStepOf(bx) << ',' << g.grid.firstRowOf(by) << ','
                << toString(static_cast<PlacementCategory>(g.category[c])) << ',' << int(g.promoted[c]) << ',' << int(g.evicted[c])
                << '\n';
        }
}

void writeExpertCsv(std::ostream& out, const ExpertGrid& g, const std::string& policyName, const std::string& expertPolicy,
                    const std::vector<std::string>& tierNames)
{
    auto name = [&](uint8_t m) { return m == 255 ? std::string() : m < tierNames.size() ? tierNames[m] : "tier " + std::to_string(m); };
    out << "# experts of layer " << g.grid.window.layer << " of " << g.layers << ", expert policy " << expertPolicy
        << " (with policy " << policyName << ")"
        << (g.expert_sets ? "" : "; the trace names no active experts: every expert is read every step (MODEL.md §9)")
        << "; cell (x, y) covers steps [step_first, next cell's) and experts [expert_first, next cell's); category: the"
           " highest of the cell (lower_idle < fast_idle < fast_read < lower_read < migrated), tier: where that expert"
           " lives after the step's moves; the counts: (step, expert) pairs per state, a migrated pair also counted as"
           " idle or read\n";
    out << "x,y,step_first,expert_first,category,tier,moved_from,lower_idle,fast_idle,fast_read,lower_read,migrated\n";
    for (int64_t by = 0; by < g.grid.ny; ++by)
        for (int64_t bx = 0; bx < g.grid.nx; ++bx) {
            const size_t c = g.grid.index(bx, by);
            const auto& n = g.counts[c];
            out << bx << ',' << by << ',' << g.grid.firstStepOf(bx) << ',' << g.grid.firstRowOf(by) << ','
                << (g.tier[c] == 255 ? "" : toString(static_cast<ExpertCategory>(g.category[c]))) << ',' << name(g.tier[c]) << ','
                << name(g.moved_from[c]);
            for (uint32_t v : n) out << ',' << v;
            out << '\n';
        }
}

} // namespace kvtier
