// The kvtier GUI binary's command line (QCommandLineParser in app/gui/main.cpp): --help and
// --version answer without a window, a bad option or value fails with one line and exit 2.
#include <QProcess>
#include <QtTest>

namespace {

struct Run {
    int code = -1;
    QString out, err;
};

Run kvtier(const QStringList& args)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(KVTIER_GUI_PATH), args);
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

} // namespace

class TestGuiArgs : public QObject {
    Q_OBJECT

private slots:
    void help()
    {
        for (const QString& flag : {QStringLiteral("--help"), QStringLiteral("-h")}) {
            const Run r = kvtier({flag});
            QCOMPARE(r.code, 0);
            QCOMPARE(r.err, QString());
            QVERIFY2(r.out.startsWith(QStringLiteral("Usage: ")), qPrintable(r.out));
            QVERIFY2(r.out.contains(QStringLiteral("kvtier [options] [DATABASE]")), qPrintable(r.out));
            for (const char* option : {"--scenario <FILE>", "--set <key=value>", "--export <DIR>", "--size <WxH>",
                                       "--policy <NAME>", "--token <I>", "--sequence <N>", "--no-sweep", "--bench-latency",
                                       "--trace <NAME>", "--runs <N>", "--version"})
                QVERIFY2(r.out.contains(QLatin1String(option)), option);
        }
    }

    void version()
    {
        for (const QString& flag : {QStringLiteral("--version"), QStringLiteral("-v")}) {
            const Run r = kvtier({flag});
            QCOMPARE(r.code, 0);
            QCOMPARE(r.out, QStringLiteral("kvtier " KVTIER_VERSION "\n"));
            QCOMPARE(r.err, QString());
        }
    }

    void badArguments_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("err");
        QTest::newRow("unknown option") << QStringList{QStringLiteral("--bogus")}
                                        << QStringLiteral("kvtier: unknown option --bogus (see kvtier --help)\n");
        QTest::newRow("unknown short") << QStringList{QStringLiteral("-q")}
                                       << QStringLiteral("kvtier: unknown option -q (see kvtier --help)\n");
        QTest::newRow("missing value") << QStringList{QStringLiteral("--scenario")}
                                       << QStringLiteral("kvtier: Missing value after '--scenario'. (see kvtier --help)\n");
        QTest::newRow("runs") << QStringList{QStringLiteral("--bench-latency"), QStringLiteral("x.kvtr"), QStringLiteral("--runs"),
                                             QStringLiteral("many")}
                              << QStringLiteral("kvtier: --runs wants a whole number >= 1, not 'many' (see kvtier --help)\n");
        QTest::newRow("size") << QStringList{QStringLiteral("--export"), QStringLiteral("out"), QStringLiteral("--scenario"),
                                             QStringLiteral("s.json"), QStringLiteral("--size"), QStringLiteral("big")}
                              << QStringLiteral("kvtier: --size wants WIDTHxHEIGHT, e.g. 1200x750 (pixels), 3.5x2.2in or 89x55mm (see kvtier --help)\n");
        QTest::newRow("sequence") << QStringList{QStringLiteral("--sequence"), QStringLiteral("two")}
                                  << QStringLiteral("kvtier: --sequence wants a sequence index >= 0, not 'two' (see kvtier --help)\n");
        QTest::newRow("export without scenario")
            << QStringList{QStringLiteral("--export"), QStringLiteral("out")}
            << QStringLiteral("kvtier: --export needs --scenario FILE (see kvtier --help)\n");
        QTest::newRow("two databases") << QStringList{QStringLiteral("a.kvtr"), QStringLiteral("b.kvtr")}
                                       << QStringLiteral("kvtier: one database at most, got 2 (see kvtier --help)\n");
    }

    void badArguments()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, err);
        const Run r = kvtier(args);
        QCOMPARE(r.code, 2);
        QCOMPARE(r.err, err);
        QCOMPARE(r.out, QString());
    }
};

QTEST_GUILESS_MAIN(TestGuiArgs)
#include "tst_gui_args.moc"
