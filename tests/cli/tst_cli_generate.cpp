// kvtier-cli generate end to end: parameters reach the generator in the documented
// order, the trace lands in the database in one transaction, errors leave it unchanged,
// and the paper CSV it writes imports back unchanged.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

class TestCliGenerate : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    struct Run {
        int code;
        QByteArray out, err;
    };
    Run cli(const QStringList& args)
    {
        QProcess p;
        p.start(KVTIER_CLI_PATH, args);
        p.waitForFinished(120000);
        return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
    }
    QJsonObject params(const QStringList& args)
    {
        const Run r = cli(QStringList{"generate", "--print-params"} + args);
        if (r.code != 0) qInfo("%s", r.err.constData());
        return QJsonDocument::fromJson(r.out).object();
    }

private slots:
    void helpListsEveryParameterWithItsDefault()
    {
        const Run r = cli({"generate", "--help"});
        QCOMPARE(r.code, 0);
        const QJsonObject defaults = params({});
        QVERIFY(defaults.size() >= 30);
        for (auto it = defaults.begin(); it != defaults.end(); ++it)
            QVERIFY2(r.out.contains(("    " + it.key() + " ").toUtf8()), qPrintable(it.key()));
        QVERIFY(r.out.contains("burst_rate          0.02"));
        for (const char* preset : {"stable", "drift", "bursty", "sinks-recency", "per-layer"})
            QVERIFY(r.out.contains(preset));
    }

    void parameterOrder()
    {
        // preset < --params file < shortcuts < --set
        const QString file = dir_.filePath("p.json");
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"burst_rate": 0.5, "prefill": 100, "focus_speed": -2})");
        f.close();
        const QJsonObject p = params({"--preset", "bursty", "--params", file, "--prefill", "200", "--set",
                                      "prefill=300", "--set", "recency_kernel=exp", "--per-layer", "--seed", "9"});
        QCOMPARE(p["burst_share"].toDouble(), 0.6);   // from the preset
        QCOMPARE(p["burst_rate"].toDouble(), 0.5);    // from the file
        QCOMPARE(p["focus_speed"].toDouble(), -2.0);
        QCOMPARE(p["prefill"].toInt(), 300);          // --set wins over --prefill
        QCOMPARE(p["recency_kernel"].toString(), QString("exp"));
        QCOMPARE(p["per_layer"].toBool(), true);
        QCOMPARE(p["seed"].toInt(), 9);
    }

    void writesOneTraceAndRefusesDuplicates()
    {
        const QString db = dir_.filePath("g.sqlite");
        Run r = cli({"generate", db, "--name", "g", "--prefill", "256", "--steps", "8", "--keep-top", "32",
                     "--description", "a test trace"});
        QVERIFY2(r.code == 0, r.err.constData());
        r = cli({"info", db, "g"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("a test trace"));
        // Same name again: refused, then replaced.
        r = cli({"generate", db, "--name", "g", "--prefill", "256", "--steps", "8"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("already exists"));
        r = cli({"generate", db, "--name", "g", "--prefill", "256", "--steps", "4", "--replace"});
        QVERIFY2(r.code == 0, r.err.constData());
        // Bad parameters: an error naming the key, nothing written.
        r = cli({"generate", db, "--name", "h", "--set", "burst_rat=1"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("burst_rat: unknown generator parameter"));
        r = cli({"generate", db, "--name", "h", "--keep-mass", "1.5"});
        QVERIFY(r.err.contains("keep_mass: must be in (0, 1]"));
        r = cli({"generate", db, "--name", "h", "--bogus"});
        QCOMPARE(r.code, 2);
        r = cli({"traces", db});
        QVERIFY(!r.out.contains("\nh "));
    }

    void paperCsvRoundTrip()
    {
        const QString csv = dir_.filePath("sel.csv");
        const QString db = dir_.filePath("csv.sqlite");
        const QStringList shape{"--preset", "per-layer", "--prefill", "300", "--steps", "5", "--layers", "3",
                                "--selection-ratio", "0.05", "--seed", "4"};
        Run r = cli(QStringList{"generate", db, "--name", "direct", "--csv", csv} + shape);
        QVERIFY2(r.code == 0, r.err.constData());
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        QCOMPARE(lines[0], QByteArray("n,l,read_kv"));
        QVERIFY(lines[1].startsWith("300,0,\"[0, "));
        r = cli({"import", db, csv, "--format", "paper-csv", "--name", "via-csv"});
        QVERIFY2(r.code == 0, r.err.constData());
        // Both traces hold the same records: export both and compare.
        const QString a = dir_.filePath("a.csv"), b = dir_.filePath("b.csv");
        r = cli({"export", db, "direct", "--csv", a});
        QVERIFY2(r.code == 0, r.err.constData());
        r = cli({"export", db, "via-csv", "--csv", b});
        QVERIFY2(r.code == 0, r.err.constData());
        QFile fa(a), fb(b);
        QVERIFY(fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly));
        auto body = [](QFile& file) {   // drop comment lines naming the trace
            QByteArrayList keep;
            for (const QByteArray& l : file.readAll().split('\n'))
                if (!l.startsWith('#')) keep << l;
            return keep;
        };
        QCOMPARE(body(fa), body(fb));
        // --csv needs the paper's shape.
        r = cli({"generate", "--csv", csv, "--prefill", "300", "--steps", "2"});
        QCOMPARE(r.code, 2);
    }

    void generatesABatch()
    {
        // docs/GENERATOR.md "Batches": S sequences, P_s in [P - floor(spread * P), P], a
        // shared prefix; info shows S and every P_s; expert sets stored.
        const QString db = dir_.filePath("batch.sqlite");
        Run r = cli({"generate", db, "--name", "b", "--sequences", "3", "--prefill", "200", "--steps", "6",
                     "--prefill-spread", "0.25", "--shared-prefix", "64", "--experts", "8", "--seed", "5"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.err.contains("S=3 "));
        QVERIFY(r.err.contains("18 records"));
        r = cli({"info", db, "b", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject info = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(info["sequences"].toInt(), 3);
        QCOMPARE(info["steps"].toInt(), 6);
        const QJsonArray ps = info["sequence_prefill"].toArray();
        QCOMPARE(ps.size(), 3);
        QCOMPARE(info["prefill"].toInt(), ps[0].toInt());
        bool differ = false;
        for (const auto v : ps) {
            QVERIFY(v.toInt() >= 150 && v.toInt() <= 200);   // 200 - floor(0.25 * 200) = 150
            differ = differ || v.toInt() != ps[0].toInt();
        }
        QVERIFY(differ);
        r = cli({"info", db, "b"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("sequences S      3"));
        QVERIFY(r.out.contains("records          18 of 18"));
        QVERIFY(r.out.contains("E = 8 per layer"));
        QVERIFY(r.out.contains("prefix shared by every sequence"));
        // The parameters as data.
        const QJsonObject p = params({"--sequences", "4", "--prefill-spread", "0.5", "--shared-prefix", "10"});
        QCOMPARE(p["sequences"].toInt(), 4);
        QCOMPARE(p["prefill_spread"].toDouble(), 0.5);
        QCOMPARE(p["shared_prefix"].toInt(), 10);
        // One-line errors naming the key; nothing written.
        r = cli({"generate", db, "--name", "c", "--prefill", "100", "--prefill-spread", "0.5", "--shared-prefix", "51"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("shared_prefix: must be in [0, 50]"), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
        r = cli({"generate", db, "--name", "c", "--sequences", "0"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("sequences: must be in [1, 65536]"), r.err.constData());
        r = cli({"info", db, "c"});
        QVERIFY(r.code != 0);
        // The paper CSV holds one sequence.
        r = cli({"generate", "--csv", dir_.filePath("s.csv"), "--per-layer", "--selection-ratio", "0.1", "--prefill",
                 "100", "--steps", "2", "--sequences", "2"});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("--sequences 2"));
    }
};

QTEST_GUILESS_MAIN(TestCliGenerate)
#include "tst_cli_generate.moc"
