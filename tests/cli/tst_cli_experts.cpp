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
//
// Expert policies (docs/MODEL.md "Experts"; the moves worked by hand in
// tests/core/tst_expert_residency.cpp): trace "four-steps", aggregated, P = 4, T = 4, dense
// selection (step t reads 4 + t tokens), X = t0 {0,1}, t1 {2,3}, t2 {0,2}, t3 {0,2}.
// HBM 500 B: room 400 after the dense 100; hbm_share 0.5 gives 2 experts (0, 1 at the start)
// and leaves 200 B = 20 KV units, so first-fit keeps all 8 tokens in HBM. Per step:
//   HBM  R = 100 dense + experts read there + 10 (4 + t) KV + moves out, W = 10 + moves in;
//   DRAM R = experts read there + moves out, W = moves in; time max((R+W)/100, R/50, W/50).
// lru: t0 HBM 340 + 10 -> 0.35 s. t1 DRAM R 200 -> 4 s. t2 (two swaps, 0 from DRAM):
//   DRAM R 300 W 200 -> 6 s. t3 (one swap): DRAM R 100 W 100 -> 2 s. Total 12.35 s;
//   hit ratio 5/8; 600 B moved.
// lfu: 0.35 + 4 + 2 (2 from DRAM) + 2 (one swap) = 8.35 s; hit 5/8; 200 B.
// frequency-oracle ({0,2} in HBM): t0 and t1 read one expert from DRAM: 2 + 2; t2 HBM
//   R 360 W 10 -> 0.37; t3 0.38. Total 4.75 s; hit 6/8; nothing moved.
// belady: t0 0.35; t1 two swaps, DRAM R 200 W 200 -> 4; t2 one swap -> 2; t3 HBM 370 + 10
//   -> 0.38. Total 6.73 s; hit 1; 600 B.
// hbm_share 0: every expert in DRAM, each step reads 200 B from it: 4 x 4 = 16 s.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <cmath>

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
        const QString csv4 = dir_.filePath("four.csv");
        QByteArray rows = "step,layer,token,score\n";
        for (int t = 0; t < 4; ++t)
            for (int k = 0; k < 4 + t; ++k) rows += QByteArray::number(t) + ",-1," + QByteArray::number(k) + ",0.1\n";
        write(csv4, rows);
        const Run r4 = cli({"import", db_, csv4, "--format", "long-csv", "--name", "four-steps", "--prefill", "4"});
        QVERIFY2(r4.code == 0, r4.err.constData());
        // The expert sets as the store keeps them (docs/TRACE_FORMAT.md): E = 4, and step 0
        // layer 0 holds the u16 ids 0 and 2.
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(db_.toUtf8().constData(), &db), SQLITE_OK);
        const char* sql = "INSERT INTO trace_experts SELECT id, 4 FROM traces WHERE name = 'two-of-four';"
                          "INSERT INTO expert_sets SELECT id, 0, 0, x'00000200' FROM traces WHERE name = 'two-of-four';"
                          "INSERT INTO trace_experts SELECT id, 4 FROM traces WHERE name = 'four-steps';"
                          "INSERT INTO expert_sets SELECT id, 0, 0, x'00000100' FROM traces WHERE name = 'four-steps';"
                          "INSERT INTO expert_sets SELECT id, 1, 0, x'02000300' FROM traces WHERE name = 'four-steps';"
                          "INSERT INTO expert_sets SELECT id, 2, 0, x'00000200' FROM traces WHERE name = 'four-steps';"
                          "INSERT INTO expert_sets SELECT id, 3, 0, x'00000200' FROM traces WHERE name = 'four-steps';";
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
        // The default expert policy, static, adds nothing to the output.
        QVERIFY(!ex.contains("policy") && !ex.contains("budget"));
        QVERIFY(!j["policies"].toArray()[0].toObject().contains("expert_hit_ratio"));
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

    // The expert policies on "four-steps" (worked in the header), each with first-fit for KV.
    void expertPoliciesByHand()
    {
        const QString path = dir_.filePath("four.kvtier.json");
        write(path, R"({"trace": {"db": "moe.sqlite", "name": "four-steps"},
          "model": {"layers": 1, "kv_bytes_per_token_layer": 10, "weight_bytes": 500, "experts": 4, "expert_bytes": 100},
          "hardware": {"tiers": [{"name": "HBM", "capacity_bytes": 500, "bandwidth": 1000},
                                 {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "dense", "value": 1, "sinks": 0, "window": 0, "page_tokens": 1},
          "experts": {"policy": "lru", "hbm_share": 0.5},
          "policies": [{"name": "first-fit"}]})");
        struct Case {
            const char* policy;
            double time, hit, moved;
            bool online;
        };
        for (const Case& c : {Case{"lru", 12.35, 5.0 / 8, 600, true}, Case{"lfu", 8.35, 5.0 / 8, 200, true},
                              Case{"frequency-oracle", 4.75, 6.0 / 8, 0, false}, Case{"belady", 6.73, 1, 600, false}}) {
            const Run r = cli({"analyze", "--scenario", path, "--set", QString("experts.policy=") + c.policy, "--json"});
            QVERIFY2(r.code == 0, r.err.constData());
            const QJsonObject j = QJsonDocument::fromJson(r.out).object();
            const QJsonObject ex = j["experts"].toObject();
            QCOMPARE(ex["policy"].toString(), QString(c.policy));
            QCOMPARE(ex["online"].toBool(), c.online);
            QCOMPARE(ex["hbm_share"].toDouble(), 0.5);
            QCOMPARE(ex["budget"].toInt(), 2);
            QVERIFY2(ex["note"].toString().endsWith(QString("; expert policy ") + c.policy +
                                                    (c.online ? " (online)" : " (oracle)") +
                                                    " with 2 experts in tier 0 (hbm_share 0.5)"),
                     qPrintable(ex["note"].toString()));
            QCOMPARE(j["capacity"].toObject()["tier_kv_bytes"].toArray()[0].toDouble(), 200.0);
            const QJsonObject p = j["policies"].toArray()[0].toObject();
            QVERIFY2(std::abs(p["total_time_s"].toDouble() - c.time) < 1e-12, c.policy);
            QCOMPARE(p["expert_hit_ratio"].toDouble(), c.hit);
            QCOMPARE(p["expert_migrated_bytes"].toDouble(), c.moved);
            QCOMPARE(p["expert_read_bytes"].toDouble(), 800.0);
            QCOMPARE(p["migrated_bytes"].toDouble(), 0.0);   // KV: first-fit never moves
            // A swap moves one expert each way: each tier reads 100 B and writes 100 B.
            QCOMPARE(p["tiers"].toArray()[0].toObject()["migration_bytes"].toDouble(), c.moved);
            QCOMPARE(p["tiers"].toArray()[1].toObject()["migration_bytes"].toDouble(), c.moved);
            // The balanced bound is the expert policy's and the split's own lower bound.
            QVERIFY(p["total_time_s"].toDouble() >= j["bounds"].toObject()["balanced"].toObject()["total_time_s"].toDouble());
            QCOMPARE(p["tiers"].toArray()[0].toObject()["kv_read_bytes"].toDouble(), 40.0 + 50 + 60 + 70);
        }
        // hbm_share as a sweep axis, on a file without an "experts" key (its defaults count):
        // 0 puts every expert in DRAM (16 s), 0.5 is lru's 12.35 s.
        const QString bare = dir_.filePath("four-bare.kvtier.json");
        write(bare, R"({"trace": {"db": "moe.sqlite", "name": "four-steps"},
          "model": {"layers": 1, "kv_bytes_per_token_layer": 10, "weight_bytes": 500, "experts": 4, "expert_bytes": 100},
          "hardware": {"tiers": [{"name": "HBM", "capacity_bytes": 500, "bandwidth": 1000},
                                 {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "dense", "value": 1, "sinks": 0, "window": 0, "page_tokens": 1},
          "policies": [{"name": "first-fit"}]})");
        const Run sw = cli({"sweep", "--scenario", bare, "--set", "experts.policy=lru", "--vary", "experts.hbm_share=0,0.5",
                            "--csv", "-", "--quiet"});
        QVERIFY2(sw.code == 0, sw.err.constData());
        const QList<QByteArray> lines = sw.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        const QList<QByteArray> head = lines[0].split(',');
        const auto col = head.indexOf("first-fit_time_s");
        QVERIFY2(col > 0, lines[0].constData());
        QCOMPARE(lines[1].split(',')[col].toDouble(), 16.0);
        QVERIFY(std::abs(lines[2].split(',')[col].toDouble() - 12.35) < 1e-9);
        // Bad values: one line naming the key.
        Run bad = cli({"analyze", "--scenario", path, "--set", "experts.policy=mru"});
        QVERIFY(bad.code != 0);
        QVERIFY2(bad.err.contains("experts.policy") && bad.err.contains("static, lru, lfu, frequency-oracle or belady"),
                 bad.err.constData());
        bad = cli({"analyze", "--scenario", path, "--set", "experts.hbm_share=1.5"});
        QVERIFY(bad.code != 0);
        QVERIFY2(bad.err.contains("experts.hbm_share") && bad.err.contains("at most 1"), bad.err.constData());
    }

    // view experts (docs/CLI.md): the expert heatmap of "four-steps" under lru (budget 2),
    // the moves of tests/core/tst_expert_residency.cpp. Per expert (rows) and step:
    //   e0: t0 read HBM, t1 idle HBM, t2 moved HBM -> DRAM and read there (a miss), t3 moved back, read HBM
    //   e1: read HBM, idle HBM, moved HBM -> DRAM, idle DRAM
    //   e2: idle DRAM, read DRAM, moved DRAM -> HBM and read there, read HBM
    //   e3: idle DRAM, read DRAM, moved DRAM -> HBM (idle), moved HBM -> DRAM (idle)
    void viewExpertsByHand()
    {
        const QString path = dir_.filePath("four-view.kvtier.json");
        write(path, R"({"trace": {"db": "moe.sqlite", "name": "four-steps"},
          "model": {"layers": 1, "kv_bytes_per_token_layer": 10, "weight_bytes": 500, "experts": 4, "expert_bytes": 100},
          "hardware": {"tiers": [{"name": "HBM", "capacity_bytes": 500, "bandwidth": 1000},
                                 {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "dense", "value": 1, "sinks": 0, "window": 0, "page_tokens": 1},
          "experts": {"policy": "lru", "hbm_share": 0.5},
          "policies": [{"name": "first-fit"}]})");
        Run r = cli({"view", "experts", "--scenario", path, "--policy", "first-fit", "--layer", "0"});
        QVERIFY2(r.code == 0, r.err.constData());
        QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2 + 16);
        QVERIFY2(lines[0].startsWith("# experts of layer 0 of 1, expert policy lru (with policy first-fit)"), lines[0].constData());
        QCOMPARE(lines[1], QByteArray("x,y,step_first,expert_first,category,tier,moved_from,lower_idle,fast_idle,fast_read,lower_read,migrated"));
        const char* want[4][4] = {
            {"fast_read,HBM,", "fast_idle,HBM,", "migrated,DRAM,HBM,0,0,0,1,1", "migrated,HBM,DRAM,0,0,1,0,1"},
            {"fast_read,HBM,", "fast_idle,HBM,", "migrated,DRAM,HBM,1,0,0,0,1", "lower_idle,DRAM,"},
            {"lower_idle,DRAM,", "lower_read,DRAM,", "migrated,HBM,DRAM,0,0,1,0,1", "fast_read,HBM,"},
            {"lower_idle,DRAM,", "lower_read,DRAM,", "migrated,HBM,DRAM,0,1,0,0,1", "migrated,DRAM,HBM,1,0,0,0,1"}};
        for (int e = 0; e < 4; ++e)
            for (int t = 0; t < 4; ++t) {
                const QByteArray line = lines[2 + e * 4 + t];
                const QByteArray head = QByteArray::number(t) + ',' + QByteArray::number(e) + ',' + QByteArray::number(t) + ',' +
                                        QByteArray::number(e) + ',' + want[e][t];
                QVERIFY2(line.startsWith(head), (line + " wanted " + head).constData());
            }
        // Pooled to 2 x 2: steps 2-3 of experts 0-1 hold three moves (the highest class; the
        // deepest tier among them, DRAM; the last move came from DRAM), two idle pairs in DRAM,
        // a hit and a miss.
        r = cli({"view", "experts", "--scenario", path, "--cells", "2x2"});
        QVERIFY2(r.code == 0, r.err.constData());
        lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2 + 4);
        QCOMPARE(lines[3], QByteArray("1,0,2,0,migrated,DRAM,DRAM,2,0,1,1,3"));
        // Bad input: a layer the model has not, a dense model.
        r = cli({"view", "experts", "--scenario", path, "--layer", "1"});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains("layer 1: the model has 1 layer (0..0)"), r.err.constData());
        const QString dense = dir_.filePath("dense-view.kvtier.json");
        write(dense, R"({"trace": {"db": "moe.sqlite", "name": "no-sets"},
          "model": {"name": "dense-1", "layers": 1, "kv_bytes_per_token_layer": 10, "weight_bytes": 100},
          "hardware": {"tiers": [{"name": "HBM", "capacity_bytes": 500, "bandwidth": 1000},
                                 {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "dense", "value": 1, "sinks": 0, "window": 0, "page_tokens": 1},
          "policies": [{"name": "first-fit"}]})");
        r = cli({"view", "experts", "--scenario", dense});
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains("has no experts (model.experts = 0)") && r.err.count('\n') == 1, r.err.constData());
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
