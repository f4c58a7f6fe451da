// The windowed migration-aware bound of a streamed analysis (core/engine/
// migration_bound_windowed.hpp, docs/BOUNDS.md "Windows"): one window over the whole run
// gives the whole-trace bound's Lagrangian value; several windows give a looser bound that
// stays above the balanced bound and below every policy's time; a hand-worked case; the
// budget rule; a cancelled window returns nothing; analyzeStreamed carries it.
#include "test_support.hpp"

#include "core/engine/bounds.hpp"
#include "core/engine/migration_bound.hpp"
#include "core/engine/migration_bound_windowed.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/engine/stream_analysis.hpp"
#include "core/engine/timing.hpp"
#include "core/model/cancel.hpp"
#include "core/policies/policy.hpp"
#include "core/synth/generator.hpp"

#include <QtTest>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

using namespace kvtier;

namespace {

// A trace in memory with every policy's placement and timing over the whole run.
struct Case {
    TraceMeta meta;
    std::vector<Record> records;
    SelectionConfig sc;
    TimingConfig tc;
    PlacementConfig pc;
    Selection sel;
    BoundResult balanced;
    std::vector<std::string> names;
    std::vector<std::shared_ptr<const PlacementResult>> placements;
    std::vector<std::shared_ptr<const TimingResult>> timings;
};

// The selection of steps [t0, t1) as a streamed analysis builds it (a window trace).
Selection windowSelection(const Case& c, int64_t t0, int64_t t1)
{
    Trace w(c.meta);
    w.startWindow(t0);
    for (const Record& r : c.records)
        if (r.step >= t0 && r.step < t1) w.append(r);
    return computeSelection(w, c.sc);
}

void finishCase(Case& c)
{
    Trace whole(c.meta);
    for (const Record& r : c.records) whole.append(r);
    c.sel = computeSelection(whole, c.sc);
    c.balanced = balancedBound(c.sel, c.tc);
    for (const PolicyEntry& e : policyRegistry()) {
        c.names.push_back(e.info.name);
        c.placements.push_back(std::make_shared<const PlacementResult>(runPlacement(c.sel, e, {}, c.pc)));
        c.timings.push_back(std::make_shared<const TimingResult>(computeTiming(c.sel, *c.placements.back(), c.tc)));
    }
}

// A generated per-layer trace (core/synth) with HBM holding `hbmUnits` of its units.
Case generatedCase(uint64_t seed, int64_t hbmUnits, int64_t steps = 24)
{
    GeneratorParams p;
    p.seed = seed;
    p.prefill = 40;
    p.steps = steps;
    p.layers = 3;
    p.per_layer = true;
    p.heavy_count = 6;
    p.burst_min_age = 8;
    p.burst_rate = 0.1;
    Case c;
    c.meta = generatorMeta(p);
    generate(p, [&](const Record& r) { c.records.push_back(r); });
    Scenario s;
    s.batch = 2;
    s.model.layers = 3;
    s.model.kv_bytes_per_token_layer = 64;
    s.model.weight_bytes = 4096;
    s.selection.mode = SelectionMode::Ratio;
    s.selection.value = 0.25;
    s.selection.page_tokens = 2;
    const double unitBytes = 2 * 64 * 2;   // g x kappa x batch
    s.hardware.tiers = {{"HBM", 4096 + (static_cast<double>(hbmUnits) + 0.5) * unitBytes, 2e6, kNoLink, kNoLink, 0},
                        {"DRAM", 1e12, 4e5, 2e5, 2e5, 0}};
    c.sc = s.selection;
    c.tc = s.timingConfig();
    const UnitLayout layout = unitLayoutOf(c.meta, s.selection.page_tokens);
    c.pc = {false, planCapacity(s, layout, c.tc).units, ObserveScores::Read};
    finishCase(c);
    return c;
}

double sumOver(const std::vector<double>& v, int64_t t0, int64_t t1)
{
    double x = 0;
    for (int64_t t = t0; t < t1; ++t) x += v[static_cast<size_t>(t)];
    return x;
}

// The windowed bound over windows of `windowSteps`, each aiming at the least time a policy
// took over it (as analyzeStreamed does), the fastest policy as the certificate.
MigrationBoundResult windowed(const Case& c, int64_t windowSteps, const MigrationBoundParams& params,
                              const JobControl& job = {})
{
    const int64_t T = c.meta.steps;
    MigrationBoundStream stream(T, (T + windowSteps - 1) / windowSteps, c.tc, c.pc, params);
    for (int64_t t0 = 0; t0 < T; t0 += windowSteps) {
        const int64_t t1 = std::min(T, t0 + windowSteps);
        double achievable = std::numeric_limits<double>::infinity();
        for (const auto& tm : c.timings) achievable = std::min(achievable, sumOver(tm->step_time, t0, t1));
        stream.add(windowSelection(c, t0, t1), sumOver(c.balanced.step_time, t0, t1), achievable, job);
    }
    size_t best = 0;
    for (size_t i = 1; i < c.timings.size(); ++i)
        if (c.timings[i]->total_time < c.timings[best]->total_time) best = i;
    return stream.finish(c.balanced, {"migration-aware schedule", nullptr, c.placements[best], c.timings[best]},
                         "policy " + c.names[best]);
}

MigrationBoundParams paramsOf(int64_t iterations)
{
    MigrationBoundParams p;
    p.iterations = iterations;
    p.time_budget_s = 600;   // never hit: the runs are deterministic
    return p;
}

} // namespace

class TestMigrationWindowed : public QObject {
    Q_OBJECT

private slots:
    // One window over the whole run is the whole-trace problem (the prefill units' first
    // tier is free in both): with the same Polyak target (the whole-trace run's schedule,
    // a policy's, which no repaired relaxation beat) the same iterations give the same value,
    // to the last bit.
    void oneWindowIsTheWholeTraceBound()
    {
        // Cases where a policy (belady) is the whole-trace run's best schedule.
        for (const auto& [seed, hbm] : std::vector<std::pair<uint64_t, int64_t>>{{3, 40}, {4, 30}, {7, 30}}) {
            const Case c = generatedCase(seed, hbm);
            std::vector<ScheduleCandidate> candidates;
            for (size_t i = 0; i < c.placements.size(); ++i) candidates.push_back({c.names[i], c.placements[i].get()});
            const MigrationBoundParams params = paramsOf(120);
            const MigrationBoundResult whole = migrationAwareBound(c.sel, c.tc, c.pc, params, c.balanced, candidates);
            QVERIFY2(whole.schedule_source.rfind("policy ", 0) == 0, whole.schedule_source.c_str());
            QVERIFY(!whole.budget_hit);
            const int64_t T = c.meta.steps;
            const LagrangianBound one = windowMigrationBound(windowSelection(c, 0, T), c.tc, c.pc, params,
                                                             c.balanced.total_time, whole.schedule_time());
            QVERIFY2(one.value == whole.lagrangian_time,   // exactly
                     qPrintable(QString("seed %1: window %2, whole %3").arg(seed).arg(one.value, 0, 'g', 17)
                                    .arg(whole.lagrangian_time, 0, 'g', 17)));
            QVERIFY(whole.lagrangian_time >= c.balanced.total_time);   // so whole.step_time holds its shares
            QCOMPARE(one.step_share, whole.step_time);   // std::vector: exact ==
            QCOMPARE(one.iterations, whole.iterations);
            QCOMPARE(static_cast<int64_t>(one.step_share.size()), T);
            // And the stream's sum over that one window.
            MigrationBoundStream stream(T, 1, c.tc, c.pc, params);
            stream.add(windowSelection(c, 0, T), c.balanced.total_time, whole.schedule_time());
            const MigrationBoundResult r = stream.finish(c.balanced, whole.schedule, whole.schedule_source);
            QCOMPARE(r.lagrangian_time, one.value);
            QCOMPARE(r.windows, int64_t{1});
        }
    }

    // Several windows: looser than the whole-trace value, never below the balanced bound,
    // never above any policy's time (all online policies and the oracles, belady among them).
    void severalWindowsAreLooserAndValid()
    {
        int loosening = 0;
        for (const uint64_t seed : {1u, 2u, 5u}) {
            for (const int64_t hbm : {12, 40}) {
                const Case c = generatedCase(seed, hbm);
                const MigrationBoundParams params = paramsOf(200);
                const MigrationBoundResult whole = migrationAwareBound(c.sel, c.tc, c.pc, params, c.balanced);
                for (const int64_t w : {1, 5, 8}) {
                    const MigrationBoundResult r = windowed(c, w, params);
                    const QString where = QString("seed %1, HBM %2 units, windows of %3").arg(seed).arg(hbm).arg(w);
                    QCOMPARE(r.windows, (c.meta.steps + w - 1) / w);
                    QVERIFY2(r.lagrangian_time <= whole.lagrangian_time * (1 + 1e-9),
                             qPrintable(where + QString(": windowed %1 > whole %2").arg(r.lagrangian_time, 0, 'g', 17)
                                                    .arg(whole.lagrangian_time, 0, 'g', 17)));
                    QVERIFY2(r.lagrangian_time >= c.balanced.total_time * (1 - 1e-9),
                             qPrintable(where + QString(": windowed %1 < balanced %2").arg(r.lagrangian_time, 0, 'g', 17)
                                                    .arg(c.balanced.total_time, 0, 'g', 17)));
                    QCOMPARE(r.total_time, std::max(r.lagrangian_time, c.balanced.total_time));
                    for (size_t i = 0; i < c.timings.size(); ++i)
                        QVERIFY2(r.total_time <= c.timings[i]->total_time * (1 + 1e-9),
                                 qPrintable(where + " policy " + QString::fromStdString(c.names[i])));
                    QVERIFY(r.total_time <= r.schedule_time());
                    double sum = 0;
                    for (double x : r.step_time) sum += x;
                    QVERIFY(std::abs(sum - r.total_time) <= 1e-6 * r.total_time);
                    if (r.lagrangian_time < whole.lagrangian_time * (1 - 1e-6)) ++loosening;
                }
            }
        }
        QVERIFY(loosening > 0);   // the boundaries cost something somewhere
    }

    // By hand: P = 2, g = 3, T = 4, one aggregated layer, kappa = 100 B, batch 1, no weights;
    // HBM 1000 B/s holds 1 unit, DRAM 100 B/s. Unit 0 = tokens 0-2 (prefill), unit 1 = tokens
    // 3-5, created at step 1 (token 3). Step t has n = P + t tokens, reads, writes token n.
    // Reads: steps 0, 1 token 0 (unit 0: 2, then 3 tokens); steps 2, 3 token 3 (unit 1: 1,
    // then 2 tokens). Bytes: step 0 200 + 100 (write to unit 0), step 1 300 + 100 (write to
    // unit 1), step 2 100 + 100, step 3 200 + 100, all on unit 0 in steps 0-1, unit 1 after.
    // The Lagrangian dual is the optimum over mixtures of unit paths with HBM holding one
    // unit on average (a convex problem, no duality gap):
    //  window [0, 2): unit 0 in HBM (mixture p) and unit 1 (created at step 1, b <= 1 - p):
    //    step 0 max(300p / 1000, 300(1 - p) / 100), step 1 DRAM >= 300(1 - p) + 100 p bytes:
    //    3 - 2p s; the sum is least at p = 1: 0.3 + 1.0 = 1.3 s.
    //  window [2, 4): both units' places free at its start; unit 0 is neither read nor
    //    written; unit 1 mixed over the tiers in the bandwidth ratio 1000 : 100 serves each
    //    step's bytes at 1100 B/s: (200 + 300) / 1100 = 5/11 s.
    //  windowed value 1.3 + 5/11 = 1.754545... s. A whole run pays to get unit 1 into HBM:
    //  unit 0 in HBM throughout and unit 1 in DRAM take 0.3 + 1.0 + 2.0 + 3.0 = 6.3 s;
    //  swapping them at step 2 (DRAM reads unit 1's 100 B, takes unit 0's 300 B: 4.0 s)
    //  takes 0.3 + 1.0 + 4.0 + 0.3 = 5.6 s, what belady does. The second window gets unit 1
    //  into HBM for free.
    void handWorkedTwoWindows()
    {
        Case c;
        c.meta.name = "hand";
        c.meta.prefill = 2;
        c.meta.steps = 4;
        c.meta.layers = 1;
        c.meta.layer_mode = LayerMode::Aggregated;
        c.meta.kind = RecordKind::Selection;
        const std::vector<uint32_t> reads = {0, 0, 3, 3};
        for (int64_t t = 0; t < 4; ++t) {
            Record r;
            r.step = t;
            r.layer = -1;
            r.index = {reads[static_cast<size_t>(t)]};
            r.value = {1.0f};
            c.records.push_back(r);
        }
        c.sc.mode = SelectionMode::Dense;
        c.sc.page_tokens = 3;
        c.tc.model = {"m", 1, 100, 0};
        c.tc.hardware.tiers = {{"HBM", 350, 1000, kNoLink, kNoLink, 0}, {"DRAM", 1e6, 100, kNoLink, kNoLink, 0}};
        c.pc = {false, {1, 2}, ObserveScores::Read};
        finishCase(c);
        QCOMPARE(c.sel.layout.totalUnits(), int64_t{2});
        MigrationBoundParams params = paramsOf(3000);
        params.target_gap = 0;
        const MigrationBoundResult r = windowed(c, 2, params);
        const double expected = 1.3 + 5.0 / 11.0;
        qInfo("hand-worked windows: %.9f (expected %.9f), balanced %.9f", r.lagrangian_time, expected,
              c.balanced.total_time);
        QVERIFY2(r.lagrangian_time <= expected * (1 + 1e-9), qPrintable(QString::number(r.lagrangian_time, 'g', 17)));
        QVERIFY2(r.lagrangian_time >= expected * (1 - 1e-3), qPrintable(QString::number(r.lagrangian_time, 'g', 17)));
        double fastest = std::numeric_limits<double>::infinity();
        for (const auto& tm : c.timings) fastest = std::min(fastest, tm->total_time);
        QVERIFY(std::abs(fastest - 5.6) < 1e-12);   // belady: the swap at step 2 (above)
        QVERIFY(r.total_time == r.lagrangian_time && r.total_time < fastest);
        const MigrationBoundResult whole = migrationAwareBound(c.sel, c.tc, c.pc, params, c.balanced);
        qInfo("whole-trace Lagrangian value %.9f", whole.lagrangian_time);
        QVERIFY(r.lagrangian_time <= whole.lagrangian_time * (1 + 1e-9));
    }

    // What is left of the budget, evenly over the windows left.
    void budgetShare()
    {
        QCOMPARE(windowBudget(10, 0, 4), 2.5);
        QCOMPARE(windowBudget(10, 4, 3), 2.0);
        QCOMPARE(windowBudget(10, 12, 2), 0.0);
        QCOMPARE(windowBudget(10, 0, 0), 10.0);
    }

    // Cancelled inside a window's search: Cancelled, and no result.
    void cancelledWindowReturnsNothing()
    {
        const Case c = generatedCase(4, 20);
        std::atomic<bool> cancel{false};
        JobControl job;
        job.cancel = &cancel;
        job.progress = [&](double f) {
            if (f > 0.1) cancel = true;
        };
        bool returned = false;
        QVERIFY_THROWS_EXCEPTION(Cancelled, [&] {
            windowed(c, 6, paramsOf(100), job);
            returned = true;
        }());
        QVERIFY(!returned);
        cancel = false;
        QVERIFY_THROWS_EXCEPTION(Cancelled, windowMigrationBound(windowSelection(c, 6, 12), c.tc, c.pc, paramsOf(100),
                                                                 sumOver(c.balanced.step_time, 6, 12), 1.0, job));
    }

    // Streamed from a database: the stream's bound is the windowed one of its windows (the
    // same windows by hand give the same value), with the fastest policy as its schedule.
    void analyzeStreamedCarriesIt()
    {
        const Case c = generatedCase(6, 25);
        const std::string db = test::scratchPath("windowed.sqlite");
        {
            auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
            TraceMeta meta = c.meta;
            meta.name = "t";
            auto w = store->beginTrace(meta, Encoding::SparseF32);
            for (const Record& r : c.records) w->add(r);
            w->commit();
        }
        Scenario s;
        s.trace_db = db;
        s.trace_name = "t";
        s.batch = 2;
        s.model.layers = 3;
        s.model.kv_bytes_per_token_layer = 64;
        s.model.weight_bytes = 4096;
        s.selection = c.sc;
        s.hardware.tiers = c.tc.hardware.tiers;
        for (const std::string& n : c.names) s.policies.push_back({n, {}});
        s.bounds.migration_aware = paramsOf(80);
        s.bounds.migration_aware.enabled = true;
        StreamOptions o;
        o.window_steps = 7;
        const StreamedAnalysis a = analyzeStreamed(s, o);
        QVERIFY(a.result.migration_bound);
        const MigrationBoundResult& m = *a.result.migration_bound;
        QCOMPARE(m.windows, int64_t{4});
        QCOMPARE(a.report.windows, int64_t{4});
        const MigrationBoundResult byHand = windowed(c, 7, paramsOf(80));
        QCOMPARE(m.lagrangian_time, byHand.lagrangian_time);
        QCOMPARE(m.total_time, byHand.total_time);
        QCOMPARE(m.schedule_time(), byHand.schedule_time());
        QCOMPARE(m.schedule_source, byHand.schedule_source);
        for (const PolicyOutcome& p : a.result.policies) QVERIFY(m.total_time <= p.timing->total_time);
        QVERIFY(!a.result.annealed);
        s.bounds.annealed.enabled = true;
        QVERIFY(test::errorOf([&] { analyzeStreamed(s, o); }).startsWith("bounds.annealed: "));
        s.bounds.annealed.enabled = false;
        s.inclusive = true;
        QVERIFY(test::errorOf([&] { analyzeStreamed(s, o); }).startsWith("bounds.migration_aware: covers exclusive"));
    }
};

QTEST_GUILESS_MAIN(TestMigrationWindowed)
#include "tst_migration_windowed.moc"
