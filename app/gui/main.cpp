// kvtier: the explorer GUI. `kvtier [DB]` opens the window; `kvtier --export ...` and
// `kvtier --bench-latency ...` run without a user (ui/headless.hpp).
#include "core/config/data_dir.hpp"
#include "ui/headless.hpp"
#include "ui/main_window.hpp"

#include <QApplication>
#include <QFileInfo>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

void usage(FILE* to)
{
    std::fprintf(to,
                 "usage: kvtier [DATABASE.sqlite] [--scenario FILE [--set key=value ...]]\n"
                 "       kvtier --export DIR --scenario FILE [--set key=value ...] [--size WxH] [--policy NAME] [--token I] [--no-sweep]\n"
                 "       kvtier --bench-latency [DATABASE] [--trace NAME] [--scenario FILE] [--set key=value ...] [--policy NAME] [--runs N]\n");
}

} // namespace

int main(int argc, char** argv)
{
    kvtier::ui::HeadlessOptions o;
    enum { Gui, Export, Bench } mode = Gui;
    QString db;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> QString {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "kvtier: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return QString::fromLocal8Bit(argv[++i]);
        };
        if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        } else if (a == "--export") {
            mode = Export;
            o.exportDir = next();
        } else if (a == "--bench-latency") {
            mode = Bench;
        } else if (a == "--scenario") {
            o.scenario = next();
        } else if (a == "--set") {
            o.overrides << next();
        } else if (a == "--policy") {
            o.policy = next();
        } else if (a == "--trace") {
            o.trace = next();
        } else if (a == "--runs") {
            o.runs = std::max(1, next().toInt());
        } else if (a == "--token") {
            o.token = next().toLongLong();
        } else if (a == "--no-sweep") {
            o.sweep = false;
        } else if (a == "--size") {
            const QStringList wh = next().split(QLatin1Char('x'));
            if (wh.size() != 2 || wh[0].toInt() < 16 || wh[1].toInt() < 16) {
                std::fprintf(stderr, "kvtier: --size wants WIDTHxHEIGHT, e.g. 1200x750\n");
                return 2;
            }
            o.size = QSize(wh[0].toInt(), wh[1].toInt());
        } else if (!a.empty() && a[0] == '-') {
            std::fprintf(stderr, "kvtier: unknown option %s\n", a.c_str());
            usage(stderr);
            return 2;
        } else {
            db = QString::fromLocal8Bit(argv[i]);
        }
    }
    if (mode == Export && o.scenario.isEmpty()) {
        std::fprintf(stderr, "kvtier: --export needs --scenario FILE\n");
        return 2;
    }
    // Headless export must not need a display: pick the offscreen platform before the
    // QApplication exists (it reads QT_QPA_PLATFORM when it is constructed).
    if (mode == Export)
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("kvtier"));
    QApplication::setApplicationName(QStringLiteral("kvtier"));
    QApplication::setApplicationVersion(QStringLiteral(KVTIER_VERSION));
    // Presets and the default scenario: <bin>/../share/kvtier, installed or in a build tree.
    kvtier::setDataDir(kvtier::dataDirBesideExecutable(QCoreApplication::applicationDirPath().toStdString()));

    if (mode == Export)
        return kvtier::ui::runHeadlessExport(o);
    if (mode == Bench) {
        o.db = db;
        if (o.db.isEmpty() && o.scenario.isEmpty()) {
            std::fprintf(stderr, "kvtier --bench-latency: give a database or --scenario\n");
            return 2;
        }
        return kvtier::ui::runLatencyBench(o);
    }

    kvtier::ui::MainWindow w;
    w.show();
    if (!o.scenario.isEmpty()) {
        w.loadScenarioFile(o.scenario, o.overrides);
        if (!db.isEmpty())
            w.openDatabase(db);
    } else if (!db.isEmpty()) {
        w.openDatabase(db);
    } else if (const std::string& last = w.scenario().trace_db; !last.empty() && QFileInfo::exists(QString::fromStdString(last))) {
        w.openDatabase(QString::fromStdString(last), QString::fromStdString(w.scenario().trace_name));
    }
    return app.exec();
}
