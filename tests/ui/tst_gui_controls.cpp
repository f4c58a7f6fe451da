// Controls that never surprise (issue 10): the wheel scrolls the Scenario panel and moves
// a slider only when it has focus; typed values take units and are refused visibly when
// wrong; a slider drag shows results while it lasts; every change is one undo step;
// presets are recognised again and reset; each sparsity mode keeps its budget; the model
// follows a per-layer trace's layer count; a scenario naming a missing trace is an error;
// saved scenarios point at their database relatively and are listed as recent; clicking
// a policy shows it.
#include "core/config/scenario_json.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/error_sink.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/value_slider.hpp"

#include "gui_test_main.hpp"
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>
#include <QWheelEvent>

#include <nlohmann/json.hpp>

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>

#include <fstream>
#include <set>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

namespace {

// Types `text` into the slider's value field and presses Return, as a user does.
void type(ValueSlider* s, const QString& text)
{
    QLineEdit* e = s->edit();
    e->setFocus();
    e->selectAll();
    QTest::keyClick(e, Qt::Key_Backspace);
    QTest::keyClicks(e, text);
    QTest::keyClick(e, Qt::Key_Return);
}

void wheel(QWidget* target, int delta)
{
    const QPoint pos = target->rect().center();
    QWheelEvent ev(QPointF(pos), QPointF(target->mapToGlobal(pos)), QPoint(), QPoint(0, delta), Qt::NoButton, Qt::NoModifier,
                   Qt::NoScrollPhase, false);
    QApplication::sendEvent(target, &ev);
}

} // namespace

class TestGuiControls : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void wheelScrollsThePanelNotTheSlider();
    void typedValuesTakeUnitsOrAreRefused();
    void undoRedoEveryChangeAndADragIsOneStep();
    void presetsMatchAgainAndReset();
    void sparsityModesKeepTheirBudgets();
    void customModelIsEditable();
    void perLayerTraceOpensWithItsLayerCount();
    void missingTraceIsAnError();
    void savedScenarioIsRelativeAndRecent();
    void clickingAPolicyShowsIt();
    void sparsityDragShowsIntermediateResults();

private:
    QTemporaryDir dir_;
    QString db_, scenarioFile_, samples_;
    std::unique_ptr<MainWindow> w_;
    QStringList errors_;
};

void TestGuiControls::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("controls.sqlite"));
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
    store.reset();
    nlohmann::json sc = {
        {"trace", {{"db", db_.toStdString()}, {"name", "small"}}},
        {"model", "llama-3-8b"},
        {"hardware", "gh200-hbm3"},
        {"selection", {{"mode", "ratio"}, {"value", 0.2}, {"sinks", 4}, {"window", 16}, {"page_tokens", 1}}},
        {"batch", 32},
        {"policies", {"first-fit", "lru", "belady"}}};
    scenarioFile_ = dir_.filePath(QStringLiteral("controls.kvtier.json"));
    std::ofstream(scenarioFile_.toStdString()) << sc.dump(2);
    // The samples, copied so that nothing is written beside the source tree's database.
    samples_ = dir_.filePath(QStringLiteral("samples.sqlite"));
    QVERIFY(QFile::copy(QStringLiteral(KVTIER_SOURCE_DIR "/sample_traces/kvtier-samples.sqlite"), samples_));
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
}

void TestGuiControls::init()
{
    errors_.clear();
    w_ = std::make_unique<MainWindow>();
    w_->resize(1200, 700);
    QVERIFY(w_->loadScenarioFile(scenarioFile_));
    QVERIFY(waitCurrent(*w_));
    QCOMPARE(w_->scenario().trace_name, std::string("small"));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiControls::cleanup()
{
    w_.reset();
    QSettings().clear();
}

// One stray wheel turn over the panel scrolls it and changes nothing (it once moved the
// LPDDR5X bandwidth from 500 to 362 GB/s); a focused slider takes the wheel.
void TestGuiControls::wheelScrollsThePanelNotTheSlider()
{
    MainWindow& w = *w_;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    ScenarioPanel* panel = w.scenarioPanel();
    auto* scroll = panel->findChild<QScrollArea*>();
    QVERIFY(scroll);
    QScrollBar* bar = scroll->verticalScrollBar();
    QVERIFY2(bar->maximum() > 0, "the panel must be taller than its dock for this test");
    bar->setValue(0);
    ValueSlider* bw = panel->bandwidthSlider(1);
    const Scenario before = w.scenario();
    const int historyBefore = panel->history()->count();
    QVERIFY(!bw->slider()->hasFocus());
    wheel(bw->slider(), -120);
    QVERIFY(bar->value() > 0);   // scrolled down
    QCOMPARE(bw->value(), 5e11);
    QCOMPARE(w.scenario(), before);
    // Spin-less value fields, combo boxes: the same.
    const int at = bar->value();
    wheel(panel->modeCombo(), -120);
    QVERIFY(bar->value() > at);
    QCOMPARE(panel->modeCombo()->currentData().toString(), QStringLiteral("ratio"));
    wheel(panel->hardwareCombo(), 120);
    QCOMPARE(w.scenario(), before);
    QCOMPARE(panel->history()->count(), historyBefore);
    // Focused (clicked or tabbed into), the slider takes the wheel.
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    bw->slider()->setFocus(Qt::TabFocusReason);
    QTRY_VERIFY(bw->slider()->hasFocus());
    const int scrolled = bar->value();
    wheel(bw->slider(), -120);
    QVERIFY(bw->value() != 5e11);
    QCOMPARE(w.scenario().hardware.tiers[1].bandwidth, bw->value());
    QCOMPARE(bar->value(), scrolled);
}

void TestGuiControls::typedValuesTakeUnitsOrAreRefused()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    ValueSlider* bw = panel->bandwidthSlider(1);   // LPDDR5X, shown in GB/s
    ValueSlider* hbm = panel->bandwidthSlider(0);  // HBM3, shown in TB/s
    type(bw, QStringLiteral("1.2 TB/s"));
    QCOMPARE(w.scenario().hardware.tiers[1].bandwidth, 1.2e12);
    type(bw, QStringLiteral("450 GiB/s"));
    QCOMPARE(w.scenario().hardware.tiers[1].bandwidth, 450.0 * 1073741824.0);
    type(bw, QStringLiteral("4e11"));   // base units (B/s, as in scenario files): 400 GB/s
    QCOMPARE(w.scenario().hardware.tiers[1].bandwidth, 4e11);
    QCOMPARE(bw->edit()->text(), QStringLiteral("400 GB/s"));
    type(bw, QStringLiteral("320"));   // a bare number is in the shown unit
    QCOMPARE(w.scenario().hardware.tiers[1].bandwidth, 320e9);
    type(hbm, QStringLiteral("3.35"));
    QCOMPARE(w.scenario().hardware.tiers[0].bandwidth, 3.35e12);
    type(panel->capacitySlider(0), QStringLiteral("96 GB"));
    QCOMPARE(w.scenario().hardware.tiers[0].capacity_bytes, 96e9);
    type(panel->kappaSlider(), QStringLiteral("131 kB"));
    QCOMPARE(w.scenario().model.kv_bytes_per_token_layer, 131e3);
    type(panel->sparsitySlider(), QStringLiteral("25 %"));
    QCOMPARE(w.scenario().selection.value, 0.25);

    // Refused: visibly (red frame, tooltip, status bar), and nothing changes.
    const Scenario kept = w.scenario();
    const int steps = panel->history()->count();
    struct Bad {
        ValueSlider* slider;
        const char* text;
        const char* reason;
    };
    const Bad bad[] = {
        {bw, "-5", "below the minimum"},
        {bw, "1.2 TB", "is a size"},
        {bw, "fast", "not a number"},
        {bw, "5e30", "above the maximum"},
        {panel->capacitySlider(0), "96 GB/s", "is a bandwidth"},
        {panel->sinksSlider(), "2.5", "whole number"},
        {panel->sparsitySlider(), "0", "below the minimum"},
    };
    for (const Bad& b : bad) {
        const QString shownBefore = QString::number(b.slider->value());
        type(b.slider, QString::fromLatin1(b.text));
        QVERIFY2(b.slider->refused(), b.text);
        QVERIFY2(b.slider->refusal().contains(QLatin1String(b.reason)), qPrintable(b.slider->refusal()));
        QVERIFY(b.slider->edit()->property("refused").toBool());
        QVERIFY(b.slider->edit()->styleSheet().contains(QLatin1String("border")));
        QVERIFY(b.slider->edit()->toolTip().contains(QLatin1String(b.reason)));
        QTRY_VERIFY(w.statusBar()->currentMessage().contains(QLatin1String(b.reason)));
        QCOMPARE(b.slider->edit()->text(), QString::fromLatin1(b.text));   // left for the user to fix
        QCOMPARE(QString::number(b.slider->value()), shownBefore);
        QCOMPARE(w.scenario(), kept);
    }
    QCOMPARE(panel->history()->count(), steps);
    // A good entry clears the frame.
    type(bw, QStringLiteral("500 GB/s"));
    QVERIFY(!bw->refused());
    QVERIFY(bw->edit()->styleSheet().isEmpty());
    QCOMPARE(w.scenario().hardware.tiers[1].bandwidth, 5e11);
    // Escape puts the shown value back.
    bw->edit()->setFocus();
    bw->edit()->setText(QStringLiteral("nonsense"));
    QTest::keyClick(bw->edit(), Qt::Key_Escape);
    QCOMPARE(bw->edit()->text(), QStringLiteral("500 GB/s"));
}

void TestGuiControls::undoRedoEveryChangeAndADragIsOneStep()
{
    MainWindow& w = *w_;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    ScenarioPanel* panel = w.scenarioPanel();
    const Scenario start = w.scenario();
    ValueSlider* bw = panel->bandwidthSlider(1);
    bw->setValue(3e11);
    const Scenario afterTyped = w.scenario();
    // A drag: many values while the handle is held, one step when it is released.
    QSlider* s = bw->slider();
    const int steps = panel->history()->count();
    s->setSliderDown(true);
    for (int k = 1; k <= 12; ++k) {
        s->setValue(s->value() + 7);
        QTest::qWait(5);
    }
    QCOMPARE(panel->history()->count(), steps);   // nothing committed mid-drag
    s->setSliderDown(false);
    QCOMPARE(panel->history()->count(), steps + 1);
    const Scenario afterDrag = w.scenario();
    QVERIFY(afterDrag.hardware.tiers[1].bandwidth != afterTyped.hardware.tiers[1].bandwidth);
    // Other kinds of change: batch, a policy unticked, the mode.
    panel->batchSlider()->setValue(64);
    panel->policyList()->item(0)->setCheckState(panel->policyList()->item(0)->checkState() == Qt::Checked ? Qt::Unchecked
                                                                                                           : Qt::Checked);
    panel->modeCombo()->setCurrentIndex(panel->modeCombo()->findData(QStringLiteral("topk")));
    const Scenario last = w.scenario();
    QCOMPARE(panel->history()->count(), steps + 4);
    QVERIFY(panel->history()->undoText().contains(QLatin1String("sparsity")));

    QAction* undo = w.findChild<QAction*>(QStringLiteral("undoAction"));
    QAction* redo = w.findChild<QAction*>(QStringLiteral("redoAction"));
    QVERIFY(undo && redo);
    QCOMPARE(undo->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_Z));
    QCOMPARE(redo->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z));
    for (int k = 0; k < 3; ++k)
        undo->trigger();
    QCOMPARE(w.scenario(), afterDrag);
    QCOMPARE(panel->bandwidthSlider(1)->value(), afterDrag.hardware.tiers[1].bandwidth);
    undo->trigger();   // the whole drag at once
    QCOMPARE(w.scenario(), afterTyped);
    undo->trigger();
    QCOMPARE(w.scenario(), start);
    QCOMPARE(panel->bandwidthSlider(1)->value(), 5e11);
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.lastOutput()->scenario, start);   // the views follow
    for (int k = 0; k < 5; ++k)
        redo->trigger();
    QCOMPARE(w.scenario(), last);
    QCOMPARE(panel->modeCombo()->currentData().toString(), QStringLiteral("topk"));
    // The keys reach the actions from the window.
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QTest::keySequence(&w, QKeySequence(Qt::CTRL | Qt::Key_Z));
    QCOMPARE(panel->modeCombo()->currentData().toString(), QStringLiteral("ratio"));
    QTest::keySequence(&w, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z));
    QCOMPARE(w.scenario(), last);
    QVERIFY(waitCurrent(w));
}

void TestGuiControls::presetsMatchAgainAndReset()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    const PresetLibrary& presets = w.presets();
    const Hardware gh200 = presets.hardwareById("gh200-hbm3").hardware;
    QCOMPARE(w.scenario().hardware_preset, std::string("gh200-hbm3"));
    QVERIFY(!panel->resetButton()->isEnabled());
    const double lp = gh200.tiers[1].bandwidth;
    panel->bandwidthSlider(1)->setValue(lp * 0.6);
    QCOMPARE(panel->hardwareCombo()->currentData().toString(), QStringLiteral("__edited__"));
    QVERIFY(panel->resetButton()->isEnabled());
    // Typing the preset's value back shows the preset again.
    type(panel->bandwidthSlider(1), formatBandwidth(lp));
    QCOMPARE(panel->hardwareCombo()->currentData().toString(), QStringLiteral("gh200-hbm3"));
    QCOMPARE(w.scenario().hardware_preset, std::string("gh200-hbm3"));
    QCOMPARE(w.scenario().hardware, gh200);
    QVERIFY(!panel->resetButton()->isEnabled());
    // Reset to preset: every tier and the model back, as one undoable step.
    panel->capacitySlider(0)->setValue(20e9);
    panel->bandwidthSlider(0)->setValue(2e12);
    type(panel->layersSlider(), QStringLiteral("40"));
    QCOMPARE(panel->modelCombo()->currentData().toString(), QStringLiteral("custom"));
    const Scenario edited = w.scenario();
    const int steps = panel->history()->count();
    QTest::mouseClick(panel->resetButton(), Qt::LeftButton);
    QCOMPARE(w.scenario().hardware, gh200);
    QCOMPARE(w.scenario().model, presets.modelById("llama-3-8b").model);
    QCOMPARE(panel->hardwareCombo()->currentData().toString(), QStringLiteral("gh200-hbm3"));
    QCOMPARE(panel->modelCombo()->currentData().toString(), QStringLiteral("llama-3-8b"));
    QCOMPARE(panel->history()->count(), steps + 1);
    panel->history()->undo();
    QCOMPARE(w.scenario(), edited);
    QVERIFY(waitCurrent(w));
}

void TestGuiControls::sparsityModesKeepTheirBudgets()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    QComboBox* mode = panel->modeCombo();
    auto choose = [&](const char* m) { mode->setCurrentIndex(mode->findData(QString::fromLatin1(m))); };
    QCOMPARE(w.scenario().selection.value, 0.2);   // ratio, from the file
    choose("topk");
    panel->sparsitySlider()->setValue(512);
    choose("mass");
    panel->sparsitySlider()->setValue(0.8);
    choose("ratio");
    QCOMPARE(w.scenario().selection.value, 0.2);
    QCOMPARE(panel->sparsitySlider()->value(), 0.2);
    choose("topk");
    QCOMPARE(w.scenario().selection.value, 512.0);
    choose("dense");
    choose("mass");
    QCOMPARE(w.scenario().selection.value, 0.8);
    QVERIFY(waitCurrent(w));
}

void TestGuiControls::customModelIsEditable()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    panel->modelCombo()->setCurrentIndex(panel->modelCombo()->findData(QStringLiteral("custom")));
    type(panel->layersSlider(), QStringLiteral("16"));
    type(panel->kappaSlider(), QStringLiteral("8 kB"));
    type(panel->weightsSlider(), QStringLiteral("7.5 GB"));
    QCOMPARE(w.scenario().model.layers, 16);
    QCOMPARE(w.scenario().model.kv_bytes_per_token_layer, 8e3);
    QCOMPARE(w.scenario().model.weight_bytes, 7.5e9);
    QCOMPARE(w.scenario().model_preset, std::string("custom"));
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.lastOutput()->scenario.model.weight_bytes, 7.5e9);   // an aggregated trace takes any L
    // Values equal to a preset's are that preset again.
    const Model llama = w.presets().modelById("llama-3-8b").model;
    type(panel->layersSlider(), QString::number(llama.layers));
    type(panel->kappaSlider(), formatBytes(llama.kv_bytes_per_token_layer, 6));
    type(panel->weightsSlider(), formatBytes(llama.weight_bytes, 6));
    QCOMPARE(panel->modelCombo()->currentData().toString(), QStringLiteral("llama-3-8b"));
    QVERIFY(waitCurrent(w));
}

// paper-selections has 4 layers and no preset does: it opens, as Custom with L = 4, and
// the panel says so.
void TestGuiControls::perLayerTraceOpensWithItsLayerCount()
{
    MainWindow& w = *w_;
    QSignalSpy failed(&w, &MainWindow::analysisFailed);
    w.openDatabase(samples_, QStringLiteral("paper-selections"));
    QVERIFY(QTest::qWaitFor([&] { return w.scenario().trace_name == "paper-selections"; }, 60000));
    QVERIFY(QTest::qWaitFor([&] { return !failed.isEmpty() || (w.lastOutput() && w.lastOutput()->scenario == w.scenario()); }, 120000));
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.front().at(0).toString()));
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.scenario().model.layers, 4);
    QCOMPARE(w.scenario().model_preset, std::string("custom"));
    QCOMPARE(w.scenarioPanel()->modelCombo()->currentData().toString(), QStringLiteral("custom"));
    QVERIFY(w.scenarioPanel()->modelNote()->text().contains(QLatin1String("4 layers")));
    QTRY_VERIFY(w.statusBar()->currentMessage().contains(QLatin1String("4 layers")));
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.front().at(0).toString()));
    QVERIFY(w.lastOutput() && w.lastOutput()->result);
    // From the trace list too: layers32 (32 layers) takes a 32-layer preset back.
    QComboBox* traces = w.scenarioPanel()->traceCombo();
    traces->setCurrentIndex(traces->findData(QStringLiteral("layers32")));
    QVERIFY(QTest::qWaitFor([&] { return w.scenario().trace_name == "layers32"; }, 60000));
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.scenario().model.layers, 32);
    QVERIFY(w.scenario().model_preset != "custom");
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.front().at(0).toString()));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiControls::missingTraceIsAnError()
{
    MainWindow& w = *w_;
    const Scenario before = w.scenario();
    nlohmann::json sc = nlohmann::json::parse(std::ifstream(scenarioFile_.toStdString()));
    sc["trace"]["name"] = "no-such-trace";
    sc["batch"] = 7;
    const QString path = dir_.filePath(QStringLiteral("missing.kvtier.json"));
    std::ofstream(path.toStdString()) << sc.dump(2);
    QSignalSpy opened(&w, &MainWindow::databaseOpened);
    QVERIFY(w.loadScenarioFile(path));
    QVERIFY(opened.wait(30000));
    QCOMPARE(opened.front().at(1).toBool(), false);
    QCOMPARE(errors_.size(), 1);
    QVERIFY2(errors_.front().contains(QLatin1String("no trace named 'no-such-trace'")), qPrintable(errors_.front()));
    QVERIFY(errors_.front().contains(QLatin1String("small")));   // what the database does hold
    // Nothing else was opened instead; the current scenario stays.
    QCoreApplication::processEvents();
    QCOMPARE(w.scenario(), before);
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.lastOutput()->scenario.trace_name, std::string("small"));
}

void TestGuiControls::savedScenarioIsRelativeAndRecent()
{
    MainWindow& w = *w_;
    w.scenarioPanel()->batchSlider()->setValue(16);
    QVERIFY(QDir(dir_.path()).mkpath(QStringLiteral("runs/a")));
    const QString path = dir_.filePath(QStringLiteral("runs/a/saved.kvtier.json"));
    QVERIFY(w.saveScenarioFile(path));
    const nlohmann::json doc = nlohmann::json::parse(std::ifstream(path.toStdString()));
    QCOMPARE(QString::fromStdString(doc["trace"]["db"].get<std::string>()), QStringLiteral("../../controls.sqlite"));
    // Recent scenarios are kept beside the recent databases.
    QCOMPARE(QSettings().value(QStringLiteral("recentScenarios")).toStringList().value(0), QFileInfo(path).absoluteFilePath());
    QVERIFY(QSettings().value(QStringLiteral("recentFiles")).toStringList().contains(QFileInfo(db_).absoluteFilePath()));
    // The folder moves with its database: it still opens.
    const QString moved = dir_.filePath(QStringLiteral("moved"));
    QVERIFY(QDir(dir_.path()).mkpath(QStringLiteral("moved/runs/a")));
    QVERIFY(QFile::copy(db_, moved + QStringLiteral("/controls.sqlite")));
    QVERIFY(QFile::copy(path, moved + QStringLiteral("/runs/a/saved.kvtier.json")));
    MainWindow other;
    QVERIFY(other.loadScenarioFile(moved + QStringLiteral("/runs/a/saved.kvtier.json")));
    QVERIFY(waitCurrent(other));
    QCOMPARE(QFileInfo(QString::fromStdString(other.scenario().trace_db)).canonicalFilePath(),
             QFileInfo(moved + QStringLiteral("/controls.sqlite")).canonicalFilePath());
    QCOMPARE(other.scenario().batch, int64_t(16));
    QVERIFY(waitCurrent(w));
}

// Clicking a policy in the list selects it for editing and shows it; choosing the shown
// policy in the toolbar selects it in the list.
void TestGuiControls::clickingAPolicyShowsIt()
{
    MainWindow& w = *w_;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QListWidget* list = w.scenarioPanel()->policyList();
    QComboBox* shown = w.policyCombo();
    auto rowOf = [&](const QString& name) {
        for (int i = 0; i < list->count(); ++i)
            if (list->item(i)->data(Qt::UserRole).toString() == name)
                return i;
        return -1;
    };
    const int lru = rowOf(QStringLiteral("lru"));
    QVERIFY(lru >= 0);
    list->scrollToItem(list->item(lru));
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualItemRect(list->item(lru)).center());
    QCOMPARE(list->currentRow(), lru);
    QCOMPARE(shown->currentData().toString(), QStringLiteral("lru"));
    QVERIFY(list->item(lru)->font().bold());
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.lastOutput()->view.policy, std::string("lru"));
    shown->setCurrentIndex(shown->findData(QStringLiteral("belady")));
    QCOMPARE(list->currentRow(), rowOf(QStringLiteral("belady")));
    QVERIFY(list->item(rowOf(QStringLiteral("belady")))->font().bold());
    QVERIFY(!list->item(lru)->font().bold());
    // A policy not in the comparison can be edited; the shown one stays.
    const int unticked = rowOf(QStringLiteral("h2o"));
    QCOMPARE(list->item(unticked)->checkState(), Qt::Unchecked);
    list->setCurrentRow(unticked);
    QCOMPARE(shown->currentData().toString(), QStringLiteral("belady"));
    QVERIFY(waitCurrent(w));
}

// A sparsity drag on the long-context sample shows results while the handle is held (it
// once showed nothing until release: each move cancelled the last request).
void TestGuiControls::sparsityDragShowsIntermediateResults()
{
    w_.reset();
    const QString scenario = dir_.filePath(QStringLiteral("default.kvtier.json"));
    QFile::remove(scenario);
    QVERIFY(QFile::copy(QStringLiteral(KVTIER_SOURCE_DIR "/sample_traces/default.kvtier.json"), scenario));
    // The copied samples database sits beside it under another name.
    MainWindow w;
    w.resize(1200, 800);
    // Two policies keep the first full analysis short (ASan runs this suite too); a drag's
    // values run for the shown one.
    QVERIFY(w.loadScenarioFile(scenario, {QStringLiteral("trace.db=") + samples_, QStringLiteral("policies=[\"first-fit\",\"lru\"]")}));
    QVERIFY(waitCurrent(w, 600000));
    QCOMPARE(w.scenario().trace_name, std::string("long-context"));
    ValueSlider* sparsity = w.scenarioPanel()->sparsitySlider();
    QSlider* s = sparsity->slider();
    int shownWhileDragging = 0;
    std::set<double> budgetsShown;
    auto count = [&](const AnalysisOutputPtr& out) {
        if (s->isSliderDown()) {
            ++shownWhileDragging;
            budgetsShown.insert(out->scenario.selection.value);
        }
    };
    connect(&w, &MainWindow::partialShown, this, count);
    connect(&w, &MainWindow::analysisShown, this, count);
    s->setSliderDown(true);
    // A hand moves the handle about every 16 ms; keep moving until three different
    // budgets were shown (or give up after a long time: that is the failure).
    QElapsedTimer t;
    t.start();
    int k = 0;
    while (budgetsShown.size() < 3 && t.elapsed() < 300000) {
        s->setValue(s->minimum() + 200 + (k * 3) % 600);
        ++k;
        QTest::qWait(16);
    }
    s->setSliderDown(false);
    QVERIFY2(budgetsShown.size() >= 3, qPrintable(QStringLiteral("%1 results while dragging, %2 moves").arg(shownWhileDragging).arg(k)));
    // After release the last value is computed in full.
    QVERIFY(waitCurrent(w, 600000));
    QCOMPARE(w.lastOutput()->scenario.selection.value, sparsity->value());
    QCOMPARE(w.scenarioPanel()->history()->count() >= 1, true);
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiControls>(argc, argv, "tst_gui_controls"); }

#include "tst_gui_controls.moc"
