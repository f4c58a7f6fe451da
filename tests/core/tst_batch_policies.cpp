// The batch policies of docs/POLICIES.md "Batches": hisparse (a fixed per-sequence hot
// buffer, run per sequence) and lru-demand (LRU on shares of tier 0 proportional to each
// sequence's recent reads), by hand on a two-sequence selection trace; lru-demand is lru
// on one sequence, move for move and byte for byte.
#include "test_support.hpp"

#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/policies/policy.hpp"
#include "core/synth/generator.hpp"

#include <QtTest>

#include <algorithm>

using namespace kvtier;

namespace {

// Two aggregated sequences, g = 1: sequence 0 has P = 4, sequence 1 P = 2. reads[s][t]
// lists the tokens sequence s reads at step t.
//
// Units in creation order (selection.hpp SequenceUnits): prefill page 0 of s0, of s1, page 1
// of s0, of s1, pages 2 and 3 of s0, then per step s0's new token, s1's:
//   s0: token 0 -> 0, 1 -> 2, 2 -> 4, 3 -> 5; written at t0 -> 6, t1 -> 8, t2 -> 10, t3 -> 12
//   s1: token 0 -> 1, 1 -> 3;                 written at t0 -> 7, t1 -> 9, t2 -> 11, t3 -> 13
Selection twoSequences(const std::vector<std::vector<std::vector<uint32_t>>>& reads)
{
    TraceMeta m;
    m.name = "two";
    m.prefill = 4;
    m.sequence_prefill = {4, 2};
    m.steps = static_cast<int64_t>(reads[0].size());
    m.layers = 1;
    m.layer_mode = LayerMode::Aggregated;
    m.kind = RecordKind::Selection;
    Trace tr(m);
    for (int64_t t = 0; t < m.steps; ++t)
        for (int32_t s = 0; s < 2; ++s) {
            const auto& idx = reads[static_cast<size_t>(s)][static_cast<size_t>(t)];
            tr.append(t, s, -1, idx, std::vector<float>(idx.size(), 1.0f));
        }
    return computeSelection(tr, SelectionConfig{SelectionMode::Dense, 1, 0, 0, 1});
}

// The trace both hand cases use. In units (see above):
//   s0 reads t0 {0,2,4,5}, t1 {0,5}, t2 {2,5,6}, t3 {5,6}
//   s1 reads t0 {1},       t1 {3,7}, t2 {1,3},   t3 {1,7}
Selection handTrace()
{
    return twoSequences({{{0, 1, 2, 3}, {0, 3}, {1, 3, 4}, {3, 4}},   // s0
                         {{0}, {1, 2}, {0, 1}, {0, 2}}});              // s1
}

PlacementResult place(const Selection& s, const std::string& policy, const PolicyParams& params, int64_t cap0,
                      bool inclusive = false)
{
    return runPlacement(s, findPolicy(policy), params, PlacementConfig{inclusive, {cap0, 1000}});
}

// "t:" per step followed by its moves in order: -u an eviction, +u a promotion.
QString moves(const PlacementResult& p)
{
    QStringList steps;
    for (size_t t = 0; t + 1 < p.moves.offset.size(); ++t) {
        QString s = QString::number(t) + ":";
        for (const Move& mv : p.moves.row(t)) s += (mv.to == 0 ? "+" : "-") + QString::number(mv.unit);
        steps << s;
    }
    return steps.join(' ');
}

// Per step, the units it read that were in tier 0 at its reads, as "t:u,u".
QString hits(const Selection& s, const PlacementResult& p)
{
    QStringList steps;
    for (int64_t t = 0; t < s.layout.steps; ++t) {
        const std::vector<uint8_t> loc = locationsAt(p, t);
        QStringList in;
        for (uint32_t u : s.step_units.row(static_cast<size_t>(t)))
            if (loc[u] == 0) in << QString::number(u);
        steps << QString::number(t) + ":" + in.join(',');
    }
    return steps.join(' ');
}

// Per tier "kv_read/flex_read/write/mig_read/mig_write" of step t, joined by " | ".
QString traffic(const PlacementResult& p, int64_t t)
{
    QStringList tiers;
    for (int32_t m = 0; m < p.tiers; ++m) {
        const SlotTraffic& x = p.at(static_cast<size_t>(t), m);
        tiers << QStringLiteral("%1/%2/%3/%4/%5").arg(x.kv_read).arg(x.flex_read).arg(x.write).arg(x.mig_read).arg(x.mig_write);
    }
    return tiers.join(" | ");
}

// The most tier 0 units sequence q held at any step's reads.
int64_t mostHeld(const PlacementResult& p, int32_t q)
{
    int64_t most = 0;
    for (int64_t t = 0; t < p.layout.steps; ++t) {
        const std::vector<uint8_t> loc = locationsAt(p, t);
        int64_t held = 0;
        for (size_t u = 0; u < loc.size(); ++u)
            held += loc[u] == 0 && p.layout.sequenceOf(static_cast<uint32_t>(u)) == q;
        most = std::max(most, held);
    }
    return most;
}

} // namespace

class TestBatchPolicies : public QObject {
    Q_OBJECT

private slots:
    void unitNumbering()
    {
        const Selection s = handTrace();
        const UnitLayout& lay = s.layout;
        QCOMPARE(lay.unitsBefore(0), int64_t(6));
        QCOMPARE(lay.unit(0, 3, 0), 5u);
        QCOMPARE(lay.unit(1, 1, 0), 3u);
        QCOMPARE(lay.newTokenUnit(0, 2, 0), 10u);
        QCOMPARE(lay.newTokenUnit(1, 3, 0), 13u);
        QCOMPARE(s.step_units.row(0).size(), size_t(5));   // {0,1,2,4,5}
    }

    // hisparse, C = 6 (equal shares 3 + 3), buffer_tokens = 2: B = 2 units per sequence.
    // Tier 0 starts empty and no new unit enters it. Step t: a sequence's buffer becomes its
    // 2 units with the highest (last step read, id) among its residents and its reads of t-1.
    //   t0: nothing known: no moves; every read misses.
    //   t1: s0 read {0,2,4,5} at t0: keeps 5, 4 (+4 +5); s1 read {1}: +1.
    //       Reads: s0 {0,5}: 5 hits; s1 {3,7}: both miss.
    //   t2: s0 read {0,5}: 5 stays, 0 comes in, 4 (read at t0) leaves: -4 +0;
    //       s1 read {3,7}: both come in, 1 leaves: -1 +3 +7. The adapter lists s0's moves
    //       first, the simulator evictions before promotions: -4 -1 +0 +3 +7.
    //       Reads: s0 {2,5,6}: 5 hits; s1 {1,3}: 3 hits.
    //   t3: s0 read {2,5,6}: the two most recent are 6, 5 (2 is below them): -0 +6;
    //       s1 read {1,3}: 3 stays, 1 comes in, 7 (read at t1) leaves: -7 +1.
    //       Reads: s0 {5,6} both hit; s1 {1,7}: 1 hits.
    void hisparseByHand()
    {
        const Selection s = handTrace();
        for (bool inclusive : {false, true}) {
            const PlacementResult p = place(s, "hisparse", {{"buffer_tokens", 2}}, 6, inclusive);
            QCOMPARE(moves(p), QString("0: 1:+4+5+1 2:-4-1+0+3+7 3:-0-7+6+1"));
            QCOMPARE(hits(s, p), QString("0: 1:5 2:3,5 3:1,5,6"));
            QCOMPARE(p.fast_units, (std::vector<int64_t>{0, 3, 4, 4}));
            for (uint8_t c : p.created_tier) QCOMPARE(int(c), 1);   // prefill and new KV: host memory
            // t2, per tier "kv/flex/write/mig_read/mig_write". Exclusive: the two evicted
            // units are written back (tier 0 -> 1), three come in (1 -> 0); reads 5, 3 in
            // tier 0, 2, 6, 1 in tier 1; both new tokens written to tier 1.
            // Inclusive: the host keeps every unit, dropping a copy is free; reads of units with
            // a copy in tier 0 are flexible reads of their host copy (served by the route).
            if (!inclusive) QCOMPARE(traffic(p, 2), QString("2/0/0/2/3 | 3/0/2/3/2"));
            else QCOMPARE(traffic(p, 2), QString("0/0/0/0/3 | 3/2/2/3/0"));
        }
    }

    // The buffer is capped by the sequence's equal share: buffer_tokens = 1000 with C = 5
    // gives s0 min(1000, 3) = 3 units and s1 min(1000, 2) = 2.
    //   t1: s0 keeps its 3 most recent reads of t0 {5,4,2} (+2 +4 +5); s1 +1.
    //   t2: s0 read {0,5}: 5, 0 and the most recent other resident, 4 (2 leaves, its tie with
    //       4 at t0 broken by id): -2 +0; s1: -1 +3 +7.
    //   t3: s0 read {2,5,6}: exactly its buffer, 4 and 0 leave (tail first): -4 -0 +2 +6;
    //       s1 read {1,3}: -7 +1.
    // One tier: no host memory, so hisparse keeps every unit in tier 0 as first-fit does
    // (the same traffic), where it would otherwise leave the prefill nowhere to go.
    void hisparseOnOneTier()
    {
        const Selection s = handTrace();
        const PlacementConfig one{false, {1000}};
        const PlacementResult h = runPlacement(s, findPolicy("hisparse"), {}, one);
        const PlacementResult f = runPlacement(s, findPolicy("first-fit"), {}, one);
        QCOMPARE(h.migrated_tokens, 0.0);
        QCOMPARE(h.fast_units, f.fast_units);
        QCOMPARE(h.fast_units.back(), int64_t{12});   // 6 prefill units, 2 per step before step 3
        for (size_t i = 0; i < h.traffic.size(); ++i) {
            QCOMPARE(h.traffic[i].kv_read, f.traffic[i].kv_read);
            QCOMPARE(h.traffic[i].write, f.traffic[i].write);
        }
    }

    void hisparseBufferCappedByShare()
    {
        const Selection s = handTrace();
        const PlacementResult p = place(s, "hisparse", {{"buffer_tokens", 1000}}, 5);
        QCOMPARE(moves(p), QString("0: 1:+2+4+5+1 2:-2-1+0+3+7 3:-4-0-7+2+6+1"));
        QCOMPARE(p.fast_units, (std::vector<int64_t>{0, 4, 5, 5}));
        QCOMPARE(mostHeld(p, 0), int64_t(3));
        QCOMPARE(mostHeld(p, 1), int64_t(2));
    }

    // lru-demand, C = 6, window_steps = 2, one layer slot (each sequence with demand gets 1
    // unit first, the other R = 6 - 2 = 4 by largest remainder of 4 * d_s / D).
    //   Prefill: no demand yet, equal shares 3 + 3: s0 holds 0, 2, 4 (its lowest), s1 1, 3.
    //   t0: equal shares. s0: new 6 (just used) > 4 > 2 > 0: -0; s1 has room for 7.
    //       Reads s0 {0,2,4,5}: 2, 4 hit; s1 {1}: hits.
    //   t1: demand s0 4, s1 1 (D 5): 16/5 = 3 r 1, 4/5 = 0 r 4, the one unit left to s1's
    //       larger remainder: shares 1+3 = 4 and 1+0+1 = 2.
    //       s0: 8 (new) > 6 > 5 > 4 > 2: -2 +5.  s1: 9 (new) > 7 > 1 > 3: -1 -3.
    //       Reads s0 {0,5}: 5 hits; s1 {3,7}: 7 hits.
    //   t2: demand (t0, t1) s0 4+2 = 6, s1 1+2 = 3 (D 9): 24/9 = 2 r 6, 12/9 = 1 r 3, the unit
    //       left to s0: shares 4, 2.
    //       s0: 10 > 8 > 5 > 0 > 6 > 4: -4 -6 +0.  s1: 11 > 9 > 7 > 3: -7.
    //       Reads s0 {2,5,6}: 5 hits; s1 {1,3}: both miss.
    //   t3: demand (t1, t2) s0 2+3 = 5, s1 2+2 = 4 (D 9; step 0 left the window):
    //       20/9 = 2 r 2, 16/9 = 1 r 7, the unit left to s1: shares 3, 3.
    //       s0: 12 > 10 > 6 > 5 > 8 > 0: -5 -0 -8 +6.  s1: 13 > 11 > 3 > 1 > 9: -9 +3.
    //       Reads s0 {5,6}: 6 hits; s1 {1,7}: both miss.
    // With window_steps = 32 nothing leaves the window: at t3 demand 9 and 5 (D 14), 36/14 =
    // 2 r 8, 20/14 = 1 r 6, shares 4, 2: s0 keeps 5 (-0 -8 +6), s1 only 13, 11 (-9).
    void lruDemandByHand()
    {
        const Selection s = handTrace();
        const PlacementResult p = place(s, "lru-demand", {{"window_steps", 2}}, 6);
        QCOMPARE(moves(p), QString("0:-0 1:-2-1-3+5 2:-4-6-7+0 3:-5-0-8-9+6+3"));
        QCOMPARE(hits(s, p), QString("0:1,2,4 1:5,7 2:5 3:6"));
        QCOMPARE(p.fast_units, (std::vector<int64_t>{4, 4, 4, 4}));
        for (uint32_t u = 6; u <= 13; ++u) QCOMPARE(int(p.created_tier[u]), 0);   // new units: just used

        const PlacementResult q = place(s, "lru-demand", {{"window_steps", 32}}, 6);
        QCOMPARE(moves(q), QString("0:-0 1:-2-1-3+5 2:-4-6-7+0 3:-0-8-9+6"));
        QCOMPARE(hits(s, q), QString("0:1,2,4 1:5,7 2:5 3:5,6"));
    }

    // A sequence that reads nothing gets no share once another has demand. C = 3, window 1;
    // s0 reads token 0 (unit 0) at every step, s1 reads nothing.
    //   Prefill: equal shares 2 + 1: s0 holds 0, 2; s1 holds 1.
    //   t0: equal shares. s0: 6 (new) > 2 > 0: -0; s1: 7 (new) > 1: -1.
    //   t1: demand 1 and 0: s0 gets 1 + 2 = 3, s1 0. s0: 8 > 6 > 0 > 2: -2 +0; s1 holds
    //       nothing: -7, and its new unit 9 is created in tier 1.
    //   t2: s0: 10 > 8 > 0 > 6: -6.
    void lruDemandWithoutDemandNothing()
    {
        const Selection s = twoSequences({{{0}, {0}, {0}}, {{}, {}, {}}});
        const PlacementResult p = place(s, "lru-demand", {{"window_steps", 1}}, 3);
        QCOMPARE(moves(p), QString("0:-0-1 1:-2-7+0 2:-6"));
        QCOMPARE(hits(s, p), QString("0: 1:0 2:0"));
        QCOMPARE(int(p.created_tier[8]), 0);
        QCOMPARE(int(p.created_tier[9]), 1);
        QCOMPARE(int(p.created_tier[11]), 1);
        // At no step's reads does s1 hold tier 0: 1 leaves at t0, 7 is created after t0's reads
        // and leaves at t1.
        QCOMPARE(mostHeld(p, 1), int64_t(0));
    }

    // Equal remainders go to the lower sequence. C = 5, window 1, both sequences read their
    // token 0 (s0: unit 0, s1: unit 1) at every step.
    //   Prefill: equal shares 3 + 2: s0 holds 0, 2, 4; s1 holds 1, 3.
    //   t0: s0: 6 > 4 > 2 > 0: -0; s1: 7 > 3 > 1: -1. Both reads miss.
    //   t1: demand 1 and 1: 1 unit each, R = 3: 3/2 = 1 r 1 for both, the tie to s0: shares
    //       3 and 2 (= equal shares). s0: 8 > 6 > 0 > 4 > 2: -2 -4 +0; s1: 9 > 7 > 1 > 3: -3
    //       (1 does not fit). The tie to s1 would have given -2 -4 -3 +1.
    void lruDemandTiesGoToTheLowerSequence()
    {
        const Selection s = twoSequences({{{0}, {0}}, {{0}, {0}}});
        const PlacementResult p = place(s, "lru-demand", {{"window_steps", 1}}, 5);
        QCOMPARE(moves(p), QString("0:-0-1 1:-2-4-3+0"));
        QCOMPARE(hits(s, p), QString("0: 1:0"));
    }

    // No minimum when tier 0 cannot give one page per layer slot to every sequence with
    // demand. Per-layer, L = 2, g = 1, window 1, C = 3 < 2 sequences x 2 slots. s0 (P = 1)
    // reads token 0 of layer 0 at t0; s1 (P = 4) reads tokens 0..3 of both layers. Units
    // (page, slot, sequence order): prefill page 0: 0 (s0 l0), 1 (s1 l0), 2 (s0 l1), 3 (s1 l1);
    // s1's pages 1..3: 4, 5 / 6, 7 / 8, 9 (l0, l1); t0 writes 10 (s0 l0), 11 (s1 l0), 12 (s0 l1),
    // 13 (s1 l1); t1 writes 14, 15, 16, 17 likewise.
    //   Prefill: equal shares 2 + 1: s0 holds 0, 2; s1 holds 1.
    //   t0: equal shares. s0's two new units take its 2 places: -0 -2; s1 keeps only its highest
    //       new unit 13 (11 is created in tier 1): -1. Every read misses.
    //   t1: demand 1 and 8 (D 9), R = C = 3: 3/9 = 0 r 3, 24/9 = 2 r 6, the unit left to s1:
    //       shares 0 and 3. s0 loses everything although it read: -12 -10, and its new units
    //       14, 16 go to tier 1; s1: 15, 17 (new) > 13 > its reads of t0: no room for them.
    void lruDemandNoMinimumWhenTierZeroIsTooSmall()
    {
        TraceMeta m;
        m.name = "layers";
        m.prefill = 1;
        m.sequence_prefill = {1, 4};
        m.steps = 2;
        m.layers = 2;
        m.layer_mode = LayerMode::PerLayer;
        m.kind = RecordKind::Selection;
        Trace tr(m);
        const std::vector<uint32_t> none, first{0}, all{0, 1, 2, 3};
        for (int64_t t = 0; t < 2; ++t)
            for (int32_t s = 0; s < 2; ++s)
                for (int32_t l = 0; l < 2; ++l) {
                    const std::vector<uint32_t>& idx = t > 0 ? none : s == 1 ? all : l == 0 ? first : none;
                    tr.append(t, s, l, idx, std::vector<float>(idx.size(), 1.0f));
                }
        const Selection s = computeSelection(tr, SelectionConfig{SelectionMode::Dense, 1, 0, 0, 1});
        QCOMPARE(s.layout.unit(1, 0, 1), 3u);
        QCOMPARE(s.layout.unit(1, 3, 1), 9u);
        QCOMPARE(s.layout.newTokenUnit(0, 0, 1), 12u);
        QCOMPARE(s.layout.newTokenUnit(1, 1, 1), 17u);
        const PlacementResult p = place(s, "lru-demand", {{"window_steps", 1}}, 3);
        QCOMPARE(moves(p), QString("0:-0-2-1 1:-12-10"));
        QCOMPARE(p.fast_units, (std::vector<int64_t>{0, 1}));
        QString created;
        for (uint32_t u = 10; u < 18; ++u) created += QString::number(p.created_tier[u]);
        QCOMPARE(created, QString("01001010"));   // 10, 12, 13 and 15, 17 in tier 0
    }

    // On one sequence the share is always C: lru-demand is lru, move for move, and every
    // tier's traffic of every step and slot is the same.
    void lruDemandIsLruOnOneSequence_data()
    {
        QTest::addColumn<bool>("perLayer");
        QTest::addColumn<int>("pageTokens");
        QTest::addColumn<bool>("inclusive");
        QTest::newRow("aggregated, g=1") << false << 1 << false;
        QTest::newRow("aggregated, g=4, inclusive") << false << 4 << true;
        QTest::newRow("per-layer, g=1") << true << 1 << false;
        QTest::newRow("per-layer, g=4, inclusive") << true << 4 << true;
    }
    void lruDemandIsLruOnOneSequence()
    {
        QFETCH(bool, perLayer);
        QFETCH(int, pageTokens);
        QFETCH(bool, inclusive);
        GeneratorParams g;
        g.seed = 5;
        g.prefill = 61;
        g.steps = 60;
        g.layers = 3;
        g.per_layer = perLayer;
        g.heavy_count = 6;
        const Trace trace = generateTrace(g, "one");
        const Selection s = computeSelection(trace, SelectionConfig{SelectionMode::Ratio, 0.2, 0, 0, pageTokens});
        QCOMPARE(s.layout.sequences(), 1);
        const int64_t units = s.layout.totalUnits();
        int compared = 0;
        for (int64_t cap : {int64_t(0), int64_t(7), units * 2 / 5, units})
            for (double window : {1.0, 32.0}) {
                const PlacementResult a = place(s, "lru", {}, cap, inclusive);
                const PlacementResult b = place(s, "lru-demand", {{"window_steps", window}}, cap, inclusive);
                const QString where = QString("capacity %1, window %2").arg(cap).arg(window);
                QVERIFY2(moves(a) == moves(b), qPrintable(where));
                QVERIFY2(a.created_tier == b.created_tier, qPrintable(where));
                QVERIFY2(a.fast_units == b.fast_units, qPrintable(where));
                QCOMPARE(a.traffic.size(), b.traffic.size());
                for (size_t i = 0; i < a.traffic.size(); ++i) {
                    const SlotTraffic &x = a.traffic[i], &y = b.traffic[i];
                    QVERIFY2(x.kv_read == y.kv_read && x.flex_read == y.flex_read && x.write == y.write &&
                                 x.mig_read == y.mig_read && x.mig_write == y.mig_write,
                             qPrintable(where));
                }
                QCOMPARE(a.migrated_tokens, b.migrated_tokens);
                compared += a.moves.items.empty() ? 0 : 1;
            }
        QCOMPARE(compared, 4);   // capacities 7 and 40% move units (both windows): not an empty comparison
    }
};

QTEST_APPLESS_MAIN(TestBatchPolicies)
#include "tst_batch_policies.moc"
