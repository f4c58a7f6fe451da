#pragma once
// The migration-aware bound of a streamed analysis (docs/BOUNDS.md "Windows", MODEL.md §6):
// the run's steps are split into the stream's windows and each window's bound problem is
// solved with the units' placement at its start free (no migration charged to get there).
// Every exclusive placement's time is the sum of its windows' times, and its restriction
// to a window is feasible for that window's problem, so the sum of the windows' Lagrangian
// values is a lower bound on it (looser than the whole-trace bound by the boundaries).
// Memory: one window's problem, plus per-step shares and per-unit state.
#include "core/engine/migration_bound.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

// One window's bound: the steps `window` holds (window.first_step .. endStep() - 1, a
// streamed analysis's window selection or a whole selection). `balancedTime`: the balanced
// bound over those steps; `achievableTime`: the time an achievable schedule takes over them
// (the steps aim at it). params.time_budget_s is this window's budget. Throws InputError
// as checkMigrationBound does, and Cancelled (nothing is returned then).
LagrangianBound windowMigrationBound(const Selection& window, const TimingConfig& timing,
                                     const PlacementConfig& placement, const MigrationBoundParams& params,
                                     double balancedTime, double achievableTime, const JobControl& job = {});

// The share of the whole run's time budget a window gets: what is left of it (budget -
// spent, at least 0) split evenly over the windows left, this one included.
double windowBudget(double budgetS, double spentS, int64_t windowsLeft);

// The windowed bound carried from window to window of a streamed analysis; windows come in
// order from step 0 and cover the run.
class MigrationBoundStream {
public:
    // `steps`: the run's; `windows`: how many windows the run is read in (for the budget).
    MigrationBoundStream(int64_t steps, int64_t windows, const TimingConfig& timing, const PlacementConfig& placement,
                         const MigrationBoundParams& params);
    // Bounds the window's steps (balancedTime, achievableTime as windowMigrationBound's).
    void add(const Selection& window, double balancedTime, double achievableTime, const JobControl& job = {});
    // After the last window: B = max(sum of the windows' values, balanced bound), the step
    // shares of the larger, and `schedule` as the certificate (an achievable schedule's
    // outcome, from `source`, e.g. "policy lru").
    MigrationBoundResult finish(const BoundResult& balanced, ScheduleOutcome schedule, const std::string& source);

private:
    int64_t windows_ = 0, done_ = 0;
    TimingConfig timing_;
    PlacementConfig placement_;
    MigrationBoundParams params_;
    double sum_ = 0, elapsed_ = 0;
    int64_t iterations_ = 0;
    bool budgetHit_ = false;
    std::vector<double> share_;   // per step of the run
};

} // namespace kvtier
