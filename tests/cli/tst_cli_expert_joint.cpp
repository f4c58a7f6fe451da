// The joint expert policy end to end through kvtier-cli (docs/POLICIES.md "Expert
// residency", joint; docs/MODEL.md "Experts"): the case worked by hand in
// tests/core/tst_expert_joint.cpp, imported from a CSV with expert sets written as the store
// keeps them.
//
// Trace "joint": aggregated selection trace, P = 4, T = 4, pages of 1 token; reads t0 {0, 1},
// t1 {0, 4}, t2 {0, 1, 4}, t3 {0, 4}; X = t0 {1, 3}, t1 {1, 3}, t2 {2, 3}, t3 {3}.
// Model: L = 1, kappa = 10 B, E = 4 experts of 20 B, W = 180 (W_dense = 100).
// HBM 160 B (1000 B/s): room_0 = 60 B. Ranked by read fraction (ties: experts first):
// e3 1, u0 1, u4 0.75, e1 0.5, u1 0.5, e2 0.25; filling 60 B admits e3, u0, u4, e1: B = 2.
// Experts 3 and 1 in HBM, 0 and 2 in DRAM (100 B/s, links 50 B/s); KV gets 20 B = 2 units.
// first-fit: units 0, 1 in HBM, the rest in DRAM. Steps 0.2, 0.2, 0.6 (DRAM reads e2 and
// u4: max(40/100, 30/50)), 0.2 s: 1.2 s. Expert reads 7 x 20 B, 6 from HBM: hit 6/7.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <cmath>

class TestCliExpertJoint : public QObject {
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
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        db_ = dir_.filePath("joint.sqlite");
        const QString csv = dir_.filePath("joint.csv");
        write(csv, "# kvtier trace {\"name\": \"joint\", \"prefill\": 4, \"steps\": 4, \"mode\": \"aggregated\", "
                   "\"kind\": \"selection\"}\n"
                   "step,layer,token,score\n"
                   "0,-1,0,1\n0,-1,1,1\n1,-1,0,1\n1,-1,4,1\n2,-1,0,1\n2,-1,1,1\n2,-1,4,1\n3,-1,0,1\n3,-1,4,1\n");
        const Run r = cli({"import", db_, csv, "--format", "long-csv"});
        QVERIFY2(r.code == 0, r.err.constData());
        // The expert sets as the store keeps them (docs/TRACE_FORMAT.md): u16 ids, little endian.
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(db_.toUtf8().constData(), &db), SQLITE_OK);
        const char* sql = "INSERT INTO trace_experts SELECT id, 4 FROM traces WHERE name = 'joint';"
                          "INSERT INTO expert_sets SELECT id, 0, 0, x'01000300' FROM traces WHERE name = 'joint';"
                          "INSERT INTO expert_sets SELECT id, 1, 0, x'01000300' FROM traces WHERE name = 'joint';"
                          "INSERT INTO expert_sets SELECT id, 2, 0, x'02000300' FROM traces WHERE name = 'joint';"
                          "INSERT INTO expert_sets SELECT id, 3, 0, x'0300' FROM traces WHERE name = 'joint';";
        QCOMPARE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        scenario_ = dir_.filePath("joint.kvtier.json");
        write(scenario_, R"({"trace": {"db": "joint.sqlite", "name": "joint"},
          "model": {"layers": 1, "kv_bytes_per_token_layer": 10, "weight_bytes": 180, "experts": 4, "expert_bytes": 20},
          "hardware": {"tiers": [{"name": "HBM", "capacity_bytes": 160, "bandwidth": 1000},
                                 {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "dense", "value": 1, "sinks": 0, "window": 0, "page_tokens": 1},
          "experts": {"policy": "joint", "hbm_share": 0.5},
          "policies": [{"name": "first-fit"}]})");
    }

    void analyzeByHand()
    {
        const QString note = "; expert policy joint (oracle) with 2 experts in tier 0 (budget chosen by the joint "
                             "ranking of experts and KV units; hbm_share ignored)";
        // hbm_share changes nothing for joint.
        for (const char* share : {"0.5", "0", "1"}) {
            const Run r = cli({"analyze", "--scenario", scenario_, "--set", QString("experts.hbm_share=") + share, "--json"});
            QVERIFY2(r.code == 0, r.err.constData());
            const QJsonObject j = QJsonDocument::fromJson(r.out).object();
            const QJsonObject ex = j["experts"].toObject();
            QCOMPARE(ex["policy"].toString(), QString("joint"));
            QCOMPARE(ex["online"].toBool(), false);
            QCOMPARE(ex["budget"].toInt(), 2);
            QVERIFY2(ex["note"].toString().endsWith(note), qPrintable(ex["note"].toString()));
            QCOMPARE(ex["placement"].toArray()[0].toObject()["experts"].toInt(), 2);
            QCOMPARE(ex["placement"].toArray()[1].toObject()["experts"].toInt(), 2);
            QCOMPARE(j["capacity"].toObject()["tier_kv_bytes"].toArray()[0].toDouble(), 20.0);
            QCOMPARE(j["capacity"].toObject()["tier_units"].toArray()[0].toInt(), 2);
            const QJsonObject p = j["policies"].toArray()[0].toObject();
            QVERIFY2(std::abs(p["total_time_s"].toDouble() - 1.2) < 1e-12, r.out.constData());
            QCOMPARE(p["expert_hit_ratio"].toDouble(), 6.0 / 7);
            QCOMPARE(p["expert_read_bytes"].toDouble(), 140.0);
            QCOMPARE(p["expert_migrated_bytes"].toDouble(), 0.0);
            QCOMPARE(p["tiers"].toArray()[0].toObject()["expert_read_bytes"].toDouble(), 120.0);
            QCOMPARE(p["tiers"].toArray()[1].toObject()["expert_read_bytes"].toDouble(), 20.0);
            // KV from HBM: units 0 and 1 (t0 2, t1 1, t2 2, t3 1 reads of 10 B).
            QCOMPARE(p["tiers"].toArray()[0].toObject()["kv_read_bytes"].toDouble(), 60.0);
        }
        const Run t = cli({"analyze", "--scenario", scenario_});
        QVERIFY2(t.code == 0, t.err.constData());
        QVERIFY2(t.out.contains(note.toUtf8()), t.out.constData());
    }

    // A sweep over hbm_share with joint: every point is the same run.
    void sweepOverShare()
    {
        const Run sw = cli({"sweep", "--scenario", scenario_, "--vary", "experts.hbm_share=0,0.5,1", "--csv", "-", "--quiet"});
        QVERIFY2(sw.code == 0, sw.err.constData());
        const QList<QByteArray> lines = sw.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 4);
        const auto col = lines[0].split(',').indexOf("first-fit_time_s");
        QVERIFY2(col > 0, lines[0].constData());
        for (int i = 1; i < 4; ++i) QVERIFY(std::abs(lines[i].split(',')[col].toDouble() - 1.2) < 1e-12);
    }

    // A misspelt policy: one line naming the key and every value, joint included.
    void misspeltPolicy()
    {
        const Run bad = cli({"analyze", "--scenario", scenario_, "--set", "experts.policy=jiont"});
        QVERIFY(bad.code != 0);
        QVERIFY2(!bad.err.trimmed().contains('\n'), bad.err.constData());
        QVERIFY2(bad.err.contains("experts.policy") && bad.err.contains("\"jiont\"") &&
                     bad.err.contains("static, lru, lfu, frequency-oracle or belady") && bad.err.contains("or joint"),
                 bad.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliExpertJoint)
#include "tst_cli_expert_joint.moc"
