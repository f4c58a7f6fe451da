// The compact record encodings index_varint and ranked_varint (docs/TRACE_FORMAT.md §2):
// hand-worked bytes, round trips, every refusal of a damaged BLOB with its message, and a
// generated selection trace stored both ways (same records, fewer bytes).
#include "core/model/error.hpp"
#include "core/store/blob_codec.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "test_support.hpp"

#include <sqlite3.h>

#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

using namespace kvtier;
using test::errorOf;
using test::freshStore;

namespace {

using Bytes = std::vector<unsigned char>;

Bytes encode(Encoding e, int64_t n, const std::vector<uint32_t>& index, const std::vector<float>& value = {})
{
    Bytes out;
    const std::vector<float> ones(index.size(), 1.0f);
    const EncodedRecord r = encodeRecord(e, n, index, value.empty() ? ones : value, out);
    if (r.count != static_cast<int64_t>(index.size()) || r.nonzero != r.count) out = {0xEE};   // fails any compare
    return out;
}

QString decodeError(Encoding e, int64_t n, int64_t count, const Bytes& blob)
{
    std::vector<uint32_t> index;
    std::vector<float> value;
    return errorOf([&] { decodeRecord(e, n, count, blob, index, value); });
}

// The rank scores of an order given first to last (len for the first, 1 for the last).
void rankScores(const std::vector<uint32_t>& order, std::vector<uint32_t>& index, std::vector<float>& value)
{
    rankScoresFromOrder(order, index, value);
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

constexpr qint64 kTop = qint64{1} << 32;   // n_t of the largest context: indices up to 2^32 - 1 (qint64: QTest data)

} // namespace

class TestBlobVarint : public QObject {
    Q_OBJECT
private slots:
    void namesRoundTrip();
    void indexVarintHandBytes();
    void rankedVarintHandBytes();
    void randomRoundTrips();
    void refusals_data();
    void refusals();
    void hugeCountRefusedBeforeAllocating();
    void selectionTraceStoredBothWays();
    void rankedTraceStoredAsVarint();
    void encodingMustFitKind();
    void entriesHintCountsVarintBytes();
    void fuzzSeedsBehaveAsNamed();
};

void TestBlobVarint::namesRoundTrip()
{
    QCOMPARE(QString(toString(Encoding::IndexVarint)), QStringLiteral("index_varint"));
    QCOMPARE(QString(toString(Encoding::RankedVarint)), QStringLiteral("ranked_varint"));
    QCOMPARE(encodingFromString("index_varint"), Encoding::IndexVarint);
    QCOMPARE(encodingFromString("ranked_varint"), Encoding::RankedVarint);
    QCOMPARE(kindOfEncoding(Encoding::IndexVarint), RecordKind::Selection);
    QCOMPARE(kindOfEncoding(Encoding::RankedVarint), RecordKind::Ranked);
    QCOMPARE(kindOfEncoding(Encoding::IndexU32), RecordKind::Selection);
    QCOMPARE(kindOfEncoding(Encoding::SparseF16), RecordKind::Scores);
}

void TestBlobVarint::indexVarintHandBytes()
{
    // {0, 1, 2, 130, 131}: first 0 as is; gaps 1-0-1 = 0, 2-1-1 = 0, 130-2-1 = 127 (0x7F,
    // the largest one-byte varint), 131-130-1 = 0.
    QCOMPARE(encode(Encoding::IndexVarint, 200, {0, 1, 2, 130, 131}), (Bytes{0x00, 0x00, 0x00, 0x7F, 0x00}));
    // {200}: 200 = 1 * 128 + 72 -> 0x48 | 0x80 = 0xC8, then 0x01.
    QCOMPARE(encode(Encoding::IndexVarint, 201, {200}), (Bytes{0xC8, 0x01}));
    // {0, 2^32 - 1}: 0, then the gap 2^32 - 2 = 0xFFFFFFFE -> 7-bit groups 0x7E, 0x7F, 0x7F,
    // 0x7F, 0x0F, the first four with the continuation bit.
    QCOMPARE(encode(Encoding::IndexVarint, kTop, {0, 4294967295u}), (Bytes{0x00, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F}));
    // {2^32 - 1} alone: the largest varint.
    QCOMPARE(encode(Encoding::IndexVarint, kTop, {4294967295u}), (Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
    QCOMPARE(encode(Encoding::IndexVarint, 10, {}), Bytes{});

    std::vector<uint32_t> index;
    std::vector<float> value;
    decodeRecord(Encoding::IndexVarint, 200, 5, Bytes{0x00, 0x00, 0x00, 0x7F, 0x00}, index, value);
    QCOMPARE(index, (std::vector<uint32_t>{0, 1, 2, 130, 131}));
    QCOMPARE(value, (std::vector<float>(5, 1.0f)));
    // A padded varint (0x80 0x00 is 0 in two bytes) reads as its value.
    decodeRecord(Encoding::IndexVarint, 3, 2, Bytes{0x80, 0x00, 0x01}, index, value);
    QCOMPARE(index, (std::vector<uint32_t>{0, 2}));
}

void TestBlobVarint::rankedVarintHandBytes()
{
    // Order {5, 2, 300}: differences 5 - 0 = 5, 2 - 5 = -3, 300 - 2 = 298; zigzag 2d for
    // d >= 0, -2d - 1 for d < 0: 10 (0x0A), 5 (0x05), 596 = 4 * 128 + 84 -> 0xD4 0x04.
    std::vector<uint32_t> index;
    std::vector<float> value;
    rankScores({5, 2, 300}, index, value);
    QCOMPARE(index, (std::vector<uint32_t>{2, 5, 300}));
    QCOMPARE(value, (std::vector<float>{2, 3, 1}));
    QCOMPARE(encode(Encoding::RankedVarint, 301, index, value), (Bytes{0x0A, 0x05, 0xD4, 0x04}));
    std::vector<uint32_t> gotIndex;
    std::vector<float> gotValue;
    decodeRecord(Encoding::RankedVarint, 301, 3, Bytes{0x0A, 0x05, 0xD4, 0x04}, gotIndex, gotValue);
    QCOMPARE(gotIndex, index);
    QCOMPARE(gotValue, value);
    // Differences are modulo 2^32: 0 then 2^32 - 1 is a step of -1 (zigzag 1), one byte.
    rankScores({0, 4294967295u}, index, value);
    QCOMPARE(encode(Encoding::RankedVarint, kTop, index, value), (Bytes{0x00, 0x01}));
    // ... and 2^32 - 1 then 0 a step of +1 after the first entry's -1 (zigzag 2).
    rankScores({4294967295u, 0}, index, value);
    QCOMPARE(encode(Encoding::RankedVarint, kTop, index, value), (Bytes{0x01, 0x02}));
}

void TestBlobVarint::randomRoundTrips()
{
    std::mt19937_64 rng(20261203);
    for (int round = 0; round < 200; ++round) {
        // Contexts small and at the top of the u32 range; density from empty to full.
        const int64_t n = round % 3 == 0 ? kTop : int64_t{1} + static_cast<int64_t>(rng() % 3000);
        const uint64_t take = round % 7 == 0 ? 0 : rng() % 600;
        std::vector<uint32_t> pick;
        for (uint64_t k = 0; k < take; ++k) {
            uint64_t i = rng() % static_cast<uint64_t>(std::min<int64_t>(n, 1000));
            if (n == kTop && k % 2 == 0) i = static_cast<uint64_t>(kTop) - 1 - i;   // near 2^32 - 1
            else if (n == kTop && k % 5 == 0) i = rng() % static_cast<uint64_t>(kTop);
            pick.push_back(static_cast<uint32_t>(i));
        }
        std::vector<uint32_t> sorted = pick;
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

        const Bytes sel = encode(Encoding::IndexVarint, n, sorted);
        QVERIFY(sel.size() >= sorted.size() && sel.size() <= 5 * sorted.size());
        std::vector<uint32_t> index;
        std::vector<float> value;
        decodeRecord(Encoding::IndexVarint, n, static_cast<int64_t>(sorted.size()), sel, index, value);
        QCOMPARE(index, sorted);
        QCOMPARE(value, std::vector<float>(sorted.size(), 1.0f));

        // A ranked order: the distinct picks in a random order.
        std::vector<uint32_t> order = sorted;
        std::shuffle(order.begin(), order.end(), rng);
        std::vector<uint32_t> rIndex;
        std::vector<float> rValue;
        rankScores(order, rIndex, rValue);
        const Bytes ranked = encode(Encoding::RankedVarint, n, rIndex, rValue);
        QVERIFY(ranked.size() >= order.size() && ranked.size() <= 5 * order.size());
        decodeRecord(Encoding::RankedVarint, n, static_cast<int64_t>(order.size()), ranked, index, value);
        QCOMPARE(index, rIndex);
        QCOMPARE(value, rValue);
        QCOMPARE(orderFromRankScores(index, value), order);
    }
}

void TestBlobVarint::refusals_data()
{
    QTest::addColumn<Encoding>("encoding");
    QTest::addColumn<qint64>("n");
    QTest::addColumn<qint64>("count");
    QTest::addColumn<QByteArray>("blob");
    QTest::addColumn<QString>("message");
    const auto I = Encoding::IndexVarint;
    const auto R = Encoding::RankedVarint;
    QTest::newRow("truncated varint") << I << qint64{10} << qint64{2} << QByteArray::fromHex("0080")
                                      << "truncated varint: entry 1 at byte 1 runs past the end of the 2-byte BLOB";
    QTest::newRow("ranked truncated varint") << R << qint64{10} << qint64{1} << QByteArray::fromHex("ff")
                                             << "truncated varint: entry 0 at byte 0 runs past the end of the 1-byte BLOB";
    QTest::newRow("6-byte varint") << I << kTop << qint64{1} << QByteArray::fromHex("808080808000")
                                   << "varint of entry 0 at byte 0 is longer than 5 bytes";
    // 0x10 in the fifth byte is bit 32: 2^32.
    QTest::newRow("value 2^32") << I << kTop << qint64{1} << QByteArray::fromHex("8080808010")
                                << "varint of entry 0 at byte 0 exceeds 2^32 - 1";
    QTest::newRow("ranked value above 2^32-1") << R << kTop << qint64{2} << QByteArray::fromHex("00ffffffff7f")
                                               << "varint of entry 1 at byte 1 exceeds 2^32 - 1";
    QTest::newRow("trailing byte") << I << qint64{10} << qint64{1} << QByteArray::fromHex("0000")
                                   << "oversized BLOB: 2 bytes, index_varint with count 1 ends at byte 1 (trailing bytes)";
    QTest::newRow("ranked trailing byte") << R << qint64{10} << qint64{2} << QByteArray::fromHex("020200")
                                          << "oversized BLOB: 3 bytes, ranked_varint with count 2 ends at byte 2 (trailing bytes)";
    QTest::newRow("first index >= n_t") << I << qint64{5} << qint64{1} << QByteArray::fromHex("05")
                                        << "token index 5 >= n_t = 5";
    // 0, then 0 + 1 + 4 = 5.
    QTest::newRow("gap past n_t") << I << qint64{5} << qint64{2} << QByteArray::fromHex("0004")
                                  << "token index 5 >= n_t = 5";
    // 2^32 - 1, then one more: the 33-bit sum is caught, not wrapped to 0.
    QTest::newRow("gap past 2^32 - 1") << I << kTop << qint64{2} << QByteArray::fromHex("ffffffff0f00")
                                       << "token index 4294967296 >= n_t = 4294967296";
    QTest::newRow("ranked index >= n_t") << R << qint64{5} << qint64{1} << QByteArray::fromHex("0a")
                                         << "token index 5 >= n_t = 5";
    // 0, then a step of -2 (zigzag 3) wraps to 2^32 - 2: far past n_t.
    QTest::newRow("ranked step below 0") << R << qint64{5} << qint64{2} << QByteArray::fromHex("0003")
                                         << "token index 4294967294 >= n_t = 5";
    // 5, then a step of 0: token 5 twice.
    QTest::newRow("ranked duplicate") << R << qint64{10} << qint64{2} << QByteArray::fromHex("0a00")
                                      << "token index 5 appears twice in the ranked list";
    QTest::newRow("count above the BLOB") << I << qint64{10} << qint64{3} << QByteArray::fromHex("0000")
                                          << "truncated BLOB: 2 bytes, index_varint with count 3 needs at least 3";
    QTest::newRow("ranked count above the BLOB") << R << qint64{10} << qint64{1} << QByteArray()
                                                 << "truncated BLOB: 0 bytes, ranked_varint with count 1 needs at least 1";
    QTest::newRow("count above n_t") << I << qint64{2} << qint64{3} << QByteArray::fromHex("000000")
                                     << "entry count 3 > n_t = 2";
    QTest::newRow("negative count") << R << qint64{2} << qint64{-1} << QByteArray() << "negative entry count -1";
}

void TestBlobVarint::refusals()
{
    QFETCH(Encoding, encoding);
    QFETCH(qint64, n);
    QFETCH(qint64, count);
    QFETCH(QByteArray, blob);
    QFETCH(QString, message);
    QCOMPARE(decodeError(encoding, n, count, Bytes(blob.begin(), blob.end())), message);
}

void TestBlobVarint::hugeCountRefusedBeforeAllocating()
{
    // 2^62 entries in 2 bytes: refused by size, nothing reserved (a reserve would throw
    // bad_alloc or length_error, not this InputError).
    const int64_t huge = int64_t{1} << 62;
    QCOMPARE(decodeError(Encoding::IndexVarint, huge, huge, Bytes{0, 0}),
             QStringLiteral("truncated BLOB: 2 bytes, index_varint with count 4611686018427387904 needs at least "
                            "4611686018427387904"));
    QCOMPARE(decodeError(Encoding::RankedVarint, huge, huge, Bytes{0, 0}),
             QStringLiteral("truncated BLOB: 2 bytes, ranked_varint with count 4611686018427387904 needs at least "
                            "4611686018427387904"));
    // A ranked count above 2^24 that the BLOB could hold is refused before the order is
    // sized (4 bytes an entry in memory against 1 in the BLOB).
    const Bytes zeros(size_t{1} << 24 | 1, 0);
    QCOMPARE(decodeError(Encoding::RankedVarint, huge, int64_t{1} << 24 | 1, zeros),
             QStringLiteral("a ranked record of 16777217 entries exceeds the limit of 16777216"));
}

void TestBlobVarint::selectionTraceStoredBothWays()
{
    // A top-k selection trace (ratio 0.1 of each context), stored as index_u32 and as
    // index_varint: the same records back, in at most 35% of the record bytes.
    GeneratorParams p;
    p.prefill = 4096;
    p.steps = 32;
    p.layers = 4;
    p.per_layer = true;
    p.selection_ratio = 0.1;
    TraceMeta meta = generatorMeta(p);
    auto store = freshStore("varint-selection.kvtr");
    for (const auto& [name, enc] : {std::pair{"u32", Encoding::IndexU32}, std::pair{"varint", Encoding::IndexVarint}}) {
        meta.name = name;
        auto w = store->beginTrace(meta, enc);
        generate(p, [&](const Record& r) { w->add(r); });
        w->commit();
    }
    const TraceSummary u32 = store->get("u32");
    const TraceSummary varint = store->get("varint");
    QCOMPARE(u32.encoding, Encoding::IndexU32);
    QCOMPARE(varint.encoding, Encoding::IndexVarint);
    QCOMPARE(varint.entries, u32.entries);
    QCOMPARE(u32.blob_bytes, 4 * u32.entries);
    QVERIFY(varint.blob_bytes >= varint.entries);   // at least a byte an entry
    const double ratio = static_cast<double>(varint.blob_bytes) / static_cast<double>(u32.blob_bytes);
    QVERIFY2(ratio <= 0.35, qPrintable(QString("varint/u32 record bytes %1").arg(ratio)));

    const Trace a = store->load("u32");
    const Trace b = store->load("varint");
    QCOMPARE(b.recordCount(), a.recordCount());
    QCOMPARE(b.recordCount(), int64_t{32 * 4});
    for (size_t r = 0; r < static_cast<size_t>(a.recordCount()); ++r) {
        QVERIFY(std::ranges::equal(a.indices(r), b.indices(r)));
        QVERIFY(std::ranges::equal(a.values(r), b.values(r)));
    }
    // ceil(0.1 * n_t) per record: step 0 selects ceil(409.6) = 410 tokens.
    QCOMPARE(b.indices(0).size(), size_t{410});
}

void TestBlobVarint::rankedTraceStoredAsVarint()
{
    TraceMeta m;
    m.name = "ranked";
    m.prefill = 400;
    m.steps = 2;
    m.kind = RecordKind::Ranked;
    auto store = freshStore("varint-ranked.kvtr");
    auto w = store->beginTrace(m, Encoding::RankedVarint);
    Record r;
    rankScoresFromOrder(std::vector<uint32_t>{5, 2, 300}, r.index, r.value);
    w->add(r);
    r.step = 1;
    rankScoresFromOrder(std::vector<uint32_t>{}, r.index, r.value);
    w->add(r);
    w->commit();
    const TraceSummary s = store->get("ranked");
    QCOMPARE(s.encoding, Encoding::RankedVarint);
    QCOMPARE(s.blob_bytes, int64_t{4});   // 0A 05 D4 04, and an empty record
    QCOMPARE(s.entries, int64_t{3});
    const Trace t = store->load("ranked");
    QCOMPARE(orderFromRankScores(t.indices(0), t.values(0)), (std::vector<uint32_t>{5, 2, 300}));
    QCOMPARE(t.indices(1).size(), size_t{0});
}

void TestBlobVarint::encodingMustFitKind()
{
    auto store = freshStore("varint-kinds.kvtr");
    TraceMeta m;
    m.name = "x";
    m.prefill = 3;
    m.steps = 1;
    m.kind = RecordKind::Ranked;
    QCOMPARE(errorOf([&] { store->beginTrace(m, Encoding::IndexVarint); }),
             QString::fromStdString(store->path() + " trace 'x': ranked traces are stored as ranked_u32, not "
                                                    "index_varint (ranked_varint is the compact alternative)"));
    m.kind = RecordKind::Selection;
    QCOMPARE(errorOf([&] { store->beginTrace(m, Encoding::RankedVarint); }),
             QString::fromStdString(store->path() + " trace 'x': selection traces are stored as index_u32, not "
                                                    "ranked_varint (index_varint is the compact alternative)"));
    m.kind = RecordKind::Scores;
    QCOMPARE(errorOf([&] { store->beginTrace(m, Encoding::IndexVarint); }),
             QString::fromStdString(store->path() + " trace 'x': score traces cannot be stored as index_varint "
                                                    "(use f32, f16, sparse_f32 or sparse_f16)"));
    // A reader refuses a varint record in a trace of the other kind.
    m.kind = RecordKind::Selection;
    {
        auto w = store->beginTrace(m, Encoding::IndexVarint);
        Record r;
        r.index = {0, 2};
        w->add(r);
        w->commit();
    }
    const std::string p = store->path();
    store.reset();
    rawExec(p, "UPDATE records SET encoding = 'ranked_varint'");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(errorOf([&] { s->load("x"); }),
             QString::fromStdString(p + " trace 'x' record (t=0, l=-1): encoding ranked_varint does not fit a selection trace"));
}

void TestBlobVarint::entriesHintCountsVarintBytes()
{
    // Records of one byte an entry: entries == the record bytes loads; one more is refused
    // (a varint entry takes at least 1 byte), so load() never reserves beyond the file.
    auto store = freshStore("varint-entries.kvtr");
    TraceMeta m;
    m.name = "x";
    m.prefill = 8;
    m.steps = 2;
    m.kind = RecordKind::Selection;
    {
        auto w = store->beginTrace(m, Encoding::IndexVarint);
        Record r;
        r.index = {0, 1, 2, 3, 4, 5, 6, 7};   // 8 zero bytes
        w->add(r);
        r.step = 1;
        r.index = {8};                        // 1 byte
        w->add(r);
        w->commit();
    }
    QCOMPARE(store->get("x").blob_bytes, int64_t{9});
    QCOMPARE(store->get("x").entries, int64_t{9});
    QCOMPARE(store->load("x").entryCount(), size_t{9});
    const std::string p = store->path();
    store.reset();
    rawExec(p, "UPDATE traces SET entries = 10");
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(errorOf([&] { s->load("x"); }),
             QString::fromStdString(p + " trace 'x': entries = 10, but its records hold 9 bytes (at most 9 entries)"));
    // The same bytes as index_u32 records hold at most 4 entries (9 / 2, by record: 8/2 + 1/2).
    s.reset();
    rawExec(p, "UPDATE records SET encoding = 'index_u32'");
    s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(errorOf([&] { s->load("x"); }),
             QString::fromStdString(p + " trace 'x': entries = 10, but its records hold 9 bytes (at most 4 entries)"));
}

void TestBlobVarint::fuzzSeedsBehaveAsNamed()
{
    // tests/fuzz/corpus/record_blob (make_corpus.py, read by fuzz_record_blob.cpp): a 13-byte
    // head (encoding, n_t - 1 as u32, count as i64), then the BLOB. ok_* decodes, bad_* is
    // refused.
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(KVTIER_TEST_DATA_DIR).parent_path() / "fuzz" / "corpus" / "record_blob";
    const Encoding encodings[] = {Encoding::DenseF32,  Encoding::DenseF16,  Encoding::SparseF32,
                                  Encoding::SparseF16, Encoding::IndexU32,  Encoding::RankedU32,
                                  Encoding::IndexVarint, Encoding::RankedVarint};
    int ok = 0, bad = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const Bytes file{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        QVERIFY(file.size() >= 13);
        if (file[0] % 9 == 8) continue;   // index_step_delta: tst_step_delta::fuzzSeedsBehaveAsNamed
        uint64_t n1 = 0, c = 0;
        for (int k = 0; k < 4; ++k) n1 |= uint64_t{file[1 + static_cast<size_t>(k)]} << (8 * k);
        for (int k = 0; k < 8; ++k) c |= uint64_t{file[5 + static_cast<size_t>(k)]} << (8 * k);
        const QString err = decodeError(encodings[file[0] % 9], static_cast<int64_t>(n1) + 1, static_cast<int64_t>(c),
                                        Bytes(file.begin() + 13, file.end()));
        const std::string name = entry.path().filename().string();
        if (name.rfind("ok_", 0) == 0) {
            QVERIFY2(err == "<no error>", qPrintable(QString::fromStdString(name) + ": " + err));
            ++ok;
        } else {
            QVERIFY2(err != "<no error>" && !err.contains('\n'), qPrintable(QString::fromStdString(name) + ": " + err));
            ++bad;
        }
    }
    QCOMPARE(ok, 8);
    QCOMPARE(bad, 8);
}

QTEST_GUILESS_MAIN(TestBlobVarint)
#include "tst_blob_varint.moc"
