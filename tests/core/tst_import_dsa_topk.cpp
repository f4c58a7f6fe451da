// The DSA top-k JSON lines importer (docs/TRACE_FORMAT.md "DSA top-k JSON lines"):
// hand-written files whose records are worked out by hand, and the errors.
#include "test_support.hpp"

#include "core/io/import_dsa_topk.hpp"
#include "core/io/importers.hpp"
#include "core/model/error.hpp"

#include <QtTest>

using namespace kvtier;
using namespace kvtier::test;

namespace {
using V = std::vector<uint32_t>;

ImportOptions named(const std::string& name, const std::string& shown = "dsa.jsonl")
{
    ImportOptions o;
    o.name = name;
    o.shown_name = shown;
    return o;
}

V record(const Trace& tr, int64_t t, int32_t s, int32_t l)
{
    const auto r = tr.indices(tr.recordId(t, s, l));
    return V(r.begin(), r.end());
}

// Two requests: "a" with context 5 at step 0 (P = 4), 7 with an explicit prefill 2; two
// steps, two layers; within a step the lines come layer by layer (as a forward pass
// writes them), which is not the storage order (sequence, then layer).
const char* const kTwo =
    R"({"request": "a", "layer": 0, "step": 0, "context": 5, "topk": [4, 0, 2, -1, -1]})"
    "\n"
    R"({"request": 7, "layer": 0, "step": 0, "prefill": 2, "topk": [1, 1, 0], "ts": 12.5})"
    "\n"
    R"({"request": "a", "layer": 1, "step": 0, "context": 5, "topk": [3]})"
    "\n"
    R"({"request": 7, "layer": 1, "step": 0, "topk": []})"
    "\n\n"
    R"({"request": 7, "layer": 1, "step": 1, "context": 4, "topk": [3, 2, 0]})"
    "\n"
    R"({"request": "a", "layer": 0, "step": 1, "context": 6, "topk": [5, 4, 1]})"
    "\n"
    R"({"request": "a", "layer": 1, "step": 1, "topk": [0, 1, 2, 3, 4]})"
    "\n"
    R"({"request": 7, "layer": 0, "step": 1, "topk": [-1]})"
    "\n";
} // namespace

class TestImportDsaTopk : public QObject {
    Q_OBJECT
private slots:
    void twoRequests()
    {
        const std::string path = writeScratch("two.jsonl", kTwo);
        auto store = freshStore("dsa.sqlite");
        QCOMPARE(guessImportFormat(path), ImportFormat::DsaTopk);
        const TraceSummary sum = importDsaTopk(*store, path, named("d"));
        QCOMPARE(sum.meta.kind, RecordKind::Selection);
        QCOMPARE(sum.meta.layer_mode, LayerMode::PerLayer);
        QCOMPARE(sum.meta.steps, int64_t{2});
        QCOMPARE(sum.meta.layers, 2);
        QCOMPARE(sum.meta.sequence_prefill, (std::vector<int64_t>{4, 2}));   // a: 5 - 1; 7: given
        QCOMPARE(sum.meta.source, std::string("dsa-topk dsa.jsonl"));
        QCOMPARE(sum.encoding, Encoding::IndexU32);
        const Trace tr = store->load("d");
        // by hand: a (P=4) decodes token 4 then 5, which are dropped; 7 (P=2) decodes 2, 3
        QCOMPARE(record(tr, 0, 0, 0), (V{0, 2}));        // [4, 0, 2, -1, -1]: 4 itself and padding dropped
        QCOMPARE(record(tr, 0, 0, 1), (V{3}));
        QCOMPARE(record(tr, 0, 1, 0), (V{0, 1}));        // [1, 1, 0]: the repeat merged
        QCOMPARE(record(tr, 0, 1, 1), (V{}));
        QCOMPARE(record(tr, 1, 0, 0), (V{1, 4}));        // [5, 4, 1]
        QCOMPARE(record(tr, 1, 0, 1), (V{0, 1, 2, 3, 4}));
        QCOMPARE(record(tr, 1, 1, 0), (V{}));
        QCOMPARE(record(tr, 1, 1, 1), (V{0, 2}));        // [3, 2, 0]: 3 itself dropped
        QCOMPARE(sum.entries, int64_t{2 + 1 + 2 + 0 + 2 + 5 + 0 + 2});

        // the .jsonl extension alone says the format; --prefill serves a request without either key
        const std::string bare = writeScratch("bare.jsonl", R"({"request": 1, "layer": 0, "step": 0, "topk": [0, 9]})" "\n");
        QCOMPARE(guessImportFormat(bare), ImportFormat::DsaTopk);
        ImportOptions o = named("bare");
        o.prefill = 9;
        QCOMPARE(importDsaTopk(*store, bare, o).meta.prefill, int64_t{9});
        QCOMPARE(record(store->load("bare"), 0, 0, 0), (V{0}));
    }

    // --encoding index_varint: the same records from fewer bytes (docs/TRACE_FORMAT.md §2);
    // a ranked encoding is refused with the one-line message of the other encodings.
    void compactEncoding()
    {
        const std::string path = writeScratch("two.jsonl", kTwo);
        auto store = freshStore("dsa-varint.sqlite");
        const TraceSummary u32 = importDsaTopk(*store, path, named("u"));
        ImportOptions o = named("v");
        o.encoding = Encoding::IndexVarint;
        const TraceSummary varint = importDsaTopk(*store, path, o);
        QCOMPARE(varint.encoding, Encoding::IndexVarint);
        QCOMPARE(varint.entries, u32.entries);
        QCOMPARE(u32.blob_bytes, int64_t{4 * 14});
        // every gap is below 128: one byte per entry
        QCOMPARE(varint.blob_bytes, int64_t{14});
        const Trace a = store->load("u"), b = store->load("v");
        for (int64_t t = 0; t < 2; ++t)
            for (int32_t s = 0; s < 2; ++s)
                for (int32_t l = 0; l < 2; ++l) QCOMPARE(record(b, t, s, l), record(a, t, s, l));
        ImportOptions ranked = named("r");
        ranked.encoding = Encoding::RankedVarint;
        QCOMPARE(errorOf([&] { importDsaTopk(*store, path, ranked); }),
                 QStringLiteral("dsa.jsonl: DSA top-k traces are selections and are stored as index_u32, not "
                                "ranked_varint (index_varint is the compact alternative)"));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("message");
        const QString a0 = R"({"request": "a", "layer": 0, "step": 0, "context": 3, "topk": [0]})" "\n";
        QTest::newRow("not json") << "{\"request\": 1,\n" << "dsa.jsonl:1: column ";
        QTest::newRow("not object") << "[1, 2]\n" << "dsa.jsonl:1: expected one JSON object per line";
        QTest::newRow("no topk") << R"({"request": 1, "layer": 0, "step": 0, "context": 3})" "\n"
                                 << "dsa.jsonl:1: no 'topk' key (required: request, layer, step, topk)";
        QTest::newRow("float layer") << R"({"request": 1, "layer": 0.5, "step": 0, "context": 3, "topk": []})" "\n"
                                     << "dsa.jsonl:1: 'layer' must be an integer, found 0.5";
        QTest::newRow("request type") << R"({"request": [1], "layer": 0, "step": 0, "context": 3, "topk": []})" "\n"
                                      << "dsa.jsonl:1: 'request' must be a string or an integer";
        QTest::newRow("no prefill") << R"({"request": 1, "layer": 0, "step": 0, "topk": []})" "\n"
                                    << "dsa.jsonl:1: the first line of request 1 gives neither 'context' nor 'prefill'";
        QTest::newRow("beyond") << R"({"request": 1, "layer": 0, "step": 0, "context": 3, "topk": [3]})" "\n"
                                << "dsa.jsonl:1: position 3 is beyond the decoded token 2 (context 0..2)";
        QTest::newRow("negative") << R"({"request": 1, "layer": 0, "step": 0, "context": 3, "topk": [-2]})" "\n"
                                  << "dsa.jsonl:1: 'topk' element -2 is below -1";
        QTest::newRow("context") << a0 + R"({"request": "a", "layer": 0, "step": 1, "context": 3, "topk": []})" "\n"
                                 << "dsa.jsonl:2: 'context' = 3 at step 1, expected P + t + 1 = 4 for request \"a\" (P = 2)";
        QTest::newRow("step back") << a0 + R"({"request": "a", "layer": 0, "step": 1, "topk": []})" "\n" + a0
                                   << "dsa.jsonl:3: step 0 after step 1";
        QTest::newRow("step gap") << a0 + R"({"request": "a", "layer": 0, "step": 2, "topk": []})" "\n"
                                  << "dsa.jsonl:2: step 2 after step 0: step 1 has no lines";
        QTest::newRow("late request") << a0 + R"({"request": "b", "layer": 0, "step": 1, "context": 4, "topk": []})" "\n"
                                      << "dsa.jsonl:2: request \"b\" first appears at step 1";
        QTest::newRow("twice") << a0 + a0 << "dsa.jsonl:2: a second line for request \"a\", layer 0, step 0 (the first is line 1)";
        QTest::newRow("missing layer")
            << a0 + R"({"request": "a", "layer": 1, "step": 0, "topk": []})" "\n" +
                   R"({"request": "a", "layer": 1, "step": 1, "topk": []})" "\n"
            << "dsa.jsonl:3: step 1 has no line for request \"a\", layer 0 (every request has L = 2 layers at every step)";
        QTest::newRow("empty") << "\n" << "dsa.jsonl: no lines";
    }

    void errors()
    {
        QFETCH(QString, body);
        QFETCH(QString, message);
        const std::string path = writeScratch("bad.jsonl", body.toStdString());
        auto store = freshStore("bad.sqlite");
        const QString e = errorOf([&] { importDsaTopk(*store, path, named("x")); });
        QVERIFY2(e.startsWith(message), qPrintable(e));
        QVERIFY(store->list().empty());   // nothing written
    }
};

QTEST_APPLESS_MAIN(TestImportDsaTopk)
#include "tst_import_dsa_topk.moc"
