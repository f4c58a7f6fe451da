// A batch of two distinct sequences sharing a tiny HBM, end to end through kvtier-cli
// (MODEL.md §8, docs/MODEL.md "Batches"); every number worked by hand.
//
// Trace (dsa-topk JSON lines): S = 2, P_0 = 2, P_1 = 1, T = 2, one layer, selections:
//   step 0: sequence 0 reads tokens {0, 1}, sequence 1 reads {0}
//   step 1: sequence 0 reads {0, 2},    sequence 1 reads {0, 1}
// Units (g = 1) in creation order: prefill page 0 of s0 = u0, of s1 = u1, page 1 of s0 = u2;
// step 0 writes s0's token 2 (u3) and s1's token 1 (u4); step 1 writes u5 (s0), u6 (s1).
// Model: kappa = 100 B, no weights. HBM: 200 B (2 units) at 1000 B/s; DRAM: 100 B/s, no link.
//
// first-fit: u0, u1 in HBM for good, everything else in DRAM.
//   step 0: HBM reads u0, u1 (200 B): 0.2 s; DRAM reads u2 (100), writes u3, u4 (200): 3 s.
//   step 1: HBM reads u0, u1: 0.2 s; DRAM reads u3, u4 (200), writes u5, u6 (200): 4 s.
//   total 7 s. Sequence 0 reads 4 tokens, 2 from HBM (hit 0.5); sequence 1 reads 3, 2 from
//   HBM (2/3). Time shares by KV tokens moved: step 0 s0 3 (2 reads + write) of 5 -> 1.8 s,
//   s1 1.2 s; step 1 3 of 6 each -> 2 s each: s0 3.8 / 7, s1 3.2 / 7.
// lru: new units enter HBM as just used, so step 0 evicts u0, u1 for u3, u4 and step 1 evicts
//   u3, u4 for u5, u6 (the reads of step 0 rank below the new units).
//   step 0: DRAM reads u0, u2, u1 (300) and takes the two evicted units (200): 5 s;
//           HBM: 200 migrated out, 200 written: 0.4 s.
//   step 1: DRAM reads u0, u3, u1, u4 (400) and takes u3, u4 (200): 6 s. Total 11 s, no hit.
//   Each sequence had two units moved: 200 B each, 400 B in all. Tokens moved: step 0 s0
//   2 (migration read and write) + 2 reads + 1 write = 5, s1 2 + 1 + 1 = 4; step 1 5 and 5:
//   s0 (5 x 5/9 + 6 x 5/10) / 11 = 52/99, s1 47/99.
// lru-fair: one unit of HBM each; each sequence's LRU makes the same moves: 11 s.
// Balanced bound: step 0 reads 300 B, HBM serves at most its 200 B, writes 200 B to HBM:
//   max(400/1000, 100/100) = 1 s; step 1 reads 400 B: max(400/1000, 200/100) = 2 s; 3 s.
// Paper bound: (300 + 400) / (1000 + 100) = 7/11 s.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

class TestCliBatch : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    struct Run {
        int code;
        QByteArray out, err;
    };
    Run cli(const QStringList& args)
    {
        QProcess p;
        p.setWorkingDirectory(dir_.path());
        p.start(KVTIER_CLI_PATH, args);
        p.waitForFinished(120000);
        return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
    }
    void write(const QString& name, const QByteArray& text)
    {
        QFile f(dir_.filePath(name));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        write("two.jsonl", "{\"request\":\"a\",\"layer\":0,\"step\":0,\"prefill\":2,\"topk\":[0,1]}\n"
                           "{\"request\":\"b\",\"layer\":0,\"step\":0,\"prefill\":1,\"topk\":[0]}\n"
                           "{\"request\":\"a\",\"layer\":0,\"step\":1,\"topk\":[0,2]}\n"
                           "{\"request\":\"b\",\"layer\":0,\"step\":1,\"topk\":[0,1]}\n");
        const Run r = cli({"import", "b.sqlite", "two.jsonl", "--format", "dsa-topk", "--name", "two"});
        QVERIFY2(r.code == 0, r.err.constData());
        write("two.kvtier.json",
              "{\"trace\": {\"db\": \"b.sqlite\", \"name\": \"two\"},\n"
              "\"model\": {\"layers\": 1, \"kv_bytes_per_token_layer\": 100, \"weight_bytes\": 0},\n"
              "\"hardware\": {\"tiers\": [\n"
              " {\"name\": \"HBM\", \"capacity_bytes\": 200, \"bandwidth\": 1000, \"link_read\": null, \"link_write\": null},\n"
              " {\"name\": \"DRAM\", \"capacity_bytes\": 1e6, \"bandwidth\": 100, \"link_read\": null, \"link_write\": null}]},\n"
              "\"selection\": {\"mode\": \"dense\", \"value\": 1, \"page_tokens\": 1},\n"
              "\"placement\": {\"inclusive\": false, \"route\": \"home\", \"weights_in_fast_tier\": 1.0},\n"
              "\"batch\": 1,\n"
              "\"policies\": [{\"name\": \"first-fit\"}, {\"name\": \"lru\"}, {\"name\": \"lru-fair\"}]}\n");
    }

    void twoSequencesShareATinyHbm()
    {
        const Run r = cli({"analyze", "--scenario", "two.kvtier.json", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(j["sequences"].toInt(), 2);
        QCOMPARE(j["capacity"].toObject()["units_needed"].toInt(), 7);
        QCOMPARE(j["capacity"].toObject()["tier_units"].toArray()[0].toInt(), 2);
        const QJsonObject bounds = j["bounds"].toObject();
        QVERIFY(std::abs(bounds["balanced"].toObject()["total_time_s"].toDouble() - 3.0) < 1e-9);   // bisection
        QCOMPARE(bounds["paper"].toObject()["total_time_s"].toDouble(), 7.0 / 11.0);
        const QJsonArray pols = j["policies"].toArray();
        QCOMPARE(pols.size(), 3);
        const QJsonObject ff = pols[0].toObject(), lru = pols[1].toObject(), fair = pols[2].toObject();
        QCOMPARE(ff["total_time_s"].toDouble(), 7.0);
        QCOMPARE(ff["tiers"].toArray()[0].toObject()["kv_read_bytes"].toDouble(), 400.0);
        QCOMPARE(ff["tiers"].toArray()[1].toObject()["kv_read_bytes"].toDouble(), 300.0);
        const QJsonArray ffs = ff["per_sequence"].toArray();
        QCOMPARE(ffs[0].toObject()["prefill"].toInt(), 2);
        QCOMPARE(ffs[1].toObject()["prefill"].toInt(), 1);
        QCOMPARE(ffs[0].toObject()["hbm_hit_ratio"].toDouble(), 0.5);
        QCOMPARE(ffs[1].toObject()["hbm_hit_ratio"].toDouble(), 2.0 / 3.0);
        QCOMPARE(ffs[0].toObject()["kv_read_bytes"].toDouble(), 400.0);
        QCOMPARE(ffs[1].toObject()["kv_read_bytes"].toDouble(), 300.0);
        QVERIFY(std::abs(ffs[0].toObject()["time_share"].toDouble() - 3.8 / 7) < 1e-15);
        QVERIFY(std::abs(ffs[1].toObject()["time_share"].toDouble() - 3.2 / 7) < 1e-15);
        for (const QJsonObject& p : {lru, fair}) {
            QCOMPARE(p["total_time_s"].toDouble(), 11.0);
            QCOMPARE(p["migrated_bytes"].toDouble(), 400.0);
            QCOMPARE(p["hbm_hit_ratio"].toDouble(), 0.0);
            const QJsonArray seq = p["per_sequence"].toArray();
            QCOMPARE(seq[0].toObject()["migrated_bytes"].toDouble(), 200.0);
            QCOMPARE(seq[1].toObject()["migrated_bytes"].toDouble(), 200.0);
            QVERIFY(std::abs(seq[0].toObject()["time_share"].toDouble() - 52.0 / 99) < 1e-15);
            QVERIFY(std::abs(seq[1].toObject()["time_share"].toDouble() - 47.0 / 99) < 1e-15);
        }
    }

    // The same run streamed one step at a time (analyze --stream): every hand-worked number
    // above, from two windows of one step; the heatmap pooled while streaming is the same
    // CSV byte for byte.
    void streamedOneStepAtATime()
    {
        const Run r = cli({"analyze", "--scenario", "two.kvtier.json", "--json", "--stream", "--window-steps", "1"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        const QJsonObject st = j["stream"].toObject();
        QCOMPARE(st["windows"].toInt(), 2);
        QCOMPARE(st["window_steps"].toInt(), 1);
        QVERIFY(st["oracles_left_out"].toArray().isEmpty());
        QVERIFY(j["relevance"].isNull());
        QVERIFY(std::abs(j["bounds"].toObject()["balanced"].toObject()["total_time_s"].toDouble() - 3.0) < 1e-9);
        QCOMPARE(j["bounds"].toObject()["paper"].toObject()["total_time_s"].toDouble(), 7.0 / 11.0);
        const QJsonArray pols = j["policies"].toArray();
        QCOMPARE(pols.size(), 3);
        QCOMPARE(pols[0].toObject()["total_time_s"].toDouble(), 7.0);
        const QJsonArray ffs = pols[0].toObject()["per_sequence"].toArray();
        QVERIFY(std::abs(ffs[0].toObject()["time_share"].toDouble() - 3.8 / 7) < 1e-15);
        QCOMPARE(ffs[1].toObject()["hbm_hit_ratio"].toDouble(), 2.0 / 3.0);
        for (int k : {1, 2}) {
            const QJsonObject p = pols[k].toObject();
            QCOMPARE(p["total_time_s"].toDouble(), 11.0);
            QCOMPARE(p["migrated_bytes"].toDouble(), 400.0);
            QVERIFY(std::abs(p["per_sequence"].toArray()[0].toObject()["time_share"].toDouble() - 52.0 / 99) < 1e-15);
        }
        for (const QString& seq : {QString("0"), QString("1")}) {
            const Run whole = cli({"view", "heatmap", "--scenario", "two.kvtier.json", "--policy", "lru", "--sequence", seq});
            const Run streamed = cli({"view", "heatmap", "--scenario", "two.kvtier.json", "--policy", "lru", "--sequence",
                                      seq, "--stream"});
            QVERIFY2(whole.code == 0 && streamed.code == 0, streamed.err.constData());
            QVERIFY(whole.out.contains("lower_read"));
            QCOMPARE(streamed.out, whole.out);
        }
        const Run table = cli({"analyze", "--scenario", "two.kvtier.json", "--stream", "--set",
                               "policies=[{\"name\": \"lru\"}, {\"name\": \"belady\"}]"});
        QVERIFY2(table.code == 0, table.err.constData());
        QVERIFY2(table.out.contains("streamed: 1 windows of 2 steps") && table.out.contains("oracles' pre-pass") &&
                     !table.out.contains("oracles not run"),
                 table.out.constData());
        const Run zero = cli({"analyze", "--scenario", "two.kvtier.json", "--stream", "--window-steps", "0"});
        QCOMPARE(zero.code, 2);
        QVERIFY2(zero.err.contains("--window-steps needs a whole number >= 1, not '0'"), zero.err.constData());
        const Run alone = cli({"analyze", "--scenario", "two.kvtier.json", "--window-mb", "5"});
        QCOMPARE(alone.code, 2);
        QVERIFY2(alone.err.contains("--window-steps and --window-mb go with --stream"), alone.err.constData());
        // An oracle's placement heatmap, streamed: the whole run's.
        const Run oracleView = cli({"view", "heatmap", "--scenario", "two.kvtier.json", "--stream", "--policy", "belady",
                                    "--set", "policies=[{\"name\": \"lru\"}, {\"name\": \"belady\"}]"});
        const Run oracleWhole = cli({"view", "heatmap", "--scenario", "two.kvtier.json", "--policy", "belady", "--set",
                                     "policies=[{\"name\": \"lru\"}, {\"name\": \"belady\"}]"});
        QVERIFY2(oracleView.code == 0 && oracleWhole.code == 0, oracleView.err.constData());
        QVERIFY(oracleWhole.out.contains("belady"));
        QCOMPARE(oracleView.out, oracleWhole.out);
        // An oracle alone, streamed: the whole run's numbers.
        for (const char* name : {"belady", "look-ahead", "windowed-look-ahead"}) {
            const QString set = QString("policies=[{\"name\": \"%1\"}]").arg(name);
            const Run whole = cli({"analyze", "--scenario", "two.kvtier.json", "--json", "--set", set});
            const Run streamed = cli({"analyze", "--scenario", "two.kvtier.json", "--json", "--stream", "--set", set});
            QVERIFY2(whole.code == 0 && streamed.code == 0, streamed.err.constData());
            const QJsonObject a = QJsonDocument::fromJson(whole.out).object()["policies"].toArray()[0].toObject();
            const QJsonObject b = QJsonDocument::fromJson(streamed.out).object()["policies"].toArray()[0].toObject();
            QCOMPARE(b["name"].toString(), QString(name));
            QVERIFY(b["total_time_s"].toDouble() == a["total_time_s"].toDouble());
            QVERIFY(b["migrated_bytes"].toDouble() == a["migrated_bytes"].toDouble());
            const QJsonObject stream = QJsonDocument::fromJson(streamed.out).object()["stream"].toObject();
            QVERIFY(stream["oracles_left_out"].toArray().isEmpty());
            QVERIFY(stream["spill_bytes"].toInt() > 0);
        }
    }

    void tableShowsTheSequences()
    {
        const Run r = cli({"analyze", "--scenario", "two.kvtier.json"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.out.contains("S=2 sequences, P_0=2 T=2 L=1"), r.out.constData());
        QVERIFY2(r.out.contains("0                 2    54.3 / 0.500    52.5 / 0.000    52.5 / 0.000"), r.out.constData());
        QVERIFY2(r.out.contains("1                 1    45.7 / 0.667    47.5 / 0.000    47.5 / 0.000"), r.out.constData());
    }

    // view timeline --sequence: token 1 of sequence 1 is unit u4 (written by s1 at step 0),
    // token 1 of sequence 0 the prefill unit u2. Under lru, u4 enters HBM when written and
    // is evicted at step 1 (for u5, u6) after s1 reads it there; it exists from step 1 on
    // (P_1 + 0 = 1 token before step 0's write). u2 stays in DRAM; s0 reads it at step 0 only.
    void timelineOfAnotherSequence()
    {
        const Run one = cli({"view", "timeline", "--scenario", "two.kvtier.json", "--policy", "lru", "--token", "1",
                             "--sequence", "1"});
        QVERIFY2(one.code == 0, one.err.constData());
        QCOMPARE(one.out, QByteArray("# token 1 of sequence 1 (unit 4) under policy lru\n"
                                     "step,relevance,selected,tier\n0,,0,\n1,1,1,DRAM\n"));
        const Run zero = cli({"view", "timeline", "--scenario", "two.kvtier.json", "--policy", "lru", "--token", "1"});
        QVERIFY2(zero.code == 0, zero.err.constData());
        QCOMPARE(zero.out, QByteArray("# token 1 of sequence 0 (unit 2) under policy lru\n"
                                      "step,relevance,selected,tier\n0,1,1,DRAM\n1,0,0,DRAM\n"));
        // Sequence 1 has tokens 0..2 (P_1 + T = 3); sequence 2 does not exist.
        const Run beyond = cli({"view", "timeline", "--scenario", "two.kvtier.json", "--token", "3", "--sequence", "1"});
        QCOMPARE(beyond.code, 1);
        QVERIFY2(beyond.err.contains("token 3: trace 'two' sequence 1 has tokens 0..2"), beyond.err.constData());
        const Run noSeq = cli({"view", "timeline", "--scenario", "two.kvtier.json", "--token", "0", "--sequence", "2"});
        QCOMPARE(noSeq.code, 1);
        QVERIFY2(noSeq.err.contains("sequence 2: trace 'two' has 2 sequence(s): 0..1"), noSeq.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliBatch)
#include "tst_cli_batch.moc"
