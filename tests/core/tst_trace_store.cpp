// The SQLite trace store: schema, refusals with clear messages, every encoding written and
// read back (byte layout included), streaming order, validation, and transactions that
// leave the file untouched when an import fails.
#include "core/model/error.hpp"
#include "core/model/half.hpp"
#include "core/store/blob_codec.hpp"
#include "core/store/trace_store.hpp"
#include "test_support.hpp"

#include <sqlite3.h>

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include <bit>
#include <cmath>
#include <functional>
#include <limits>

using namespace kvtier;
using test::errorOf;
using test::freshStore;
using test::sha256;

Q_DECLARE_METATYPE(kvtier::Encoding)

namespace {

// Raw SQL on a database file, outside the store (to damage or inspect it).
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

QByteArray rawBlob(const std::string& path, int64_t step, int64_t layer)
{
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT data FROM records WHERE step = ?1 AND layer = ?2", -1, &s, nullptr);
    sqlite3_bind_int64(s, 1, step);
    sqlite3_bind_int64(s, 2, layer);
    QByteArray out;
    if (sqlite3_step(s) == SQLITE_ROW)
        out = QByteArray(static_cast<const char*>(sqlite3_column_blob(s, 0)), sqlite3_column_bytes(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

int64_t rawInt(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    int64_t v = -999;
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

TraceMeta meta(const std::string& name, int64_t P, int64_t T, LayerMode mode = LayerMode::Aggregated,
               int32_t L = 1, RecordKind kind = RecordKind::Scores)
{
    TraceMeta m;
    m.name = name;
    m.prefill = P;
    m.steps = T;
    m.layers = L;
    m.layer_mode = mode;
    m.kind = kind;
    m.description = "test trace " + name;
    m.model_name = "tiny";
    return m;
}

Record rec(int64_t t, int32_t l, std::vector<uint32_t> idx, std::vector<float> val)
{
    Record r;
    r.step = t;
    r.layer = l;
    r.index = std::move(idx);
    r.value = std::move(val);
    return r;
}

// A small aggregated score trace: P = 3, T = 3, with zeros, tiny and odd values.
void writeScores(TraceStore& s, const std::string& name, Encoding enc, bool replace = false)
{
    auto w = s.beginTrace(meta(name, 3, 3), enc, replace);
    w->add(rec(0, -1, {0, 2}, {0.5f, 0.25f}));
    w->add(rec(1, -1, {}, {}));
    w->add(rec(2, -1, {1, 3, 4}, {0.1f, 1.0f / 3.0f, 2.0f}));
    w->commit();
}

std::string freshDb(const std::string& name)
{
    const std::string p = test::scratchPath(name);
    QFile::remove(QString::fromStdString(p));
    return p;
}

} // namespace

class TestTraceStore : public QObject {
    Q_OBJECT
private slots:
    void halfHandValues_data();
    void halfHandValues();
    void halfRoundTripsEveryHalf();
    void halfToFloatHandValues();

    void newFileGetsSchema();
    void openMissingReadOnly();
    void openNotSqlite();
    void openForeignSqlite();
    void openEmptyFileReadOnly();
    void openNewerSchemaRefused();
    void openingCurrentVersionWritesNothing();

    void roundTrip_data();
    void roundTrip();
    void f16RoundingStored();
    void f16OverflowRefused();
    void blobLayout_data();
    void blobLayout();

    void readerStreamsInOrder();
    void truncatedBlob();
    void oversizedBlob();
    void unknownEncoding();
    void missingRecord();

    void writerValidation_data();
    void writerValidation();
    void commitCountsMissingRecords();
    void stepsUnknownUntilCommit();
    void encodingMustFitKind();

    void failedImportLeavesFileUnchanged();
    void droppedWriterRollsBack();
    void duplicateNameAndReplace();
    void failedReplaceKeepsOldTrace();
    void transactionIsAllOrNothing();
    void readOnlyStoreRefusesWrites();
    void listSummariesAndRemove();
};

// ---- half -------------------------------------------------------------------------------

void TestTraceStore::halfHandValues_data()
{
    QTest::addColumn<float>("in");
    QTest::addColumn<int>("half");
    QTest::newRow("one") << 1.0f << 0x3C00;
    QTest::newRow("minus two") << -2.0f << 0xC000;
    QTest::newRow("zero") << 0.0f << 0x0000;
    QTest::newRow("minus zero") << -0.0f << 0x8000;
    QTest::newRow("0.1 rounds down") << 0.1f << 0x2E66;               // 0.0999755859375
    QTest::newRow("1/3") << 1.0f / 3.0f << 0x3555;                      // 0.333251953125
    QTest::newRow("max half") << 65504.0f << 0x7BFF;
    QTest::newRow("below overflow tie") << 65519.0f << 0x7BFF;
    QTest::newRow("overflow tie to inf") << 65520.0f << 0x7C00;
    QTest::newRow("inf") << std::numeric_limits<float>::infinity() << 0x7C00;
    QTest::newRow("-inf") << -std::numeric_limits<float>::infinity() << 0xFC00;
    QTest::newRow("2049 ties to even 2048") << 2049.0f << 0x6800;
    QTest::newRow("2051 ties to even 2052") << 2051.0f << 0x6802;
    QTest::newRow("2050 exact") << 2050.0f << 0x6801;
    QTest::newRow("smallest normal 2^-14") << std::ldexp(1.0f, -14) << 0x0400;
    QTest::newRow("smallest subnormal 2^-24") << std::ldexp(1.0f, -24) << 0x0001;
    QTest::newRow("2^-25 ties to zero") << std::ldexp(1.0f, -25) << 0x0000;
    QTest::newRow("1.5 * 2^-25 rounds up") << std::ldexp(1.5f, -25) << 0x0001;
    QTest::newRow("3 * 2^-25 ties to even 2") << std::ldexp(3.0f, -25) << 0x0002;
    QTest::newRow("largest subnormal") << std::ldexp(1023.0f, -24) << 0x03FF;
    QTest::newRow("subnormal rounds into normal") << std::ldexp(1023.75f, -24) << 0x0400;
    QTest::newRow("1e-8 to zero") << 1e-8f << 0x0000;
    QTest::newRow("1 + 2^-11 ties to even 1") << 1.0f + std::ldexp(1.0f, -11) << 0x3C00;
    QTest::newRow("1 + 3 * 2^-11 ties up") << 1.0f + 3 * std::ldexp(1.0f, -11) << 0x3C02;
}

void TestTraceStore::halfHandValues()
{
    QFETCH(float, in);
    QFETCH(int, half);
    QCOMPARE(static_cast<int>(floatToHalf(in)), half);
}

void TestTraceStore::halfRoundTripsEveryHalf()
{
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = halfToFloat(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            QVERIFY(std::isnan(halfToFloat(floatToHalf(f))));
            continue;
        }
        QCOMPARE(static_cast<uint32_t>(floatToHalf(f)), h);
    }
    QVERIFY(std::isnan(halfToFloat(floatToHalf(std::numeric_limits<float>::quiet_NaN()))));
}

void TestTraceStore::halfToFloatHandValues()
{
    QCOMPARE(halfToFloat(0x3C00), 1.0f);
    QCOMPARE(halfToFloat(0x2E66), 0.0999755859375f);
    QCOMPARE(halfToFloat(0x3555), 0.333251953125f);
    QCOMPARE(halfToFloat(0x0001), std::ldexp(1.0f, -24));
    QCOMPARE(halfToFloat(0x03FF), std::ldexp(1023.0f, -24));
    QCOMPARE(halfToFloat(0x7BFF), 65504.0f);
    QVERIFY(std::isinf(halfToFloat(0x7C00)));
    QVERIFY(std::isnan(halfToFloat(0x7E00)));
    QCOMPARE(std::bit_cast<uint32_t>(halfToFloat(0x8000)), 0x80000000u);
}

// ---- opening ----------------------------------------------------------------------------

void TestTraceStore::newFileGetsSchema()
{
    const std::string p = freshDb("schema.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); QVERIFY(s->list().empty()); }
    QCOMPARE(rawInt(p, "PRAGMA application_id"), int64_t{0x4B565452});
    QCOMPARE(rawInt(p, "PRAGMA user_version"), int64_t{kSchemaVersion});
    QCOMPARE(rawInt(p, "SELECT CAST(value AS INTEGER) FROM kvtier_meta WHERE key = 'schema_version'"), int64_t{kSchemaVersion});
    QCOMPARE(rawInt(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('kvtier_meta', 'traces', 'records', "
                       "'trace_sequences', 'trace_experts', 'expert_sets')"),
             int64_t{6});
    // records is WITHOUT ROWID, keyed by (trace_id, step, sequence, layer).
    QCOMPARE(rawInt(p, "SELECT instr(sql, 'WITHOUT ROWID') > 0 FROM sqlite_master WHERE name = 'records'"), int64_t{1});
    // Write-ahead log (readers never wait for a writer, nor need one after a crash); once
    // the last connection closes the database is one shareable file again.
    QCOMPARE(rawInt(p, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), int64_t{1});
    QVERIFY(!QFileInfo::exists(QString::fromStdString(p + "-wal")));
    QVERIFY(!QFileInfo::exists(QString::fromStdString(p + "-shm")));
    // Reopening read-only works.
    auto ro = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QVERIFY(ro->list().empty());
}

void TestTraceStore::openMissingReadOnly()
{
    const std::string p = test::scratchPath("does-not-exist.kvtr");
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadOnly); }),
             QString::fromStdString(p + ": no such file"));
    QVERIFY(!QFileInfo::exists(QString::fromStdString(p)));
}

void TestTraceStore::openNotSqlite()
{
    const std::string p = test::writeScratch("notes.txt", std::string(2000, 'x') + "\nthis is not a database\n");
    const QString want = QString::fromStdString(p + ": not a SQLite database");
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadOnly); }), want);
    const QByteArray before = sha256(p);
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadWrite); }), want);
    QCOMPARE(sha256(p), before);
    // A short text file too.
    const std::string shortFile = test::writeScratch("short.txt", "hello\n");
    QCOMPARE(errorOf([&] { TraceStore::open(shortFile, TraceStore::Mode::ReadOnly); }),
             QString::fromStdString(shortFile + ": not a SQLite database"));
}

void TestTraceStore::openForeignSqlite()
{
    const std::string p = freshDb("foreign.sqlite");
    rawExec(p, "CREATE TABLE photos(id INTEGER PRIMARY KEY, path TEXT)");
    const QByteArray before = sha256(p);
    const QString want = QString::fromStdString(p + ": not a kvtier trace database");
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadOnly); }), want);
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadWrite); }), want);
    QCOMPARE(sha256(p), before);   // never adds our tables to someone else's database

    const std::string other = freshDb("other-app.sqlite");
    rawExec(other, "PRAGMA application_id = 1234; CREATE TABLE t(x)");
    QVERIFY(errorOf([&] { TraceStore::open(other, TraceStore::Mode::ReadOnly); })
                .contains("not a kvtier trace database (SQLite application id 0x000004D2)"));
}

void TestTraceStore::openEmptyFileReadOnly()
{
    const std::string p = test::writeScratch("empty.kvtr", "");
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadOnly); }),
             QString::fromStdString(p + ": not a kvtier trace database (empty file)"));
    // Read-write turns the empty file into a trace database.
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    QVERIFY(s->list().empty());
}

void TestTraceStore::openNewerSchemaRefused()
{
    const std::string p = freshDb("newer.kvtr");
    {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
        writeScores(*s, "a", Encoding::SparseF32);
    }
    rawExec(p, "UPDATE kvtier_meta SET value = '3' WHERE key = 'schema_version'");
    const QByteArray before = sha256(p);
    const QString want = QString::fromStdString(
        p + ": written by a newer kvtier (schema version 3, this build reads up to 2); please upgrade");
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadOnly); }), want);
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadWrite); }), want);
    QCOMPARE(sha256(p), before);
}

void TestTraceStore::openingCurrentVersionWritesNothing()
{
    const std::string p = freshDb("stable.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeScores(*s, "a", Encoding::DenseF32); }
    const QByteArray before = sha256(p);
    {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
        QCOMPARE(s->list().size(), size_t{1});
        (void)s->load("a");
    }
    QCOMPARE(sha256(p), before);
}

// ---- round trips ------------------------------------------------------------------------

void TestTraceStore::roundTrip_data()
{
    QTest::addColumn<Encoding>("encoding");
    QTest::addColumn<bool>("perLayer");
    for (Encoding e : {Encoding::DenseF32, Encoding::DenseF16, Encoding::SparseF32, Encoding::SparseF16})
        for (bool pl : {false, true})
            QTest::addRow("%s %s", toString(e), pl ? "per-layer" : "aggregated") << e << pl;
    QTest::addRow("index_u32 selection per-layer") << Encoding::IndexU32 << true;
    QTest::addRow("index_u32 selection aggregated") << Encoding::IndexU32 << false;
}

void TestTraceStore::roundTrip()
{
    QFETCH(Encoding, encoding);
    QFETCH(bool, perLayer);
    const bool selection = encoding == Encoding::IndexU32;
    const bool f16 = encoding == Encoding::DenseF16 || encoding == Encoding::SparseF16;
    const int32_t L = perLayer ? 3 : 2;
    TraceMeta m = meta("rt", 4, 5, perLayer ? LayerMode::PerLayer : LayerMode::Aggregated, L,
                       selection ? RecordKind::Selection : RecordKind::Scores);
    m.source = "unit test";
    m.notes = "notes";
    m.head_reduction = "max";

    // Deterministic records with zeros, tiny values, exact and inexact halves.
    std::vector<Record> written;
    for (int64_t t = 0; t < m.steps; ++t)
        for (int32_t slot = 0; slot < m.layerSlots(); ++slot) {
            Record r;
            r.step = t;
            r.layer = perLayer ? slot : -1;
            const int64_t n = m.contextAt(t);
            for (int64_t i = 0; i < n; ++i) {
                if ((i + t + slot) % 3 == 0) continue;
                r.index.push_back(static_cast<uint32_t>(i));
                r.value.push_back(selection ? 1.0f : static_cast<float>(i + 1) / static_cast<float>(7 * (t + slot + 1)));
            }
            written.push_back(r);
        }
    const std::string p = freshDb("roundtrip.kvtr");
    {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
        auto w = s->beginTrace(m, encoding);
        for (const auto& r : written) w->add(r);
        w->commit();
    }
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    const TraceSummary sum = s->get("rt");
    QCOMPARE(sum.encoding, encoding);
    QCOMPARE(sum.records, m.recordCount());
    QCOMPARE(sum.meta.prefill, m.prefill);
    QCOMPARE(sum.meta.steps, m.steps);
    QCOMPARE(sum.meta.layers, m.layers);
    QCOMPARE(sum.meta.layer_mode, m.layer_mode);
    QCOMPARE(sum.meta.kind, m.kind);
    QCOMPARE(sum.meta.description, m.description);
    QCOMPARE(sum.meta.source, m.source);
    QCOMPARE(sum.meta.notes, m.notes);
    QCOMPARE(sum.meta.model_name, m.model_name);
    QCOMPARE(sum.meta.head_reduction, m.head_reduction);

    const Trace tr = s->load("rt");
    QVERIFY(tr.complete());
    QCOMPARE(tr.recordCount(), m.recordCount());
    size_t entries = 0;
    for (size_t k = 0; k < written.size(); ++k) {
        const auto idx = tr.indices(k);
        const auto val = tr.values(k);
        QCOMPARE(idx.size(), written[k].index.size());
        for (size_t j = 0; j < idx.size(); ++j) {
            QCOMPARE(idx[j], written[k].index[j]);
            const float want = f16 ? halfToFloat(floatToHalf(written[k].value[j])) : written[k].value[j];
            QCOMPARE(std::bit_cast<uint32_t>(val[j]), std::bit_cast<uint32_t>(want));   // bit-exact
        }
        entries += idx.size();
    }
    QCOMPARE(sum.entries, static_cast<int64_t>(entries));
}

void TestTraceStore::f16RoundingStored()
{
    const std::string p = freshDb("f16.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    for (Encoding e : {Encoding::DenseF16, Encoding::SparseF16}) {
        const std::string name = toString(e);
        auto w = s->beginTrace(meta(name, 6, 1), e);
        // 1e-8 is below half of the smallest half: it becomes 0 and is dropped on load.
        w->add(rec(0, -1, {0, 1, 2, 3, 4, 5}, {0.1f, 1.0f / 3.0f, 1e-8f, 65504.0f, 2049.0f, std::ldexp(1.5f, -25)}));
        w->commit();
        const Trace tr = s->load(name);
        const auto idx = tr.indices(0);
        const auto val = tr.values(0);
        QCOMPARE(std::vector<uint32_t>(idx.begin(), idx.end()), (std::vector<uint32_t>{0, 1, 3, 4, 5}));
        QCOMPARE(val[0], 0.0999755859375f);
        QCOMPARE(val[1], 0.333251953125f);
        QCOMPARE(val[2], 65504.0f);
        QCOMPARE(val[3], 2048.0f);
        QCOMPARE(val[4], std::ldexp(1.0f, -24));
        QCOMPARE(s->get(name).entries, int64_t{5});
    }
}

void TestTraceStore::f16OverflowRefused()
{
    const std::string p = freshDb("f16-overflow.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    auto w = s->beginTrace(meta("big", 2, 1), Encoding::SparseF16);
    const QString err = errorOf([&] { w->add(rec(0, -1, {1}, {70000.0f})); });
    QVERIFY2(err.contains("trace 'big' record (t=0, l=-1): score 70000.000000 of token 1 exceeds the f16 range"),
             qPrintable(err));
}

void TestTraceStore::blobLayout_data()
{
    QTest::addColumn<Encoding>("encoding");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("count");
    // Record at n_t = 3: token 0 -> 1.0, token 2 -> 0.5 (token 1 is zero).
    QTest::newRow("f32") << Encoding::DenseF32
                         << QByteArray::fromHex("0000803f" "00000000" "0000003f") << 3;
    QTest::newRow("f16") << Encoding::DenseF16 << QByteArray::fromHex("003c" "0000" "0038") << 3;
    QTest::newRow("sparse_f32") << Encoding::SparseF32
                                << QByteArray::fromHex("00000000" "0000803f" "02000000" "0000003f") << 2;
    QTest::newRow("sparse_f16") << Encoding::SparseF16
                                << QByteArray::fromHex("00000000" "02000000" "003c" "0038") << 2;
    QTest::newRow("index_u32") << Encoding::IndexU32 << QByteArray::fromHex("00000000" "02000000") << 2;
}

void TestTraceStore::blobLayout()
{
    QFETCH(Encoding, encoding);
    QFETCH(QByteArray, bytes);
    QFETCH(int, count);
    const std::string p = freshDb("layout.kvtr");
    {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
        const bool sel = encoding == Encoding::IndexU32;
        auto w = s->beginTrace(meta("x", 3, 1, LayerMode::Aggregated, 1, sel ? RecordKind::Selection : RecordKind::Scores),
                               encoding);
        w->add(sel ? rec(0, -1, {0, 2}, {}) : rec(0, -1, {0, 2}, {1.0f, 0.5f}));
        w->commit();
    }
    QCOMPARE(rawBlob(p, 0, -1), bytes);
    QCOMPARE(rawInt(p, "SELECT count FROM records"), int64_t{count});
    QCOMPARE(rawInt(p, std::string("SELECT encoding = '") + toString(encoding) + "' FROM records"), int64_t{1});
    // And the codec agrees in both directions.
    std::vector<uint32_t> idx;
    std::vector<float> val;
    decodeRecord(encoding, 3, count,
                 std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(bytes.constData()),
                                                static_cast<size_t>(bytes.size())),
                 idx, val);
    QCOMPARE(idx, (std::vector<uint32_t>{0, 2}));
    QCOMPARE(val, (encoding == Encoding::IndexU32 ? std::vector<float>{1.0f, 1.0f} : std::vector<float>{1.0f, 0.5f}));
}

// ---- reading ----------------------------------------------------------------------------

void TestTraceStore::readerStreamsInOrder()
{
    const std::string p = freshDb("order.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    {
        auto w = s->beginTrace(meta("pl", 2, 3, LayerMode::PerLayer, 4), Encoding::SparseF32);
        for (int64_t t = 0; t < 3; ++t)
            for (int32_t l = 0; l < 4; ++l)
                w->add(rec(t, l, {static_cast<uint32_t>(t)}, {static_cast<float>(10 * t + l + 1)}));
        w->commit();
    }
    auto r = s->reader("pl");
    QCOMPARE(r->meta().name, std::string("pl"));
    Record x;
    int64_t k = 0;
    while (r->next(x)) {
        QCOMPARE(x.step, k / 4);
        QCOMPARE(x.layer, static_cast<int32_t>(k % 4));
        QCOMPARE(x.index, (std::vector<uint32_t>{static_cast<uint32_t>(x.step)}));
        QCOMPARE(x.value, (std::vector<float>{static_cast<float>(10 * x.step + x.layer + 1)}));
        ++k;
    }
    QCOMPARE(k, int64_t{12});
    QVERIFY(!r->next(x));   // stays at the end
    // The statement orders by (step, layer) whatever order SQLite stored the rows in.
    const Trace tr = s->load("pl");
    QCOMPARE(tr.valueAt(tr.recordId(2, 3), 2), 24.0f);
}

void TestTraceStore::truncatedBlob()
{
    const std::string p = freshDb("truncated.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeScores(*s, "bad", Encoding::SparseF32); }
    rawExec(p, "UPDATE records SET data = substr(data, 1, 5) WHERE step = 2");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    const QString want = QString::fromStdString(
        p + " trace 'bad' record (t=2, l=-1): truncated BLOB: 5 bytes, sparse_f32 with count 3 needs 24");
    QCOMPARE(errorOf([&] { s->load("bad"); }), want);
    // The reader delivers the good records before the damaged one.
    auto r = s->reader("bad");
    Record x;
    QVERIFY(r->next(x));
    QVERIFY(r->next(x));
    QCOMPARE(errorOf([&] { r->next(x); }), want);
}

void TestTraceStore::oversizedBlob()
{
    const std::string p = freshDb("oversized.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeScores(*s, "bad", Encoding::DenseF16); }
    rawExec(p, "UPDATE records SET data = data || x'0000' WHERE step = 0");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(errorOf([&] { s->load("bad"); }),
             QString::fromStdString(p + " trace 'bad' record (t=0, l=-1): oversized BLOB: 8 bytes, f16 with count 3 needs 6"));
}

void TestTraceStore::unknownEncoding()
{
    const std::string p = freshDb("unknown-enc.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeScores(*s, "bad", Encoding::SparseF32); }
    rawExec(p, "UPDATE records SET encoding = 'bf16' WHERE step = 1");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(errorOf([&] { s->load("bad"); }),
             QString::fromStdString(p + " trace 'bad' record (t=1, l=-1): unknown encoding 'bf16'"));
}

void TestTraceStore::missingRecord()
{
    const std::string p = freshDb("missing.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeScores(*s, "gap", Encoding::SparseF32); }
    rawExec(p, "DELETE FROM records WHERE step = 1");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QVERIFY(errorOf([&] { s->load("gap"); }).startsWith(QString::fromStdString(p + " trace 'gap' record (t=1, l=-1): record missing")));
    rawExec(p, "DELETE FROM records WHERE step = 2");
    auto s2 = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QVERIFY(errorOf([&] { s2->load("gap"); }).contains("record missing (the trace has 1 of 3 records)"));
}

// ---- writing ----------------------------------------------------------------------------

void TestTraceStore::writerValidation_data()
{
    QTest::addColumn<bool>("perLayer");
    QTest::addColumn<bool>("selection");
    QTest::addColumn<int>("step");
    QTest::addColumn<int>("layer");
    QTest::addColumn<QList<int>>("index");
    QTest::addColumn<QList<float>>("value");
    QTest::addColumn<QString>("error");
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    // Trace: P = 2, T = 2; the first record (t=0) is already written, so n_t = 3 here.
    QTest::newRow("step out of order") << false << false << 0 << -1 << QList<int>{} << QList<float>{}
                                       << "record (t=0, l=-1): out of order: expected (t=1, l=-1)";
    QTest::newRow("skipped step") << false << false << 2 << -1 << QList<int>{} << QList<float>{}
                                  << "record (t=2, l=-1): out of order: expected (t=1, l=-1)";
    QTest::newRow("layer in aggregated") << false << false << 1 << 0 << QList<int>{} << QList<float>{}
                                         << "record (t=1, l=0): layer 0 in an aggregated trace (must be -1)";
    QTest::newRow("layer out of range") << true << false << 0 << 2 << QList<int>{} << QList<float>{}
                                        << "record (t=0, l=2): layer 2 outside 0..1";
    QTest::newRow("layer order") << true << false << 1 << 0 << QList<int>{} << QList<float>{}
                                 << "record (t=1, l=0): out of order: expected (t=0, l=1)";
    QTest::newRow("index >= n_t") << false << false << 1 << -1 << QList<int>{3} << QList<float>{1}
                                  << "record (t=1, l=-1): token index 3 >= n_t = 3";
    QTest::newRow("not ascending") << false << false << 1 << -1 << QList<int>{2, 1} << QList<float>{1, 1}
                                   << "record (t=1, l=-1): token indices not strictly ascending (2 then 1)";
    QTest::newRow("duplicate") << false << false << 1 << -1 << QList<int>{1, 1} << QList<float>{1, 1}
                               << "token indices not strictly ascending (1 then 1)";
    QTest::newRow("NaN") << false << false << 1 << -1 << QList<int>{0, 2} << QList<float>{1, nan}
                         << "record (t=1, l=-1): score of token 2 is NaN";
    QTest::newRow("negative") << false << false << 1 << -1 << QList<int>{1} << QList<float>{-0.5f}
                              << "record (t=1, l=-1): score of token 1 is negative (-0.500000)";
    QTest::newRow("infinite") << false << false << 1 << -1 << QList<int>{1} << QList<float>{inf}
                              << "score of token 1 is infinite";
    QTest::newRow("lengths differ") << false << false << 1 << -1 << QList<int>{1, 2} << QList<float>{1}
                                    << "index and value lengths differ (2 vs 1)";
    QTest::newRow("selection value") << false << true << 1 << -1 << QList<int>{1} << QList<float>{0.5f}
                                     << "selection value of token 1 is 0.500000, expected 1";
}

void TestTraceStore::writerValidation()
{
    QFETCH(bool, perLayer);
    QFETCH(bool, selection);
    QFETCH(int, step);
    QFETCH(int, layer);
    QFETCH(QList<int>, index);
    QFETCH(QList<float>, value);
    QFETCH(QString, error);
    const std::string p = freshDb("validation.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    auto w = s->beginTrace(meta("v", 2, 2, perLayer ? LayerMode::PerLayer : LayerMode::Aggregated, 2,
                                selection ? RecordKind::Selection : RecordKind::Scores),
                           selection ? Encoding::IndexU32 : Encoding::SparseF32);
    w->add(rec(0, perLayer ? 0 : -1, {}, {}));
    Record r;
    r.step = step;
    r.layer = layer;
    for (int i : index) r.index.push_back(static_cast<uint32_t>(i));
    for (float v : value) r.value.push_back(v);
    const QString got = errorOf([&] { w->add(r); });
    QVERIFY2(got.startsWith(QString::fromStdString(p + " trace 'v' ")), qPrintable(got));
    QVERIFY2(got.contains(error), qPrintable(got));
}

void TestTraceStore::commitCountsMissingRecords()
{
    const std::string p = freshDb("incomplete.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    auto w = s->beginTrace(meta("inc", 2, 2, LayerMode::PerLayer, 3), Encoding::SparseF32);
    w->add(rec(0, 0, {}, {}));
    w->add(rec(0, 1, {1}, {1.0f}));
    w->add(rec(0, 2, {}, {}));
    w->add(rec(1, 0, {}, {}));
    QCOMPARE(errorOf([&] { w->commit(); }),
             QString::fromStdString(p + " trace 'inc': incomplete trace: 2 records missing (have 4 of 6)"));
    w.reset();
    QVERIFY(!s->find("inc"));
    auto w2 = s->beginTrace(meta("over", 2, 1), Encoding::SparseF32);
    w2->add(rec(0, -1, {}, {}));
    QCOMPARE(errorOf([&] { w2->add(rec(1, -1, {}, {})); }),
             QString::fromStdString(p + " trace 'over' record (t=1, l=-1): more records than T=1"));
}

void TestTraceStore::stepsUnknownUntilCommit()
{
    const std::string p = freshDb("open-steps.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    {
        auto w = s->beginTrace(meta("open", 1, -1, LayerMode::PerLayer, 2), Encoding::SparseF32);
        for (int64_t t = 0; t < 4; ++t)
            for (int32_t l = 0; l < 2; ++l) w->add(rec(t, l, {0}, {1.0f}));
        w->commit();
    }
    QCOMPARE(s->get("open").meta.steps, int64_t{4});
    QCOMPARE(s->load("open").recordCount(), int64_t{8});
    auto w = s->beginTrace(meta("half", 1, -1, LayerMode::PerLayer, 2), Encoding::SparseF32);
    w->add(rec(0, 0, {}, {}));
    QVERIFY(errorOf([&] { w->commit(); }).contains("incomplete last step t=0: 1 of 2 layers"));
}

void TestTraceStore::encodingMustFitKind()
{
    const std::string p = freshDb("kind.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    QVERIFY(errorOf([&] { s->beginTrace(meta("a", 1, 1, LayerMode::Aggregated, 1, RecordKind::Selection), Encoding::DenseF32); })
                .contains("selection traces are stored as index_u32, not f32"));
    QVERIFY(errorOf([&] { s->beginTrace(meta("b", 1, 1), Encoding::IndexU32); })
                .contains("score traces cannot be stored as index_u32"));
    QVERIFY(errorOf([&] { s->beginTrace(meta("", 1, 1), Encoding::DenseF32); }).contains("trace name is empty"));
    QVERIFY(errorOf([&] { s->beginTrace(meta("a\nb", 1, 1), Encoding::DenseF32); }).contains("control character"));
    QVERIFY(s->list().empty());
}

void TestTraceStore::failedImportLeavesFileUnchanged()
{
    const std::string p = freshDb("atomic.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeScores(*s, "keep", Encoding::SparseF32); }
    const QByteArray before = sha256(p);
    const qint64 sizeBefore = QFileInfo(QString::fromStdString(p)).size();
    {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
        // A tiny page cache makes SQLite spill uncommitted pages into the write-ahead log
        // before the failure; the rollback has to leave them unused.
        QCOMPARE(sqlite3_exec(s->handle(), "PRAGMA cache_size = 4", nullptr, nullptr, nullptr), SQLITE_OK);
        auto w = s->beginTrace(meta("broken", 100, 400), Encoding::DenseF32);
        // Enough data to grow the file and spill pages before the failure.
        for (int64_t t = 0; t < 300; ++t) {
            Record r;
            r.step = t;
            for (uint32_t i = 0; i < 100 + t; ++i) {
                r.index.push_back(i);
                r.value.push_back(1.0f / static_cast<float>(i + 1));
            }
            w->add(r);
        }
        QVERIFY(QFileInfo(QString::fromStdString(p + "-wal")).size() > 100000);   // it did spill
        QCOMPARE(QFileInfo(QString::fromStdString(p)).size(), sizeBefore);   // into the log only
        Record bad = rec(300, -1, {5}, {std::numeric_limits<float>::quiet_NaN()});
        QVERIFY(errorOf([&] { w->add(bad); }).contains("record (t=300, l=-1): score of token 5 is NaN"));
        // The importer's exception unwinds: the writer goes away without commit().
    }
    QCOMPARE(QFileInfo(QString::fromStdString(p)).size(), sizeBefore);
    QCOMPARE(sha256(p), before);
    QVERIFY(!QFileInfo::exists(QString::fromStdString(p + "-journal")));
    QVERIFY(!QFileInfo::exists(QString::fromStdString(p + "-wal")));
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(s->list().size(), size_t{1});
    const Trace tr = s->load("keep");
    QCOMPARE(tr.valueAt(2, 4), 2.0f);
}

void TestTraceStore::droppedWriterRollsBack()
{
    const std::string p = freshDb("dropped.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    {
        auto w = s->beginTrace(meta("never", 1, 1), Encoding::DenseF32);
        w->add(rec(0, -1, {0}, {1.0f}));
    }
    QVERIFY(!s->find("never"));
    writeScores(*s, "after", Encoding::SparseF16);   // the connection is usable again
    QVERIFY(s->find("after"));
}

void TestTraceStore::duplicateNameAndReplace()
{
    const std::string p = freshDb("dup.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    writeScores(*s, "a", Encoding::SparseF32);
    QCOMPARE(errorOf([&] { writeScores(*s, "a", Encoding::SparseF32); }),
             QString::fromStdString(p + ": trace 'a' already exists (use --replace to overwrite it)"));
    writeScores(*s, "a", Encoding::DenseF16, /*replace=*/true);
    QCOMPARE(s->list().size(), size_t{1});
    QCOMPARE(s->get("a").encoding, Encoding::DenseF16);
    QCOMPARE(rawInt(p, "SELECT count(*) FROM records"), int64_t{3});   // old records gone
}

void TestTraceStore::failedReplaceKeepsOldTrace()
{
    const std::string p = freshDb("replace-fail.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    writeScores(*s, "a", Encoding::SparseF32);
    {
        auto w = s->beginTrace(meta("a", 3, 3), Encoding::DenseF32, true);
        w->add(rec(0, -1, {0}, {9.0f}));
        QVERIFY(errorOf([&] { w->commit(); }).contains("2 records missing"));
    }
    const Trace tr = s->load("a");
    QCOMPARE(tr.valueAt(0, 0), 0.5f);
    QCOMPARE(s->get("a").encoding, Encoding::SparseF32);
}

void TestTraceStore::transactionIsAllOrNothing()
{
    const std::string p = freshDb("tx.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    {
        auto tx = s->transaction();
        writeScores(*s, "one", Encoding::SparseF32);
        auto w = s->beginTrace(meta("two", 1, 2), Encoding::SparseF32);
        w->add(rec(0, -1, {}, {}));
        QVERIFY(errorOf([&] { w->commit(); }).contains("1 record missing (have 1 of 2)"));
        w.reset();
        QVERIFY(s->find("one"));   // visible inside the transaction
    }
    QVERIFY(s->list().empty());   // rolled back with it
    {
        auto tx = s->transaction();
        writeScores(*s, "one", Encoding::SparseF32);
        writeScores(*s, "two", Encoding::SparseF32);
        tx->commit();
    }
    QCOMPARE(s->list().size(), size_t{2});
}

void TestTraceStore::readOnlyStoreRefusesWrites()
{
    const std::string p = freshDb("ro.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); }
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(errorOf([&] { s->beginTrace(meta("x", 1, 1), Encoding::DenseF32); }),
             QString::fromStdString(p + ": opened read-only; cannot write"));
}

void TestTraceStore::listSummariesAndRemove()
{
    const std::string p = freshDb("list.kvtr");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    writeScores(*s, "zeta", Encoding::DenseF32);
    writeScores(*s, "alpha", Encoding::SparseF32);
    const auto all = s->list();
    QCOMPARE(all.size(), size_t{2});
    QCOMPARE(all[0].meta.name, std::string("alpha"));   // by name
    QCOMPARE(all[1].meta.name, std::string("zeta"));
    QCOMPARE(all[0].records, int64_t{3});
    QCOMPARE(all[0].entries, int64_t{5});
    QCOMPARE(all[0].blob_bytes, int64_t{8 * 5});
    // dense: n_t floats per step, except the all-zero step, stored as an empty sparse_f32
    QCOMPARE(all[1].blob_bytes, int64_t{4 * (3 + 5)});
    QCOMPARE(all[1].entries, int64_t{5});
    QVERIFY(QRegularExpression("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$")
                .match(QString::fromStdString(all[0].created_at)).hasMatch());
    QVERIFY(!s->find("nope"));
    QCOMPARE(errorOf([&] { s->get("nope"); }), QString::fromStdString(p + ": no trace named 'nope'"));
    s->remove("zeta");
    QCOMPARE(s->list().size(), size_t{1});
    QCOMPARE(rawInt(p, "SELECT count(*) FROM records"), int64_t{3});
    QCOMPARE(errorOf([&] { s->remove("zeta"); }), QString::fromStdString(p + ": no trace named 'zeta'"));
}

QTEST_GUILESS_MAIN(TestTraceStore)
#include "tst_trace_store.moc"
