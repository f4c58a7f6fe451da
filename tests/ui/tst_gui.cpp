// GUI tests on the real widgets (offscreen platform, Qt warnings fatal): sliders change
// the scenario and the plotted data, presets update the sliders, bad files are reported
// and the current trace is kept, exports write valid files, and `kvtier --export` works
// headless. A small generated trace keeps every analysis well under a second.
#include "core/config/scenario_json.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/view_sweep.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/bandwidth_view.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/explain_panel.hpp"
#include "ui/exporter.hpp"
#include "ui/heatmaps.hpp"
#include "ui/job_runner.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/placement_view.hpp"
#include "ui/relevance_view.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/sweep_view.hpp"
#include "ui/theme.hpp"
#include "ui/value_slider.hpp"

#include "gui_test_main.hpp"
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QFile>
#include <QProcess>
#include <QSemaphore>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QThread>
#include <QTest>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <random>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

namespace {

// What the views plot, reduced to numbers that change when the data does.
struct Signature {
    double stepTime = 0;       // sum of the bandwidth view's step-time curve
    double bars = 0;           // sum of the comparison view's online bars
    uint64_t placementKey = 0; // identity of the placement image shown
    bool operator==(const Signature& o) const
    {
        return std::abs(stepTime - o.stepTime) <= 1e-12 * std::max(1.0, stepTime) && std::abs(bars - o.bars) <= 1e-12 * std::max(1.0, bars) &&
               placementKey == o.placementKey;
    }
};

Signature signature(MainWindow& w)
{
    Signature s;
    for (auto it = w.bandwidthView()->stepTimeGraph()->data()->constBegin(); it != w.bandwidthView()->stepTimeGraph()->data()->constEnd(); ++it)
        s.stepTime += it->value;
    for (auto it = w.comparisonView()->onlineBars()->data()->constBegin(); it != w.comparisonView()->onlineBars()->data()->constEnd(); ++it)
        s.bars += it->value;
    s.placementKey = w.placementView()->shownKey();
    return s;
}

QByteArray head(const QString& path, int n)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.read(n);
}

} // namespace

class TestGui : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void opensAndShowsEveryView();
    void capacitySliderReplaces();
    void bandwidthSliderRetimes();
    void linkSliderRetimes();
    void sparsityModeAndValue();
    void batchSlider();
    void pageSizeSlider();
    void omegaSlider();
    void inclusiveToggle();
    void policyListAndParams();
    void presetSwitchUpdatesSliders();
    void editingMarksHardwareCustom();
    void infeasibleShowsBannerKeepsViews();
    void newestRequestWins();
    void badDatabaseKeepsTrace();
    void badCsvImportKeepsTrace();
    void goodCsvImport();
    void exportWritesValidFiles();
    void scenarioSaveLoadRoundTrip();
    void sweepRunsAndCancels();
    void tokenClickShowsTimeline();
    void playAdvancesCursor();
    void zoomLinksViewsAndRefinesHeatmap();
    void darkPaletteDarkensPlotsNotExports();
    void headlessExportRuns();
    void droppedCsvImportsIntoCurrentDatabase();
    void sweepCancelKeepsFinishedPoints();
    void recomputeRecomputesEveryStage();
    void settingsSavedWhenTheyChange();
    void rapidSessionSurvivesAndShowsTheTruth();
    void userMessagesNeverShowLibraryText();
    void staleJobResultIsDropped();
    void cancelledJobDeliversNothing();
    void cancelKeepsLastResultOnScreen();
    void databaseOpensOffTheUiThread();

private:
    bool waitShown(MainWindow& w, int timeoutMs = 60000);
    QTemporaryDir dir_;
    QString db_, scenarioFile_;
    std::unique_ptr<MainWindow> w_;
    QStringList errors_;
};

void TestGui::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("gui-test.sqlite"));
    // A small aggregated score trace, and a second one for trace switching.
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    for (const char* name : {"small", "other"}) {
        GeneratorParams p = generatorPreset("drift");
        p.seed = std::string(name) == "small" ? 7 : 8;
        p.prefill = 512;
        p.steps = 48;
        p.layers = 32;
        p.keep_top = 96;
        p.burst_min_age = 64;
        TraceMeta meta = generatorMeta(p);
        meta.name = name;
        auto writer = store->beginTrace(meta, Encoding::SparseF32);
        generate(p, [&](const Record& r) { writer->add(r); });
        writer->commit();
    }
    // A small model with a batch of 32, so KV traffic rather than the weights sets the
    // step time: KV is 32 x 4096 B per token over all layers, 73 MB per sequence, 2.35 GB
    // for the batch; the HBM keeps the 1 GB of weights and room for about a third of it.
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

bool TestGui::waitShown(MainWindow& w, int timeoutMs)
{
    QSignalSpy spy(&w, &MainWindow::analysisShown);
    if (!spy.wait(timeoutMs))
        return false;
    // The views replot on the next turn of the event loop.
    QCoreApplication::processEvents();
    return true;
}

// Until the window shows the full analysis of its current scenario: the database opens
// in the background, and the start-up scenario's request may answer first.
void TestGui::init()
{
    errors_.clear();
    w_ = std::make_unique<MainWindow>();
    w_->resize(1400, 900);
    QVERIFY(w_->loadScenarioFile(scenarioFile_));
    // The first answer may be the partial one (the shown policy alone): start every test
    // from the settled window, whatever the machine's speed (ASan runs this suite too).
    QVERIFY(waitCurrent(*w_));
    QCOMPARE(w_->scenario().trace_name, std::string("small"));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGui::cleanup()
{
    w_.reset();
    QSettings().clear();
}

void TestGui::opensAndShowsEveryView()
{
    MainWindow& w = *w_;
    QCOMPARE(w.scenario().trace_name, std::string("small"));
    QCOMPARE(w.scenarioPanel()->traceCombo()->count(), 2);
    QCOMPARE(w.policyCombo()->count(), 3);
    QVERIFY(w.lastOutput() && w.lastOutput()->result);
    QCOMPARE(w.bandwidthView()->stepTimeGraph()->data()->size(), 48);
    QCOMPARE(w.comparisonView()->table()->rowCount(), 5);   // 3 policies + 2 bounds
    QVERIFY(w.placementView()->colorMap()->data()->keySize() >= 2);
    QVERIFY(w.relevanceView()->colorMap()->data()->keySize() >= 2);
    QVERIFY(w.placementView()->shownKey() != 0);
    // Switching trace re-runs on the other one.
    QSignalSpy spy(&w, &MainWindow::analysisShown);
    w.scenarioPanel()->traceCombo()->setCurrentIndex(w.scenarioPanel()->traceCombo()->findData(QStringLiteral("other")));
    QVERIFY(spy.wait(30000));
    QCOMPARE(w.scenario().trace_name, std::string("other"));
    QCOMPARE(spy.last().at(0).value<AnalysisOutputPtr>()->result->trace->meta().name, std::string("other"));
}

void TestGui::capacitySliderReplaces()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    ValueSlider* s = w.scenarioPanel()->capacitySlider(0);
    QVERIFY(s);
    s->setValue(2.2e9);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().hardware.tiers[0].capacity_bytes, 2.2e9);
    const Signature after = signature(w);
    QVERIFY(!(before == after));
    QVERIFY(after.placementKey != before.placementKey);   // a new placement image
}

void TestGui::bandwidthSliderRetimes()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    ValueSlider* s = w.scenarioPanel()->bandwidthSlider(1);
    s->setValue(2.5e11);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().hardware.tiers[1].bandwidth, 2.5e11);
    const Signature after = signature(w);
    QVERIFY(after.stepTime > before.stepTime);   // slower DRAM, slower steps
    // The slider itself moves the value too (user drag): one step right on the HBM.
    const double hbm = w.scenario().hardware.tiers[0].bandwidth;
    QTest::keyClick(w.scenarioPanel()->bandwidthSlider(0)->slider(), Qt::Key_PageUp);
    QVERIFY(waitShown(w));
    QVERIFY(w.scenario().hardware.tiers[0].bandwidth > hbm);
}

void TestGui::linkSliderRetimes()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    ValueSlider* s = w.scenarioPanel()->linkReadSlider(1);
    QVERIFY(s);
    QVERIFY(!w.scenarioPanel()->linkReadSlider(0));   // HBM has no link
    s->setValue(5e10);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().hardware.tiers[1].link_read, 5e10);
    QVERIFY(signature(w).stepTime > before.stepTime);
}

void TestGui::sparsityModeAndValue()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    w.scenarioPanel()->sparsitySlider()->setValue(0.5);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().selection.value, 0.5);
    const Signature mid = signature(w);
    QVERIFY(!(before == mid));
    QComboBox* mode = w.scenarioPanel()->modeCombo();
    mode->setCurrentIndex(mode->findData(QStringLiteral("topk")));
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().selection.mode, SelectionMode::TopK);
    QVERIFY(w.scenarioPanel()->sparsitySlider()->value() >= 1);
    QVERIFY(!(signature(w) == mid));
}

void TestGui::batchSlider()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    w.scenarioPanel()->batchSlider()->setValue(16);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().batch, int64_t(16));
    QVERIFY(!(signature(w) == before));
}

void TestGui::pageSizeSlider()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    w.scenarioPanel()->pageSlider()->setValue(16);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().selection.page_tokens, int64_t(16));
    QVERIFY(!(signature(w) == before));
    // The placement view now counts pages of 16 tokens: (512 + 48) / 16 = 35 rows.
    QCPRange range = w.placementView()->colorMap()->data()->valueRange();
    QVERIFY(range.upper < 40);
}

void TestGui::omegaSlider()
{
    MainWindow& w = *w_;
    // Move weights out of HBM: more room for KV, weight reads now hit DRAM.
    const Signature before = signature(w);
    w.scenarioPanel()->omegaSlider()->setValue(0.5);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().weights_in_fast_tier, 0.5);
    QVERIFY(!(signature(w) == before));
}

void TestGui::inclusiveToggle()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    QVERIFY(!w.scenarioPanel()->routeCombo()->isEnabled());
    w.scenarioPanel()->inclusiveCheck()->setChecked(true);
    QVERIFY(waitShown(w));
    QVERIFY(w.scenario().inclusive);
    QVERIFY(w.scenarioPanel()->routeCombo()->isEnabled());
    QVERIFY(!(signature(w) == before));
}

void TestGui::policyListAndParams()
{
    MainWindow& w = *w_;
    QListWidget* list = w.scenarioPanel()->policyList();
    // Uncheck LRU: two policies remain in the combo and the table.
    for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->data(Qt::UserRole).toString() == QLatin1String("lru"))
            list->item(i)->setCheckState(Qt::Unchecked);
    QVERIFY(waitShown(w));
    QCOMPARE(w.scenario().policies.size(), size_t(2));
    QCOMPARE(w.comparisonView()->table()->rowCount(), 4);
    QCOMPARE(w.policyCombo()->count(), 2);
    QCOMPARE(w.policyCombo()->findData(QStringLiteral("lru")), -1);
    // Every registered policy's parameters have an editor built from its ParamSpec list.
    for (const PolicyEntry& e : policyRegistry())
        for (const ParamSpec& p : e.info.params)
            QVERIFY2(w.scenarioPanel()->findChild<QWidget*>(QString::fromStdString("param:" + e.info.name + ":" + p.key)),
                     (e.info.name + ":" + p.key).c_str());
    // Oracle policies are marked in the list.
    bool marked = false;
    for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->data(Qt::UserRole).toString() == QLatin1String("belady"))
            marked = list->item(i)->text().contains(QStringLiteral("oracle"));
    QVERIFY(marked);
}

void TestGui::presetSwitchUpdatesSliders()
{
    MainWindow& w = *w_;
    ScenarioPanel* p = w.scenarioPanel();
    QComboBox* hw = p->hardwareCombo();
    const int i = hw->findData(QStringLiteral("h100-ddr5-cxl"));
    QVERIFY(i >= 0);
    hw->setCurrentIndex(i);
    QCOMPARE(p->tierCount(), 3);
    QCOMPARE(p->capacitySlider(0)->value(), 80e9);
    QCOMPARE(p->bandwidthSlider(2)->value(), 76.8e9);
    QCOMPARE(p->linkReadSlider(1)->value(), 64e9);
    QCOMPARE(w.scenario().hardware_preset, std::string("h100-ddr5-cxl"));
    QCOMPARE(w.scenario().hardware.tiers.size(), size_t(3));
    QVERIFY(waitShown(w));
    QCOMPARE(w.lastOutput()->scenario.hardware.tiers.size(), size_t(3));
    // Model preset too.
    QComboBox* model = p->modelCombo();
    model->setCurrentIndex(model->findData(QStringLiteral("qwen2.5-7b")));
    QCOMPARE(w.scenario().model.layers, 28);
    QCOMPARE(w.scenario().model_preset, std::string("qwen2.5-7b"));
}

void TestGui::editingMarksHardwareCustom()
{
    MainWindow& w = *w_;
    ScenarioPanel* p = w.scenarioPanel();
    p->hardwareCombo()->setCurrentIndex(p->hardwareCombo()->findData(QStringLiteral("gh200-hbm3e")));
    QCOMPARE(w.scenario().hardware_preset, std::string("gh200-hbm3e"));
    p->bandwidthSlider(0)->setValue(3e12);
    QCOMPARE(w.scenario().hardware_preset, std::string("custom"));
    QCOMPARE(p->hardwareCombo()->currentData().toString(), QStringLiteral("__edited__"));
    QVERIFY(waitShown(w));
}

void TestGui::infeasibleShowsBannerKeepsViews()
{
    MainWindow& w = *w_;
    const Signature before = signature(w);
    QSignalSpy failed(&w, &MainWindow::analysisFailed);
    // Less HBM than the weights need: the tool says so with numbers, views keep the last result.
    w.scenarioPanel()->capacitySlider(0)->setValue(0.5e9);
    QVERIFY(failed.wait(30000));
    QVERIFY(!failed.last().at(0).toString().isEmpty());
    QVERIFY(signature(w) == before);
    QVERIFY(errors_.isEmpty());   // a banner, not a dialog per slider move
}

void TestGui::newestRequestWins()
{
    MainWindow& w = *w_;
    QSignalSpy spy(&w, &MainWindow::analysisShown);
    ValueSlider* s = w.scenarioPanel()->bandwidthSlider(1);
    for (int i = 1; i <= 6; ++i)
        s->setValue(3e11 + i * 1e10);
    // Wait until the controller is idle.
    QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->busy(), 30000);
    QCoreApplication::processEvents();
    QVERIFY(spy.size() >= 1);
    const AnalysisOutputPtr last = spy.last().at(0).value<AnalysisOutputPtr>();
    QCOMPARE(last->id, w.controller()->latestId());
    QCOMPARE(last->scenario.hardware.tiers[1].bandwidth, 3e11 + 6e10);
    // Results arrive in request order and only the newest is the last one shown.
    for (int i = 1; i < spy.size(); ++i)
        QVERIFY(spy.at(i).at(0).value<AnalysisOutputPtr>()->id > spy.at(i - 1).at(0).value<AnalysisOutputPtr>()->id);
}

void TestGui::badDatabaseKeepsTrace()
{
    MainWindow& w = *w_;
    const QString bad = dir_.filePath(QStringLiteral("not-a-db.sqlite"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("this is not an SQLite database, just text\n");
    f.close();
    QSignalSpy opened(&w, &MainWindow::databaseOpened);
    w.openDatabase(bad);
    QVERIFY(opened.wait(30000));
    QCOMPARE(opened.last().at(1).toBool(), false);
    QCOMPARE(errors_.size(), 1);
    QVERIFY2(errors_.front().contains(QStringLiteral("not-a-db.sqlite")), qPrintable(errors_.front()));
    QCOMPARE(w.scenario().trace_name, std::string("small"));
    QCOMPARE(QFileInfo(w.databasePath()), QFileInfo(db_));
}

void TestGui::badCsvImportKeepsTrace()
{
    MainWindow& w = *w_;
    const QString bad = dir_.filePath(QStringLiteral("broken.csv"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("n,l,read_kv\n0,0,\"[1, 2\n1,zero,[3]\n");
    f.close();
    QSignalSpy done(&w, &MainWindow::importFinished);
    w.importFiles({bad}, db_);
    QVERIFY(done.wait(30000));
    QCOMPARE(done.last().at(0).toBool(), false);
    QCOMPARE(errors_.size(), 1);
    QVERIFY2(errors_.front().contains(QStringLiteral("broken.csv")), qPrintable(errors_.front()));
    QCOMPARE(w.scenario().trace_name, std::string("small"));
    // The database is unchanged: one transaction per import.
    QCOMPARE(TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadOnly)->list().size(), size_t(2));
}

void TestGui::goodCsvImport()
{
    MainWindow& w = *w_;
    // The paper simulator's CSV: one row per (step, layer) with the tokens read.
    const QString csv = dir_.filePath(QStringLiteral("paper-trace.csv"));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QByteArray text = "n,l,read_kv\n";
    for (int n = 8; n < 12; ++n)
        for (int l = 0; l < 2; ++l)
            text += QByteArray::number(n) + "," + QByteArray::number(l) + ",\"[0, 1, " + QByteArray::number(n - 1) + "]\"\n";
    f.write(text);
    f.close();
    const QString target = dir_.filePath(QStringLiteral("imported.sqlite"));
    QSignalSpy done(&w, &MainWindow::importFinished);
    QSignalSpy shown(&w, &MainWindow::analysisShown);
    w.importFiles({csv}, target);
    QVERIFY(done.wait(30000));
    QVERIFY2(done.last().at(0).toBool(), qPrintable(errors_.join('\n')));
    // The imported database then opens in the background.
    QTRY_COMPARE_WITH_TIMEOUT(w.databasePath(), QFileInfo(target).absoluteFilePath(), 30000);
    QCOMPARE(w.scenario().trace_name, std::string("paper-trace"));
}

void TestGui::exportWritesValidFiles()
{
    MainWindow& w = *w_;
    QTemporaryDir out;
    QString error;
    const QStringList files = w.exportAll(out.path(), QSize(900, 600), &error);
    // The sweep has no data before it runs: its CSV is refused with a message.
    QVERIFY(error.contains(QStringLiteral("sweep")));
    for (PlotView* v : {static_cast<PlotView*>(w.comparisonView()), static_cast<PlotView*>(w.placementView()),
                        static_cast<PlotView*>(w.bandwidthView()), static_cast<PlotView*>(w.relevanceView())}) {
        const QString base = QDir(out.path()).filePath(v->viewId());
        QCOMPARE(head(base + ".png", 8), QByteArray("\x89PNG\r\n\x1a\n", 8));
        QCOMPARE(head(base + ".pdf", 4), QByteArray("%PDF"));
        const QByteArray svg = head(base + ".svg", 4096);
        QVERIFY2(svg.contains("<svg"), qPrintable(v->viewId()));
        QFile csv(base + ".csv");
        QVERIFY(csv.open(QIODevice::ReadOnly | QIODevice::Text));
        QStringList lines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
        while (!lines.isEmpty() && lines.front().startsWith('#'))
            lines.removeFirst();
        QVERIFY2(lines.size() >= 2, qPrintable(v->viewId()));
        const int columns = static_cast<int>(lines.front().count(',')) + 1;
        QVERIFY(columns >= 2);
        QCOMPARE(static_cast<int>(lines.at(1).count(',')) + 1 >= columns, true);
    }
    QVERIFY(files.size() >= 16);
    // The PNG has the requested size.
    QImage png(QDir(out.path()).filePath(QStringLiteral("comparison.png")));
    QCOMPARE(png.size(), QSize(900, 600));
    // The comparison CSV has a row per policy and bound.
    QFile csv(QDir(out.path()).filePath(QStringLiteral("comparison.csv")));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll().count('\n'), 6);
}

void TestGui::scenarioSaveLoadRoundTrip()
{
    MainWindow& w = *w_;
    w.scenarioPanel()->batchSlider()->setValue(8);
    QVERIFY(waitShown(w));
    const QString path = dir_.filePath(QStringLiteral("saved.kvtier.json"));
    QVERIFY(w.saveScenarioFile(path));
    const Scenario saved = w.scenario();
    MainWindow other;
    QSignalSpy spy(&other, &MainWindow::analysisShown);
    QVERIFY(other.loadScenarioFile(path));
    QVERIFY(spy.wait(30000));
    QCOMPARE(other.scenario().batch, int64_t(8));
    QCOMPARE(other.scenario().hardware, saved.hardware);
    QCOMPARE(other.scenario().selection, saved.selection);
    QCOMPARE(other.scenario().policies.size(), saved.policies.size());
    // A scenario file with an error is reported and changes nothing.
    const QString bad = dir_.filePath(QStringLiteral("bad.kvtier.json"));
    std::ofstream(bad.toStdString()) << "{\"trace\": 3}";
    QVERIFY(!other.loadScenarioFile(bad));
    QVERIFY(!errors_.isEmpty());
    QCOMPARE(other.scenario().batch, int64_t(8));
}

void TestGui::sweepRunsAndCancels()
{
    MainWindow& w = *w_;
    SweepView* sweep = w.sweepView();
    QSignalSpy done(sweep, &SweepView::finished);
    sweep->run();
    QVERIFY(sweep->running());
    QVERIFY(done.wait(60000));
    QVERIFY(!sweep->running());
    QCOMPARE(sweep->plot()->graphCount(), 5);   // 2 bounds + 3 policies
    QVERIFY(sweep->plot()->graph(0)->data()->size() >= 2);
    QString csv;
    QTextStream s(&csv);
    QVERIFY(sweep->writeCsv(s));
    QVERIFY(csv.startsWith(QStringLiteral("knob_value")));
    // The view sweeps the typed scenario; the same numbers as the CLI's `--vary` over the
    // scenario's JSON (a fresh pipeline, nothing cached).
    const auto r = sweep->result();
    QVERIFY(r && !r->cancelled && r->error.isEmpty());
    QCOMPARE(static_cast<int>(r->points.size()), r->requested);
    std::vector<double> xs;
    for (const auto& pt : r->points)
        xs.push_back(pt.x);
    Pipeline fresh;
    const kvtier::SweepResult ref = runSweep(fresh, scenarioToJson(w.scenario()), "reference", PresetLibrary::loadBuiltin(),
                                             {SweepAxis{"hardware.tiers.0.capacity_bytes", xs}});
    QCOMPARE(ref.points.size(), r->points.size());
    for (size_t i = 0; i < ref.points.size(); ++i) {
        const SweepSeriesPoint want = sweepSeriesPoint(ref.points[i], 3);
        const kvtier::ui::SweepPoint& got = r->points[i];
        QCOMPARE(got.feasible, want.feasible);
        if (!want.feasible)
            continue;
        QCOMPARE(got.balanced, want.balanced);
        QCOMPARE(got.paper, want.paper);
        for (size_t k = 0; k < 3; ++k)
            QCOMPARE(got.policyThroughput[k], want.policy[k]);
    }
    QVERIFY(std::any_of(r->points.begin(), r->points.end(), [](const auto& pt) { return pt.feasible; }));
    // Cancel stops early.
    sweep->run();
    sweep->cancel();
    QVERIFY(done.wait(60000));
}

void TestGui::tokenClickShowsTimeline()
{
    MainWindow& w = *w_;
    RelevanceView* r = w.relevanceView();
    QCustomPlot* p = r->plot();
    QCPGraph* tokenGraph = nullptr;
    for (int i = 0; i < p->graphCount(); ++i)
        if (p->graph(i)->name() == QStringLiteral("relevance"))
            tokenGraph = p->graph(i);
    QVERIFY(tokenGraph);
    QCOMPARE(tokenGraph->data()->size(), 0);
    emit r->tokenClicked(2);   // a sink token: relevant at every step
    QTRY_VERIFY_WITH_TIMEOUT(tokenGraph->data()->size() == 48, 10000);
}

void TestGui::playAdvancesCursor()
{
    MainWindow& w = *w_;
    const int64_t start = w.stepLink()->cursor();
    w.togglePlay();
    QTRY_VERIFY_WITH_TIMEOUT(w.stepLink()->cursor() != start, 5000);
    w.togglePlay();
    w.stepForward();
    const int64_t c = w.stepLink()->cursor();
    w.stepBack();
    QCOMPARE(w.stepLink()->cursor(), c - 1);
    // The explain panel follows the cursor.
    QVERIFY(w.explainPanel()->html().contains(QStringLiteral("Step t = %1").arg(c - 1)));
}

void TestGui::zoomLinksViewsAndRefinesHeatmap()
{
    MainWindow& w = *w_;
    PlacementView* pv = w.placementView();
    const int coarse = pv->colorMap()->data()->valueSize();
    // Zoom the placement view to 50 tokens x 20 steps: the other views follow the steps,
    // and the heatmap is rebuilt for the window at one cell per step and token.
    QSignalSpy spy(&w, &MainWindow::analysisShown);
    pv->plot()->axisRect()->axis(QCPAxis::atLeft)->setRange(99.5, 149.5);
    pv->plot()->axisRect()->axis(QCPAxis::atBottom)->setRange(9.5, 29.5);
    QCOMPARE(w.stepLink()->lower(), 9.5);
    QCOMPARE(w.bandwidthView()->plot()->xAxis->range().lower, 9.5);
    QCOMPARE(w.relevanceView()->plot()->xAxis->range().upper, 29.5);
    QVERIFY(spy.wait(30000));
    QTRY_COMPARE_WITH_TIMEOUT(pv->colorMap()->data()->keySize(), 20, 30000);
    QCPColorMapData* d = pv->colorMap()->data();
    QCOMPARE(d->valueSize(), 50);
    QVERIFY(coarse >= 2);
}

void TestGui::darkPaletteDarkensPlotsNotExports()
{
    MainWindow& w = *w_;
    const QPalette saved = QApplication::palette();
    QPalette dark = saved;
    dark.setColor(QPalette::Window, QColor(32, 33, 36));
    dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
    QApplication::setPalette(dark);
    QCoreApplication::processEvents();
    QVERIFY(Theme::current().dark);
    QVERIFY(w.placementView()->plot()->axisRect()->backgroundBrush().color().lightness() < 128);
    // Exports stay light: figures go into papers.
    QTemporaryDir out;
    QString error;
    const QString png = QDir(out.path()).filePath(QStringLiteral("p.png"));
    QVERIFY2(exportView(w.comparisonView(), png, ExportFormat::Png, QSize(400, 300), &error), qPrintable(error));
    QCOMPARE(QImage(png).pixelColor(2, 2).lightness() > 200, true);
    QVERIFY(w.comparisonView()->plot()->axisRect()->backgroundBrush().color().lightness() < 128);
    QApplication::setPalette(saved);
    QCoreApplication::processEvents();
    QVERIFY(!Theme::current().dark);
}

void TestGui::headlessExportRuns()
{
    // The real binary, as scripts/run.sh calls it without a display.
    const QString exe = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../app/kvtier"));
    QVERIFY2(QFileInfo::exists(exe), qPrintable(exe));
    QTemporaryDir out;
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));   // --export must pick offscreen by itself
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir_.filePath(QStringLiteral("config")));
    proc.setProcessEnvironment(env);
    proc.start(exe, {QStringLiteral("--export"), out.path(), QStringLiteral("--scenario"), scenarioFile_, QStringLiteral("--set"),
                     QStringLiteral("batch=2"), QStringLiteral("--size"), QStringLiteral("800x500")});
    QVERIFY(proc.waitForFinished(60000));
    QVERIFY2(proc.exitStatus() == QProcess::NormalExit && proc.exitCode() == 0, proc.readAllStandardError().constData());
    for (const char* view : {"comparison", "placement", "bandwidth", "relevance", "sweep"}) {
        const QString base = QDir(out.path()).filePath(QString::fromLatin1(view));
        QCOMPARE(head(base + ".png", 4), QByteArray("\x89PNG", 4));
        QCOMPARE(head(base + ".pdf", 4), QByteArray("%PDF"));
        QVERIFY(head(base + ".svg", 4096).contains("<svg"));
        QVERIFY(head(base + ".csv", 1024).contains(','));
    }
    QFile csv(QDir(out.path()).filePath(QStringLiteral("sweep.csv")));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QVERIFY(csv.readAll().count('\n') >= 3);
    // Bad arguments fail with a message, not a crash.
    proc.start(exe, {QStringLiteral("--export"), out.path()});
    QVERIFY(proc.waitForFinished(30000));
    QCOMPARE(proc.exitCode(), 2);
}

int main(int argc, char** argv) { return runGuiSuite<TestGui>(argc, argv, "tst_gui"); }
// Last: it adds a trace to the shared test database.
void TestGui::droppedCsvImportsIntoCurrentDatabase()
{
    MainWindow& w = *w_;
    const QString csv = dir_.filePath(QStringLiteral("dropped.csv"));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("n,l,read_kv\n6,0,\"[0, 5]\"\n7,0,\"[1, 6]\"\n8,0,\"[0, 2, 7]\"\n");
    f.close();
    // The drop asks where the traces go; answer "into the current database" as a user would.
    QStringList asked;
    bool offeredOpen = true;
    w.setDropChooser([&](const QStringList& files, bool canOpen) {
        asked = files;
        offeredOpen = canOpen;
        return MainWindow::DropChoice::IntoCurrent;
    });
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(csv)});
    QSignalSpy done(&w, &MainWindow::importFinished);
    QDragEnterEvent enter(QPoint(200, 200), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(200, 200), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    QVERIFY(drop.isAccepted());
    // The file's kind is read off the UI thread; the question comes when it is known.
    QTRY_COMPARE_WITH_TIMEOUT(asked, QStringList{csv}, 30000);
    QVERIFY(!offeredOpen);   // a CSV cannot be opened as a database
    QVERIFY(done.count() > 0 || done.wait(30000));
    QVERIFY2(done.last().at(0).toBool(), qPrintable(errors_.join('\n')));
    const auto traces = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadOnly)->list();
    QCOMPARE(traces.size(), size_t(3));
    QTRY_COMPARE_WITH_TIMEOUT(w.scenario().trace_name, std::string("dropped"), 30000);
}


void TestGui::sweepCancelKeepsFinishedPoints()
{
    MainWindow& w = *w_;
    SweepView* sweep = w.sweepView();
    QSpinBox* points = sweep->findChild<QSpinBox*>();
    QVERIFY(points);
    points->setValue(points->maximum());
    QSignalSpy done(sweep, &SweepView::finished);
    // Cancel as soon as the first point is reported: some, but not all, are finished.
    QMetaObject::Connection c = connect(sweep, &SweepView::progressChanged, sweep, [sweep](double f) {
        if (f > 0)
            sweep->cancel();
    });
    w.controller()->pipeline()->clear();
    sweep->run();
    QTRY_VERIFY_WITH_TIMEOUT(!done.isEmpty(), 60000);
    disconnect(c);
    const auto r = sweep->result();
    QVERIFY(r);
    QVERIFY(r->requested > 2);
    if (!r->cancelled) {
        QSKIP("the sweep finished before Cancel took effect on this machine");
    }
    QVERIFY(!r->points.empty());
    QVERIFY(static_cast<int>(r->points.size()) < r->requested);
    QVERIFY(sweep->plotTitle().contains(QStringLiteral("cancelled")));
    // Every kept point is a whole point: each policy and both bounds are there.
    for (const auto& pt : r->points) {
        QVERIFY(pt.feasible);
        QVERIFY(std::isfinite(pt.balanced) && pt.balanced > 0);
        QCOMPARE(pt.policyThroughput.size(), size_t(3));
        for (double v : pt.policyThroughput)
            QVERIFY(std::isfinite(v) && v > 0);
    }
}

void TestGui::recomputeRecomputesEveryStage()
{
    MainWindow& w = *w_;
    const AnalysisOutputPtr cached = w.lastOutput();
    QVERIFY(cached && cached->result);
    QSignalSpy spy(&w, &MainWindow::analysisShown);
    w.recomputeFresh();
    QVERIFY(spy.wait(30000));
    QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->busy(), 30000);
    QCoreApplication::processEvents();
    const AnalysisOutputPtr fresh = w.lastOutput();
    QVERIFY(fresh->id > cached->id);
    QVERIFY(!fresh->partial);
    // Every stage was computed again: new objects, not the cached ones ...
    QVERIFY(fresh->result->trace != cached->result->trace);
    QVERIFY(fresh->result->selection != cached->result->selection);
    QVERIFY(fresh->result->balanced != cached->result->balanced);
    QCOMPARE(fresh->result->policies.size(), size_t(3));
    for (size_t i = 0; i < 3; ++i) {
        QVERIFY(fresh->result->policies[i].placement != cached->result->policies[i].placement);
        QVERIFY(fresh->result->policies[i].timing != cached->result->policies[i].timing);
        // ... with the same numbers.
        QCOMPARE(fresh->result->policies[i].timing->total_time, cached->result->policies[i].timing->total_time);
    }
    // An ordinary request for the same scenario reuses what is cached.
    w.recompute();
    QVERIFY(spy.wait(30000));
    QCOMPARE(w.lastOutput()->result->selection, fresh->result->selection);
}

void TestGui::settingsSavedWhenTheyChange()
{
    MainWindow& w = *w_;
    w.scenarioPanel()->bandwidthSlider(1)->setValue(3.3e11);
    QVERIFY(waitShown(w));
    // No close, no destructor: the setting must reach the store on its own.
    QTRY_VERIFY_WITH_TIMEOUT(QSettings().value(QStringLiteral("scenario")).toByteArray().contains("3.3e+11") ||
                                 QSettings().value(QStringLiteral("scenario")).toByteArray().contains("330000000000"),
                             5000);
    const Scenario saved = scenarioFromJson(
        nlohmann::json::parse(QSettings().value(QStringLiteral("scenario")).toByteArray().toStdString()), "settings",
        PresetLibrary::loadBuiltin());
    QCOMPARE(saved.hardware.tiers[1].bandwidth, 3.3e11);
}

// A user in a hurry: slider drags that supersede each other mid-computation, sweeps
// started and cancelled, trace switches, Recompute, all interleaved. The window must
// survive (CI runs this under ASan) and finally show exactly what a clean run computes.
void TestGui::rapidSessionSurvivesAndShowsTheTruth()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    SweepView* sweep = w.sweepView();
    QComboBox* traces = panel->traceCombo();
    QSignalSpy failures(w.controller(), &AnalysisController::failed);
    std::mt19937 rng(12);
    for (int round = 0; round < 60; ++round) {
        switch (rng() % 6) {
        case 0:
        case 1: {
            ValueSlider* s = panel->sparsitySlider();
            s->setValue(0.05 + 0.05 * static_cast<double>(rng() % 10));
            break;
        }
        case 2:
            panel->capacitySlider(0)->setValue(1.6e9 + 1e8 * static_cast<double>(rng() % 8));
            break;
        case 3:
            panel->bandwidthSlider(1)->setValue(2e11 + 5e10 * static_cast<double>(rng() % 6));
            break;
        case 4:
            if (!sweep->running())
                sweep->run();
            else
                sweep->cancel();
            break;
        case 5:
            if (rng() % 3 == 0)   // the two traces of the fixture (others have other layer counts)
                traces->setCurrentIndex(traces->findData(traces->currentData().toString() == QStringLiteral("small")
                                                             ? QStringLiteral("other")
                                                             : QStringLiteral("small")));
            else
                w.recomputeFresh();
            break;
        }
        QTest::qWait(static_cast<int>(rng() % 40));
    }
    sweep->cancel();
    QTRY_VERIFY_WITH_TIMEOUT(!sweep->running(), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->busy(), 60000);
    QCoreApplication::processEvents();
    const AnalysisOutputPtr shown = w.lastOutput();
    QVERIFY(shown && shown->result);
    QStringList failed;
    for (const auto& f : failures)
        failed << f.at(0).toString();
    QVERIFY2(failures.isEmpty(), qPrintable(failed.join('\n')));
    QCOMPARE(shown->id, w.controller()->latestId());
    Pipeline clean;
    const AnalysisResult truth = clean.run(w.scenario());
    QCOMPARE(shown->result->policies.size(), truth.policies.size());
    for (size_t i = 0; i < truth.policies.size(); ++i) {
        QVERIFY(shown->result->policies[i].timing->total_time > 0);
        QCOMPARE(shown->result->policies[i].timing->total_time, truth.policies[i].timing->total_time);
        QCOMPARE(shown->result->policies[i].timing->migrated_bytes, truth.policies[i].timing->migrated_bytes);
    }
    QCOMPARE(shown->result->balanced->total_time, truth.balanced->total_time);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

// What a dialog, the banner or the sweep title shows for an exception: kvtier's own lines
// as they are, never a library's text such as "std::bad_alloc".
void TestGui::userMessagesNeverShowLibraryText()
{
    QCOMPARE(userMessage(InputError("a.csv:3", "n is not an integer: 'four'")), QStringLiteral("a.csv:3: n is not an integer: 'four'"));
    QCOMPARE(userMessage(InfeasibleError("infeasible: the KV cache needs 2 GB")),
             QStringLiteral("infeasible: the KV cache needs 2 GB"));
    const QString oom = userMessage(std::bad_alloc(), QStringLiteral("db.sqlite trace 'big'"));
    QVERIFY(oom.startsWith(QStringLiteral("db.sqlite trace 'big': too large for this machine's memory")));
    QVERIFY(!oom.contains(QStringLiteral("bad_alloc")));
    QVERIFY(oom.endsWith(QStringLiteral("; kvtier-cli analyze --stream analyses it in bounded memory")));
    // The store's own "too large" (a trace that does not load) gets the same way out.
    QCOMPARE(userMessage(InputError("db.sqlite trace 'big'", "too large for memory (needs about 30 GB)")),
             QStringLiteral("db.sqlite trace 'big': too large for memory (needs about 30 GB); kvtier-cli analyze "
                            "--stream analyses it in bounded memory"));
    QCOMPARE(userMessage(std::logic_error("policy lru moved unit 3 twice")),
             QStringLiteral("internal error, please report it: policy lru moved unit 3 twice"));
}

// One runner, two requests: the first ignores its cancel flag and finishes after the
// second was made. Its result is stale and never reaches the UI; the newest one does.
void TestGui::staleJobResultIsDropped()
{
    JobRunner runner(QStringLiteral("test-stale"));
    QSemaphore release;
    QStringList shown;
    QSignalSpy dropped(&runner, &JobRunner::dropped);
    QSignalSpy delivered(&runner, &JobRunner::delivered);
    const uint64_t first = runner.run(
        [&release](const JobContext&) {
            release.tryAcquire(1, 30000);   // still running when the newer request comes
            return QStringLiteral("old");
        },
        [&shown](const QString& v) { shown << v; });
    QVERIFY(runner.busy());
    const uint64_t second = runner.run([](const JobContext&) { return QStringLiteral("new"); },
                                       [&shown](const QString& v) { shown << v; });
    QVERIFY(second > first);
    QCOMPARE(runner.latest(), second);
    release.release();
    QTRY_VERIFY_WITH_TIMEOUT(!runner.busy(), 30000);
    QCOMPARE(shown, QStringList{QStringLiteral("new")});
    QCOMPARE(dropped.size(), 1);
    QCOMPARE(dropped.front().at(0).toULongLong(), first);
    QCOMPARE(delivered.size(), 1);
    QCOMPARE(delivered.front().at(0).toULongLong(), second);
}

// Cancel goes through the core's JobControl: a job that checks it throws Cancelled and
// delivers nothing, not even its error callback; the runner says so by a signal.
void TestGui::cancelledJobDeliversNothing()
{
    JobRunner runner(QStringLiteral("test-cancel"));
    QSignalSpy cancelled(&runner, &JobRunner::cancelled);
    QSemaphore started;
    QThread* jobThread = nullptr;
    bool delivered = false, failed = false;
    const uint64_t id = runner.run(
        [&](const JobContext& job) {
            jobThread = QThread::currentThread();
            started.release();
            for (;;) {
                job.control().check();
                QThread::msleep(1);
            }
            return 0;
        },
        [&](int) { delivered = true; }, [&](const QString&) { failed = true; });
    QVERIFY(started.tryAcquire(1, 30000));
    runner.cancel();
    QVERIFY(cancelled.wait(30000));
    QCOMPARE(cancelled.front().at(0).toULongLong(), id);
    QVERIFY(!runner.busy());
    QVERIFY(!delivered && !failed);
    QVERIFY(jobThread && jobThread != QCoreApplication::instance()->thread());
    QCOMPARE(jobThread, runner.thread());
}

// The window's Cancel during a computation: the views keep the last complete result.
void TestGui::cancelKeepsLastResultOnScreen()
{
    MainWindow& w = *w_;
    const AnalysisOutputPtr before = w.lastOutput();
    const Signature shown = signature(w);
    QSignalSpy cancelled(w.controller()->runner(), &JobRunner::cancelled);
    QSignalSpy results(&w, &MainWindow::analysisShown);
    QSignalSpy partials(&w, &MainWindow::partialShown);
    w.scenarioPanel()->capacitySlider(0)->setValue(2.4e9);   // a new placement: not instant
    QVERIFY(w.controller()->busy());
    const uint64_t id = w.controller()->latestId();
    w.cancelComputation();
    QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->busy(), 30000);
    QCoreApplication::processEvents();
    // The running request was stopped through its JobControl, even one whose answer was
    // already on its way (the slider's, or one it waited behind; then the slider's was
    // dropped unstarted); nothing of the slider's was shown ...
    QVERIFY(!cancelled.isEmpty());
    for (const QSignalSpy* spy : {&results, &partials})
        for (const auto& r : *spy)
            QVERIFY(r.at(0).value<AnalysisOutputPtr>()->id != id);
    // ... so the views show the last complete result (or, when a view's resize asked for
    // new heatmaps after the Cancel, that newer request's result, never the cancelled one).
    if (results.isEmpty()) {
        QCOMPARE(w.lastOutput(), before);
        QVERIFY(signature(w) == shown);
    } else {
        QVERIFY(w.lastOutput()->id > id);
        QCOMPARE(w.lastOutput()->scenario.hardware.tiers[0].capacity_bytes, before->scenario.hardware.tiers[0].capacity_bytes);
    }
    QVERIFY(errors_.isEmpty());
}

// Opening a database lists it on the library's worker thread. While a slow listing is
// pending the window keeps serving events; the trace is shown once the list arrives.
void TestGui::databaseOpensOffTheUiThread()
{
    MainWindow& w = *w_;
    QSemaphore release;
    std::atomic<QThread*> listedOn{nullptr};
    w.setTraceLister([&](const std::string& path) {
        listedOn = QThread::currentThread();
        release.tryAcquire(1, 30000);   // slow storage; on the UI thread this would hang the test
        return TraceStore::open(path, TraceStore::Mode::ReadOnly)->list();
    });
    QSignalSpy opened(&w, &MainWindow::databaseOpened);
    w.openDatabase(db_, QStringLiteral("other"));
    QVERIFY(w.busy());
    QTRY_VERIFY_WITH_TIMEOUT(listedOn.load() != nullptr, 30000);
    // Responsive meanwhile: timers fire, the busy indicator shows, nothing has changed yet.
    bool ticked = false;
    QTimer::singleShot(10, &w, [&] { ticked = true; });
    QTRY_VERIFY_WITH_TIMEOUT(ticked, 5000);
    QVERIFY(opened.isEmpty());
    QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("Reading")));
    QCOMPARE(w.scenario().trace_name, std::string("small"));
    release.release();
    QVERIFY(opened.wait(30000));
    QCOMPARE(opened.last().at(1).toBool(), true);
    QVERIFY(listedOn.load() != QCoreApplication::instance()->thread());
    QCOMPARE(listedOn.load(), w.libraryJobs()->thread());
    QCOMPARE(w.scenario().trace_name, std::string("other"));
    // Choosing a trace lists again, also off the UI thread.
    listedOn = nullptr;
    release.release();   // no wait this time
    w.scenarioPanel()->traceCombo()->setCurrentIndex(w.scenarioPanel()->traceCombo()->findData(QStringLiteral("small")));
    QVERIFY(opened.wait(30000));
    QCOMPARE(listedOn.load(), w.libraryJobs()->thread());
    QCOMPARE(w.scenario().trace_name, std::string("small"));
    QVERIFY(waitCurrent(w));
}

#include "tst_gui.moc"
