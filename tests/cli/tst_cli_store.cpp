// kvtier-cli traces / info / import / export, run as a user would: exit codes, what goes
// to stdout, and the single line on stderr when something is wrong.
#include <sqlite3.h>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
    int code = -1;
    QString out;
    QString err;
};

}

class TestCliStore : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void helpForEachCommand_data();
    void helpForEachCommand();
    void importListInfoExport();
    void exportImportRoundTrip();
    void seedCsvThroughCli();
    void importNpyWithPrefill();
    void copyFromAnotherDatabase();
    void varintEncodingsThroughCli();
    void stepDeltaThroughCli();
    void errors_data();
    void errors();
    void failedImportLeavesDatabaseUnchanged();
    void failedImportCreatesNoDatabase();
    void newerSchemaRefused();

private:
    Run cli(const QStringList& args);
    QString path(const QString& name) const { return dir_.filePath(name); }
    QString write(const QString& name, const QByteArray& bytes);
    QByteArray sha256(const QString& file) const;

    QTemporaryDir dir_;
    QString paper_;   // a small paper-format CSV
    QString db_;      // a database holding it as 'paper'
};

Run TestCliStore::cli(const QStringList& args)
{
    QProcess p;
    p.setWorkingDirectory(dir_.path());
    p.start(QStringLiteral(KVTIER_CLI_PATH), args);
    Run r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QString TestCliStore::write(const QString& name, const QByteArray& bytes)
{
    QFile f(path(name));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
    f.write(bytes);
    return f.fileName();
}

QByteArray TestCliStore::sha256(const QString& file) const
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

void TestCliStore::initTestCase()
{
    QVERIFY(dir_.isValid());
    QVERIFY(QFile::exists(QStringLiteral(KVTIER_CLI_PATH)));
    paper_ = write("longbench.csv", "n,l,read_kv\n"
                                    "4,0,\"[0, 1]\"\n4,1,\"[3, 4]\"\n"
                                    "5,1,\"[0]\"\n5,0,\"[2, 4, 1]\"\n"
                                    "6,0,\"[5]\"\n6,1,\"[]\"\n");
    db_ = path("main.kvtr");
    const Run r = cli({"import", db_, paper_, "--description", "three steps"});
    QCOMPARE(r.err, QString());
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, "imported 'longbench' (paper-csv) into " + db_ +
                        ": per-layer selection, P=4 T=3 L=2, 6 records, 8 entries, index_u32\n");
}

void TestCliStore::helpForEachCommand_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("usage");
    QTest::newRow("traces") << "traces" << "usage: kvtier-cli traces DB";
    QTest::newRow("info") << "info" << "usage: kvtier-cli info DB NAME";
    QTest::newRow("import") << "import" << "usage: kvtier-cli import DB FILE [options]";
    QTest::newRow("export") << "export" << "usage: kvtier-cli export DB NAME (--csv OUT | --seed-csv OUT";
}

void TestCliStore::helpForEachCommand()
{
    QFETCH(QString, command);
    QFETCH(QString, usage);
    const Run r = cli({command, "--help"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith(usage), qPrintable(r.out));
    QCOMPARE(r.err, QString());
    const Run all = cli({"--help"});
    QCOMPARE(all.code, 0);
    QVERIFY(all.out.contains("  " + command));
}

void TestCliStore::importListInfoExport()
{
    Run r = cli({"traces", db_});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QString("name       mode       kind       P  T  L  records  size  description\n"
                            "longbench  per-layer  selection  4  3  2        6  32 B  three steps\n"));

    r = cli({"info", db_, "longbench"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("name             longbench\n"), qPrintable(r.out));
    QVERIFY(r.out.contains("description      three steps\n"));
    QVERIFY(r.out.contains("kind             selection\n"));
    QVERIFY(r.out.contains("layer mode       per-layer\n"));
    QVERIFY(r.out.contains("prefill P        4\n"));
    QVERIFY(r.out.contains("steps T          3\n"));
    QVERIFY(r.out.contains("layers L         2\n"));
    QVERIFY(r.out.contains("records          6 of 6\n"));
    QVERIFY(r.out.contains("encoding         index_u32\n"));
    // t=0: l0 {0,1}, l1 {3} (4 = n, the new token, dropped); t=1: l0 {1,2,4}, l1 {0};
    // t=2: l0 {5}, l1 {}: 8 entries over 6 records.
    QVERIFY2(r.out.contains("entries          8 selected; per record mean 1.33, min 0, max 3\n"), qPrintable(r.out));

    r = cli({"info", db_, "longbench", "--json"});
    QCOMPARE(r.code, 0);
    const auto j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(j["entries"].toInt(), 8);
    QCOMPARE(j["entries_per_record"].toObject()["max"].toInt(), 3);
    QCOMPARE(j["prefill"].toInt(), 4);

    r = cli({"export", db_, "longbench", "--csv", "-"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.err, QString());
    QCOMPARE(r.out, "# kvtier trace {\"name\":\"longbench\",\"prefill\":4,\"steps\":3,\"layers\":2,"
                    "\"mode\":\"per-layer\",\"kind\":\"selection\",\"encoding\":\"index_u32\",\"rows\":8,"
                    "\"head_reduction\":\"mean\",\"model\":\"\",\"description\":\"three steps\","
                    "\"source\":\"paper-csv " + paper_ + "\",\"notes\":\"\"}\n"
                        "step,layer,token,score\n"
                        "0,0,0,1\n0,0,1,1\n0,1,3,1\n1,0,1,1\n1,0,2,1\n1,0,4,1\n1,1,0,1\n2,0,5,1\n");

    const QString out = path("exported.csv");
    r = cli({"export", db_, "longbench", "--csv", out});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, "exported 'longbench' to " + out + ": 8 rows\n");
    QVERIFY(QFile::exists(out));
}

void TestCliStore::exportImportRoundTrip()
{
    // Scores with awkward decimals: long CSV in, export, import into a second database,
    // export again: identical text (every float32 survives the trip).
    const QString csv = write("scores.csv", "step,layer,token,score\n"
                                            "0,-1,0,0.1\n0,-1,2,0.33333334\n"
                                            "1,-1,1,1e-40\n1,-1,3,3.4028235e+38\n");
    const QString db1 = path("rt1.kvtr"), db2 = path("rt2.kvtr");
    Run r = cli({"import", db1, csv, "--prefill", "3", "--layers", "32", "--model-name", "Llama-3-8B"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("aggregated scores, P=3 T=2 L=32, 2 records, 4 entries, sparse_f32"));
    const QString e1 = path("rt1.csv"), e2 = path("rt2.csv");
    QCOMPARE(cli({"export", db1, "scores", "--csv", e1}).code, 0);
    r = cli({"import", db2, e1});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.startsWith("imported 'scores' (long-csv)"));
    QCOMPARE(cli({"export", db2, "scores", "--csv", e2}).code, 0);
    QCOMPARE(sha256(e2), sha256(e1));
    QFile f(e1);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(f.readAll());
    QVERIFY(text.contains("\"model\":\"Llama-3-8B\""));
    QVERIFY(text.contains("\n1,-1,3,3.4028235e+38\n"));
    QVERIFY(text.contains("\n0,-1,2,0.33333334\n"));
}

// The seed's batch CSV (two queries) through the CLI: guessed format, info with S and
// kind, export back to the same bytes, a paper CSV of one sequence, analyze refused.
void TestCliStore::seedCsvThroughCli()
{
    const QByteArray seed = "query_id,token_id,layer_id,experts,attention\n"
                            "0,3,0,[],\"[2, 0, 1]\"\n"
                            "0,4,0,[],\"[3, 1, 0, 2]\"\n"
                            "1,5,0,[],\"[0, 4, 1, 2, 3]\"\n"
                            "1,6,0,[],\"[5, 1, 3, 0, 4, 2]\"\n";
    const QString csv = write("batch.csv", seed);
    const QString db = path("seed.kvtr");
    Run r = cli({"import", db, csv});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("'batch' (seed-csv)") && r.out.contains("per-layer ranked, P=3 T=2 L=1, 4 records"),
             qPrintable(r.out));
    r = cli({"info", db, "batch"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("kind             ranked\n") && r.out.contains("sequences S      2\n") &&
                 r.out.contains("prefill P_s      3, 5\n"),
             qPrintable(r.out));
    r = cli({"export", db, "batch", "--seed-csv", "-"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QString::fromUtf8(seed));
    r = cli({"export", db, "batch", "--paper-csv", "-", "--sparsity", "0.5", "--sequence", "1"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QString("n,l,read_kv\n5,0,\"[0, 1, 4]\"\n6,0,\"[1, 3, 5]\"\n"));
    // the long CSV carries the sequences (a sequence column, P_s in the comment): export,
    // import and the seed export again give the same bytes
    r = cli({"export", db, "batch", "--csv", "-"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("\"sequence_prefill\":[3,5]") && r.out.contains("\nstep,sequence,layer,token,score\n0,0,0,0,2\n") &&
                 r.out.contains("\n0,1,0,0,5\n"),
             qPrintable(r.out));
    const QString longCsv = write("batch-long.csv", r.out.toUtf8());
    r = cli({"import", db, longCsv, "--name", "again"});
    QCOMPARE(r.code, 0);
    r = cli({"export", db, "again", "--seed-csv", "-"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QString::fromUtf8(seed));

    // experts: stored as X[t][l], the union over the queries; info shows E
    const QByteArray moe = "query_id,token_id,layer_id,experts,attention\n"
                           "0,3,0,\"[1, 3]\",\"[2, 0, 1]\"\n"
                           "1,5,0,[0],\"[0, 4, 1, 2, 3]\"\n";
    r = cli({"import", db, write("moe.csv", moe)});
    QCOMPARE(r.code, 0);
    r = cli({"info", db, "moe"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("experts          per-step expert sets, E = 4 per layer\n"), qPrintable(r.out));
    r = cli({"export", db, "moe", "--seed-csv", "-"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QString("query_id,token_id,layer_id,experts,attention\n"
                            "0,3,0,\"[0, 1, 3]\",\"[2, 0, 1]\"\n"
                            "1,5,0,\"[0, 1, 3]\",\"[0, 4, 1, 2, 3]\"\n"));
    r = cli({"import", db, write("moe2.csv", moe), "--experts", "3"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("moe2.csv:2: expert id 3 >= E = 3 (--experts)"), qPrintable(r.err));
    r = cli({"import", db, longCsv, "--format", "long-csv", "--experts", "3", "--name", "x"});
    QCOMPARE(r.code, 2);

    // DeepSeek sparse attention top-k JSON lines, format guessed from the content
    const QString dsa = write("indexer.txt", "{\"request\": \"r\", \"layer\": 0, \"step\": 0, \"context\": 4, \"topk\": [3, 1, -1]}\n"
                                             "{\"request\": \"r\", \"layer\": 0, \"step\": 1, \"topk\": [0, 2]}\n");
    r = cli({"import", db, dsa});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("'indexer' (dsa-topk)") && r.out.contains("per-layer selection, P=3 T=2 L=1, 2 records"),
             qPrintable(r.out));
}

void TestCliStore::importNpyWithPrefill()
{
    // float32 [T=2, n_max=3], P = 2.
    QByteArray npy("\x93NUMPY\x01\x00", 8);
    QByteArray dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    while ((10 + dict.size() + 1) % 64 != 0) dict.append(' ');
    dict.append('\n');
    npy.append(static_cast<char>(dict.size() & 0xFF));
    npy.append(static_cast<char>(dict.size() >> 8));
    npy.append(dict);
    const float values[] = {0.5f, 0.25f, 0.0f, 0.0f, 1.0f, 2.0f};
    npy.append(reinterpret_cast<const char*>(values), sizeof values);   // the test host is little-endian
    const QString file = write("attn.npy", npy);
    const QString db = path("npy.kvtr");
    Run r = cli({"import", db, file});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli import: " + file +
                        ": prefill length unknown: give P (--prefill) or store an integer array named 'prefill' in the .npz\n");
    r = cli({"import", db, file, "--prefill", "2", "--encoding", "f16", "--name", "attn16"});
    QCOMPARE(r.err, QString());
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, "imported 'attn16' (npy) into " + db + ": aggregated scores, P=2 T=2 L=1, 2 records, 4 entries, f16\n");
    r = cli({"export", db, "attn16", "--csv", "-"});
    QVERIFY(r.out.endsWith("step,layer,token,score\n0,-1,0,0.5\n0,-1,1,0.25\n1,-1,1,1\n1,-1,2,2\n"));
}

void TestCliStore::copyFromAnotherDatabase()
{
    const QString db = path("copy.kvtr");
    Run r = cli({"import", db, db_, "--trace", "longbench", "--name", "copied"});
    QCOMPARE(r.err, QString());
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.startsWith("imported 'copied' (kvtier) into " + db));
    r = cli({"import", db, db_, "--trace", "longbench", "--name", "copied"});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli import: " + db + ": trace 'copied' already exists (use --replace to overwrite it)\n");
    r = cli({"import", db, db_, "--trace", "longbench", "--name", "copied", "--replace"});
    QCOMPARE(r.code, 0);
    QCOMPARE(cli({"traces", db}).out.count('\n'), 2);
}

// index_step_delta end to end (docs/TRACE_FORMAT.md "Step-delta selections"): generate
// writes it with its K, info shows it, export gives the index_varint twin's rows, a copy
// keeps K, a paper CSV imports into it; --key-interval without the encoding is refused.
void TestCliStore::stepDeltaThroughCli()
{
    const QString db = path("delta.kvtr");
    const QStringList gen{"generate", db, "--per-layer", "--selection-ratio", "0.2", "--prefill", "300", "--steps", "17",
                          "--layers", "2", "--seed", "5"};
    Run r = cli(gen + QStringList{"--name", "v", "--encoding", "index_varint"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    r = cli(gen + QStringList{"--name", "d", "--encoding", "index_step_delta", "--key-interval", "5"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QJsonObject v = QJsonDocument::fromJson(cli({"info", db, "v", "--json"}).out.toUtf8()).object();
    const QJsonObject d = QJsonDocument::fromJson(cli({"info", db, "d", "--json"}).out.toUtf8()).object();
    QCOMPARE(d["encoding"].toString(), QString("index_step_delta/5"));
    QCOMPARE(d["entries"].toInt(), v["entries"].toInt());
    QVERIFY(v["entries"].toInt() > 17 * 2 * 60);
    auto rows = [&](const QString& file, const QString& name) {
        QStringList out = cli({"export", file, name, "--csv", "-"}).out.split('\n');
        out.removeFirst();   // the comment line names the trace and its encoding
        return out;
    };
    QCOMPARE(rows(db, "d"), rows(db, "v"));
    const QString copy = path("delta-copy.kvtr");
    r = cli({"import", copy, db, "--format", "kvtier", "--trace", "d"});
    QVERIFY2(r.code == 0 && r.out.endsWith(", index_step_delta/5\n"), qPrintable(r.out + r.err));
    QCOMPARE(rows(copy, "d"), rows(db, "v"));
    const QString csv = path("delta-paper.csv");
    r = cli({"generate", "--csv", csv, "--per-layer", "--selection-ratio", "0.1", "--prefill", "64", "--steps", "9",
             "--layers", "2", "--seed", "3"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    r = cli({"import", copy, csv, "--name", "p", "--encoding", "index_step_delta", "--key-interval", "3"});
    QVERIFY2(r.code == 0 && r.out.endsWith(", index_step_delta/3\n"), qPrintable(r.out + r.err));
    r = cli({"import", copy, csv, "--name", "q", "--key-interval", "3"});
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err, QString("kvtier-cli import: --key-interval needs --encoding index_step_delta (see kvtier-cli import "
                            "--help)\n"));
    r = cli(gen + QStringList{"--name", "k", "--encoding", "index_step_delta", "--key-interval", "0"});
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err, QString("kvtier-cli generate: --key-interval must be between 1 and 4096 (see kvtier-cli generate "
                            "--help)\n"));
}

// The compact encodings end to end: a generated paper CSV imported as index_u32 and as
// index_varint analyzes to the same numbers from fewer bytes; export keeps the encoding;
// a copy converts; the importers refuse an encoding of the other kind.
void TestCliStore::varintEncodingsThroughCli()
{
    const QString csv = path("gen-paper.csv");
    Run r = cli({"generate", "--csv", csv, "--per-layer", "--selection-ratio", "0.1", "--prefill", "512",
                 "--steps", "24", "--layers", "2", "--seed", "7"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QString u32 = path("gen-u32.kvtr"), varint = path("gen-varint.kvtr");
    r = cli({"import", u32, csv, "--name", "g"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.endsWith(", index_u32\n"), qPrintable(r.out));
    r = cli({"import", varint, csv, "--name", "g", "--encoding", "index_varint"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.endsWith(", index_varint\n"), qPrintable(r.out));

    r = cli({"info", u32, "g", "--json"});
    const QJsonObject infoU32 = QJsonDocument::fromJson(r.out.toUtf8()).object();
    r = cli({"info", varint, "g", "--json"});
    QCOMPARE(r.code, 0);
    const QJsonObject infoVarint = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(infoVarint["encoding"].toString(), QString("index_varint"));
    QCOMPARE(infoVarint["entries"].toInt(), infoU32["entries"].toInt());
    QVERIFY(infoU32["entries"].toInt() > 0);

    // The same analysis on both: every policy's numbers, the bounds and relevance equal.
    auto analyze = [&](const QString& db) {
        const QString scenario = path(QFileInfo(db).baseName() + ".kvtier.json");
        write(QFileInfo(scenario).fileName(), QString(R"({
          "trace": {"db": "%1", "name": "g"},
          "model": {"layers": 2, "kv_bytes_per_token_layer": 100, "weight_bytes": 400},
          "hardware": {"tiers": [
            {"name": "HBM", "capacity_bytes": 20000, "bandwidth": 1000, "reserve_bytes": 0},
            {"name": "DRAM", "capacity_bytes": 1e9, "bandwidth": 100, "link_read": 50, "link_write": 50}]},
          "selection": {"mode": "dense", "value": 1, "sinks": 0, "window": 0, "page_tokens": 1},
          "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
          "batch": 1,
          "policies": "all"})").arg(QFileInfo(db).fileName()).toUtf8());
        const Run a = cli({"analyze", "--scenario", scenario, "--json"});
        return std::pair{a.code, QJsonDocument::fromJson(a.out.toUtf8()).object()};
    };
    const auto [codeU32, jU32] = analyze(u32);
    const auto [codeVarint, jVarint] = analyze(varint);
    QCOMPARE(codeU32, 0);
    QCOMPARE(codeVarint, 0);
    QVERIFY(jU32["policies"].toArray().size() > 3);
    QCOMPARE(jVarint["policies"], jU32["policies"]);
    QCOMPARE(jVarint["bounds"], jU32["bounds"]);
    QCOMPARE(jVarint["relevance"], jU32["relevance"]);
    QCOMPARE(jVarint["steps"].toInt(), 24);

    // Export names the encoding; importing the export keeps it.
    r = cli({"export", varint, "g", "--csv", "-"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith("# kvtier trace {") && r.out.contains("\"encoding\":\"index_varint\""), qPrintable(r.out.left(300)));
    const QString exported = write("gen-varint.csv", r.out.toUtf8());
    r = cli({"import", varint, exported, "--name", "again"});
    QVERIFY2(r.code == 0 && r.out.endsWith(", index_varint\n"), qPrintable(r.out + r.err));
    // A copy converts either way; u32 -> varint -> u32 exports the same rows.
    r = cli({"import", varint, u32, "--format", "kvtier", "--trace", "g", "--name", "copied", "--encoding", "index_varint"});
    QVERIFY2(r.code == 0 && r.out.endsWith(", index_varint\n"), qPrintable(r.out + r.err));
    r = cli({"import", u32, varint, "--format", "kvtier", "--trace", "copied", "--name", "back", "--encoding", "index_u32"});
    QVERIFY2(r.code == 0 && r.out.endsWith(", index_u32\n"), qPrintable(r.out + r.err));
    const QString rowsG = cli({"export", u32, "g", "--csv", "-"}).out;
    const QString rowsBack = cli({"export", u32, "back", "--csv", "-"}).out;
    QVERIFY(rowsG.contains("\nstep,layer,token,score\n"));
    QCOMPARE(rowsBack.mid(rowsBack.indexOf('\n')), rowsG.mid(rowsG.indexOf('\n')));

    // Refusals: an encoding of the other kind, one line each.
    r = cli({"import", varint, csv, "--name", "bad", "--encoding", "ranked_varint"});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli import: " + csv + ": paper CSV traces are selections and are stored as index_u32, not "
                                                  "ranked_varint (index_varint is the compact alternative)\n");
    const QString seed = write("varint-seed.csv", "query_id,token_id,layer_id,experts,attention\n"
                                                  "0,3,0,[],\"[2, 0, 1]\"\n0,4,0,[],\"[3, 1, 0, 2]\"\n");
    r = cli({"import", varint, seed, "--encoding", "index_varint"});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli import: " + seed + ": seed CSV traces are ranked and are stored as ranked_u32, not "
                                                   "index_varint (ranked_varint is the compact alternative)\n");
    r = cli({"import", varint, seed, "--encoding", "ranked_varint"});
    QVERIFY2(r.code == 0 && r.out.endsWith(", ranked_varint\n"), qPrintable(r.out + r.err));
    r = cli({"export", varint, "varint-seed", "--seed-csv", "-"});
    QCOMPARE(r.out, QString("query_id,token_id,layer_id,experts,attention\n0,3,0,[],\"[2, 0, 1]\"\n0,4,0,[],\"[3, 1, 0, 2]\"\n"));
    r = cli({"import", varint, db_, "--format", "kvtier", "--trace", "longbench", "--encoding", "ranked_varint"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.endsWith("trace 'longbench': selection traces are stored as index_u32, not ranked_varint "
                            "(index_varint is the compact alternative)\n") && r.err.count('\n') == 1,
             qPrintable(r.err));
}

void TestCliStore::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("stderrLine");   // %DB% and %DIR% are replaced
    QTest::newRow("traces: missing db") << QStringList{"traces", "%DIR%/none.kvtr"} << 1
                                        << "kvtier-cli traces: %DIR%/none.kvtr: no such file";
    QTest::newRow("traces: not sqlite") << QStringList{"traces", "%DIR%/longbench.csv"} << 1
                                        << "kvtier-cli traces: %DIR%/longbench.csv: not a SQLite database";
    QTest::newRow("traces: no argument") << QStringList{"traces"} << 2
                                         << "kvtier-cli traces: expected one argument, the database file (see kvtier-cli traces --help)";
    QTest::newRow("info: unknown trace") << QStringList{"info", "%DB%", "nope"} << 1
                                         << "kvtier-cli info: %DB%: no trace named 'nope'";
    QTest::newRow("export: unknown trace") << QStringList{"export", "%DB%", "nope", "--csv", "-"} << 1
                                           << "kvtier-cli export: %DB%: no trace named 'nope'";
    QTest::newRow("export: no --csv") << QStringList{"export", "%DB%", "longbench"} << 2
                                      << "kvtier-cli export: give exactly one of --csv, --seed-csv and --paper-csv (see kvtier-cli export --help)";
    QTest::newRow("import: unknown option") << QStringList{"import", "%DB%", "%DIR%/longbench.csv", "--colour", "red"} << 2
                                            << "kvtier-cli import: unknown option --colour (see kvtier-cli import --help)";
    QTest::newRow("import: bad encoding") << QStringList{"import", "%DB%", "%DIR%/longbench.csv", "--encoding", "f8"} << 2
                                          << "kvtier-cli import: --encoding: unknown encoding 'f8' (expected f32, f16, "
                                             "sparse_f32, sparse_f16, index_u32, ranked_u32, index_varint, ranked_varint or "
                                             "index_step_delta) "
                                             "(see kvtier-cli import --help)";
    QTest::newRow("import: bad format") << QStringList{"import", "%DB%", "%DIR%/longbench.csv", "--format", "xml"} << 2
                                        << "kvtier-cli import: --format: unknown import format 'xml' (expected paper-csv, "
                                           "long-csv, seed-csv, dsa-topk, npy or kvtier) (see kvtier-cli import --help)";
    QTest::newRow("import: bad prefill") << QStringList{"import", "%DB%", "%DIR%/longbench.csv", "--prefill", "x"} << 2
                                         << "kvtier-cli import: option --prefill: 'x' is not an integer (see kvtier-cli import --help)";
    QTest::newRow("import: missing file") << QStringList{"import", "%DB%", "%DIR%/none.csv"} << 1
                                          << "kvtier-cli import: %DIR%/none.csv: no such file";
    QTest::newRow("import: clash") << QStringList{"import", "%DB%", "%DIR%/longbench.csv"} << 1
                                   << "kvtier-cli import: %DB%: trace 'longbench' already exists (use --replace to overwrite it)";
    QTest::newRow("import: wrong format forced") << QStringList{"import", "%DB%", "%DIR%/longbench.csv", "--format", "long-csv", "--name", "x"} << 1
                                                 << "kvtier-cli import: %DIR%/longbench.csv:1: expected the header "
                                                    "'step,layer,token,score', found 'n,l,read_kv' (a batch of "
                                                    "sequences: 'step,sequence,layer,token,score')";
    QTest::newRow("import: --array on csv") << QStringList{"import", "%DB%", "%DIR%/longbench.csv", "--array", "a"} << 2
                                            << "kvtier-cli import: --array applies to .npz files (see kvtier-cli import --help)";
}

void TestCliStore::errors()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    QFETCH(QString, stderrLine);
    for (QString& a : args) a.replace("%DB%", db_).replace("%DIR%", dir_.path());
    stderrLine.replace("%DB%", db_).replace("%DIR%", dir_.path());
    const Run r = cli(args);
    QCOMPARE(r.code, code);
    QCOMPARE(r.err, stderrLine + "\n");   // exactly one line
    QCOMPARE(r.out, QString());
}

void TestCliStore::failedImportLeavesDatabaseUnchanged()
{
    const QByteArray before = sha256(db_);
    const QString bad = write("bad.csv", "n,l,read_kv\n4,0,\"[0]\"\n5,0,\"[1]\"\n6,0,\"[2, 9]\"\n");
    const Run r = cli({"import", db_, bad, "--name", "bad"});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli import: " + bad + ":4: token index 9 >= n_t = 6 (at n = 6 the readable tokens are 0..5)\n");
    QCOMPARE(sha256(db_), before);
    QCOMPARE(cli({"traces", db_}).out.count('\n'), 2);   // header + the one trace

    const QString negative = write("neg.csv", "step,layer,token,score\n0,-1,0,1\n1,-1,2,-3\n");
    const Run n = cli({"import", db_, negative, "--prefill", "3"});
    QCOMPARE(n.code, 1);
    QCOMPARE(n.err, "kvtier-cli import: " + negative + ":3: score of token 2 is negative (-3)\n");
    QCOMPARE(sha256(db_), before);
}

void TestCliStore::failedImportCreatesNoDatabase()
{
    const QString db = path("never.kvtr");
    const QString bad = write("bad2.csv", "n,l,read_kv\nfour,0,\"[0]\"\n");
    const Run r = cli({"import", db, bad});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli import: " + bad + ":2: n is not an integer: 'four'\n");
    QVERIFY(!QFile::exists(db));
}

void TestCliStore::newerSchemaRefused()
{
    const QString db = path("future.kvtr");
    QCOMPARE(cli({"import", db, paper_}).code, 0);
    // Bump the stored schema version behind kvtier's back.
    sqlite3* h = nullptr;
    QCOMPARE(sqlite3_open(db.toUtf8().constData(), &h), SQLITE_OK);
    QCOMPARE(sqlite3_exec(h, "UPDATE kvtier_meta SET value = '7' WHERE key = 'schema_version'", nullptr, nullptr, nullptr),
             SQLITE_OK);
    sqlite3_close(h);
    const Run r = cli({"traces", db});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err, "kvtier-cli traces: " + db +
                        ": written by a newer kvtier (schema version 7, this build reads up to 2); please upgrade\n");
}

QTEST_GUILESS_MAIN(TestCliStore)
#include "tst_cli_store.moc"
