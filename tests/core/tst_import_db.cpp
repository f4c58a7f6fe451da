// Copying traces between kvtier databases: all or one, renamed, name clashes, --replace,
// and the copy equal bit for bit with its encoding kept.
#include "core/io/import_db.hpp"
#include "core/io/importers.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "test_support.hpp"

#include <QCryptographicHash>
#include <QFile>
#include <QtTest>

#include <bit>
#include <functional>

using namespace kvtier;
using test::errorOf;
using test::freshStore;
using test::sha256;

namespace {

std::string freshPath(const std::string& name)
{
    const std::string p = test::scratchPath(name);
    QFile::remove(QString::fromStdString(p));
    return p;
}

void write(TraceStore& s, const std::string& name, Encoding enc, float scale)
{
    TraceMeta m;
    m.name = name;
    m.prefill = 3;
    m.steps = 2;
    m.layers = 2;
    m.layer_mode = LayerMode::PerLayer;
    m.kind = enc == Encoding::IndexU32 ? RecordKind::Selection : RecordKind::Scores;
    // Appends, not "literal" + name: GCC 12 -O2 reports a false -Wrestrict on those.
    m.description.append("description of ").append(name);
    m.source.append("source of ").append(name);
    m.model_name.append("a model");
    m.notes.append("notes");
    auto w = s.beginTrace(m, enc);
    for (int64_t t = 0; t < 2; ++t)
        for (int32_t l = 0; l < 2; ++l) {
            Record r;
            r.step = t;
            r.layer = l;
            r.index = {0, static_cast<uint32_t>(1 + t + l)};
            r.value = m.kind == RecordKind::Selection ? std::vector<float>{}
                                                      : std::vector<float>{scale / 3.0f, scale * static_cast<float>(t + l + 1)};
            w->add(r);
        }
    w->commit();
}

void sameTrace(const Trace& a, const Trace& b)
{
    QCOMPARE(a.meta().description, b.meta().description);
    QCOMPARE(a.meta().source, b.meta().source);
    QCOMPARE(a.meta().notes, b.meta().notes);
    QCOMPARE(a.meta().kind, b.meta().kind);
    QCOMPARE(a.recordCount(), b.recordCount());
    QCOMPARE(a.entryCount(), b.entryCount());
    for (size_t r = 0; r < static_cast<size_t>(a.recordCount()); ++r)
        for (size_t k = 0; k < a.indices(r).size(); ++k) {
            QCOMPARE(a.indices(r)[k], b.indices(r)[k]);
            QCOMPARE(std::bit_cast<uint32_t>(a.values(r)[k]), std::bit_cast<uint32_t>(b.values(r)[k]));
        }
}

} // namespace

class TestImportDb : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void copyAll();
    void copyOneRenamed();
    void clashRefusedUnlessReplace();
    void refusals();

private:
    std::string src_;
};

void TestImportDb::initTestCase()
{
    src_ = freshPath("source.kvtr");
    auto s = TraceStore::open(src_, TraceStore::Mode::ReadWrite);
    write(*s, "half", Encoding::DenseF16, 1.0f);
    write(*s, "sel", Encoding::IndexU32, 1.0f);
    write(*s, "sparse", Encoding::SparseF32, 0.1f);
}

void TestImportDb::copyAll()
{
    auto dst = TraceStore::open(freshPath("all.kvtr"), TraceStore::Mode::ReadWrite);
    const QByteArray before = sha256(src_);
    const auto copied = importKvtierDb(*dst, src_, {});
    QCOMPARE(copied.size(), size_t{3});
    QCOMPARE(sha256(src_), before);   // the source is only read
    auto src = TraceStore::open(src_, TraceStore::Mode::ReadOnly);
    for (const auto& name : {"half", "sel", "sparse"}) {
        QCOMPARE(dst->get(name).encoding, src->get(name).encoding);
        QCOMPARE(dst->get(name).blob_bytes, src->get(name).blob_bytes);
        sameTrace(src->load(name), dst->load(name));
    }
}

void TestImportDb::copyOneRenamed()
{
    auto dst = TraceStore::open(freshPath("one.kvtr"), TraceStore::Mode::ReadWrite);
    ImportOptions o;
    o.trace = "sparse";
    o.name = "copy";
    o.description = "renamed copy";
    const auto copied = importFile(*dst, src_, ImportFormat::KvtierDb, o);
    QCOMPARE(copied.size(), size_t{1});
    QCOMPARE(copied[0].meta.name, std::string("copy"));
    QCOMPARE(copied[0].meta.description, std::string("renamed copy"));
    QCOMPARE(dst->list().size(), size_t{1});
    auto src = TraceStore::open(src_, TraceStore::Mode::ReadOnly);
    const Trace a = src->load("sparse");
    const Trace b = dst->load("copy");
    QCOMPARE(a.valueAt(a.recordId(1, 1), 3), b.valueAt(b.recordId(1, 1), 3));
    // Re-encoding on the way is allowed.
    ImportOptions f16 = o;
    f16.name = "copy16";
    f16.encoding = Encoding::SparseF16;
    importKvtierDb(*dst, src_, f16);
    QCOMPARE(dst->get("copy16").encoding, Encoding::SparseF16);
}

void TestImportDb::clashRefusedUnlessReplace()
{
    const std::string path = freshPath("clash.kvtr");
    {
        auto dst = TraceStore::open(path, TraceStore::Mode::ReadWrite);
        write(*dst, "sel", Encoding::SparseF32, 5.0f);   // same name, different content
    }
    const QByteArray before = sha256(path);
    {
        auto dst = TraceStore::open(path, TraceStore::Mode::ReadWrite);
        QCOMPARE(errorOf([&] { importKvtierDb(*dst, src_, {}); }),
                 QString::fromStdString(path + ": trace 'sel' already exists (use --replace to overwrite it)"));
    }
    QCOMPARE(sha256(path), before);   // nothing copied, not even the traces without a clash
    auto dst = TraceStore::open(path, TraceStore::Mode::ReadWrite);
    ImportOptions o;
    o.replace = true;
    importKvtierDb(*dst, src_, o);
    QCOMPARE(dst->list().size(), size_t{3});
    QCOMPARE(dst->get("sel").meta.kind, RecordKind::Selection);
}

void TestImportDb::refusals()
{
    auto dst = TraceStore::open(freshPath("refuse.kvtr"), TraceStore::Mode::ReadWrite);
    ImportOptions rename;
    rename.name = "x";
    QCOMPARE(errorOf([&] { importKvtierDb(*dst, src_, rename); }),
             QString::fromStdString(src_ + ": renaming (--name) needs one trace (--trace NAME); the database holds 3"));
    ImportOptions missing;
    missing.trace = "nope";
    QCOMPARE(errorOf([&] { importKvtierDb(*dst, src_, missing); }),
             QString::fromStdString(src_ + ": no trace named 'nope'"));
    QCOMPARE(errorOf([&] { importKvtierDb(*dst, dst->path(), {}); }),
             QString::fromStdString(dst->path() + ": source and destination are the same database"));
    const std::string text = test::writeScratch("not-a-db.kvtr", "hello, this is text and not SQLite at all........................................................................................");
    QCOMPARE(errorOf([&] { importKvtierDb(*dst, text, {}); }), QString::fromStdString(text + ": not a SQLite database"));
    ImportOptions prefill;
    prefill.prefill = 3;
    QVERIFY(errorOf([&] { importKvtierDb(*dst, src_, prefill); }).contains("do not apply when copying"));
    const std::string empty = freshPath("empty-src.kvtr");
    { auto e = TraceStore::open(empty, TraceStore::Mode::ReadWrite); }
    QCOMPARE(errorOf([&] { importKvtierDb(*dst, empty, {}); }), QString::fromStdString(empty + ": the database holds no traces"));
    QVERIFY(dst->list().empty());
}

QTEST_GUILESS_MAIN(TestImportDb)
#include "tst_import_db.moc"
