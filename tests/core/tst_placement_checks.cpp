// The placement simulator itself (engine/placement.cpp), driven by a scripted policy: the
// order in which a step's moves land (a swap works when every tier is full), where an
// evicted unit lands and where a later promotion reads it from with more than two tiers,
// the traffic each move charges, and every check that turns a policy's faulty plan into
// one error naming the policy, the step and the unit.
#include "test_support.hpp"

#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"

#include <QtTest>

#include <stdexcept>
#include <string>
#include <vector>

using namespace kvtier;

namespace {

// One step's plan, as lists of unit ids.
struct ScriptStep {
    std::vector<uint32_t> evict, promote, admit;
};

// A policy that places the listed prefill units in tier 0 and then plays `steps` back.
class ScriptedPolicy final : public Policy {
public:
    ScriptedPolicy(std::vector<uint32_t> initial, std::vector<ScriptStep> steps)
        : initial_(std::move(initial)), steps_(std::move(steps)) {}
    void initial(int64_t, int64_t, std::vector<uint32_t>& fast) override { fast = initial_; }
    void plan(int64_t t, const FastTierView&, StepPlan& out) override
    {
        const ScriptStep& s = steps_.at(static_cast<size_t>(t));
        out.evict = s.evict;
        out.promote = s.promote;
        out.admit_new = s.admit;
    }

private:
    std::vector<uint32_t> initial_;
    std::vector<ScriptStep> steps_;
};

// An aggregated selection trace of `prefill` tokens and one step per entry of `reads`, at one
// token per page (unit = token).
Selection selectionOf(int64_t prefill, const std::vector<std::vector<uint32_t>>& reads)
{
    return computeSelection(test::selectionTrace(prefill, reads), SelectionConfig{SelectionMode::Dense, 0, 0, 0, 1});
}

PlacementResult run(const Selection& sel, std::vector<uint32_t> initial, std::vector<ScriptStep> steps,
                    std::vector<int64_t> capacity, bool inclusive = false)
{
    ScriptedPolicy policy(std::move(initial), std::move(steps));
    const PolicyInfo info{"script", "Script", "plays a fixed plan back", true, {}};
    return runPlacementWith(sel, policy, info, {}, PlacementConfig{inclusive, std::move(capacity)});
}

// Step t's moves in listed order: "u:from>to".
QString moves(const PlacementResult& p, int64_t t)
{
    QStringList out;
    for (const Move& mv : p.moves.row(static_cast<size_t>(t)))
        out << QStringLiteral("%1:%2>%3").arg(mv.unit).arg(int(mv.from)).arg(int(mv.to));
    return out.join(' ');
}

// Step t's "kv_read/mig_read/mig_write" per tier, joined by " | ".
QString traffic(const PlacementResult& p, int64_t t)
{
    QStringList out;
    for (int32_t m = 0; m < p.tiers; ++m) {
        const SlotTraffic& x = p.at(static_cast<size_t>(t), m);
        out << QStringLiteral("%1/%2/%3").arg(x.kv_read).arg(x.mig_read).arg(x.mig_write);
    }
    return out.join(" | ");
}

// The message of the std::logic_error that running `steps` throws, or "" if none.
QString fault(const Selection& sel, std::vector<uint32_t> initial, std::vector<ScriptStep> steps,
              std::vector<int64_t> capacity)
{
    try {
        run(sel, std::move(initial), std::move(steps), std::move(capacity));
    } catch (const std::logic_error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

} // namespace

class PlacementChecks : public QObject {
    Q_OBJECT

private slots:
    // Three tiers of 1, 1 and 10 units; P = 4 (units 0..3), three steps creating 4, 5, 6.
    // Prefill: 0 in tier 0, 1 fills tier 1, 2 and 3 go to tier 2.
    //   t0: evict 0, promote 1: 1 leaves tier 1 first, so 0 lands there (a swap with both
    //       upper tiers full). New unit 4 finds tiers 0 and 1 full: tier 2.
    //   t1: evict 1, promote 3 (from tier 2): tier 1 holds 0, so 1 lands in tier 2.
    //   t2: evict 3, promote 0 (from tier 1, where t0 put it): 3 takes 0's place in tier 1.
    // Each step reads units 0..3; a move reads its unit from where it was and writes it where
    // it goes, one token each.
    void movesLandInOrderAcrossThreeTiers()
    {
        const Selection sel = selectionOf(4, {{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}});
        const PlacementResult p = run(sel, {0}, {{{0}, {1}, {}}, {{1}, {3}, {}}, {{3}, {0}, {}}}, {1, 1, 10});
        QCOMPARE(moves(p, 0), QString("0:0>1 1:1>0"));
        QCOMPARE(moves(p, 1), QString("1:0>2 3:2>0"));
        QCOMPARE(moves(p, 2), QString("3:0>1 0:1>0"));
        // Reads after the step's moves: t0 1 | 0 | 2, 3; t1 3 | 0 | 1, 2; t2 0 | 3 | 1, 2.
        QCOMPARE(traffic(p, 0), QString("1/1/1 | 1/1/1 | 2/0/0"));
        QCOMPARE(traffic(p, 1), QString("1/1/1 | 1/0/0 | 2/1/1"));
        QCOMPARE(traffic(p, 2), QString("1/1/1 | 1/1/1 | 2/0/0"));
        QCOMPARE(p.fast_units, (std::vector<int64_t>{1, 1, 1}));
        QCOMPARE(p.migrated_tokens, 6.0);
        QCOMPARE(int(p.created_tier[4]), 2);
        QCOMPARE(int(p.created_tier[1]), 1);
        // The moves replayed: after t2, 0 is in tier 0, 3 in tier 1, the rest in tier 2.
        const std::vector<uint8_t> at2 = locationsAt(p, 2);
        QCOMPARE(int(at2[0]), 0);
        QCOMPARE(int(at2[3]), 1);
        QCOMPARE(int(at2[1]), 2);
        QCOMPARE(int(at2[2]), 2);
    }

    // Two tiers, inclusive: a promotion copies from the home tier, an eviction drops the
    // copy for free, and a unit's reads are flex reads of its home while it has a copy.
    void inclusiveDropsCopiesForFree()
    {
        const Selection sel = selectionOf(3, {{0, 1, 2}, {0, 1, 2}});
        const PlacementResult p = run(sel, {0}, {{{0}, {2}, {}}, {{2}, {1}, {}}}, {1, 10}, true);
        QCOMPARE(moves(p, 0), QString("0:0>1 2:1>0"));
        QCOMPARE(moves(p, 1), QString("2:0>1 1:1>0"));
        for (int64_t t = 0; t < 2; ++t) {
            const SlotTraffic& hbm = p.at(static_cast<size_t>(t), 0);
            const SlotTraffic& home = p.at(static_cast<size_t>(t), 1);
            QCOMPARE(hbm.mig_write, 1.0);   // the copy written
            QCOMPARE(home.mig_read, 1.0);   // read from home
            QCOMPARE(hbm.mig_read, 0.0);    // the dropped copy costs nothing
            QCOMPARE(home.flex_read, 1.0);  // the unit with a copy
            QCOMPARE(home.kv_read, 2.0);    // the two without
        }
        QCOMPARE(p.migrated_tokens, 2.0);
    }

    // Every check of a plan: one std::logic_error naming the policy, the step and the unit.
    void faultyPlansAreRefused_data()
    {
        QTest::addColumn<int>("step");   // the step whose plan is faulty (the others are empty)
        QTest::addColumn<QList<uint>>("evict");
        QTest::addColumn<QList<uint>>("promote");
        QTest::addColumn<QList<uint>>("admit");
        QTest::addColumn<QString>("message");
        // P = 4, capacity {2, 10}; units 0, 1 in tier 0; step 0 creates 4, step 1 creates 5.
        // Each plan but "over capacity" keeps tier 0 within its capacity, which is checked
        // before the promotions are.
        QTest::newRow("evict not in tier 0") << 0 << QList<uint>{2} << QList<uint>{} << QList<uint>{}
                                             << "policy 'script' at step 0: evicts unit 2 that is not in tier 0";
        QTest::newRow("evict a unit to come") << 0 << QList<uint>{4} << QList<uint>{} << QList<uint>{}
                                              << "policy 'script' at step 0: evicts unit 4 that is not in tier 0";
        QTest::newRow("promote a unit to come") << 0 << QList<uint>{0} << QList<uint>{4} << QList<uint>{}
                                                << "policy 'script' at step 0: promotes unit 4 that does not exist yet";
        QTest::newRow("promote a resident") << 1 << QList<uint>{1} << QList<uint>{0} << QList<uint>{}
                                            << "policy 'script' at step 1: promotes unit 0 twice or while in tier 0";
        QTest::newRow("promote twice") << 1 << QList<uint>{0, 1} << QList<uint>{2, 2} << QList<uint>{}
                                       << "policy 'script' at step 1: promotes unit 2 twice or while in tier 0";
        QTest::newRow("evict and promote") << 1 << QList<uint>{0} << QList<uint>{0} << QList<uint>{}
                                           << "policy 'script' at step 1: evicts and promotes unit 0 in one step";
        QTest::newRow("over capacity") << 0 << QList<uint>{} << QList<uint>{2} << QList<uint>{}
                                       << "policy 'script' at step 0: tier 0 would hold 3 units, capacity 2";
        QTest::newRow("admit an old unit") << 1 << QList<uint>{} << QList<uint>{} << QList<uint>{3}
                                           << "policy 'script' at step 1: admits unit 3 that is not created at this step";
    }
    void faultyPlansAreRefused()
    {
        QFETCH(int, step);
        QFETCH(QList<uint>, evict);
        QFETCH(QList<uint>, promote);
        QFETCH(QList<uint>, admit);
        QFETCH(QString, message);
        std::vector<ScriptStep> steps(2);
        ScriptStep& s = steps[static_cast<size_t>(step)];
        s.evict.assign(evict.begin(), evict.end());
        s.promote.assign(promote.begin(), promote.end());
        s.admit.assign(admit.begin(), admit.end());
        const Selection sel = selectionOf(4, {{0, 1}, {0, 1}});
        QCOMPARE(fault(sel, {0, 1}, steps, {2, 10}), message);
        // The same plan without its fault runs: the message is not a side effect of the trace.
        QCOMPARE(fault(sel, {0, 1}, std::vector<ScriptStep>(2), {2, 10}), QString());
    }
};

QTEST_GUILESS_MAIN(PlacementChecks)
#include "tst_placement_checks.moc"
