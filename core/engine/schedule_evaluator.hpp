#pragma once
// Fast incremental cost of a tier-0 schedule for the annealer: per layer-step token
// traffic per tier, updated by the few steps a move touches, and the rows re-timed with
// the engine's formula (ScheduleProblem::rowTime). Units outside tier 0 count in tier 1,
// which is exactly the engine's rule when there are two tiers or tier 1 holds every unit
// (exact()); otherwise an estimate, and the annealer's result is re-simulated exactly.
#include "core/engine/oracle_schedule.hpp"
#include "core/engine/schedule_problem.hpp"

#include <cstdint>
#include <vector>

namespace kvtier {

class ScheduleEvaluator {
public:
    ScheduleEvaluator(const ScheduleProblem& problem, TierZeroSchedule schedule);

    bool exact() const { return exact_; }
    double total() const { return total_; }
    const TierZeroSchedule& schedule() const { return s_; }
    int64_t fastCount(int64_t t) const { return count_[static_cast<size_t>(t + 1)]; }
    // Units that must be in tier 0 at the end of step t because the lower tiers are full.
    int64_t minFast(int64_t t) const { return minFast_[static_cast<size_t>(t + 1)]; }

    // Sets unit u's membership on checkpoints [a, b] to `in` (promote / evict), or swaps
    // units u and v there; returns the change of the total. Capacity is the caller's check.
    double set(uint32_t u, int64_t a, int64_t b, bool in);
    double swap(uint32_t u, uint32_t v, int64_t a, int64_t b);

private:
    void touch(uint32_t u, int64_t a, int64_t b, int sign);
    void contribute(uint32_t u, int64_t t, int sign);
    double retime();

    const ScheduleProblem& p_;
    TierZeroSchedule s_;
    bool exact_ = true;
    size_t M_ = 2;
    std::vector<int64_t> kvR_, migR_, wr_, migW_;   // row * M + tier, tokens
    std::vector<double> rowCost_;
    std::vector<int64_t> count_, minFast_;
    std::vector<size_t> dirty_;
    std::vector<uint8_t> isDirty_;
    double total_ = 0;
};

} // namespace kvtier
