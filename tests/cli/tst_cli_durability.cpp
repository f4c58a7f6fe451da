// "Data is never lost", checked from outside as a user would meet it: concurrent imports
// into a new database, kvtier-cli killed with SIGKILL mid-import, a write failing for lack
// of space, and exports that must never clobber or half-write a file
// (docs/TRACE_FORMAT.md, "Durability and concurrency").
#include <sqlite3.h>

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <functional>
#include <map>
#include <random>

#include <sys/resource.h>
#include <sys/stat.h>

namespace {

struct Run {
    int code = -1;
    QString out;
    QString err;
    QByteArray outBytes;
};

}

class TestCliDurability : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();

    void failedImportNeverDeletesAConcurrentImport();
    void concurrentImportsIntoNewDatabaseKeepBoth();
    void failedImportIntoNewDatabaseLeavesNoFiles();

    void killedWriterKeepsPreviousTraces();
    void fullDiskKeepsPreviousTraces();

    void exportLeavesUsersPartFileAlone();
    void outputRefusedBeforeAnyWork_data();
    void outputRefusedBeforeAnyWork();
    void failedExportKeepsOldFile();
    void exportKeepsPermissions();

private:
    Run cli(const QStringList& args, const std::function<void()>& inChild = {});
    QString path(const QString& name) const { return dir_.filePath(name); }
    QString write(const QString& name, const QByteArray& bytes);
    QString bigPaperCsv(const QString& name, bool badLastRow);
    bool startImportInto(QProcess& a, const QString& db, const QString& csv, const QString& name);
    // Files in the scratch folder whose name starts with `prefix` (temporaries left behind).
    QStringList filesStartingWith(const QString& prefix) const;
    // Trace name -> SHA-256 of its exported long CSV: what a user gets back.
    std::map<QString, QByteArray> content(const QString& db, const QStringList& names);
    QStringList traceNames(const QString& db);
    // A plain SQLite read-only connection (not kvtier's) counts the traces; on failure,
    // minus SQLite's extended error code.
    int64_t rawReadOnlyCount(const QString& db);

    QTemporaryDir dir_;
    QString paper_;   // a small paper-format CSV
};

Run TestCliDurability::cli(const QStringList& args, const std::function<void()>& inChild)
{
    QProcess p;
    p.setWorkingDirectory(dir_.path());
    if (inChild) p.setChildProcessModifier(inChild);
    p.start(QStringLiteral(KVTIER_CLI_PATH), args);
    Run r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.outBytes = p.readAllStandardOutput();
    r.out = QString::fromUtf8(r.outBytes);
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QString TestCliDurability::write(const QString& name, const QByteArray& bytes)
{
    QFile f(path(name));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
    f.write(bytes);
    return f.fileName();
}

QStringList TestCliDurability::filesStartingWith(const QString& prefix) const
{
    return QDir(dir_.path()).entryList({prefix + "*"}, QDir::Files | QDir::Hidden | QDir::System);
}

std::map<QString, QByteArray> TestCliDurability::content(const QString& db, const QStringList& names)
{
    std::map<QString, QByteArray> out;
    for (const QString& n : names) {
        const Run r = cli({"export", db, n, "--csv", "-"});
        out[n] = r.code == 0 ? QCryptographicHash::hash(r.outBytes, QCryptographicHash::Sha256)
                             : ("export failed: " + r.err).toUtf8();
    }
    return out;
}

QStringList TestCliDurability::traceNames(const QString& db)
{
    const Run r = cli({"traces", db});
    if (r.code != 0) return {"<traces failed: " + r.err.trimmed() + ">"};
    QStringList names;
    const QStringList lines = r.out.split('\n', Qt::SkipEmptyParts);
    for (qsizetype i = 1; i < lines.size(); ++i) names << lines[i].section(' ', 0, 0);
    return names;
}

int64_t TestCliDurability::rawReadOnlyCount(const QString& db)
{
    sqlite3* h = nullptr;
    int64_t n = -1;
    if (sqlite3_open_v2(db.toUtf8().constData(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(h, "SELECT count(*) FROM traces", -1, &s, nullptr) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
        else
            n = -sqlite3_extended_errcode(h);
        sqlite3_finalize(s);
    }
    sqlite3_close(h);
    return n;
}

void TestCliDurability::initTestCase()
{
    QVERIFY(dir_.isValid());
    QVERIFY(QFile::exists(QStringLiteral(KVTIER_CLI_PATH)));
    paper_ = write("longbench.csv", "n,l,read_kv\n"
                                    "4,0,\"[0, 1]\"\n4,1,\"[3, 4]\"\n"
                                    "5,1,\"[0]\"\n5,0,\"[2, 4, 1]\"\n"
                                    "6,0,\"[5]\"\n6,1,\"[]\"\n");
}

// ---- item: a failed import deletes only what it alone created -----------------------------

// A paper CSV large enough that importing it takes a good fraction of a second: while
// process A imports it into a new database, process B has time to create that database.
// `badLastRow` makes A fail only at the very end, after all that work.
QString TestCliDurability::bigPaperCsv(const QString& name, bool badLastRow)
{
    QByteArray text("n,l,read_kv\n");
    const int P = 4096, T = 4000;
    for (int t = 0; t < T; ++t) {
        text += QByteArray::number(P + t) + ",0,\"[";
        for (int k = 0; k < 2000; ++k) {
            if (k) text += ", ";
            text += QByteArray::number(2 * k + (t & 1));
        }
        text += "]\"\n";
    }
    if (badLastRow) text += "four,0,\"[0]\"\n";
    return write(name, text);
}

// Starts `kvtier-cli import DB CSV` in `a` and returns once it has started its database
// (under whatever name it uses), i.e. while it imports.
bool TestCliDurability::startImportInto(QProcess& a, const QString& db, const QString& csv, const QString& name)
{
    a.setWorkingDirectory(dir_.path());
    a.start(QStringLiteral(KVTIER_CLI_PATH), {"import", db, csv, "--format", "paper-csv", "--name", name});
    if (!a.waitForStarted()) return false;
    const QString prefix = QFileInfo(db).fileName();
    QElapsedTimer t;
    t.start();
    while (filesStartingWith(prefix).isEmpty() && t.elapsed() < 10000) QTest::qWait(1);
    return !filesStartingWith(prefix).isEmpty();
}

// Process A imports a big file into a new database; while it works, process B creates
// the same database and imports successfully. Then A's input turns out bad at its last
// row. B's trace must survive A's failure, and A leaves no file behind.
void TestCliDurability::failedImportNeverDeletesAConcurrentImport()
{
    const QString db = path("race.kvtr");
    const QString big = bigPaperCsv("race-input.csv", true);
    QProcess a;
    QVERIFY(startImportInto(a, db, big, "from-a"));

    const Run b = cli({"import", db, paper_, "--name", "from-b"});
    QCOMPARE(b.err, QString());
    QCOMPARE(b.code, 0);
    QVERIFY(b.out.startsWith("imported 'from-b' (paper-csv) into " + db));
    // B finished first, or this test proves nothing.
    QCOMPARE(a.state(), QProcess::Running);

    QVERIFY(a.waitForFinished(60000));
    QCOMPARE(a.exitCode(), 1);
    QCOMPARE(QString::fromUtf8(a.readAllStandardError()),
             "kvtier-cli import: " + big + ":4002: n is not an integer: 'four'\n");

    QCOMPARE(traceNames(db), QStringList{"from-b"});
    QCOMPARE(filesStartingWith("race.kvtr"), QStringList{"race.kvtr"});   // A's temporary is gone
}

// Both succeed: the second to finish copies its traces into the database the first made.
void TestCliDurability::concurrentImportsIntoNewDatabaseKeepBoth()
{
    const QString db = path("both.kvtr");
    const QString big = bigPaperCsv("both-input.csv", false);
    QProcess a;
    QVERIFY(startImportInto(a, db, big, "from-a"));

    QCOMPARE(cli({"import", db, paper_, "--name", "from-b"}).code, 0);
    QCOMPARE(a.state(), QProcess::Running);
    QVERIFY(a.waitForFinished(60000));
    QCOMPARE(QString::fromUtf8(a.readAllStandardError()), QString());
    QCOMPARE(a.exitCode(), 0);
    // The user asked for a paper CSV: the copy into the database B made is an inner detail.
    QVERIFY(QString::fromUtf8(a.readAllStandardOutput()).startsWith("imported 'from-a' (paper-csv) into " + db));
    QCOMPARE(traceNames(db), (QStringList{"from-a", "from-b"}));
    QCOMPARE(filesStartingWith("both.kvtr"), QStringList{"both.kvtr"});
}

void TestCliDurability::failedImportIntoNewDatabaseLeavesNoFiles()
{
    const QString bad = write("bad-tail.csv", "n,l,read_kv\n4,0,\"[0]\"\n5,0,\"[1]\"\n6,0,\"[2, 9]\"\n");
    const Run r = cli({"import", path("never.kvtr"), bad});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli import: " + bad + ":4: token index 9 >= n_t = 6 (at n = 6 the readable tokens are 0..5)\n");
    QCOMPARE(filesStartingWith("never.kvtr"), QStringList());
}

// ---- item: crashes and full disks --------------------------------------------------------

// kvtier-cli generate and import, killed with SIGKILL at seeded random moments on a
// database that holds traces: after each kill the database opens at once, read-only
// included, and holds exactly what it held (plus whatever finished before the kill).
void TestCliDurability::killedWriterKeepsPreviousTraces()
{
    const QString db = path("kill.kvtr");
    QCOMPARE(cli({"import", db, paper_, "--name", "paper"}).code, 0);
    QCOMPARE(cli({"generate", db, "--name", "small", "--preset", "drift", "--prefill", "64", "--steps", "16"}).code, 0);
    // Source of the import runs: a long CSV of a mid-sized generated trace.
    const QString srcDb = path("kill-src.kvtr"), srcCsv = path("kill-src.csv");
    QCOMPARE(cli({"generate", srcDb, "--name", "src", "--preset", "drift", "--prefill", "2048", "--steps", "512"}).code, 0);
    QCOMPARE(cli({"export", srcDb, "src", "--csv", srcCsv}).code, 0);

    auto command = [&](int i, const QString& target) -> QStringList {
        const QString name = QStringLiteral("big-%1").arg(i);
        if (i % 2 == 0)
            return {"generate", target, "--name", name, "--preset", "drift", "--prefill", "4096", "--steps", "1024"};
        return {"import", target, srcCsv, "--name", name};
    };
    // How long an uninterrupted run takes, so that kills land anywhere in it.
    qint64 fullMs[2] = {0, 0};
    for (int kind = 0; kind < 2; ++kind) {
        const QString scratch = path(QStringLiteral("kill-timing-%1.kvtr").arg(kind));
        QCOMPARE(cli({"import", scratch, paper_}).code, 0);
        QElapsedTimer t;
        t.start();
        const Run r = cli(command(kind, scratch));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        fullMs[kind] = t.elapsed();
    }

    QStringList expected{"paper", "small"};
    const auto before = content(db, expected);
    const unsigned seed = 20251202;
    std::mt19937 rng(seed);
    // Until five runs were killed mid-way (at most 40 runs): on a loaded machine a run's
    // length varies, so a fixed count of kills could land mostly after the end.
    int killed = 0, runs = 0;
    for (int i = 0; i < 40 && killed < 5; ++i, ++runs) {
        const qint64 delay = std::uniform_int_distribution<qint64>(0, fullMs[i % 2] * 9 / 10)(rng);
        QProcess p;
        p.setWorkingDirectory(dir_.path());
        p.start(QStringLiteral(KVTIER_CLI_PATH), command(i, db));
        QVERIFY(p.waitForStarted());
        if (!p.waitForFinished(static_cast<int>(std::max<qint64>(delay, 1)))) {
            p.kill();   // SIGKILL
            p.waitForFinished();
        }
        const bool finished = p.exitStatus() == QProcess::NormalExit;
        if (finished) QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QString at = QStringLiteral("seed %1, iteration %2, %3 ms").arg(seed).arg(i).arg(delay);
        // At once, without any writer having opened the file since the kill.
        const int64_t rawCount = rawReadOnlyCount(db);
        const QStringList names = traceNames(db);
        // A kill after the commit (while closing) keeps the new trace; it must be whole.
        const QString name = QStringLiteral("big-%1").arg(i);
        if (finished || names.contains(name)) {
            const Run info = cli({"info", db, name});
            QVERIFY2(info.code == 0, qPrintable(at + ": " + info.err));
            QVERIFY2(QRegularExpression("records +(\\d+) of \\1\n").match(info.out).hasMatch(), qPrintable(at + info.out));
            expected << name;
            expected.sort();
        } else {
            ++killed;
        }
        QVERIFY2(names == expected, qPrintable(at + ": " + names.join(',')));
        // A reader that may not write at all could be asked for a recovery only a writer
        // can run, if the kill hit the instant the log's index header was being written
        // (SQLITE_READONLY_RECOVERY); any other answer must be the right one.
        QVERIFY2(rawCount == expected.size() || rawCount == -SQLITE_READONLY_RECOVERY,
                 qPrintable(at + QStringLiteral(": %1 traces").arg(rawCount)));
        QVERIFY2(content(db, {"paper", "small"}) == before, qPrintable(at));
    }
    QVERIFY2(killed >= 5, qPrintable(QStringLiteral("only %1 of %2 runs were killed mid-way").arg(killed).arg(runs)));
    QCOMPARE(filesStartingWith("kill.kvtr"), QStringList{"kill.kvtr"});
}

// The file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes writes fail the way a
// full disk does, without privileges: at several sizes, the write-ahead log cannot grow.
void TestCliDurability::fullDiskKeepsPreviousTraces()
{
    const QString db = path("full.kvtr");
    QCOMPARE(cli({"import", db, paper_, "--name", "paper"}).code, 0);
    QCOMPARE(cli({"generate", db, "--name", "small", "--preset", "drift", "--prefill", "64", "--steps", "16"}).code, 0);
    const QStringList names{"paper", "small"};
    const auto before = content(db, names);
    for (const rlim_t limit : {rlim_t{40} << 10, rlim_t{300} << 10, rlim_t{3} << 20}) {
        const Run r = cli({"generate", db, "--name", "big", "--preset", "drift", "--prefill", "4096", "--steps", "1024"},
                          [limit] {
                              const rlimit rl{limit, limit};
                              setrlimit(RLIMIT_FSIZE, &rl);
                              std::signal(SIGXFSZ, SIG_IGN);
                          });
        const QString at = QStringLiteral("limit %1 bytes: ").arg(limit);
        QVERIFY2(r.code == 1, qPrintable(at + r.err));
        QVERIFY2(r.err.startsWith("kvtier-cli generate: " + db + ": ") && r.err.count('\n') == 1, qPrintable(at + r.err));
        QVERIFY2(r.err.contains("disk is full") || r.err.contains("File too large"), qPrintable(at + r.err));
        QVERIFY2(rawReadOnlyCount(db) == 2, qPrintable(at));
        QCOMPARE(traceNames(db), names);
        QCOMPARE(content(db, names), before);
    }
    // And the database takes writes again.
    QCOMPARE(cli({"generate", db, "--name", "after", "--preset", "drift", "--prefill", "64", "--steps", "16"}).code, 0);
}

// ---- item: exports ------------------------------------------------------------------------

void TestCliDurability::exportLeavesUsersPartFileAlone()
{
    const QString db = path("export.kvtr");
    QCOMPARE(cli({"import", db, paper_, "--name", "paper"}).code, 0);
    const QString out = path("mine.csv");
    write("mine.csv.part", "the user's own notes\n");
    write("mine.csv.tmp", "more notes\n");
    const Run r = cli({"export", db, "paper", "--csv", out});
    QCOMPARE(r.code, 0);
    QFile part(out + ".part"), tmp(out + ".tmp"), csv(out);
    QVERIFY(part.open(QIODevice::ReadOnly) && tmp.open(QIODevice::ReadOnly) && csv.open(QIODevice::ReadOnly));
    QCOMPARE(part.readAll(), QByteArray("the user's own notes\n"));
    QCOMPARE(tmp.readAll(), QByteArray("more notes\n"));
    QVERIFY(csv.readAll().startsWith("# kvtier trace {\"name\":\"paper\","));
    QCOMPARE(filesStartingWith("mine.csv"), (QStringList{"mine.csv", "mine.csv.part", "mine.csv.tmp"}));
}

void TestCliDurability::outputRefusedBeforeAnyWork_data()
{
    QTest::addColumn<QStringList>("args");   // %DB%, %DIR%, %SC% replaced
    QTest::addColumn<QString>("stderrLine");
    QTest::addColumn<QString>("mustNotExist");   // a database the command would have created
    QTest::newRow("export onto a folder") << QStringList{"export", "%DB%", "paper", "--csv", "%DIR%/folder"}
                                          << "kvtier-cli export: %DIR%/folder: is a directory" << "";
    QTest::newRow("export into a missing folder")
        << QStringList{"export", "%DB%", "paper", "--csv", "%DIR%/none/out.csv"}
        << "kvtier-cli export: %DIR%/none/out.csv: folder '%DIR%/none' does not exist" << "";
    QTest::newRow("export under a file") << QStringList{"export", "%DB%", "paper", "--csv", "%DIR%/longbench.csv/x.csv"}
                                         << "kvtier-cli export: %DIR%/longbench.csv/x.csv: '%DIR%/longbench.csv' is not a folder"
                                         << "";
    QTest::newRow("generate --csv onto a folder")
        << QStringList{"generate", "%DIR%/gen-new.kvtr", "--name", "g", "--per-layer", "--selection-ratio", "0.1",
                       "--csv", "%DIR%/folder"}
        << "kvtier-cli generate: %DIR%/folder: is a directory" << "gen-new.kvtr";
    QTest::newRow("analyze --per-step into a missing folder")
        << QStringList{"analyze", "--scenario", "%SC%", "--per-step", "%DIR%/none/steps.csv"}
        << "kvtier-cli analyze: %DIR%/none/steps.csv: folder '%DIR%/none' does not exist" << "";
    QTest::newRow("sweep --csv onto a folder")
        << QStringList{"sweep", "--scenario", "%SC%", "--vary", "batch=1:2:1", "--csv", "%DIR%/folder"}
        << "kvtier-cli sweep: %DIR%/folder: is a directory" << "";
}

void TestCliDurability::outputRefusedBeforeAnyWork()
{
    QFETCH(QStringList, args);
    QFETCH(QString, stderrLine);
    QFETCH(QString, mustNotExist);
    const QString db = path("outputs.kvtr");
    if (!QFile::exists(db)) QCOMPARE(cli({"import", db, paper_, "--name", "paper"}).code, 0);
    QDir(dir_.path()).mkpath("folder");
    // A scenario whose analysis would fail if it ever ran (no trace 'missing').
    const QString scenario = write("outputs.kvtier.json", R"({
          "trace": {"db": "outputs.kvtr", "name": "missing"},
          "model": {"layers": 2, "kv_bytes_per_token_layer": 100, "weight_bytes": 400},
          "hardware": {"tiers": [
            {"name": "HBM", "capacity_bytes": 800, "bandwidth": 1000, "reserve_bytes": 0},
            {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "topk", "value": 2, "sinks": 0, "window": 0, "page_tokens": 1},
          "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
          "batch": 1,
          "policies": [{"name": "first-fit"}]})");
    for (QString& a : args) a.replace("%DB%", db).replace("%DIR%", dir_.path()).replace("%SC%", scenario);
    stderrLine.replace("%DIR%", dir_.path());
    const Run r = cli(args);
    QCOMPARE(r.err, stderrLine + "\n");
    QCOMPARE(r.code, 1);
    QCOMPARE(QDir(path("folder")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
    QCOMPARE(filesStartingWith("folder"), QStringList());
    if (!mustNotExist.isEmpty()) QVERIFY(!QFile::exists(path(mustNotExist)));
}

// The export fails half-way (a damaged record): the old file stays, nothing else appears.
void TestCliDurability::failedExportKeepsOldFile()
{
    const QString db = path("damaged.kvtr");
    QCOMPARE(cli({"generate", db, "--name", "g", "--preset", "drift", "--prefill", "64", "--steps", "16"}).code, 0);
    sqlite3* h = nullptr;
    QCOMPARE(sqlite3_open(db.toUtf8().constData(), &h), SQLITE_OK);
    QCOMPARE(sqlite3_exec(h, "UPDATE records SET data = substr(data, 1, 3) WHERE step = 12", nullptr, nullptr, nullptr),
             SQLITE_OK);
    sqlite3_close(h);
    const QString out = write("damaged.csv", "previous export\n");
    const Run r = cli({"export", db, "g", "--csv", out});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.startsWith("kvtier-cli export: " + db + " trace 'g' record (t=12, l=-1): truncated BLOB"), qPrintable(r.err));
    QCOMPARE(r.err.count('\n'), 1);
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("previous export\n"));
    QCOMPARE(filesStartingWith("damaged.csv"), QStringList{"damaged.csv"});
}

void TestCliDurability::exportKeepsPermissions()
{
    const QString db = path("perm.kvtr");
    QCOMPARE(cli({"import", db, paper_, "--name", "paper"}).code, 0);
    const QString out = write("private.csv", "old\n");
    auto modeOf = [](const QString& file) {
        struct stat st {};
        return stat(file.toUtf8().constData(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
    };
    QCOMPARE(chmod(out.toUtf8().constData(), 0600), 0);
    QCOMPARE(cli({"export", db, "paper", "--csv", out}).code, 0);
    QCOMPARE(modeOf(out), 0600);
    // A new file gets the usual permissions (the umask's), not a temporary file's 0600.
    const QString fresh = path("fresh.csv");
    QCOMPARE(cli({"export", db, "paper", "--csv", fresh}).code, 0);
    const mode_t mask = umask(022);
    umask(mask);
    QCOMPARE(modeOf(fresh), static_cast<int>(0666 & ~mask));
}

QTEST_GUILESS_MAIN(TestCliDurability)
#include "tst_cli_durability.moc"
