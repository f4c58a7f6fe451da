// fastTierFit: does the KV cache fit in HBM, and above which batch does placement matter?
// Hand-computed cases and the boundary against planCapacity itself.
#include "core/engine/view_capacity.hpp"

#include <QtTest>

using namespace kvtier;

class TestViewCapacity : public QObject {
    Q_OBJECT

    // L = 4, kappa = 1000 B, W = 4e5 B, all weights in HBM. HBM capacity `hbm`.
    static Scenario scenario(double hbm, int64_t batch)
    {
        Scenario s;
        s.model.layers = 4;
        s.model.kv_bytes_per_token_layer = 1000;
        s.model.weight_bytes = 4e5;
        s.hardware.tiers = {Tier{"HBM", hbm, 4e12}, Tier{"LPDDR5X", 1e12, 5e11, 4.5e11, 4.5e11}};
        s.batch = batch;
        return s;
    }
    // Aggregated trace (one slot), P = 100, T = 50, one token per page: 150 units of
    // g x kappa x L = 4000 B, 600 kB per sequence at the end of the run.
    static UnitLayout layout() { return UnitLayout{100, 50, 1, 1}; }

private slots:
    void fitsExactlyAtBatchOne()
    {
        const Scenario s = scenario(1e6, 1);   // 1e6 - 4e5 weights = 600 kB room: exactly one sequence
        const FastTierFit f = fastTierFit(s, planCapacity(s, layout()));
        QVERIFY(f.fits);
        QCOMPARE(f.tier, std::string("HBM"));
        QCOMPARE(f.fast_kv_bytes, 6e5);
        QCOMPARE(f.kv_bytes_needed, 6e5);
        QCOMPARE(f.max_fitting_batch, int64_t{1});
        const std::string note = fastTierFitNote(f, s.batch);
        QVERIFY2(note.find("raise batch above 1 ") != std::string::npos || note.find("Raise batch above 1 ") != std::string::npos,
                 note.c_str());
    }

    void doesNotFitAboveTheLimit()
    {
        const Scenario s = scenario(1e6, 2);
        const FastTierFit f = fastTierFit(s, planCapacity(s, layout()));
        QVERIFY(!f.fits);
        QCOMPARE(f.kv_bytes_needed, 1.2e6);
        QCOMPARE(f.max_fitting_batch, int64_t{1});
        QVERIFY(fastTierFitNote(f, s.batch).empty());
    }

    // The limit agrees with planCapacity: at N every unit fits in tier 0, at N + 1 not.
    void limitMatchesTheCapacityPlan()
    {
        for (double hbm : {1e7, 3.3e7, 8.04e7}) {
            const Scenario s = scenario(hbm, 1);
            const FastTierFit f = fastTierFit(s, planCapacity(s, layout()));
            const int64_t n = f.max_fitting_batch;
            QCOMPARE(n, static_cast<int64_t>((hbm - 4e5) / 6e5));   // 16, 54, 133
            const Scenario at = scenario(hbm, n), above = scenario(hbm, n + 1);
            QVERIFY(planCapacity(at, layout()).units[0] >= layout().totalUnits());
            QVERIFY(planCapacity(above, layout()).units[0] < layout().totalUnits());
            QVERIFY(fastTierFit(at, planCapacity(at, layout())).fits);
            QVERIFY(!fastTierFit(above, planCapacity(above, layout())).fits);
        }
    }

    // Pages and per-layer slots: unit bytes g x kappa (no L), units pages x L.
    void perLayerPages()
    {
        Scenario s = scenario(1e7, 1);
        const UnitLayout lay{100, 28, 4, 16};   // 8 pages x 4 slots = 32 units of 16 kB
        const FastTierFit f = fastTierFit(s, planCapacity(s, lay));
        QCOMPARE(f.kv_bytes_needed, 32 * 16000.0);
        QCOMPARE(f.max_fitting_batch, static_cast<int64_t>(9.6e6 / 512000.0));   // 18
    }
};

QTEST_APPLESS_MAIN(TestViewCapacity)
#include "tst_view_capacity.moc"
