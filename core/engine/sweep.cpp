#include "core/engine/sweep.hpp"

#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <atomic>

namespace kvtier {

size_t sweepGridSize(const std::vector<SweepAxis>& axes, const std::string& where)
{
    size_t total = 1;
    bool tooMany = false;
    std::string shape;
    for (const auto& a : axes) {
        shape += (shape.empty() ? "" : " x ") + std::to_string(a.values.size());
        if (a.values.empty()) throw InputError(where, "--vary " + a.key + ": no values");
        if (tooMany) continue;
        if (total > kMaxSweepPoints / a.values.size()) tooMany = true;
        else total *= a.values.size();
    }
    if (tooMany)
        throw InputError(where, "the sweep grid has " + shape + " points, more than the limit of " +
                                    std::to_string(kMaxSweepPoints));
    return total;
}

SweepResult runSweep(Pipeline& pipeline, const Scenario& base, const std::vector<SweepAxis>& axes,
                     const SweepScenarioAt& scenarioAt, const std::string& where, const JobControl& job,
                     const SweepPointSink& onPoint, const std::vector<size_t>& only)
{
    if (axes.empty()) throw InputError(where, "a sweep needs at least one --vary axis");
    SweepResult r;
    r.axes = axes;
    for (const auto& p : base.policies) r.policies.push_back(p.name);
    r.migration_bound = base.bounds.migration_aware.enabled;
    r.annealed = base.bounds.annealed.enabled;
    const size_t grid = sweepGridSize(axes, where);
    for (size_t g : only)
        if (g >= grid) throw InputError(where, "sweep point #" + std::to_string(g) + " is beyond the grid's " + std::to_string(grid) + " points");
    const size_t total = only.empty() ? grid : only.size();
    r.points.resize(total);
    std::atomic<size_t> done{0};
    // Every feasible point has the trace's step count; an infeasible first point has none.
    std::atomic<int64_t> steps{0};
    parallelFor(size_t(0), total, [&](size_t i) {
        job.check();
        SweepPoint& pt = r.points[i];
        pt.index = only.empty() ? i : only[i];
        size_t rest = pt.index;
        pt.x.assign(axes.size(), 0);
        for (size_t k = axes.size(); k-- > 0;) {
            const auto& a = axes[k];
            pt.x[k] = a.values[rest % a.values.size()];
            rest /= a.values.size();
        }
        try {
            const Scenario s = scenarioAt(pt.x);
            JobControl inner;
            inner.cancel = job.cancel;
            const AnalysisResult res = pipeline.run(s, inner);
            pt.balanced_s = res.balanced->total_time;
            pt.paper_s = res.paper->total_time;
            pt.balanced_tok_s = res.balanced->throughput();
            pt.paper_tok_s = res.paper->throughput();
            // Throughput of a bound or schedule: the batch's tokens over its time.
            const double tokens = static_cast<double>(res.scenario.batch * res.selection->layout.steps);
            const auto tokS = [tokens](double time) { return time > 0 ? tokens / time : 0.0; };
            if (res.migration_bound) {
                pt.migration_bound_s = res.migration_bound->total_time;
                pt.schedule_s = res.migration_bound->schedule_time();
                pt.migration_bound_tok_s = tokS(pt.migration_bound_s);
                pt.schedule_tok_s = tokS(pt.schedule_s);
            }
            if (res.annealed) {
                pt.annealed_s = res.annealed->total_time();
                pt.annealed_tok_s = tokS(pt.annealed_s);
            }
            for (const auto& o : res.policies)
                pt.policies.push_back({o.timing->total_time, o.timing->throughput(), o.timing->hbmHitRatio(),
                                       o.timing->migrated_bytes});
            steps.store(res.selection->layout.steps, std::memory_order_relaxed);
        } catch (const Cancelled&) {
            throw;
        } catch (const InfeasibleError& e) {
            pt.error = e.what();
        } catch (const InputError& e) {
            pt.error = e.what();
        }
        if (onPoint) onPoint(i, pt);
        const size_t n = ++done;
        job.report(static_cast<double>(n) / static_cast<double>(total));
    }, job);
    r.steps = steps.load();
    return r;
}

} // namespace kvtier
