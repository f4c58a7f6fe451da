// kvtier-cli analyze and sweep end to end: MODEL_EXAMPLE.md imported from a long CSV,
// analysed through a scenario file, every hand-computed number checked in the JSON.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <cmath>
#include <QTemporaryDir>
#include <QtTest>

class TestCliEngine : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString db_, scenario_;

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
    void write(const QString& path, const QByteArray& text)
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    }

private slots:
    // One version number, the project's, in the program.
    void versionIsTheProjects()
    {
        const Run r = cli({"--version"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("kvtier-cli " KVTIER_VERSION "\n"));
        QVERIFY(QByteArray(KVTIER_VERSION).count('.') == 2);
    }

    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        db_ = dir_.filePath("example.sqlite");
        const QString csv = dir_.filePath("example.csv");
        write(csv, "step,layer,token,score\n"
                   "0,-1,0,0.1\n0,-1,1,0.5\n0,-1,2,0.3\n0,-1,3,0.1\n"
                   "1,-1,0,0.4\n1,-1,1,0.1\n1,-1,2,0.1\n1,-1,3,0.2\n1,-1,4,0.2\n");
        const Run r = cli({"import", db_, csv, "--format", "long-csv", "--name", "example", "--prefill", "4"});
        QVERIFY2(r.code == 0, r.err.constData());
        scenario_ = dir_.filePath("example.kvtier.json");
        write(scenario_, R"({
          "trace": {"db": "example.sqlite", "name": "example"},
          "model": {"layers": 2, "kv_bytes_per_token_layer": 100, "weight_bytes": 400},
          "hardware": {"tiers": [
            {"name": "HBM", "capacity_bytes": 800, "bandwidth": 1000, "reserve_bytes": 0},
            {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "topk", "value": 2, "sinks": 0, "window": 0, "page_tokens": 1},
          "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
          "batch": 1,
          "policies": [{"name": "first-fit"}]})");
    }

    // kvtier-cli view: the GUI's view data for the worked example, at full resolution.
    void viewExportsWhatTheGuiShows()
    {
        Run r = cli({"view", "explain", "--scenario", scenario_, "--step", "0"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject e = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(e["step_time_s"].toDouble(), 4.0);
        QCOMPARE(e["recomputed_step_time_s"].toDouble(), 4.0);
        QCOMPARE(e["limiting_tier"].toString(), QString("DRAM"));
        const QJsonObject dram = e["tiers"].toArray()[1].toObject();
        QCOMPARE(dram["R_bytes"].toDouble(), 100.0);
        QCOMPARE(dram["W_bytes"].toDouble(), 100.0);
        QCOMPARE(dram["(R+W)/B_s"].toDouble(), 2.0);
        QCOMPARE(dram["R/Lr_s"].toDouble(), 2.0);
        QCOMPARE(dram["binding"].toArray(), (QJsonArray{true, true, true}));
        QVERIFY(e["tiers"].toArray()[0].toObject()["R/Lr_s"].isNull());   // HBM: no link
        QCOMPARE(e["paper_bound"].toObject()["sum_min_B_Lr"].toDouble(), 1050.0);

        r = cli({"view", "compare", "--scenario", scenario_});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.out.contains("first-fit,\"First-fit (static)\",online,4,0.25,"), r.out.constData());
        QVERIFY(r.out.contains("\nbalanced,\"balanced bound\",bound,"));

        // Relevance at full resolution: 2 steps x 6 tokens, one line per cell.
        r = cli({"view", "heatmap", "--kind", "relevance", "--scenario", scenario_});
        QVERIFY2(r.code == 0, r.err.constData());
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2 + 12);
        QVERIFY(lines.contains("1,0,1,0,0.400000006,1,1"));   // step 1, token 0: 0.4, selected
        QVERIFY(lines.contains("0,1,0,1,0.5,1,1"));           // step 0, token 1: 0.5, selected
        r = cli({"view", "heatmap", "--scenario", scenario_, "--cells", "2x2"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out.trimmed().split('\n').size(), 2 + 4);

        // Token 4 is step 0's new token, written while HBM is full: from step 1 on it is
        // scored and lives in DRAM; at step 0 it does not exist yet (no score, no tier).
        r = cli({"view", "timeline", "--scenario", scenario_, "--token", "4"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.out.endsWith("step,relevance,selected,tier\n0,,0,\n1,0.20000000298023224,0,DRAM\n"), r.out.constData());

        r = cli({"view", "explain", "--scenario", scenario_, "--step", "5"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("step 5") && r.err.count('\n') == 1, r.err.constData());
        QCOMPARE(cli({"view", "pie", "--scenario", scenario_}).code, 2);
        QCOMPARE(cli({"view", "heatmap", "--scenario", scenario_, "--policy", "nope"}).code, 2);
    }

    // view heatmap --sequence N: a batch's sequence N, its P_N + T rows; out of range is
    // one line naming the range.
    void heatmapOfOneSequence()
    {
        const QString db = dir_.filePath("batch.sqlite");
        Run r = cli({"generate", db, "--name", "b", "--sequences", "3", "--prefill", "200", "--steps", "6",
                     "--prefill-spread", "0.25", "--seed", "5"});
        QVERIFY2(r.code == 0, r.err.constData());
        r = cli({"info", db, "b", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonArray ps = QJsonDocument::fromJson(r.out).object()["sequence_prefill"].toArray();
        QCOMPARE(ps.size(), 3);
        const QString scenario = dir_.filePath("batch.kvtier.json");
        write(scenario, R"({
          "trace": {"db": "batch.sqlite", "name": "b"},
          "model": {"layers": 2, "kv_bytes_per_token_layer": 100, "weight_bytes": 400},
          "hardware": {"tiers": [
            {"name": "HBM", "capacity_bytes": 40400, "bandwidth": 1000, "reserve_bytes": 0},
            {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "topk", "value": 8, "sinks": 0, "window": 0, "page_tokens": 1},
          "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
          "batch": 1,
          "policies": [{"name": "lru"}]})");
        for (int s = 0; s < 3; ++s) {
            r = cli({"view", "heatmap", "--kind", "relevance", "--scenario", scenario, "--sequence", QString::number(s)});
            QVERIFY2(r.code == 0, r.err.constData());
            // A comment, the header, then one line per step and token of sequence s.
            QCOMPARE(r.out.trimmed().split('\n').size(), 2 + 6 * (ps[s].toInt() + 6));
            r = cli({"view", "heatmap", "--scenario", scenario, "--sequence", QString::number(s)});
            QVERIFY2(r.code == 0, r.err.constData());
            QCOMPARE(r.out.trimmed().split('\n').size(), 2 + 6 * (ps[s].toInt() + 6));   // pages of 1 token
        }
        r = cli({"view", "heatmap", "--kind", "relevance", "--scenario", scenario, "--sequence", "3"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("sequence 3") && r.err.contains("3 sequence(s): 0..2") && r.err.count('\n') == 1,
                 r.err.constData());
        r = cli({"view", "heatmap", "--scenario", scenario_, "--sequence", "1"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("sequence 1") && r.err.contains("1 sequence(s): 0..0") && r.err.count('\n') == 1,
                 r.err.constData());
    }

    void analyzeReproducesTheWorkedExample_data()
    {
        QTest::addColumn<QString>("inclusive");
        QTest::newRow("exclusive") << "false";
        QTest::newRow("inclusive") << "true";
    }
    void analyzeReproducesTheWorkedExample()
    {
        QFETCH(QString, inclusive);
        const Run r = cli({"analyze", "--scenario", scenario_, "--json", "--set", "placement.inclusive=" + inclusive});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(j["steps"].toInt(), 2);
        QCOMPARE(j["layers"].toInt(), 2);
        const QJsonObject bounds = j["bounds"].toObject();
        QVERIFY(std::abs(bounds["balanced"].toObject()["total_time_s"].toDouble() - 4 * 500.0 / 1050) < 1e-12);
        QVERIFY(std::abs(bounds["paper"].toObject()["total_time_s"].toDouble() - 4 * 400.0 / 1050) < 1e-12);
        // Top-2 picks {1, 2} then {0, 3}: both new at step 1; token 1 and 2 are never read
        // again, so no reuse, and every token stays one step.
        const QJsonObject rel = j["relevance"].toObject();
        QCOMPARE(rel["mean_turnover"].toDouble(), 1.0);
        QCOMPARE(rel["mean_reuse_distance_steps"].toDouble(), 0.0);
        QCOMPARE(rel["mean_stay_steps"].toDouble(), 1.0);
        const QJsonObject ff = j["policies"].toArray()[0].toObject();
        QCOMPARE(ff["name"].toString(), QString("first-fit"));
        QCOMPARE(ff["online"].toBool(), true);
        QCOMPARE(ff["total_time_s"].toDouble(), 8.0);
        QCOMPARE(ff["time_per_token_s"].toDouble(), 4.0);
        QCOMPARE(ff["throughput_tok_s"].toDouble(), 0.25);
        QCOMPARE(ff["hbm_hit_ratio"].toDouble(), 0.5);
        QCOMPARE(ff["migrated_bytes"].toDouble(), 0.0);
        const QJsonArray tiers = ff["tiers"].toArray();
        QCOMPARE(tiers.size(), 2);
        QCOMPARE(tiers[0].toObject()["name"].toString(), QString("HBM"));
        QCOMPARE(tiers[0].toObject()["read_bytes"].toDouble(), 1200.0);
        QCOMPARE(tiers[1].toObject()["write_bytes"].toDouble(), 400.0);
        QCOMPARE(tiers[1].toObject()["busy_fraction"].toDouble(), 1.0);
    }

    void analyzePrintsATableAndPerStepCsv()
    {
        const QString perStep = dir_.filePath("steps.csv");
        const Run r = cli({"analyze", "--scenario", scenario_, "--per-step", perStep});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("balanced bound"));
        QVERIFY(r.out.contains("first-fit"));
        QFile f(perStep);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines[0], QByteArray("step,balanced_s,paper_s,first-fit_s,first-fit_HBM_busy_fraction,"
                                      "first-fit_DRAM_busy_fraction"));
        QVERIFY(lines[1].startsWith("0,"));
        QVERIFY(lines[1].contains(",4,0.15,1"));   // tau = 4 s; HBM busy 0.3 of 2 s per layer
    }

    // `bound` and `analyze --migration-bound --anneal`: B <= S, the gap is S / B, the
    // existing keys stay, and inclusive scenarios are refused with one line.
    void boundAndAnalyzeCarryTheMigrationAwareBound()
    {
        const Run plain = cli({"analyze", "--scenario", scenario_, "--json"});
        QVERIFY2(plain.code == 0, plain.err.constData());
        const Run r = cli({"analyze", "--scenario", scenario_, "--json", "--migration-bound", "--anneal"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        const QJsonObject bounds = j["bounds"].toObject();
        QVERIFY(bounds.contains("balanced") && bounds.contains("paper"));
        QCOMPARE(bounds["balanced"], QJsonDocument::fromJson(plain.out).object()["bounds"].toObject()["balanced"]);
        const QJsonObject ma = bounds["migration_aware"].toObject();
        const double B = ma["total_time_s"].toDouble(), S = ma["schedule_time_s"].toDouble();
        QVERIFY(B >= bounds["balanced"].toObject()["total_time_s"].toDouble());
        QVERIFY(B > 0 && B <= S * (1 + 1e-12));
        QVERIFY(std::abs(ma["gap"].toDouble() - S / B) < 1e-12);
        QVERIFY(bounds["annealed"].toObject()["total_time_s"].toDouble() >= B);
        QVERIFY(!QJsonDocument::fromJson(plain.out).object()["bounds"].toObject().contains("migration_aware"));

        const Run b = cli({"bound", "--scenario", scenario_, "--time-budget", "5", "--seed", "3"});
        QVERIFY2(b.code == 0, b.err.constData());
        QVERIFY(b.out.contains("migration-aware bound B"));
        QVERIFY(b.out.contains("certified gap S / B"));
        const Run bj = cli({"bound", "--scenario", scenario_, "--json", "--seed", "3"});
        QVERIFY2(bj.code == 0, bj.err.constData());
        QCOMPARE(QJsonDocument::fromJson(bj.out).object()["bounds"].toObject()["migration_aware"].toObject()["total_time_s"].toDouble(), B);
        const Run inc = cli({"bound", "--scenario", scenario_, "--set", "placement.inclusive=true"});
        QCOMPARE(inc.code, 2);
        QVERIFY(inc.err.contains("exclusive placement only"));
        QCOMPARE(inc.err.count('\n'), 1);
    }

    // `analyze --stream --migration-bound`: the windowed bound (docs/BOUNDS.md "Windows") in
    // the JSON and the table, one window per step here: balanced <= B <= S, S the fastest
    // policy's time; --anneal needs the whole trace and is refused in one line.
    void streamedAnalyzeCarriesTheWindowedBound()
    {
        const Run r = cli({"analyze", "--scenario", scenario_, "--json", "--stream", "--window-steps", "1",
                           "--migration-bound"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        const QJsonObject bounds = j["bounds"].toObject();
        const QJsonObject ma = bounds["migration_aware"].toObject();
        QCOMPARE(ma["windows"].toInt(), 2);
        QCOMPARE(j["stream"].toObject()["windows"].toInt(), 2);
        const double B = ma["total_time_s"].toDouble(), S = ma["schedule_time_s"].toDouble();
        QVERIFY(B >= bounds["balanced"].toObject()["total_time_s"].toDouble());
        QVERIFY(B > 0 && B <= S * (1 + 1e-12));
        double fastest = 1e300;
        QString fastestName;
        for (const QJsonValue& v : j["policies"].toArray()) {
            const double t = v.toObject()["total_time_s"].toDouble();
            if (t < fastest) {
                fastest = t;
                fastestName = v.toObject()["name"].toString();
            }
        }
        QCOMPARE(S, fastest);
        QCOMPARE(ma["schedule_source"].toString(), "policy " + fastestName);
        const Run table = cli({"analyze", "--scenario", scenario_, "--stream", "--migration-bound"});
        QVERIFY2(table.code == 0, table.err.constData());
        QVERIFY2(table.out.contains("migration-aware bound") && table.out.contains("windowed"), table.out.constData());
        const Run anneal = cli({"analyze", "--scenario", scenario_, "--stream", "--anneal"});
        QCOMPARE(anneal.code, 1);
        QVERIFY2(anneal.err.contains("bounds.annealed"), anneal.err.constData());
        QCOMPARE(anneal.err.count('\n'), 1);
    }

    void sweepWritesEveryPoint()
    {
        const QString csv = dir_.filePath("sweep.csv");
        const Run r = cli({"sweep", "--scenario", scenario_, "--vary", "hardware.tiers.1.link_read=25:100:25", "--csv", csv});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.err.contains("sweep: 100%"));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 5);   // header + 25, 50, 75, 100
        QVERIFY(lines[0].startsWith("hardware.tiers.1.link_read,balanced_s,paper_s,first-fit_time_s"));
        QVERIFY(lines[2].startsWith("50,"));   // the worked example's own link: first-fit 8 s
        QCOMPARE(lines[2].split(',')[3].toDouble(), 8.0);
    }

    void errorsAreOneClearLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expect");
        QTest::addColumn<int>("code");
        QTest::newRow("no scenario") << QStringList{"analyze"} << "missing required option --scenario" << 2;
        QTest::newRow("unknown option") << QStringList{"analyze", "--scenaro", "x"} << "unknown option --scenaro" << 2;
        QTest::newRow("missing file") << QStringList{"analyze", "--scenario", "/nonexistent.kvtier.json"}
                                      << "/nonexistent.kvtier.json: cannot open" << 1;
        QTest::newRow("bad set") << QStringList{"analyze", "--set", "selection.page_tokens=0"} << "selection.page_tokens" << 1;
        QTest::newRow("infeasible") << QStringList{"analyze", "--set", "hardware.tiers.0.capacity_bytes=300"}
                                    << "infeasible" << 1;
        QTest::newRow("sweep no vary") << QStringList{"sweep", "--csv", "-"} << "--vary" << 2;
        QTest::newRow("bad vary") << QStringList{"sweep", "--vary", "batch=1:4:0", "--csv", "-"} << "step" << 1;
    }
    void errorsAreOneClearLine()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expect);
        QFETCH(int, code);
        if (args.size() > 1 && args[1] == "--set") args << "--scenario" << scenario_;
        if (args[0] == "sweep" && !args.contains("--scenario")) args << "--scenario" << scenario_;
        const Run r = cli(args);
        QCOMPARE(r.code, code);
        QVERIFY2(QString(r.err).contains(expect), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(r.out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCliEngine)
#include "tst_cli_engine.moc"
