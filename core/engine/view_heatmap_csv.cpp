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

} // namespace kvtier
