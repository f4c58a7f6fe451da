// kvtier: the explorer GUI. `kvtier [DB]` opens the window; `kvtier --export ...` and
// `kvtier --bench-latency ...` run without a user (ui/headless.hpp). The command line is
// read with QCommandLineParser (`kvtier --help`).
#include "core/config/data_dir.hpp"
#include "ui/headless.hpp"
#include "ui/main_window.hpp"
#include "ui/start_options.hpp"

#include <QApplication>
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QFileInfo>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// What the command line asks for. Parsed before any QApplication exists: --export must
// choose the offscreen platform first, and --help/--version must work without a display.
struct CommandLine {
    enum Mode { Gui, Export, Bench } mode = Gui;
    kvtier::ui::HeadlessOptions options;
    QString db;
    QString view;   // the window: the view in front
    int sequence = -1;   // the window: the batch sequence the heatmaps show
    bool stream = false;   // the window: Analysis → Stream the trace on
};

QStringList argumentsOf(int argc, char** argv)
{
    QStringList out;
    for (int i = 0; i < argc; ++i) out << QString::fromLocal8Bit(argv[i]);
    return out;
}

[[noreturn]] void fail(const QString& problem)
{
    std::fprintf(stderr, "kvtier: %s (see kvtier --help)\n", qPrintable(problem));
    std::exit(2);
}

// Returns the exit code to end with when the command line is answered (--help, --version),
// or -1 to go on.
int parseCommandLine(int argc, char** argv, CommandLine& cl)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "kvtier: KV-cache placement over tiered memory, the explorer.\n"
        "  kvtier [DATABASE] [--scenario FILE [--set key=value ...]]   open the window\n"
        "  kvtier --export DIR --scenario FILE [...]                   write every view's figures and CSVs, no window\n"
        "  kvtier --bench-latency [DATABASE] [...]                     time the views' updates"));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption version({QStringLiteral("v"), QStringLiteral("version")}, QStringLiteral("Show the version."));
    const QCommandLineOption scenario(QStringLiteral("scenario"), QStringLiteral("Open this scenario file (*.kvtier.json)."),
                                      QStringLiteral("FILE"));
    const QCommandLineOption set(QStringLiteral("set"),
                                 QStringLiteral("Override a scenario key, e.g. batch=64 or hardware.tiers.0.capacity_bytes=2e10 "
                                                "(repeatable; docs/SCENARIO.md)."),
                                 QStringLiteral("key=value"));
    const QCommandLineOption exportDir(QStringLiteral("export"),
                                       QStringLiteral("Write the dashboard's figures (PNG, PDF, SVG) and CSVs to DIR "
                                                      "and exit, without a window (needs --scenario)."),
                                       QStringLiteral("DIR"));
    const QCommandLineOption size(QStringLiteral("size"),
                                  QStringLiteral("--export: figure size in pixels (default 1200x750), or physical: 3.5x2.2in, "
                                                 "89x55mm (text at --font-pt)."),
                                  QStringLiteral("WxH"));
    const QCommandLineOption fontPt(QStringLiteral("font-pt"),
                                    QStringLiteral("--export with a physical --size: text size in points (default 8)."),
                                    QStringLiteral("N"));
    const QCommandLineOption overwrite(QStringLiteral("overwrite"), QStringLiteral("--export: replace existing files in DIR."));
    const QCommandLineOption policy(QStringLiteral("policy"),
                                    QStringLiteral("The policy the placement and bandwidth views show (the window, "
                                                   "--export, --bench-latency)."),
                                    QStringLiteral("NAME"));
    const QCommandLineOption token(QStringLiteral("token"), QStringLiteral("Follow this token in the relevance view (the window, --export)."),
                                   QStringLiteral("I"));
    const QCommandLineOption view(QStringLiteral("view"),
                                  QStringLiteral("The window: the view in front (comparison, placement, experts, bandwidth, "
                                                 "relevance, sweep), in the grid's tabs or the one row of tabs on a small screen."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption sequence(QStringLiteral("sequence"),
                                      QStringLiteral("The window: the sequence of a batch the heatmaps show (0 .. S-1)."),
                                      QStringLiteral("N"));
    const QCommandLineOption stream(QStringLiteral("stream"),
                                    QStringLiteral("Stream the trace in bounded memory (Analysis → Stream the trace) for "
                                                   "this session; a trace too large for memory streams anyway."));
    const QCommandLineOption noSweep(QStringLiteral("no-sweep"), QStringLiteral("--export: skip the default sweep."));
    const QCommandLineOption bench(QStringLiteral("bench-latency"),
                                   QStringLiteral("Time the views' updates on a database or scenario and exit."));
    const QCommandLineOption trace(QStringLiteral("trace"), QStringLiteral("--bench-latency: the trace to use."),
                                   QStringLiteral("NAME"));
    const QCommandLineOption runs(QStringLiteral("runs"), QStringLiteral("--bench-latency: runs per measurement (default 21)."),
                                  QStringLiteral("N"));
    p.addOptions({help, version, scenario, set, exportDir, size, fontPt, overwrite, policy, token, view, sequence, noSweep, bench, trace,
                  runs, stream});
    p.addPositionalArgument(QStringLiteral("DATABASE"), QStringLiteral("A kvtier trace database to open."),
                            QStringLiteral("[DATABASE]"));

    if (!p.parse(argumentsOf(argc, argv))) {
        if (!p.unknownOptionNames().isEmpty()) {
            const QString name = p.unknownOptionNames().constFirst();
            fail(QStringLiteral("unknown option %1%2").arg(name.size() == 1 ? QStringLiteral("-") : QStringLiteral("--"), name));
        }
        fail(p.errorText());   // a missing value: "Missing value after '--scenario'."
    }
    if (p.isSet(help) || p.isSet(version)) {
        // helpText() names the program from the application's arguments.
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral("kvtier"));
        QCoreApplication::setApplicationVersion(QStringLiteral(KVTIER_VERSION));
        if (p.isSet(help))
            std::fputs(qPrintable(p.helpText()), stdout);
        else
            std::printf("kvtier %s\n", KVTIER_VERSION);
        return 0;
    }

    auto& o = cl.options;
    if (p.isSet(exportDir)) {
        cl.mode = CommandLine::Export;
        o.exportDir = p.value(exportDir);
    }
    if (p.isSet(bench)) {
        if (cl.mode == CommandLine::Export) fail(QStringLiteral("--export and --bench-latency exclude each other"));
        cl.mode = CommandLine::Bench;
    }
    o.scenario = p.value(scenario);
    o.overrides = p.values(set);
    o.policy = p.value(policy);
    cl.view = p.value(view);
    if (p.isSet(sequence)) {
        bool ok = false;
        const int n = p.value(sequence).toInt(&ok);
        if (!ok || n < 0) fail(QStringLiteral("--sequence wants a sequence index >= 0, not '%1'").arg(p.value(sequence)));
        cl.sequence = n;
    }
    o.trace = p.value(trace);
    cl.stream = p.isSet(stream);
    o.sweep = !p.isSet(noSweep);
    if (p.isSet(runs)) {
        bool ok = false;
        const int n = p.value(runs).toInt(&ok);
        if (!ok || n < 1) fail(QStringLiteral("--runs wants a whole number >= 1, not '%1'").arg(p.value(runs)));
        o.runs = n;
    }
    if (p.isSet(token)) {
        bool ok = false;
        const long long t = p.value(token).toLongLong(&ok);
        if (!ok || t < 0) fail(QStringLiteral("--token wants a token index >= 0, not '%1'").arg(p.value(token)));
        o.token = t;
    }
    o.overwrite = p.isSet(overwrite);
    double font = 8;
    if (p.isSet(fontPt)) {
        bool ok = false;
        font = p.value(fontPt).toDouble(&ok);
        if (!ok || font < 4 || font > 48) fail(QStringLiteral("--font-pt wants a size in points from 4 to 48, not '%1'").arg(p.value(fontPt)));
    }
    if (p.isSet(size)) {
        // WxH in pixels, or WxHin / WxHmm for a physical figure.
        QString v = p.value(size).trimmed();
        kvtier::ui::SizeUnit unit = kvtier::ui::SizeUnit::Pixels;
        if (v.endsWith(QLatin1String("in"))) unit = kvtier::ui::SizeUnit::Inches;
        if (v.endsWith(QLatin1String("mm"))) unit = kvtier::ui::SizeUnit::Millimetres;
        if (unit != kvtier::ui::SizeUnit::Pixels) v.chop(2);
        const QStringList wh = v.split(QLatin1Char('x'));
        bool okW = false, okH = false;
        const double w = wh.size() == 2 ? wh[0].toDouble(&okW) : 0, h = wh.size() == 2 ? wh[1].toDouble(&okH) : 0;
        kvtier::ui::FigureSize f;
        f.unit = unit;
        f.width = w;
        f.height = h;
        f.font_pt = font;
        const QSizeF layout = f.layoutSize();
        if (!okW || !okH || layout.width() < 16 || layout.height() < 16 || layout.width() > 20000 || layout.height() > 20000 ||
            (unit == kvtier::ui::SizeUnit::Pixels && (w != std::floor(w) || h != std::floor(h))))
            fail(QStringLiteral("--size wants WIDTHxHEIGHT, e.g. 1200x750 (pixels), 3.5x2.2in or 89x55mm"));
        o.figure = f;
        if (unit == kvtier::ui::SizeUnit::Pixels) o.size = QSize(static_cast<int>(w), static_cast<int>(h));
    } else if (p.isSet(fontPt)) {
        fail(QStringLiteral("--font-pt needs a physical --size (e.g. 3.5x2.2in)"));
    }
    const QStringList dbs = p.positionalArguments();
    if (dbs.size() > 1) fail(QStringLiteral("one database at most, got %1").arg(dbs.size()));
    if (!dbs.isEmpty()) cl.db = dbs.constFirst();
    if (cl.mode == CommandLine::Export && o.scenario.isEmpty()) fail(QStringLiteral("--export needs --scenario FILE"));
    if (cl.mode == CommandLine::Bench && cl.db.isEmpty() && o.scenario.isEmpty())
        fail(QStringLiteral("--bench-latency needs a database or --scenario FILE"));
    return -1;
}

} // namespace

int main(int argc, char** argv)
{
    CommandLine cl;
    if (const int done = parseCommandLine(argc, argv, cl); done >= 0) return done;
    kvtier::ui::HeadlessOptions& o = cl.options;
    const QString& db = cl.db;
    // Headless export must not need a display: pick the offscreen platform before the
    // QApplication exists (it reads QT_QPA_PLATFORM when it is constructed).
    if (cl.mode == CommandLine::Export)
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("kvtier"));
    QApplication::setApplicationName(QStringLiteral("kvtier"));
    QApplication::setApplicationVersion(QStringLiteral(KVTIER_VERSION));
    // Presets and the default scenario: <bin>/../share/kvtier, installed or in a build tree.
    kvtier::setDataDir(kvtier::dataDirBesideExecutable(QCoreApplication::applicationDirPath().toStdString()));

    if (cl.mode == CommandLine::Export)
        return kvtier::ui::runHeadlessExport(o);
    if (cl.mode == CommandLine::Bench) {
        o.db = db;
        return kvtier::ui::runLatencyBench(o);
    }

    kvtier::ui::MainWindow w;
    w.fitLayoutToScreen();
    if (cl.stream) w.setStreaming(true);
    w.show();
    kvtier::ui::applyOnFirstResult(w, {o.policy, o.token, cl.view, cl.sequence});
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
