#pragma once
// Annealed schedules (MODEL.md §6): simulated annealing over tier-0 schedules with full
// knowledge of the future (moves: promote, evict, swap two units over a step range),
// seeded parallel chains started from the best schedule known; and, as the paper did,
// annealing over the windowed look-ahead policy's window and ratio (each evaluation an
// engine run). Achievable placements, not bounds: every result is the engine's time.
#include "core/engine/oracle_schedule.hpp"
#include "core/model/bound_config.hpp"

#include <memory>
#include <string>

namespace kvtier {

struct AnnealResult {
    ScheduleOutcome schedule;        // the best schedule found (engine-timed)
    double start_time = 0;           // the schedule it started from
    int64_t moves_tried = 0, moves_accepted = 0;
    bool exact_evaluator = true;     // false: moves were judged by an estimate (3+ tiers)
    bool budget_hit = false;         // stopped by the time budget (then not deterministic)
    double elapsed_s = 0;
    // The paper's method (tune_evaluations > 0): windowed-look-ahead with the best
    // window and ratio found, and its engine time; 0 when not run.
    double tuned_window_steps = 0, tuned_promotion_ratio = 0, tuned_time = 0;
    std::shared_ptr<const PlacementResult> tuned_placement;
    std::shared_ptr<const TimingResult> tuned_timing;
    double total_time() const { return schedule.total_time(); }
};

// Throws Cancelled. `start` must be a schedule of this selection and capacity.
AnnealResult annealSchedule(const Selection& selection, const TimingConfig& timing, const PlacementConfig& placement,
                            const AnnealConfig& config, const ScheduleOutcome& start, const JobControl& job = {});

} // namespace kvtier
