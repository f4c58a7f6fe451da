// Sweeps beyond one machine: kvtier-cli sweep --shard/--out/--resume and kvtier-cli merge
// end to end on the worked example, plus the point ids and shard membership in the core.
#include "core/config/sweep_file.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/config/sweep_shard.hpp"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <set>

using namespace kvtier;

class TestCliSweepShards : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString scenario_;
    QByteArray full_;   // the unsharded sweep's CSV

    struct Run {
        int code;
        QByteArray out, err;
    };
    Run cli(const QStringList& args)
    {
        QProcess p;
        p.start(KVTIER_CLI_PATH, args);
        p.waitForFinished(300000);
        return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
    }
    static void write(const QString& path, const QByteArray& text)
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    }
    static QByteArray read(const QString& path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    QString path(const QString& name) const { return dir_.filePath(name); }
    // 3 HBM sizes (300 B cannot hold the weights: infeasible rows) x 4 link speeds.
    QStringList sweep(const QString& scenario = {}) const
    {
        return {"sweep", "--scenario", scenario.isEmpty() ? scenario_ : scenario, "--quiet",
                "--vary", "hardware.tiers.0.capacity_bytes=300,800,1600",
                "--vary", "hardware.tiers.1.link_read=25:100:25"};
    }
    QStringList shardFiles(int n, const QString& stem)
    {
        QStringList files;
        for (int i = 1; i <= n; ++i) {
            files << path(QString("%1-%2of%3.jsonl").arg(stem).arg(i).arg(n));
            const Run r = cli(sweep() << "--shard" << QString("%1/%2").arg(i).arg(n) << "--out" << files.back());
            if (r.code != 0) qWarning("%s", r.err.constData());
        }
        return files;
    }
    // The grid indices a result file holds, by its point lines.
    static std::vector<int> indicesIn(const QByteArray& text)
    {
        std::vector<int> out;
        const QList<QByteArray> lines = text.split('\n');
        for (int k = 1; k < lines.size(); ++k)
            if (!lines[k].isEmpty()) out.push_back(QJsonDocument::fromJson(lines[k]).object()["index"].toInt(-1));
        return out;
    }
    void oneLineError(const Run& r, const QString& expect)
    {
        QCOMPARE(r.code, 1);
        QVERIFY2(QString(r.err).contains(expect), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const QString csv = path("example.csv");
        write(csv, "step,layer,token,score\n"
                   "0,-1,0,0.1\n0,-1,1,0.5\n0,-1,2,0.3\n0,-1,3,0.1\n"
                   "1,-1,0,0.4\n1,-1,1,0.1\n1,-1,2,0.1\n1,-1,3,0.2\n1,-1,4,0.2\n");
        const Run r = cli({"import", path("example.sqlite"), csv, "--format", "long-csv", "--name", "example", "--prefill", "4"});
        QVERIFY2(r.code == 0, r.err.constData());
        scenario_ = path("example.kvtier.json");
        write(scenario_, R"({
          "trace": {"db": "example.sqlite", "name": "example"},
          "model": {"layers": 2, "kv_bytes_per_token_layer": 100, "weight_bytes": 400},
          "hardware": {"tiers": [
            {"name": "HBM", "capacity_bytes": 800, "bandwidth": 1000, "reserve_bytes": 0},
            {"name": "DRAM", "capacity_bytes": 1e6, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "topk", "value": 2, "sinks": 0, "window": 0, "page_tokens": 1},
          "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
          "batch": 1,
          "policies": [{"name": "first-fit"}, {"name": "lru"}, {"name": "belady"}]})");
        const Run s = cli(sweep() << "--csv" << path("full.csv"));
        QVERIFY2(s.code == 0, s.err.constData());
        full_ = read(path("full.csv"));
        QCOMPARE(full_.count('\n'), 1 + 12);
        QVERIFY(full_.contains("infeasible"));   // the 300 B rows keep their reason
        QVERIFY(full_.contains("\n800,50,"));     // the worked example itself
    }

    // The point id: FNV-1a 64 (its published test vectors) finalised by fmix64, over the
    // canonical scenario; the trace database's folder does not change it.
    void pointIdsArePinned()
    {
        QCOMPARE(fnv1a64(""), 0xcbf29ce484222325ull);
        QCOMPARE(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
        QCOMPARE(fnv1a64("foobar"), 0x85944171f73967e8ull);
        QCOMPARE(mix64(0), 0ull);
        const auto doc = nlohmann::json::parse(R"({"trace": {"db": "/data/run/example.sqlite", "name": "example"}, "batch": 2})");
        QCOMPARE(canonicalScenarioText(doc), std::string(R"({"batch":2,"trace":{"db":"example.sqlite","name":"example"}})"));
        QCOMPARE(sweepPointId(doc), mix64(fnv1a64(R"({"batch":2,"trace":{"db":"example.sqlite","name":"example"}})")));
        // Pinned from an independent implementation (Python, the same two published functions).
        QCOMPARE(sweepIdText(sweepPointId(doc)), std::string("f91f1dd76eca05a3"));
        auto other = doc;
        other["trace"]["db"] = "relative/example.sqlite";
        QCOMPARE(sweepPointId(other), sweepPointId(doc));
        other["batch"] = 3;
        QVERIFY(sweepPointId(other) != sweepPointId(doc));
    }

    // The CLI writes the same ids from a copy of the scenario in another folder (another
    // checkout, another node), and the ids of the example's points are pinned.
    void shardMembershipIsStable()
    {
        const QStringList files = shardFiles(4, "stable");
        std::map<int, QString> idOf;
        std::map<int, int> shardOf;
        for (int s = 0; s < files.size(); ++s) {
            const QList<QByteArray> lines = read(files[s]).split('\n');
            for (int k = 1; k < lines.size(); ++k) {
                if (lines[k].isEmpty()) continue;
                const QJsonObject o = QJsonDocument::fromJson(lines[k]).object();
                idOf[o["index"].toInt()] = o["id"].toString();
                shardOf[o["index"].toInt()] = s + 1;
            }
        }
        QCOMPARE(idOf.size(), size_t(12));
        QCOMPARE(idOf[0], QString("9393c7eb6813eeda"));   // HBM 300 B, link 25
        QCOMPARE(idOf[5], QString("b69ee1515d4529a8"));   // HBM 800 B, link 50: the worked example
        QString shards;
        for (const auto& [g, s] : shardOf) shards += QString::number(s);
        QCOMPARE(shards, QString("322231414341"));

        QDir().mkpath(path("elsewhere"));
        QFile::copy(path("example.sqlite"), path("elsewhere/example.sqlite"));
        QFile::copy(scenario_, path("elsewhere/example.kvtier.json"));
        const Run r = cli(sweep(path("elsewhere/example.kvtier.json")) << "--shard" << "3/4" << "--out" << path("elsewhere/s3.jsonl"));
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(read(path("elsewhere/s3.jsonl")), read(files[2]));
    }

    // Every point in exactly one shard, shards within one point of each other in size.
    void everyPointInExactlyOneShard()
    {
        const auto scenario = nlohmann::json::parse(R"({"trace": {"db": "t.sqlite", "name": "t"}, "batch": 1, "x": 0.5})");
        const std::vector<SweepAxis> axes = {{"batch", {1, 2, 3, 4, 5, 6, 7}}, {"x", {0.1, 0.2, 0.3, 0.4, 0.5}}};
        const std::vector<uint64_t> ids = sweepPointIds(scenario, axes);
        QCOMPARE(ids.size(), size_t(35));
        QCOMPARE(std::set<uint64_t>(ids.begin(), ids.end()).size(), size_t(35));
        for (size_t n : {1, 2, 3, 4, 6, 35, 36}) {
            std::vector<int> seen(35, 0);
            for (size_t i = 1; i <= n; ++i) {
                const std::vector<size_t> pts = sweepShardPoints(ids, {i, n});
                QVERIFY(pts.size() == 35 / n || pts.size() == 35 / n + 1);
                for (size_t g : pts) ++seen[g];
            }
            QCOMPARE(std::count(seen.begin(), seen.end(), 1), 35l);
        }
        // A value listed twice gives two points with one id: both still land in one shard each.
        const std::vector<SweepAxis> twice = {{"batch", {2, 2, 3}}};
        const std::vector<uint64_t> dup = sweepPointIds(scenario, twice);
        QCOMPARE(dup[0], dup[1]);
        const std::vector<size_t> of = sweepShardOf(dup, 3);
        QCOMPARE(std::set<size_t>(of.begin(), of.end()).size(), size_t(3));
    }

    void fourShardsMergeToTheUnshardedSweep()
    {
        const QStringList files = shardFiles(4, "four");
        std::vector<int> all;
        for (const auto& f : files) {
            const std::vector<int> idx = indicesIn(read(f));
            QCOMPARE(idx.size(), size_t(3));   // 12 points, 4 shards
            all.insert(all.end(), idx.begin(), idx.end());
        }
        std::sort(all.begin(), all.end());
        QCOMPARE(all, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
        Run r = cli(QStringList{"merge", path("merged.csv")} + files);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(read(path("merged.csv")), full_);
        // Any order, to stdout, and the unsharded result file alone.
        r = cli(QStringList{"merge", "-", files[3], files[1], files[0], files[2], "--quiet"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, full_);
        r = cli(sweep() << "--out" << path("whole.jsonl"));
        QVERIFY2(r.code == 0, r.err.constData());
        r = cli({"merge", "-", path("whole.jsonl"), "--quiet"});
        QCOMPARE(r.out, full_);
        // A point in two files with the same results is no overlap.
        r = cli(QStringList{"merge", "-", path("whole.jsonl"), "--quiet"} + files);
        QCOMPARE(r.out, full_);
        // The header describes the sweep.
        const QJsonObject h = QJsonDocument::fromJson(read(files[1]).split('\n')[0]).object();
        QCOMPARE(h["shard"].toString(), QString("2/4"));
        QCOMPARE(h["grid_points"].toInt(), 12);
        QCOMPARE(h["kvtier_version"].toString(), QString(KVTIER_VERSION));
        QCOMPARE(h["axes"].toArray().size(), 2);
        QCOMPARE(h["scenario"].toObject()["trace"].toObject()["db"].toString(), QString("example.sqlite"));
        QCOMPARE(h["columns"].toArray().last().toString(), QString("error"));
    }

    // A 2-D sweep's tables: the long CSV (one row per point per policy, both axis columns)
    // holds the wide table's numbers; the grid holds, per cell, the smallest policy time of
    // that point (empty where infeasible); merge of the shards writes the same tables.
    void twoAxisLongAndGridTables()
    {
        Run r = cli(sweep() << "--long-csv" << path("long.csv") << "--grid-csv" << path("grid.csv"));
        QVERIFY2(r.code == 0, r.err.constData());
        const QByteArray longCsv = read(path("long.csv")), grid = read(path("grid.csv"));
        // The wide table's rows by their two axis cells.
        std::map<QString, QList<QByteArray>> wide;
        const QList<QByteArray> wideLines = full_.split('\n');
        const QList<QByteArray> head = wideLines[0].split(',');
        QCOMPARE(head[4], QByteArray("first-fit_time_s"));
        QCOMPARE(head[8], QByteArray("lru_time_s"));
        QCOMPARE(head[12], QByteArray("belady_time_s"));
        for (int k = 1; k < wideLines.size(); ++k)
            if (!wideLines[k].isEmpty()) {
                const QList<QByteArray> c = wideLines[k].split(',');
                wide[QString(c[0] + "," + c[1])] = c;
            }
        QCOMPARE(wide.size(), size_t(12));
        const QList<QByteArray> lines = longCsv.split('\n');
        QCOMPARE(lines[0], QByteArray("hardware.tiers.0.capacity_bytes,hardware.tiers.1.link_read,policy,time_s,"
                                      "throughput_tok_s,hbm_hit_ratio,migrated_bytes,balanced_s,paper_s,error"));
        QCOMPARE(longCsv.count('\n'), 1 + 12 * 3);
        const std::map<QByteArray, int> timeColumn{{"first-fit", 4}, {"lru", 8}, {"belady", 12}};
        std::map<QString, double> best;   // the smallest time per point, from the long table
        int infeasible = 0;
        for (int k = 1; k < lines.size(); ++k) {
            if (lines[k].isEmpty()) continue;
            const QList<QByteArray> c = lines[k].split(',');
            const QString point = QString(c[0] + "," + c[1]);
            QVERIFY2(wide.count(point), qPrintable(point));
            const QList<QByteArray>& w = wide[point];
            QVERIFY(timeColumn.count(c[2]));
            QCOMPARE(c[3], w[timeColumn.at(c[2])]);                 // time_s
            QCOMPARE(c[4], w[timeColumn.at(c[2]) + 1]);             // throughput
            QCOMPARE(c[7], w[2]);                                   // balanced_s
            if (c[3].isEmpty()) {
                ++infeasible;
                QVERIFY(lines[k].contains("infeasible"));
                continue;
            }
            const double t = c[3].toDouble();
            best[point] = best.count(point) ? std::min(best[point], t) : t;
        }
        QCOMPARE(infeasible, 4 * 3);   // the 300 B column, every policy
        QCOMPARE(best.size(), size_t(8));
        // The grid: a row per link speed, a column per HBM size.
        const QList<QByteArray> g = grid.split('\n');
        QCOMPARE(grid.count('\n'), 1 + 4);
        QCOMPARE(g[0], QByteArray("\"hardware.tiers.1.link_read \\ hardware.tiers.0.capacity_bytes (best policy time, s)\","
                                  "300,800,1600"));
        const QList<QByteArray> caps{"300", "800", "1600"};
        for (int j = 1; j <= 4; ++j) {
            const QList<QByteArray> c = g[j].split(',');
            QCOMPARE(c.size(), 4);
            QCOMPARE(c[0], QByteArray::number(25 * j));
            QVERIFY(c[1].isEmpty());   // infeasible
            for (int i = 1; i < 3; ++i) {
                const QString point = QString(caps[i] + "," + c[0]);
                QVERIFY2(best.count(point), qPrintable(point));
                QCOMPARE(c[i + 1].toDouble(), best[point]);
            }
        }
        // The worked example's cell (800 B, 50 B/s): first-fit's 2 steps of 4 s
        // (MODEL_EXAMPLE.md), no more than the other two policies.
        QCOMPARE(g[2].split(',')[2], QByteArray("8"));
        QCOMPARE(wide["800,50"][4], QByteArray("8"));
        // Shards merged write the same two tables.
        const QStringList files = shardFiles(3, "grid");
        r = cli(QStringList{"merge", path("m.csv"), "--long-csv", path("m-long.csv"), "--grid-csv", path("m-grid.csv")} + files);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(read(path("m.csv")), full_);
        QCOMPARE(read(path("m-long.csv")), longCsv);
        QCOMPARE(read(path("m-grid.csv")), grid);
        // A grid needs exactly two axes; refused before anything is written.
        r = cli({"sweep", "--scenario", scenario_, "--vary", "batch=1,2", "--grid-csv", path("one.csv")});
        QCOMPARE(r.code, 2);
        QVERIFY2(QString(r.err).contains("--grid-csv needs exactly two axes"), r.err.constData());
        QVERIFY(!QFile::exists(path("one.csv")));
    }

    void mergeRefusesOverlapsGapsAndOtherSweeps()
    {
        const QStringList files = shardFiles(4, "refuse");
        // A gap: shard 3 missing. The message names a missing point and its shard.
        Run r = cli({"merge", path("x.csv"), files[0], files[1], files[3]});
        oneLineError(r, "in none of the files (3 of 12 points missing; it belongs to shard 3/4)");
        QVERIFY(r.err.contains("kvtier-cli merge: point #"));
        QVERIFY(!QFile::exists(path("x.csv")));
        // An overlap: a feasible point of shard 1 with another result, in a copy of the file.
        QList<QByteArray> lines = read(files[0]).split('\n');
        int k = 1;
        while (k < lines.size() && !QJsonDocument::fromJson(lines[k]).object()["error"].toString().isEmpty()) ++k;
        QVERIFY(k < lines.size() - 1);
        QJsonObject p = QJsonDocument::fromJson(lines[k]).object();
        const int g = p["index"].toInt();
        p["balanced_s"] = p["balanced_s"].toDouble() * 2;
        lines[k] = QJsonDocument(p).toJson(QJsonDocument::Compact);
        write(path("edited.jsonl"), lines.join('\n'));
        oneLineError(cli(QStringList{"merge", path("x.csv")} + files + QStringList{path("edited.jsonl")}),
                     path("edited.jsonl") + " line " + QString::number(k + 1) + ": point #" + QString::number(g));
        QVERIFY(cli(QStringList{"merge", "-", files[0], path("edited.jsonl")}).err.contains(("has other results than in " + files[0]).toUtf8()));
        // Another sweep: other values on an axis, or another scenario (--set).
        r = cli(QStringList{"sweep", "--scenario", scenario_, "--quiet", "--vary", "hardware.tiers.0.capacity_bytes=300,800,1600",
                            "--vary", "hardware.tiers.1.link_read=25:75:25", "--shard", "3/4", "--out", path("other.jsonl")});
        QCOMPARE(r.code, 0);
        oneLineError(cli({"merge", path("x.csv"), files[0], files[1], path("other.jsonl"), files[3]}),
                     path("other.jsonl") + ": a different sweep than " + files[0] + " (the axis hardware.tiers.1.link_read differs)");
        r = cli(sweep() << "--set" << "batch=2" << "--shard" << "3/4" << "--out" << path("other2.jsonl"));
        QCOMPARE(r.code, 0);
        oneLineError(cli({"merge", path("x.csv"), files[0], files[1], path("other2.jsonl"), files[3]}),
                     "(the base scenario differs)");
        // Another kvtier version.
        write(path("version.jsonl"), read(files[2]).replace("\"kvtier_version\":\"" KVTIER_VERSION "\"", "\"kvtier_version\":\"0.0.1\""));
        oneLineError(cli({"merge", path("x.csv"), files[0], files[1], path("version.jsonl"), files[3]}),
                     "(the kvtier version (" KVTIER_VERSION ", 0.0.1) differs)");
        // A point in the wrong shard's file, a torn last line, not a result file at all.
        QList<QByteArray> s1 = read(files[0]).split('\n'), s2 = read(files[1]).split('\n');
        s1.insert(2, s2[1]);
        write(path("wrong.jsonl"), s1.join('\n'));
        oneLineError(cli({"merge", path("x.csv"), path("wrong.jsonl"), files[1], files[2], files[3]}),
                     path("wrong.jsonl") + " line 3: point #");
        QVERIFY(cli({"merge", "-", path("wrong.jsonl")}).err.contains("belongs to shard 2/4, not this file's 1/4"));
        const QByteArray whole = read(files[0]);
        write(path("torn.jsonl"), whole.left(whole.size() - 10));
        oneLineError(cli({"merge", path("x.csv"), path("torn.jsonl"), files[1], files[2], files[3]}),
                     path("torn.jsonl") + ": the last line is incomplete");
        oneLineError(cli({"merge", path("x.csv"), path("full.csv")}), path("full.csv") + ": not a kvtier sweep result file");
        QVERIFY(!QFile::exists(path("x.csv")));
        QCOMPARE(cli({"merge", path("x.csv")}).code, 2);
    }

    // A run killed mid-line: --resume keeps the complete points, recomputes the rest and
    // the half-written line, and the result equals the uninterrupted sweep.
    void resumeAfterATruncatedFile()
    {
        const QString out = path("resumed.jsonl");
        Run r = cli(sweep() << "--out" << out);
        QVERIFY2(r.code == 0, r.err.constData());
        const QByteArray whole = read(out);
        const QList<QByteArray> lines = whole.split('\n');
        // The header, 4 complete points, half of the 5th.
        QByteArray cut;
        for (int k = 0; k < 5; ++k) cut += lines[k] + '\n';
        cut += lines[5].left(lines[5].size() / 2);
        write(out, cut);
        r = cli(QStringList{"sweep", "--scenario", scenario_, "--vary", "hardware.tiers.0.capacity_bytes=300,800,1600",
                            "--vary", "hardware.tiers.1.link_read=25:100:25", "--out", out, "--resume", "--csv", path("resumed.csv")});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.err.contains("resuming " + out.toUtf8() + ": 4 of 12 points done"), r.err.constData());
        QVERIFY(r.err.contains("(8 points)"));
        QCOMPARE(read(path("resumed.csv")), full_);
        const QByteArray after = read(out);
        QVERIFY(after.startsWith(cut.left(cut.lastIndexOf('\n') + 1)));   // kept lines untouched
        QCOMPARE(after.count('\n'), 13);
        std::vector<int> idx = indicesIn(after);
        std::sort(idx.begin(), idx.end());
        QCOMPARE(idx, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
        QCOMPARE(cli({"merge", "-", out, "--quiet"}).out, full_);
        // Resuming a finished file runs nothing and changes nothing.
        r = cli(sweep() << "--out" << out << "--resume");
        QCOMPARE(r.code, 0);
        QCOMPARE(read(out), after);
        // A fresh --resume starts the file; a shard resumes its own shard only.
        const QString shard = path("resumed-2of4.jsonl");
        r = cli(sweep() << "--out" << shard << "--resume" << "--shard" << "2/4");
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(indicesIn(read(shard)).size(), size_t(3));
        oneLineError(cli(sweep() << "--out" << shard << "--resume" << "--shard" << "3/4"), "holds shard 2/4, not 3/4");
        oneLineError(cli(sweep() << "--out" << out << "--resume" << "--set" << "batch=2"), "holds a different sweep (the base scenario differs)");
        QCOMPARE(read(out), after);
    }

    // The trace as an axis: every trace in the database, or a list; sharded like any axis.
    void sweepOverTraces()
    {
        const QString csv = path("example2.csv");
        write(csv, "step,layer,token,score\n"
                   "0,-1,0,0.5\n0,-1,1,0.1\n0,-1,2,0.3\n0,-1,3,0.1\n"
                   "1,-1,0,0.1\n1,-1,1,0.1\n1,-1,2,0.1\n1,-1,3,0.3\n1,-1,4,0.4\n");
        const QString db = path("traces.sqlite");
        QVERIFY(QFile::copy(path("example.sqlite"), db));
        Run r = cli({"import", db, csv, "--format", "long-csv", "--name", "example2", "--prefill", "4"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QString sc = path("traces.kvtier.json");
        write(sc, read(scenario_).replace("\"example.sqlite\"", "\"traces.sqlite\""));
        r = cli(sweep(sc) << "--traces" << "all" << "--csv" << "-");
        QVERIFY2(r.code == 0, r.err.constData());
        const QByteArray all = r.out;
        const QList<QByteArray> rows = all.split('\n');
        QCOMPARE(rows.size(), 1 + 24 + 1);
        QVERIFY(rows[0].startsWith("trace.name,hardware.tiers.0.capacity_bytes,hardware.tiers.1.link_read,balanced_s"));
        // The first trace's rows are the single-trace sweep's, behind the trace's name.
        const QList<QByteArray> one = full_.split('\n');
        for (int k = 1; k <= 12; ++k) QCOMPARE(rows[k], "example," + one[k]);
        for (int k = 13; k <= 24; ++k) QVERIFY(rows[k].startsWith("example2,"));
        QVERIFY(rows[13 + 5] != "example2," + one[1 + 5]);   // another trace, other numbers
        // The same as a list on the key, and as 4 shards merged.
        r = cli(sweep(sc) << "--vary" << "trace.name=example,example2" << "--csv" << "-");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out.split('\n')[0].split(',')[2], QByteArray("trace.name"));
        r = cli(sweep(sc) << "--traces" << "example,example2" << "--csv" << "-");
        QCOMPARE(r.out, all);
        QStringList files;
        for (int i = 1; i <= 4; ++i) {
            files << path(QString("traces-%1.jsonl").arg(i));
            r = cli(sweep(sc) << "--traces" << "all" << "--shard" << QString("%1/4").arg(i) << "--out" << files.back());
            QVERIFY2(r.code == 0, r.err.constData());
        }
        QVERIFY(read(files[0]).contains("\"labels\":[\"example\",\"example2\"]"));
        r = cli(QStringList{"merge", "-", "--quiet"} + files);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, all);
        // Several databases holding the trace: one row per database, the same numbers here.
        r = cli({"sweep", "--scenario", sc, "--quiet", "--vary", "trace.db=" + path("example.sqlite") + "," + db,
                 "--vary", "batch=1", "--csv", "-"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QList<QByteArray> dbRows = r.out.split('\n');
        QCOMPARE(dbRows.size(), 4);
        QVERIFY(dbRows[1].startsWith(path("example.sqlite").toUtf8() + ",1,"));
        QCOMPARE(dbRows[1].mid(dbRows[1].indexOf(',')), dbRows[2].mid(dbRows[2].indexOf(',')));
        // Text on a key that holds a number, a trace that is not there (a point's error).
        oneLineError(cli(sweep(sc) << "--vary" << "batch=1,two" << "--csv" << "-"), "--vary batch: 'two' is not a number");
        r = cli(QStringList{"sweep", "--scenario", sc, "--quiet", "--traces", "example,nope", "--vary", "batch=1", "--csv", "-"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("\nnope,1,") && r.out.contains("nope"), r.out.constData());
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("expect");
        QTest::addColumn<int>("code");
        QTest::newRow("shard without out") << QStringList{"--shard", "1/2", "--csv", "-"} << "give --out FILE" << 2;
        QTest::newRow("shard with csv") << QStringList{"--shard", "1/2", "--out", "x.jsonl", "--csv", "-"} << "merge makes the table" << 2;
        QTest::newRow("resume without out") << QStringList{"--resume", "--csv", "-"} << "--resume continues a result file" << 2;
        QTest::newRow("no output") << QStringList{} << "give --csv OUT" << 2;
        QTest::newRow("shard 0") << QStringList{"--shard", "0/4", "--out", "x.jsonl"} << "--shard 0/4: i must be from 1 to N" << 1;
        QTest::newRow("shard 5/4") << QStringList{"--shard", "5/4", "--out", "x.jsonl"} << "i must be from 1 to N" << 1;
        QTest::newRow("shard text") << QStringList{"--shard", "two", "--out", "x.jsonl"} << "expected i/N" << 1;
        QTest::newRow("axis twice") << QStringList{"--vary", "batch=1,2", "--vary", "batch=3", "--out", "x.jsonl"} << "--vary batch given twice" << 2;
    }
    void usageErrors()
    {
        QFETCH(QStringList, extra);
        QFETCH(QString, expect);
        QFETCH(int, code);
        const Run r = cli(QStringList{"sweep", "--scenario", scenario_, "--vary", "batch=1,2"} + extra);
        QCOMPARE(r.code, code);
        QVERIFY2(QString(r.err).contains(expect), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
    }

    void helpNamesTheOptions()
    {
        Run r = cli({"sweep", "--help"});
        QCOMPARE(r.code, 0);
        for (const char* w : {"--shard i/N", "--out FILE", "--resume", "docs/SWEEPS.md"}) QVERIFY2(r.out.contains(w), w);
        r = cli({"merge", "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("usage: kvtier-cli merge OUT FILES..."));
    }
};

QTEST_GUILESS_MAIN(TestCliSweepShards)
#include "tst_cli_sweep_shards.moc"
