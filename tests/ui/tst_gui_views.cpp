// The views consistent and honest (issue 10): infeasible banner, per-layer selector, one
// colour per tier in light and dark, hover values, a pinned baseline, the relevance view's
// token follow / reset zoom / categorical selection legend, the bandwidth view's decimation.
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/bandwidth_view.hpp"
#include "ui/baseline.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/explain_panel.hpp"
#include "ui/infeasible_banner.hpp"
#include "ui/layer_link.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/placement_view.hpp"
#include "ui/relevance_view.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/start_options.hpp"
#include "ui/sweep_view.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"
#include "ui/value_slider.hpp"

#include "gui_test_main.hpp"
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QSplitter>
#include <QStyle>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

namespace {

double colourDistance(const QColor& a, const QColor& b)
{
    const double dr = a.redF() - b.redF(), dg = a.greenF() - b.greenF(), db = a.blueF() - b.blueF();
    return std::sqrt(dr * dr + dg * dg + db * db);
}

// WCAG 2 contrast ratio of two colours (1 to 21).
double contrastRatio(const QColor& a, const QColor& b)
{
    auto luminance = [](const QColor& c) {
        auto lin = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
    };
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

} // namespace

class TestGuiViews : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanup();
    void infeasibleBannerKeepsOneResultAndSaysWhy();
    void threeTiersHaveTheirOwnColours();
    void tierColoursLegibleInBothThemes();
    void layerSelectorForHeatmapsAndExplain();
    void hoverGivesExactValues();
    void baselineOverlayAndDeltas();
    void relevanceFollowResetAndCategorical();
    void bandwidthDecimatesAndExplainsStyles();
    void bandwidthAxisLabelsFitTheirPanels();
    void secondaryTextReadableInBothThemes();
    void longTitlesWrapToThePlot();
    void emptyViewsSayWhy();
    void startOptionsShowPolicyAndToken();

private:
    std::unique_ptr<MainWindow> open(const nlohmann::json& overrides, const char* trace);
    QTemporaryDir dir_;
    QString db_;
    nlohmann::json base_;
    QStringList errors_;
};

void TestGuiViews::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("views.sqlite"));
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    auto add = [&](const char* name, int64_t steps, bool perLayer, int32_t layers) {
        GeneratorParams p = generatorPreset("drift");
        p.seed = 11;
        p.prefill = 512;
        p.steps = steps;
        p.layers = layers;
        p.per_layer = perLayer;
        p.keep_top = 96;
        p.burst_min_age = 64;
        TraceMeta meta = generatorMeta(p);
        meta.name = name;
        auto writer = store->beginTrace(meta, Encoding::SparseF32);
        generate(p, [&](const Record& r) { writer->add(r); });
        writer->commit();
    };
    add("small", 48, false, 32);
    add("layers", 40, true, 4);
    add("long", 6000, false, 32);
    // A selection trace: which tokens each step read (0/1 data).
    TraceMeta sel;
    sel.name = "picks";
    sel.prefill = 64;
    sel.steps = 30;
    sel.layers = 32;
    sel.kind = RecordKind::Selection;
    auto writer = store->beginTrace(sel, Encoding::IndexU32);
    for (int64_t t = 0; t < sel.steps; ++t) {
        Record r;
        r.step = t;
        for (uint32_t i = 0; i < static_cast<uint32_t>(sel.prefill + t); i += 3)
            r.index.push_back(i);
        r.value.assign(r.index.size(), 1.0f);
        writer->add(r);
    }
    writer->commit();
    base_ = {
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
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
}

void TestGuiViews::cleanup()
{
    QSettings().clear();
    QApplication::setPalette(QApplication::style()->standardPalette());
}

std::unique_ptr<MainWindow> TestGuiViews::open(const nlohmann::json& overrides, const char* trace)
{
    nlohmann::json sc = base_;
    if (overrides.is_object())
        sc.merge_patch(overrides);
    sc["trace"]["name"] = trace;
    const QString file = dir_.filePath(QStringLiteral("%1.kvtier.json").arg(QLatin1String(trace)));
    std::ofstream(file.toStdString()) << sc.dump(2);
    errors_.clear();
    auto w = std::make_unique<MainWindow>();
    w->resize(1400, 900);
    w->show();
    if (!w->loadScenarioFile(file) || !waitCurrent(*w)) {
        auto* banner = w->findChild<InfeasibleBanner*>(QStringLiteral("infeasibleBanner"));
        qWarning("%s %s", qPrintable(errors_.join(QLatin1Char('\n'))), banner ? qPrintable(banner->text()) : "");
        return nullptr;
    }
    // The first image was pooled before the views knew the trace's steps; the views ask
    // again for their window right after: wait for that answer.
    QTest::qWait(300);
    if (!waitCurrent(*w))
        return nullptr;
    return w;
}

void TestGuiViews::infeasibleBannerKeepsOneResultAndSaysWhy()
{
    auto win = open({}, "small");
    QVERIFY(win);
    MainWindow& w = *win;
    const AnalysisOutputPtr feasible = w.lastOutput();
    QWidget* rows = w.placementView()->parentWidget();
    while (rows && !qobject_cast<QSplitter*>(rows))
        rows = rows->parentWidget();
    QVERIFY(rows);
    const QRect before = w.placementView()->geometry();
    const QPoint origin = w.placementView()->mapTo(&w, QPoint(0, 0));
    QSignalSpy failed(&w, &MainWindow::analysisFailed);
    // 500 MB of HBM cannot hold 1 GB of weights.
    w.scenarioPanel()->capacitySlider(0)->setValue(0.5e9);
    QVERIFY(failed.wait(30000));
    QCoreApplication::processEvents();
    auto* banner = w.findChild<InfeasibleBanner*>(QStringLiteral("infeasibleBanner"));
    QVERIFY(banner && banner->isVisible());
    const QString text = banner->text();
    // Readable units, what would fix it, and which value the views still show.
    QVERIFY2(text.contains(QStringLiteral("1 GB of weights must live in HBM3")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("but it has 500 MB less 0 B reserved")), qPrintable(text));
    QVERIFY2(!text.contains(QStringLiteral("0.5 GB")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("<b>To fix:</b> raise HBM3 capacity to at least 1 GB or lower weights_in_fast_tier")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("hardware.tiers.0.capacity_bytes = 1.8 GB (you set 500 MB)")), qPrintable(text));
    // Every view shows the same, last feasible result.
    QCOMPARE(w.lastOutput(), feasible);
    QCOMPARE(w.placementView()->shownOutput(), feasible);
    QCOMPARE(w.bandwidthView()->shownOutput(), feasible);
    QCOMPARE(w.relevanceView()->shownOutput(), feasible);
    QCOMPARE(w.explainPanel()->shownOutput(), feasible);
    // The banner floats over the views: nothing moved.
    QCOMPARE(w.placementView()->geometry(), before);
    QCOMPARE(w.placementView()->mapTo(&w, QPoint(0, 0)), origin);
    QVERIFY(errors_.isEmpty());
    // A feasible value again: the banner goes.
    w.scenarioPanel()->capacitySlider(0)->setValue(1.8e9);
    QVERIFY(waitCurrent(w));
    QVERIFY(!banner->isVisible());
}

void TestGuiViews::threeTiersHaveTheirOwnColours()
{
    // A small DDR5 beside a large CXL: KV lives in three tiers.
    auto win = open({{"hardware", {{"preset", nullptr},
                                   {"tiers", {{{"name", "HBM3"}, {"capacity_bytes", 1.8e9}, {"bandwidth", 4e12}, {"reserve_bytes", 0}},
                                              {{"name", "DDR5"}, {"capacity_bytes", 0.5e9}, {"bandwidth", 3e11}, {"link_read", 2.5e11},
                                               {"link_write", 2.5e11}, {"reserve_bytes", 0}},
                                              {{"name", "CXL"}, {"capacity_bytes", 400e9}, {"bandwidth", 1e11}, {"link_read", 6.4e10},
                                               {"link_write", 6.4e10}, {"reserve_bytes", 0}}}}}}},
                    "small");
    QVERIFY(win);
    MainWindow& w = *win;
    QCOMPARE(w.scenario().hardware.tiers.size(), size_t(3));
    const QStringList legend = w.placementView()->legendLabels();
    for (const char* want : {"read from CXL", "read from DDR5", "read from HBM3", "in CXL, not read", "in DDR5, not read", "in HBM3, not read", "not yet created"})
        QVERIFY2(legend.contains(QLatin1String(want)), qPrintable(legend.join(QStringLiteral(" | "))));
    // The image holds cells of DDR5 and of CXL, as classes of their own.
    QCPColorMapData* d = w.placementView()->colorMap()->data();
    std::set<int> tiers;
    for (int j = 0; j < d->valueSize(); ++j)
        for (int i = 0; i < d->keySize(); ++i) {
            tiers.insert(placementClassTier(static_cast<int>(d->cell(i, j))));
        }

    QVERIFY2(tiers.count(1) && tiers.count(2), qPrintable(QStringLiteral("%1 tiers seen, policy %2").arg(tiers.size()).arg(QString::fromStdString(w.lastOutput()->view.policy))));
    // Each tier's read colour is the tier colour every other view uses.
    for (int m = 0; m < 3; ++m)
        QCOMPARE(placementClassColor(placementClass(m == 0 ? kFastRead : kLowerRead, m), false), tierColor(m));
    // Hovering a CXL cell names CXL.
    bool named = false;
    for (int j = 0; j < d->valueSize() && !named; ++j)
        for (int i = 0; i < d->keySize() && !named; ++i)
            if (placementClassTier(static_cast<int>(d->cell(i, j))) == 2) {
                double x = 0, y = 0;
                d->cellToCoord(i, j, &x, &y);
                named = w.placementView()->cellText(x, y).contains(QStringLiteral("CXL"));
            }
    QVERIFY(named);
}

void TestGuiViews::tierColoursLegibleInBothThemes()
{
    for (bool dark : {false, true}) {
        const QColor bg = dark ? Theme::darkTheme().axisRectBackground : Theme::light().axisRectBackground;
        const QColor legendBg = dark ? QColor(45, 46, 50) : QColor(255, 255, 255);
        const int n = placementClassCount(4);
        for (int a = 0; a < n; ++a) {
            // Every class stands apart from every other (HBM idle and HBM read included).
            for (int b = a + 1; b < n; ++b)
                QVERIFY2(colourDistance(placementClassColor(a, dark), placementClassColor(b, dark)) > 0.12,
                         qPrintable(QStringLiteral("%1 vs %2 dark=%3").arg(a).arg(b).arg(dark)));
            // Read classes stand out from the plot and the legend background.
            if (placementClassIsRead(a)) {
                QVERIFY(colourDistance(placementClassColor(a, dark), bg) > 0.3);
                QVERIFY(colourDistance(placementClassColor(a, dark), legendBg) > 0.3);
            }
        }
    }
    // In the window: a dark palette redraws the legend with the dark classes, and every
    // swatch has an outline in the text colour (so pale swatches never vanish).
    auto win = open({}, "small");
    QVERIFY(win);
    QPalette dark = QApplication::palette();
    dark.setColor(QPalette::Window, QColor(32, 33, 36));
    dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
    QApplication::setPalette(dark);
    QCoreApplication::processEvents();
    QVERIFY(Theme::current().dark);
    QCustomPlot* p = win->placementView()->plot();
    int swatches = 0;
    for (int i = 0; i < p->graphCount(); ++i) {
        const QVariant cls = p->graph(i)->property("placementClass");
        if (!cls.isValid())
            continue;
        ++swatches;
        QCOMPARE(p->graph(i)->scatterStyle().brush().color(), placementClassColor(cls.toInt(), true));
        QCOMPARE(p->graph(i)->scatterStyle().pen().color(), Theme::current().foreground);
    }
    QCOMPARE(swatches, placementClassCount(2));
}

void TestGuiViews::layerSelectorForHeatmapsAndExplain()
{
    auto win = open({{"model", {{"layers", 4}}}}, "layers");
    QVERIFY(win);
    MainWindow& w = *win;
    QCOMPARE(w.layerLink()->slotCount(), 4);
    const QList<QComboBox*> selectors = w.findChildren<QComboBox*>(QStringLiteral("layerSelector"));
    QCOMPARE(selectors.size(), 3);   // relevance, placement, explain
    for (QComboBox* c : selectors) {
        QVERIFY(c->isEnabled());
        QCOMPARE(c->count(), 5);
    }
    QVERIFY(w.placementView()->plotTitle().contains(QStringLiteral("all 4 layers")));
    QVERIFY(w.relevanceView()->plotTitle().contains(QStringLiteral("max over 4 layers")));
    QVERIFY(w.explainPanel()->html().contains(QStringLiteral("mean layer")));
    // Choosing layer 2 in one selector moves the others and redraws both heatmaps for it.
    selectors.front()->setCurrentIndex(selectors.front()->findData(2));
    for (QComboBox* c : selectors)
        QCOMPARE(c->currentData().toInt(), 2);
    QVERIFY(QTest::qWaitFor([&] { return w.lastOutput() && w.lastOutput()->view.placement.layer == 2 && !w.busy(); }, 30000));
    QCoreApplication::processEvents();
    QCOMPARE(w.lastOutput()->view.relevance.layer, 2);
    QVERIFY2(w.placementView()->plotTitle().contains(QStringLiteral("layer 2 of 4")), qPrintable(w.placementView()->plotTitle()));
    QVERIFY(w.relevanceView()->plotTitle().contains(QStringLiteral("layer 2 of 4")));
    QVERIFY(w.explainPanel()->html().contains(QStringLiteral("layer 2")));
    // An aggregated trace has nothing to choose.
    auto agg = open({}, "small");
    QVERIFY(agg);
    QCOMPARE(agg->layerLink()->slotCount(), 1);
    for (QComboBox* c : agg->findChildren<QComboBox*>(QStringLiteral("layerSelector")))
        QVERIFY(!c->isEnabled());
}

void TestGuiViews::hoverGivesExactValues()
{
    auto win = open({}, "small");
    QVERIFY(win);
    MainWindow& w = *win;
    // The bandwidth view names the step's exact step time.
    const PolicyOutcome* o = w.lastOutput()->outcome(w.lastOutput()->view.policy);
    QVERIFY(o && o->timing);
    const QString values = w.bandwidthView()->valuesAt(5);
    QVERIFY2(values.contains(QStringLiteral("step 5")), qPrintable(values));
    QVERIFY2(values.contains(formatSeconds(o->timing->step_time[5])), qPrintable(values));
    QVERIFY(values.contains(QStringLiteral("HBM3: use")));
    QVERIFY(w.bandwidthView()->valuesAt(48).isEmpty());
    // A placement cell: its step, page and state.
    const QString cell = w.placementView()->cellText(10, 100);
    QVERIFY2(cell.contains(QStringLiteral("step")) && cell.contains(QStringLiteral("page")), qPrintable(cell));
    QVERIFY(cell.contains(QStringLiteral("HBM3")) || cell.contains(QStringLiteral("LPDDR5X")) || cell.contains(QStringLiteral("not yet created")));
    // A relevance cell: its step, token, relevance and whether it was read.
    const QString rel = w.relevanceView()->cellText(10, 3);
    QVERIFY2(rel.contains(QStringLiteral("token")) && rel.contains(QStringLiteral("relevance")), qPrintable(rel));
    QVERIFY(rel.contains(QStringLiteral("read")));
}

void TestGuiViews::baselineOverlayAndDeltas()
{
    auto win = open({}, "small");
    QVERIFY(win);
    MainWindow& w = *win;
    QVERIFY(!w.bandwidthView()->baselineGraph()->visible());
    w.baseline()->pinAction()->trigger();
    QVERIFY(w.baseline()->pinned());
    QVERIFY(w.bandwidthView()->baselineGraph()->visible());
    QVERIFY(w.explainPanel()->html().contains(QStringLiteral("Same scenario as the baseline")));
    // Halve the LPDDR5X bandwidth: the baseline stays, its curve is the old step time.
    const AnalysisOutputPtr pinned = w.lastOutput();
    w.scenarioPanel()->bandwidthSlider(1)->setValue(2.5e11);
    QVERIFY(waitCurrent(w));
    QVERIFY(w.lastOutput() != pinned);
    const PolicyOutcome* then = pinned->outcome(pinned->view.policy);
    QCPGraph* g = w.bandwidthView()->baselineGraph();
    QVERIFY(g->visible());
    QCOMPARE(g->data()->size(), 48);
    QCOMPARE(g->data()->at(7)->value, then->timing->step_time[7] * 1e3);
    QVERIFY(w.bandwidthView()->legendLabels().join(QStringLiteral("|")).contains(QStringLiteral("baseline")));
    const QString html = w.explainPanel()->html();
    QVERIFY2(html.contains(QStringLiteral("Against the pinned baseline")), qPrintable(html));
    QVERIFY(html.contains(QStringLiteral("hardware.tiers.1.bandwidth")));
    const PolicyOutcome* now = w.lastOutput()->outcome(w.lastOutput()->view.policy);
    QVERIFY(now->timing->total_time > then->timing->total_time);   // slower DRAM
    QVERIFY(html.contains(formatSeconds(now->timing->total_time - then->timing->total_time)));
    w.baseline()->clearAction()->trigger();
    QVERIFY(!w.bandwidthView()->baselineGraph()->visible());
    QVERIFY(!w.explainPanel()->html().contains(QStringLiteral("Against the pinned baseline")));
}

void TestGuiViews::relevanceFollowResetAndCategorical()
{
    auto win = open({}, "small");
    QVERIFY(win);
    MainWindow& w = *win;
    RelevanceView* rv = w.relevanceView();
    QVERIFY(!rv->categorical());
    QVERIFY(rv->statisticsHelp().contains(QStringLiteral("turnover")) && rv->statisticsHelp().contains(QStringLiteral("stay")));
    QSignalSpy shown(rv, &RelevanceView::tokenDetailShown);
    rv->tokenEdit()->setText(QStringLiteral("300"));
    QTest::keyClick(rv->tokenEdit(), Qt::Key_Return);
    QVERIFY(shown.wait(30000));
    QCOMPARE(shown.last().at(0).toUInt(), 300u);
    QCOMPARE(rv->followedToken(), qint64(300));
    QVERIFY(!rv->followToken(100000));   // beyond the context: refused
    QCOMPARE(rv->followedToken(), qint64(300));
    // Zoom both axes, then reset both.
    QCPAxis* y = rv->plot()->axisRect()->axis(QCPAxis::atLeft);
    y->setRange(100, 140);
    w.stepLink()->setRange(5, 15);
    rv->resetZoom();
    QCOMPARE(y->range().lower, -0.5);
    QCOMPARE(y->range().upper, 512.0 + 48 - 0.5);
    QCOMPARE(w.stepLink()->lower(), -0.5);
    QCOMPARE(w.stepLink()->upper(), 47.5);
    // A selection trace: read / not read, not a log scale of 0/1.
    auto sel = open({{"selection", {{"mode", "dense"}}}}, "picks");
    QVERIFY(sel);
    RelevanceView* sv = sel->relevanceView();
    QVERIFY(sv->categorical());
    QCOMPARE(sv->colorMap()->dataScaleType(), QCPAxis::stLinear);
    QCOMPARE(sv->colorMap()->dataRange(), QCPRange(0, 1));
    QVERIFY(sv->cellText(3, 9).contains(QStringLiteral("read")));
}

void TestGuiViews::bandwidthDecimatesAndExplainsStyles()
{
    auto win = open({}, "long");
    QVERIFY(win);
    MainWindow& w = *win;
    BandwidthView* bv = w.bandwidthView();
    const int width = bv->plot()->axisRect()->width();
    QVERIFY(width > 50);
    // 6000 steps drawn as at most 4 points per pixel column, every extreme kept.
    QVERIFY2(bv->drawnPoints() <= 4 * std::max(50, width) && bv->drawnPoints() < 6000, qPrintable(QString::number(bv->drawnPoints())));
    const PolicyOutcome* o = w.lastOutput()->outcome(w.lastOutput()->view.policy);
    const double peak = *std::max_element(o->timing->step_time.begin(), o->timing->step_time.end()) * 1e3;
    double drawnPeak = 0;
    for (auto it = bv->stepTimeGraph()->data()->constBegin(); it != bv->stepTimeGraph()->data()->constEnd(); ++it)
        drawnPeak = std::max(drawnPeak, it->value);
    QCOMPARE(drawnPeak, peak);
    // Zoomed in: every step again.
    w.stepLink()->setRange(99.5, 199.5);
    QCOMPARE(bv->drawnPoints(), 104);   // steps 98..201: the visible ones and two of margin each side
    w.stepLink()->setRange(-0.5, 5999.5);
    // The legend says what solid and dashed mean; migrations have their own axis.
    const QStringList legend = bv->legendLabels();
    QVERIFY(legend.contains(QStringLiteral("tiers: solid = bandwidth use")));
    QVERIFY(legend.contains(QStringLiteral("dashed = busy time")));
    QVERIFY(legend.contains(QStringLiteral("migration (right axis)")));
    QCOMPARE(bv->migrationGraph()->valueAxis()->axisType(), QCPAxis::atRight);
    // Another policy: the step-time axis fits that policy's curve.
    const int other = w.policyCombo()->findData(QStringLiteral("belady"));
    w.policyCombo()->setCurrentIndex(other);
    QVERIFY(QTest::qWaitFor([&] { return w.lastOutput()->view.policy == "belady" && !w.busy(); }, 60000));
    QCoreApplication::processEvents();
    const PolicyOutcome* b = w.lastOutput()->outcome("belady");
    const double bpeak = *std::max_element(b->timing->step_time.begin(), b->timing->step_time.end()) * 1e3;
    QCOMPARE(bv->plot()->axisRect()->axis(QCPAxis::atLeft)->range().upper, bpeak * 1.15);
}

void TestGuiViews::bandwidthAxisLabelsFitTheirPanels()
{
    auto win = open({}, "small");
    QVERIFY(win);
    QCustomPlot* p = win->bandwidthView()->plot();
    QCOMPARE(p->axisRects().size(), 3);
    QCPAxis* time = p->axisRects()[0]->axis(QCPAxis::atLeft);
    QCPAxis* traffic = p->axisRects()[2]->axis(QCPAxis::atLeft);
    QCPAxis* migration = p->axisRects()[2]->axis(QCPAxis::atRight);
    // Tall panels: the full labels (the traffic axis names the layers it sums).
    p->setFixedSize(900, 1100);
    p->replot();
    QCOMPARE(time->label(), QStringLiteral("step time (ms)"));
    QCOMPARE(traffic->label(), QStringLiteral("GB/step, %1 layers").arg(win->lastOutput()->scenario.model.layers));
    QCOMPARE(migration->label(), QStringLiteral("migration MB/step"));
    const int tallTicks = time->ticker()->tickCount();
    // Short panels: a label longer than its panel is tall would run into the next panel's,
    // so a shorter one is shown (the shortest, a unit, when nothing longer fits); fewer ticks
    // keep their labels apart.
    p->setFixedSize(900, 330);
    p->replot();
    for (QCPAxis* a : {time, traffic, migration}) {
        const int height = a->axisRect()->height();
        QVERIFY2(QFontMetrics(a->labelFont()).horizontalAdvance(a->label()) <= height,
                 qPrintable(QStringLiteral("'%1' in %2 px").arg(a->label()).arg(height)));
    }
    QVERIFY(time->label() != QStringLiteral("step time (ms)") && time->label().contains(QStringLiteral("ms")));
    QVERIFY(traffic->label().startsWith(QStringLiteral("GB")));
    QVERIFY2(time->ticker()->tickCount() < tallTicks, qPrintable(QStringLiteral("%1 vs %2").arg(time->ticker()->tickCount()).arg(tallTicks)));
    QVERIFY(time->ticker()->tickCount() >= 2);
}

void TestGuiViews::secondaryTextReadableInBothThemes()
{
    // Light (Fusion), GTK's Adwaita dark, and a near-black window: secondary text keeps at
    // least WCAG AA contrast (4.5:1) and stays lighter than the text (it reads as secondary).
    const std::pair<QColor, QColor> palettes[] = {{QColor(239, 239, 239), QColor(0, 0, 0)},
                                                  {QColor(53, 53, 53), QColor(238, 238, 236)},
                                                  {QColor(32, 33, 36), QColor(230, 230, 230)}};
    for (const auto& [window, text] : palettes) {
        QPalette pal;
        pal.setColor(QPalette::Window, window);
        pal.setColor(QPalette::WindowText, text);
        const QColor c = secondaryTextColor(pal);
        QVERIFY2(contrastRatio(c, window) >= 4.5, qPrintable(QStringLiteral("%1 on %2: %3").arg(c.name(), window.name()).arg(contrastRatio(c, window))));
        QVERIFY(contrastRatio(c, window) < contrastRatio(text, window));
    }
    // The window's hints use it: the model hint under the model choice (a preset or Custom).
    auto win = open({}, "small");
    QVERIFY(win);
    bool found = false;
    for (QLabel* l : win->findChildren<QLabel*>())
        if (l->text() == QStringLiteral("Editing a value below makes the model Custom") ||
            l->text() == QStringLiteral("Custom: edit L, κ and W below")) {
            found = true;
            QCOMPARE(l->palette().color(QPalette::WindowText), secondaryTextColor(QApplication::palette(l)));
        }
    QVERIFY(found);
}

void TestGuiViews::longTitlesWrapToThePlot()
{
    auto win = open({{"model", {{"layers", 4}}}}, "layers");
    QVERIFY(win);
    PlacementView* pv = win->placementView();
    QCustomPlot* p = pv->plot();
    const QString title = pv->plotTitle();
    QVERIFY2(title.contains(QStringLiteral("all 4 layers")), qPrintable(title));
    // Narrow: every shown line fits the plot, no word is lost, the set title is unchanged.
    p->setFixedSize(300, 400);
    p->replot();
    const QString shown = pv->titleElement()->text();
    const QFontMetrics fm(pv->titleElement()->font());
    QVERIFY2(shown.count(QLatin1Char('\n')) > title.count(QLatin1Char('\n')), qPrintable(shown));
    for (const QString& line : shown.split(QLatin1Char('\n')))
        QVERIFY2(fm.horizontalAdvance(line) <= 300 || !line.contains(QLatin1Char(' ')), qPrintable(line));
    QCOMPARE(shown.simplified(), title.simplified());
    QCOMPARE(pv->plotTitle(), title);
    // Wide again: the lines as set.
    p->setFixedSize(3000, 400);
    p->replot();
    QCOMPARE(pv->titleElement()->text(), title);
}

void TestGuiViews::emptyViewsSayWhy()
{
    // A first launch on a scenario that cannot run: no result to keep, so every view says
    // why it is empty (no bare axes, no "Graph 1" legend entries); a feasible value fills them.
    nlohmann::json sc = base_;
    sc["hardware"]["tiers"][0]["capacity_bytes"] = 0.5e9;   // less than the 1 GB of weights
    sc["trace"]["name"] = "small";
    const QString file = dir_.filePath(QStringLiteral("infeasible.kvtier.json"));
    std::ofstream(file.toStdString()) << sc.dump(2);
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    for (PlotView* v : w.resultViews())
        QCOMPARE(v->placeholder(), QStringLiteral("No result yet"));
    QSignalSpy failed(&w, &MainWindow::analysisFailed);
    QVERIFY(w.loadScenarioFile(file));
    QVERIFY(failed.count() > 0 || failed.wait(30000));
    QCoreApplication::processEvents();
    QVERIFY(!w.lastOutput());
    for (PlotView* v : w.resultViews())
        QVERIFY2(v->placeholder().contains(QStringLiteral("cannot run as set")), qPrintable(v->placeholder()));
    for (int i = 0; i < w.comparisonView()->plot()->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(w.comparisonView()->plot()->legend->item(i)))
            QVERIFY2(!item->plottable()->name().startsWith(QStringLiteral("Graph")), qPrintable(item->plottable()->name()));
    w.scenarioPanel()->capacitySlider(0)->setValue(1.8e9);
    QVERIFY(waitCurrent(w));
    for (PlotView* v : w.resultViews())
        QVERIFY2(v->placeholder().isEmpty(), qPrintable(v->viewId()));
}

void TestGuiViews::startOptionsShowPolicyAndToken()
{
    // `kvtier --policy lru --token 10`: applied once the first complete result is in.
    nlohmann::json sc = base_;
    const QString file = dir_.filePath(QStringLiteral("start.kvtier.json"));
    std::ofstream(file.toStdString()) << sc.dump(2);
    {
        errors_.clear();
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        applyOnFirstResult(w, {QStringLiteral("lru"), 10, QStringLiteral("sweep")});
        // The view in front at once: the sweep's tab (beside the comparison in the grid).
        auto* group = qobject_cast<QTabWidget*>(w.sweepView()->parentWidget()->parentWidget());
        QVERIFY(group);
        QCOMPARE(group->currentWidget(), static_cast<QWidget*>(w.sweepView()));
        QVERIFY(w.loadScenarioFile(file));
        QVERIFY(QTest::qWaitFor([&] { return w.relevanceView()->followedToken() == 10; }, 60000));
        QCOMPARE(w.policyCombo()->currentData().toString(), QStringLiteral("lru"));
        QVERIFY(waitCurrent(w));
        QCOMPARE(w.lastOutput()->view.policy, std::string("lru"));
        QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join(QLatin1Char('\n'))));
    }
    {
        // A policy the scenario does not run, a token past the trace: one line each, nothing changed.
        errors_.clear();
        MainWindow w;
        w.resize(1400, 900);
        w.show();
        applyOnFirstResult(w, {QStringLiteral("arc"), 1000000, QStringLiteral("heatmap")});
        QCOMPARE(errors_.value(0), QStringLiteral("--view heatmap: the views are comparison, placement, experts, bandwidth, relevance and sweep"));
        errors_.clear();
        QVERIFY(w.loadScenarioFile(file));
        QVERIFY(QTest::qWaitFor([&] { return errors_.size() >= 2; }, 60000));
        QCOMPARE(errors_[0], QStringLiteral("--policy arc: the scenario does not run this policy (it runs: first-fit, lru, belady)"));
        QVERIFY2(errors_[1].startsWith(QStringLiteral("--token 1000000: trace 'small' has tokens 0 to ")), qPrintable(errors_[1]));
        QCOMPARE(w.relevanceView()->followedToken(), qint64(-1));
    }
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiViews>(argc, argv, "tst_gui_views"); }
#include "tst_gui_views.moc"
