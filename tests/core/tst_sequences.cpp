// MODEL.md §8 in the store and the importers: ranked records (rank scores, selection of
// the first K / ceil(rho * len) entries, mass refused), traces of S sequences stored and
// read back, the version-1 -> 2 upgrade, the seed's batch CSV (import, its sparsifier
// reproduced, errors with file:line) and the exports back to the seed's formats.
#include "test_support.hpp"

#include "core/engine/selection.hpp"
#include "core/io/export_csv.hpp"
#include "core/io/export_seed_csv.hpp"
#include "core/io/import_long_csv.hpp"
#include "core/io/import_seed_csv.hpp"
#include "core/model/error.hpp"

#include <QtTest>

#include <sqlite3.h>

#include <cmath>
#include <sstream>

using namespace kvtier;
using namespace kvtier::test;

namespace {
using V = std::vector<uint32_t>;

void sql(sqlite3* db, const char* text)
{
    char* err = nullptr;
    if (sqlite3_exec(db, text, nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string m = err ? err : "?";
        sqlite3_free(err);
        QFAIL(m.c_str());
    }
}

ImportOptions named(const std::string& name)
{
    ImportOptions o;
    o.name = name;
    return o;
}

// The seed's sparsifier: the first max(1, ceil(len * (1 - s))) entries of the list as written.
V seedKeeps(const V& list, double s)
{
    const double len = static_cast<double>(list.size());
    const auto k = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(len * (1 - s))));
    V keep(list.begin(), list.begin() + std::min<int64_t>(k, static_cast<int64_t>(list.size())));
    std::sort(keep.begin(), keep.end());
    return keep;
}

const char* const kSeed =
    "query_id,token_id,layer_id,experts,attention\n"
    "0,4,0,\"[1, 3]\",\"[2, 0, 1, 3]\"\n"
    "0,4,1,[],\"[3, 2, 1, 0]\"\n"
    "0,5,0,[2],\"[4, 3, 2, 1, 0]\"\n"
    "0,5,1,[],\"[0, 1, 2, 3, 4]\"\n"
    "1,2,0,[],\"[1, 0]\"\n"
    "1,2,1,[],[0]\n"
    "1,3,0,[],\"[2, 1, 0]\"\n"
    "1,3,1,[],\"[0, 2, 1]\"\n";
} // namespace

class TestSequences : public QObject {
    Q_OBJECT
private slots:
    void rankScoresRoundTrip()
    {
        std::vector<uint32_t> idx;
        std::vector<float> val;
        rankScoresFromOrder(V{2, 0, 5}, idx, val);
        QCOMPARE(idx, (V{0, 2, 5}));
        QCOMPARE(val, (std::vector<float>{2, 3, 1}));
        QCOMPARE(orderFromRankScores(idx, val), (V{2, 0, 5}));
        QVERIFY(rankScoreProblem(val).empty());
        QVERIFY(!rankScoreProblem(std::vector<float>{1, 1}).empty());
        QVERIFY(!rankScoreProblem(std::vector<float>{1, 3}).empty());
        QVERIFY(errorOf([] {
                    std::vector<uint32_t> i;
                    std::vector<float> v;
                    rankScoresFromOrder(V{1, 4, 1}, i, v);
                }).contains("appears twice"));
    }

    // MODEL.md §8: topk K / ratio rho keep the first K / ceil(rho * len - 1e-9) entries of
    // the ranking; len is the list's length, not n_t; dense reads every context token.
    void rankedSelection()
    {
        std::vector<uint32_t> idx;
        std::vector<float> val;
        rankScoresFromOrder(V{5, 1, 7, 0, 3}, idx, val);   // n_t = 8, a list of 5
        auto sel = [&](SelectionMode m, double v) {
            return selectTokens(idx, val, 8, RecordKind::Ranked, {m, v, 0, 0, 1});
        };
        QCOMPARE(sel(SelectionMode::TopK, 2), (V{1, 5}));
        QCOMPARE(sel(SelectionMode::TopK, 9), (V{0, 1, 3, 5, 7}));   // never beyond the list
        QCOMPARE(sel(SelectionMode::Ratio, 0.4), (V{1, 5}));         // ceil(0.4 * 5 - 1e-9) = 2
        QCOMPARE(sel(SelectionMode::Ratio, 0.5), (V{1, 5, 7}));      // ceil(2.5) = 3
        QCOMPARE(sel(SelectionMode::Ratio, 1.0), (V{0, 1, 3, 5, 7}));
        QCOMPARE(sel(SelectionMode::Dense, 0), (V{0, 1, 2, 3, 4, 5, 6, 7}));
        // sinks and window on top, as for scores
        QCOMPARE(selectTokens(idx, val, 8, RecordKind::Ranked, {SelectionMode::TopK, 1, 1, 1, 1}), (V{0, 5, 7}));
    }

    void massRefusedForRanked()
    {
        TraceMeta m;
        m.name = "r";
        m.prefill = 3;
        m.steps = 1;
        m.kind = RecordKind::Ranked;
        Trace t(m);
        t.append(0, -1, V{0, 1, 2}, std::vector<float>{1, 3, 2});
        const QString e = errorOf([&] { computeSelection(t, {SelectionMode::Mass, 0.5, 0, 0, 1}); });
        QVERIFY2(e.contains("mass needs scores") && e.contains("ranked"), qPrintable(e));
        const Selection s = computeSelection(t, {SelectionMode::TopK, 2, 0, 0, 1});
        QCOMPARE(std::vector<uint32_t>(s.tokens.row(0).begin(), s.tokens.row(0).end()), (V{1, 2}));
        // a record whose values are not rank scores is refused on append
        Trace bad(m);
        QVERIFY(errorOf([&] { bad.append(0, -1, V{0, 1}, std::vector<float>{0.5f, 2}); }).contains("rank score"));
    }

    // A trace of two sequences: records in (step, sequence, layer) order, each checked
    // against its own n_t^s; stored and read back unchanged; the engine refuses it.
    void sequencesStoreRoundTrip()
    {
        TraceMeta m;
        m.name = "batch";
        m.prefill = 2;
        m.sequence_prefill = {2, 5};
        m.steps = 2;
        m.layers = 2;
        m.layer_mode = LayerMode::PerLayer;
        m.kind = RecordKind::Ranked;
        auto store = freshStore("seq.sqlite");
        {
            auto w = store->beginTrace(m, Encoding::RankedU32);
            Record r;
            for (int64_t t = 0; t < 2; ++t)
                for (int32_t s = 0; s < 2; ++s)
                    for (int32_t l = 0; l < 2; ++l) {
                        r.step = t;
                        r.sequence = s;
                        r.layer = l;
                        V order;
                        const int64_t n = m.prefillOf(s) + t;
                        for (int64_t i = n - 1; i >= 0; --i)
                            if ((i + l) % 2 == 0 || i == 0) order.push_back(static_cast<uint32_t>(i));
                        rankScoresFromOrder(order, r.index, r.value);
                        w->add(r);
                    }
            w->commit();
        }
        const Trace t = store->load("batch");
        QCOMPARE(t.meta().sequenceCount(), 2);
        QCOMPARE(t.meta().sequence_prefill, (std::vector<int64_t>{2, 5}));
        QCOMPARE(t.recordCount(), int64_t{8});
        // sequence 1, step 1, layer 0: n = 6, even indices descending then 0 -> 4, 2, 0
        const size_t rec = t.recordId(1, 1, 0);
        QCOMPARE(orderFromRankScores(t.indices(rec), t.values(rec)), (V{4, 2, 0}));
        QCOMPARE(store->get("batch").meta.sequence_prefill, (std::vector<int64_t>{2, 5}));
        // The engine selects per sequence (MODEL.md §8) and numbers units in creation order
        // (docs/MODEL.md "Batches"), (page, layer, sequence) within each event: prefill page 0
        // is units 0 (s0 l0), 1 (s1 l0), 2 (s0 l1), 3 (s1 l1); page 1 is 4..7; pages 2, 3, 4 of
        // sequence 1 alone are 8..13 (l0, l1 each); step 0 writes s0's page 2 and s1's page 5
        // (14 s0 l0, 15 s1 l0, 16 s0 l1, 17 s1 l1); step 1 writes pages 3 and 6 (18..21).
        const Selection sel = computeSelection(t, {SelectionMode::TopK, 1, 0, 0, 1});
        QCOMPARE(sel.layout.sequences(), 2);
        QCOMPARE(sel.layout.unitsBefore(0), int64_t{14});
        QCOMPARE(sel.layout.unitsBefore(1), int64_t{18});
        QCOMPARE(sel.layout.totalUnits(), int64_t{22});
        QCOMPARE(sel.layout.unit(1, 4, 0), 12u);
        QCOMPARE(sel.layout.newTokenUnit(0, 1, 1), 20u);
        QCOMPARE(sel.layout.slotOf(16), 1);
        QCOMPARE(sel.layout.sequenceOf(17), 1);
        QCOMPARE(sel.layout.pageOf(17), int64_t{5});
        // step 1: s0 l0 reads token 2 (n = 3: order 2, 0), s0 l1 token 1 (order 1, 0), s1 l0
        // token 4, s1 l1 token 5 (order 5, 3, 1, 0): units 14, 6, 12, 17.
        QCOMPARE(std::vector<uint32_t>(sel.tokens.row(sel.recordRow(1, 0, 0)).begin(), sel.tokens.row(sel.recordRow(1, 0, 0)).end()), (V{2}));
        QCOMPARE(std::vector<uint32_t>(sel.tokens.row(sel.recordRow(1, 1, 1)).begin(), sel.tokens.row(sel.recordRow(1, 1, 1)).end()), (V{5}));
        const auto units = sel.step_units.row(1);
        QCOMPARE(std::vector<uint32_t>(units.begin(), units.end()), (V{6, 12, 14, 17}));
        QCOMPARE(sel.read_tokens[sel.row(1, 0)], int64_t{2});   // one token of each sequence

        // out of order: sequence 1 before sequence 0
        auto w = store->beginTrace([&] { TraceMeta c = m; c.name = "bad"; return c; }(), Encoding::RankedU32);
        Record r;
        r.step = 0;
        r.sequence = 1;
        r.layer = 0;
        rankScoresFromOrder(V{0}, r.index, r.value);
        QVERIFY(errorOf([&] { w->add(r); }).contains("out of order: expected (t=0, s=0, l=0)"));
        // an index beyond sequence 0's n_t (2) but within sequence 1's
        r.sequence = 0;
        rankScoresFromOrder(V{3}, r.index, r.value);
        QVERIFY(errorOf([&] { w->add(r); }).contains(">= n_t = 2"));
    }

    // A version-1 file (made here with the version-1 schema) is upgraded on open, in one
    // transaction, with every trace and record kept and the expert tables added (MODEL.md §8,
    // §9); a newer version is refused.
    void upgradeFromVersion1()
    {
        const std::string path = scratchPath("v1.sqlite");
        std::remove(path.c_str());
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        sql(db, R"SQL(
CREATE TABLE kvtier_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE traces (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '', model_name TEXT NOT NULL DEFAULT '',
    head_reduction TEXT NOT NULL DEFAULT 'mean', notes TEXT NOT NULL DEFAULT '',
    prefill INTEGER NOT NULL CHECK (prefill >= 0), steps INTEGER NOT NULL CHECK (steps >= 0),
    layers INTEGER NOT NULL CHECK (layers >= 1),
    layer_mode TEXT NOT NULL CHECK (layer_mode IN ('aggregated', 'per-layer')),
    kind TEXT NOT NULL CHECK (kind IN ('scores', 'selection')), encoding TEXT NOT NULL,
    entries INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
CREATE TABLE records (
    trace_id INTEGER NOT NULL REFERENCES traces(id), step INTEGER NOT NULL, layer INTEGER NOT NULL,
    encoding TEXT NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (trace_id, step, layer)) WITHOUT ROWID;
INSERT INTO kvtier_meta VALUES ('schema_version', '1'), ('application', 'kvtier');
PRAGMA application_id = 1263948882;
PRAGMA user_version = 1;
INSERT INTO traces(id, name, prefill, steps, layers, layer_mode, kind, encoding, entries, created_at)
    VALUES (7, 'old', 2, 2, 1, 'aggregated', 'selection', 'index_u32', 3, '2025-01-31T12:00:00Z');
INSERT INTO records VALUES (7, 0, -1, 'index_u32', 1, x'01000000');
INSERT INTO records VALUES (7, 1, -1, 'index_u32', 2, x'0000000002000000');
)SQL");
        sqlite3_close(db);
        {
            auto store = TraceStore::open(path, TraceStore::Mode::ReadOnly);
            const Trace t = store->load("old");
            QCOMPARE(t.meta().sequenceCount(), 1);
            QCOMPARE(std::vector<uint32_t>(t.indices(0).begin(), t.indices(0).end()), (V{1}));
            QCOMPARE(std::vector<uint32_t>(t.indices(1).begin(), t.indices(1).end()), (V{0, 2}));
            QCOMPARE(QString::fromStdString(store->get("old").created_at), QString("2025-01-31T12:00:00Z"));
            QCOMPARE(store->get("old").entries, int64_t{3});
            // The expert tables of MODEL.md §9 come with the same step; an old trace has none.
            QCOMPARE(store->experts("old"), 0);
            QVERIFY(t.experts().empty());
        }
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        auto one = [&](const char* q) {
            sqlite3_stmt* s = nullptr;
            sqlite3_prepare_v2(db, q, -1, &s, nullptr);
            std::string out = sqlite3_step(s) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) : "";
            sqlite3_finalize(s);
            return QString::fromStdString(out);
        };
        QCOMPARE(one("SELECT value FROM kvtier_meta WHERE key = 'schema_version'"), QString("2"));
        QCOMPARE(one("SELECT group_concat(trace_id || ':' || sequence || ':' || prefill) FROM trace_sequences"), QString("7:0:2"));
        QCOMPARE(one("SELECT group_concat(sequence) FROM records"), QString("0,0"));
        QCOMPARE(one("SELECT count(*) FROM sqlite_master WHERE name IN ('expert_sets', 'trace_experts')"), QString("2"));
        // ranked traces fit the upgraded CHECK
        sql(db, "INSERT INTO traces(name, prefill, steps, layers, layer_mode, kind, encoding) "
                "VALUES ('r', 1, 0, 1, 'aggregated', 'ranked', 'ranked_u32')");
        sql(db, "UPDATE kvtier_meta SET value = '3' WHERE key = 'schema_version'");
        sqlite3_close(db);
        const QString e = errorOf([&] { TraceStore::open(path, TraceStore::Mode::ReadOnly); });
        QVERIFY2(e.contains("newer kvtier (schema version 3"), qPrintable(e));
    }

    // A damaged trace_sequences table is named, never trusted: a gap in the numbering,
    // sequence 0's prefill differing from the trace's, a record of a sequence that is not there.
    void damagedSequencesRefused_data()
    {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("message");
        QTest::newRow("gap") << "UPDATE trace_sequences SET sequence = 2 WHERE sequence = 1"
                             << "sequence 1 missing from trace_sequences (found 2 next)";
        QTest::newRow("prefill 0") << "UPDATE trace_sequences SET prefill = 9 WHERE sequence = 0"
                                   << "sequence 0 has prefill 9, but the trace's P is 4";
        QTest::newRow("one sequence") << "DELETE FROM trace_sequences WHERE sequence = 1"
                                      << "record (t=1, l=0): record missing or misplaced (found (t=0, s=1, l=0) next)";
    }

    void damagedSequencesRefused()
    {
        QFETCH(QString, damage);
        QFETCH(QString, message);
        const std::string in = writeScratch("seed-damaged.csv", kSeed);
        const std::string path = scratchPath("damaged.sqlite");
        std::remove(path.c_str());
        {
            auto store = TraceStore::open(path, TraceStore::Mode::ReadWrite);
            importSeedCsv(*store, in, named("b"));
        }
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        sql(db, damage.toUtf8().constData());
        sqlite3_close(db);
        auto store = TraceStore::open(path, TraceStore::Mode::ReadOnly);
        const QString e = errorOf([&] { store->load("b"); });
        QVERIFY2(e.contains(message), qPrintable(e));
    }

    // The seed's sparsifier, max(1, ceil(len * (1 - s))) of the list as written, is what
    // ratio rho = 1 - s selects on the imported trace, row by row.
    void seedSparsifierReproduced()
    {
        std::ostringstream csv;
        csv << "query_id,token_id,layer_id,experts,attention\n";
        // one query, P = 9, 3 steps, 2 layers; lists include the decoded token itself
        const std::vector<std::vector<V>> lists = {
            {{9, 3, 8, 0, 1, 2, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7, 8}},
            {{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, {5, 0, 9, 1, 8, 2, 7, 3, 6, 4}},
            {{0, 11, 10, 1, 2, 9, 3, 8, 4, 7, 5, 6}, {2, 11, 4}}};
        for (size_t t = 0; t < lists.size(); ++t)
            for (size_t l = 0; l < 2; ++l) {
                csv << "0," << 9 + t << "," << l << ",\"[0, 1]\",\"[";
                for (size_t k = 0; k < lists[t][l].size(); ++k) csv << (k ? ", " : "") << lists[t][l][k];
                csv << "]\"\n";
            }
        const std::string path = writeScratch("sparsifier.csv", csv.str());
        auto store = freshStore("sparsifier.sqlite");
        std::vector<std::vector<int32_t>> experts;
        importSeedCsv(*store, path, named("s"), [&](int64_t, int32_t, int32_t, std::span<const int32_t> e) {
            experts.emplace_back(e.begin(), e.end());
        });
        QCOMPARE(experts.size(), size_t{6});
        QCOMPARE(experts[5], (std::vector<int32_t>{0, 1}));
        const Trace tr = store->load("s");
        QCOMPARE(tr.meta().kind, RecordKind::Ranked);
        QCOMPARE(tr.meta().prefill, int64_t{9});
        QCOMPARE(tr.meta().steps, int64_t{3});
        for (double s : {0.0, 0.1, 0.25, 0.5, 0.6, 0.75, 0.8, 0.9, 0.95, 0.99})
            for (int64_t t = 0; t < 3; ++t)
                for (int32_t l = 0; l < 2; ++l) {
                    V written;   // as the seed keeps it: the decoded token dropped
                    for (uint32_t i : lists[static_cast<size_t>(t)][static_cast<size_t>(l)])
                        if (i != static_cast<uint32_t>(9 + t)) written.push_back(i);
                    const size_t rec = tr.recordId(t, l);
                    const V got = selectTokens(tr.indices(rec), tr.values(rec), 9 + t, RecordKind::Ranked,
                                               {SelectionMode::Ratio, 1 - s, 0, 0, 1});
                    QVERIFY2(got == seedKeeps(written, s),
                             qPrintable(QString("s=%1 t=%2 l=%3").arg(s).arg(t).arg(l)));
                }
    }

    // Where the seed's floating point lands just above an integer, MODEL.md's epsilon
    // keeps the integer: s = 0.7 of 10 entries is 10 * 0.30000000000000004 in the seed
    // (ceil: 4), 3 here (docs/MODEL.md, "Ranked records").
    void seedEpsilonCase()
    {
        std::vector<uint32_t> idx;
        std::vector<float> val;
        rankScoresFromOrder(V{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, idx, val);
        QCOMPARE(seedKeeps(V{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, 0.7).size(), size_t{4});
        QCOMPARE(selectTokens(idx, val, 10, RecordKind::Ranked, {SelectionMode::Ratio, 1 - 0.7, 0, 0, 1}), (V{7, 8, 9}));
    }

    void seedCsvRoundTripAndPaperExport()
    {
        const std::string in = writeScratch("seed-in.csv", kSeed);
        auto store = freshStore("roundtrip.sqlite");
        const TraceSummary sum = importSeedCsv(*store, in, named("b"));
        QCOMPARE(sum.meta.sequence_prefill, (std::vector<int64_t>{4, 2}));
        QCOMPARE(sum.meta.layers, 2);
        QCOMPARE(sum.meta.steps, int64_t{2});
        std::ostringstream out;
        QCOMPARE(exportSeedCsv(*store, "b", out), int64_t{8});
        // experts come back as X[t][l], the union over the batch, on every query's rows:
        // X[0][0] = {1, 3} u {} = {1, 3}, X[1][0] = {2}, the rest {}; query 1 gets them too
        QCOMPARE(store->experts("b"), 4);
        std::string expected = kSeed;
        expected.replace(expected.find("1,2,0,[]"), 8, "1,2,0,\"[1, 3]\"");
        expected.replace(expected.find("1,3,0,[]"), 8, "1,3,0,[2]");
        QCOMPARE(QString::fromStdString(out.str()), QString::fromStdString(expected));
        // and that export imports to the same records
        const std::string again = writeScratch("seed-again.csv", out.str());
        importSeedCsv(*store, again, named("b2"));
        const Trace a = store->load("b"), b = store->load("b2");
        for (int64_t r = 0; r < a.recordCount(); ++r) {
            const auto ra = static_cast<size_t>(r);
            QVERIFY(std::equal(a.indices(ra).begin(), a.indices(ra).end(), b.indices(ra).begin(), b.indices(ra).end()));
            QVERIFY(std::equal(a.values(ra).begin(), a.values(ra).end(), b.values(ra).begin(), b.values(ra).end()));
        }
        // paper CSV of sequence 1 at sparsity 0.5: n = 2 + t; ceil(0.5 * len) first entries
        std::ostringstream paper;
        exportPaperCsv(*store, "b", 0.5, 1, paper);
        QCOMPARE(QString::fromStdString(paper.str()),
                 QString("n,l,read_kv\n2,0,\"[1]\"\n2,1,\"[0]\"\n3,0,\"[1, 2]\"\n3,1,\"[0, 2]\"\n"));
        QVERIFY(errorOf([&] { std::ostringstream o; exportPaperCsv(*store, "b", 0.5, -1, o); }).contains("--sequence"));
        // scores export as every context index, score descending, zero tail by index
        QCOMPARE(rankedOrder(RecordKind::Scores, 5, V{1, 3}, std::vector<float>{0.2f, 0.7f}), (V{3, 1, 0, 2, 4}));
    }

    // The experts column becomes X[t][l] = the union over the queries (MODEL.md §9), E =
    // the largest id + 1 or the given E, streamed into the expert tables.
    void seedExpertsStored()
    {
        const char* const csv = "query_id,token_id,layer_id,experts,attention\n"
                                "7,3,0,\"[0, 5]\",\"[0, 1, 2]\"\n"
                                "7,3,1,[2],\"[2, 1, 0]\"\n"
                                "7,4,0,[5],\"[3, 0]\"\n"
                                "7,4,1,\"[1, 2]\",[1]\n"
                                "9,6,0,\"[5, 4]\",[5]\n"
                                "9,6,1,[],[0]\n"
                                "9,7,0,[0],\"[6, 2]\"\n"
                                "9,7,1,\"[2, 6]\",[]\n";
        const std::string in = writeScratch("seed-experts.csv", csv);
        auto store = freshStore("experts.sqlite");
        importSeedCsv(*store, in, named("m"));
        // by hand: X[0][0] = {0,5} u {4,5} = {0,4,5}; X[0][1] = {2} u {} = {2};
        //          X[1][0] = {5} u {0} = {0,5};       X[1][1] = {1,2} u {2,6} = {1,2,6}; E = 6 + 1
        using U = std::vector<uint16_t>;
        const Trace tr = store->load("m");
        const ExpertSets& x = tr.experts();
        QCOMPARE(x.experts(), 7);
        QCOMPARE(x.steps(), int64_t{2});
        QCOMPARE(x.layers(), 2);
        QCOMPARE(x.ids(0, 0), (U{0, 4, 5}));
        QCOMPARE(x.ids(0, 1), (U{2}));
        QCOMPARE(x.ids(1, 0), (U{0, 5}));
        QCOMPARE(x.ids(1, 1), (U{1, 2, 6}));
        QCOMPARE(store->experts("m"), 7);

        // export writes X[t][l] on every query's row; importing that gives the same sets
        std::ostringstream out;
        exportSeedCsv(*store, "m", out);
        QCOMPARE(QString::fromStdString(out.str()),
                 QString("query_id,token_id,layer_id,experts,attention\n"
                         "0,3,0,\"[0, 4, 5]\",\"[0, 1, 2]\"\n"
                         "0,3,1,[2],\"[2, 1, 0]\"\n"
                         "0,4,0,\"[0, 5]\",\"[3, 0]\"\n"
                         "0,4,1,\"[1, 2, 6]\",[1]\n"
                         "1,6,0,\"[0, 4, 5]\",[5]\n"
                         "1,6,1,[2],[0]\n"
                         "1,7,0,\"[0, 5]\",\"[6, 2]\"\n"
                         "1,7,1,\"[1, 2, 6]\",[]\n"));
        importSeedCsv(*store, writeScratch("seed-experts-again.csv", out.str()), named("m2"));
        QVERIFY(store->load("m2").experts() == x);

        // a given E larger than the ids is kept; one too small names the row
        ImportOptions o = named("m8");
        o.experts = 8;
        importSeedCsv(*store, in, o);
        QCOMPARE(store->experts("m8"), 8);
        QCOMPARE(store->loadExperts("m8").ids(1, 1), (U{1, 2, 6}));
        o = named("m6");
        o.experts = 6;
        o.shown_name = "e.csv";
        QCOMPARE(errorOf([&] { importSeedCsv(*store, in, o); }), QString("e.csv:9: expert id 6 >= E = 6 (--experts)"));
        QVERIFY(!store->find("m6"));

        // no ids anywhere and no E: no expert sets (a dense model's file)
        importSeedCsv(*store, writeScratch("seed-dense.csv", "query_id,token_id,layer_id,experts,attention\n0,1,0,[],[0]\n"),
                      named("dense"));
        QCOMPARE(store->experts("dense"), 0);
        QVERIFY(store->load("dense").experts().empty());
    }

    // The long CSV's sequence column: S = 3 sequences with P_s = 2, 5, 0 exported (the column
    // and sequence_prefill in the comment) and imported back exactly; a hand-written file
    // without sequence_prefill gives every sequence P.
    void longCsvSequencesRoundTrip()
    {
        TraceMeta m;
        m.name = "three";
        m.prefill = 2;
        m.sequence_prefill = {2, 5, 0};
        m.steps = 2;
        m.layers = 2;
        m.layer_mode = LayerMode::PerLayer;
        m.kind = RecordKind::Scores;
        auto store = freshStore("longseq.sqlite");
        {
            auto w = store->beginTrace(m, Encoding::SparseF32);
            Record r;
            for (int64_t t = 0; t < 2; ++t)
                for (int32_t s = 0; s < 3; ++s)
                    for (int32_t l = 0; l < 2; ++l) {
                        r.step = t;
                        r.sequence = s;
                        r.layer = l;
                        r.index.clear();
                        r.value.clear();
                        const int64_t n = m.prefillOf(s) + t;   // sequence 2, step 0: n = 0, empty
                        for (int64_t i = 0; i < n; ++i)
                            if ((i + l + s) % 2 == 0) {
                                r.index.push_back(static_cast<uint32_t>(i));
                                r.value.push_back(0.25f * static_cast<float>(i + 1) + 0.1f * static_cast<float>(s));
                            }
                        w->add(r);
                    }
            w->commit();
        }
        std::ostringstream out;
        const int64_t rows = exportLongCsv(*store, "three", out);
        const std::string text = out.str();
        QVERIFY2(text.find("\"rows\":" + std::to_string(rows) + ",\"sequence_prefill\":[2,5,0],") != std::string::npos,
                 text.c_str());
        // step 0: s0 (n=2) l0 {0}, l1 {1}; s1 (n=5) l0 {1,3}, l1 {0,2,4}; s2 (n=0) nothing
        const std::string firstRows = "\nstep,sequence,layer,token,score\n"
                                      "0,0,0,0,0.25\n0,0,1,1,0.5\n"
                                      "0,1,0,1,0.6\n0,1,0,3,1.1\n0,1,1,0,0.35\n0,1,1,2,0.85\n0,1,1,4,1.35\n"
                                      "1,0,0,0,0.25\n";
        QVERIFY2(text.find(firstRows) != std::string::npos, text.c_str());
        importLongCsv(*store, writeScratch("three.csv", text), named("three-again"));
        const Trace a = store->load("three"), b = store->load("three-again");
        QCOMPARE(b.meta().sequence_prefill, (std::vector<int64_t>{2, 5, 0}));
        QCOMPARE(b.meta().steps, int64_t{2});
        QCOMPARE(b.meta().layers, 2);
        QCOMPARE(b.recordCount(), a.recordCount());
        for (int64_t r = 0; r < a.recordCount(); ++r) {
            const auto ra = static_cast<size_t>(r);
            QVERIFY(std::equal(a.indices(ra).begin(), a.indices(ra).end(), b.indices(ra).begin(), b.indices(ra).end()));
            QVERIFY(std::equal(a.values(ra).begin(), a.values(ra).end(), b.values(ra).begin(), b.values(ra).end()));
        }
        std::ostringstream again;
        exportLongCsv(*store, "three-again", again);
        std::string expected = text;   // the same file but for the name
        expected.replace(expected.find("\"name\":\"three\""), 14, "\"name\":\"three-again\"");
        QCOMPARE(QString::fromStdString(again.str()), QString::fromStdString(expected));

        // hand-written: no sequence_prefill, so S = 1 + the largest sequence and every P_s = P
        ImportOptions o = named("hand");
        o.prefill = 3;
        o.shown_name = "hand.csv";
        const std::string hand = writeScratch("hand.csv", "step,sequence,layer,token,score\n0,0,0,2,1\n0,2,0,0,0.5\n1,1,0,3,2\n");
        const TraceSummary h = importLongCsv(*store, hand, o);
        QCOMPARE(h.meta.sequence_prefill, (std::vector<int64_t>{3, 3, 3}));
        QCOMPARE(h.meta.steps, int64_t{2});
        const Trace ht = store->load("hand");
        QCOMPARE(ht.indices(ht.recordId(1, 1, 0)).size(), size_t{1});
        QCOMPARE(ht.indices(ht.recordId(1, 1, 0))[0], 3u);
        QVERIFY(ht.indices(ht.recordId(0, 1, 0)).empty());
        // errors name the line: a sequence beyond the comment's list, rows out of order
        o.name = "bad";
        const std::string beyond = writeScratch("b.csv", "# kvtier trace {\"prefill\":3,\"sequence_prefill\":[3,4]}\n"
                                                         "step,sequence,layer,token,score\n0,2,0,0,1\n");
        QCOMPARE(errorOf([&] { importLongCsv(*store, beyond, o); }),
                 QString("hand.csv:3: sequence 2 >= S = 2 (the kvtier comment's sequence_prefill)"));
        const std::string order = writeScratch("o.csv", "step,sequence,layer,token,score\n0,1,0,0,1\n0,0,0,1,1\n");
        QCOMPARE(errorOf([&] { importLongCsv(*store, order, o); }),
                 QString("hand.csv:3: steps out of order: (t=0, s=0, l=0) after (t=0, s=1, l=0); rows must be grouped "
                         "by step, then sequence, then layer, ascending"));
        const std::string noColumn = writeScratch("n.csv", "# kvtier trace {\"prefill\":3,\"sequence_prefill\":[3,4]}\n"
                                                           "step,layer,token,score\n");
        QCOMPARE(errorOf([&] { importLongCsv(*store, noColumn, o); }),
                 QString("hand.csv:2: the kvtier comment lists 2 sequences but the header has no sequence column"));
        QVERIFY(!store->find("bad"));
    }

    void seedCsvErrors_data()
    {
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("message");
        const QString h = "query_id,token_id,layer_id,experts,attention\n";
        QTest::newRow("header") << "q,t,l\n0,1,0,[],[0]\n" << "bad.csv:1: expected the header";
        QTest::newRow("fields") << h + "0,1,0,[]\n" << "bad.csv:2: the row has 4 fields, expected 5";
        QTest::newRow("list") << h + "0,1,0,[],0 1\n" << "bad.csv:2: attention must be a JSON list";
        QTest::newRow("future index") << h + "0,1,0,[],\"[2, 0]\"\n" << "bad.csv:2: attention index 2 > token_id = 1";
        QTest::newRow("repeat") << h + "0,2,0,[],\"[0, 1, 0]\"\n" << "bad.csv:2: token index 0 appears twice";
        QTest::newRow("expert twice") << h + "0,2,0,\"[1, 1]\",\"[0]\"\n" << "bad.csv:2: expert 1 is listed twice";
        QTest::newRow("gap") << h + "0,2,0,[],[0]\n0,4,0,[],[0]\n" << "bad.csv:3: token_id 4 after 2 in query 0";
        QTest::newRow("layer order") << h + "0,2,0,[],[0]\n0,2,2,[],[0]\n" << "bad.csv:3: layer_id 2 for token 2";
        QTest::newRow("missing layer") << h + "0,2,0,[],[0]\n0,2,1,[],[0]\n0,3,0,[],[0]\n0,4,0,[],[0]\n"
                                       << "bad.csv:4: token 3 of query 0 has 1 of L = 2 layers";
        QTest::newRow("split query") << h + "0,2,0,[],[0]\n1,2,0,[],[0]\n0,3,0,[],[0]\n"
                                     << "bad.csv:4: query 0 again, after other queries";
        QTest::newRow("different T") << h + "0,2,0,[],[0]\n0,3,0,[],[0]\n1,5,0,[],[0]\n"
                                     << "bad.csv:4: query 1 has 1 decoded tokens, query 0 has 2";
        QTest::newRow("empty") << h << "bad.csv: no data rows";
        QTest::newRow("expert id limit") << h + "0,1,0,[],[0]\n0,2,0,\"[3, 4096]\",[0]\n"
                                         << "bad.csv:3: expert id 4096 exceeds the limit of 4095 (E <= 4096)";
    }

    void seedCsvErrors()
    {
        QFETCH(QString, body);
        QFETCH(QString, message);
        const std::string path = writeScratch("bad.csv", body.toStdString());
        auto store = freshStore("bad.sqlite");
        ImportOptions o = named("x");
        o.shown_name = "bad.csv";
        const QString e = errorOf([&] { importSeedCsv(*store, path, o); });
        QVERIFY2(e.startsWith(message), qPrintable(e));
        QVERIFY(store->list().empty());   // nothing half-written
    }
};

QTEST_APPLESS_MAIN(TestSequences)
#include "tst_sequences.moc"
