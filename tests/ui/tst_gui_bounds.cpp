// GUI tests of the heavy bounds and the comparison/sweep views (offscreen, Qt warnings
// fatal): the certified bound runs as a second, cancellable phase after the first answer
// and draws the core's band (boundBand) and gaps (comparisonRows); a slider move during
// that phase cancels it and nothing stale shows; the schedule is shown like a policy in
// the placement and bandwidth views; the bars follow the table's sort; the sweep's bound
// curves are the core's sweep points. A small generated trace keeps every run short.
#include "core/config/scenario_json.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/view_compare.hpp"
#include "core/engine/view_explain.hpp"
#include "core/engine/view_steps.hpp"
#include "core/engine/view_sweep.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/bandwidth_view.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/placement_view.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/sweep_view.hpp"
#include "ui/value_slider.hpp"

#include "gui_test_main.hpp"
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <set>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

namespace {

bool close(double a, double b, double rel = 1e-12) { return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)); }

} // namespace

class TestGuiBounds : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void boundShowsTheCoresBandAndGaps();
    void sliderDuringHeavyPhaseCancelsIt();
    void scheduleIsShownLikeAPolicy();
    void barsFollowTheTableSort();
    void axisFromBoundAndShownPolicy();
    void inclusiveSaysWhyThereIsNoBound();
    void sweepBoundCurvesAreTheCoresPoints();
    void sweepCurvesAreDistinguishableAndHoverable();

private:
    // Turns the certified bound on (small budget) and waits for its answer.
    AnalysisOutputPtr enableBound(MainWindow& w, bool annealed = false);
    QTemporaryDir dir_;
    QString db_, scenarioFile_;
    std::unique_ptr<MainWindow> w_;
    QStringList errors_;
};

void TestGuiBounds::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("gui-bounds.sqlite"));
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    GeneratorParams p = generatorPreset("drift");
    p.seed = 7;
    p.prefill = 256;
    p.steps = 32;
    p.layers = 32;
    p.keep_top = 64;
    p.burst_min_age = 64;
    TraceMeta meta = generatorMeta(p);
    meta.name = "small";
    auto writer = store->beginTrace(meta, Encoding::SparseF32);
    generate(p, [&](const Record& r) { writer->add(r); });
    writer->commit();
    // KV traffic sets the step time and HBM holds about a third of the KV: placement matters.
    nlohmann::json sc = {
        {"trace", {{"db", db_.toStdString()}, {"name", "small"}}},
        {"model", {{"layers", 32}, {"kv_bytes_per_token_layer", 4096}, {"weight_bytes", 1e9}}},
        {"hardware", {{"preset", "gh200-hbm3"},
                      {"tiers", {{{"name", "HBM3"}, {"capacity_bytes", 1.4e9}, {"bandwidth", 4e12}, {"reserve_bytes", 0}},
                                 {{"name", "LPDDR5X"}, {"capacity_bytes", 480e9}, {"bandwidth", 5e11}, {"link_read", 4.5e11},
                                  {"link_write", 4.5e11}, {"reserve_bytes", 0}}}}}},
        {"selection", {{"mode", "ratio"}, {"value", 0.2}, {"sinks", 4}, {"window", 16}, {"page_tokens", 4}}},
        {"placement", {{"inclusive", false}, {"route", "home"}, {"weights_in_fast_tier", 1.0}}},
        {"batch", 32},
        {"bounds", {{"migration_aware", {{"enabled", false}, {"iterations", 40}, {"time_budget_s", 60}}},
                    {"annealed", {{"enabled", false}, {"moves", 3000}, {"chains", 1}, {"time_budget_s", 60}}}}},
        {"policies", {"first-fit", "lru", "belady"}}};
    scenarioFile_ = dir_.filePath(QStringLiteral("bounds.kvtier.json"));
    std::ofstream(scenarioFile_.toStdString()) << sc.dump(2);
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
}

void TestGuiBounds::init()
{
    errors_.clear();
    AnalysisWorker::setBoundsSettleMs(0);
    w_ = std::make_unique<MainWindow>();
    w_->resize(1400, 900);
    QVERIFY(w_->loadScenarioFile(scenarioFile_));
    QVERIFY(waitCurrent(*w_));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiBounds::cleanup()
{
    w_.reset();
    QSettings().clear();
}

AnalysisOutputPtr TestGuiBounds::enableBound(MainWindow& w, bool annealed)
{
    QSignalSpy shown(&w, &MainWindow::analysisShown);
    w.comparisonView()->boundCheck()->setChecked(true);
    if (annealed)
        w.comparisonView()->annealCheck()->setChecked(true);
    if (!waitCurrent(w) || !w.lastOutput()->result->migration_bound)
        return {};
    // The first answer came without the bound, marked as followed by it.
    if (shown.size() < 2 || !shown.first().at(0).value<AnalysisOutputPtr>()->boundsPending)
        return {};
    return w.lastOutput();
}

void TestGuiBounds::boundShowsTheCoresBandAndGaps()
{
    MainWindow& w = *w_;
    ComparisonView* c = w.comparisonView();
    QVERIFY(!c->band()->visible());
    QVERIFY(c->table()->isColumnHidden(5));
    const AnalysisOutputPtr out = enableBound(w, true);
    QVERIFY(out);
    QVERIFY(w.scenario().bounds.migration_aware.enabled && w.scenario().bounds.annealed.enabled);
    const AnalysisResult& r = *out->result;
    QVERIFY(r.annealed);
    // The band is the core's: from B to S per token, in ms.
    const BoundBand band = boundBand(r);
    QVERIFY(band.present);
    QVERIFY(c->band()->visible());
    QVERIFY(close(c->band()->topLeft->coords().x(), band.bound_time_per_token * 1e3));
    QVERIFY(close(c->band()->bottomRight->coords().x(), band.schedule_time_per_token * 1e3));
    QVERIFY(c->note()->isVisible() || !c->note()->text().isEmpty());
    QVERIFY(c->note()->text().contains(QStringLiteral("exclusive")));
    QVERIFY(c->note()->text().contains(QString::number(band.gap, 'f', 3)));
    // Every row's × B and × S are the core's gaps; the schedules are oracle bars.
    const std::vector<ComparisonRow> rows = comparisonRows(r);
    QCOMPARE(c->table()->rowCount(), static_cast<int>(rows.size()));
    QVERIFY(!c->table()->isColumnHidden(5) && !c->table()->isColumnHidden(6));
    int checked = 0;
    for (int k = 0; k < c->table()->rowCount(); ++k) {
        const QString name = c->table()->item(k, 0)->data(Qt::UserRole + 2).toString();
        for (const ComparisonRow& row : rows) {
            if (QString::fromStdString(row.name) != name)
                continue;
            QCOMPARE(c->table()->item(k, 5)->data(Qt::UserRole).toDouble(), row.gap_to_migration_bound);
            QCOMPARE(c->table()->item(k, 6)->data(Qt::UserRole).toDouble(), row.gap_to_schedule);
            ++checked;
        }
    }
    QCOMPARE(checked, static_cast<int>(rows.size()));
    QVERIFY(c->barOrder().contains(QStringLiteral("schedule")));
    QVERIFY(c->barOrder().contains(QStringLiteral("annealed")));
    QCOMPARE(c->oracleBars()->data()->size(), 3);   // belady, the schedule, the annealed schedule
    // The hover text gives both gaps.
    const QString tip = c->barToolTip(QStringLiteral("lru"));
    QVERIFY(tip.contains(QStringLiteral("× B")) && tip.contains(QStringLiteral("× S")));
    for (const ComparisonRow& row : rows)
        if (row.name == "lru")
            QVERIFY(tip.contains(QStringLiteral("×%1").arg(row.gap_to_schedule, 0, 'f', 3)));
    // The legend names the band.
    bool legend = false;
    for (int i = 0; i < c->plot()->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(c->plot()->legend->item(i)))
            legend = legend || item->plottable()->name().startsWith(QStringLiteral("certified band"));
    QVERIFY(legend);
    // Turning it off removes the band and the schedules.
    c->boundCheck()->setChecked(false);
    QVERIFY(waitCurrent(w));
    QVERIFY(!w.scenario().bounds.migration_aware.enabled && !w.scenario().bounds.annealed.enabled);
    QVERIFY(!c->band()->visible());
    QVERIFY(!c->barOrder().contains(QStringLiteral("schedule")));
    QCOMPARE(w.policyCombo()->findData(QStringLiteral("schedule")), -1);
}

void TestGuiBounds::sliderDuringHeavyPhaseCancelsIt()
{
    MainWindow& w = *w_;
    // A long heavy phase: many iterations, no early stop.
    Scenario s = w.scenario();
    s.bounds.migration_aware.iterations = 1'000'000;
    s.bounds.migration_aware.target_gap = 0;
    s.bounds.migration_aware.time_budget_s = 120;
    QSignalSpy shown(&w, &MainWindow::analysisShown);
    QSignalSpy cancelled(w.controller(), &AnalysisController::boundsCancelled);
    w.setScenario(s);
    w.comparisonView()->boundCheck()->setChecked(true);
    QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last().at(0).value<AnalysisOutputPtr>()->boundsPending, 30000);
    const Scenario heavy = w.scenario();
    QVERIFY(heavy.bounds.migration_aware.enabled);
    QTest::qWait(150);   // the heavy phase is running now
    QVERIFY(w.busy());
    QVERIFY(w.comparisonView()->note()->text().contains(QStringLiteral("computing")));
    // A slider move: a newer request, which cancels the heavy phase.
    ValueSlider* batch = w.scenarioPanel()->batchSlider();
    batch->setValue(batch->value() / 2);
    QTRY_VERIFY_WITH_TIMEOUT(!cancelled.isEmpty(), 30000);
    QVERIFY(!(w.scenario() == heavy));
    // The new request's first answer shows; stop its heavy phase too.
    QTRY_VERIFY_WITH_TIMEOUT(w.lastOutput()->scenario == w.scenario(), 30000);
    w.cancelComputation();
    QTRY_VERIFY_WITH_TIMEOUT(!w.busy(), 30000);
    QTest::qWait(100);
    QVERIFY(w.comparisonView()->note()->text().contains(QStringLiteral("cancelled")));
    // Nothing of either heavy phase ever showed.
    for (const QList<QVariant>& args : shown)
        QVERIFY(!args.at(0).value<AnalysisOutputPtr>()->result->migration_bound);
    QVERIFY(!w.comparisonView()->band()->visible());
    QVERIFY(w.lastOutput()->scenario == w.scenario());
}

void TestGuiBounds::scheduleIsShownLikeAPolicy()
{
    MainWindow& w = *w_;
    QVERIFY(enableBound(w));
    const int i = w.policyCombo()->findData(QStringLiteral("schedule"));
    QVERIFY(i >= 0);
    QVERIFY(w.policyCombo()->itemText(i).contains(QStringLiteral("oracle")));
    const uint64_t before = w.placementView()->shownKey();
    QSignalSpy shown(&w, &MainWindow::analysisShown);
    w.policyCombo()->setCurrentIndex(i);
    QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && shown.last().at(0).value<AnalysisOutputPtr>()->result->migration_bound &&
                                 shown.last().at(0).value<AnalysisOutputPtr>()->view.policy == "schedule",
                             30000);
    QVERIFY(waitCurrent(w));
    const AnalysisOutputPtr out = w.lastOutput();
    const PolicyOutcome* o = out->outcome("schedule");
    QVERIFY(o);
    QCOMPARE(o->info.name, std::string("schedule"));
    QVERIFY(!o->info.online);
    QCOMPARE(o->placement, out->result->migration_bound->schedule.placement);
    // The placement view shows the schedule's own image, marked as an oracle.
    QVERIFY(w.placementView()->shownKey() != before);
    QVERIFY(w.placementView()->plotTitle().contains(QStringLiteral("best schedule")));
    QVERIFY(w.placementView()->plotTitle().contains(QStringLiteral("oracle")));
    // The bandwidth view plots the schedule's step times.
    const StepSeries series = stepSeries(*out->result, *o);
    const auto data = w.bandwidthView()->stepTimeGraph()->data();
    QCOMPARE(data->size(), static_cast<int>(series.step_time.size()));
    int t = 0;
    for (auto it = data->constBegin(); it != data->constEnd(); ++it, ++t)
        QCOMPARE(it->value, series.step_time[static_cast<size_t>(t)] * 1e3);
    // The comparison outlines it.
    QCOMPARE(w.comparisonView()->plot()->plottableCount() > 0, true);
    QVERIFY(w.comparisonView()->barToolTip(QStringLiteral("schedule")).contains(QStringLiteral("oracle")));
}

void TestGuiBounds::barsFollowTheTableSort()
{
    MainWindow& w = *w_;
    ComparisonView* c = w.comparisonView();
    auto tableOrder = [c] {
        QStringList names;
        for (int k = 0; k < c->table()->rowCount(); ++k)
            if (!c->table()->item(k, 0)->data(Qt::UserRole + 1).toBool())
                names << c->table()->item(k, 0)->data(Qt::UserRole + 2).toString();
        return names;
    };
    // Default: by time, fastest first; the bars in the same order, top to bottom.
    QCOMPARE(c->table()->horizontalHeader()->sortIndicatorSection(), 2);
    QCOMPARE(c->barOrder(), tableOrder());
    double last = 0;
    for (int k = 0; k < c->table()->rowCount(); ++k) {
        if (c->table()->item(k, 0)->data(Qt::UserRole + 1).toBool())
            continue;
        const double v = c->table()->item(k, 2)->data(Qt::UserRole).toDouble();
        QVERIFY(v >= last);
        last = v;
    }
    // Sort by name, descending: the bars follow.
    c->table()->sortByColumn(0, Qt::DescendingOrder);
    QTRY_COMPARE(c->barOrder(), tableOrder());
    QCOMPARE(c->barOrder(), (QStringList{QStringLiteral("lru"), QStringLiteral("first-fit"), QStringLiteral("belady")}));
    // Each bar sits at its rank: key i for the i-th name.
    const QStringList order = c->barOrder();
    const AnalysisResult& r = *w.lastOutput()->result;
    for (auto it = c->onlineBars()->data()->constBegin(); it != c->onlineBars()->data()->constEnd(); ++it) {
        const PolicyOutcome* o = findOutcome(r, order.at(static_cast<int>(it->key)).toStdString());
        QVERIFY(o && o->info.online);
        QCOMPARE(it->value, o->timing->timePerToken() * 1e3);
    }
    // A new result keeps the sort.
    w.scenarioPanel()->batchSlider()->setValue(16);
    QVERIFY(waitCurrent(w));
    QCOMPARE(c->barOrder(), tableOrder());
    QCOMPARE(c->table()->horizontalHeader()->sortIndicatorSection(), 0);
}

void TestGuiBounds::axisFromBoundAndShownPolicy()
{
    MainWindow& w = *w_;
    ComparisonView* c = w.comparisonView();
    QCOMPARE(c->plot()->xAxis->range().lower, 0.0);
    c->zoomCheck()->setChecked(true);
    double lo = qInf();
    for (auto it = c->onlineBars()->data()->constBegin(); it != c->onlineBars()->data()->constEnd(); ++it)
        lo = std::min(lo, it->value);
    QVERIFY(c->plot()->xAxis->range().lower > 0);
    QVERIFY(c->plot()->xAxis->range().lower < lo);
    c->zoomCheck()->setChecked(false);
    QCOMPARE(c->plot()->xAxis->range().lower, 0.0);
    // The shown policy is bold in the table and marked in the bars.
    w.policyCombo()->setCurrentIndex(w.policyCombo()->findData(QStringLiteral("lru")));
    QVERIFY(waitCurrent(w));
    for (int k = 0; k < c->table()->rowCount(); ++k) {
        QTableWidgetItem* it = c->table()->item(k, 0);
        QCOMPARE(it->font().bold(), it->data(Qt::UserRole + 2).toString() == QLatin1String("lru"));
    }
}

void TestGuiBounds::inclusiveSaysWhyThereIsNoBound()
{
    MainWindow& w = *w_;
    QVERIFY(enableBound(w));
    w.scenarioPanel()->inclusiveCheck()->setChecked(true);
    QVERIFY(w.scenario().inclusive);
    QVERIFY(waitCurrent(w));
    // Inclusive is not covered: the bound turns off (a scenario with both is refused on
    // load) and the comparison says why.
    ComparisonView* c = w.comparisonView();
    QVERIFY(!w.scenario().bounds.migration_aware.enabled);
    QVERIFY(!c->boundCheck()->isEnabled());
    QVERIFY(!c->band()->visible());
    QVERIFY(c->note()->text().contains(QStringLiteral("exclusive placement only")));
    QVERIFY(c->note()->text().contains(QStringLiteral("inclusive")));
    QCOMPARE(w.policyCombo()->findData(QStringLiteral("schedule")), -1);
}

void TestGuiBounds::sweepBoundCurvesAreTheCoresPoints()
{
    MainWindow& w = *w_;
    SweepView* sweep = w.sweepView();
    sweep->pointCount()->setValue(3);
    sweep->boundCurves()->setChecked(true);
    QSignalSpy done(sweep, &SweepView::finished);
    sweep->run();
    QVERIFY(done.wait(120000));
    const auto r = sweep->result();
    QVERIFY(r && !r->cancelled && r->error.isEmpty());
    QVERIFY(r->migrationBound);
    QCOMPARE(static_cast<int>(r->points.size()), r->requested);
    QCOMPARE(sweep->plot()->graphCount(), 2 + 2 + 3);   // balanced, paper, B, S, 3 policies
    std::vector<double> xs;
    for (const auto& pt : r->points)
        xs.push_back(pt.x);
    // The core's sweep of the same scenario with the bound on (fresh pipeline).
    Scenario s = w.scenario();
    s.bounds.migration_aware.enabled = true;
    Pipeline fresh;
    const kvtier::SweepResult ref = runSweep(fresh, scenarioToJson(s), "reference", PresetLibrary::loadBuiltin(),
                                             {SweepAxis{"hardware.tiers.0.capacity_bytes", xs}});
    QVERIFY(ref.migration_bound);
    QCOMPARE(ref.points.size(), r->points.size());
    int compared = 0;
    for (size_t i = 0; i < ref.points.size(); ++i) {
        const SweepSeriesPoint want = sweepSeriesPoint(ref.points[i], 3);
        const kvtier::ui::SweepPoint& got = r->points[i];
        QCOMPARE(got.feasible, want.feasible);
        if (!want.feasible)
            continue;
        QCOMPARE(got.migrationBound, want.migration_bound);
        QCOMPARE(got.schedule, want.schedule);
        QVERIFY(got.schedule <= got.migrationBound);   // throughput: S is achieved, B is the best possible
        ++compared;
    }
    QVERIFY(compared >= 2);
    // The CSV carries them.
    QString csv;
    QTextStream ts(&csv);
    QVERIFY(sweep->writeCsv(ts));
    QVERIFY(csv.section('\n', 0, 0).contains(QStringLiteral("migration_bound_tok_s,schedule_tok_s")));
}

void TestGuiBounds::sweepCurvesAreDistinguishableAndHoverable()
{
    MainWindow& w = *w_;
    // Every registered policy: 14 or more curves.
    Scenario s = w.scenario();
    s.policies.clear();
    for (const PolicyEntry& e : policyRegistry())
        s.policies.push_back({e.info.name, resolveParams(e.info, {}, "test")});
    QVERIFY(s.policies.size() >= 14);
    w.setScenario(s);
    QVERIFY(waitCurrent(w));
    SweepView* sweep = w.sweepView();
    sweep->knob()->setCurrentIndex(3);   // batch: log x by default
    QVERIFY(sweep->logX()->isChecked());
    sweep->setRange(1, 32);
    sweep->pointCount()->setValue(3);
    QSignalSpy done(sweep, &SweepView::finished);
    sweep->run();
    QVERIFY(done.wait(120000));
    QCOMPARE(sweep->plot()->xAxis->scaleType(), QCPAxis::stLogarithmic);
    sweep->logX()->setChecked(false);
    QCOMPARE(sweep->plot()->xAxis->scaleType(), QCPAxis::stLinear);
    // No two policy curves share both colour and dash.
    std::set<std::pair<QRgb, int>> styles;
    const int first = sweep->plot()->graphCount() - static_cast<int>(s.policies.size());
    for (int g = first; g < sweep->plot()->graphCount(); ++g) {
        const QPen pen = sweep->plot()->graph(g)->pen();
        QVERIFY(styles.insert({pen.color().rgb(), static_cast<int>(pen.style())}).second);
    }
    // Hover at a point names its curve.
    sweep->plot()->resize(900, 600);
    sweep->plot()->setViewport(QRect(0, 0, 900, 600));   // hidden widgets get their resize event on show
    sweep->plot()->replot();
    QCPGraph* g = sweep->plot()->graph(first + 1);
    auto it = g->data()->constBegin();
    const QPoint px(static_cast<int>(std::lround(g->keyAxis()->coordToPixel(it->key))),
                    static_cast<int>(std::lround(g->valueAxis()->coordToPixel(it->value))));
    const QString tip = sweep->pointToolTip(px);
    QVERIFY2(!tip.isEmpty(), qPrintable(QStringLiteral("no point under the cursor at %1,%2 in %3x%4 (%5, %6)")
                                            .arg(px.x()).arg(px.y()).arg(sweep->plot()->axisRect()->rect().width())
                                            .arg(sweep->plot()->axisRect()->rect().height()).arg(it->key).arg(it->value)));
    QVERIFY(tip.contains(QStringLiteral("tokens/s")));
    QVERIFY(sweep->pointToolTip(QPoint(-50, -50)).isEmpty());
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiBounds>(argc, argv, "tst_gui_bounds"); }

#include "tst_gui_bounds.moc"
