// The trace store under crashes and concurrent use (docs/TRACE_FORMAT.md, "Durability and
// concurrency"): readers see the last committed content while a writer works, and open at
// once after a writer was killed, whatever it left behind (a write-ahead log, or the hot
// rollback journal of a file written by an older kvtier).
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "test_support.hpp"

#include <sqlite3.h>

#include <QFile>
#include <QFileInfo>
#include <QtTest>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace kvtier;
using test::errorOf;

namespace {

bool exists(const std::string& p) { return QFileInfo::exists(QString::fromStdString(p)); }

std::string freshDb(const std::string& name)
{
    const std::string p = test::scratchPath(name);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) QFile::remove(QString::fromStdString(p + suffix));
    return p;
}

TraceMeta meta(const std::string& name, int64_t P, int64_t T)
{
    TraceMeta m;
    m.name = name;
    m.prefill = P;
    m.steps = T;
    m.layers = 1;
    m.layer_mode = LayerMode::Aggregated;
    m.kind = RecordKind::Scores;
    return m;
}

Record denseRow(int64_t t, int64_t n)
{
    Record r;
    r.step = t;
    r.layer = -1;
    for (uint32_t i = 0; i < n; ++i) {
        r.index.push_back(i);
        r.value.push_back(1.0f / static_cast<float>(i + 1));
    }
    return r;
}

// A committed trace `name`: P = 3, T = 3, dense.
void writeSmall(TraceStore& s, const std::string& name)
{
    auto w = s.beginTrace(meta(name, 3, 3), Encoding::DenseF32);
    for (int64_t t = 0; t < 3; ++t) w->add(denseRow(t, 3 + t));
    w->commit();
}

// Starts a large trace and adds `steps` of its records without committing. A tiny page
// cache makes SQLite write pages out (to the log, or into a rollback-mode file) early.
std::unique_ptr<TraceWriter> startLarge(TraceStore& s, const std::string& name, int64_t steps)
{
    if (sqlite3_exec(s.handle(), "PRAGMA cache_size = 4", nullptr, nullptr, nullptr) != SQLITE_OK) return nullptr;
    auto w = s.beginTrace(meta(name, 200, steps + 10), Encoding::DenseF32);
    for (int64_t t = 0; t < steps; ++t) w->add(denseRow(t, 200 + t));
    return w;
}

// What a reader sees: trace names and the value of one fixed entry of each.
QStringList contentOf(const TraceStore& s)
{
    QStringList out;
    for (const auto& t : s.list()) {
        const Trace tr = s.load(t.meta.name);
        out << QString::fromStdString(t.meta.name) + "=" + QString::number(static_cast<double>(tr.valueAt(2, 4)));
    }
    return out;
}

} // namespace

class TestStoreDurability : public QObject {
    Q_OBJECT
private slots:
    void readersSeeLastCommitWhileImportWrites();
    void readOnlyOpenLeavesNoSideFiles();
    void readOnlyOpenAfterKilledWriter_data();
    void readOnlyOpenAfterKilledWriter();
    void readOnlyStoreStillRefusesWrites();
    void walDatabaseInReadOnlyDirectory();
};

void TestStoreDurability::readersSeeLastCommitWhileImportWrites()
{
    const std::string p = freshDb("concurrent.kvtr");
    auto writer = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    writeSmall(*writer, "keep");
    auto w = startLarge(*writer, "big", 300);
    QVERIFY(w);
    // A reader opened while the import holds the write lock and has pages in the log.
    auto reader = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(contentOf(*reader), QStringList{"keep=0.2"});
    for (int64_t t = 300; t < 310; ++t) w->add(denseRow(t, 200 + t));
    w->commit();
    // The same reader's next read sees the commit.
    QCOMPARE(reader->list().size(), size_t{2});
    QCOMPARE(reader->load("big").meta().steps, int64_t{310});
}

void TestStoreDurability::readOnlyOpenLeavesNoSideFiles()
{
    const std::string p = freshDb("sidefiles.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeSmall(*s, "a"); }
    {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
        QCOMPARE(contentOf(*s), QStringList{"a=0.2"});
    }
    QVERIFY(!exists(p + "-wal"));
    QVERIFY(!exists(p + "-shm"));
}

void TestStoreDurability::readOnlyOpenAfterKilledWriter_data()
{
    QTest::addColumn<bool>("rollbackJournal");
    QTest::newRow("write-ahead log") << false;
    // A file last written by a kvtier that used the rollback journal, and crashed.
    QTest::newRow("hot rollback journal") << true;
}

void TestStoreDurability::readOnlyOpenAfterKilledWriter()
{
    QFETCH(bool, rollbackJournal);
    const std::string p = freshDb(rollbackJournal ? "killed-journal.kvtr" : "killed-wal.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeSmall(*s, "keep"); }
    if (rollbackJournal) {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(p.c_str(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    // The child writes half a trace and dies without closing anything, like kill -9.
    const pid_t child = fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        try {
            if (rollbackJournal) {
                // Raw SQL: the store would switch the file to WAL on opening.
                sqlite3* db = nullptr;
                sqlite3_open(p.c_str(), &db);
                sqlite3_exec(db,
                             "PRAGMA cache_size = 4; BEGIN IMMEDIATE; CREATE TABLE junk(x); "
                             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) "
                             "INSERT INTO junk SELECT randomblob(1000) FROM c",
                             nullptr, nullptr, nullptr);
            } else {
                auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
                auto w = startLarge(*s, "big", 300);
                _exit(w ? 0 : 3);
            }
        } catch (...) {
            _exit(4);
        }
        _exit(0);
    }
    int status = 0;
    QCOMPARE(waitpid(child, &status, 0), child);
    QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    QVERIFY(exists(p + (rollbackJournal ? "-journal" : "-wal")));   // the crash left it behind

    // Readers work at once, on the last committed content.
    {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
        QCOMPARE(contentOf(*s), QStringList{"keep=0.2"});
    }
    QVERIFY(!exists(p + "-journal"));
    QVERIFY(!exists(p + "-wal"));
    auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite);
    writeSmall(*s, "after");
    QCOMPARE(contentOf(*s), (QStringList{"after=0.2", "keep=0.2"}));
}

void TestStoreDurability::readOnlyStoreStillRefusesWrites()
{
    const std::string p = freshDb("refuse.kvtr");
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeSmall(*s, "a"); }
    auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
    QCOMPARE(errorOf([&] { s->remove("a"); }), QString::fromStdString(p + ": opened read-only; cannot write"));
    QCOMPARE(errorOf([&] { s->transaction(); }), QString::fromStdString(p + ": opened read-only; cannot write"));
    QCOMPARE(s->list().size(), size_t{1});
}

void TestStoreDurability::walDatabaseInReadOnlyDirectory()
{
    if (geteuid() == 0) QSKIP("root ignores directory permissions");
    const std::string dir = test::scratchPath("ro-dir");
    QVERIFY(QDir().mkpath(QString::fromStdString(dir)));
    const std::string p = dir + "/t.kvtr";
    { auto s = TraceStore::open(p, TraceStore::Mode::ReadWrite); writeSmall(*s, "a"); }
    QVERIFY(!exists(p + "-wal"));
    QCOMPARE(chmod(dir.c_str(), 0555), 0);
    // Closed cleanly: SQLite cannot create the -shm index here; the file is read as immutable.
    QString seen;
    const QString error = errorOf([&] {
        auto s = TraceStore::open(p, TraceStore::Mode::ReadOnly);
        seen = contentOf(*s).join(',');
    });
    chmod(dir.c_str(), 0755);
    QCOMPARE(error, QString("<no error>"));
    QCOMPARE(seen, QString("a=0.2"));
}

QTEST_GUILESS_MAIN(TestStoreDurability)
#include "tst_store_durability.moc"
