#include "core/engine/view_sweep.hpp"

#include <limits>

namespace kvtier {

SweepSeriesPoint sweepSeriesPoint(const SweepPoint& p, size_t policies)
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    SweepSeriesPoint s;
    s.x = p.x.empty() ? 0 : p.x.front();
    s.feasible = p.error.empty();
    s.balanced = s.feasible && p.balanced_tok_s > 0 ? p.balanced_tok_s : nan;
    s.paper = s.feasible && p.paper_tok_s > 0 ? p.paper_tok_s : nan;
    s.migration_bound = s.feasible && p.migration_bound_tok_s > 0 ? p.migration_bound_tok_s : nan;
    s.schedule = s.feasible && p.schedule_tok_s > 0 ? p.schedule_tok_s : nan;
    s.annealed = s.feasible && p.annealed_tok_s > 0 ? p.annealed_tok_s : nan;
    s.policy.assign(policies, nan);
    if (s.feasible)
        for (size_t i = 0; i < policies && i < p.policies.size(); ++i)
            s.policy[i] = p.policies[i].throughput_tok_s;
    return s;
}

} // namespace kvtier
