// MoE experts end to end through kvtier-cli (MODEL.md §9, docs/MODEL.md "Experts"): one
// step that reads two of four experts, one of them in HBM, every number worked by hand.
//
// Trace: aggregated, P = 4, T = 1, dense selection (tokens 0..3), L = 1.
// Model: kappa = 10 B, E = 4 experts of 100 B, W_dense = 100 B, so W = 100 + 4 x 100 = 500.
// HBM: 250 B at 1000 B/s, no link. DRAM: 1e6 B at 100 B/s, links 50 B/s.
// Weights first: dense 100 B in HBM (omega = 1) leaves 150 B; expert 0 (100 B) fits, 50 B
// left, so experts 1..3 go to DRAM. KV: five 10-B units (tokens 0..4) fit in HBM's 50 B.
// X[0][0] = {0, 2}: expert 0 from HBM, expert 2 from DRAM.
//   HBM:  R = 100 (dense) + 100 (expert 0) + 40 (KV of 4 tokens) = 240, W = 10 (new token)
//         time = (240 + 10) / 1000 = 0.25 s
//   DRAM: R = 100 (expert 2), W = 0: time = max(100/100, 100/50) = 2 s
//   tau = 2 s.
// Balanced bound: fixed 100 B dense on HBM; movable 40 + 200 = 240 B, HBM may hold 150 of
// them; best: 150 from HBM, 90 from DRAM, the write to HBM: max(260/1000, 90/50) = 1.8 s.
// Paper bound: (100 + 240) / (1000 + min(100, 50)) = 340 / 1050 s.
// Without expert sets every expert counts: DRAM reads 300 B, time 300/50 = 6 s.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

class TestCliExperts : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString db_;

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
    QString scenario(const QString& name, const QString& trace)
    {
        const QString path = dir_.filePath(name);
        QByteArray text = "{\"trace\": {\"db\": \"moe.sqlite\", \"name\": \"";
        text += trace.toUtf8();
        text += "\"},\n"
                "\"model\": {\"layers\": 1, \"kv_bytes_per_token_layer\": 10, \"weight_bytes\": 500, "
                "\"experts\": 4, \"expert_bytes\": 100},\n"
                "\"hardware\": {\"tiers\": [\n"
                " {\"name\": \"HBM\", \"capacity_bytes\": 250, \"bandwidth\": 1000, \"reserve_bytes\": 0},\n"
                " {\"name\": \"DRAM\", \"capacity_bytes\": 1e6, \"bandwidth\": 100, \"link_read\": 50, \"link_write\": 50}]},\n"
                "\"selection\": {\"mode\": \"dense\", \"value\": 1, \"sinks\": 0, \"window\": 0, \"page_tokens\": 1},\n"
                "\"placement\": {\"inclusive\": false, \"route\": \"home\", \"weights_in_fast_tier\": 1.0},\n"
                "\"batch\": 1,\n"
                "\"policies\": [{\"name\": \"first-fit\"}, {\"name\": \"lru\"}]}";
        write(path, text);
        return path;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        db_ = dir_.filePath("moe.sqlite");
        const QString csv = dir_.filePath("one.csv");
        write(csv, "step,layer,token,score\n0,-1,0,0.1\n0,-1,1,0.5\n0,-1,2,0.3\n0,-1,3,0.1\n");
        for (const char* name : {"two-of-four", "no-sets"}) {
            const Run r = cli({"import", db_, csv, "--format", "long-csv", "--name", name, "--prefill", "4"});
            QVERIFY2(r.code == 0, r.err.constData());
        }
        // The expert sets as the store keeps them (docs/TRACE_FORMAT.md): E = 4, and step 0
        // layer 0 holds the u16 ids 0 and 2.
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(db_.toUtf8().constData(), &db), SQLITE_OK);
        const char* sql = "INSERT INTO trace_experts SELECT id, 4 FROM traces WHERE name = 'two-of-four';"
                          "INSERT INTO expert_sets SELECT id, 0, 0, x'00000200' FROM traces WHERE name = 'two-of-four';";
        QCOMPARE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }

    void infoShowsExperts()
    {
        Run r = cli({"info", db_, "two-of-four", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object()["experts"].toInt(), 4);
        r = cli({"info", db_, "no-sets", "--json"});
        QCOMPARE(QJsonDocument::fromJson(r.out).object()["experts"].toInt(), 0);
        r = cli({"info", db_, "two-of-four"});
        QVERIFY(r.out.contains("per-step expert sets, E = 4 per layer"));
    }

    void twoOfFourExpertsOneInHbm()
    {
        const Run r = cli({"analyze", "--scenario", scenario("moe.kvtier.json", "two-of-four"), "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        const QJsonObject ex = j["experts"].toObject();
        QCOMPARE(ex["experts_per_layer"].toInt(), 4);
        QCOMPARE(ex["dense_weight_bytes"].toDouble(), 100.0);
        QVERIFY(ex["expert_sets"].toBool());
        QCOMPARE(ex["placement"].toArray()[0].toObject()["experts"].toInt(), 1);
        QCOMPARE(ex["placement"].toArray()[1].toObject()["experts"].toInt(), 3);
        QCOMPARE(j["capacity"].toObject()["tier_units"].toArray()[0].toInt(), 5);   // 50 B left of HBM
        QCOMPARE(j["bounds"].toObject()["balanced"].toObject()["total_time_s"].toDouble(), 1.8);
        QCOMPARE(j["bounds"].toObject()["paper"].toObject()["total_time_s"].toDouble(), 340.0 / 1050.0);
        for (const auto& v : j["policies"].toArray()) {   // both keep every unit in HBM
            const QJsonObject p = v.toObject();
            QCOMPARE(p["total_time_s"].toDouble(), 2.0);
            const QJsonArray tiers = p["tiers"].toArray();
            const QJsonObject hbm = tiers[0].toObject(), dram = tiers[1].toObject();
            QCOMPARE(hbm["kv_read_bytes"].toDouble(), 40.0);
            QCOMPARE(hbm["expert_read_bytes"].toDouble(), 100.0);
            QCOMPARE(hbm["read_bytes"].toDouble(), 240.0);
            QCOMPARE(hbm["busy_s"].toDouble(), 0.25);
            QCOMPARE(dram["kv_read_bytes"].toDouble(), 0.0);
            QCOMPARE(dram["expert_read_bytes"].toDouble(), 100.0);
            QCOMPARE(dram["busy_s"].toDouble(), 2.0);
        }
        // The Explain view's R per tier and its expert part.
        const Run e = cli({"view", "explain", "--scenario", scenario("moe.kvtier.json", "two-of-four"), "--step", "0"});
        QVERIFY2(e.code == 0, e.err.constData());
        const QJsonArray et = QJsonDocument::fromJson(e.out).object()["tiers"].toArray();
        QCOMPARE(et[0].toObject()["R_bytes"].toDouble(), 240.0);
        QCOMPARE(et[0].toObject()["expert_R_bytes"].toDouble(), 100.0);
        QCOMPARE(et[1].toObject()["expert_R_bytes"].toDouble(), 100.0);
    }

    void withoutExpertSetsEveryExpertIsRead()
    {
        const QString s = scenario("nosets.kvtier.json", "no-sets");
        Run r = cli({"analyze", "--scenario", s, "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        QVERIFY(!j["experts"].toObject()["expert_sets"].toBool());
        QVERIFY(j["experts"].toObject()["note"].toString().contains("every expert of a layer counts as read every step"));
        const QJsonObject p = j["policies"].toArray()[0].toObject();
        QCOMPARE(p["total_time_s"].toDouble(), 6.0);
        QCOMPARE(p["tiers"].toArray()[1].toObject()["expert_read_bytes"].toDouble(), 300.0);
        r = cli({"analyze", "--scenario", s});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("the trace has no expert sets, so every expert of a layer counts as read every step"));
    }

    // Scenario checks: experts and expert_bytes together, W must hold the experts.
    void badModelsRefused()
    {
        const QString path = dir_.filePath("bad.kvtier.json");
        write(path, R"({"trace": {"db": "moe.sqlite", "name": "two-of-four"},
          "model": {"layers": 1, "kv_bytes_per_token_layer": 10, "weight_bytes": 300, "experts": 4, "expert_bytes": 100},
          "hardware": {"tiers": [{"name": "HBM", "capacity_bytes": 1e6, "bandwidth": 1000}]},
          "policies": [{"name": "first-fit"}]})");
        Run r = cli({"analyze", "--scenario", path});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains("model.weight_bytes") && r.err.contains("must include the experts"), r.err.constData());
        write(path, R"({"trace": {"db": "moe.sqlite", "name": "two-of-four"},
          "model": {"layers": 1, "kv_bytes_per_token_layer": 10, "weight_bytes": 500, "experts": 4},
          "hardware": {"tiers": [{"name": "HBM", "capacity_bytes": 1e6, "bandwidth": 1000}]},
          "policies": [{"name": "first-fit"}]})");
        r = cli({"analyze", "--scenario", path});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains("model.expert_bytes") && r.err.contains("missing"), r.err.constData());
    }

    // kvtier-cli generate --experts: the sets land in the database and info shows them.
    void generateWritesExpertSets()
    {
        const QString db = dir_.filePath("gen.sqlite");
        Run r = cli({"generate", db, "--name", "g", "--steps", "8", "--prefill", "64", "--layers", "4", "--experts", "8",
                     "--expert-top-k", "2", "--expert-zipf", "1.5", "--expert-reuse", "0.5"});
        QVERIFY2(r.code == 0, r.err.constData());
        r = cli({"info", db, "g", "--json"});
        QCOMPARE(QJsonDocument::fromJson(r.out).object()["experts"].toInt(), 8);
    }
};

QTEST_GUILESS_MAIN(TestCliExperts)
#include "tst_cli_experts.moc"
