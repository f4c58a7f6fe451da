// Hostile inputs through kvtier-cli as a user meets them: damaged databases, scenarios
// nested without end or with numbers beyond every range, sweep grids whose size wraps.
// Each run must exit 1 with exactly one line on stderr naming the file and the problem,
// never crash, never print a library's text (docs/HOSTILE_INPUTS.md).
#include <sqlite3.h>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

class TestCliHostile : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString db_;

    struct Run {
        int code = -1;
        QByteArray out, err;
    };
    Run cli(const QStringList& args)
    {
        QProcess p;
        p.setWorkingDirectory(dir_.path());
        p.start(KVTIER_CLI_PATH, args);
        Run r;
        if (!p.waitForFinished(120000)) {
            p.kill();
            p.waitForFinished();
            return r;
        }
        r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;   // a crash is -1
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
    }
    void write(const QString& path, const QByteArray& text)
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text);
    }
    // A copy of the good database with `sql` applied, CHECK constraints off.
    QString damaged(const QString& name, const char* sql)
    {
        const QString p = dir_.filePath(name);
        QFile::remove(p);
        if (!QFile::copy(db_, p)) return {};
        sqlite3* db = nullptr;
        sqlite3_open(p.toUtf8().constData(), &db);
        const std::string all = std::string("PRAGMA ignore_check_constraints = ON; ") + sql;
        const int rc = sqlite3_exec(db, all.c_str(), nullptr, nullptr, nullptr);
        sqlite3_close(db);
        return rc == SQLITE_OK ? p : QString();
    }
    QByteArray scenario(const QByteArray& db)
    {
        // Plain literals: moc does not read raw strings spliced with other text.
        return "{\"trace\": {\"db\": \"" + db + "\", \"name\": \"example\"},\n"
               " \"model\": {\"layers\": 2, \"kv_bytes_per_token_layer\": 100, \"weight_bytes\": 400},\n"
               " \"hardware\": {\"tiers\": [\n"
               "  {\"name\": \"HBM\", \"capacity_bytes\": 800, \"bandwidth\": 1000, \"reserve_bytes\": 0},\n"
               "  {\"name\": \"DRAM\", \"capacity_bytes\": 1e6, \"bandwidth\": 100, \"link_read\": 50, "
               "\"link_write\": 50}]},\n"
               " \"selection\": {\"mode\": \"topk\", \"value\": 2},\n"
               " \"placement\": {\"inclusive\": false},\n"
               " \"policies\": [{\"name\": \"first-fit\"}]}";
    }
    static void oneClearLine(const Run& r, const QString& expect)
    {
        QVERIFY2(r.code == 1, r.err.constData());
        QVERIFY2(QString(r.err).contains(expect), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY2(!r.err.contains("json.exception") && !r.err.contains("std::") && !r.err.contains("stoul"),
                 r.err.constData());
        QVERIFY(r.err.size() < 400);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        db_ = dir_.filePath("example.sqlite");
        const QString csv = dir_.filePath("example.csv");
        write(csv, "step,layer,token,score\n0,-1,0,0.1\n0,-1,1,0.5\n0,-1,2,0.3\n1,-1,0,0.4\n1,-1,4,0.2\n");
        const Run r = cli({"import", db_, csv, "--format", "long-csv", "--name", "example", "--prefill", "4",
                           "--encoding", "f32"});
        QVERIFY2(r.code == 0, r.err.constData());
        write(dir_.filePath("ok.kvtier.json"), scenario("example.sqlite"));
        QCOMPARE(cli({"analyze", "--scenario", dir_.filePath("ok.kvtier.json")}).code, 0);
    }

    // SEEN: SIGSEGV in import / info / analyze on a count that wraps the BLOB size.
    void countThatWrapsTheBlobSize()
    {
        const QString p = damaged("wrap.sqlite", "UPDATE traces SET prefill = 4611686018427387904; "
                                                 "UPDATE records SET count = 4611686018427387904 + step, data = x''");
        QVERIFY(!p.isEmpty());
        oneClearLine(cli({"info", p, "example"}), p + " trace 'example': prefill P = 4611686018427387904");
        oneClearLine(cli({"import", dir_.filePath("copy.sqlite"), p}), "prefill P = 4611686018427387904");
        write(dir_.filePath("wrap.kvtier.json"), scenario("wrap.sqlite"));
        oneClearLine(cli({"analyze", "--scenario", dir_.filePath("wrap.kvtier.json")}), "prefill P = 4611686018427387904");
    }

    // SEEN: SIGFPE on layers = 0.
    void layersZero()
    {
        const QString p = damaged("l0.sqlite", "UPDATE traces SET layers = 0, layer_mode = 'per-layer'");
        QVERIFY(!p.isEmpty());
        oneClearLine(cli({"info", p, "example"}), "layers L = 0 is outside 1 .. 65536");
        oneClearLine(cli({"traces", p}), "layers L = 0 is outside 1 .. 65536");
    }

    // SEEN: stack overflow on a scenario nested a few hundred thousand levels deep.
    void deepScenario()
    {
        const QString p = dir_.filePath("deep.kvtier.json");
        write(p, "{\"comment\": " + QByteArray(300000, '[') + QByteArray(300000, ']') + "}");
        oneClearLine(cli({"analyze", "--scenario", p}), p + ": line 1, column 76: JSON nested deeper than 64 levels");
        const QString ok = dir_.filePath("ok.kvtier.json");
        oneClearLine(cli({"analyze", "--scenario", ok, "--set", "comment=" + QString(100000, '[')}),
                     "--set comment: line 1, column 65: JSON nested deeper than 64 levels");
    }

    // The generator's JSON inputs go through the same checks: --params FILE and --set.
    void deepOrBrokenGeneratorParams()
    {
        const QString p = dir_.filePath("deep-params.json");
        write(p, QByteArray(100000, '[') + QByteArray(100000, ']'));
        const QString db = dir_.filePath("gen.sqlite");
        oneClearLine(cli({"generate", db, "--params", p}), p + ": line 1, column 65: JSON nested deeper than 64 levels");
        write(p, "{\"seed\": 1e999}");
        oneClearLine(cli({"generate", db, "--params", p}), p + ": line 1, column 10: number 1e999 is out of range");
        oneClearLine(cli({"generate", db, "--set", "seed=" + QString(100000, '[')}),
                     "--set seed: line 1, column 65: JSON nested deeper than 64 levels");
        QVERIFY(!QFile::exists(db));
    }

    // SEEN: nlohmann's texts (number overflow, invalid UTF-8) reached the user.
    void jsonErrorsInPlainWords()
    {
        const QString p = dir_.filePath("overflow.kvtier.json");
        write(p, "{\n  \"batch\": 1e999\n}");
        oneClearLine(cli({"analyze", "--scenario", p}), p + ": line 2, column 12: number 1e999 is out of range");
        write(p, "{\"comment\": \"\xff\"}");
        oneClearLine(cli({"analyze", "--scenario", p}), p + ": line 1, column 14: invalid UTF-8 in a string");
    }

    // SEEN: "tiers have 1e+299 GB left", inf and -nan times, exit 0.
    void numbersBeyondTheirRange()
    {
        const QString ok = dir_.filePath("ok.kvtier.json");
        oneClearLine(cli({"analyze", "--scenario", ok, "--set", "hardware.tiers.1.capacity_bytes=1e299"}),
                     "hardware.tiers[1].capacity_bytes: must be at most 1e+18 (1 EB), got 1e+299");
        oneClearLine(cli({"analyze", "--scenario", ok, "--set", "placement.compute_floor_s=1e308"}),
                     "placement.compute_floor_s: must be at most 3600 s, got 1e+308");
        oneClearLine(cli({"analyze", "--scenario", ok, "--set", "hardware.tiers.99999999999999999999999.bandwidth=1"}),
                     "index 99999999999999999999999 is past the end (the array has 2 entries)");
    }

    // SEEN: a grid of 65536^4 points wrapped to 0: "0 points", exit 0.
    void sweepGridThatWraps()
    {
        const QString ok = dir_.filePath("ok.kvtier.json");
        QStringList args = {"sweep", "--scenario", ok, "--csv", "-", "--quiet"};
        for (const char* k : {"batch", "selection.value", "model.weight_bytes", "hardware.tiers.0.bandwidth"})
            args << "--vary" << QString(k) + "=1:65536:1";
        const Run r = cli(args);
        oneClearLine(r, "the sweep grid has 65536 x 65536 x 65536 x 65536 points, more than the limit of 1000000");
        QVERIFY(r.out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCliHostile)
#include "tst_cli_hostile.moc"
