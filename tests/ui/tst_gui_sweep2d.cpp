// The Sweep view with a second knob: a 2-D sweep fills a heat map of the best policy's time
// (the same grid as the core computes from the CLI's sweep over the scenario's JSON),
// points appear as they finish, hover names both values and the best policy, and Cancel
// keeps the finished points. A small generated trace keeps each point well under a second.
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/view_sweep2d.hpp"
#include "core/policies/policy.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/error_sink.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/sweep_view.hpp"

#include "gui_test_main.hpp"
#include <QComboBox>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

class TestGuiSweep2d : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void twoKnobsFillTheHeatMap();
    void cancelKeepsFinishedCells();

private:
    QTemporaryDir dir_;
    QString db_, scenarioFile_;
    std::unique_ptr<MainWindow> w_;
    QStringList errors_;
};

void TestGuiSweep2d::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("sweep2d.sqlite"));
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    GeneratorParams p = generatorPreset("drift");
    p.seed = 7;
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
    // KV of the batch (2.35 GB) does not fit beside the 1 GB of weights: placement matters.
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
    scenarioFile_ = dir_.filePath(QStringLiteral("test.kvtier.json"));
    std::ofstream(scenarioFile_.toStdString()) << sc.dump(2);
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
}

void TestGuiSweep2d::init()
{
    errors_.clear();
    w_ = std::make_unique<MainWindow>();
    w_->resize(1400, 900);
    QVERIFY(w_->loadScenarioFile(scenarioFile_));
    QVERIFY(waitCurrent(*w_));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiSweep2d::cleanup()
{
    w_.reset();
    QSettings().clear();
}

void TestGuiSweep2d::twoKnobsFillTheHeatMap()
{
    SweepView* sweep = w_->sweepView();
    sweep->knob()->setCurrentIndex(0);    // HBM capacity, GB
    sweep->knob2()->setCurrentIndex(3);   // sparsity budget (ratio)
    sweep->pointCount()->setValue(3);
    sweep->setRange(1.2, 2.4);
    sweep->setRange2(0.1, 0.3);
    QSignalSpy done(sweep, &SweepView::finished);
    QSignalSpy shown(sweep, &SweepView::pointsShown);
    sweep->run();
    QVERIFY(sweep->running());
    QVERIFY(done.wait(60000));
    const auto r = sweep->result();
    QVERIFY(r && r->twoD && !r->cancelled && r->error.isEmpty());
    QCOMPARE(r->requested, 9);
    QCOMPARE(r->finished(), 9);
    // The plot shows the heat map, no curves, with a labelled colour scale.
    QCPColorMap* map = sweep->colorMap();
    QVERIFY(map);
    QCOMPARE(sweep->plot()->graphCount(), 0);
    QVERIFY(sweep->colorScale());
    // Every time of this small trace is below a second: the scale is in ms.
    QVERIFY(r->grid.max_time_s > 0 && r->grid.max_time_s < 1);
    QCOMPARE(sweep->colorScale()->axis()->label(), QStringLiteral("best policy's time (ms)"));
    QVERIFY(!sweep->plot()->legend->visible() && !sweep->plot()->legend->layout());   // no room kept for it
    QCOMPARE(map->gradient().nanHandling(), QCPColorGradient::nhTransparent);   // blank until computed
    QCOMPARE(map->gradient(), sweep->colorScale()->gradient());
    QCOMPARE(map->data()->keySize(), 3);
    QCOMPARE(map->data()->valueSize(), 3);
    QVERIFY(shown.count() >= 1);
    QCOMPARE(shown.last().at(0).toInt(), 9);
    // The same grid as the core's sweep over the scenario's JSON (the CLI's --vary), from a
    // fresh pipeline: every cell the best of the three policies.
    Pipeline fresh;
    const std::vector<SweepAxis> axes{{"hardware.tiers.0.capacity_bytes", {1.2e9, 1.8e9, 2.4e9}},
                                      {"selection.value", {0.1, 0.2, 0.3}}};
    for (size_t k = 0; k < 3; ++k) {
        QVERIFY(std::abs(r->grid.x[k] - axes[0].values[k]) < 1e-3);
        QVERIFY(std::abs(r->grid.y[k] - axes[1].values[k]) < 1e-12);
    }
    const kvtier::SweepResult ref =
        runSweep(fresh, scenarioToJson(w_->scenario()), "reference", PresetLibrary::loadBuiltin(),
                 {SweepAxis{axes[0].key, r->grid.x}, SweepAxis{axes[1].key, r->grid.y}});
    const SweepGrid2d want = sweepGrid2d(ref);
    int distinct = 0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            const size_t c = want.cell(static_cast<size_t>(i), static_cast<size_t>(j));
            QVERIFY(std::isfinite(want.best_time_s[c]));
            QCOMPARE(r->grid.best_time_s[c], want.best_time_s[c]);
            QCOMPARE(r->grid.best_policy[c], want.best_policy[c]);
            QCOMPARE(map->data()->cell(i, j), want.best_time_s[c] * 1e3);
            distinct += want.best_time_s[c] != want.best_time_s[0];
        }
    QVERIFY(distinct > 0);   // the knobs change the time: the map is not flat
    // Hover over the middle cell names both knobs' values, the best policy and its time.
    sweep->plot()->setViewport(QRect(0, 0, 900, 600));
    sweep->plot()->replot();
    const QPoint centre(static_cast<int>(sweep->plot()->xAxis->coordToPixel(1)),
                        static_cast<int>(sweep->plot()->yAxis->coordToPixel(1)));
    const QString tip = sweep->pointToolTip(centre);
    const size_t mid = want.cell(1, 1);
    QVERIFY2(tip.contains(QStringLiteral("HBM capacity = 1.8 GB")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("sparsity budget = 0.2")), qPrintable(tip));
    const char* labels[] = {"first-fit", "lru", "belady"};
    QVERIFY2(tip.contains(QString::fromStdString(findPolicy(labels[static_cast<size_t>(want.best_policy[mid])]).info.label)), qPrintable(tip));
    QVERIFY2(tip.contains(QString::number(want.best_time_s[mid] * 1e3, 'g', 6) + QStringLiteral(" ms")), qPrintable(tip));
    // The CSV is the grid, as the CLI's --grid-csv writes it.
    QString csv;
    QTextStream s(&csv);
    QVERIFY(sweep->writeCsv(s));
    s.flush();
    QCOMPARE(csv.toStdString(), sweepGrid2dToCsv(ref, want));
    // Back to one knob: curves again, the colour scale gone.
    sweep->knob2()->setCurrentIndex(0);
    sweep->run();
    QVERIFY(done.wait(60000));
    QVERIFY(!sweep->result()->twoD);
    QVERIFY(!sweep->colorMap());
    QVERIFY(!sweep->colorScale());
    QCOMPARE(sweep->plot()->graphCount(), 5);   // 2 bounds + 3 policies
    QVERIFY(sweep->plot()->legend->visible() && sweep->plot()->legend->layout());   // back in its column
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiSweep2d::cancelKeepsFinishedCells()
{
    SweepView* sweep = w_->sweepView();
    sweep->knob()->setCurrentIndex(0);
    sweep->knob2()->setCurrentIndex(4);   // batch
    sweep->pointCount()->setValue(8);     // 64 points
    sweep->setRange(1.2, 3.0);
    sweep->setRange2(8, 64);
    QSignalSpy done(sweep, &SweepView::finished);
    // Cancel as soon as the first point is reported: some, but not all, are finished.
    QMetaObject::Connection c = connect(sweep, &SweepView::progressChanged, sweep, [sweep](double f) {
        if (f > 0)
            sweep->cancel();
    });
    w_->controller()->pipeline()->clear();
    sweep->run();
    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty(), 120000);
    disconnect(c);
    const auto r = sweep->result();
    QVERIFY(r && r->twoD);
    QCOMPARE(r->requested, 64);
    if (!r->cancelled)
        QSKIP("the sweep finished before Cancel took effect on this machine");
    QVERIFY(r->finished() > 0);
    QVERIFY(r->finished() < r->requested);
    QVERIFY(sweep->plotTitle().contains(QStringLiteral("cancelled")));
    QVERIFY(sweep->plotTitle().contains(QStringLiteral("%1 of 64 points").arg(r->finished())));
    // The map shows exactly the finished cells, each a whole point.
    QCPColorMap* map = sweep->colorMap();
    QVERIFY(map);
    int shownCells = 0;
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j) {
            const size_t cell = r->grid.cell(static_cast<size_t>(i), static_cast<size_t>(j));
            const double v = map->data()->cell(i, j);
            if (!r->grid.done[cell]) {
                QVERIFY(std::isnan(v));
                continue;
            }
            QVERIFY(r->grid.error[cell].empty());
            QVERIFY(std::isfinite(v) && v > 0);
            QCOMPARE(v, r->grid.best_time_s[cell] * 1e3);   // ms: every time here is below a second
            ++shownCells;
        }
    QCOMPARE(shownCells, r->finished());
    QCOMPARE(static_cast<int>(r->sweep2d.points.size()), r->finished());
    for (const auto& pt : r->sweep2d.points)
        QCOMPARE(pt.policies.size(), size_t(3));
    // A cell not computed says so on hover (on the plot as drawn, at a size that shows
    // every cell: the window is not shown in this test).
    sweep->plot()->setViewport(QRect(0, 0, 900, 600));
    sweep->plot()->replot();
    for (size_t cell = 0; cell < 64; ++cell)
        if (!r->grid.done[cell]) {
            const double i = static_cast<double>(cell / 8), j = static_cast<double>(cell % 8);
            const QPoint at(static_cast<int>(sweep->plot()->xAxis->coordToPixel(i)),
                            static_cast<int>(sweep->plot()->yAxis->coordToPixel(j)));
            const QString tip = sweep->pointToolTip(at);
            QVERIFY2(tip.contains(QStringLiteral("not computed yet")), qPrintable(QStringLiteral("%1,%2: %3").arg(at.x()).arg(at.y()).arg(tip)));
            break;
        }
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiSweep2d>(argc, argv, "tst_gui_sweep2d"); }
#include "tst_gui_sweep2d.moc"
