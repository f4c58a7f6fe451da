// GUI tests for "fits the screen, reads well" and "figures ready for a paper" (issue 10):
// the window's size against the screen, tabbed views, the Help menu and the documents it
// opens, the Explain panel's section links, the note on trivial results, export sizes in
// inches with point-sized text, no screen hints in figures, the caption, full-resolution
// heatmap CSVs, no silent overwrites or folders, and `kvtier --export --no-sweep`.
#include "core/config/data_dir.hpp"
#include "core/config/scenario_json.hpp"
#include "core/engine/view_capacity.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/engine/view_heatmap_csv.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/bandwidth_view.hpp"
#include "ui/comparison_view.hpp"
#include "ui/doc_links.hpp"
#include "ui/error_sink.hpp"
#include "ui/explain_panel.hpp"
#include "ui/export_actions.hpp"
#include "ui/exporter.hpp"
#include "ui/help_menu.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/placement_view.hpp"
#include "ui/relevance_view.hpp"
#include "ui/sweep_view.hpp"
#include "ui/window_fit.hpp"

#include "gui_test_main.hpp"
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QMenuBar>
#include <QProcess>
#include <QRegularExpression>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

namespace {

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The first page's MediaBox of a PDF: its size in points.
QSizeF pdfPageSize(const QString& path)
{
    const QByteArray pdf = readAll(path);
    static const QRegularExpression box(QStringLiteral("/MediaBox\\s*\\[\\s*0\\s+0\\s+([0-9.]+)\\s+([0-9.]+)\\s*\\]"));
    const auto m = box.match(QString::fromLatin1(pdf));
    return m.hasMatch() ? QSizeF(m.captured(1).toDouble(), m.captured(2).toDouble()) : QSizeF();
}

} // namespace

class TestGuiScreen : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void firstStartFitsEveryScreen();
    void savedGeometryOnlyWhenItFits();
    void viewsToggleBetweenGridAndTabs();
    void layoutPickedForTheScreenIsNotAChoice();
    void helpMenuOpensShippedDocs();
    void docReferencesResolveToSections();
    void explainSectionLinksOpenTheModel();
    void trivialResultSaysWhy();
    void physicalSizeAndPointText();
    void figuresHaveNoScreenHintsAndNameTheScenario();
    void exportRefusesOverwriteAndMissingFolders();
    void exportDialogKeepsFormatAndExtensionTogether();
    void fullResolutionHeatmapCsv();
    void headlessNoSweepAndOverwrite();

private:
    QTemporaryDir dir_;
    QString db_, scenarioFile_, fitsFile_;
    std::unique_ptr<MainWindow> w_;
    QStringList errors_;
    QList<QUrl> opened_;
};

void TestGuiScreen::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("screen.sqlite"));
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    GeneratorParams p = generatorPreset("drift");
    p.seed = 11;
    p.prefill = 512;
    p.steps = 48;
    p.layers = 32;
    p.keep_top = 96;
    p.burst_min_age = 64;
    TraceMeta meta = generatorMeta(p);
    meta.name = "small";
    auto writer = store->beginTrace(meta, Encoding::SparseF32);
    generate(p, [&](const Record& r) { writer->add(r); });
    writer->commit();
    // As tst_gui: 73 MB of KV per sequence, batch 32, HBM room for about a third.
    nlohmann::json sc = {
        {"trace", {{"db", db_.toStdString()}, {"name", "small"}}},
        {"model", {{"layers", 32}, {"kv_bytes_per_token_layer", 4096}, {"weight_bytes", 1e9}}},
        {"hardware", {{"preset", "gh200-hbm3"},
                      {"tiers", {{{"name", "HBM3"}, {"capacity_bytes", 1.8e9}, {"bandwidth", 4e12}, {"reserve_bytes", 0}},
                                 {{"name", "LPDDR5X"}, {"capacity_bytes", 480e9}, {"bandwidth", 5e11}, {"link_read", 4.5e11},
                                  {"link_write", 4.5e11}, {"reserve_bytes", 0}}}}}},
        {"selection", {{"mode", "ratio"}, {"value", 0.2}, {"sinks", 4}, {"window", 16}, {"page_tokens", 1}}},
        {"placement", {{"inclusive", false}, {"route", "home"}, {"weights_in_fast_tier", 1.0}}},
        {"batch", 32},
        {"policies", {"first-fit", "lru", "belady"}}};
    scenarioFile_ = dir_.filePath(QStringLiteral("screen.kvtier.json"));
    std::ofstream(scenarioFile_.toStdString()) << sc.dump(2);
    // The same with batch 2: 147 MB of KV in 0.8 GB of HBM room.
    sc["batch"] = 2;
    fitsFile_ = dir_.filePath(QStringLiteral("fits.kvtier.json"));
    std::ofstream(fitsFile_.toStdString()) << sc.dump(2);
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
    DocLinks::setOpener([this](const QUrl& u) {
        opened_ << u;
        return true;
    });
}

void TestGuiScreen::init()
{
    errors_.clear();
    opened_.clear();
    w_ = std::make_unique<MainWindow>();
    w_->resize(1400, 900);
    QVERIFY(w_->loadScenarioFile(scenarioFile_));
    QVERIFY(waitCurrent(*w_));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiScreen::cleanup()
{
    w_.reset();
    QSettings().clear();
}

void TestGuiScreen::firstStartFitsEveryScreen()
{
    // 1920 x 1080 less a panel, a 1366 x 768 laptop, and 1920 x 1080 at 150 % (1280 x 720).
    for (const QRect& available : {QRect(0, 27, 1920, 1053), QRect(0, 0, 1366, 740), QRect(0, 0, 1280, 720), QRect(1920, 0, 1280, 984)}) {
        const QRect g = firstStartGeometry(available);
        QVERIFY2(available.contains(g), qPrintable(QStringLiteral("%1x%2").arg(available.width()).arg(available.height())));
        QVERIFY(g.width() >= available.width() * 9 / 10);
        QVERIFY(g.height() >= available.height() * 9 / 10);
        QCOMPARE(g.center().x(), available.center().x());
    }
    QVERIFY(!preferTabbedViews(QSize(1920, 1053)));
    QVERIFY(preferTabbedViews(QSize(1366, 740)));
    QVERIFY(preferTabbedViews(QSize(1280, 720)));
    // The old fixed 1560 x 960 on a laptop does not fit.
    QVERIFY(!geometryFits(QRect(100, 60, 1560, 960), QRect(0, 0, 1366, 740)));
    QVERIFY(geometryFits(QRect(100, 60, 1000, 600), QRect(0, 0, 1366, 740)));
    QVERIFY(!geometryFits(QRect(-400, 60, 1000, 600), QRect(0, 0, 1366, 740)));   // partly off screen
}

void TestGuiScreen::savedGeometryOnlyWhenItFits()
{
    // The window can be as small as a 150 % laptop screen: the views scroll below their minimum.
    QVERIFY2(w_->minimumSizeHint().width() <= 900 && w_->minimumSizeHint().height() <= 500,
             qPrintable(QStringLiteral("%1x%2").arg(w_->minimumSizeHint().width()).arg(w_->minimumSizeHint().height())));
    const QRect available = QGuiApplication::primaryScreen()->availableGeometry();
    w_.reset();
    {
        // Saved on a larger monitor: twice the screen.
        QWidget big;
        big.setGeometry(QRect(available.topLeft() + QPoint(10, 10), available.size() * 2));
        QSettings().setValue(QStringLiteral("window/geometry"), big.saveGeometry());
    }
    {
        MainWindow w;
        QVERIFY2(available.contains(w.geometry()),
                 qPrintable(QStringLiteral("%1,%2 %3x%4").arg(w.geometry().x()).arg(w.geometry().y()).arg(w.width()).arg(w.height())));
        QVERIFY(w.width() < available.width() * 2);
    }
    {
        // A geometry that fits comes back as saved.
        QWidget small;
        const QRect g(available.topLeft() + QPoint(5, 8), QSize(std::min(available.width() - 10, 900), std::min(available.height() - 10, 560)));
        small.setGeometry(g);
        QSettings().setValue(QStringLiteral("window/geometry"), small.saveGeometry());
        MainWindow w;
        QCOMPARE(w.geometry().size(), g.size());
        QVERIFY(available.contains(w.geometry()));
    }
}

void TestGuiScreen::viewsToggleBetweenGridAndTabs()
{
    MainWindow& w = *w_;
    QVERIFY(!w.tabbedViews());
    auto* tabs = w.findChild<QTabWidget*>(QStringLiteral("viewTabs"));
    QVERIFY(tabs);
    QCOMPARE(tabs->count(), 0);
    auto* action = w.findChild<QAction*>(QStringLiteral("tabbedViewsAction"));
    QVERIFY(action);
    action->trigger();
    QVERIFY(w.tabbedViews());
    QCOMPARE(tabs->count(), 5);
    for (PlotView* v : w.views())
        QVERIFY(tabs->indexOf(v) >= 0);
    // Only the current tab's view is visible; choosing another shows it.
    // (Not shown: the offscreen platform warns when the minimum size changes after show().)
    tabs->setCurrentWidget(w.placementView());
    QVERIFY(w.placementView()->isVisibleTo(&w));
    QVERIFY(!w.comparisonView()->isVisibleTo(&w));
    // The choice is saved, and back to the grid every view is visible at once.
    QTRY_VERIFY_WITH_TIMEOUT(QSettings().value(QStringLiteral("window/tabbedViews")).toBool(), 5000);
    action->trigger();
    QVERIFY(!w.tabbedViews());
    QCOMPARE(tabs->count(), 0);
    QCoreApplication::processEvents();
    for (PlotView* v : {static_cast<PlotView*>(w.comparisonView()), static_cast<PlotView*>(w.placementView()),
                        static_cast<PlotView*>(w.relevanceView())})
        QVERIFY2(v->isVisibleTo(&w), qPrintable(v->viewId()));
    QTRY_VERIFY_WITH_TIMEOUT(!QSettings().value(QStringLiteral("window/tabbedViews")).toBool(), 5000);
    // A saved choice wins over the screen's preference.
    QSettings().setValue(QStringLiteral("window/tabbedViews"), true);
    MainWindow again;
    again.fitLayoutToScreen();
    QVERIFY(again.tabbedViews());
}

// Settings saved without the user choosing grid or tabs do not pin the layout: the next
// window picks it for its own screen (a session at 1920 x 1080 must not keep a 1366 x 768
// laptop in the grid of four).
void TestGuiScreen::layoutPickedForTheScreenIsNotAChoice()
{
    w_->close();   // saves every setting
    QVERIFY(QSettings().contains(QStringLiteral("window/geometry")));
    QVERIFY(!QSettings().contains(QStringLiteral("window/tabbedViews")));
    const QScreen* screen = QGuiApplication::primaryScreen();
    QVERIFY(screen);
    const bool expected = preferTabbedViews(screen->availableGeometry().size());
    MainWindow again;
    again.fitLayoutToScreen();
    QCOMPARE(again.tabbedViews(), expected);
}

void TestGuiScreen::helpMenuOpensShippedDocs()
{
    MainWindow& w = *w_;
    QMenu* help = w.menuBar()->findChild<QMenu*>(QStringLiteral("helpMenu"));
    QVERIFY(help);
    for (const char* doc : {"MODEL.md", "POLICIES.md", "BOUNDS.md", "GUI.md"}) {
        auto* a = w.findChild<QAction*>(QStringLiteral("help:") + QLatin1String(doc));
        QVERIFY2(a, doc);
        opened_.clear();
        a->trigger();
        QCOMPARE(opened_.size(), 1);
        QVERIFY(opened_.front().isLocalFile());
        QCOMPARE(QFileInfo(opened_.front().toLocalFile()).fileName(), QString::fromLatin1(doc));
        // The shipped copy is the project's document.
        QCOMPARE(readAll(opened_.front().toLocalFile()), readAll(QStringLiteral(KVTIER_SOURCE_DIR "/docs/") + QLatin1String(doc)));
    }
    QVERIFY(errors_.isEmpty());
    QVERIFY(w.findChild<QAction*>(QStringLiteral("help:about")));
    QVERIFY(aboutText().contains(QStringLiteral("kvtier " KVTIER_VERSION)));
    // Not installed: a one-line error naming where it looked.
    qputenv("KVTIER_DOC_DIR", dir_.filePath(QStringLiteral("no-docs")).toUtf8());
    w.findChild<QAction*>(QStringLiteral("help:MODEL.md"))->trigger();
    qunsetenv("KVTIER_DOC_DIR");
    QCOMPARE(errors_.size(), 1);
    QVERIFY2(errors_.front().contains(QStringLiteral("MODEL.md is not installed")) && !errors_.front().contains('\n'),
             qPrintable(errors_.front()));
}

void TestGuiScreen::docReferencesResolveToSections()
{
    DocReference r = resolveDocReference(QStringLiteral("MODEL.md §4"));
    QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
    QCOMPARE(r.file, QStringLiteral("MODEL.md"));
    QCOMPARE(r.title, QStringLiteral("4. Tiers and time"));
    r = resolveDocReference(QStringLiteral("doc:MODEL.md#6"));
    QCOMPARE(r.title, QStringLiteral("6. Bounds"));
    r = resolveDocReference(QStringLiteral("POLICIES"));
    QVERIFY(r.error.isEmpty());
    QVERIFY(r.path.endsWith(QStringLiteral("POLICIES.md")));
    QVERIFY(!resolveDocReference(QStringLiteral("SECRETS.md")).error.isEmpty());
    QVERIFY(!resolveDocReference(QStringLiteral("../../etc/passwd")).error.isEmpty());
}

void TestGuiScreen::explainSectionLinksOpenTheModel()
{
    MainWindow& w = *w_;
    w.explainPanel()->setStep(3);
    QVERIFY(w.explainPanel()->html().contains(QStringLiteral("doc:MODEL.md#4")));
    auto* browser = w.explainPanel()->findChild<QTextBrowser*>();
    QVERIFY(browser);
    QVERIFY(!browser->openLinks());   // the window opens them, not the browser
    emit browser->anchorClicked(QUrl(QStringLiteral("doc:MODEL.md#4")));
    QCOMPARE(opened_.size(), 1);
    QCOMPARE(QFileInfo(opened_.front().toLocalFile()).fileName(), QStringLiteral("MODEL.md"));
    w.openDocReference(QStringLiteral("MODEL.md §6"));
    QCOMPARE(opened_.size(), 2);
    QVERIFY(errors_.isEmpty());
}

void TestGuiScreen::trivialResultSaysWhy()
{
    MainWindow& w = *w_;
    // Batch 32 does not fit: no note.
    QVERIFY(w.fitNote().isEmpty());
    QVERIFY(w.loadScenarioFile(fitsFile_));
    QVERIFY(waitCurrent(w));
    const auto& r = *w.lastOutput()->result;
    const FastTierFit fit = fastTierFit(r.scenario, r.capacity);
    QVERIFY(fit.fits);
    // HBM room 0.8 GB over 73.5 MB per sequence (560 tokens x 32 layers x 4096 B).
    QCOMPARE(fit.max_fitting_batch, static_cast<int64_t>(0.8e9 / (560.0 * 32 * 4096)));
    QVERIFY2(w.fitNote().contains(QStringLiteral("fits in HBM3")), qPrintable(w.fitNote()));
    QVERIFY2(w.fitNote().contains(QStringLiteral("Raise batch above %1").arg(fit.max_fitting_batch)), qPrintable(w.fitNote()));
    // Every policy then shows the same time: the note is the explanation.
    double first = -1;
    for (const PolicyOutcome& o : r.policies) {
        if (first < 0)
            first = o.timing->total_time;
        QCOMPARE(o.timing->total_time, first);
    }
}

void TestGuiScreen::physicalSizeAndPointText()
{
    MainWindow& w = *w_;
    QTemporaryDir out;
    ExportOptions o;
    o.size = FigureSize::inches(3.5, 2.8, 8);
    const int height = qRound(2.8 * 72);   // the layout is whole points: 202
    QString error;
    // The comparison (3 policies and a legend) fits 2.8 in at 8 pt: the page is exactly the
    // size asked for.
    const QString pdf = QDir(out.path()).filePath(QStringLiteral("c.pdf"));
    int raised = 0;
    QVERIFY2(exportView(w.comparisonView(), pdf, ExportFormat::Pdf, o, &error, &raised), qPrintable(error));
    QCOMPARE(raised, 0);
    const QSizeF page = pdfPageSize(pdf);
    QVERIFY2(std::abs(page.width() - 252) < 0.6 && std::abs(page.height() - height) < 0.6,
             qPrintable(QStringLiteral("%1 x %2").arg(page.width()).arg(page.height())));
    // PNG at 300 dpi: 3.5 in = 1050 pixels, and the file says 300 dpi.
    const QString png = QDir(out.path()).filePath(QStringLiteral("c.png"));
    QVERIFY2(exportView(w.placementView(), png, ExportFormat::Png, o, &error, &raised), qPrintable(error));
    const QImage image(png);
    QCOMPARE(image.width(), 1050);
    QCOMPARE(image.height(), qRound((raised > 0 ? raised : height) * 300 / 72.0));
    // Too little height for the rows at this font: the figure grows taller, never clips; the
    // width (the column) stays.
    ExportOptions tiny = o;
    tiny.size = FigureSize::inches(3.5, 0.8, 8);
    const QString tall = QDir(out.path()).filePath(QStringLiteral("tall.pdf"));
    raised = 0;
    QVERIFY2(exportView(w.bandwidthView(), tall, ExportFormat::Pdf, tiny, &error, &raised), qPrintable(error));
    QVERIFY(raised > qRound(0.8 * 72));
    QVERIFY(std::abs(pdfPageSize(tall).width() - 252) < 0.6);
    QVERIFY(std::abs(pdfPageSize(tall).height() - raised) < 0.6);
    QCOMPARE(qRound(image.dotsPerMeterX() * 0.0254), 300);
    // SVG: 3.5 inches wide, every text at 8 pt (the title at 9).
    const QString svg = QDir(out.path()).filePath(QStringLiteral("c.svg"));
    QVERIFY2(exportView(w.bandwidthView(), svg, ExportFormat::Svg, o, &error), qPrintable(error));
    const QString text = QString::fromUtf8(readAll(svg));
    static const QRegularExpression width(QStringLiteral("<svg[^>]*width=\"([0-9.]+)mm\""));
    const auto m = width.match(text);
    QVERIFY2(m.hasMatch(), qPrintable(text.left(400)));
    QVERIFY(std::abs(m.captured(1).toDouble() - 88.9) < 0.2);
    static const QRegularExpression sizes(QStringLiteral("font-size=\"([0-9.]+)\""));
    QSet<QString> seen;
    for (auto it = sizes.globalMatch(text); it.hasNext();)
        seen << it.next().captured(1);
    QVERIFY2(!seen.isEmpty(), "no text in the SVG");
    for (const QString& s : seen)
        QVERIFY2(s == QLatin1String("7") || s == QLatin1String("8") || s == QLatin1String("9"), qPrintable(s));
    // The view on screen has its fonts back.
    QVERIFY(w.bandwidthView()->plot()->xAxis->tickLabelFont().pixelSize() != 8 ||
            w.bandwidthView()->plot()->xAxis->tickLabelFont().pointSize() > 0);
    // The legend of a narrow figure wraps to the width instead of running off it.
    // Every legend item is laid out inside the figure (checked as the figure is laid out).
    QCustomPlot* plot = w.comparisonView()->plot();
    int checked = 0;
    QStringList outside;
    auto c = connect(plot, &QCustomPlot::afterLayout, this, [&] {
        if (plot->viewport().width() != 252)
            return;
        ++checked;
        QCPLegend* legend = plot->legend;
        for (int i = 0; i < legend->itemCount(); ++i)
            if (QCPAbstractLegendItem* item = legend->item(i); item && item->visible() &&
                                                            !plot->viewport().contains(item->outerRect()))
                outside << QStringLiteral("%1 at %2..%3").arg(i).arg(item->outerRect().left()).arg(item->outerRect().right());
    });
    const QString narrow = QDir(out.path()).filePath(QStringLiteral("narrow.png"));
    QVERIFY(exportView(w.comparisonView(), narrow, ExportFormat::Png, o, &error));
    disconnect(c);
    QVERIFY(checked > 0);
    QVERIFY2(outside.isEmpty(), qPrintable(outside.join(QStringLiteral("; "))));
}

void TestGuiScreen::figuresHaveNoScreenHintsAndNameTheScenario()
{
    MainWindow& w = *w_;
    QTemporaryDir out;
    const QString caption = w.figureCaption();
    QVERIFY2(caption.contains(QStringLiteral("trace small")) && caption.contains(QStringLiteral("HBM3 + LPDDR5X")) &&
                 caption.contains(QStringLiteral("batch 32")),
             qPrintable(caption));
    QString error;
    QVERIFY2(w.exportActions()->exportOne(w.relevanceView(), QDir(out.path()).filePath(QStringLiteral("r.svg")), ExportFormat::Svg,
                                          FigureSize::inches(3.5, 2.6, 8), false, &error),
             qPrintable(error));
    const QString svg = QString::fromUtf8(readAll(QDir(out.path()).filePath(QStringLiteral("r.svg"))));
    QVERIFY(!svg.contains(QStringLiteral("Click a token")));
    QVERIFY2(svg.contains(QStringLiteral("trace small")), "the caption is missing");
    // On screen the hint is still there.
    QVERIFY(w.relevanceView()->plot()->itemCount() > 0);
    // The sweep's progress ("9 of 9 points") stays on screen.
    QSignalSpy finished(w.sweepView(), &SweepView::finished);
    w.sweepView()->run();
    QVERIFY(finished.wait(120000));
    QVERIFY(w.sweepView()->plotTitle().contains(QStringLiteral(" points")));
    QVERIFY(!w.sweepView()->figureTitle().contains(QStringLiteral(" points")));
    QVERIFY(w.exportActions()->exportOne(w.sweepView(), QDir(out.path()).filePath(QStringLiteral("s.svg")), ExportFormat::Svg,
                                         FigureSize::inches(7.16, 3.2, 8), false, &error));
    const QString sweep = QString::fromUtf8(readAll(QDir(out.path()).filePath(QStringLiteral("s.svg"))));
    QVERIFY(!sweep.contains(QStringLiteral(" points)")));
    QVERIFY(sweep.contains(QStringLiteral("trace small")));
}

void TestGuiScreen::exportRefusesOverwriteAndMissingFolders()
{
    MainWindow& w = *w_;
    QTemporaryDir out;
    const QString path = QDir(out.path()).filePath(QStringLiteral("c.png"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("mine");
    f.close();
    QString error;
    ExportOptions o = ExportOptions::pixels(QSize(400, 300), false);
    QVERIFY(!exportView(w.comparisonView(), path, ExportFormat::Png, o, &error));
    QVERIFY2(error.contains(QStringLiteral("exists")), qPrintable(error));
    QCOMPARE(readAll(path), QByteArray("mine"));
    // A folder that does not exist is not made.
    const QString missing = QDir(out.path()).filePath(QStringLiteral("new/sub/c.png"));
    QVERIFY(!exportView(w.comparisonView(), missing, ExportFormat::Png, o, &error));
    QVERIFY2(error.contains(QStringLiteral("does not exist")), qPrintable(error));
    QVERIFY(!QFileInfo::exists(QDir(out.path()).filePath(QStringLiteral("new"))));
    // Interactive: asked, declined, kept; asked, accepted, replaced.
    QStringList asked;
    bool answer = false;
    w.exportActions()->setConfirm([&](const QStringList& files) {
        asked = files;
        return answer;
    });
    QVERIFY(!w.exportActions()->exportOne(w.comparisonView(), path, ExportFormat::Png, FigureSize::pixels(QSize(400, 300)), false, &error));
    QCOMPARE(asked, QStringList{path});
    QCOMPARE(readAll(path), QByteArray("mine"));
    answer = true;
    QVERIFY2(w.exportActions()->exportOne(w.comparisonView(), path, ExportFormat::Png, FigureSize::pixels(QSize(400, 300)), false, &error),
             qPrintable(error));
    QCOMPARE(readAll(path).left(4), QByteArray("\x89PNG", 4));
    QVERIFY(!w.exportActions()->exportOne(w.comparisonView(), missing, ExportFormat::Png, FigureSize::pixels(QSize(400, 300)), false, &error));
    QVERIFY(!QFileInfo::exists(QDir(out.path()).filePath(QStringLiteral("new"))));
    w.exportActions()->setConfirm({});
}

void TestGuiScreen::exportDialogKeepsFormatAndExtensionTogether()
{
    MainWindow& w = *w_;
    ExportDialog dlg(w.placementView(), dir_.path(), true);
    // PDF at one column by default: what papers take.
    QCOMPARE(dlg.format(), ExportFormat::Pdf);
    QVERIFY(dlg.path().endsWith(QStringLiteral("placement.pdf")));
    QVERIFY(dlg.figureSize().physical());
    QCOMPARE(dlg.figureSize().width, 3.5);
    QCOMPARE(dlg.figureSize().font_pt, 8.0);
    dlg.presetBox()->setCurrentIndex(1);
    QCOMPARE(dlg.figureSize().width, 7.16);
    // The extension follows the format ...
    dlg.formatBox()->setCurrentIndex(dlg.formatBox()->findData(static_cast<int>(ExportFormat::Png)));
    QVERIFY(dlg.path().endsWith(QStringLiteral("placement.png")));
    // ... and the format follows a typed extension.
    dlg.pathEdit()->setText(dir_.filePath(QStringLiteral("fig.svg")));
    emit dlg.pathEdit()->editingFinished();
    QCOMPARE(dlg.format(), ExportFormat::Svg);
    dlg.pathEdit()->setText(dir_.filePath(QStringLiteral("cells.CSV")));
    emit dlg.pathEdit()->editingFinished();
    QCOMPARE(dlg.format(), ExportFormat::Csv);
    QVERIFY(dlg.fullResolutionCsv());
    dlg.pathEdit()->setText(dir_.filePath(QStringLiteral("noext")));
    emit dlg.pathEdit()->editingFinished();
    QCOMPARE(dlg.path(), dir_.filePath(QStringLiteral("noext.csv")));
}

void TestGuiScreen::fullResolutionHeatmapCsv()
{
    MainWindow& w = *w_;
    QTemporaryDir out;
    const auto last = w.lastOutput();
    const AnalysisResult& r = *last->result;
    for (PlotView* v : {static_cast<PlotView*>(w.placementView()), static_cast<PlotView*>(w.relevanceView())}) {
        const QString path = QDir(out.path()).filePath(v->viewId() + QStringLiteral("-full.csv"));
        QSignalSpy written(w.exportActions(), &ExportActions::fullResolutionWritten);
        QString error;
        QVERIFY2(w.exportActions()->exportOne(v, path, ExportFormat::Csv, FigureSize(), true, &error), qPrintable(error));
        QVERIFY(written.wait(60000));
        QVERIFY2(written.front().at(1).toBool(), qPrintable(written.front().at(2).toString()));
        // Exactly the core's grid at one cell per step and row, as kvtier-cli view heatmap.
        std::ostringstream want;
        if (v == w.relevanceView()) {
            const RelevanceGrid g = relevanceGrid(*r.trace, *r.selection, fullResolutionWindow());
            QCOMPARE(g.grid.nx, r.trace->meta().steps);
            QCOMPARE(g.grid.ny, r.trace->meta().prefill + r.trace->meta().steps);
            writeRelevanceCsv(want, g, r.trace->meta().name);
        } else {
            const PlacementGrid g = placementGrid(*r.selection, *last->outcome(last->view.policy)->placement, fullResolutionWindow());
            QCOMPARE(g.grid.nx, r.trace->meta().steps);
            writePlacementCsv(want, g, last->view.policy);
        }
        const QByteArray got = readAll(path);
        const QByteArray expected = QByteArray::fromStdString(want.str());
        QCOMPARE(got.count('\n'), expected.count('\n'));
        QVERIFY(got == expected);
    }
}

void TestGuiScreen::headlessNoSweepAndOverwrite()
{
    const QString exe = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../app/kvtier"));
    QVERIFY2(QFileInfo::exists(exe), qPrintable(exe));
    QTemporaryDir tmp;
    const QString out = QDir(tmp.path()).filePath(QStringLiteral("figures"));
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir_.filePath(QStringLiteral("config")));
    proc.setProcessEnvironment(env);
    const QStringList args = {QStringLiteral("--export"), out,          QStringLiteral("--scenario"), scenarioFile_,
                              QStringLiteral("--no-sweep"), QStringLiteral("--size"), QStringLiteral("3.5x2.2in"),
                              QStringLiteral("--font-pt"), QStringLiteral("9")};
    proc.start(exe, args);
    QVERIFY(proc.waitForFinished(120000));
    const QByteArray err = proc.readAllStandardError();
    QVERIFY2(proc.exitCode() == 0, err.constData());
    QVERIFY2(err.contains("created folder"), err.constData());   // said, not silent
    for (const char* view : {"comparison", "placement", "bandwidth", "relevance"})
        QVERIFY(QFileInfo::exists(QDir(out).filePath(QLatin1String(view) + QStringLiteral(".pdf"))));
    QVERIFY(QDir(out).entryList({QStringLiteral("sweep.*")}).isEmpty());
    const QSizeF page = pdfPageSize(QDir(out).filePath(QStringLiteral("comparison.pdf")));
    QVERIFY(std::abs(page.width() - 252) < 0.6);
    // Again: the files exist; one line, nothing replaced, until --overwrite.
    const QDateTime before = QFileInfo(QDir(out).filePath(QStringLiteral("comparison.png"))).lastModified();
    proc.start(exe, args);
    QVERIFY(proc.waitForFinished(120000));
    const QByteArray again = proc.readAllStandardError();
    QCOMPARE(proc.exitCode(), 1);
    QVERIFY2(again.contains("exists") && again.contains("--overwrite") && again.count('\n') == 1, again.constData());
    QCOMPARE(QFileInfo(QDir(out).filePath(QStringLiteral("comparison.png"))).lastModified(), before);
    proc.start(exe, args + QStringList{QStringLiteral("--overwrite")});
    QVERIFY(proc.waitForFinished(120000));
    QVERIFY2(proc.exitCode() == 0, proc.readAllStandardError().constData());
    // A folder whose parent is missing is not made.
    proc.start(exe, {QStringLiteral("--export"), QDir(tmp.path()).filePath(QStringLiteral("a/b")), QStringLiteral("--scenario"),
                     scenarioFile_, QStringLiteral("--no-sweep")});
    QVERIFY(proc.waitForFinished(120000));
    QCOMPARE(proc.exitCode(), 1);
    QVERIFY(proc.readAllStandardError().contains("does not exist"));
    QVERIFY(!QFileInfo::exists(QDir(tmp.path()).filePath(QStringLiteral("a"))));
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiScreen>(argc, argv, "tst_gui_screen"); }

#include "tst_gui_screen.moc"
