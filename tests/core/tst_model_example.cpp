// MODEL_EXAMPLE.md worked through by the engine: every number of the hand calculation.
#include "test_support.hpp"

#include "core/engine/bounds.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/engine/timing.hpp"

#include <QtTest>

using namespace kvtier;

class TestModelExample : public QObject {
    Q_OBJECT

    Trace trace() const
    {
        return test::denseTrace(4, {{0.1f, 0.5f, 0.3f, 0.1f}, {0.4f, 0.1f, 0.1f, 0.2f, 0.2f}}, 2);
    }
    TimingConfig timing() const
    {
        TimingConfig c;
        c.model = {"example", 2, 100, 400};
        c.hardware.tiers = {{"HBM", 800, 1000, kNoLink, kNoLink, 0}, {"DRAM", 1e6, 100, 50, 50, 0}};
        return c;
    }
    SelectionConfig selection() const { return {SelectionMode::TopK, 2, 0, 0, 1}; }
    // KV capacity 400 B in HBM; a unit is 1 token x 100 B x 2 layers = 200 B.
    PlacementConfig placement(bool inclusive) const { return {inclusive, {2, 5000}}; }

private slots:
    void selectionPicksTopTwoWithTies()
    {
        const Selection s = computeSelection(trace(), selection());
        QCOMPARE(s.tokens.row(0).size(), size_t(2));
        QCOMPARE(s.tokens.row(0)[0], 1u);
        QCOMPARE(s.tokens.row(0)[1], 2u);
        // Step 1: token 0 (0.4), then 3 and 4 tie at 0.2; the lower index wins.
        QCOMPARE(s.tokens.row(1)[0], 0u);
        QCOMPARE(s.tokens.row(1)[1], 3u);
        QCOMPARE(s.read_tokens[0], int64_t(2));
    }

    void firstFitTotalIsEightSeconds_data()
    {
        QTest::addColumn<bool>("inclusive");
        QTest::newRow("exclusive") << false;
        QTest::newRow("inclusive") << true;
    }
    void firstFitTotalIsEightSeconds()
    {
        QFETCH(bool, inclusive);
        const Selection s = computeSelection(trace(), selection());
        const PlacementResult p = runPlacement(s, findPolicy("first-fit"), {}, placement(inclusive));
        QCOMPARE(int(p.created_tier[0]), 0);
        QCOMPARE(int(p.created_tier[1]), 0);
        QCOMPARE(int(p.created_tier[2]), 1);
        QCOMPARE(int(p.created_tier[3]), 1);
        QCOMPARE(int(p.created_tier[4]), 1);   // token 4, written at step 0: HBM is full
        QCOMPARE(int(p.created_tier[5]), 1);
        const TimingResult r = computeTiming(s, p, timing());
        QCOMPARE(r.step_time[0], 4.0);
        QCOMPARE(r.step_time[1], 4.0);
        QCOMPARE(r.total_time, 8.0);
        QCOMPARE(r.hbmHitRatio(), 0.5);
        QCOMPARE(r.migrated_bytes, 0.0);
        // HBM per layer: 200 B weights + 100 B KV; two layers, two steps.
        QCOMPARE(r.tier_totals[0].read_bytes, 4 * 300.0);
        QCOMPARE(r.tier_totals[1].read_bytes, 4 * 100.0);
        QCOMPARE(r.tier_totals[1].write_bytes, 4 * 100.0);
        QCOMPARE(r.tier_totals[0].busy_s, 4 * 0.3);
        QCOMPARE(r.tier_totals[1].busy_fraction, 1.0);
    }

    void balancedBoundIsOnePointNine()
    {
        const Selection s = computeSelection(trace(), selection());
        const BoundResult b = balancedBound(s, timing());
        QVERIFY(std::abs(b.step_time[0] - 2 * 500.0 / 1050.0) < 1e-12);
        QVERIFY(std::abs(b.total_time - 4 * 500.0 / 1050.0) < 1e-12);
        QVERIFY(std::abs(b.total_time - 1.904762) < 1e-6);
    }

    void paperBoundIsOnePointFive()
    {
        const Selection s = computeSelection(trace(), selection());
        const BoundResult b = paperBound(s, timing());
        QVERIFY(std::abs(b.total_time - 4 * 400.0 / 1050.0) < 1e-12);
        QVERIFY(std::abs(b.total_time - 1.523810) < 1e-6);
    }
};

QTEST_GUILESS_MAIN(TestModelExample)
#include "tst_model_example.moc"
