// The migration-aware bound (docs/BOUNDS.md) against the exact optimum over every exclusive
// placement, found here by dynamic programming over all tier assignments, written from
// MODEL.md §3-§5 alone: balanced <= bound <= optimum <= schedule on tiny instances, and
// balanced <= bound <= every policy's time on larger ones; a hand-computed case;
// cancellation and determinism.
#include <tbb/global_control.h>   // before Qt: Qt's `emit` macro breaks oneTBB headers

#include "core/engine/annealing.hpp"
#include "core/engine/bounds.hpp"
#include "core/engine/migration_bound.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/schedule_evaluator.hpp"
#include "core/engine/selection.hpp"
#include "core/engine/timing.hpp"
#include "core/policies/policy.hpp"

#include <QtTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <random>

using namespace kvtier;

namespace {

// A tiny instance: explicit selected tokens per (step, slot), hardware, capacities in units.
struct Instance {
    int64_t P = 2, T = 2, g = 1;
    int32_t layers = 1;
    bool perLayer = false;
    std::vector<std::vector<std::vector<uint32_t>>> tokens;   // [t][slot]
    TimingConfig tc;
    std::vector<int64_t> cap;   // units per tier

    int32_t slotCount() const { return perLayer ? layers : 1; }
    int64_t pages() const { return (P + T + g - 1) / g; }
    int64_t units() const { return pages() * slotCount(); }
    int64_t unitsAtEndOf(int64_t t) const { return ((P + t + 1 + g - 1) / g) * slotCount(); }   // t = -1: prefill
    int64_t tokensIn(int64_t page, int64_t n) const { return std::clamp<int64_t>(n - page * g, 0, g); }
};

Trace traceOf(const Instance& I)
{
    TraceMeta m;
    m.name = "tiny";
    m.prefill = I.P;
    m.steps = I.T;
    m.layers = I.layers;
    m.layer_mode = I.perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    m.kind = RecordKind::Selection;
    Trace tr(m);
    for (int64_t t = 0; t < I.T; ++t)
        for (int32_t l = 0; l < I.slotCount(); ++l) {
            Record r;
            r.step = t;
            r.layer = I.perLayer ? l : -1;
            r.index = I.tokens[static_cast<size_t>(t)][static_cast<size_t>(l)];
            r.value.assign(r.index.size(), 1.0f);
            tr.append(r);
        }
    return tr;
}

double tierSeconds(const Tier& tier, double R, double W)
{
    double x = (R + W) / tier.bandwidth;
    if (!std::isinf(tier.link_read)) x = std::max(x, R / tier.link_read);
    if (!std::isinf(tier.link_write)) x = std::max(x, W / tier.link_write);
    return x;
}

// MODEL.md §5: step t's time when the units were placed as `a` at the end of step t - 1 and
// as `b` at the end of step t (digits: tier per unit).
double stepTime(const Instance& I, int64_t t, const std::vector<int>& a, const std::vector<int>& b)
{
    const auto& tiers = I.tc.hardware.tiers;
    const size_t M = tiers.size();
    const int64_t n = I.P + t;
    const double bpt = I.tc.model.kv_bytes_per_token_layer * static_cast<double>(I.tc.batch);
    const double perLayerW = I.tc.model.weight_bytes / I.tc.model.layers;
    const double f = I.perLayer ? 1.0 : I.layers;
    double step = 0;
    for (int32_t l = 0; l < I.slotCount(); ++l) {
        std::vector<double> R(M, 0), W(M, 0);
        R[0] += I.tc.weights_in_fast_tier * perLayerW;
        R[M - 1] += (1 - I.tc.weights_in_fast_tier) * perLayerW;
        for (size_t u = 0; u < a.size(); ++u) {   // units that existed before the step
            if (static_cast<int32_t>(u % static_cast<size_t>(I.slotCount())) != l || a[u] == b[u]) continue;
            const double s = bpt * static_cast<double>(I.tokensIn(static_cast<int64_t>(u) / I.slotCount(), n));
            R[static_cast<size_t>(a[u])] += s;
            W[static_cast<size_t>(b[u])] += s;
        }
        std::vector<int64_t> read;
        for (uint32_t tok : I.tokens[static_cast<size_t>(t)][static_cast<size_t>(l)]) read.push_back(tok / I.g);
        read.erase(std::unique(read.begin(), read.end()), read.end());
        for (int64_t page : read)
            R[static_cast<size_t>(b[static_cast<size_t>(page * I.slotCount() + l)])] += bpt * static_cast<double>(I.tokensIn(page, n));
        W[static_cast<size_t>(b[static_cast<size_t>((n / I.g) * I.slotCount() + l)])] += bpt;
        double tau = 0;
        for (size_t m = 0; m < M; ++m) tau = std::max(tau, tierSeconds(tiers[m], R[m], W[m]));
        step += f * std::max(tau, I.tc.compute_floor_s);
    }
    return step;
}

// All assignments of `count` units to M tiers within capacity.
std::vector<std::vector<int>> assignments(const Instance& I, int64_t count)
{
    const auto M = static_cast<int>(I.tc.hardware.tiers.size());
    std::vector<std::vector<int>> all;
    std::vector<int> x(static_cast<size_t>(count), 0);
    while (true) {
        std::vector<int64_t> used(static_cast<size_t>(M), 0);
        for (int v : x) used[static_cast<size_t>(v)]++;
        bool ok = true;
        for (int m = 0; m < M; ++m) ok = ok && used[static_cast<size_t>(m)] <= I.cap[static_cast<size_t>(m)];
        if (ok) all.push_back(x);
        size_t i = 0;
        while (i < x.size() && ++x[i] == M) x[i++] = 0;
        if (i == x.size()) break;
    }
    return all;
}

// The exact optimum over every exclusive placement: DP over the end-of-step assignments.
double exactOptimum(const Instance& I)
{
    std::map<std::vector<int>, double> cur;
    for (auto& a : assignments(I, I.unitsAtEndOf(-1))) cur[a] = 0;   // the initial placement is free
    for (int64_t t = 0; t < I.T; ++t) {
        std::map<std::vector<int>, double> next;
        for (auto& b : assignments(I, I.unitsAtEndOf(t))) {
            double best = std::numeric_limits<double>::infinity();
            for (auto& [a, cost] : cur) {
                // b extends a: the units that existed at the end of step t - 1 are its prefix.
                best = std::min(best, cost + stepTime(I, t, a, b));
            }
            next[b] = best;
        }
        cur = std::move(next);
    }
    double best = std::numeric_limits<double>::infinity();
    for (auto& [a, cost] : cur) best = std::min(best, cost);
    return best;
}

Instance randomInstance(std::mt19937_64& rng, int kind)
{
    std::uniform_real_distribution<double> u(0, 1);
    Instance I;
    // kind 0: aggregated L=1; 1: aggregated L=3; 2: per-layer L=2
    I.perLayer = kind == 2;
    I.layers = kind == 0 ? 1 : (kind == 1 ? 3 : 2);
    do {
        I.g = u(rng) < 0.6 ? 1 : 2;
        I.P = 1 + static_cast<int64_t>(u(rng) * 4);
        I.T = 2 + static_cast<int64_t>(u(rng) * 3);
    } while (I.units() > (I.perLayer ? 6 : 6) || I.units() < 2);
    const double density = 0.25 + 0.5 * u(rng);
    I.tokens.resize(static_cast<size_t>(I.T));
    for (int64_t t = 0; t < I.T; ++t)
        for (int32_t l = 0; l < I.slotCount(); ++l) {
            std::vector<uint32_t> sel;
            for (int64_t i = 0; i < I.P + t; ++i)
                if (u(rng) < density) sel.push_back(static_cast<uint32_t>(i));
            I.tokens[static_cast<size_t>(t)].push_back(sel);
        }
    I.tc.model = {"m", I.layers, 50 + std::floor(u(rng) * 150), std::floor(u(rng) * 3000)};
    I.tc.batch = 1 + static_cast<int64_t>(u(rng) * 2);
    I.tc.weights_in_fast_tier = u(rng) < 0.5 ? 1.0 : 0.5;
    auto link = [&] { return u(rng) < 0.5 ? kNoLink : 60 + u(rng) * 400; };
    const int64_t U = I.units();
    const int64_t cap0 = 1 + static_cast<int64_t>(u(rng) * static_cast<double>(U - 1));
    I.cap = {cap0, U - cap0 + (u(rng) < 0.5 ? 0 : 1)};
    const double unitBytes = static_cast<double>(I.g) * I.tc.model.kv_bytes_per_token_layer * (I.perLayer ? 1 : I.layers) *
                             static_cast<double>(I.tc.batch);
    Tier hbm{"HBM", 0, 1000 + u(rng) * 3000, kNoLink, kNoLink, 0};
    Tier dram{"DRAM", 0, 100 + u(rng) * 700, link(), link(), 0};
    hbm.capacity_bytes = I.tc.weights_in_fast_tier * I.tc.model.weight_bytes + (static_cast<double>(I.cap[0]) + 0.5) * unitBytes;
    dram.capacity_bytes = (1 - I.tc.weights_in_fast_tier) * I.tc.model.weight_bytes + (static_cast<double>(I.cap[1]) + 0.5) * unitBytes;
    I.tc.hardware.tiers = {hbm, dram};
    if (u(rng) < 0.2) I.tc.compute_floor_s = 0.02 + 0.1 * u(rng);
    return I;
}

struct Outcome {
    double balanced, bound, schedule;
    MigrationBoundResult result;
};

Selection selectionOf(const Instance& I)
{
    SelectionConfig sc;
    sc.mode = SelectionMode::Dense;
    sc.page_tokens = I.g;
    return computeSelection(traceOf(I), sc);
}

// A larger instance: more units and steps, 2 or 3 tiers, capacities that bind.
Instance largerInstance(std::mt19937_64& rng, bool perLayer)
{
    std::uniform_real_distribution<double> u(0, 1);
    Instance I;
    I.perLayer = perLayer;
    I.layers = perLayer ? 2 : 1 + static_cast<int32_t>(u(rng) * 4);
    I.g = u(rng) < 0.5 ? 1 : 4;
    I.P = 10 + static_cast<int64_t>(u(rng) * 40);
    I.T = 8 + static_cast<int64_t>(u(rng) * 24);
    I.tokens.resize(static_cast<size_t>(I.T));
    std::vector<double> heat(static_cast<size_t>(I.P + I.T));
    for (double& h : heat) h = u(rng) < 0.2 ? 0.8 : 0.1;
    for (int64_t t = 0; t < I.T; ++t)
        for (int32_t l = 0; l < I.slotCount(); ++l) {
            std::vector<uint32_t> sel;
            for (int64_t i = 0; i < I.P + t; ++i)
                if (u(rng) < heat[static_cast<size_t>(i)] || i >= I.P + t - 2) sel.push_back(static_cast<uint32_t>(i));
            I.tokens[static_cast<size_t>(t)].push_back(sel);
        }
    I.tc.model = {"m", I.layers, 64, std::floor(u(rng) * 4000)};
    I.tc.batch = 1;
    const int64_t U = I.units();
    const bool three = u(rng) < 0.3;
    const int64_t cap0 = 1 + static_cast<int64_t>(u(rng) * 0.5 * static_cast<double>(U));
    const double unitBytes = static_cast<double>(I.g) * 64 * (I.perLayer ? 1 : I.layers);
    Tier hbm{"HBM", I.tc.model.weight_bytes + (static_cast<double>(cap0) + 0.5) * unitBytes, 1000 + u(rng) * 3000, kNoLink, kNoLink, 0};
    I.cap = {cap0};
    I.tc.hardware.tiers = {hbm};
    if (three) {
        const int64_t cap1 = 1 + static_cast<int64_t>(u(rng) * 0.3 * static_cast<double>(U));
        I.cap.push_back(cap1);
        I.tc.hardware.tiers.push_back({"DRAM", (static_cast<double>(cap1) + 0.5) * unitBytes, 300 + u(rng) * 500, 200 + u(rng) * 300, kNoLink, 0});
    }
    I.cap.push_back(U);
    I.tc.hardware.tiers.push_back({"CXL", (static_cast<double>(U) + 0.5) * unitBytes, 100 + u(rng) * 300, kNoLink, 80 + u(rng) * 200, 0});
    return I;
}

Outcome runBound(const Instance& I, const MigrationBoundParams& params = {}, const JobControl& job = {})
{
    const Trace tr = traceOf(I);
    SelectionConfig sc;
    sc.mode = SelectionMode::Dense;
    sc.page_tokens = I.g;
    const Selection sel = computeSelection(tr, sc);
    const BoundResult bal = balancedBound(sel, I.tc);
    PlacementConfig pc{false, I.cap, ObserveScores::Read};
    Outcome o;
    o.result = migrationAwareBound(sel, I.tc, pc, params, bal, {}, job);
    o.balanced = bal.total_time;
    o.bound = o.result.total_time;
    o.schedule = o.result.schedule_time();
    return o;
}

} // namespace

class TestMigrationBound : public QObject {
    Q_OBJECT

private slots:
    void tinyInstancesAgainstTheExactOptimum()
    {
        std::vector<double> ratio, schedRatio;
        int over5 = 0;
        for (uint64_t seed = 1; seed <= 90; ++seed) {
            std::mt19937_64 rng(seed * 7919);
            const Instance I = randomInstance(rng, static_cast<int>(seed % 3));
            const double opt = exactOptimum(I);
            MigrationBoundParams bp;
            bp.iterations = qEnvironmentVariableIntValue("KVTIER_ITERS") ? qEnvironmentVariableIntValue("KVTIER_ITERS") : 300;
            const Outcome o = runBound(I, bp);
            QVERIFY2(o.balanced <= o.bound * (1 + 1e-12), qPrintable(QString("seed %1").arg(seed)));
            QVERIFY2(o.bound <= opt * (1 + 1e-9),
                     qPrintable(QString("seed %1: bound %2 > optimum %3").arg(seed).arg(o.bound, 0, 'g', 17).arg(opt, 0, 'g', 17)));
            QVERIFY2(opt <= o.schedule * (1 + 1e-9),
                     qPrintable(QString("seed %1: schedule %2 < optimum %3").arg(seed).arg(o.schedule, 0, 'g', 17).arg(opt, 0, 'g', 17)));
            ratio.push_back(opt / o.bound);
            schedRatio.push_back(o.schedule / opt);
            if (opt / o.bound > 1.05) ++over5;
        }
        auto show = [](const char* what, std::vector<double> v) {
            std::sort(v.begin(), v.end());
            const auto q = [&](double f) { return v[static_cast<size_t>(f * static_cast<double>(v.size() - 1))]; };
            qInfo("%s over %zu instances: min %.4f, median %.4f, 90th %.4f, max %.4f", what, v.size(), q(0), q(0.5),
                  q(0.9), q(1));
        };
        show("optimum / migration-aware bound", ratio);
        show("schedule / optimum", schedRatio);
        qInfo("bound more than 5%% below the optimum on %d of %zu", over5, ratio.size());
        QVERIFY(over5 <= static_cast<int>(ratio.size()) / 2);   // "most" within 5 %
    }

    // The annealed schedule is achievable: never below the exact optimum, never above S.
    void annealedIsAtLeastTheOptimum()
    {
        for (uint64_t seed = 1; seed <= 30; ++seed) {
            std::mt19937_64 rng(seed * 104729);
            const Instance I = randomInstance(rng, static_cast<int>(seed % 3));
            const double opt = exactOptimum(I);
            const Selection sel = selectionOf(I);
            const Outcome o = runBound(I);
            AnnealConfig ac;
            ac.moves = 3000;
            ac.seed = static_cast<int64_t>(seed);
            const AnnealResult a = annealSchedule(sel, I.tc, {false, I.cap, ObserveScores::Read}, ac, o.result.schedule);
            QVERIFY2(a.total_time() >= opt * (1 - 1e-9), qPrintable(QString("seed %1").arg(seed)));
            QVERIFY(a.total_time() <= o.schedule * (1 + 1e-12));
        }
    }

    // A hand-computed case: one unit, HBM holds nothing, so everything is read from DRAM.
    // P = 1, T = 2, g = 1, L = 1, kappa = 100, no weights, B0 = 1000, B1 = 100, caps (0, 3).
    // Step 0 reads token 0 (100 B) and writes token 1 (100 B) on DRAM: 200 / 100 = 2 s.
    // Step 1 reads tokens 0, 1 and writes token 2: 300 / 100 = 3 s. Optimum = bound = 5 s.
    void handComputed()
    {
        Instance I;
        I.P = 1;
        I.T = 2;
        I.tokens = {{{0}}, {{0, 1}}};
        I.tc.model = {"m", 1, 100, 0};
        I.tc.hardware.tiers = {{"HBM", 50, 1000, kNoLink, kNoLink, 0}, {"DRAM", 350, 100, kNoLink, kNoLink, 0}};
        I.cap = {0, 3};
        QCOMPARE(exactOptimum(I), 5.0);
        MigrationBoundParams exact;
        exact.target_gap = 0;
        exact.iterations = 2000;
        const Outcome o = runBound(I, exact);
        QVERIFY2(std::abs(o.bound - 5.0) < 1e-6, qPrintable(QString::number(o.bound, 'g', 17)));
        QCOMPARE(o.schedule, 5.0);
        // With room for one unit in HBM, unit 0 lives there: step 0 = max(100/1000, 100/100) = 1 s,
        // step 1: reads 100 B from HBM and 100 B from DRAM, writes 100 B to DRAM: 2 s. Optimum 3 s.
        I.cap = {1, 3};
        QCOMPARE(exactOptimum(I), 3.0);
        const Outcome o2 = runBound(I, exact);
        qInfo("hand-computed case with one HBM unit: bound %.6f, optimum 3", o2.bound);
        QVERIFY(o2.bound <= 3.0 * (1 + 1e-12));
        QVERIFY(o2.bound > 2.9);
        QCOMPARE(o2.schedule, 3.0);
    }

    // On larger instances: balanced <= bound <= every policy's time and the annealed time,
    // and the incremental evaluator matches the engine on the schedules it produces.
    void largerInstancesAgainstEveryPolicy()
    {
        for (uint64_t seed = 1; seed <= 16; ++seed) {
            std::mt19937_64 rng(seed * 31337);
            const Instance I = largerInstance(rng, seed % 4 == 0);
            const Selection sel = selectionOf(I);
            const PlacementConfig pc{false, I.cap, ObserveScores::Read};
            const BoundResult bal = balancedBound(sel, I.tc);
            std::vector<PlacementResult> placements;
            std::vector<double> times;
            for (const PolicyEntry& e : policyRegistry()) {
                placements.push_back(runPlacement(sel, e, {}, pc));
                times.push_back(computeTiming(sel, placements.back(), I.tc).total_time);
            }
            MigrationBoundParams bp;
            bp.iterations = 150;
            const MigrationBoundResult mb = migrationAwareBound(sel, I.tc, pc, bp, bal);
            QVERIFY(bal.total_time <= mb.total_time);
            for (size_t i = 0; i < times.size(); ++i)
                QVERIFY2(mb.total_time <= times[i] * (1 + 1e-9),
                         qPrintable(QString("seed %1 policy %2").arg(seed).arg(QString::fromStdString(policyRegistry()[i].info.name))));
            QVERIFY(mb.total_time <= mb.schedule_time() * (1 + 1e-9));
            AnnealConfig ac;
            ac.moves = 4000;
            const AnnealResult a = annealSchedule(sel, I.tc, pc, ac, mb.schedule);
            QVERIFY(mb.total_time <= a.total_time() * (1 + 1e-9));
            double sum = 0;
            for (double x : mb.step_time) sum += x;
            QVERIFY(std::abs(sum - mb.total_time) <= 1e-6 * mb.total_time);

            const ScheduleProblem prob = makeScheduleProblem(sel, I.tc, I.cap);
            const ScheduleEvaluator ev(prob, *a.schedule.schedule);
            if (ev.exact()) QVERIFY2(std::abs(ev.total() - a.total_time()) <= 1e-9 * a.total_time(),
                                     qPrintable(QString("seed %1: evaluator %2, engine %3").arg(seed).arg(ev.total()).arg(a.total_time())));
        }
    }

    // Moves applied one by one keep the evaluator's running total equal to the engine's.
    void evaluatorFollowsMoves()
    {
        std::mt19937_64 rng(99);
        const Instance I = largerInstance(rng, false);
        const Selection sel = selectionOf(I);
        const ScheduleProblem prob = makeScheduleProblem(sel, I.tc, I.cap);
        const PlacementConfig pc{false, I.cap, ObserveScores::Read};
        TierZeroSchedule start(prob.units, prob.steps());
        ScheduleEvaluator ev(prob, start);
        QVERIFY(ev.exact() || I.cap.size() == 3);
        std::uniform_int_distribution<int64_t> unitDist(0, prob.units - 1);
        std::uniform_int_distribution<int64_t> stepDist(0, prob.steps() - 1);
        int applied = 0;
        for (int k = 0; k < 400; ++k) {
            const auto u = static_cast<uint32_t>(unitDist(rng));
            const int64_t a = std::max<int64_t>(prob.created[u], stepDist(rng));
            const int64_t b = std::min<int64_t>(prob.steps() - 1, a + stepDist(rng) % 5);
            bool room = true;
            for (int64_t t = a; t <= b; ++t) room = room && (ev.schedule().at(u, t) || ev.fastCount(t) < I.cap[0]);
            if (!room) continue;
            ev.set(u, a, b, k % 3 != 0);
            bool minOk = true;
            for (int64_t t = -1; t < prob.steps(); ++t) minOk = minOk && ev.fastCount(t) >= ev.minFast(t);
            if (!minOk) { ev.set(u, a, b, k % 3 == 0); continue; }
            ++applied;
        }
        QVERIFY(applied > 50);
        const ScheduleOutcome o = simulateSchedule(sel, std::make_shared<const TierZeroSchedule>(ev.schedule()), pc, I.tc, "x");
        if (ev.exact()) QVERIFY(std::abs(ev.total() - o.total_time()) <= 1e-9 * o.total_time());
    }

    void deterministicForASeed()
    {
        std::mt19937_64 rng(7);
        const Instance I = largerInstance(rng, true);
        const Selection sel = selectionOf(I);
        const PlacementConfig pc{false, I.cap, ObserveScores::Read};
        const BoundResult bal = balancedBound(sel, I.tc);
        MigrationBoundParams bp;
        bp.iterations = 60;
        AnnealConfig ac;
        ac.moves = 3000;
        ac.seed = 5;
        ac.tune_evaluations = 4;
        std::vector<double> first;
        for (int threads : {1, 2, 1}) {
            tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads));
            const MigrationBoundResult mb = migrationAwareBound(sel, I.tc, pc, bp, bal);
            const AnnealResult a = annealSchedule(sel, I.tc, pc, ac, mb.schedule);
            const std::vector<double> now = {mb.total_time, mb.schedule_time(), a.total_time(), a.tuned_time};
            if (first.empty()) first = now;
            QCOMPARE(now, first);
        }
    }

    void cancelledRunReturnsNothing()
    {
        std::mt19937_64 rng(11);
        const Instance I = largerInstance(rng, false);
        const Selection sel = selectionOf(I);
        const PlacementConfig pc{false, I.cap, ObserveScores::Read};
        const BoundResult bal = balancedBound(sel, I.tc);
        std::atomic<bool> cancel{false};
        JobControl job;
        job.cancel = &cancel;
        job.progress = [&](double f) { if (f > 0.1) cancel = true; };
        QVERIFY_THROWS_EXCEPTION(Cancelled, migrationAwareBound(sel, I.tc, pc, {}, bal, {}, job));
        cancel = true;
        QVERIFY_THROWS_EXCEPTION(Cancelled, annealSchedule(sel, I.tc, pc, {}, ScheduleOutcome{}, job));
    }

    void inclusiveIsRefused()
    {
        std::mt19937_64 rng(3);
        const Instance I = randomInstance(rng, 0);
        const Selection sel = selectionOf(I);
        const BoundResult bal = balancedBound(sel, I.tc);
        QVERIFY_THROWS_EXCEPTION(InputError, migrationAwareBound(sel, I.tc, {true, I.cap, ObserveScores::Read}, {}, bal));
    }
};

QTEST_GUILESS_MAIN(TestMigrationBound)
#include "tst_migration_bound.moc"
