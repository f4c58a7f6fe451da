// The CSV importers (paper CSV, long CSV) and the long-CSV export: what each accepts, the
// error (file:line and problem) for each bad input, and export -> import bit for bit.
#include "core/io/export_csv.hpp"
#include "core/io/import_long_csv.hpp"
#include "core/io/import_paper_csv.hpp"
#include "core/io/importers.hpp"
#include "core/io/trace_comment.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "test_support.hpp"

#include <QCryptographicHash>
#include <QFile>
#include <QtTest>

#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

using namespace kvtier;
using test::errorOf;
using test::freshStore;
using test::sha256;

namespace {

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

// Two traces equal in metadata and bit for bit in every record.
void compareTraces(const Trace& a, const Trace& b)
{
    QCOMPARE(a.meta().prefill, b.meta().prefill);
    QCOMPARE(a.meta().steps, b.meta().steps);
    QCOMPARE(a.meta().layers, b.meta().layers);
    QCOMPARE(a.meta().layer_mode, b.meta().layer_mode);
    QCOMPARE(a.meta().kind, b.meta().kind);
    QCOMPARE(a.meta().description, b.meta().description);
    QCOMPARE(a.meta().source, b.meta().source);
    QCOMPARE(a.meta().model_name, b.meta().model_name);
    QCOMPARE(a.meta().head_reduction, b.meta().head_reduction);
    QCOMPARE(a.meta().notes, b.meta().notes);
    QCOMPARE(a.recordCount(), b.recordCount());
    for (int64_t r = 0; r < a.recordCount(); ++r) {
        const auto ia = a.indices(static_cast<size_t>(r)), ib = b.indices(static_cast<size_t>(r));
        const auto va = a.values(static_cast<size_t>(r)), vb = b.values(static_cast<size_t>(r));
        QCOMPARE(ia.size(), ib.size());
        for (size_t k = 0; k < ia.size(); ++k) {
            QCOMPARE(ia[k], ib[k]);
            QCOMPARE(std::bit_cast<uint32_t>(va[k]), std::bit_cast<uint32_t>(vb[k]));
        }
    }
}

} // namespace

class TestImportCsv : public QObject {
    Q_OBJECT
private slots:
    void paperCsv();
    void paperCsvAggregated();
    void paperCsvOneLayerAndPrefillOption();
    void paperCsvErrors_data();
    void paperCsvErrors();
    void paperCsvFailureLeavesStoreUnchanged();

    void longCsvAggregated();
    void longCsvPerLayerInferred();
    void longCsvCommentCarriesMetadata();
    void longCsvErrors_data();
    void longCsvErrors();
    void longCsvNeedsPrefill();

    void traceCommentRoundTrip();
    void legacyTraceCommentStillRead();
    void jsonTraceCommentErrorsAreOneLine();
    void exportText();
    void exportImportRoundTrip_data();
    void exportImportRoundTrip();
    void exportToFileAndStdoutMarker();

    void guessFormat();
};

// ---- paper CSV --------------------------------------------------------------------------

void TestImportCsv::paperCsv()
{
    // P = 5, L = 2, T = 3. Layers in any order within a step; n itself dropped; duplicates
    // merged; unquoted one-element list; empty list; CRLF line ends and a BOM.
    const std::string csv = "\xEF\xBB\xBFn,l,read_kv\r\n"
                            "5,1,\"[4, 0, 0, 5]\"\r\n"
                            "5,0,\"[0, 1, 2]\"\r\n"
                            "6,0,[3]\r\n"
                            "6,1,\"[]\"\r\n"
                            "\r\n"
                            "7,1,\"[ 6 , 0 ]\"\r\n"
                            "7,0,\"[7, 1]\"\r\n";
    const std::string path = test::writeScratch("qasper_run.csv", csv);
    auto s = freshStore("paper.kvtr");
    const TraceSummary sum = importPaperCsv(*s, path, {});
    QCOMPARE(sum.meta.name, std::string("qasper_run"));
    QCOMPARE(sum.meta.prefill, int64_t{5});
    QCOMPARE(sum.meta.steps, int64_t{3});
    QCOMPARE(sum.meta.layers, 2);
    QCOMPARE(sum.meta.layer_mode, LayerMode::PerLayer);
    QCOMPARE(sum.meta.kind, RecordKind::Selection);
    QCOMPARE(sum.encoding, Encoding::IndexU32);
    QCOMPARE(sum.meta.head_reduction, std::string("mean"));
    QCOMPARE(sum.meta.source, "paper-csv " + path);
    QCOMPARE(sum.records, int64_t{6});
    const Trace t = s->load("qasper_run");
    QCOMPARE(idx(t, 0, 0), (std::vector<uint32_t>{0, 1, 2}));
    QCOMPARE(idx(t, 0, 1), (std::vector<uint32_t>{0, 4}));
    QCOMPARE(idx(t, 1, 0), (std::vector<uint32_t>{3}));
    QCOMPARE(idx(t, 1, 1), (std::vector<uint32_t>{}));
    QCOMPARE(idx(t, 2, 0), (std::vector<uint32_t>{1}));   // 7 = n is the new token: dropped
    QCOMPARE(idx(t, 2, 1), (std::vector<uint32_t>{0, 6}));
    QCOMPARE(val(t, 2, 1), (std::vector<float>{1.0f, 1.0f}));
}

void TestImportCsv::paperCsvAggregated()
{
    const std::string path = test::writeScratch("agg.csv", "n,l,read_kv\n"
                                                           "3,0,\"[0]\"\n3,1,\"[2, 0]\"\n"
                                                           "4,1,\"[3]\"\n4,0,\"[1, 4]\"\n");
    auto s = freshStore("paper-agg.kvtr");
    ImportOptions o;
    o.layer_mode = LayerMode::Aggregated;
    o.name = "union";
    o.description = "layers merged";
    o.model_name = "Llama-3.1-8B";
    o.layers = 80;   // ignored: the file says L
    const TraceSummary sum = importPaperCsv(*s, path, o);
    QCOMPARE(sum.meta.layer_mode, LayerMode::Aggregated);
    QCOMPARE(sum.meta.layers, 2);   // the model's layer count, kept for timing
    QCOMPARE(sum.meta.description, std::string("layers merged"));
    QCOMPARE(sum.meta.model_name, std::string("Llama-3.1-8B"));
    QCOMPARE(sum.records, int64_t{2});
    const Trace t = s->load("union");
    QCOMPARE(idx(t, 0, 0), (std::vector<uint32_t>{0, 2}));
    QCOMPARE(idx(t, 1, 0), (std::vector<uint32_t>{1, 3}));
}

void TestImportCsv::paperCsvOneLayerAndPrefillOption()
{
    const std::string path = test::writeScratch("one.csv", "n,l,read_kv\n10,0,\"[9]\"\n11,0,\"[10, 11]\"\n");
    auto s = freshStore("paper-one.kvtr");
    ImportOptions o;
    o.prefill = 10;
    o.encoding = Encoding::IndexU32;
    const TraceSummary sum = importPaperCsv(*s, path, o);
    QCOMPARE(sum.meta.layers, 1);
    QCOMPARE(sum.meta.steps, int64_t{2});
    ImportOptions wrong;
    wrong.prefill = 9;
    wrong.replace = true;
    QCOMPARE(errorOf([&] { importPaperCsv(*s, path, wrong); }),
             QString::fromStdString(path + ":2: the first row has n = 10, so P = 10, but P = 9 was given"));
    ImportOptions f32;
    f32.encoding = Encoding::DenseF32;
    QVERIFY(errorOf([&] { importPaperCsv(*s, path, f32); }).contains("stored as index_u32, not f32"));
}

void TestImportCsv::paperCsvErrors_data()
{
    QTest::addColumn<QString>("csv");
    QTest::addColumn<QString>("error");   // ":<line>: problem"
    const QString h = "n,l,read_kv\n";
    QTest::newRow("wrong header") << "n,layer,read_kv\n5,0,\"[1]\"\n"
                                  << ":1: expected the header 'n,l,read_kv', found 'n,layer,read_kv'";
    QTest::newRow("empty file") << "" << ": empty file (expected the header 'n,l,read_kv')";
    QTest::newRow("header only") << h << ": no data rows after the header";
    QTest::newRow("non-numeric n") << h + "5,0,\"[1]\"\nsix,0,\"[1]\"\n" << ":3: n is not an integer: 'six'";
    QTest::newRow("non-numeric l") << h + "5,x,\"[1]\"\n" << ":2: l is not an integer: 'x'";
    QTest::newRow("non-numeric index") << h + "5,0,\"[1, two]\"\n" << ":2: token index is not an integer: 'two'";
    QTest::newRow("float index") << h + "5,0,\"[1.5]\"\n" << ":2: token index is not an integer: '1.5'";
    QTest::newRow("too few fields") << h + "5,0\n" << ":2: expected three fields n,l,read_kv, found '5,0'";
    QTest::newRow("unterminated quote") << h + "5,0,\"[1, 2]\n" << ":2: unterminated quote in read_kv";
    QTest::newRow("unterminated bracket") << h + "5,0,\"[1, 2\"\n" << ":2: unterminated list in read_kv (missing ']')";
    QTest::newRow("no bracket") << h + "5,0,\"1, 2\"\n" << ":2: read_kv must be a bracketed list";
    QTest::newRow("text after bracket") << h + "5,0,\"[1] x\"\n" << ":2: unexpected text after ']' in read_kv: 'x'";
    QTest::newRow("empty element") << h + "5,0,\"[1,,2]\"\n" << ":2: empty element in read_kv list";
    QTest::newRow("index > n") << h + "5,0,\"[1]\"\n6,0,\"[7]\"\n"
                               << ":3: token index 7 >= n_t = 6 (at n = 6 the readable tokens are 0..5)";
    QTest::newRow("negative index") << h + "5,0,\"[-1]\"\n" << ":2: token index -1 is negative";
    QTest::newRow("negative n") << h + "-5,0,\"[]\"\n" << ":2: n = -5 is negative";
    QTest::newRow("steps out of order") << h + "5,0,\"[1]\"\n6,0,\"[1]\"\n5,0,\"[2]\"\n"
                                        << ":4: steps out of order: n = 5 after n = 6 (rows must come in non-decreasing n)";
    QTest::newRow("missing step") << h + "5,0,\"[1]\"\n7,0,\"[1]\"\n" << ":3: step n = 6 is missing (n jumps from 5 to 7)";
    QTest::newRow("missing layer") << h + "5,0,\"[1]\"\n5,1,\"[1]\"\n6,1,\"[1]\"\n7,0,\"[1]\"\n"
                                   << ":4: step n = 6 has no row for layer l = 0 (every step needs layers 0..1)";
    QTest::newRow("gap in first step") << h + "5,0,\"[1]\"\n5,2,\"[1]\"\n"
                                       << ":3: step n = 5 has no row for layer l = 1 (every step needs layers 0..2)";
    QTest::newRow("layer beyond L") << h + "5,0,\"[1]\"\n6,0,\"[1]\"\n6,1,\"[1]\"\n"
                                    << ":4: layer l = 1 but the first step has L = 1 layers (0..0)";
    QTest::newRow("duplicate row") << h + "5,0,\"[1]\"\n5,1,\"[1]\"\n5,0,\"[2]\"\n"
                                   << ":4: second row for n = 5, l = 0 (the first is on line 2)";
    QTest::newRow("comment") << h + "# note\n" << ":2: unexpected line '# note' (paper CSV has no comments)";
}

void TestImportCsv::paperCsvErrors()
{
    QFETCH(QString, csv);
    QFETCH(QString, error);
    const std::string path = test::writeScratch("bad_paper.csv", csv.toStdString());
    auto s = freshStore("paper-bad.kvtr");
    const QString got = errorOf([&] { importPaperCsv(*s, path, {}); });
    const QString want = QString::fromStdString(path) + error;
    QVERIFY2(got.startsWith(want), qPrintable(got + "\n  expected: " + want));
    QVERIFY(s->list().empty());
}

void TestImportCsv::paperCsvFailureLeavesStoreUnchanged()
{
    auto s = freshStore("paper-atomic.kvtr");
    const std::string good = test::writeScratch("good.csv", "n,l,read_kv\n2,0,\"[0]\"\n3,0,\"[1]\"\n");
    importPaperCsv(*s, good, {});
    const std::string dbPath = s->path();
    s.reset();
    const QByteArray before = sha256(dbPath);
    // Fails on its last line, after several steps were written inside the transaction.
    std::string bad = "n,l,read_kv\n";
    for (int n = 2; n < 60; ++n) bad += std::to_string(n) + ",0,\"[0, 1]\"\n";
    bad += "60,0,\"[99]\"\n";
    const std::string badPath = test::writeScratch("bad_tail.csv", bad);
    {
        auto s2 = TraceStore::open(dbPath, TraceStore::Mode::ReadWrite);
        QVERIFY(errorOf([&] { importPaperCsv(*s2, badPath, {}); }).contains(":60: token index 99 >= n_t = 60"));
    }
    QCOMPARE(sha256(dbPath), before);
    auto ro = TraceStore::open(dbPath, TraceStore::Mode::ReadOnly);
    QCOMPARE(ro->list().size(), size_t{1});
    QCOMPARE(idx(ro->load("good"), 1, 0), (std::vector<uint32_t>{1}));
}

// ---- long CSV ---------------------------------------------------------------------------

void TestImportCsv::longCsvAggregated()
{
    // P = 2: tokens in any order within a record, zero scores dropped, step 1 has no rows
    // (an all-zero record), T = max step + 1 = 3. Other comments are ignored.
    const std::string path = test::writeScratch("scores_run.csv", "# made by hand\n"
                                                                  "step,layer,token,score\n"
                                                                  "0,-1,1,0.25\n"
                                                                  "0,-1,0,0.75\n"
                                                                  "# a comment between rows\n"
                                                                  "2,-1,3,1e-3\n"
                                                                  "2,-1,0,0\n"
                                                                  "2,-1,1,2.5\n");
    auto s = freshStore("long-agg.kvtr");
    ImportOptions o;
    o.prefill = 2;
    o.layers = 32;
    const TraceSummary sum = importLongCsv(*s, path, o);
    QCOMPARE(sum.meta.name, std::string("scores_run"));
    QCOMPARE(sum.meta.layer_mode, LayerMode::Aggregated);
    QCOMPARE(sum.meta.layers, 32);
    QCOMPARE(sum.meta.steps, int64_t{3});
    QCOMPARE(sum.meta.kind, RecordKind::Scores);
    QCOMPARE(sum.encoding, Encoding::SparseF32);
    QCOMPARE(sum.entries, int64_t{4});
    const Trace t = s->load("scores_run");
    QCOMPARE(idx(t, 0, 0), (std::vector<uint32_t>{0, 1}));
    QCOMPARE(val(t, 0, 0), (std::vector<float>{0.75f, 0.25f}));
    QCOMPARE(idx(t, 1, 0), (std::vector<uint32_t>{}));
    QCOMPARE(idx(t, 2, 0), (std::vector<uint32_t>{1, 3}));
    QCOMPARE(val(t, 2, 0), (std::vector<float>{2.5f, 1e-3f}));
}

void TestImportCsv::longCsvPerLayerInferred()
{
    const std::string path = test::writeScratch("pl.csv", "step,layer,token,score\n"
                                                          "0,0,0,1\n"
                                                          "0,2,1,0.5\n"
                                                          "1,1,2,3\n");
    auto s = freshStore("long-pl.kvtr");
    ImportOptions o;
    o.prefill = 2;
    o.encoding = Encoding::DenseF16;
    const TraceSummary sum = importLongCsv(*s, path, o);
    QCOMPARE(sum.meta.layer_mode, LayerMode::PerLayer);
    QCOMPARE(sum.meta.layers, 3);
    QCOMPARE(sum.meta.steps, int64_t{2});
    QCOMPARE(sum.encoding, Encoding::DenseF16);
    const Trace t = s->load("pl");
    QCOMPARE(val(t, 0, 0), (std::vector<float>{1.0f}));
    QCOMPARE(idx(t, 0, 1), (std::vector<uint32_t>{}));
    QCOMPARE(val(t, 0, 2), (std::vector<float>{0.5f}));
    QCOMPARE(idx(t, 1, 1), (std::vector<uint32_t>{2}));
    QCOMPARE(idx(t, 1, 2), (std::vector<uint32_t>{}));
}

void TestImportCsv::longCsvCommentCarriesMetadata()
{
    // The comment fixes T = 4 and L = 2 beyond the rows present (rows=2 says no row is
    // missing, so the empty last steps are data, not a cut file); values are percent-encoded.
    const std::string path = test::writeScratch("meta.csv",
        "# kvtier trace my%20trace prefill=3 steps=4 layers=2 mode=per-layer kind=selection encoding=index_u32 rows=2 "
        "model=Llama%2D3 description=a%20b%3Dc head_reduction=max future_key=whatever\n"
        "step,layer,token,score\n"
        "1,1,3,1\n"
        "1,1,0,1\n");
    auto s = freshStore("long-meta.kvtr");
    const TraceSummary sum = importLongCsv(*s, path, {});
    QCOMPARE(sum.meta.name, std::string("my trace"));
    QCOMPARE(sum.meta.prefill, int64_t{3});
    QCOMPARE(sum.meta.steps, int64_t{4});
    QCOMPARE(sum.meta.layers, 2);
    QCOMPARE(sum.meta.kind, RecordKind::Selection);
    QCOMPARE(sum.meta.model_name, std::string("Llama-3"));
    QCOMPARE(sum.meta.description, std::string("a b=c"));
    QCOMPARE(sum.meta.head_reduction, std::string("max"));
    QCOMPARE(sum.records, int64_t{8});
    const Trace t = s->load("my trace");
    QCOMPARE(idx(t, 1, 1), (std::vector<uint32_t>{0, 3}));
    QCOMPARE(idx(t, 3, 1), (std::vector<uint32_t>{}));
    // Options override the descriptive fields; a different P is an error.
    ImportOptions o;
    o.name = "renamed";
    o.description = "mine";
    const TraceSummary sum2 = importLongCsv(*s, path, o);
    QCOMPARE(sum2.meta.name, std::string("renamed"));
    QCOMPARE(sum2.meta.description, std::string("mine"));
    ImportOptions p;
    p.prefill = 4;
    p.name = "x";
    QCOMPARE(errorOf([&] { importLongCsv(*s, path, p); }),
             QString::fromStdString(path + ": the file says prefill=3 but P = 4 was given"));
}

void TestImportCsv::longCsvErrors_data()
{
    QTest::addColumn<QString>("csv");
    QTest::addColumn<QString>("error");
    const QString h = "step,layer,token,score\n";
    QTest::newRow("wrong header") << "step,layer,token,value\n0,-1,0,1\n"
                                  << ":1: expected the header 'step,layer,token,score', found 'step,layer,token,value'";
    QTest::newRow("no header") << "# only a comment\n" << ": no header (expected 'step,layer,token,score')";
    QTest::newRow("non-numeric step") << h + "0,-1,0,1\nx,-1,0,1\n" << ":3: step is not an integer: 'x'";
    QTest::newRow("non-numeric token") << h + "0,-1,a,1\n" << ":2: token is not an integer: 'a'";
    QTest::newRow("non-numeric score") << h + "0,-1,0,high\n" << ":2: score is not a number: 'high'";
    QTest::newRow("negative score") << h + "0,-1,0,-0.5\n" << ":2: score of token 0 is negative (-0.5)";
    QTest::newRow("NaN score") << h + "0,-1,0,1\n0,-1,1,nan\n" << ":3: score of token 1 is NaN";
    QTest::newRow("inf score") << h + "0,-1,0,inf\n" << ":2: score of token 0 is infinite or beyond float32";
    QTest::newRow("overflowing score") << h + "0,-1,0,1e39\n" << ":2: score of token 0 is infinite or beyond float32";
    QTest::newRow("index >= n_t") << h + "1,-1,3,1\n" << ":2: token 3 >= n_t = 3 (step 1 reads tokens 0..2)";
    QTest::newRow("negative token") << h + "0,-1,-1,1\n" << ":2: token -1 is negative";
    QTest::newRow("steps out of order") << h + "1,-1,0,1\n0,-1,0,1\n"
                                        << ":3: steps out of order: (t=0, l=-1) after (t=1, l=-1)";
    QTest::newRow("layers out of order") << h + "0,1,0,1\n0,0,0,1\n"
                                         << ":3: steps out of order: (t=0, l=0) after (t=0, l=1)";
    QTest::newRow("duplicate token") << h + "0,-1,1,1\n0,-1,0,1\n0,-1,1,2\n"
                                     << ":4: token 1 appears twice in record (t=0, l=-1) (also on line 2)";
    QTest::newRow("mixed modes") << h + "0,-1,0,1\n0,0,0,1\n"
                                 << ":3: layer 0 mixes per-layer rows into an aggregated trace (line 2)";
    QTest::newRow("layer below -1") << h + "0,-2,0,1\n" << ":2: layer -2 is invalid";
    QTest::newRow("five fields") << h + "0,-1,0,1,9\n" << ":2: expected 4 fields step,layer,token,score, found 5";
    QTest::newRow("step beyond comment T") << "# kvtier trace x prefill=2 steps=1 layers=1 mode=aggregated kind=scores\n" + h +
                                                  "1,-1,0,1\n"
                                           << ":3: step 1 >= T = 1";
    QTest::newRow("layer beyond comment L") << "# kvtier trace x prefill=2 steps=1 layers=2 mode=per-layer kind=scores\n" + h +
                                                   "0,2,0,1\n"
                                            << ":3: layer 2 >= L = 2";
    QTest::newRow("-1 in per-layer") << "# kvtier trace x prefill=2 steps=1 layers=2 mode=per-layer kind=scores\n" + h +
                                            "0,-1,0,1\n"
                                     << ":3: layer -1 (aggregated) in a per-layer trace";
    QTest::newRow("selection score") << "# kvtier trace x prefill=2 steps=1 layers=1 mode=aggregated kind=selection\n" + h +
                                            "0,-1,0,0.5\n"
                                     << ":3: score 0.5 in a selection trace (expected 1, or 0 for not selected)";
    QTest::newRow("bad comment value") << "# kvtier trace x prefill=two\n" + h
                                       << ":1: 'prefill=two' in the kvtier comment: expected an integer >= 0";
    QTest::newRow("bad comment mode") << "# kvtier trace x prefill=2 mode=sideways\n" + h
                                      << ":1: unknown layer mode 'sideways' (expected aggregated or per-layer) in the kvtier comment";
    QTest::newRow("bad escape") << "# kvtier trace x%2 prefill=2\n" + h << ":1: bad percent escape in 'x%2'";
    QTest::newRow("unterminated quote") << h + "0,-1,\"0,1\n" << ":2: unterminated quoted field";
}

void TestImportCsv::longCsvErrors()
{
    QFETCH(QString, csv);
    QFETCH(QString, error);
    const std::string path = test::writeScratch("bad_long.csv", csv.toStdString());
    auto s = freshStore("long-bad.kvtr");
    ImportOptions o;
    if (!csv.startsWith("# kvtier")) o.prefill = 2;
    const QString got = errorOf([&] { importLongCsv(*s, path, o); });
    const QString want = QString::fromStdString(path) + error;
    QVERIFY2(got.startsWith(want), qPrintable(got + "\n  expected: " + want));
    QVERIFY(s->list().empty());
}

void TestImportCsv::longCsvNeedsPrefill()
{
    const std::string path = test::writeScratch("nop.csv", "step,layer,token,score\n0,-1,0,1\n");
    auto s = freshStore("long-nop.kvtr");
    QCOMPARE(errorOf([&] { importLongCsv(*s, path, {}); }),
             QString::fromStdString(path + ": prefill length unknown: give P (--prefill) or start the file with "
                                           "'# kvtier trace NAME prefill=P'"));
}

// ---- export -----------------------------------------------------------------------------

void TestImportCsv::traceCommentRoundTrip()
{
    TraceSummary s;
    s.meta.name = "a b%c=d \"q\" \u00e9";
    s.meta.prefill = 7;
    s.meta.steps = 9;
    s.meta.layers = 4;
    s.meta.layer_mode = LayerMode::PerLayer;
    s.meta.kind = RecordKind::Scores;
    s.meta.description = "line\nbreak\ttab";
    s.meta.model_name = "Qwen2.5-7B";
    s.meta.source = "";
    s.meta.notes = "{\"not\": \"nested\"}";
    s.entries = 12;
    s.encoding = Encoding::SparseF16;
    const std::string line = formatTraceComment(s);
    QCOMPARE(line, std::string("# kvtier trace {\"name\":\"a b%c=d \\\"q\\\" \u00e9\",\"prefill\":7,\"steps\":9,"
                               "\"layers\":4,\"mode\":\"per-layer\",\"kind\":\"scores\",\"encoding\":\"sparse_f16\","
                               "\"rows\":12,\"head_reduction\":\"mean\",\"model\":\"Qwen2.5-7B\","
                               "\"description\":\"line\\nbreak\\ttab\",\"source\":\"\",\"notes\":\"{\\\"not\\\": \\\"nested\\\"}\"}"));
    QVERIFY(line.find('\n') == std::string::npos);
    QVERIFY(isTraceComment(line));
    QVERIFY(!isTraceComment("# kvtier traces"));
    const TraceComment c = parseTraceComment(line, "x");
    QCOMPARE(c.name, s.meta.name);
    QCOMPARE(*c.prefill, int64_t{7});
    QCOMPARE(*c.steps, int64_t{9});
    QCOMPARE(*c.layers, 4);
    QCOMPARE(*c.mode, LayerMode::PerLayer);
    QCOMPARE(*c.kind, RecordKind::Scores);
    QCOMPARE(*c.encoding, Encoding::SparseF16);
    QCOMPARE(*c.rows, int64_t{12});
    QCOMPARE(*c.head_reduction, std::string("mean"));
    QCOMPARE(*c.model_name, std::string("Qwen2.5-7B"));
    QCOMPARE(*c.description, std::string("line\nbreak\ttab"));
    QCOMPARE(*c.source, std::string());
    QCOMPARE(*c.notes, s.meta.notes);
}

void TestImportCsv::legacyTraceCommentStillRead()
{
    // What kvtier wrote before the JSON line (users' files and tests/data keep it).
    const TraceComment c = parseTraceComment("# kvtier trace a%20b%25c%3Dd prefill=7 steps=9 layers=4 mode=per-layer "
                                             "kind=scores encoding=sparse_f16 rows=0 head_reduction=mean "
                                             "model=Qwen2.5-7B description=line%0Abreak source= notes= future=1",
                                             "x");
    QCOMPARE(c.name, std::string("a b%c=d"));
    QCOMPARE(*c.prefill, int64_t{7});
    QCOMPARE(*c.steps, int64_t{9});
    QCOMPARE(*c.layers, 4);
    QCOMPARE(*c.mode, LayerMode::PerLayer);
    QCOMPARE(*c.encoding, Encoding::SparseF16);
    QCOMPARE(*c.rows, int64_t{0});
    QCOMPARE(*c.description, std::string("line\nbreak"));
    QCOMPARE(*c.source, std::string());
    // A hand-written line may give P alone, in either form.
    QCOMPARE(*parseTraceComment("# kvtier trace prefill=3", "x").prefill, int64_t{3});
    const TraceComment j = parseTraceComment("# kvtier trace {\"prefill\": 3, \"later_key\": [1]}", "x");
    QCOMPARE(*j.prefill, int64_t{3});
    QVERIFY(!j.steps && !j.rows && !j.mode && j.name.empty());
}

void TestImportCsv::jsonTraceCommentErrorsAreOneLine()
{
    QCOMPARE(errorOf([] { parseTraceComment("# kvtier trace {\"prefill\": -1}", "f.csv:1"); }),
             QString("f.csv:1: 'prefill' in the kvtier comment: expected an integer >= 0"));
    QCOMPARE(errorOf([] { parseTraceComment("# kvtier trace {\"layers\": 2.5}", "f.csv:1"); }),
             QString("f.csv:1: 'layers' in the kvtier comment: expected an integer >= 1"));
    QCOMPARE(errorOf([] { parseTraceComment("# kvtier trace {\"layers\": 4294967296}", "f.csv:1"); }),
             QString("f.csv:1: 'layers' in the kvtier comment is too large"));
    QCOMPARE(errorOf([] { parseTraceComment("# kvtier trace {\"name\": 3}", "f.csv:1"); }),
             QString("f.csv:1: 'name' in the kvtier comment: expected a string"));
    QCOMPARE(errorOf([] { parseTraceComment("# kvtier trace {\"mode\": \"sideways\"}", "f.csv:1"); }),
             QString("f.csv:1: unknown layer mode 'sideways' (expected aggregated or per-layer) in the kvtier comment"));
    const QString syntax = errorOf([] { parseTraceComment("# kvtier trace {\"prefill\": 3", "f.csv:1"); });
    QVERIFY2(syntax.startsWith("f.csv:1: the kvtier comment: line 1, column "), qPrintable(syntax));
    QVERIFY2(!syntax.contains('\n') && !syntax.contains("parse_error"), qPrintable(syntax));
}

void TestImportCsv::exportText()
{
    auto s = freshStore("export-text.kvtr");
    TraceMeta m;
    m.name = "sel";
    m.prefill = 2;
    m.steps = 2;
    m.layers = 2;
    m.layer_mode = LayerMode::PerLayer;
    m.kind = RecordKind::Selection;
    m.source = "hand";
    auto w = s->beginTrace(m, Encoding::IndexU32);
    Record r;
    r.step = 0; r.layer = 0; r.index = {1};
    w->add(r);
    r.layer = 1; r.index = {};
    w->add(r);
    r.step = 1; r.layer = 0; r.index = {0, 2};
    w->add(r);
    r.layer = 1; r.index = {2};
    w->add(r);
    w->commit();
    std::ostringstream out;
    QCOMPARE(exportLongCsv(*s, "sel", out), int64_t{4});
    QCOMPARE(out.str(), std::string("# kvtier trace {\"name\":\"sel\",\"prefill\":2,\"steps\":2,\"layers\":2,"
                                    "\"mode\":\"per-layer\",\"kind\":\"selection\",\"encoding\":\"index_u32\",\"rows\":4,"
                                    "\"head_reduction\":\"mean\",\"model\":\"\",\"description\":\"\",\"source\":\"hand\","
                                    "\"notes\":\"\"}\n"
                                    "step,layer,token,score\n"
                                    "0,0,1,1\n"
                                    "1,0,0,1\n"
                                    "1,0,2,1\n"
                                    "1,1,2,1\n"));
}

void TestImportCsv::exportImportRoundTrip_data()
{
    QTest::addColumn<int>("encoding");
    QTest::addColumn<bool>("perLayer");
    QTest::newRow("f32 aggregated") << static_cast<int>(Encoding::DenseF32) << false;
    QTest::newRow("sparse_f32 per-layer") << static_cast<int>(Encoding::SparseF32) << true;
    QTest::newRow("f16 per-layer") << static_cast<int>(Encoding::DenseF16) << true;
    QTest::newRow("sparse_f16 aggregated") << static_cast<int>(Encoding::SparseF16) << false;
    QTest::newRow("index_u32 per-layer") << static_cast<int>(Encoding::IndexU32) << true;
}

void TestImportCsv::exportImportRoundTrip()
{
    QFETCH(int, encoding);
    QFETCH(bool, perLayer);
    const auto enc = static_cast<Encoding>(encoding);
    const bool selection = enc == Encoding::IndexU32;
    auto src = freshStore("rt-src.kvtr");
    TraceMeta m;
    m.name = "round trip";
    m.prefill = 6;
    m.steps = 5;
    m.layers = perLayer ? 3 : 32;
    m.layer_mode = perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    m.kind = selection ? RecordKind::Selection : RecordKind::Scores;
    m.description = "values that print awkwardly";
    m.source = "generator --seed 1";
    m.model_name = "Mistral-7B";
    m.head_reduction = "max";
    m.notes = "x=1, y=2";
    // Floats whose decimal forms are long: thirds, tenths, subnormals, huge values.
    const float awkward[] = {0.1f, 1.0f / 3.0f, 2.0f / 3.0f, 1e-40f, 3.0e38f, 123456.789f,
                             std::nextafter(1.0f, 2.0f), 7e-8f, 0.3f, 1e-45f};
    {
        auto w = src->beginTrace(m, enc);
        size_t a = 0;
        for (int64_t t = 0; t < m.steps; ++t)
            for (int32_t l = 0; l < m.layerSlots(); ++l) {
                Record r;
                r.step = t;
                r.layer = perLayer ? l : -1;
                if ((t + l) % 4 != 3)   // some records stay empty
                    for (uint32_t i = 0; i < m.contextAt(t); i += 1 + static_cast<uint32_t>((t + l) % 2)) {
                        r.index.push_back(i);
                        float v = awkward[a++ % std::size(awkward)];
                        if (enc == Encoding::DenseF16 || enc == Encoding::SparseF16) v = std::min(v, 60000.0f);
                        r.value.push_back(selection ? 1.0f : v);
                    }
                w->add(r);
            }
        w->commit();
    }
    const std::string csv = test::scratchPath("exported.csv");
    exportLongCsv(*src, "round trip", csv);
    auto dst = freshStore("rt-dst.kvtr");
    const TraceSummary sum = importLongCsv(*dst, csv, {});
    QCOMPARE(sum.encoding, enc);
    QCOMPARE(sum.meta.name, m.name);
    compareTraces(src->load("round trip"), dst->load("round trip"));
    // Exporting the copy gives the same text.
    const std::string csv2 = test::scratchPath("exported2.csv");
    exportLongCsv(*dst, "round trip", csv2);
    QCOMPARE(sha256(csv2), sha256(csv));
}

void TestImportCsv::exportToFileAndStdoutMarker()
{
    auto s = freshStore("export-file.kvtr");
    QCOMPARE(errorOf([&] { exportLongCsv(*s, "none", test::scratchPath("none.csv")); }),
             QString::fromStdString(s->path() + ": no trace named 'none'"));
    QVERIFY(!QFile::exists(QString::fromStdString(test::scratchPath("none.csv"))));
    QVERIFY(!QFile::exists(QString::fromStdString(test::scratchPath("none.csv.part"))));
    const std::string dir = test::scratchPath("no-such-dir/out.csv");
    const std::string path = test::writeScratch("e.csv", "step,layer,token,score\n0,-1,0,1\n");
    ImportOptions o;
    o.prefill = 1;
    importLongCsv(*s, path, o);
    QCOMPARE(errorOf([&] { exportLongCsv(*s, "e", dir); }),
             QString::fromStdString(dir + ": folder '" + test::scratchPath("no-such-dir") + "' does not exist"));
}

void TestImportCsv::guessFormat()
{
    const std::string paper = test::writeScratch("g1.txt", "n,l,read_kv\n1,0,\"[0]\"\n");
    const std::string longCsv = test::writeScratch("g2.data", "# kvtier trace x prefill=1\nstep, layer, token, score\n");
    const std::string npy = test::writeScratch("g3.bin", std::string("\x93NUMPY\x01\x00", 8));
    const std::string zip = test::writeScratch("g4.bin", std::string("PK\x03\x04", 4));
    const std::string other = test::writeScratch("g5.txt", "a,b\n");
    const std::string byExt = test::writeScratch("g6.npz", "");
    QCOMPARE(guessImportFormat(paper), ImportFormat::PaperCsv);
    QCOMPARE(guessImportFormat(longCsv), ImportFormat::LongCsv);
    QCOMPARE(guessImportFormat(npy), ImportFormat::Npy);
    QCOMPARE(guessImportFormat(zip), ImportFormat::Npy);
    QCOMPARE(guessImportFormat(byExt), ImportFormat::Npy);
    {
        auto s = freshStore("guess.kvtr");
    }
    QCOMPARE(guessImportFormat(test::scratchPath("guess.kvtr")), ImportFormat::KvtierDb);
    QVERIFY(errorOf([&] { guessImportFormat(other); }).contains("cannot tell the format"));
    QCOMPARE(importFormatFromString("long-csv"), ImportFormat::LongCsv);
    QVERIFY(errorOf([&] { importFormatFromString("xml"); }).contains("unknown import format 'xml'"));
}

QTEST_GUILESS_MAIN(TestImportCsv)
#include "tst_import_csv.moc"
