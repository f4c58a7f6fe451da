// Hostile input for every importer (docs/HOSTILE_INPUTS.md): tiny files that
// claim huge dimensions, zip bombs, pipes, truncated files, text that is not UTF-8 with LF
// line ends, and fields that would make an error message enormous. Each case once made
// kvtier work for hours, allocate a gigabyte, import nonsense silently or print an unclear
// message; each must now fail fast with one line naming the file, the place and the
// problem, and leave the database unchanged — or import correctly.
#include "core/io/export_csv.hpp"
#include "core/io/import_limits.hpp"
#include "core/io/import_long_csv.hpp"
#include "core/io/import_npy.hpp"
#include "core/io/import_paper_csv.hpp"
#include "core/io/importers.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "npy_bytes.hpp"
#include "test_support.hpp"

#include <zlib.h>

#include <QElapsedTimer>
#include <QFile>
#include <QtTest>

#include <atomic>
#include <bit>
#include <filesystem>
#include <fstream>
#include <thread>

#if defined(__unix__)
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#define KVTIER_HAVE_FIFO 1
#endif

using namespace kvtier;
using test::errorOf;
using test::freshStore;
using test::sha256;

namespace {

using test::npy;
using test::putLE;
using test::rawDeflate;

// A one-entry zip. `claimedSize` replaces the entry's true uncompressed size (0: the truth);
// `stored` keeps the data uncompressed.
std::string zipOne(const std::string& name, const std::string& data, bool stored = false, uint64_t claimedSize = 0)
{
    const std::string payload = stored ? data : rawDeflate(data, 9);
    const uint64_t size = claimedSize ? claimedSize : data.size();
    const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const bool z64 = size >= 0xFFFFFFFFu;
    std::string extra;
    if (z64) {
        putLE(extra, 0x0001, 2);
        putLE(extra, 8, 2);
        putLE(extra, size, 8);
    }
    std::string out;
    putLE(out, 0x04034b50, 4);
    putLE(out, 45, 2);
    putLE(out, 0, 2);
    putLE(out, stored ? 0 : 8, 2);
    putLE(out, 0, 4);
    putLE(out, crc, 4);
    putLE(out, payload.size(), 4);
    putLE(out, z64 ? 0xFFFFFFFFu : size, 4);
    putLE(out, name.size(), 2);
    putLE(out, 0, 2);
    out += name + payload;
    std::string central;
    putLE(central, 0x02014b50, 4);
    putLE(central, 45, 2);
    putLE(central, 45, 2);
    putLE(central, 0, 2);
    putLE(central, stored ? 0 : 8, 2);
    putLE(central, 0, 4);
    putLE(central, crc, 4);
    putLE(central, payload.size(), 4);
    putLE(central, z64 ? 0xFFFFFFFFu : size, 4);
    putLE(central, name.size(), 2);
    putLE(central, extra.size(), 2);
    putLE(central, 0, 2);
    putLE(central, 0, 2);
    putLE(central, 0, 2);
    putLE(central, 0, 4);
    putLE(central, 0, 4);
    central += name + extra;
    const uint64_t cdOffset = out.size();
    out += central;
    putLE(out, 0x06054b50, 4);
    putLE(out, 0, 4);
    putLE(out, 1, 2);
    putLE(out, 1, 2);
    putLE(out, central.size(), 4);
    putLE(out, cdOffset, 4);
    putLE(out, 0, 2);
    return out;
}

// Peak resident memory of this process so far, in MB (0 where unknown).
long peakMB()
{
#if defined(__unix__)
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
#else
    return 0;
#endif
}

// A long CSV with one row per step 0 .. steps-1 (P = 1, aggregated, token 0, score 0.5).
std::string rowsCsv(int steps)
{
    std::string s = "step,layer,token,score\n";
    for (int t = 0; t < steps; ++t) s += std::to_string(t) + ",-1,0,0.5\n";
    return s;
}

#ifdef KVTIER_HAVE_FIFO
// A FIFO at a scratch path, fed with `text` by a thread (joined by the returned object).
struct Fifo {
    std::string path;
    std::thread writer;
    Fifo(const std::string& name, std::string text) : path(test::scratchPath(name))
    {
        std::filesystem::remove(path);
        if (mkfifo(path.c_str(), 0600) != 0) QFAIL("mkfifo failed");
        writer = std::thread([p = path, t = std::move(text)] {
            std::ofstream out(p, std::ios::binary);   // blocks until the reader opens
            out << t;
        });
    }
    ~Fifo() { writer.join(); }   // every test opens the FIFO for reading, so the writer ends
};
#endif

} // namespace

class TestImportHostile : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    // 1. Unbounded work from a tiny file
    void longCsvDeclaringBillionsOfStepsRefusedAtOnce();
    void longCsvRowWithHugeStepRefusedAtOnce();
    void longCsvEmptyRecordsBeyondAllowanceRefused();
    void longCsvEmptyRecordsLoopIsCancellable();
    void npyZeroRowsOfHugeWidthAllocatesNothing();
    void npyLayerDimensionBeyondLimitRefused();
    void npyHeaderLengthBeyondLimitRefused();
    void npzEntryClaimingTerabyteRefused();
    void npzStoredEntrySizeMismatchRefused();
    void npzZipBombOfZerosStaysSmall();
    void npzZipBombOfNonzeroValuesRefused();
    void npzDirectoryLiesRefused();
    void denseTraceStoresZeroRowsCompactly();
    // 2. Silent nonsense
    void longCsvFromPipeRefusedWhenTwoPassesNeeded();
    void pipeSpooledByImportInputImportsEveryRow();
    void longCsvCutAtLineBoundaryRefused();
    void longCsvCommentStepsWithoutRowsCutRefused();
    // 3. Unclear errors
    void paperCsvExtraFieldsSayFieldCount();
    void utf16AndCrOnlyFilesSayWhy();
    void longLinesEchoedAsShortExcerpt();
    void hugeNumbersShortened();
    void lineBeyondLimitRefused();
    void excerptAndReadableBytes();
    void fuzzSeedCorpusBehavesAsNamed();
    void npyHeaderQuotedOnOneLine();
};

void TestImportHostile::initTestCase()
{
#ifdef KVTIER_HAVE_FIFO
    // A FIFO whose reader gives up early must not kill the test with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
#endif
}

// ---- 1. unbounded work -------------------------------------------------------------------

void TestImportHostile::longCsvDeclaringBillionsOfStepsRefusedAtOnce()
{
    const std::string path = test::writeScratch(
        "huge_steps.csv", "# kvtier trace x prefill=2 steps=4000000000 layers=1 mode=aggregated\n"
                          "step,layer,token,score\n0,-1,0,1\n");
    auto s = freshStore("hostile-steps.kvtr");
    const std::string db = s->path();
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(errorOf([&] { importLongCsv(*s, path, {}); }),
             QString::fromStdString(path + ": T = 4000000000 records exceeds the limit of 67108864"));
    // With rows= the comment itself shows how few records can have data.
    const std::string withRows = test::writeScratch(
        "huge_steps_rows.csv", "# kvtier trace x prefill=2 steps=1000000 layers=1 mode=aggregated rows=1\n"
                               "step,layer,token,score\n0,-1,0,1\n");
    QVERIFY(errorOf([&] { importLongCsv(*s, withRows, {}); })
                .endsWith("declares 1000000 records but rows=1; at most 65536 records more than rows may be empty (limit)"));
    QVERIFY(clock.elapsed() < 2000);
    QVERIFY(s->list().empty());
}

void TestImportHostile::longCsvRowWithHugeStepRefusedAtOnce()
{
    auto s = freshStore("hostile-step-row.kvtr");
    ImportOptions o;
    o.prefill = 1;
    const std::string beyondContext = test::writeScratch("step_1e12.csv", "step,layer,token,score\n1000000000000,-1,0,1\n");
    QCOMPARE(errorOf([&] { importLongCsv(*s, beyondContext, o); }),
             QString::fromStdString(beyondContext + ": P = 1 and T = 1000000000001 make a context beyond the limit of 2^32 tokens"));
    const std::string manyRecords = test::writeScratch("step_4e9.csv", "step,layer,token,score\n4000000000,-1,0,1\n");
    QCOMPARE(errorOf([&] { importLongCsv(*s, manyRecords, o); }),
             QString::fromStdString(manyRecords + ": T = 4000000001 records exceeds the limit of 67108864"));
    // A layer number implying more layers than the limit.
    const std::string manyLayers = test::writeScratch("layer_1e9.csv", "step,layer,token,score\n0,1000000000,0,1\n");
    QCOMPARE(errorOf([&] { importLongCsv(*s, manyLayers, o); }),
             QString::fromStdString(manyLayers + ": layer 1000000000 implies L = 1000000001 layers, beyond the limit of 65536"));
    QVERIFY(s->list().empty());
}

void TestImportHostile::longCsvEmptyRecordsBeyondAllowanceRefused()
{
    auto s = freshStore("hostile-empty.kvtr");
    importLongCsv(*s, test::writeScratch("ok.csv", rowsCsv(3)), [] { ImportOptions o; o.prefill = 1; return o; }());
    const std::string db = s->path();
    s.reset();
    const QByteArray before = sha256(db);
    // Two rows, 100000 steps apart: 99999 records without a row.
    const std::string path = test::writeScratch("gap.csv", "step,layer,token,score\n0,-1,0,1\n100000,-1,0,1\n");
    ImportOptions o;
    o.prefill = 1;
    {
        auto s2 = TraceStore::open(db, TraceStore::Mode::ReadWrite);
        QCOMPARE(errorOf([&] { importLongCsv(*s2, path, o); }),
                 QString::fromStdString(path + ":3: 99999 records without rows for 2 data rows; at most 65536 records "
                                               "more than rows may be empty (limit)"));
    }
    QCOMPARE(sha256(db), before);
    // Within the allowance: imported, the empty records included.
    const std::string small = test::writeScratch("smallgap.csv", "step,layer,token,score\n0,-1,0,1\n1000,-1,0,1\n");
    auto s3 = TraceStore::open(db, TraceStore::Mode::ReadWrite);
    QCOMPARE(importLongCsv(*s3, small, o).records, int64_t{1001});
}

void TestImportHostile::longCsvEmptyRecordsLoopIsCancellable()
{
    auto s = freshStore("hostile-cancel.kvtr");
    const std::string path = test::writeScratch("cancel.csv", "step,layer,token,score\n0,-1,0,1\n60000,-1,0,1\n");
    std::atomic<bool> cancel{true};
    ImportOptions o;
    o.prefill = 1;
    o.control.cancel = &cancel;
    bool cancelled = false;
    try {
        importLongCsv(*s, path, o);
    } catch (const Cancelled&) {
        cancelled = true;
    }
    QVERIFY(cancelled);
    QVERIFY(s->list().empty());
}

void TestImportHostile::npyZeroRowsOfHugeWidthAllocatesNothing()
{
    // 128 bytes: T = 0 steps of n_max = 2^27 float64 (1 GiB per row, were a row allocated).
    const std::string file = npy("<f8", "(0, 134217728)");
    QCOMPARE(file.size(), size_t{128});
    const std::string path = test::writeScratch("zero_rows.npy", file);
    auto s = freshStore("hostile-npy-rows.kvtr");
    const long before = peakMB();
    ImportOptions o;
    o.prefill = 0;
    QCOMPARE(importNpy(*s, path, o).records, int64_t{0});
    if (before > 0) QVERIFY2(peakMB() - before < 200, qPrintable(QString::number(peakMB() - before) + " MB"));
    // One step, P = 2^27 - 1: the file holds no data for it, and says so before allocating.
    const std::string one = test::writeScratch("one_row.npy", npy("<f8", "(1, 134217728)"));
    o.prefill = 134217727;
    o.name = "one";
    QCOMPARE(errorOf([&] { importNpy(*s, one, o); }),
             QString::fromStdString(one + ": truncated file: shape (1, 134217728) needs 1073741824 bytes of data, only 0 follow the header"));
}

void TestImportHostile::npyLayerDimensionBeyondLimitRefused()
{
    // n_max = 0 holds no bytes at all: only the limits stop 2^31 empty records.
    const std::string path = test::writeScratch("layers.npy", npy("<f4", "(1, 2147483647, 0)"));
    auto s = freshStore("hostile-npy-layers.kvtr");
    ImportOptions o;
    o.prefill = 0;
    QCOMPARE(errorOf([&] { importNpy(*s, path, o); }),
             QString::fromStdString(path + ": layer dimension 2147483647 out of range (1..65536)"));
    const std::string steps = test::writeScratch("steps.npy", npy("<f4", "(1, 65536, 0)"));
    QCOMPARE(importNpy(*s, steps, o).records, int64_t{65536});   // at the limit: fine, and fast
}

void TestImportHostile::npyHeaderLengthBeyondLimitRefused()
{
    std::string file = "\x93NUMPY\x02";
    file.push_back('\0');
    putLE(file, 0x7FFFFFFF, 4);   // a 2 GB header dictionary
    file += "{'descr': '<f4'";
    const std::string path = test::writeScratch("header.npy", file);
    auto s = freshStore("hostile-npy-header.kvtr");
    ImportOptions o;
    o.prefill = 0;
    QCOMPARE(errorOf([&] { importNpy(*s, path, o); }),
             QString::fromStdString(path + ": the .npy header claims 2.1 GB, beyond the limit of 1.0 MB"));
}

void TestImportHostile::npzEntryClaimingTerabyteRefused()
{
    // A few hundred bytes whose directory says the array inflates to 2^40 bytes.
    const std::string z = zipOne("scores.npy", npy("<f8", "(1, 134217728)", std::string(4096, '\0')), false, uint64_t{1} << 40);
    QVERIFY(z.size() < 500);
    const std::string path = test::writeScratch("claim.npz", z);
    auto s = freshStore("hostile-npz-claim.kvtr");
    ImportOptions o;
    o.prefill = 134217727;
    const long before = peakMB();
    const QString err = errorOf([&] { importNpy(*s, path, o); });
    QVERIFY2(err.startsWith(QString::fromStdString(path + " entry 'scores.npy': corrupt zip: ")), qPrintable(err));
    QVERIFY2(err.endsWith("compressed bytes claim 1.1 TB of data, more than deflate can give (1032:1)"), qPrintable(err));
    if (before > 0) QVERIFY(peakMB() - before < 200);
}

void TestImportHostile::npzStoredEntrySizeMismatchRefused()
{
    const std::string z = zipOne("scores.npy", npy("<f4", "(1, 2)", std::string(8, '\0')), true, 1000000);
    const std::string path = test::writeScratch("stored.npz", z);
    auto s = freshStore("hostile-npz-stored.kvtr");
    ImportOptions o;
    o.prefill = 2;
    QCOMPARE(errorOf([&] { importNpy(*s, path, o); }),
             QString::fromStdString(path + " entry 'scores.npy': corrupt zip: a stored entry of 136 bytes claims 1.0 MB of data"));
}

void TestImportHostile::npzZipBombOfZerosStaysSmall()
{
    // 64 MB of float32 zeros deflate to ~64 kB. Imported: an all-zero trace, and the
    // database stays small although the default encoding is dense f32.
    const int64_t T = 256, nmax = 65536;
    const std::string z = zipOne("scores.npy", npy("<f4", "(256, 65536)", std::string(static_cast<size_t>(T * nmax * 4), '\0')));
    QVERIFY(z.size() < 200000);
    const std::string path = test::writeScratch("zeros.npz", z);
    auto s = freshStore("hostile-npz-zeros.kvtr");
    ImportOptions o;
    o.prefill = nmax - T + 1;
    const TraceSummary sum = importNpy(*s, path, o);
    QCOMPARE(sum.records, T);
    QCOMPARE(sum.entries, int64_t{0});
    QCOMPARE(sum.encoding, Encoding::DenseF32);
    QCOMPARE(sum.blob_bytes, int64_t{0});
    s.reset();
    QVERIFY(std::filesystem::file_size(test::scratchPath("hostile-npz-zeros.kvtr")) < 1000000);
}

void TestImportHostile::npzZipBombOfNonzeroValuesRefused()
{
    // 5.2 million copies of 1.0f: 21 MB that deflate to ~20 kB, far beyond the 8 non-zero
    // scores per compressed byte real data can give.
    const int64_t T = 80, nmax = 65536;
    std::string data;
    data.reserve(static_cast<size_t>(T * nmax * 4));
    for (int64_t k = 0; k < T * nmax; ++k) putLE(data, std::bit_cast<uint32_t>(1.0f), 4);
    const std::string path = test::writeScratch("ones.npz", zipOne("scores.npy", npy("<f4", "(80, 65536)", data)));
    auto s = freshStore("hostile-npz-ones.kvtr");
    ImportOptions o;
    o.prefill = nmax - T + 1;
    const QString err = errorOf([&] { importNpy(*s, path, o); });
    QVERIFY2(err.startsWith(QString::fromStdString(path + " entry 'scores.npy' at [")), qPrintable(err));
    QVERIFY2(err.contains("non-zero scores from") && err.contains("(limit: 8 per compressed byte); a zip bomb?"),
             qPrintable(err));
    QVERIFY(s->list().empty());
}

void TestImportHostile::npzDirectoryLiesRefused()
{
    // The zip directory is read by libzip; what it declares is still held to the file, and
    // none of libzip's words reach the user.
    const std::string good = zipOne("scores.npy", npy("<f4", "(3, 5)", std::string(60, '\0')));
    const size_t cd = good.find(std::string("PK\x01\x02", 4));
    QVERIFY(cd != std::string::npos);
    auto patched = [&](size_t at, uint32_t v) {
        std::string z = good;
        std::string le;
        putLE(le, v, 4);
        z.replace(cd + at, 4, le);
        return z;
    };
    auto s = freshStore("hostile-npz-lies.kvtr");
    ImportOptions o;
    o.prefill = 3;
    // A compressed size beyond the file would lift the zip-bomb limit (8 non-zero scores
    // per compressed byte) to whatever the directory says.
    const std::string big = test::writeScratch("csize.npz", patched(20, 0x7FFFFFF0u));
    QCOMPARE(errorOf([&] { importNpy(*s, big, o); }),
             QString::fromStdString(big + " entry 'scores.npy': truncated file: the entry's data runs past the end of the archive"));
    // A local header offset past the end.
    const std::string lho = test::writeScratch("lho.npz", patched(42, 0x7FFFFFF0u));
    QCOMPARE(errorOf([&] { importNpy(*s, lho, o); }),
             QString::fromStdString(lho + " entry 'scores.npy': corrupt zip: the entry's local header is missing or cut off"));
    // Compression methods other than stored and deflate (12: bzip2), refused before reading.
    std::string bzip = patched(0, 0x02014b50u);
    bzip[cd + 10] = 12;
    const std::string bz = test::writeScratch("bzip.npz", bzip);
    QCOMPARE(errorOf([&] { importNpy(*s, bz, o); }),
             QString::fromStdString(bz + " entry 'scores.npy': unsupported zip compression method 12 (only stored and deflate)"));
    // A central directory whose entry count does not match: libzip's "inconsistent".
    std::string count = good;
    const size_t eocd = count.rfind(std::string("PK\x05\x06", 4));
    count[eocd + 8] = count[eocd + 10] = 7;
    const std::string cnt = test::writeScratch("count.npz", count);
    QCOMPARE(errorOf([&] { importNpy(*s, cnt, o); }),
             QString::fromStdString(cnt + ": corrupt zip archive (its directory does not match the file: truncated or damaged)"));
    QVERIFY(s->list().empty());
}

void TestImportHostile::denseTraceStoresZeroRowsCompactly()
{
    // A dense f32 trace: the all-zero record and the record with one score in a 1000-token
    // context are stored sparse (smaller); the full one stays dense. Reading gives the same.
    auto s = freshStore("hostile-compact.kvtr");
    TraceMeta m;
    m.name = "c";
    m.prefill = 1000;
    m.steps = 3;
    m.layers = 1;
    m.kind = RecordKind::Scores;
    auto w = s->beginTrace(m, Encoding::DenseF32);
    Record r;
    r.layer = -1;
    r.step = 0;
    w->add(r);
    r.step = 1;
    r.index = {7};
    r.value = {0.5f};
    w->add(r);
    r.step = 2;
    r.index.clear();
    r.value.clear();
    for (uint32_t i = 0; i < 1002; ++i) {
        r.index.push_back(i);
        r.value.push_back(1.0f);
    }
    w->add(r);
    w->commit();
    const TraceSummary sum = s->get("c");
    QCOMPARE(sum.blob_bytes, int64_t{0 + 8 + 4 * 1002});
    const Trace t = s->load("c");
    QCOMPARE(t.valueAt(t.recordId(1, 0), 7), 0.5f);
    QCOMPARE(t.indices(t.recordId(0, 0)).size(), size_t{0});
    QCOMPARE(t.indices(t.recordId(2, 0)).size(), size_t{1002});
}

// ---- 2. silent nonsense ------------------------------------------------------------------

void TestImportHostile::longCsvFromPipeRefusedWhenTwoPassesNeeded()
{
#ifdef KVTIER_HAVE_FIFO
    Fifo fifo("rows.fifo", rowsCsv(3000));
    auto s = freshStore("hostile-fifo.kvtr");
    ImportOptions o;
    o.prefill = 1;
    QCOMPARE(errorOf([&] { importLongCsv(*s, fifo.path, o); }),
             QString::fromStdString(fifo.path + ": is a pipe, which can be read only once, and without a '# kvtier trace' "
                                                "line stating steps, layers and mode the long CSV needs two passes; save "
                                                "it to a file"));
    QVERIFY(s->list().empty());
#else
    QSKIP("no FIFOs here");
#endif
}

void TestImportHostile::pipeSpooledByImportInputImportsEveryRow()
{
#ifdef KVTIER_HAVE_FIFO
    Fifo fifo("rows2.fifo", rowsCsv(3000));
    auto s = freshStore("hostile-fifo2.kvtr");
    std::string spooled;
    {
        const ImportInput in(fifo.path);
        QVERIFY(in.spooled());
        QCOMPARE(in.shown(), fifo.path);
        spooled = in.path();
        QCOMPARE(guessImportFormat(in.path(), in.shown()), ImportFormat::LongCsv);
        ImportOptions o;
        o.prefill = 1;
        o.shown_name = in.shown();
        const auto sums = importFile(*s, in.path(), ImportFormat::LongCsv, o);
        QCOMPARE(sums.at(0).records, int64_t{3000});
        QCOMPARE(sums.at(0).entries, int64_t{3000});   // every row, not the first buffer's worth
        QCOMPARE(sums.at(0).meta.source, "long-csv " + fifo.path);
    }
    QVERIFY(!std::filesystem::exists(spooled));   // the copy goes with the ImportInput
#else
    QSKIP("no FIFOs here");
#endif
}

void TestImportHostile::longCsvCutAtLineBoundaryRefused()
{
    // An export carries rows=N; the same file cut after a complete line is refused.
    auto s = freshStore("hostile-cut.kvtr");
    ImportOptions o;
    o.prefill = 1;
    importLongCsv(*s, test::writeScratch("full.csv", rowsCsv(3000)), o);
    const std::string full = test::scratchPath("exported.csv");
    exportLongCsv(*s, "full", full);
    std::ifstream in(full, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    QVERIFY(text.find("\"rows\":3000,") != std::string::npos);
    const size_t cut = text.find("1000,-1,0,0.5\n");
    const std::string path = test::writeScratch("cut.csv", text.substr(0, cut));
    ImportOptions r;
    r.name = "cut";
    QCOMPARE(errorOf([&] { importLongCsv(*s, path, r); }),
             QString::fromStdString(path + ":1002: the file looks truncated: the kvtier comment says rows=3000 but the "
                                           "data ends after 1000 rows"));
    QCOMPARE(s->list().size(), size_t{1});
    // The whole export imports back.
    r.name = "back";
    QCOMPARE(importLongCsv(*s, full, r).entries, int64_t{3000});
}

void TestImportHostile::longCsvCommentStepsWithoutRowsCutRefused()
{
    // A comment without rows= (hand-written, or an older kvtier): declared steps with no
    // rows at the end look exactly like a cut file, so they are refused.
    std::string text = "# kvtier trace tr prefill=1 steps=3000 layers=1 mode=aggregated kind=scores\n" + rowsCsv(1000);
    const std::string path = test::writeScratch("cut2.csv", text);
    auto s = freshStore("hostile-cut2.kvtr");
    QCOMPARE(errorOf([&] { importLongCsv(*s, path, {}); }),
             QString::fromStdString(path + ":1002: the file looks truncated: the kvtier comment says steps=3000 but the "
                                           "rows end at step 999 (if the last steps are really empty, add rows=1000 to "
                                           "the comment)"));
    QVERIFY(s->list().empty());
}

// ---- 3. unclear errors -------------------------------------------------------------------

void TestImportHostile::paperCsvExtraFieldsSayFieldCount()
{
    auto s = freshStore("hostile-paper-fields.kvtr");
    const std::string quoted = test::writeScratch("four.csv", "n,l,read_kv\n5,0,\"[1]\",x\n");
    QCOMPARE(errorOf([&] { importPaperCsv(*s, quoted, {}); }),
             QString::fromStdString(quoted + ":2: the row has 4 fields, expected 3 (n,l,read_kv): '5,0,\"[1]\",x'"));
    const std::string bare = test::writeScratch("five.csv", "n,l,read_kv\n5,0,[1],x,y\n");
    QCOMPARE(errorOf([&] { importPaperCsv(*s, bare, {}); }),
             QString::fromStdString(bare + ":2: the row has 5 fields, expected 3 (n,l,read_kv): '5,0,[1],x,y'"));
}

void TestImportHostile::utf16AndCrOnlyFilesSayWhy()
{
    auto s = freshStore("hostile-text.kvtr");
    // "n,l,read_kv\n" in UTF-16LE, with and without a byte-order mark.
    std::string utf16;
    for (char c : std::string("n,l,read_kv\n5,0,\"[1]\"\n")) {
        utf16.push_back(c);
        utf16.push_back('\0');
    }
    const std::string bom = test::writeScratch("bom.csv", "\xFF\xFE" + utf16);
    const std::string nul = test::writeScratch("nul.csv", utf16);
    const std::string cr = test::writeScratch("cr.csv", "n,l,read_kv\r5,0,\"[1]\"\r");
    QCOMPARE(errorOf([&] { importPaperCsv(*s, bom, {}); }),
             QString::fromStdString(bom + ":1: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"));
    QCOMPARE(errorOf([&] { importPaperCsv(*s, nul, {}); }),
             QString::fromStdString(nul + ":1: the file holds NUL bytes: it looks UTF-16 (or binary); save it as UTF-8"));
    QCOMPARE(errorOf([&] { importLongCsv(*s, cr, {}); }),
             QString::fromStdString(cr + ":1: lines end with CR only (old Mac line ends); save the file with LF or CRLF line ends"));
    QCOMPARE(errorOf([&] { guessImportFormat(bom); }),
             QString::fromStdString(bom + ": cannot tell the format: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"));
    QCOMPARE(errorOf([&] { guessImportFormat(nul); }),
             QString::fromStdString(nul + ": cannot tell the format: the file holds NUL bytes: it looks UTF-16 (or binary); save a CSV as UTF-8"));
    QCOMPARE(errorOf([&] { guessImportFormat(cr); }),
             QString::fromStdString(cr + ": cannot tell the format: lines end with CR only (old Mac line ends); save the file with LF or CRLF line ends"));
}

void TestImportHostile::longLinesEchoedAsShortExcerpt()
{
    auto s = freshStore("hostile-excerpt.kvtr");
    const std::string junk(1 << 20, 'x');   // a 1 MB header line
    const std::string paper = test::writeScratch("wide_paper.csv", junk + "\n");
    const QString e1 = errorOf([&] { importPaperCsv(*s, paper, {}); });
    QVERIFY2(e1.size() < static_cast<qsizetype>(paper.size() + 200), qPrintable(e1.left(300)));
    QCOMPARE(e1, QString::fromStdString(paper + ":1: expected the header 'n,l,read_kv', found '" + std::string(80, 'x') + "\u2026'"));
    const std::string row = test::writeScratch("wide_row.csv", "n,l,read_kv\n5,0," + junk + "\n");
    const QString e2 = errorOf([&] { importPaperCsv(*s, row, {}); });
    QVERIFY2(e2.size() < static_cast<qsizetype>(row.size() + 200), qPrintable(e2.left(300)));
    QVERIFY(e2.endsWith("\u2026'"));
    const std::string longCsv = test::writeScratch("wide_long.csv", "step,layer,token,score\n0,-1,0," + junk + "\n");
    ImportOptions o;
    o.prefill = 1;
    const QString e3 = errorOf([&] { importLongCsv(*s, longCsv, o); });
    QVERIFY2(e3.size() < static_cast<qsizetype>(longCsv.size() + 200), qPrintable(e3.left(300)));
}

void TestImportHostile::hugeNumbersShortened()
{
    auto s = freshStore("hostile-digits.kvtr");
    ImportOptions o;
    o.prefill = 1;
    const std::string digits(300, '1');
    const std::string longCsv = test::writeScratch("digits.csv", "step,layer,token,score\n" + digits + ",-1,0,1\n");
    QCOMPARE(errorOf([&] { importLongCsv(*s, longCsv, o); }),
             QString::fromStdString(longCsv + ":2: step 111111111111\u2026 (300 digits) is too large"));
    const std::string paper = test::writeScratch("digits_paper.csv", "n,l,read_kv\n5,0,\"[1, " + digits + "]\"\n");
    QCOMPARE(errorOf([&] { importPaperCsv(*s, paper, {}); }),
             QString::fromStdString(paper + ":2: token index 111111111111\u2026 (300 digits) is too large"));
    const std::string comment = test::writeScratch("digits_comment.csv", "# kvtier trace x prefill=" + digits +
                                                                             "\nstep,layer,token,score\n");
    QCOMPARE(errorOf([&] { importLongCsv(*s, comment, {}); }),
             QString::fromStdString(comment + ":1: 'prefill=" + std::string(40, '1') +
                                    "\u2026' in the kvtier comment: expected an integer >= 0"));
}

void TestImportHostile::lineBeyondLimitRefused()
{
    // A header, then 300 MB without a line end (a hole: no disk used). The reader stops at
    // the limit instead of holding the whole "line".
    const std::string path = test::writeScratch("no_newline.csv", "n,l,read_kv\n");
    std::filesystem::resize_file(path, 300u << 20);
    auto s = freshStore("hostile-line.kvtr");
    QCOMPARE(errorOf([&] { importPaperCsv(*s, path, {}); }),
             QString::fromStdString(path + ":2: line longer than 256 MiB (the limit); is this really a CSV file?"));
    std::filesystem::remove(path);
}

void TestImportHostile::excerptAndReadableBytes()
{
    QCOMPARE(excerpt("short"), std::string("short"));
    QCOMPARE(excerpt("a\tb\rc"), std::string("a\\x09b\\x0Dc"));
    QCOMPARE(excerpt(std::string(100, 'y'), 10), std::string(10, 'y') + "\u2026");
    QCOMPARE(excerpt("ab\u00e9cd", 3), std::string("ab\u2026"));   // never half of a UTF-8 sequence
    QCOMPARE(excerpt("ab\u00e9cd", 4), std::string("ab\u00e9\u2026"));
    QCOMPARE("step" + notAnInteger("-" + std::string(30, '9')), std::string("step -99999999999\u2026 (30 digits) is out of range"));
    QCOMPARE("n" + notAnInteger("six"), std::string("n is not an integer: 'six'"));
    QCOMPARE(readableBytes(512), std::string("512 bytes"));
    QCOMPARE(readableBytes(uint64_t{1} << 40), std::string("1.1 TB"));
    QCOMPARE(readableBytes(268435456), std::string("268 MB"));
}

void TestImportHostile::fuzzSeedCorpusBehavesAsNamed()
{
    // tests/fuzz/corpus (tests/fuzz/make_corpus.py): ok_* imports, bad_* fails with one line.
    namespace fs = std::filesystem;
    const fs::path corpus = fs::path(KVTIER_TEST_DATA_DIR).parent_path() / "fuzz" / "corpus";
    const std::pair<const char*, ImportFormat> kinds[] = {{"paper_csv", ImportFormat::PaperCsv},
                                                          {"long_csv", ImportFormat::LongCsv},
                                                          {"npy", ImportFormat::Npy},
                                                          {"npz", ImportFormat::Npy}};
    int files = 0;
    for (const auto& [dir, format] : kinds) {
        QVERIFY2(fs::is_directory(corpus / dir), dir);
        for (const auto& entry : fs::directory_iterator(corpus / dir)) {
            const std::string name = entry.path().filename().string();
            auto s = freshStore("hostile-corpus.kvtr");
            ImportOptions o;
            if (format != ImportFormat::PaperCsv) o.prefill = 2;   // what every such file says, where it says it
            const std::string path = entry.path().string();
            const QString err = errorOf([&] { importFile(*s, path, format, o); });
            if (name.rfind("ok_", 0) == 0) {
                QVERIFY2(err == "<no error>", qPrintable(QString::fromStdString(name) + ": " + err));
                QCOMPARE(guessImportFormat(path), format);   // content (or extension) says the format
            } else {
                QVERIFY2(err.startsWith(QString::fromStdString(path)), qPrintable(QString::fromStdString(name) + ": " + err));
                QVERIFY2(!err.contains('\n') && err.size() < 400, qPrintable(err));
                QVERIFY(s->list().empty());
            }
            ++files;
        }
    }
    QVERIFY(files >= 20);
}

// FOUND BY fuzz_npy (docs/FUZZING.md): an unknown key or dtype in the .npy header was
// quoted whole, so a newline in it split the message (and a 1 MB header made a 1 MB one).
void TestImportHostile::npyHeaderQuotedOnOneLine()
{
    for (const std::string& dict : {std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), 'a\nb': 1, }"),
                                    std::string("{'descr': '<f\n4', 'fortran_order': False, 'shape': (1, 2), }"),
                                    "{'" + std::string(100000, 'k') + "': 1, }"}) {
        std::string file = "\x93NUMPY";
        file.push_back(2);
        file.push_back(0);
        putLE(file, dict.size() + 1, 4);
        file += dict + "\n" + std::string(8, '\0');
        const std::string p = test::writeScratch("header-newline.npy", file);
        auto s = freshStore("header-newline.kvtr");
        ImportOptions o;
        o.prefill = 1;
        const QString e = errorOf([&] { importFile(*s, p, ImportFormat::Npy, o); });
        QVERIFY2(e.startsWith(QString::fromStdString(p + ": ")), qPrintable(e));
        QVERIFY2(e.contains("unexpected key") || e.contains("unsupported dtype"), qPrintable(e));
        QVERIFY2(!e.contains('\n') && e.size() < 400, qPrintable(e));
    }
}

QTEST_GUILESS_MAIN(TestImportHostile)
#include "tst_import_hostile.moc"
