#include "core/engine/annealing.hpp"

#include "core/engine/schedule_evaluator.hpp"
#include "core/engine/schedule_problem.hpp"
#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <random>

namespace kvtier {

namespace {

using Clock = std::chrono::steady_clock;

struct Chain {
    TierZeroSchedule best;
    double bestTotal = 0;
    int64_t tried = 0, accepted = 0;
    bool budgetHit = false;
};

// One annealing chain from `start`. Moves centre on a read: promote the read unit over a
// range ending there (room permitting), evict it, or swap it with another unit.
Chain runChain(const ScheduleProblem& p, const TierZeroSchedule& start, const AnnealConfig& cfg, uint64_t seed,
               Clock::time_point t0, const JobControl& job)
{
    ScheduleEvaluator ev(p, start);
    Chain out;
    out.best = start;
    out.bestTotal = ev.total();
    if (p.reads.items.empty() || cfg.moves == 0) return out;
    std::vector<uint32_t> readUnit(p.reads.items.size());
    for (size_t u = 0; u + 1 < p.reads.offset.size(); ++u)
        for (size_t i = p.reads.offset[u]; i < p.reads.offset[u + 1]; ++i) readUnit[i] = static_cast<uint32_t>(u);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<size_t> pickRead(0, readUnit.size() - 1);
    std::uniform_int_distribution<int64_t> reach(0, 15);
    std::uniform_real_distribution<double> unit01(0, 1);
    const int64_t T = p.steps();
    const int64_t cap = p.capacity_units[0];
    // Temperature: a share of the mean row time, cooled geometrically to 1/1000 of it.
    const double rowMean = ev.total() / static_cast<double>(std::max<size_t>(1, static_cast<size_t>(T) * static_cast<size_t>(p.slotCount())));
    const double temp0 = 0.05 * rowMean;
    double current = ev.total();
    double sinceSnapshot = 0;
    for (int64_t k = 0; k < cfg.moves; ++k) {
        if ((k & 1023) == 0) {
            job.check();
            if (std::chrono::duration<double>(Clock::now() - t0).count() > cfg.time_budget_s) {
                out.budgetHit = true;
                break;
            }
        }
        const double temp = temp0 * std::pow(1e-3, static_cast<double>(k) / static_cast<double>(cfg.moves));
        const size_t ri = pickRead(rng);
        const uint32_t u = readUnit[ri];
        const int64_t t = p.reads.items[ri].t;
        const int64_t cu = p.created[u];
        const bool in = ev.schedule().at(u, t);
        const double roll = unit01(rng);
        double delta = 0;
        // Undo: the inverse move restores the exact token counts.
        std::vector<uint8_t> saved;
        int64_t a = std::max<int64_t>(cu, t - reach(rng)), b = std::min<int64_t>(T - 1, t + (in ? reach(rng) : 0));
        auto keep = [&](uint32_t x) {
            saved.clear();
            for (int64_t s = a; s <= b; ++s) saved.push_back(ev.schedule().at(x, s) ? 1 : 0);
        };
        auto restore = [&](uint32_t x) {
            for (int64_t s = a; s <= b; ++s) ev.set(x, s, s, saved[static_cast<size_t>(s - a)] != 0);
        };
        ++out.tried;
        if (!in && roll < 0.6) {
            bool room = true;
            for (int64_t s = a; s <= b && room; ++s) room = ev.schedule().at(u, s) || ev.fastCount(s) < cap;
            if (room) {
                keep(u);
                delta = ev.set(u, a, b, true);
                if (delta > 0 && unit01(rng) >= std::exp(-delta / temp)) restore(u);
                else { current += delta; ++out.accepted; }
            } else {
                // Swap with a unit in tier 0 at t that exists over the range.
                uint32_t v = u;
                for (int tries = 0; tries < 16; ++tries) {
                    const uint32_t w = readUnit[pickRead(rng)];
                    if (w != u && ev.schedule().at(w, t) && p.created[w] <= a) { v = w; break; }
                }
                if (v == u) continue;
                delta = ev.swap(u, v, a, b);
                if (delta > 0 && unit01(rng) >= std::exp(-delta / temp)) ev.swap(u, v, a, b);
                else { current += delta; ++out.accepted; }
            }
        } else if (in) {
            bool ok = true;
            for (int64_t s = a; s <= b && ok; ++s) ok = !ev.schedule().at(u, s) || ev.fastCount(s) > ev.minFast(s);
            if (!ok) continue;
            keep(u);
            delta = ev.set(u, a, b, false);
            if (delta > 0 && unit01(rng) >= std::exp(-delta / temp)) restore(u);
            else { current += delta; ++out.accepted; }
        } else {
            uint32_t v = u;
            for (int tries = 0; tries < 16; ++tries) {
                const uint32_t w = readUnit[pickRead(rng)];
                if (w != u && ev.schedule().at(w, t) && p.created[w] <= a) { v = w; break; }
            }
            if (v == u) continue;
            delta = ev.swap(u, v, a, b);
            if (delta > 0 && unit01(rng) >= std::exp(-delta / temp)) ev.swap(u, v, a, b);
            else { current += delta; ++out.accepted; }
        }
        // Keep the best state (copies are costly: only after a real gain).
        if (current < out.bestTotal * (1 - 1e-9)) {
            sinceSnapshot += out.bestTotal - current;
            out.bestTotal = current;
            if (sinceSnapshot > 1e-3 * out.bestTotal) {
                out.best = ev.schedule();
                sinceSnapshot = 0;
            }
        }
    }
    if (current <= out.bestTotal) {
        out.best = ev.schedule();
        out.bestTotal = current;
    }
    return out;
}

// The paper's method: anneal windowed-look-ahead's (window_steps, promotion_ratio).
void tuneWindowed(const Selection& sel, const TimingConfig& tc, const PlacementConfig& pc, const AnnealConfig& cfg,
                  AnnealResult& out, const JobControl& job)
{
    const PolicyEntry& entry = findPolicy("windowed-look-ahead");
    std::mt19937_64 rng(static_cast<uint64_t>(cfg.seed) * 0x9E3779B97F4A7C15ull + 17);
    std::uniform_real_distribution<double> unit01(0, 1);
    std::normal_distribution<double> normal(0, 1);
    auto eval = [&](double w, double r) {
        const PolicyParams params{{"window_steps", w}, {"promotion_ratio", r}};
        auto pl = std::make_shared<const PlacementResult>(runPlacement(sel, entry, params, pc, job));
        auto tm = std::make_shared<const TimingResult>(computeTiming(sel, *pl, tc, job));
        if (!out.tuned_timing || tm->total_time < out.tuned_time) {
            out.tuned_time = tm->total_time;
            out.tuned_window_steps = w;
            out.tuned_promotion_ratio = r;
            out.tuned_placement = pl;
            out.tuned_timing = tm;
        }
        return tm->total_time;
    };
    double w = 8, r = 0.5;
    double cur = eval(w, r);
    const double temp0 = 0.02 * cur;
    for (int64_t k = 1; k < cfg.tune_evaluations; ++k) {
        const double temp = temp0 * std::pow(1e-3, static_cast<double>(k) / static_cast<double>(cfg.tune_evaluations));
        const double nw = std::clamp(std::round(w * std::exp(0.7 * normal(rng))), 1.0, 4096.0);
        const double nr = std::clamp(r + 0.2 * normal(rng), 0.0, 1.0);
        const double v = eval(nw, nr);
        if (v <= cur || unit01(rng) < std::exp(-(v - cur) / temp)) {
            w = nw;
            r = nr;
            cur = v;
        }
    }
}

} // namespace

AnnealResult annealSchedule(const Selection& selection, const TimingConfig& timing, const PlacementConfig& placement,
                            const AnnealConfig& config, const ScheduleOutcome& start, const JobControl& job)
{
    const auto t0 = Clock::now();
    const ScheduleProblem p = makeScheduleProblem(selection, timing, placement.capacity_units);
    AnnealResult out;
    out.start_time = start.total_time();
    const int32_t chains = std::max(1, config.chains);
    std::vector<Chain> results(static_cast<size_t>(chains));
    parallelFor(int32_t(0), chains, [&](int32_t c) {
        results[static_cast<size_t>(c)] =
            runChain(p, *start.schedule, config, static_cast<uint64_t>(config.seed) * 1000003ull + static_cast<uint64_t>(c), t0, job);
    }, job);
    out.exact_evaluator = ScheduleEvaluator(p, TierZeroSchedule(p.units, p.steps())).exact();
    out.schedule = start;
    // Every chain's best is re-simulated by the engine; the fastest (first on ties) wins.
    for (Chain& c : results) {
        out.moves_tried += c.tried;
        out.moves_accepted += c.accepted;
        out.budget_hit = out.budget_hit || c.budgetHit;
        auto s = std::make_shared<const TierZeroSchedule>(std::move(c.best));
        ScheduleOutcome o = simulateSchedule(selection, s, placement, timing, "annealed schedule", job);
        if (o.total_time() < out.schedule.total_time()) out.schedule = std::move(o);
    }
    if (out.schedule.name != "annealed schedule") out.schedule.name = "annealed schedule";
    if (config.tune_evaluations > 0) tuneWindowed(selection, timing, placement, config, out, job);
    job.report(1.0);
    out.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    return out;
}

} // namespace kvtier
