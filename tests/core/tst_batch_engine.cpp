// Batches of distinct sequences in the engine (MODEL.md §8, docs/MODEL.md "Batches"):
// S identical sequences give exactly the numbers of one sequence with batch = S, for every
// policy and both per-step bounds; a generated batch of distinct sequences keeps every
// policy at or above the balanced bound with its books adding up; the per-sequence form
// of a policy keeps each sequence inside its share of tier 0.
#include "test_support.hpp"

#include "core/engine/annealing.hpp"
#include "core/engine/migration_bound.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_per_sequence.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <QtTest>

#include <algorithm>

using namespace kvtier;

namespace {

GeneratorParams params(bool perLayer)
{
    GeneratorParams p;
    p.seed = 11;
    p.prefill = 61;   // not a multiple of the page size: partial pages at the start
    p.steps = 40;
    p.layers = 2;
    p.per_layer = perLayer;
    p.heavy_count = 6;
    p.burst_min_age = 8;
    return p;
}

// `copies` sequences, each with the records of sequence 0 of `one`.
Trace replicate(const Trace& one, int32_t copies, const std::string& name)
{
    TraceMeta m = one.meta();
    m.name = name;
    m.sequence_prefill.assign(static_cast<size_t>(copies), m.prefill);
    Trace out(m);
    for (int64_t t = 0; t < m.steps; ++t)
        for (int32_t s = 0; s < copies; ++s)
            for (int32_t l = 0; l < m.layerSlots(); ++l) {
                const size_t r = one.recordId(t, l);
                out.append(t, s, m.layer_mode == LayerMode::Aggregated ? -1 : l, one.indices(r), one.values(r));
            }
    return out;
}

// Two tiers whose KV capacities are whole multiples of `copies` units (exact shares).
Scenario scenarioOn(const std::string& db, const std::string& name, int64_t batch, int64_t pageTokens, bool perLayer,
                    int32_t copies, bool inclusive)
{
    Scenario s;
    s.trace_db = db;
    s.trace_name = name;
    s.batch = batch;
    s.model.layers = 2;
    s.model.kv_bytes_per_token_layer = 64;
    s.model.weight_bytes = 1024;
    s.selection.mode = SelectionMode::Ratio;
    s.selection.value = 0.2;
    s.selection.page_tokens = pageTokens;
    s.inclusive = inclusive;
    const double unit = static_cast<double>(pageTokens) * 64 * (perLayer ? 1 : 2);
    // 9 units per copy in HBM (the 1024 B of weights first), DRAM plenty.
    Tier hbm{"HBM", 1024 + 9.0 * copies * unit, 2e6, kNoLink, kNoLink, 0};
    Tier dram{"DRAM", 1e9 * copies * unit, 4e5, 2e5, 2e5, 0};
    s.hardware.tiers = {hbm, dram};
    for (const PolicyEntry& e : policyRegistry()) s.policies.push_back({e.info.name, {}});
    return s;
}

} // namespace

class TestBatchEngine : public QObject {
    Q_OBJECT

private slots:
    void identicalSequencesEqualBatch_data()
    {
        QTest::addColumn<bool>("perLayer");
        QTest::addColumn<int>("pageTokens");
        QTest::addColumn<bool>("inclusive");
        QTest::newRow("aggregated, g=1") << false << 1 << false;
        QTest::newRow("aggregated, g=4") << false << 4 << false;
        QTest::newRow("per-layer, g=1") << true << 1 << false;
        QTest::newRow("per-layer, g=4") << true << 4 << false;
        QTest::newRow("per-layer, g=4, inclusive") << true << 4 << true;
    }

    // MODEL.md §8: "batch = b" replicates the trace with each copy on 1/b of every tier; S
    // identical sequences share the tiers. With whole shares the two are the same run: the
    // numbers must agree exactly, policy by policy, for every policy of the registry.
    void identicalSequencesEqualBatch()
    {
        QFETCH(bool, perLayer);
        QFETCH(int, pageTokens);
        QFETCH(bool, inclusive);
        const int32_t S = 3;
        const std::string db = test::scratchPath(std::string("identical-") + QTest::currentDataTag() + ".sqlite");
        const Trace one = generateTrace(params(perLayer), "one");
        test::storeTrace(db, one);
        test::storeTrace(db, replicate(one, S, "three"));
        Pipeline pipe;
        const AnalysisResult a = pipe.run(scenarioOn(db, "one", S, pageTokens, perLayer, S, inclusive));
        const AnalysisResult b = pipe.run(scenarioOn(db, "three", 1, pageTokens, perLayer, S, inclusive));
        QCOMPARE(b.selection->layout.sequences(), S);
        QCOMPARE(b.capacity.units[0], S * a.capacity.units[0]);
        QCOMPARE(b.balanced->total_time, a.balanced->total_time);
        QCOMPARE(b.paper->total_time, a.paper->total_time);
        QCOMPARE(b.policies.size(), a.policies.size());
        QStringList differ;
        for (size_t i = 0; i < a.policies.size(); ++i) {
            const TimingResult& x = *a.policies[i].timing;
            const TimingResult& y = *b.policies[i].timing;
            const QString name = QString::fromStdString(a.policies[i].info.name);
            bool same = y.total_time == x.total_time && y.kv_read_fast_bytes == x.kv_read_fast_bytes &&
                        y.migrated_bytes == x.migrated_bytes;
            for (size_t m = 0; m < x.tier_totals.size(); ++m) same = same && y.tier_totals[m].busy_s == x.tier_totals[m].busy_s;
            // Two policies round over the whole batch at once (docs/MODEL.md "Batches"):
            // windowed look-ahead promotes ceil(ratio x missing) of the batch's units, and ARC
            // adapts its target once per ghost hit, copy after copy. Close, not equal.
            if (name == "windowed-look-ahead" || name == "arc") {
                QVERIFY2(std::abs(y.total_time / x.total_time - 1) < 0.05, qPrintable(name));
                continue;
            }
            if (!same) differ << name + " (" + QString::number(y.total_time, 'g', 17) + " vs " + QString::number(x.total_time, 'g', 17) + ")";
            // Identical sequences: identical shares, each a third, and the batch's hit ratio.
            QCOMPARE(y.sequences.size(), size_t(S));
            for (const SequenceTotals& q : same ? y.sequences : std::vector<SequenceTotals>{}) {
                QVERIFY2(std::abs(q.time_share - 1.0 / S) < 1e-12, qPrintable(name));
                QVERIFY2(std::abs(q.hbmHitRatio() - y.sequences[0].hbmHitRatio()) < 1e-15, qPrintable(name));
                QVERIFY2(std::abs(q.migrated_bytes * S - y.migrated_bytes) <= 1e-12 * y.migrated_bytes, qPrintable(name));
            }
        }
        QVERIFY2(differ.isEmpty(), qPrintable(differ.join(", ")));
    }

    // A batch of distinct sequences (different prefills, shared prefix): every policy stays
    // at or above the balanced bound at every step, and the per-sequence books add up to
    // the batch's totals.
    void distinctSequencesKeepTheInvariants()
    {
        GeneratorParams p = params(true);
        p.sequences = 4;
        p.prefill_spread = 0.5;
        p.shared_prefix = 16;
        const std::string db = test::scratchPath("distinct.sqlite");
        test::storeTrace(db, generateTrace(p, "four"));
        Pipeline pipe;
        Scenario s = scenarioOn(db, "four", 1, 4, true, 4, false);
        const AnalysisResult r = pipe.run(s);
        QCOMPARE(r.selection->layout.sequences(), 4);
        QVERIFY(r.selection->layout.prefillOf(1) != r.selection->layout.prefillOf(0) ||
                r.selection->layout.prefillOf(2) != r.selection->layout.prefillOf(0));
        for (const auto& o : r.policies) {
            const TimingResult& t = *o.timing;
            const QByteArray name = QByteArray::fromStdString(o.info.name);
            for (int64_t k = 0; k < t.steps; ++k)
                QVERIFY2(t.step_time[static_cast<size_t>(k)] >= r.balanced->step_time[static_cast<size_t>(k)] * (1 - 1e-12),
                         name + " at step " + QByteArray::number(static_cast<qlonglong>(k)));
            double read = 0, fast = 0, migrated = 0, share = 0;
            for (const SequenceTotals& q : t.sequences) {
                read += q.kv_read_bytes;
                fast += q.kv_read_fast_bytes;
                migrated += q.migrated_bytes;
                share += q.time_share;
            }
            QVERIFY2(std::abs(read - t.kv_read_bytes) <= 1e-9 * t.kv_read_bytes, name);
            if (!s.inclusive) QVERIFY2(std::abs(fast - t.kv_read_fast_bytes) <= 1e-9 * t.kv_read_bytes, name);
            QVERIFY2(std::abs(migrated - t.migrated_bytes) <= 1e-9 * std::max(1.0, t.migrated_bytes), name);
            QVERIFY2(std::abs(share - 1) < 1e-9, name);
        }
    }

    // The migration-aware bound and the annealed schedule on a batch: the balanced bound <=
    // the migration-aware bound <= every policy and the annealed schedule (MODEL.md §6).
    void migrationAwareBoundOnABatch()
    {
        GeneratorParams p = params(true);
        p.prefill = 24;
        p.steps = 12;
        p.sequences = 3;
        p.prefill_spread = 0.5;
        const std::string db = test::scratchPath("mb-batch.sqlite");
        test::storeTrace(db, generateTrace(p, "three"));
        Scenario s = scenarioOn(db, "three", 1, 1, true, 3, false);
        s.hardware.tiers[0].capacity_bytes = 1024 + 20.0 * 64;   // 20 units of 64 B: capacity binds
        s.bounds.migration_aware.enabled = true;
        s.bounds.migration_aware.iterations = 150;
        s.bounds.migration_aware.time_budget_s = 60;
        s.bounds.annealed.enabled = true;
        s.bounds.annealed.time_budget_s = 60;
        s.bounds.annealed.moves = 4000;
        Pipeline pipe;
        const AnalysisResult r = pipe.run(s);
        QCOMPARE(r.selection->layout.sequences(), 3);
        QVERIFY(r.migration_bound && r.annealed);
        const double mb = r.migration_bound->total_time;
        QVERIFY(r.balanced->total_time <= mb * (1 + 1e-12));
        for (const auto& o : r.policies)
            QVERIFY2(mb <= o.timing->total_time * (1 + 1e-9), o.info.name.c_str());
        QVERIFY(mb <= r.migration_bound->schedule_time() * (1 + 1e-9));
        QVERIFY(mb <= r.annealed->total_time() * (1 + 1e-9));
    }

    // The per-sequence form (policy_per_sequence.hpp): shares are floor(C / S), the first
    // C mod S one more; with lru-fair no sequence ever holds more tier 0 units than its
    // share, while global LRU lets the sequences with more misses take more.
    void perSequenceSharesHold()
    {
        QCOMPARE(equalShares(10, 4), (std::vector<int64_t>{3, 3, 2, 2}));
        QCOMPARE(equalShares(3, 4), (std::vector<int64_t>{1, 1, 1, 0}));
        // Two sequences of 8 prefill tokens: sequence 0 reads its whole context every step,
        // sequence 1 only its first token.
        TraceMeta m;
        m.name = "greedy";
        m.prefill = 8;
        m.sequence_prefill = {8, 8};
        m.steps = 10;
        m.layers = 1;
        m.layer_mode = LayerMode::Aggregated;
        m.kind = RecordKind::Selection;
        Trace t(m);
        for (int64_t k = 0; k < m.steps; ++k)
            for (int32_t q = 0; q < 2; ++q) {
                std::vector<uint32_t> idx;
                for (uint32_t i = 0; i < (q == 0 ? static_cast<uint32_t>(8 + k) : 1u); ++i) idx.push_back(i);
                t.append(k, q, -1, idx, std::vector<float>(idx.size(), 1.0f));
            }
        const Selection sel = computeSelection(t, {SelectionMode::Dense, 1, 0, 0, 1});
        PlacementConfig pc;
        pc.capacity_units = {8, 1000000};
        const std::vector<int64_t> share = equalShares(8, 2);
        int64_t globalMax = 0, fairMax = 0;
        for (const char* name : {"lru-fair", "lru"}) {
            const PlacementResult r = runPlacement(sel, findPolicy(name), {}, pc);
            for (int64_t k = 0; k < sel.layout.steps; ++k) {
                std::vector<int64_t> held(2, 0);
                const std::vector<uint8_t> loc = locationsAt(r, k);
                for (size_t u = 0; u < loc.size(); ++u)
                    if (loc[u] == 0) ++held[static_cast<size_t>(sel.layout.sequenceOf(static_cast<uint32_t>(u)))];
                for (size_t q = 0; q < 2; ++q) {
                    if (std::string(name) == "lru-fair") {
                        QVERIFY2(held[q] <= share[q], qPrintable(QString("step %1").arg(k)));
                        fairMax = std::max(fairMax, held[q]);
                    }
                    else globalMax = std::max(globalMax, held[q]);
                }
            }
        }
        // At a step's reads each sequence holds its share but the unit it creates after them.
        QCOMPARE(fairMax, share[0] - 1);
        // Global LRU ranks every read of the greedy sequence above the other's token 0.
        QVERIFY2(globalMax > share[0], qPrintable(QString("global LRU held at most %1 units of one sequence").arg(globalMax)));
    }
};

QTEST_APPLESS_MAIN(TestBatchEngine)
#include "tst_batch_engine.moc"
