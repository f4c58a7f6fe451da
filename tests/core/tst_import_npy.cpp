// The NumPy importer: .npy files and .npz archives (stored, deflated, numpy's zip64 local
// headers), every dtype it takes, and a clear error for each file it must refuse.
// The fixtures are written byte by byte here (numpy is not needed); deflated entries use
// zlib, which kvtier_core already links.
#include "core/io/import_npy.hpp"
#include "core/io/npy_format.hpp"
#include "core/model/error.hpp"
#include "core/model/half.hpp"
#include "core/store/trace_store.hpp"
#include "npy_bytes.hpp"
#include "test_support.hpp"

#include <zlib.h>

#include <QFile>
#include <QtTest>

#include <bit>
#include <cmath>
#include <functional>
#include <limits>

using namespace kvtier;
using test::errorOf;
using test::freshStore;
using test::sha256;

namespace {

using test::npy;
using test::putLE;
using test::rawDeflate;

// Element encoders for the array data.
std::string f32(const std::vector<float>& v)
{
    std::string s;
    for (float x : v) putLE(s, std::bit_cast<uint32_t>(x), 4);
    return s;
}
std::string f64(const std::vector<double>& v)
{
    std::string s;
    for (double x : v) putLE(s, std::bit_cast<uint64_t>(x), 8);
    return s;
}
std::string f16(const std::vector<float>& v)
{
    std::string s;
    for (float x : v) putLE(s, floatToHalf(x), 2);
    return s;
}
std::string i64(int64_t v)
{
    std::string s;
    putLE(s, static_cast<uint64_t>(v), 8);
    return s;
}

struct ZipMember {
    std::string name;   // e.g. "scores.npy"
    std::string data;   // uncompressed
    bool deflate = false;
};

// A zip archive. `numpyZip64` writes local headers the way numpy's savez does
// (zipfile with force_zip64: sizes 0xFFFFFFFF plus a zip64 extra field).
std::string zip(const std::vector<ZipMember>& members, bool numpyZip64 = false, bool breakCrc = false)
{
    std::string out, central;
    for (const auto& m : members) {
        const std::string payload = m.deflate ? rawDeflate(m.data) : m.data;
        uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(m.data.data()),
                                                   static_cast<uInt>(m.data.size())));
        if (breakCrc) crc ^= 1;
        const uint64_t offset = out.size();
        const uint16_t method = m.deflate ? 8 : 0;
        std::string extra;
        if (numpyZip64) {
            putLE(extra, 0x0001, 2);
            putLE(extra, 16, 2);
            putLE(extra, m.data.size(), 8);
            putLE(extra, payload.size(), 8);
        }
        putLE(out, 0x04034b50, 4);
        putLE(out, numpyZip64 ? 45 : 20, 2);
        putLE(out, 0, 2);   // flags
        putLE(out, method, 2);
        putLE(out, 0, 4);   // time, date
        putLE(out, crc, 4);
        putLE(out, numpyZip64 ? 0xFFFFFFFFu : payload.size(), 4);
        putLE(out, numpyZip64 ? 0xFFFFFFFFu : m.data.size(), 4);
        putLE(out, m.name.size(), 2);
        putLE(out, extra.size(), 2);
        out += m.name + extra + payload;

        putLE(central, 0x02014b50, 4);
        putLE(central, 20, 2);
        putLE(central, 20, 2);
        putLE(central, 0, 2);
        putLE(central, method, 2);
        putLE(central, 0, 4);
        putLE(central, crc, 4);
        putLE(central, payload.size(), 4);
        putLE(central, m.data.size(), 4);
        putLE(central, m.name.size(), 2);
        putLE(central, 0, 2);   // extra
        putLE(central, 0, 2);   // comment
        putLE(central, 0, 2);   // disk
        putLE(central, 0, 2);   // internal attributes
        putLE(central, 0, 4);   // external attributes
        putLE(central, offset, 4);
        central += m.name;
    }
    const uint64_t cdOffset = out.size();
    out += central;
    putLE(out, 0x06054b50, 4);
    putLE(out, 0, 4);
    putLE(out, members.size(), 2);
    putLE(out, members.size(), 2);
    putLE(out, central.size(), 4);
    putLE(out, cdOffset, 4);
    putLE(out, 0, 2);
    return out;
}

std::vector<uint32_t> idx(const Trace& t, int64_t step, int32_t slot)
{
    const auto s = t.indices(t.recordId(step, slot));
    return {s.begin(), s.end()};
}

std::vector<float> val(const Trace& t, int64_t step, int32_t slot)
{
    const auto s = t.values(t.recordId(step, slot));
    return {s.begin(), s.end()};
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// P = 2, T = 3, n_max = 5 (one more than P + T - 1): padding past n_t, including a NaN,
// must be ignored.
std::vector<float> aggregatedRows()
{
    return {0.5f, 0.0f, kNaN, 9.0f, 9.0f,          // t=0: n_t = 2
            0.0f, 0.25f, 0.125f, -1.0f, kNaN,      // t=1: n_t = 3
            1.0f, 0.0f, 0.0f, 2.0f, 7.0f};         // t=2: n_t = 4
}

void checkAggregated(const Trace& t)
{
    QCOMPARE(t.meta().prefill, int64_t{2});
    QCOMPARE(t.meta().steps, int64_t{3});
    QCOMPARE(t.meta().layer_mode, LayerMode::Aggregated);
    QCOMPARE(idx(t, 0, 0), (std::vector<uint32_t>{0}));
    QCOMPARE(val(t, 0, 0), (std::vector<float>{0.5f}));
    QCOMPARE(idx(t, 1, 0), (std::vector<uint32_t>{1, 2}));
    QCOMPARE(val(t, 1, 0), (std::vector<float>{0.25f, 0.125f}));
    QCOMPARE(idx(t, 2, 0), (std::vector<uint32_t>{0, 3}));
    QCOMPARE(val(t, 2, 0), (std::vector<float>{1.0f, 2.0f}));
}

} // namespace

class TestImportNpy : public QObject {
    Q_OBJECT
private slots:
    void npyAggregatedFloat32();
    void npyPerLayerFloat64();
    void npyFloat16AndVersion2Header();
    void npzStoredWithPrefillArray();
    void npzDeflatedOnlyFloatArray();
    void npzNumpyZip64Headers();
    void npzChooseArray();
    void npzLargeDeflatedStreams();
    void npzSequenceAxis();
    void errors_data();
    void errors();
    void npzErrors();
    void headerDictParser();
};

void TestImportNpy::npyAggregatedFloat32()
{
    const std::string path = test::writeScratch("attn_scores.npy", npy("<f4", "(3, 5)", f32(aggregatedRows())));
    auto s = freshStore("npy1.kvtr");
    ImportOptions o;
    o.prefill = 2;
    o.layers = 32;
    const TraceSummary sum = importNpy(*s, path, o);
    QCOMPARE(sum.meta.name, std::string("attn_scores"));
    QCOMPARE(sum.meta.layers, 32);
    QCOMPARE(sum.encoding, Encoding::DenseF32);
    QCOMPARE(sum.meta.source, "npy " + path);
    checkAggregated(s->load("attn_scores"));
}

void TestImportNpy::npyPerLayerFloat64()
{
    // [T=2, L=2, n_max=3], P = 2.
    const std::vector<double> d = {0.5, 0.5, 99,    0.0, 1e-300, 99,
                                   0.1, 0.2, 0.3,   1.0, 0.0, 0.0};
    const std::string path = test::writeScratch("pl.npy", npy("<f8", "(2, 2, 3)", f64(d)));
    auto s = freshStore("npy2.kvtr");
    ImportOptions o;
    o.prefill = 2;
    o.encoding = Encoding::SparseF32;
    o.name = "per layer";
    o.layers = 80;   // ignored: the shape says L
    const TraceSummary sum = importNpy(*s, path, o);
    QCOMPARE(sum.meta.layer_mode, LayerMode::PerLayer);
    QCOMPARE(sum.meta.layers, 2);
    QCOMPARE(sum.encoding, Encoding::SparseF32);
    const Trace t = s->load("per layer");
    QCOMPARE(idx(t, 0, 0), (std::vector<uint32_t>{0, 1}));
    QCOMPARE(idx(t, 0, 1), (std::vector<uint32_t>{}));   // 1e-300 underflows float32 to 0
    QCOMPARE(val(t, 1, 0), (std::vector<float>{0.1f, 0.2f, 0.3f}));
    QCOMPARE(val(t, 1, 1), (std::vector<float>{1.0f}));
    ImportOptions agg = o;
    agg.layer_mode = LayerMode::Aggregated;
    agg.name = "x";
    QVERIFY(errorOf([&] { importNpy(*s, path, agg); }).contains("shape (2, 2, 3) holds a per-layer trace, not aggregated"));
}

void TestImportNpy::npyFloat16AndVersion2Header()
{
    const std::string path = test::writeScratch("h.npy", npy("<f2", "(3, 5)", f16(aggregatedRows()), false, 2));
    auto s = freshStore("npy3.kvtr");
    ImportOptions o;
    o.prefill = 2;
    o.encoding = Encoding::SparseF16;
    importNpy(*s, path, o);
    checkAggregated(s->load("h"));
}

void TestImportNpy::npzStoredWithPrefillArray()
{
    const std::string z = zip({{"other.npy", npy("<f4", "(1, 1)", f32({3.0f}))},
                               {"scores.npy", npy("<f4", "(3, 5)", f32(aggregatedRows()))},
                               {"prefill.npy", npy("<i8", "()", i64(2))}});
    const std::string path = test::writeScratch("run.npz", z);
    auto s = freshStore("npz1.kvtr");
    const TraceSummary sum = importNpy(*s, path, {});
    QCOMPARE(sum.meta.name, std::string("run"));
    QCOMPARE(sum.meta.source, "npy " + path + ":scores");
    checkAggregated(s->load("run"));
    ImportOptions conflict;
    conflict.prefill = 3;
    conflict.name = "c";
    QCOMPARE(errorOf([&] { importNpy(*s, path, conflict); }),
             QString::fromStdString(path + ": the archive says prefill = 2 but P = 3 was given"));
}

void TestImportNpy::npzDeflatedOnlyFloatArray()
{
    std::string p32;
    putLE(p32, 2, 4);
    const std::string z = zip({{"arr_0.npy", npy("<f4", "(3, 5)", f32(aggregatedRows())), true},
                               {"prefill.npy", npy("<i4", "(1,)", p32), true}});
    const std::string path = test::writeScratch("deflated.npz", z);
    auto s = freshStore("npz2.kvtr");
    importNpy(*s, path, {});
    checkAggregated(s->load("deflated"));
}

void TestImportNpy::npzNumpyZip64Headers()
{
    const std::string z = zip({{"scores.npy", npy("<f4", "(3, 5)", f32(aggregatedRows())), true},
                               {"prefill.npy", npy("<i8", "()", i64(2))}},
                              /*numpyZip64=*/true);
    const std::string path = test::writeScratch("zip64.npz", z);
    auto s = freshStore("npz3.kvtr");
    importNpy(*s, path, {});
    checkAggregated(s->load("zip64"));
}

void TestImportNpy::npzChooseArray()
{
    const std::string z = zip({{"a.npy", npy("<f4", "(3, 5)", f32(aggregatedRows()))},
                               {"b.npy", npy("<f4", "(1, 3)", f32({1, 2, 3}))},
                               {"ids.npy", npy("<i8", "(1,)", i64(4))}});
    const std::string path = test::writeScratch("two.npz", z);
    auto s = freshStore("npz4.kvtr");
    ImportOptions o;
    o.prefill = 2;
    QCOMPARE(errorOf([&] { importNpy(*s, path, o); }),
             QString::fromStdString(path + ": several float arrays (a, b); name the scores array 'scores' or choose one "
                                           "(--array NAME)"));
    o.array = "a";
    importNpy(*s, path, o);
    checkAggregated(s->load("two"));
    o.array = "zzz";
    QCOMPARE(errorOf([&] { importNpy(*s, path, o); }),
             QString::fromStdString(path + ": no array named 'zzz' (the archive holds: a, b, ids)"));
}

void TestImportNpy::npzLargeDeflatedStreams()
{
    // Bigger than the inflater's 64 KiB input buffer and made of many rows: exercises
    // row-by-row inflation across buffer refills, per layer.
    const int64_t P = 500, T = 40, L = 4, nmax = P + T - 1;
    std::vector<float> data;
    for (int64_t t = 0; t < T; ++t)
        for (int64_t l = 0; l < L; ++l)
            for (int64_t i = 0; i < nmax; ++i)
                data.push_back(i < P + t ? static_cast<float>((i * 7919 + t * 31 + l) % 1000) / 1000.0f : 0.0f);
    const std::string z = zip({{"scores.npy", npy("<f4", "(40, 4, 539)", f32(data)), true},
                               {"prefill.npy", npy("<i8", "()", i64(P))}});
    const std::string path = test::writeScratch("big.npz", z);
    auto s = freshStore("npz5.kvtr");
    const TraceSummary sum = importNpy(*s, path, {});
    QCOMPARE(sum.records, T * L);
    const Trace t = s->load("big");
    for (int64_t step : {int64_t{0}, int64_t{17}, T - 1})
        for (int32_t l = 0; l < L; ++l)
            for (uint32_t i : {0u, 1u, 250u, static_cast<uint32_t>(P + step - 1)}) {
                const float want = static_cast<float>((i * 7919 + step * 31 + l) % 1000) / 1000.0f;
                QCOMPARE(t.valueAt(t.recordId(step, l), i), want);
            }
}

// A leading sequence axis: sequence_prefill = [1, 3, 0] and scores [S=3, T=2, L=2, n_max=4]
// (n_max = max P_s + T - 1). Records come out in (t, s, l) order, each cut at n_t^s; the
// padding (-1, which would be an error if read) is skipped. Stored and deflated alike.
void TestImportNpy::npzSequenceAxis()
{
    const std::vector<int64_t> P = {1, 3, 0};
    std::vector<float> data;
    for (int s = 0; s < 3; ++s)
        for (int t = 0; t < 2; ++t)
            for (int l = 0; l < 2; ++l)
                for (int i = 0; i < 4; ++i)
                    data.push_back(i < P[static_cast<size_t>(s)] + t ? 100.0f * static_cast<float>(s) + 10.0f * static_cast<float>(t) +
                                                                           static_cast<float>(l) + 1.0f + 0.125f * static_cast<float>(i)
                                                                     : -1.0f);
    std::string seq;
    for (int64_t p : P) putLE(seq, static_cast<uint64_t>(p), 8);
    for (bool deflate : {false, true}) {
        const std::string z = zip({{"scores.npy", npy("<f4", "(3, 2, 2, 4)", f32(data)), deflate},
                                   {"sequence_prefill.npy", npy("<i8", "(3,)", seq), deflate}});
        const std::string path = test::writeScratch(deflate ? "seqd.npz" : "seq.npz", z);
        auto st = freshStore(deflate ? "seqd.kvtr" : "seq.kvtr");
        const TraceSummary sum = importNpy(*st, path, {});
        QCOMPARE(sum.meta.sequence_prefill, P);
        QCOMPARE(sum.meta.prefill, int64_t{1});
        QCOMPARE(sum.meta.steps, int64_t{2});
        QCOMPARE(sum.meta.layers, 2);
        QCOMPARE(sum.meta.layer_mode, LayerMode::PerLayer);
        const Trace tr = st->load(sum.meta.name);
        // (t=1, s=1, l=1): n = 3 + 1 = 4 tokens: 100 + 10 + 1 + 1 + i/8
        const size_t r = tr.recordId(1, 1, 1);
        QCOMPARE(std::vector<uint32_t>(tr.indices(r).begin(), tr.indices(r).end()), (std::vector<uint32_t>{0, 1, 2, 3}));
        QCOMPARE(std::vector<float>(tr.values(r).begin(), tr.values(r).end()), (std::vector<float>{112, 112.125f, 112.25f, 112.375f}));
        QVERIFY(tr.indices(tr.recordId(0, 2, 0)).empty());   // P_2 = 0: no context at step 0
        const size_t r2 = tr.recordId(1, 2, 1);             // n = 1: 200 + 10 + 1 + 1
        QCOMPARE(tr.indices(r2).size(), size_t{1});
        QCOMPARE(tr.values(r2)[0], 212.0f);
        const size_t r0 = tr.recordId(0, 0, 0);             // n = 1: 0 + 0 + 0 + 1
        QCOMPARE(tr.values(r0)[0], 1.0f);
        QCOMPARE(sum.entries, int64_t{(1 + 3 + 0) * 2 + (2 + 4 + 1) * 2});
    }
    // the first axis must match sequence_prefill; a prefill array must agree with P_0
    auto st = freshStore("seqbad.kvtr");
    std::string two;
    for (int64_t p : {1, 3}) putLE(two, static_cast<uint64_t>(p), 8);
    const std::string bad = test::writeScratch(
        "seqbad.npz", zip({{"scores.npy", npy("<f4", "(3, 2, 2, 4)", f32(data))}, {"sequence_prefill.npy", npy("<i8", "(2,)", two)}}));
    QVERIFY2(errorOf([&] { importNpy(*st, bad, {}); }).endsWith("has 3 sequences on its first axis, but sequence_prefill lists 2"),
             qPrintable(errorOf([&] { importNpy(*st, bad, {}); })));
    const std::string clash = test::writeScratch(
        "seqclash.npz", zip({{"scores.npy", npy("<f4", "(3, 2, 2, 4)", f32(data))},
                             {"sequence_prefill.npy", npy("<i8", "(3,)", seq)},
                             {"prefill.npy", npy("<i8", "()", i64(2))}}));
    QCOMPARE(errorOf([&] { importNpy(*st, clash, {}); }),
             QString::fromStdString(clash + ": sequence_prefill starts with P_0 = 1 but P = 2 in the prefill array"));
    QVERIFY(st->list().empty());
}

void TestImportNpy::errors_data()
{
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<bool>("givePrefill");
    QTest::addColumn<QString>("error");   // after the path
    auto b = [](const std::string& s) { return QByteArray(s.data(), static_cast<qsizetype>(s.size())); };
    const std::string rows = f32(aggregatedRows());
    QTest::newRow("bad magic") << b("NUMPY?? not really") << true
                               << ": bad magic: neither a .npy array (\\x93NUMPY) nor an .npz archive (PK zip)";
    QTest::newRow("bad magic in npy") << b("\x93NUMPX\x01\x00\x00\x00") << true
                                      << ": bad magic: neither a .npy array";
    QTest::newRow("int dtype") << b(npy("<i4", "(3, 5)", rows)) << true
                               << ": unsupported dtype '<i4' (expected float16, float32 or float64)";
    QTest::newRow("complex dtype") << b(npy("<c8", "(3, 5)", rows)) << true << ": unsupported dtype '<c8'";
    QTest::newRow("big-endian") << b(npy(">f4", "(3, 5)", rows)) << true
                                << ": big-endian dtype '>f4' is not supported; save it with arr.astype('<f4')";
    QTest::newRow("structured") << b(npy("<f4", "(3, 5)", rows).replace(20, 7, "[('a', ")) << true
                                << ": structured dtypes are not supported";
    QTest::newRow("fortran") << b(npy("<f4", "(3, 5)", rows, true)) << true
                             << ": Fortran-order (column-major) arrays are not supported";
    QTest::newRow("rank 1") << b(npy("<f4", "(15,)", rows)) << true
                            << ": wrong rank: shape (15,), expected [T, n_max] (aggregated) or [T, L, n_max] (per layer)";
    QTest::newRow("rank 4") << b(npy("<f4", "(1, 3, 1, 5)", rows)) << true << ": wrong rank: shape (1, 3, 1, 5)";
    QTest::newRow("n_max too small") << b(npy("<f4", "(5, 3)", rows)) << true
                                     << ": n_max = 3 < P + T - 1 = 6 (the last step needs that many scores)";
    QTest::newRow("truncated") << b(npy("<f4", "(3, 5)", rows.substr(0, 50))) << true
                               << ": truncated file: shape (3, 5) needs 60 bytes of data, only 50 follow the header";
    QTest::newRow("truncated header") << b(npy("<f4", "(3, 5)", rows).substr(0, 30)) << true
                                      << ": truncated file: the .npy header is cut off after byte 30";
    QTest::newRow("no prefill") << b(npy("<f4", "(3, 5)", rows)) << false
                                << ": prefill length unknown: give P (--prefill) or store an integer array named 'prefill' in the .npz";
    QTest::newRow("version 9") << b(npy("<f4", "(3, 5)", rows).replace(6, 1, "\x09")) << true
                               << ": unsupported .npy format version 9.0";
    std::vector<float> neg = aggregatedRows();
    neg[7] = -0.5f;   // t=1, i=2
    QTest::newRow("negative value") << b(npy("<f4", "(3, 5)", f32(neg))) << true
                                    << " at [1, 2]: score is negative (-0.500000) at step t=1, token i=2";
    std::vector<float> nan = aggregatedRows();
    nan[10] = kNaN;   // t=2, i=0
    QTest::newRow("NaN value") << b(npy("<f4", "(3, 5)", f32(nan))) << true
                               << " at [2, 0]: score is NaN (nan) at step t=2, token i=0";
    std::vector<double> big(6, 0.0);
    big[4] = 1e300;   // t=0, l=1, i=1 of [1, 2, 3]
    QTest::newRow("beyond float32 per layer") << b(npy("<f8", "(1, 2, 3)", f64(big))) << true
                                              << " at [0, 1, 1]: score is beyond the float32 range";
}

void TestImportNpy::errors()
{
    QFETCH(QByteArray, file);
    QFETCH(bool, givePrefill);
    QFETCH(QString, error);
    const std::string path = test::writeScratch("bad.npy", file.toStdString());
    auto s = freshStore("npy-bad.kvtr");
    ImportOptions o;
    if (givePrefill) o.prefill = 2;
    const QString got = errorOf([&] { importNpy(*s, path, o); });
    const QString want = QString::fromStdString(path) + error;
    QVERIFY2(got.startsWith(want), qPrintable(got + "\n  expected: " + want));
    QVERIFY(s->list().empty());
}

void TestImportNpy::npzErrors()
{
    auto s = freshStore("npz-bad.kvtr");
    const std::string good = npy("<f4", "(3, 5)", f32(aggregatedRows()));
    ImportOptions o;
    o.prefill = 2;

    // A deflated entry cut short: the archive is cut inside the entry's data.
    std::string z = zip({{"scores.npy", good, true}});
    const std::string cut = test::writeScratch("cut.npz", z.substr(0, 40) + z.substr(z.find("PK\x01\x02", 0)));
    QVERIFY(errorOf([&] { importNpy(*s, cut, o); }).startsWith(QString::fromStdString(cut)));

    // Truncated archive: the end-of-central-directory record is gone.
    const std::string noEnd = test::writeScratch("noend.npz", z.substr(0, z.size() - 22));
    QCOMPARE(errorOf([&] { importNpy(*s, noEnd, o); }),
             QString::fromStdString(noEnd + ": not a zip archive (no end-of-central-directory record); an .npz is a zip file"));

    // Entry data shorter than the array needs (stored).
    const std::string shortEntry = test::writeScratch("short.npz", zip({{"scores.npy", good.substr(0, good.size() - 8)}}));
    QVERIFY(errorOf([&] { importNpy(*s, shortEntry, o); })
                .startsWith(QString::fromStdString(shortEntry + " entry 'scores.npy': truncated file: shape (3, 5) needs 60 bytes")));

    // CRC mismatch.
    const std::string badCrc = test::writeScratch("crc.npz", zip({{"scores.npy", good, true}}, false, true));
    QCOMPARE(errorOf([&] { importNpy(*s, badCrc, o); }),
             QString::fromStdString(badCrc + " entry 'scores.npy': CRC-32 mismatch: the archive entry is corrupt"));

    // Corrupt deflate stream.
    std::string garbage = zip({{"scores.npy", good, true}});
    garbage[40] = static_cast<char>(0xFF);
    garbage[41] = static_cast<char>(0xFF);
    garbage[42] = static_cast<char>(0xFF);
    const std::string corrupt = test::writeScratch("corrupt.npz", garbage);
    QVERIFY(errorOf([&] { importNpy(*s, corrupt, o); }).startsWith(QString::fromStdString(corrupt + " entry 'scores.npy': ")));

    // No float array; bad prefill array; empty archive.
    const std::string ints = test::writeScratch("ints.npz", zip({{"x.npy", npy("<i8", "()", i64(3))}}));
    QCOMPARE(errorOf([&] { importNpy(*s, ints, o); }),
             QString::fromStdString(ints + ": no float array to import (the archive holds: x)"));
    const std::string badPrefill = test::writeScratch("badp.npz", zip({{"scores.npy", good}, {"prefill.npy", npy("<f4", "()", f32({2}))}}));
    QCOMPARE(errorOf([&] { importNpy(*s, badPrefill, {}); }),
             QString::fromStdString(badPrefill + " entry 'prefill.npy': the prefill array must be a little-endian integer, not dtype '<f4'"));
    const std::string negPrefill = test::writeScratch("negp.npz", zip({{"scores.npy", good}, {"prefill.npy", npy("<i8", "()", i64(-4))}}));
    QCOMPARE(errorOf([&] { importNpy(*s, negPrefill, {}); }),
             QString::fromStdString(negPrefill + " entry 'prefill.npy': prefill P = -4 is negative"));
    const std::string empty = test::writeScratch("empty.npz", zip({}));
    QCOMPARE(errorOf([&] { importNpy(*s, empty, o); }), QString::fromStdString(empty + ": empty .npz archive (no arrays)"));
    QVERIFY(s->list().empty());

    // A .npy cannot choose an array.
    const std::string single = test::writeScratch("single.npy", good);
    ImportOptions a = o;
    a.array = "x";
    QVERIFY(errorOf([&] { importNpy(*s, single, a); }).contains("a .npy file holds one array"));
}

void TestImportNpy::headerDictParser()
{
    const NpyHeader h = parseNpyHeaderDict("{'descr': '<f8', 'fortran_order': False, 'shape': (10, 3, 7), }", "x");
    QCOMPARE(h.descr, std::string("<f8"));
    QCOMPARE(h.kind, 'f');
    QCOMPARE(h.item_size, 8);
    QCOMPARE(h.byte_order, '<');
    QCOMPARE(h.shape, (std::vector<uint64_t>{10, 3, 7}));
    const NpyHeader s = parseNpyHeaderDict("{\"shape\": (), \"fortran_order\": True, \"descr\": \"|u1\"}", "x");
    QVERIFY(s.shape.empty());
    QVERIFY(s.fortran_order);
    QCOMPARE(s.item_size, 1);
    QVERIFY(errorOf([] { parseNpyHeaderDict("{'descr': '<f4', 'shape': (1,)}", "x"); }).contains("lacks descr, fortran_order or shape"));
    QVERIFY(errorOf([] { parseNpyHeaderDict("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", "x"); })
                .contains("fortran_order must be True or False"));
    QVERIFY(errorOf([] { parseNpyHeaderDict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "x"); })
                .contains("structured dtypes are not supported"));
}

QTEST_GUILESS_MAIN(TestImportNpy)
#include "tst_import_npy.moc"
