#include "core/engine/schedule_evaluator.hpp"

#include <algorithm>

namespace kvtier {

ScheduleEvaluator::ScheduleEvaluator(const ScheduleProblem& p, TierZeroSchedule schedule) : p_(p), s_(std::move(schedule))
{
    M_ = static_cast<size_t>(std::max(p.tiers, 2));
    exact_ = p.tiers == 2 || (p.tiers > 2 && p.capacity_units[1] >= p.units);
    const int64_t T = p.steps();
    const size_t rows = static_cast<size_t>(T) * static_cast<size_t>(p.slotCount());
    kvR_.assign(rows * M_, 0);
    migR_.assign(rows * M_, 0);
    wr_.assign(rows * M_, 0);
    migW_.assign(rows * M_, 0);
    rowCost_.assign(rows, 0);
    isDirty_.assign(rows, 0);
    count_.assign(static_cast<size_t>(T + 1), 0);
    minFast_.assign(static_cast<size_t>(T + 1), 0);
    int64_t lower = 0;
    for (size_t m = 1; m < p.capacity_units.size(); ++m) lower += std::max<int64_t>(0, p.capacity_units[m]);
    for (int64_t t = -1; t < T; ++t) {
        const int64_t exist = p.layout.unitsBefore(t + 1);
        minFast_[static_cast<size_t>(t + 1)] = std::max<int64_t>(0, exist - lower);
        for (int64_t u = 0; u < exist; ++u) count_[static_cast<size_t>(t + 1)] += s_.at(static_cast<uint32_t>(u), t);
    }
    for (int64_t u = 0; u < p.units; ++u)
        for (int64_t t = std::max<int64_t>(0, p.created[static_cast<size_t>(u)]); t < T; ++t)
            contribute(static_cast<uint32_t>(u), t, +1);
    for (size_t r = 0; r < rows; ++r) {
        rowCost_[r] = p.rowTime(&kvR_[r * M_], &migR_[r * M_], &wr_[r * M_], &migW_[r * M_]);
    }
    // The engine sums step by step, slots within a step: the same order here.
    for (int64_t t = 0; t < T; ++t) {
        double step = 0;
        for (int32_t l = 0; l < p.slotCount(); ++l) step += rowCost_[p.row(t, l)];
        total_ += step;
    }
}

// Unit u's traffic in step t (t >= its creation step): migration from its place at the end
// of step t - 1, its read, the new token's write.
void ScheduleEvaluator::contribute(uint32_t u, int64_t t, int sign)
{
    const int64_t c = p_.created[u];
    const size_t r = p_.row(t, p_.layout.slotOf(u));
    const size_t z = s_.at(u, t) ? 0 : 1;
    if (t > c) {
        const size_t prev = s_.at(u, t - 1) ? 0 : 1;
        if (prev != z) {
            const int64_t s = sign * p_.sizeAt(u, t);
            migR_[r * M_ + prev] += s;
            migW_[r * M_ + z] += s;
        }
        const auto reads = p_.reads.row(u);
        auto it = std::lower_bound(reads.begin(), reads.end(), t, [](const ReadEvent& e, int64_t x) { return e.t < x; });
        if (it != reads.end() && it->t == t) kvR_[r * M_ + z] += sign * it->tokens;
    }
    if (p_.writesAt(u, t)) wr_[r * M_ + z] += sign;
    if (!isDirty_[r]) {
        isDirty_[r] = 1;
        dirty_.push_back(r);
    }
}

void ScheduleEvaluator::touch(uint32_t u, int64_t a, int64_t b, int sign)
{
    const int64_t lo = std::max<int64_t>({a, 0, p_.created[u]});
    const int64_t hi = std::min<int64_t>(b + 1, p_.steps() - 1);
    for (int64_t t = lo; t <= hi; ++t) contribute(u, t, sign);
}

double ScheduleEvaluator::retime()
{
    double delta = 0;
    for (size_t r : dirty_) {
        const double c = p_.rowTime(&kvR_[r * M_], &migR_[r * M_], &wr_[r * M_], &migW_[r * M_]);
        delta += c - rowCost_[r];
        rowCost_[r] = c;
        isDirty_[r] = 0;
    }
    dirty_.clear();
    total_ += delta;
    return delta;
}

double ScheduleEvaluator::set(uint32_t u, int64_t a, int64_t b, bool in)
{
    touch(u, a, b, -1);
    for (int64_t t = a; t <= b; ++t) {
        if (s_.at(u, t) != in) count_[static_cast<size_t>(t + 1)] += in ? 1 : -1;
        s_.set(u, t, in);
    }
    touch(u, a, b, +1);
    return retime();
}

double ScheduleEvaluator::swap(uint32_t u, uint32_t v, int64_t a, int64_t b)
{
    touch(u, a, b, -1);
    touch(v, a, b, -1);
    for (int64_t t = a; t <= b; ++t) {
        const bool x = s_.at(u, t);
        s_.set(u, t, s_.at(v, t));
        s_.set(v, t, x);
    }
    touch(u, a, b, +1);
    touch(v, a, b, +1);
    return retime();
}

} // namespace kvtier
