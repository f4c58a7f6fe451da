#pragma once
// The migration-aware bound (MODEL.md §6, docs/BOUNDS.md): a lower bound on the total time
// of every exclusive placement that charges migrations and keeps capacity at every step,
// by Lagrangian relaxation, with an achievable schedule beside it (the certificate).
//
// Each layer-step's time is at least any convex combination (lambda) of its terms
// (R+W)/B_m, R/Lr_m, W/Lw_m and the compute floor; capacity is priced (mu >= 0). The
// relaxed problem splits into one shortest path per unit over its lifetime (state: its
// tier), solved in parallel; any (lambda, mu) gives a valid bound and projected
// subgradient steps raise it. The relaxed paths, repaired to capacity, are a schedule the
// engine simulates exactly.
#include "core/engine/bounds.hpp"
#include "core/engine/oracle_schedule.hpp"
#include "core/engine/schedule_problem.hpp"
#include "core/model/bound_config.hpp"

#include <memory>
#include <string>
#include <vector>

namespace kvtier {

using MigrationBoundParams = MigrationBoundConfig;   // `enabled` is the pipeline's concern

struct MigrationBoundResult {
    double total_time = 0;          // B = max(lagrangian_time, balanced_time): a lower bound
    double lagrangian_time = 0;     // the best Lagrangian value found
    double balanced_time = 0;       // the balanced bound (MODEL.md §6)
    // Per step: the Lagrangian value's share of step t (sums to lagrangian_time; a share,
    // not a per-step bound), or the balanced bound's step times when that one is larger.
    std::vector<double> step_time;
    ScheduleOutcome schedule;       // the best achievable schedule found (engine-timed)
    std::string schedule_source;    // "repaired relaxation" or "policy <name>"
    int64_t iterations = 0;         // windowed: the most any window ran
    bool budget_hit = false;        // stopped by the time budget (then not deterministic)
    double elapsed_s = 0;
    int64_t windows = 0;            // a streamed run's windowed bound (docs/BOUNDS.md "Windows"); 0: whole trace
    double schedule_time() const { return schedule.total_time(); }
    double gap() const { return total_time > 0 ? schedule_time() / total_time : 1.0; }
};

// A placement the caller already has (a policy's), offered as a starting schedule.
struct ScheduleCandidate {
    std::string name;
    const PlacementResult* placement = nullptr;
};

// The bound over every exclusive placement with `placement.capacity_units`. Throws
// InputError for inclusive placement (not covered, docs/BOUNDS.md) and Cancelled.
MigrationBoundResult migrationAwareBound(const Selection& selection, const TimingConfig& timing,
                                         const PlacementConfig& placement, const MigrationBoundParams& params,
                                         const BoundResult& balanced,
                                         const std::vector<ScheduleCandidate>& candidates = {},
                                         const JobControl& job = {});

// The Lagrangian search alone on a built problem (the whole run's or a window's,
// makeWindowScheduleProblem), without schedules: the best value found (a lower bound on
// the problem's steps' time of every exclusive placement, rounding given back as
// migrationAwareBound does) and its share of each of the problem's steps.
// `achievableTime`: the time an achievable schedule takes over the problem's steps, which
// the steps aim at and which stops the search once within params.target_gap; `selection`
// holds the problem's steps. Throws Cancelled.
struct LagrangianBound {
    double value = 0;
    std::vector<double> step_share;   // per step of the problem, from its first
    int64_t iterations = 0;
    bool budget_hit = false;
    double elapsed_s = 0;
};
LagrangianBound lagrangianBound(const Selection& selection, const TimingConfig& timing, const ScheduleProblem& problem,
                                const MigrationBoundParams& params, double balancedTime, double achievableTime,
                                const JobControl& job = {});

// Throws the InputErrors of a scenario the bound does not cover (inclusive placement, a
// model with experts, tiers), before anything is computed.
void checkMigrationBound(const TimingConfig& timing, const PlacementConfig& placement);

// One evaluation of the Lagrangian dual at given multipliers, for tests: lambda per
// (row, term) as laid out by lagrangianTerms, mu per (checkpoint t + 1, tier).
struct LagrangianTerm {
    int32_t tier = 0;
    enum Kind { Bandwidth, LinkRead, LinkWrite, Floor } kind = Bandwidth;
};
std::vector<LagrangianTerm> lagrangianTerms(const ScheduleProblem& problem);
double lagrangianValue(const ScheduleProblem& problem, const std::vector<double>& lambda,
                       const std::vector<double>& mu, const JobControl& job = {});

} // namespace kvtier
