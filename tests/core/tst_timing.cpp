// MODEL.md §4-§5 by hand: tier time with and without links, migrations in exclusive and
// inclusive mode, the balanced route, weights (omega), batch.
#include "test_support.hpp"

#include "core/engine/bounds.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/split.hpp"
#include "core/engine/timing.hpp"

#include <QtTest>

#include <map>

using namespace kvtier;

namespace {

// A policy that does exactly what the test says, to check the simulator's accounting.
std::map<int64_t, StepPlan> g_script;
std::vector<uint32_t> g_initial;

class Scripted final : public Policy {
public:
    void initial(int64_t, int64_t, std::vector<uint32_t>& fast) override { fast = g_initial; }
    void plan(int64_t t, const FastTierView&, StepPlan& out) override
    {
        if (auto it = g_script.find(t); it != g_script.end()) out = it->second;
    }
};

const PolicyEntry& scripted()
{
    static const PolicyEntry e{{"scripted", "Scripted", "test", true, {}},
                               [](const PolicyContext&, const PolicyParams&) -> std::unique_ptr<Policy> {
                                   return std::make_unique<Scripted>();
                               }};
    return e;
}

// P = 4 tokens, 2 steps, aggregated, L = 1; each step reads tokens 0 and 2.
Selection fourTokens()
{
    static Trace tr = test::denseTrace(4, {{0.5f, 0, 0.5f, 0}, {0.5f, 0, 0.5f, 0, 0}});
    return computeSelection(tr, {SelectionMode::TopK, 2, 0, 0, 1});
}

TimingConfig simple(int64_t batch = 1)
{
    TimingConfig c;
    c.model = {"m", 1, 10, 0};
    c.hardware.tiers = {{"HBM", 1e9, 1000, kNoLink, kNoLink, 0}, {"DRAM", 1e9, 100, 50, 50, 0}};
    c.batch = batch;
    return c;
}

} // namespace

class TestTiming : public QObject {
    Q_OBJECT
private slots:
    void tierTimeWithAndWithoutLinks()
    {
        const Tier dram{"DRAM", 0, 100, 50, 80, 0};
        QCOMPARE(tierTime(dram, 100, 0), 2.0);      // read link binds
        QCOMPARE(tierTime(dram, 0, 100), 1.25);     // write link binds
        QCOMPARE(tierTime(dram, 60, 60), 1.2);      // internal bandwidth binds
        const Tier hbm{"HBM", 0, 1000, kNoLink, kNoLink, 0};
        QCOMPARE(tierTime(hbm, 300, 200), 0.5);
        QCOMPARE(tierTime(hbm, 0, 0), 0.0);
    }

    void exclusiveSwapChargesBothDirections()
    {
        const Selection s = fourTokens();
        g_initial = {0, 1};
        g_script = {{1, StepPlan{{0}, {2}, {}}}};   // step 1: evict unit 0, promote unit 2
        const PlacementResult p = runPlacement(s, scripted(), {}, {false, {2, 100}});
        // Step 0: token 0 from HBM, token 2 from DRAM; new token 4 to DRAM (HBM full).
        QCOMPARE(p.at(0, 0).kv_read, 1.0);
        QCOMPARE(p.at(0, 1).kv_read, 1.0);
        QCOMPARE(p.at(0, 1).write, 1.0);
        // Step 1: unit 0 HBM -> DRAM, unit 2 DRAM -> HBM, then token 0 from DRAM, token 2 from HBM.
        QCOMPARE(p.at(1, 0).mig_read, 1.0);
        QCOMPARE(p.at(1, 1).mig_write, 1.0);
        QCOMPARE(p.at(1, 1).mig_read, 1.0);
        QCOMPARE(p.at(1, 0).mig_write, 1.0);
        QCOMPARE(p.at(1, 0).kv_read, 1.0);
        QCOMPARE(p.at(1, 1).kv_read, 1.0);
        QCOMPARE(p.moves.row(1).size(), size_t(2));
        QCOMPARE(p.migrated_tokens, 2.0);
        const auto loc = locationsAt(p, 1);
        QCOMPARE(int(loc[0]), 1);
        QCOMPARE(int(loc[2]), 0);
        QCOMPARE(int(loc[4]), 1);     // created at step 0 in DRAM
        QCOMPARE(int(loc[5]), 255);   // token 5 is created only at step 1
        // Time, kappa = 10 B: step 1 HBM: read 10 (mig) + 10 (token 2), write 10 -> 30/1000;
        // DRAM: read 10 (mig) + 10 (token 0), write 10 (mig) + 10 (token 5): max(40/100, 20/50, 20/50) = 0.4.
        const TimingResult r = computeTiming(s, p, simple());
        QCOMPARE(r.step_time[1], 0.4);
        QCOMPARE(r.migrated_bytes, 20.0);
        QCOMPARE(r.at(1, 1).mig_read, 10.0);
        QCOMPARE(r.at(1, 0).mig_write, 10.0);
    }

    void inclusivePromotionCopiesAndEvictionIsFree()
    {
        const Selection s = fourTokens();
        g_initial = {0, 1};
        g_script = {{1, StepPlan{{0}, {2}, {}}}};
        const PlacementResult p = runPlacement(s, scripted(), {}, {true, {2, 100}});
        QCOMPARE(p.at(1, 0).mig_read, 0.0);    // dropping the copy of unit 0 costs nothing
        QCOMPARE(p.at(1, 1).mig_write, 0.0);
        QCOMPARE(p.at(1, 1).mig_read, 1.0);    // unit 2 copied up
        QCOMPARE(p.at(1, 0).mig_write, 1.0);
        // Reads of units with an HBM copy are flexible (home route: served by HBM).
        QCOMPARE(p.at(0, 1).flex_read, 1.0);   // token 0 at step 0: copy in HBM, home in DRAM
        QCOMPARE(p.at(0, 1).kv_read, 1.0);     // token 2 only in DRAM
        // The new token is written to the last tier (and HBM when it has a copy: not here).
        QCOMPARE(p.at(0, 1).write, 1.0);
        QCOMPARE(p.at(0, 0).write, 0.0);
        const TimingResult home = computeTiming(s, p, simple());
        QCOMPARE(home.at(0, 0).kv_read, 10.0);
        QCOMPARE(home.hbmHitRatio(), 0.5);
    }

    void balancedRouteSplitsCopiedReads()
    {
        // Everything has an HBM copy; HBM is slow here, so the route sends reads to DRAM too.
        static Trace tr = test::denseTrace(4, {{0.5f, 0.5f, 0.5f, 0.5f}});
        const Selection s = computeSelection(tr, {SelectionMode::Dense, 0, 0, 0, 1});
        g_initial = {0, 1, 2, 3};
        g_script.clear();
        const PlacementResult p = runPlacement(s, scripted(), {}, {true, {10, 100}});
        TimingConfig c = simple();
        c.hardware.tiers = {{"HBM", 1e9, 100, kNoLink, kNoLink, 0}, {"DRAM", 1e9, 100, kNoLink, kNoLink, 0}};
        const TimingResult home = computeTiming(s, p, c);
        // Home: 40 B read from HBM; the write (10 B) goes to DRAM: tau = 0.4.
        QCOMPARE(home.step_time[0], 0.4);
        c.route = Route::Balanced;
        const TimingResult bal = computeTiming(s, p, c);
        // Balanced: HBM x, DRAM 40 - x + 10 write: x = 25 -> 0.25 s.
        QVERIFY(std::abs(bal.step_time[0] - 0.25) < 1e-12);
        QVERIFY(std::abs(bal.hbmHitRatio() - 25.0 / 40.0) < 1e-9);
    }

    // When several splits give the same tau (the step's bottleneck is elsewhere), each lower
    // copy serves every read it can within that tau and tier 0 only the rest. Here DRAM's
    // write link (10 B/s, 10 B written) fixes tau = 1 s whatever the route; within 1 s DRAM
    // can still read 100 - 10 = 90 B, so 20 B of copied reads all stay on DRAM (home would read
    // them from HBM, also in 1 s), and of 95 B tier 0 serves 5.
    void balancedRouteTiesServeFromTheLowerCopy()
    {
        const std::vector<Tier> tiers = {{"HBM", 1e9, 100, kNoLink, kNoLink, 0}, {"DRAM", 1e9, 100, kNoLink, 10, 0}};
        const std::vector<TierLoad> fixed = {{0, 0}, {0, 10}};
        std::vector<double> fromFast;
        QCOMPARE(routeBalanced(tiers, fixed, std::vector<double>{0, 20}, fromFast), 1.0);
        QCOMPARE(fromFast, (std::vector<double>{0, 0}));
        QCOMPARE(routeBalanced(tiers, fixed, std::vector<double>{0, 95}, fromFast), 1.0);
        QCOMPARE(fromFast, (std::vector<double>{0, 5}));
    }

    void weightsSplitByOmega()
    {
        TimingConfig c = simple();
        c.model = {"m", 4, 10, 400};   // 100 B of weights per layer
        c.weights_in_fast_tier = 0.25;
        const auto w = weightBytesPerLayer(c);
        QCOMPARE(w[0], 25.0);
        QCOMPARE(w[1], 75.0);
        const auto cap = kvCapacityBytes(c);
        QCOMPARE(cap[0], 1e9 - 100);
        QCOMPARE(cap[1], 1e9 - 300);
    }

    void batchScalesKvButNotWeights()
    {
        const Selection s = fourTokens();
        g_initial = {0, 1, 2, 3};
        g_script = {{0, StepPlan{{}, {}, {4}}}, {1, StepPlan{{}, {}, {5}}}};   // new tokens to HBM
        const PlacementResult p = runPlacement(s, scripted(), {}, {false, {10, 100}});
        TimingConfig c = simple(3);
        c.model.weight_bytes = 50;
        const TimingResult r = computeTiming(s, p, c);
        // Step 0: HBM reads 50 (weights) + 3 x 2 x 10 (KV), writes 3 x 10: 140 / 1000.
        QCOMPARE(r.step_time[0], 0.14);
        QCOMPARE(r.at(0, 0).weight_read, 50.0);
        QCOMPARE(r.at(0, 0).kv_read, 60.0);
        QCOMPARE(r.throughput(), 3.0 * 2 / r.total_time);
        // Capacity per sequence: a batch of 3 gets a third of each tier.
        Scenario sc;
        sc.model = {"m", 1, 10, 0};
        sc.hardware.tiers = {{"HBM", 60, 1000, kNoLink, kNoLink, 0}, {"DRAM", 1e6, 100, 50, 50, 0}};
        sc.batch = 3;
        QCOMPARE(planCapacity(sc, s.layout).units[0], int64_t(2));   // 60 B / (3 x 10 B)
    }

    void infeasibleScenariosSayWhy()
    {
        const Selection s = fourTokens();
        Scenario sc;
        sc.model = {"m", 1, 10, 500};
        sc.hardware.tiers = {{"HBM", 400, 1000, kNoLink, kNoLink, 0}, {"DRAM", 1e6, 100, 50, 50, 0}};
        try {
            planCapacity(sc, s.layout);
            QFAIL("weights larger than HBM must be infeasible");
        } catch (const InfeasibleError& e) {
            QVERIFY2(QString(e.what()).contains("weights"), e.what());
            // Readable units and what would fix it.
            QVERIFY2(QString(e.what()).contains("500 B of weights"), e.what());
            QCOMPARE(QString::fromStdString(e.fix()), QStringLiteral("raise HBM capacity to at least 500 B or lower weights_in_fast_tier"));
        }
        sc.model.weight_bytes = 0;
        sc.hardware.tiers[1].capacity_bytes = 10;   // 6 units x 10 B need 60 B; 40 + 10 = 50
        sc.hardware.tiers[0].capacity_bytes = 40;
        try {
            planCapacity(sc, s.layout);
            QFAIL("KV larger than all tiers must be infeasible");
        } catch (const InfeasibleError& e) {
            QVERIFY2(QString(e.what()).contains("needs 60 B"), e.what());
            QCOMPARE(QString::fromStdString(e.fix()), QStringLiteral("add 10 B of capacity"));   // batch 1 already
        }
        // Batch 4 needs 6 units of 40 B; 100 B + 100 B hold 2 + 2. Batch 3: 3 + 3 fit.
        sc.batch = 4;
        sc.hardware.tiers[0].capacity_bytes = 100;
        sc.hardware.tiers[1].capacity_bytes = 100;
        try {
            planCapacity(sc, s.layout);
            QFAIL("batch 4 must be infeasible");
        } catch (const InfeasibleError& e) {
            QVERIFY2(QString(e.what()).contains("needs 240 B"), e.what());
            QCOMPARE(QString::fromStdString(e.fix()), QStringLiteral("lower batch to 3 or add 40 B of capacity"));
            QVERIFY(QString(e.what()).endsWith(QStringLiteral("; to fix: lower batch to 3 or add 40 B of capacity")));
        }
        sc.batch = 3;
        QCOMPARE(planCapacity(sc, s.layout).units[0] + planCapacity(sc, s.layout).units[1], int64_t(6));
    }

    void policyBugsAreCaught()
    {
        const Selection s = fourTokens();
        g_initial = {0, 1};
        g_script = {{1, StepPlan{{}, {2}, {}}}};   // promote into a full tier 0
        QVERIFY_THROWS_EXCEPTION(std::logic_error, runPlacement(s, scripted(), {}, {false, {2, 100}}));
        g_script = {{1, StepPlan{{3}, {}, {}}}};   // evict a unit that is not there
        QVERIFY_THROWS_EXCEPTION(std::logic_error, runPlacement(s, scripted(), {}, {false, {2, 100}}));
    }
};

QTEST_GUILESS_MAIN(TestTiming)
#include "tst_timing.moc"
