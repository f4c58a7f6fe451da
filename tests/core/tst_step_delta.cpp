// Step-delta selections (docs/TRACE_FORMAT.md "Step-delta selections"): hand-worked delta
// bytes, every refusal of a damaged delta with its message, random round trips; generated
// traces (aggregated, per layer, a batch of sequences) stored as index_step_delta read back
// exactly as their index_varint copies, whole, record by record and from every step; the
// file's key interval and its checks; the streamed analysis of a step-delta trace equal to
// the whole-trace analysis of the index_varint copy for windows not aligned with K.
#include "test_support.hpp"

#include "core/engine/pipeline.hpp"
#include "core/engine/stream_analysis.hpp"
#include "core/model/error.hpp"
#include "core/store/blob_codec.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <sqlite3.h>

#include <QtTest>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

using namespace kvtier;
using test::errorOf;

namespace {

using Bytes = std::vector<unsigned char>;
using List = std::vector<uint32_t>;

Bytes delta(const List& prev, const List& index)
{
    Bytes out;
    encodeStepDelta(prev, index, out);
    return out;
}

List decoded(int64_t n, int64_t count, const Bytes& blob, const List& prev)
{
    List index;
    std::vector<float> value;
    decodeStepDelta(n, count, blob, prev, index, value);
    if (value != std::vector<float>(index.size(), 1.0f)) index = {0xFFFFFFFFu};   // fails any compare
    return index;
}

QString deltaError(int64_t n, int64_t count, const Bytes& blob, const List& prev)
{
    List index;
    std::vector<float> value;
    return errorOf([&] { decodeStepDelta(n, count, blob, prev, index, value); });
}

void rawExec(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const QString msg = err ? QString::fromUtf8(err) : QString();
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, qPrintable(msg));
}

int64_t rawInt(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    const int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

GeneratorParams shape(const QString& kind)
{
    GeneratorParams p;
    p.seed = 11;
    p.prefill = 90;
    p.steps = 23;   // not a multiple of K = 4: the last chain is short
    p.layers = 3;
    p.heavy_count = 6;
    p.burst_min_age = 8;
    p.burst_rate = 0.1;
    p.selection_ratio = 0.3;
    p.per_layer = kind != "aggregated";
    if (kind == "batch") {
        p.sequences = 3;
        p.prefill_spread = 0.4;
    }
    return p;
}

// The generated trace of `kind` stored twice in `db`: "varint" as index_varint and "delta"
// as index_step_delta with K = 4.
void saveBoth(const std::string& db, const GeneratorParams& p)
{
    auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
    for (const Encoding enc : {Encoding::IndexVarint, Encoding::IndexStepDelta}) {
        TraceMeta meta = generatorMeta(p);
        meta.name = enc == Encoding::IndexVarint ? "varint" : "delta";
        auto w = store->beginTrace(meta, enc, false, 4);
        generate(p, [&](const Record& r) { w->add(r); });
        w->commit();
    }
}

std::vector<Record> readAll(TraceReader& r)
{
    std::vector<Record> out;
    Record rec;
    while (r.next(rec)) out.push_back(rec);
    return out;
}

bool sameRecords(const std::vector<Record>& a, const std::vector<Record>& b)
{
    if (a.size() != b.size()) return false;
    for (size_t k = 0; k < a.size(); ++k)
        if (a[k].step != b[k].step || a[k].sequence != b[k].sequence || a[k].layer != b[k].layer ||
            a[k].index != b[k].index || a[k].value != b[k].value)
            return false;
    return true;
}

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same(const std::vector<double>& a, const std::vector<double>& b)
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

} // namespace

class TestStepDelta : public QObject {
    Q_OBJECT

private slots:
    // prev {0, 2, 5, 9} -> {0, 5, 7, 9, 12}: 2 removed, 7 and 12 added. Bytes: removed count
    // 1, added count 2, removed gaps [2], added gaps [7, 12 - 7 - 1 = 4].
    void handWorkedBytes()
    {
        const List prev{0, 2, 5, 9};
        const List next{0, 5, 7, 9, 12};
        QCOMPARE(delta(prev, next), (Bytes{0x01, 0x02, 0x02, 0x07, 0x04}));
        QCOMPARE(decoded(13, 5, Bytes{0x01, 0x02, 0x02, 0x07, 0x04}, prev), next);
        // The same set: two zero counts, whatever the set's size.
        QCOMPARE(delta(next, next), (Bytes{0x00, 0x00}));
        QCOMPARE(decoded(13, 5, Bytes{0x00, 0x00}, next), next);
        // Everything replaced: {0, 1} -> {300}: counts 2, 1; removed gaps 0, 0; added 300 = ac 02.
        QCOMPARE(delta(List{0, 1}, List{300}), (Bytes{0x02, 0x01, 0x00, 0x00, 0xAC, 0x02}));
        QCOMPARE(decoded(301, 1, Bytes{0x02, 0x01, 0x00, 0x00, 0xAC, 0x02}, List{0, 1}), (List{300}));
        // From and to the empty set.
        QCOMPARE(delta(List{}, List{3, 4}), (Bytes{0x00, 0x02, 0x03, 0x00}));
        QCOMPARE(decoded(5, 0, Bytes{0x02, 0x00, 0x03, 0x00}, List{3, 4}), List{});
        // The top of the u32 range: 2^32 - 1 added to {0} (the first added index as is).
        QCOMPARE(delta(List{0}, List{0, 0xFFFFFFFFu}), (Bytes{0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
        QCOMPARE(decoded(int64_t{1} << 32, 2, Bytes{0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, List{0}),
                 (List{0, 0xFFFFFFFFu}));
    }

    void refusals_data()
    {
        QTest::addColumn<qlonglong>("n");
        QTest::addColumn<qlonglong>("count");
        QTest::addColumn<QByteArray>("blob");
        QTest::addColumn<QString>("message");
        // prev is {0, 2, 5, 9} throughout.
        auto row = [](const char* tag, int64_t n, int64_t count, Bytes b, const char* msg) {
            QTest::newRow(tag) << qlonglong(n) << qlonglong(count)
                               << QByteArray(reinterpret_cast<const char*>(b.data()), static_cast<int>(b.size()))
                               << QString(msg);
        };
        row("empty BLOB", 13, 4, {}, "the removed count: truncated varint: entry 0 at byte 0 runs past the end of the 0-byte BLOB");
        row("no added count", 13, 4, {0x00}, "the added count: truncated varint: entry 0 at byte 1 runs past the end of the 1-byte BLOB");
        row("count varint too long", 13, 4, {0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
            "the removed count: varint of entry 0 at byte 0 is longer than 5 bytes");
        row("removes more than prev", 13, 0, {0x05, 0x00, 0, 0, 0, 0, 0}, "removes 5 indices from a previous record of 4");
        row("counts beyond the BLOB", 13, 4, {0x01, 0x01, 0x02},
            "truncated BLOB: 3 bytes, index_step_delta with 1 removed and 1 added needs at least 4");
        row("huge added count", 13, 4, {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F},
            "truncated BLOB: 6 bytes, index_step_delta with 0 removed and 4294967295 added needs at least 4294967301");
        row("count disagrees", 13, 5, {0x01, 0x01, 0x02, 0x07},
            "count 5, but the previous record's 4 indices - 1 removed + 1 added make 4");
        row("negative count", 13, -1, {0x00, 0x00}, "negative entry count -1");
        row("count above n_t", 3, 4, {0x00, 0x00}, "entry count 4 > n_t = 3");
        row("removed not in prev", 13, 3, {0x01, 0x00, 0x03}, "removed list: removed index 3 is not in the previous record");
        row("removed past prev", 13, 3, {0x01, 0x00, 0x0A}, "removed list: removed index 10 is not in the previous record");
        row("removed twice", 13, 2, {0x02, 0x00, 0x02, 0x00}, "removed list: removed index 3 is not in the previous record");
        row("added already present", 13, 5, {0x00, 0x01, 0x05}, "added list: added index 5 is already in the previous record");
        row("added the removed one", 13, 4, {0x01, 0x01, 0x02, 0x02}, "added list: added index 2 is already in the previous record");
        row("added out of range", 13, 5, {0x00, 0x01, 0x0D}, "added list: token index 13 >= n_t = 13");
        row("added past 2^32", int64_t{1} << 32, 6, {0x00, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00},
            "added list: token index 4294967296 >= n_t = 4294967296");
        row("added truncated varint", 13, 5, {0x00, 0x01, 0x80},
            "added list: truncated varint: entry 0 at byte 2 runs past the end of the 3-byte BLOB");
        row("trailing bytes", 13, 5, {0x00, 0x01, 0x07, 0x00},
            "oversized BLOB: 4 bytes, index_step_delta with 0 removed and 1 added ends at byte 3 (trailing bytes)");
    }

    void refusals()
    {
        QFETCH(qlonglong, n);
        QFETCH(qlonglong, count);
        QFETCH(QByteArray, blob);
        QFETCH(QString, message);
        const Bytes b(blob.begin(), blob.end());
        QCOMPARE(deltaError(n, count, b, List{0, 2, 5, 9}), message);
    }

    // decodeRecord and encodeRecord have no previous record: a delta is refused, not misread.
    void refusedWithoutPrevious()
    {
        std::vector<uint32_t> index;
        std::vector<float> value;
        QCOMPARE(errorOf([&] { decodeRecord(Encoding::IndexStepDelta, 10, 0, Bytes{0x00, 0x00}, index, value); }),
                 QString("an index_step_delta record needs the record of its sequence and layer at the step before"));
        Bytes out;
        QCOMPARE(errorOf([&] { encodeRecord(Encoding::IndexStepDelta, 10, List{1}, std::vector<float>{1.0f}, out); }),
                 QString("an index_step_delta record is written against the record before it (encodeStepDelta)"));
    }

    // A build that knows no step-delta traces parsed traces.encoding with encodingFromString
    // (store_rows.cpp readRow before this change): the row's text is refused as a whole, so
    // such a build names the trace and the encoding instead of misreading a delta.
    void olderReadersRefuseTheTraceRow()
    {
        QCOMPARE(errorOf([] { encodingFromString("index_step_delta/64"); }),
                 QString("unknown encoding 'index_step_delta/64' (expected f32, f16, sparse_f32, sparse_f16, index_u32, "
                         "ranked_u32, index_varint, ranked_varint or index_step_delta)"));
        QCOMPARE(encodingFromString("index_step_delta"), Encoding::IndexStepDelta);   // a record's own name
    }

    // Random pairs of sets with every overlap from none to all: decode(encode) is the set.
    void randomRoundTrips()
    {
        std::mt19937_64 rng(5);
        for (int k = 0; k < 400; ++k) {
            const uint32_t n = 1 + static_cast<uint32_t>(rng() % 3000);
            const double keep = static_cast<double>(k % 11) / 10.0;
            List prev, next;
            for (uint32_t i = 0; i < n; ++i) {
                const bool inPrev = rng() % 4 == 0;
                if (inPrev) prev.push_back(i);
                const bool inNext = inPrev ? std::uniform_real_distribution<>(0, 1)(rng) < keep : rng() % 8 == 0;
                if (inNext) next.push_back(i);
            }
            const Bytes b = delta(prev, next);
            QCOMPARE(decoded(n, static_cast<int64_t>(next.size()), b, prev), next);
        }
    }

    void storedTraces_data()
    {
        QTest::addColumn<QString>("kind");
        for (const char* k : {"aggregated", "per-layer", "batch"}) QTest::newRow(k) << QString(k);
    }

    // The step-delta copy reads back as the index_varint one: whole, record by record, and
    // from every step 0 .. T (a reader starting mid-chain decodes from the key step before).
    void storedTraces()
    {
        QFETCH(QString, kind);
        const GeneratorParams p = shape(kind);
        const std::string db = test::scratchPath("delta-" + kind.toStdString() + ".sqlite");
        saveBoth(db, p);
        auto store = TraceStore::open(db, TraceStore::Mode::ReadOnly);
        const TraceSummary v = store->get("varint");
        const TraceSummary d = store->get("delta");
        QCOMPARE(d.encoding, Encoding::IndexStepDelta);
        QCOMPARE(d.key_interval, 4);
        QCOMPARE(encodingText(d), std::string("index_step_delta/4"));
        QCOMPARE(encodingText(v), std::string("index_varint"));
        QCOMPARE(d.records, v.records);
        QCOMPARE(d.entries, v.entries);   // count is the decoded set's size
        QVERIFY2(d.blob_bytes < v.blob_bytes, qPrintable(QString("%1 vs %2").arg(d.blob_bytes).arg(v.blob_bytes)));
        const int64_t perStep = int64_t{d.meta.layerSlots()} * d.meta.sequenceCount();
        QCOMPARE(d.meta.recordCount(), 23 * perStep);
        // Key records at every step t % 4 == 0, deltas only between.
        QCOMPARE(rawInt(db, "SELECT count(*) FROM records r JOIN traces t ON t.id = r.trace_id WHERE t.name = 'delta' "
                            "AND r.step % 4 = 0 AND r.encoding <> 'index_varint'"),
                 int64_t{0});
        const int64_t deltas = rawInt(db, "SELECT count(*) FROM records r JOIN traces t ON t.id = r.trace_id WHERE "
                                          "t.name = 'delta' AND r.encoding = 'index_step_delta'");
        QVERIFY2(deltas > 0 && deltas <= (23 - 6) * perStep, qPrintable(QString::number(deltas)));

        const Trace a = store->load("varint");
        const Trace b = store->load("delta");
        QCOMPARE(b.recordCount(), a.recordCount());
        for (size_t r = 0; r < static_cast<size_t>(a.recordCount()); ++r) {
            const auto x = a.indices(r), y = b.indices(r);
            QVERIFY2(std::equal(x.begin(), x.end(), y.begin(), y.end()), qPrintable(QString("record %1").arg(r)));
        }
        const auto whole = [&] {
            auto rd = store->reader("varint");
            return readAll(*rd);
        }();
        for (int64_t s = 0; s <= 23; ++s) {
            auto rd = store->reader("delta", s);
            const std::vector<Record> from = readAll(*rd);
            const std::vector<Record> want(whole.begin() + s * perStep, whole.end());
            QVERIFY2(sameRecords(from, want), qPrintable(QString("from step %1").arg(s)));
        }
        QCOMPARE(errorOf([&] { store->reader("delta", 24); }),
                 QString::fromStdString(db + " trace 'delta': reading from step 24 outside 0 .. T = 23"));
    }

    // K is the writer's choice (default 64, 1 .. 4096), recorded in traces.encoding.
    void keyInterval()
    {
        const std::string db = test::scratchPath("delta-k.sqlite");
        auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
        TraceMeta meta;
        meta.name = "d";
        meta.prefill = 4;
        meta.steps = 3;
        meta.kind = RecordKind::Selection;
        for (const int k : {0, 1}) {
            meta.name = "k" + std::to_string(k);
            auto w = store->beginTrace(meta, Encoding::IndexStepDelta, false, k);
            for (int64_t t = 0; t < 3; ++t) w->add(Record{t, 0, -1, {0, 1, 2}, {}});
            w->commit();
        }
        QCOMPARE(store->get("k0").key_interval, kDefaultKeyInterval);
        QCOMPARE(store->get("k1").key_interval, 1);
        // K = 1: every record a key; K = 64: steps 1 and 2 are the 2-byte "no change" delta.
        QCOMPARE(rawInt(db, "SELECT count(*) FROM records r JOIN traces t ON t.id = r.trace_id WHERE t.name = 'k1' AND "
                            "r.encoding = 'index_varint'"),
                 int64_t{3});
        QCOMPARE(rawInt(db, "SELECT sum(length(r.data)) FROM records r JOIN traces t ON t.id = r.trace_id WHERE "
                            "t.name = 'k0' AND r.step > 0 AND r.encoding = 'index_step_delta' AND r.count = 3"),
                 int64_t{4});
        for (const int k : {-1, 4097})
            QCOMPARE(errorOf([&] { store->beginTrace(meta, Encoding::IndexStepDelta, true, k); }),
                     QString::fromStdString(db + " trace 'k1': key interval K = " + std::to_string(k) +
                                            " outside 1 .. 4096"));
    }

    // The writer stores a key record where the delta would not be smaller: a set replaced
    // wholesale costs more as removed + added than as itself.
    void keyWhereDeltaIsLarger()
    {
        const std::string db = test::scratchPath("delta-larger.sqlite");
        auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
        TraceMeta meta;
        meta.name = "d";
        meta.prefill = 100;
        meta.steps = 3;
        meta.kind = RecordKind::Selection;
        auto w = store->beginTrace(meta, Encoding::IndexStepDelta, false, 64);
        w->add(Record{0, 0, -1, {0, 1, 2, 3}, {}});
        w->add(Record{1, 0, -1, {50, 51, 52, 53}, {}});   // delta 2 + 4 + 4 bytes > key 4 bytes
        w->add(Record{2, 0, -1, {50, 51, 52, 54}, {}});   // delta 01 01 35 36 = 4 bytes == key: key
        w->commit();
        QCOMPARE(rawInt(db, "SELECT count(*) FROM records WHERE encoding = 'index_varint'"), int64_t{3});
        const Trace t = store->load("d");
        QCOMPARE(std::vector<uint32_t>(t.indices(2).begin(), t.indices(2).end()), (List{50, 51, 52, 54}));
    }

    // A damaged file: one line naming the file, trace and record, never a misread.
    void hostileFile_data()
    {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QString>("message");
        QTest::newRow("delta at a key step") << "UPDATE records SET encoding = 'index_step_delta', data = x'0000' "
                                                "WHERE step = 4 AND layer = 1"
                                             << "%DB% trace 'delta' record (t=4, l=1): a delta record at step 4, where "
                                                "the key interval K = 4 puts a key record (no previous record to apply it to)";
        QTest::newRow("delta at step 0") << "UPDATE records SET encoding = 'index_step_delta', data = x'0000' "
                                            "WHERE step = 0 AND layer = 0"
                                         << "%DB% trace 'delta' record (t=0, l=0): a delta record at step 0, where "
                                            "the key interval K = 4 puts a key record (no previous record to apply it to)";
        QTest::newRow("removed not present") << "UPDATE records SET data = x'0100' || data WHERE step = 5 AND layer = 1"
                                             << "%DB% trace 'delta' record (t=5, l=1): ";
        QTest::newRow("count off by one") << "UPDATE records SET count = count + 1 WHERE step = 6 AND layer = 0"
                                          << "%DB% trace 'delta' record (t=6, l=0): count ";
        QTest::newRow("no key interval") << "UPDATE traces SET encoding = 'index_step_delta'"
                                         << "%DB% trace 'delta': encoding 'index_step_delta' without its key interval "
                                            "(index_step_delta/K)";
        QTest::newRow("K zero") << "UPDATE traces SET encoding = 'index_step_delta/0'"
                                << "%DB% trace 'delta': encoding 'index_step_delta/0': the key interval K must be a "
                                   "whole number in 1 .. 4096";
        QTest::newRow("K too large") << "UPDATE traces SET encoding = 'index_step_delta/99999999999999999999'"
                                     << "%DB% trace 'delta': encoding 'index_step_delta/99999999999999999999': the key "
                                        "interval K must be a whole number in 1 .. 4096";
        QTest::newRow("K not a number") << "UPDATE traces SET encoding = 'index_step_delta/4x'"
                                        << "%DB% trace 'delta': encoding 'index_step_delta/4x': the key interval K "
                                           "must be a whole number in 1 .. 4096";
        QTest::newRow("delta in a varint trace") << "UPDATE traces SET encoding = 'index_varint', entries = 0"
                                                 << "%DB% trace 'delta' record (t=1, l=0): an index_step_delta record in "
                                                    "a trace stored as index_varint (delta records belong to "
                                                    "index_step_delta/K traces)";
        QTest::newRow("entries beyond K x bytes") << "UPDATE traces SET entries = 4 * (SELECT sum(length(data)) FROM records) + 1"
                                                  << "%DB% trace 'delta': entries = ";
        QTest::newRow("record missing") << "DELETE FROM records WHERE step = 3 AND layer = 1"
                                        << "%DB% trace 'delta' record (t=3, l=1): record missing or misplaced";
    }

    void hostileFile()
    {
        QFETCH(QString, sql);
        QFETCH(QString, message);
        GeneratorParams p = shape("per-layer");
        const std::string db = test::scratchPath("delta-hostile.sqlite");
        std::filesystem::remove(db);
        {
            auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
            TraceMeta meta = generatorMeta(p);
            meta.name = "delta";
            auto w = store->beginTrace(meta, Encoding::IndexStepDelta, false, 4);
            generate(p, [&](const Record& r) { w->add(r); });
            w->commit();
        }
        // The rows the cases edit are deltas ((5, 2) is a key: its delta would be larger).
        QCOMPARE(rawInt(db, "SELECT count(*) FROM records WHERE encoding = 'index_step_delta' AND "
                            "((step = 5 AND layer = 1) OR (step = 6 AND layer = 0) OR (step = 1 AND layer = 0))"),
                 int64_t{3});
        QCOMPARE(rawInt(db, "SELECT count(*) FROM records WHERE encoding = 'index_varint' AND step = 5 AND layer = 2"),
                 int64_t{1});
        rawExec(db, sql.toStdString());
        const QString want = QString(message).replace("%DB%", QString::fromStdString(db));
        const QString got = errorOf([&] {
            auto store = TraceStore::open(db, TraceStore::Mode::ReadOnly);
            store->load("delta");
        });
        QVERIFY2(got.startsWith(want), qPrintable(got + "\n  expected to start with\n" + want));
        QVERIFY(!got.contains('\n'));
    }

    // tests/fuzz/corpus/record_blob's index_step_delta seeds (byte 0 = 8, make_corpus.py;
    // fuzz_record_blob.cpp): after the 13-byte head a u16 length m, m bytes of the previous
    // record as index_varint, then the delta. ok_* decodes, bad_* is refused.
    void fuzzSeedsBehaveAsNamed()
    {
        namespace fs = std::filesystem;
        const fs::path dir = fs::path(KVTIER_TEST_DATA_DIR).parent_path() / "fuzz" / "corpus" / "record_blob";
        int ok = 0, bad = 0;
        for (const auto& entry : fs::directory_iterator(dir)) {
            std::ifstream in(entry.path(), std::ios::binary);
            const Bytes file{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            QVERIFY(file.size() >= 13);
            if (file[0] % 9 != 8) continue;
            QVERIFY(file.size() >= 15);
            uint64_t n1 = 0, c = 0;
            for (int k = 0; k < 4; ++k) n1 |= uint64_t{file[1 + static_cast<size_t>(k)]} << (8 * k);
            for (int k = 0; k < 8; ++k) c |= uint64_t{file[5 + static_cast<size_t>(k)]} << (8 * k);
            const size_t m = file[13] | size_t{file[14]} << 8;
            const Bytes prevBlob(file.begin() + 15, file.begin() + 15 + static_cast<std::ptrdiff_t>(m));
            int64_t prevCount = 0;
            for (const unsigned char b : prevBlob) prevCount += (b & 0x80) == 0;
            List prev;
            std::vector<float> value;
            decodeRecord(Encoding::IndexVarint, static_cast<int64_t>(n1) + 1, prevCount, prevBlob, prev, value);
            QCOMPARE(prev, (List{0, 2, 5, 9}));
            const QString err = deltaError(static_cast<int64_t>(n1) + 1, static_cast<int64_t>(c),
                                           Bytes(file.begin() + 15 + static_cast<std::ptrdiff_t>(m), file.end()), prev);
            const std::string name = entry.path().filename().string();
            if (name.rfind("ok_", 0) == 0) {
                QVERIFY2(err == "<no error>", qPrintable(QString::fromStdString(name) + ": " + err));
                ++ok;
            } else {
                QVERIFY2(err != "<no error>" && !err.contains('\n'), qPrintable(QString::fromStdString(name) + ": " + err));
                ++bad;
            }
        }
        QCOMPARE(ok, 2);
        QCOMPARE(bad, 3);
    }

    void streamedSameAsWhole_data()
    {
        QTest::addColumn<int>("windowSteps");
        for (const int w : {1, 5, 7}) QTest::newRow(qPrintable(QString("window %1").arg(w))) << w;
    }

    // analyzeStreamed over the step-delta trace (K = 4, windows 1, 5, 7) gives the numbers of
    // the whole-trace analysis of its index_varint copy, bit for bit.
    void streamedSameAsWhole()
    {
        QFETCH(int, windowSteps);
        const std::string db = test::scratchPath("delta-stream.sqlite");
        if (!QFile::exists(QString::fromStdString(db))) saveBoth(db, shape("per-layer"));
        Scenario s;
        s.trace_db = db;
        s.trace_name = "varint";
        s.batch = 2;
        s.model.layers = 3;
        s.model.kv_bytes_per_token_layer = 64;
        s.model.weight_bytes = 4096;
        s.selection.mode = SelectionMode::Dense;
        const Tier hbm{"HBM", 4096 + 40.0 * 64 * 3, 2e6, kNoLink, kNoLink, 0};
        const Tier dram{"DRAM", 1e12, 4e5, 2e5, 2e5, 0};
        s.hardware.tiers = {hbm, dram};
        for (const PolicyEntry& e : policyRegistry())
            if (e.info.online) s.policies.push_back({e.info.name, {}});
        Pipeline pipe;
        const AnalysisResult whole = pipe.run(s);
        s.trace_name = "delta";
        StreamOptions o;
        o.window_steps = windowSteps;
        const StreamedAnalysis st = analyzeStreamed(s, o);
        QCOMPARE(st.report.windows, (23 + windowSteps - 1) / windowSteps);
        QVERIFY(same(whole.balanced->step_time, st.result.balanced->step_time));
        QVERIFY(same(whole.paper->total_time, st.result.paper->total_time));
        QCOMPARE(st.result.policies.size(), whole.policies.size());
        double lo = 1e300, hi = 0;
        for (size_t k = 0; k < whole.policies.size(); ++k) {
            const TimingResult& a = *whole.policies[k].timing;
            const TimingResult& b = *st.result.policies[k].timing;
            const QString n = QString::fromStdString(whole.policies[k].info.name);
            QVERIFY2(same(a.step_time, b.step_time), qPrintable(n));
            QVERIFY2(same(a.kv_read_bytes, b.kv_read_bytes) && same(a.migrated_bytes, b.migrated_bytes), qPrintable(n));
            lo = std::min(lo, a.total_time);
            hi = std::max(hi, a.total_time);
        }
        QVERIFY(hi > lo);   // the policies differ: not a vacuous comparison
    }
};

QTEST_GUILESS_MAIN(TestStepDelta)
#include "tst_step_delta.moc"
