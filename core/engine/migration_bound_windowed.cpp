#include "core/engine/migration_bound_windowed.hpp"

#include "core/engine/schedule_problem.hpp"

#include <algorithm>
#include <utility>

namespace kvtier {

LagrangianBound windowMigrationBound(const Selection& window, const TimingConfig& timing,
                                     const PlacementConfig& placement, const MigrationBoundParams& params,
                                     double balancedTime, double achievableTime, const JobControl& job)
{
    checkMigrationBound(timing, placement);
    const ScheduleProblem p = makeWindowScheduleProblem(window, timing, placement.capacity_units);
    return lagrangianBound(window, timing, p, params, balancedTime, achievableTime, job);
}

double windowBudget(double budgetS, double spentS, int64_t windowsLeft)
{
    return std::max(0.0, budgetS - spentS) / static_cast<double>(std::max<int64_t>(1, windowsLeft));
}

MigrationBoundStream::MigrationBoundStream(int64_t steps, int64_t windows, const TimingConfig& timing,
                                           const PlacementConfig& placement, const MigrationBoundParams& params)
    : windows_(windows), timing_(timing), placement_(placement), params_(params),
      share_(static_cast<size_t>(std::max<int64_t>(0, steps)), 0.0)
{
    checkMigrationBound(timing, placement);
}

void MigrationBoundStream::add(const Selection& window, double balancedTime, double achievableTime, const JobControl& job)
{
    MigrationBoundParams params = params_;
    params.time_budget_s = windowBudget(params_.time_budget_s, elapsed_, windows_ - done_);
    const LagrangianBound b = windowMigrationBound(window, timing_, placement_, params, balancedTime, achievableTime, job);
    sum_ += b.value;
    elapsed_ += b.elapsed_s;
    iterations_ = std::max(iterations_, b.iterations);
    budgetHit_ = budgetHit_ || b.budget_hit;
    std::copy(b.step_share.begin(), b.step_share.end(), share_.begin() + window.first_step);
    ++done_;
}

MigrationBoundResult MigrationBoundStream::finish(const BoundResult& balanced, ScheduleOutcome schedule,
                                                  const std::string& source)
{
    MigrationBoundResult out;
    out.balanced_time = balanced.total_time;
    out.lagrangian_time = sum_;
    if (sum_ >= balanced.total_time) {
        out.total_time = sum_;
        out.step_time = std::move(share_);
    } else {
        out.total_time = balanced.total_time;
        out.step_time = balanced.step_time;
    }
    out.schedule = std::move(schedule);
    out.schedule_source = source;
    out.iterations = iterations_;
    out.budget_hit = budgetHit_;
    out.elapsed_s = elapsed_;
    out.windows = done_;
    return out;
}

} // namespace kvtier
