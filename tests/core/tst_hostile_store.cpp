// Hostile trace databases: every integer the store reads is range-checked before it is
// used as a size, a divisor or a count, so a damaged or malicious file gives one clear
// error naming the file, the trace and the field — never a crash, a wrap or a huge
// allocation (docs/TRACE_FORMAT.md "Limits", docs/HOSTILE_INPUTS.md).
#include "core/io/import_db.hpp"
#include "core/model/error.hpp"
#include "core/store/blob_codec.hpp"
#include "core/store/trace_store.hpp"
#include "test_support.hpp"

#include <sqlite3.h>

#include <QFile>
#include <QtTest>

#include <cstdint>
#include <limits>

using namespace kvtier;
using test::errorOf;

namespace {

// Raw SQL on a database file, outside the store. CHECK constraints are switched off so
// that the test can write what a hand-made or damaged file may hold.
void rawExec(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, ("PRAGMA ignore_check_constraints = ON; " + sql).c_str(), nullptr, nullptr, &err);
    const QString msg = err ? QString::fromUtf8(err) : QString();
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, qPrintable(msg));
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

// A per-layer selection trace, P = 3, T = 2, L = 2, stored as index_u32.
std::string perLayerDb(const std::string& file)
{
    const std::string p = test::scratchPath(file);
    QFile::remove(QString::fromStdString(p));
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    TraceMeta m;
    m.name = "x";
    m.prefill = 3;
    m.steps = 2;
    m.layers = 2;
    m.layer_mode = LayerMode::PerLayer;
    m.kind = RecordKind::Selection;
    auto w = s->beginTrace(m, Encoding::IndexU32);
    w->add(rec(0, 0, {0, 2}, {}));
    w->add(rec(0, 1, {1}, {}));
    w->add(rec(1, 0, {3}, {}));
    w->add(rec(1, 1, {}, {}));
    w->commit();
    return p;
}

// An aggregated dense f32 score trace, P = 3, T = 2.
std::string denseDb(const std::string& file)
{
    const std::string p = test::scratchPath(file);
    QFile::remove(QString::fromStdString(p));
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    TraceMeta m;
    m.name = "x";
    m.prefill = 3;
    m.steps = 2;
    auto w = s->beginTrace(m, Encoding::DenseF32);
    w->add(rec(0, -1, {0, 2}, {0.5f, 0.25f}));
    w->add(rec(1, -1, {3}, {1.0f}));
    w->commit();
    return p;
}

// The error of every way of reading trace 'x': load, stream, summary, copy.
QString loadError(const std::string& p) { return errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadOnly)->load("x"); }); }

} // namespace

class TestHostileStore : public QObject {
    Q_OBJECT
private slots:
    void countThatWrapsTheBlobSize();
    void countThatWrapsTheBlobSizeInTheCodec();
    void layersZero();
    void layersBeyondInt32();
    void prefillBeyondTheTokenLimit();
    void stepsNegative();
    void entriesHintBeyondTheStoredBytes();
    void recordCountsAgainstTheFile();
    void copyFromAHostileDatabase();
    void writerRefusesPrefillNearInt64Max();
    void errorsStayShort();
    void damagedSchemaQuotedOnOneLine();
};

// SEEN: count = 2^62 with a matching prefill made 4 * count wrap to 0, an empty BLOB passed
// the length check and the decoder read far beyond it (SIGSEGV in import/info/analyze).
void TestHostileStore::countThatWrapsTheBlobSize()
{
    const std::string p = denseDb("wrap.kvtr");
    rawExec(p, "UPDATE traces SET prefill = 4611686018427387904; "
               "UPDATE records SET count = 4611686018427387904 + step, data = x''");
    const QString e = loadError(p);
    QVERIFY2(e.startsWith(QString::fromStdString(p + " trace 'x': prefill P = 4611686018427387904")), qPrintable(e));
}

void TestHostileStore::countThatWrapsTheBlobSizeInTheCodec()
{
    std::vector<uint32_t> idx;
    std::vector<float> val;
    const int64_t huge = int64_t{1} << 62;
    const std::vector<unsigned char> empty;
    for (Encoding enc : {Encoding::DenseF32, Encoding::DenseF16, Encoding::IndexU32, Encoding::SparseF32}) {
        const QString e = errorOf([&] { decodeRecord(enc, huge, huge, empty, idx, val); });
        QVERIFY2(e.startsWith("truncated BLOB: 0 bytes"), qPrintable(e));
    }
}

// SEEN: layers = 0 in a per-layer trace divided by zero in the reader (SIGFPE).
void TestHostileStore::layersZero()
{
    const std::string p = perLayerDb("layers0.kvtr");
    rawExec(p, "UPDATE traces SET layers = 0");
    QCOMPARE(loadError(p), QString::fromStdString(p + " trace 'x': layers L = 0 is outside 1 .. 65536"));
    QCOMPARE(errorOf([&] { TraceStore::open(p, TraceStore::Mode::ReadOnly)->list(); }),
             QString::fromStdString(p + " trace 'x': layers L = 0 is outside 1 .. 65536"));
}

// SEEN: layers = 4294967298 was narrowed to int32 and read as 2 layers.
void TestHostileStore::layersBeyondInt32()
{
    const std::string p = perLayerDb("layers2p32.kvtr");
    rawExec(p, "UPDATE traces SET layers = 4294967298");
    QCOMPARE(loadError(p), QString::fromStdString(p + " trace 'x': layers L = 4294967298 is outside 1 .. 65536"));
}

// SEEN: a 20 kB database with P = 2^32 (sparse records say nothing about P) drove analyze
// to 4 GB and bad_alloc.
void TestHostileStore::prefillBeyondTheTokenLimit()
{
    const std::string p = perLayerDb("p2p32.kvtr");
    rawExec(p, "UPDATE traces SET prefill = 4294967296");
    QCOMPARE(loadError(p),
             QString::fromStdString(p + " trace 'x': prefill P = 4294967296 and steps T = 2 exceed the limit "
                                        "P + T <= 4294967296 (token indices are 32-bit)"));
    rawExec(p, "UPDATE traces SET prefill = 9223372036854775807");
    QVERIFY(loadError(p).contains("prefill P = 9223372036854775807 and steps T = 2 exceed the limit"));
    rawExec(p, "UPDATE traces SET prefill = -5");
    QCOMPARE(loadError(p), QString::fromStdString(p + " trace 'x': prefill P = -5 is negative"));
}

void TestHostileStore::stepsNegative()
{
    const std::string p = perLayerDb("tneg.kvtr");
    rawExec(p, "UPDATE traces SET steps = -1");
    QCOMPARE(loadError(p), QString::fromStdString(p + " trace 'x': steps T = -1 is negative"));
    rawExec(p, "UPDATE traces SET steps = 9223372036854775807");
    QVERIFY(loadError(p).contains("exceed the limit P + T <= 4294967296"));
}

// SEEN: entries = 2^60 made load() reserve 2^60 entries ("vector::reserve" / bad_alloc).
void TestHostileStore::entriesHintBeyondTheStoredBytes()
{
    const std::string p = denseDb("entries.kvtr");
    rawExec(p, "UPDATE traces SET entries = 1152921504606846976");
    // 20 bytes: step 0 dense (3 x f32); step 1 stored sparse, its one score as index + f32.
    QCOMPARE(loadError(p), QString::fromStdString(p + " trace 'x': entries = 1152921504606846976, but its records "
                                                      "hold 20 bytes (at most 10 entries)"));
    rawExec(p, "UPDATE traces SET entries = -3");
    QCOMPARE(loadError(p), QString::fromStdString(p + " trace 'x': entries = -3 is negative"));
}

// T x L against the rows the file really holds: nothing is sized by T before the
// streaming reader has met every record, so a trace claiming a million steps with four
// rows stops at the first missing one.
void TestHostileStore::recordCountsAgainstTheFile()
{
    const std::string p = perLayerDb("rows.kvtr");
    rawExec(p, "UPDATE traces SET steps = 1000000");
    QVERIFY(loadError(p).contains("record (t=2, l=0): record missing (the trace has 4 of 2000000 records)"));
    rawExec(p, "UPDATE traces SET steps = 2; UPDATE records SET step = 7 WHERE step = 1 AND layer = 1");
    QVERIFY(loadError(p).contains("record (t=1, l=1): record missing"));
}

void TestHostileStore::copyFromAHostileDatabase()
{
    const std::string src = perLayerDb("copy-src.kvtr");
    rawExec(src, "UPDATE traces SET layers = 0");
    auto dst = test::freshStore("copy-dst.kvtr");
    ImportOptions opt;
    QCOMPARE(errorOf([&] { importKvtierDb(*dst, src, opt); }),
             QString::fromStdString(src + " trace 'x': layers L = 0 is outside 1 .. 65536"));
    QVERIFY(dst->list().empty());
}

// SEEN (UBSan): P near INT64_MAX overflowed n_t = P + t and printed a negative context.
void TestHostileStore::writerRefusesPrefillNearInt64Max()
{
    auto s = test::freshStore("writer-p.kvtr");
    TraceMeta m;
    m.name = "big";
    m.prefill = std::numeric_limits<int64_t>::max() - 1;
    m.steps = 3;
    const QString e = errorOf([&] { s->beginTrace(m, Encoding::SparseF32); });
    QVERIFY2(e.endsWith("trace 'big': prefill P = 9223372036854775806 and steps T = 3 exceed the limit "
                        "P + T <= 4294967296 (token indices are 32-bit)"),
             qPrintable(e));
    m.prefill = 10;
    m.steps = -1;   // streaming importers: T unknown, P alone is checked
    m.layers = 0;
    QVERIFY(errorOf([&] { s->beginTrace(m, Encoding::SparseF32); }).contains("layers L = 0 is outside 1 .. 65536"));
}

// Every message above is one line of readable length.
void TestHostileStore::errorsStayShort()
{
    const std::string p = denseDb("short.kvtr");
    rawExec(p, "UPDATE records SET count = 9223372036854775807 WHERE step = 0");
    const QString e = loadError(p);
    QVERIFY2(e.contains("record (t=0, l=-1)"), qPrintable(e));
    QVERIFY(e.size() < 200);
    QVERIFY(!e.contains('\n'));
}

// FOUND BY fuzz_kvtier_db (docs/FUZZING.md): one flipped byte in the schema made SQLite's
// message quote the rest of the CREATE TABLE, newlines and all, so the "one line" error
// spanned six. SQLite's text is now an excerpt with control bytes as \xNN.
void TestHostileStore::damagedSchemaQuotedOnOneLine()
{
    const std::string p = denseDb("schema.kvtr");
    rawExec(p, "PRAGMA writable_schema = ON; "
               "UPDATE sqlite_master SET sql = replace(sql, 'INTEGER', '[NTEGER') WHERE name = 'records'");
    const QString e = loadError(p);
    QVERIFY2(e.startsWith(QString::fromStdString(p + ": the database file is corrupt (malformed database schema")),
             qPrintable(e));
    QVERIFY2(!e.contains('\n') && e.contains("\\x0A") && e.size() < 400, qPrintable(e));
    // The seed the fuzzer found, kept in its corpus.
    const std::string seed = std::string(KVTIER_SOURCE_DIR) + "/tests/fuzz/corpus/kvtier_db/broken-schema-newline.kvtr";
    const QString f = errorOf([&] { TraceStore::open(seed, TraceStore::Mode::ReadOnly)->list(); });
    QVERIFY2(f.startsWith(QString::fromStdString(seed + ": ")) && !f.contains('\n'), qPrintable(f));
}

QTEST_GUILESS_MAIN(TestHostileStore)
#include "tst_hostile_store.moc"
