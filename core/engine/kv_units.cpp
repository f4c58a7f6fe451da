#include "core/engine/kv_units.hpp"

#include <algorithm>

namespace kvtier {

double kvUnitBytes(const Model& m, const UnitLayout& layout)
{
    return static_cast<double>(layout.page_tokens) * m.kv_bytes_per_token_layer *
           (layout.slot_count == 1 ? m.layers : 1);
}

std::vector<double> unitReadFractions(const Selection& sel, const JobControl& job)
{
    const UnitLayout& lay = sel.layout;
    const int64_t T = lay.steps;
    const auto N = static_cast<size_t>(lay.totalUnits());
    std::vector<double> f(N, 0.0);
    const int64_t rows = std::min<int64_t>(T, static_cast<int64_t>(sel.step_units.rows()));
    for (int64_t t = 0; t < rows; ++t) {
        if (t % 256 == 0) job.check();
        for (uint32_t u : sel.step_units.row(static_cast<size_t>(t)))
            if (u < N) f[u] += 1;
    }
    // Units are numbered in creation order: step t creates unitsBefore(t) .. unitsBefore(t + 1) - 1.
    int64_t created = 0;
    for (size_t u = 0; u < N; ++u) {
        while (created + 1 < T && static_cast<int64_t>(u) >= lay.unitsBefore(created + 1)) ++created;
        f[u] /= static_cast<double>(T - created);
    }
    return f;
}

} // namespace kvtier
