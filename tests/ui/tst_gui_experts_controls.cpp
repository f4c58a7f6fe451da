// The Experts controls (issue 11): for a model with experts the Scenario panel shows the
// expert policy (the core's list, allExpertPolicies) and tier 0's share for experts; they
// edit the scenario's "experts" section, rerun the analysis (the times are the core
// pipeline's for that scenario), are saved and loaded with it; static disables the share;
// a dense model hides the group. The sweep view offers experts.hbm_share as a knob for a
// model with experts only, and its points are the CLI's `sweep --vary
// experts.hbm_share=0:1:0.1` of the same scenario.
//
// The MoE trace is generated (drift, P = 512, T = 48, L = 32) with E = 8 experts per
// layer, 4 tokens a step routed to 2 each; the model is mixtral-8x7b-moe (L = 32, E = 8,
// 352 MB per expert, W = 93.4 GB of which 3.2 GB dense) on gh200-hbm3 (96 GB HBM3).
// Static: the 256 experts (90.2 GB) fill HBM after the dense weights. lru at 30 %: room
// 96 - 3.2 = 92.8 GB, budget floor(0.3 x 92.8 GB / 352 MB) = 79 experts in HBM, the other
// 177 in LPDDR5X, so steps read experts from LPDDR5X and the times change.
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/view_compare.hpp"
#include "core/engine/view_sweep.hpp"
#include "core/engine/view_sweep2d.hpp"
#include "core/model/experts.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/sweep_view.hpp"
#include "ui/value_slider.hpp"

#include "gui_test_main.hpp"
#include <QComboBox>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

namespace {

const QString kShareKnob = QStringLiteral("experts' HBM share");

// The comparison view's bar of `policy` (ms per output token).
double barValue(ComparisonView* c, const QString& policy)
{
    const auto key = c->barOrder().indexOf(policy);
    for (QCPBars* bars : {c->onlineBars(), c->oracleBars()})
        for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
            if (static_cast<qsizetype>(it->key) == key)
                return it->value;
    return qQNaN();
}

double rowTime(const AnalysisResult& r, const std::string& policy)
{
    for (const ComparisonRow& row : comparisonRows(r))
        if (row.name == policy)
            return row.time_per_token;
    return qQNaN();
}

} // namespace

class TestGuiExpertsControls : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void moeModelShowsTheGroup();
    void policyAndShareRerunTheAnalysis();
    void staticDisablesTheShare();
    void loadedAndSavedWithTheScenario();
    void denseModelHidesTheGroup();
    void sweepOverTheShareIsTheClis();
    void shareAsTheSecondKnob();

private:
    QString writeScenario(const QString& file, const std::string& trace, const std::string& model,
                          const nlohmann::json& experts = nullptr);
    QTemporaryDir dir_;
    QString db_, moeFile_, denseFile_;
    std::unique_ptr<MainWindow> w_;
    QStringList errors_;
};

void TestGuiExpertsControls::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("experts.sqlite"));
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    for (const char* name : {"moe", "dense"}) {
        GeneratorParams p = generatorPreset("drift");
        p.seed = 7;
        p.prefill = 512;
        p.steps = 48;
        p.layers = 32;
        p.keep_top = 96;
        p.burst_min_age = 64;
        if (std::string(name) == "moe") {
            p.experts = 8;
            p.expert_top_k = 2;
            p.expert_tokens = 4;
        }
        TraceMeta meta = generatorMeta(p);
        meta.name = name;
        auto writer = store->beginTrace(meta, Encoding::SparseF32);
        generate(p, [&](const Record& r) { writer->add(r); });
        writer->setExperts(generateExperts(p));   // empty for the dense trace
        writer->commit();
    }
    store.reset();
    moeFile_ = writeScenario(QStringLiteral("moe.kvtier.json"), "moe", "mixtral-8x7b-moe");
    denseFile_ = writeScenario(QStringLiteral("dense.kvtier.json"), "dense", "llama-3-8b");
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
}

QString TestGuiExpertsControls::writeScenario(const QString& file, const std::string& trace, const std::string& model,
                                              const nlohmann::json& experts)
{
    nlohmann::json sc = {{"trace", {{"db", db_.toStdString()}, {"name", trace}}},
                         {"model", model},
                         {"hardware", "gh200-hbm3"},
                         {"selection", {{"mode", "ratio"}, {"value", 0.2}, {"sinks", 4}, {"window", 16}, {"page_tokens", 1}}},
                         {"batch", 32},
                         {"policies", {"first-fit", "lru"}}};
    if (!experts.is_null())
        sc["experts"] = experts;
    const QString path = dir_.filePath(file);
    std::ofstream(path.toStdString()) << sc.dump(2);
    return path;
}

void TestGuiExpertsControls::init()
{
    errors_.clear();
    w_ = std::make_unique<MainWindow>();
    w_->resize(1400, 900);
    QVERIFY(w_->loadScenarioFile(moeFile_));
    QVERIFY(waitCurrent(*w_));
    QCOMPARE(w_->scenario().model.experts, 8);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiExpertsControls::cleanup()
{
    w_.reset();
    QSettings().clear();
}

// The group is there, with every expert policy of the core in its order, static (the
// default) chosen and the share at the default 50 %.
void TestGuiExpertsControls::moeModelShowsTheGroup()
{
    ScenarioPanel* panel = w_->scenarioPanel();
    QVERIFY(!panel->expertsGroup()->isHidden());
    QComboBox* combo = panel->expertPolicyCombo();
    QCOMPARE(combo->count(), static_cast<int>(allExpertPolicies().size()));
    for (int i = 0; i < combo->count(); ++i) {
        const ExpertPolicy p = allExpertPolicies()[static_cast<size_t>(i)];
        QCOMPARE(combo->itemData(i).toString(), QString::fromLatin1(toString(p)));
        QVERIFY(!combo->itemData(i, Qt::ToolTipRole).toString().isEmpty());
    }
    QCOMPARE(combo->currentData().toString(), QStringLiteral("static"));
    QCOMPARE(panel->expertShareSlider()->value(), 0.5);
    QCOMPARE(panel->expertShareSlider()->edit()->text(), QStringLiteral("50 %"));
    QVERIFY(!panel->expertShareSlider()->isEnabled());
}

// lru, then 30 % typed: the scenario the window analysed has them, each change is an undo
// step, and every policy's time is the core pipeline's for that scenario (and not the
// static one's).
void TestGuiExpertsControls::policyAndShareRerunTheAnalysis()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    const AnalysisOutputPtr before = w.lastOutput();
    QVERIFY(before && before->result);
    const double staticLru = rowTime(*before->result, "lru");
    QComboBox* combo = panel->expertPolicyCombo();
    combo->setCurrentIndex(combo->findData(QStringLiteral("lru")));
    QCOMPARE(w.scenario().experts.policy, ExpertPolicy::Lru);
    QCOMPARE(panel->history()->undoText(), QStringLiteral("expert policy"));
    QVERIFY(panel->expertShareSlider()->isEnabled());
    QVERIFY(panel->expertShareHint()->isHidden());
    QVERIFY(panel->expertShareSlider()->enterText(QStringLiteral("30 %")));
    QCOMPARE(panel->history()->undoText(), QStringLiteral("HBM share for experts"));
    QVERIFY(waitCurrent(w));
    const AnalysisOutputPtr out = w.lastOutput();
    QVERIFY(out && out->result);
    QCOMPARE(out->scenario.experts.policy, ExpertPolicy::Lru);
    QCOMPARE(out->scenario.experts.hbm_share, 0.3);
    Pipeline clean;
    const AnalysisResult truth = clean.run(w.scenario());
    QCOMPARE(out->result->policies.size(), truth.policies.size());
    for (size_t i = 0; i < truth.policies.size(); ++i)
        QCOMPARE(out->result->policies[i].timing->total_time, truth.policies[i].timing->total_time);
    // The comparison's bar (ms per output token) is that time.
    const double lru = rowTime(truth, "lru");
    QVERIFY(std::isfinite(lru) && lru > 0);
    QCOMPARE(barValue(w.comparisonView(), QStringLiteral("lru")), lru * 1e3);
    // 177 of the 256 experts now live in LPDDR5X: the time is not static's.
    QVERIFY2(std::abs(lru - staticLru) > 1e-6 * staticLru, qPrintable(QStringLiteral("%1 vs %2").arg(lru).arg(staticLru)));
    // Undo walks back to 50 %, then to static.
    panel->history()->undo();
    QCOMPARE(w.scenario().experts.hbm_share, 0.5);
    QCOMPARE(panel->expertShareSlider()->value(), 0.5);
    panel->history()->undo();
    QCOMPARE(w.scenario().experts.policy, ExpertPolicy::Static);
    QCOMPARE(combo->currentData().toString(), QStringLiteral("static"));
    QVERIFY(waitCurrent(w));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

void TestGuiExpertsControls::staticDisablesTheShare()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    QComboBox* combo = panel->expertPolicyCombo();
    combo->setCurrentIndex(combo->findData(QStringLiteral("belady")));
    QVERIFY(panel->expertShareSlider()->isEnabled());
    QVERIFY(panel->expertShareHint()->isHidden());
    combo->setCurrentIndex(combo->findData(QStringLiteral("static")));
    QCOMPARE(w.scenario().experts.policy, ExpertPolicy::Static);
    QVERIFY(!panel->expertShareSlider()->isEnabled());
    QVERIFY(!panel->expertShareHint()->isHidden());
    QVERIFY(panel->expertShareHint()->text().contains(QStringLiteral("static")));
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.lastOutput()->scenario.experts.policy, ExpertPolicy::Static);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

// A scenario file's experts {lru, 0.25} show in the controls; Save scenario writes the
// values the controls set.
void TestGuiExpertsControls::loadedAndSavedWithTheScenario()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    const QString file = writeScenario(QStringLiteral("lru25.kvtier.json"), "moe", "mixtral-8x7b-moe",
                                       {{"policy", "lru"}, {"hbm_share", 0.25}});
    QVERIFY(w.loadScenarioFile(file));
    QVERIFY(waitCurrent(w));
    QCOMPARE(panel->expertPolicyCombo()->currentData().toString(), QStringLiteral("lru"));
    QCOMPARE(panel->expertShareSlider()->value(), 0.25);
    QCOMPARE(panel->expertShareSlider()->edit()->text(), QStringLiteral("25 %"));
    QVERIFY(panel->expertShareSlider()->isEnabled());
    QCOMPARE(w.lastOutput()->scenario.experts, (ExpertResidencyConfig{ExpertPolicy::Lru, 0.25}));
    // Set by the controls, then saved: the file holds them.
    QComboBox* combo = panel->expertPolicyCombo();
    combo->setCurrentIndex(combo->findData(QStringLiteral("frequency-oracle")));
    QVERIFY(panel->expertShareSlider()->enterText(QStringLiteral("70")));   // a bare number is in %
    QCOMPARE(w.scenario().experts.hbm_share, 0.7);
    const QString saved = dir_.filePath(QStringLiteral("saved.kvtier.json"));
    QVERIFY(w.saveScenarioFile(saved));
    std::ifstream in(saved.toStdString());
    const nlohmann::json j = nlohmann::json::parse(in);
    QCOMPARE(j.at("experts").at("policy").get<std::string>(), std::string("frequency-oracle"));
    QCOMPARE(j.at("experts").at("hbm_share").get<double>(), 0.7);
    QVERIFY(waitCurrent(w));
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

// A dense model hides the group and the sweep's share knob; choosing a model preset with
// experts shows the group again, and a preset without hides it.
void TestGuiExpertsControls::denseModelHidesTheGroup()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    SweepView* sweep = w.sweepView();
    QVERIFY(sweep->knob()->findText(kShareKnob) >= 0);
    QVERIFY(sweep->knob2()->findText(kShareKnob) >= 0);
    // The model combo: a dense preset hides the group, the MoE preset shows it again
    // (an undo of the choice, before any analysis of the dense model on the MoE trace).
    QComboBox* model = panel->modelCombo();
    model->setCurrentIndex(model->findData(QStringLiteral("llama-3-8b")));
    QVERIFY(panel->expertsGroup()->isHidden());
    model->setCurrentIndex(model->findData(QStringLiteral("mixtral-8x7b-moe")));
    QVERIFY(!panel->expertsGroup()->isHidden());
    QVERIFY(waitCurrent(w));
    errors_.clear();   // the dense model on the MoE trace may have been refused meanwhile
    // A dense scenario.
    QVERIFY(w.loadScenarioFile(denseFile_));
    QVERIFY(waitCurrent(w));
    QCOMPARE(w.scenario().model.experts, 0);
    QVERIFY(panel->expertsGroup()->isHidden());
    QCOMPARE(sweep->knob()->findText(kShareKnob), -1);
    QCOMPARE(sweep->knob2()->findText(kShareKnob), -1);
    QCOMPARE(sweep->knob()->count(), 4);
    QCOMPARE(sweep->knob2()->count(), 5);
    // And back to the MoE scenario: offered again, last in both lists.
    QVERIFY(w.loadScenarioFile(moeFile_));
    QVERIFY(waitCurrent(w));
    QVERIFY(!panel->expertsGroup()->isHidden());
    QCOMPARE(sweep->knob()->findText(kShareKnob), 4);
    QCOMPARE(sweep->knob2()->findText(kShareKnob), 5);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

// 0 to 1 in 11 points with lru: the same points, and for every point and policy the same
// throughput (tokens / total time), as the core's sweep over the scenario's JSON with the
// CLI's axis experts.hbm_share=0:1:0.1, from a fresh pipeline.
void TestGuiExpertsControls::sweepOverTheShareIsTheClis()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    panel->expertPolicyCombo()->setCurrentIndex(panel->expertPolicyCombo()->findData(QStringLiteral("lru")));
    QVERIFY(waitCurrent(w));
    SweepView* sweep = w.sweepView();
    sweep->knob()->setCurrentIndex(sweep->knob()->findText(kShareKnob));
    QCOMPARE(sweep->pointCount()->value(), 11);   // the default: every tenth
    sweep->setRange(0, 1);
    QSignalSpy done(sweep, &SweepView::finished);
    sweep->run();
    QVERIFY(done.wait(120000));
    const auto r = sweep->result();
    QVERIFY(r && !r->twoD && !r->cancelled && r->error.isEmpty());
    QCOMPARE(r->points.size(), size_t{11});
    Pipeline fresh;
    const kvtier::SweepResult ref = runSweep(fresh, scenarioToJson(w.scenario()), "reference", PresetLibrary::loadBuiltin(),
                                             {parseSweepAxis("experts.hbm_share=0:1:0.1")});
    QCOMPARE(ref.points.size(), size_t{11});
    QCOMPARE(r->policies, ref.policies);
    int changes = 0;
    for (size_t i = 0; i < 11; ++i) {
        QCOMPARE(r->points[i].x, ref.points[i].x[0]);
        QVERIFY(ref.points[i].error.empty());
        const SweepSeriesPoint want = sweepSeriesPoint(ref.points[i], ref.policies.size());
        QVERIFY(r->points[i].feasible);
        for (size_t k = 0; k < ref.policies.size(); ++k) {
            QVERIFY(ref.points[i].policies[k].total_time_s > 0);
            QCOMPARE(r->points[i].policyThroughput[k], want.policy[k]);
        }
        changes += ref.points[i].policies[1].total_time_s != ref.points[0].policies[1].total_time_s;
    }
    QVERIFY(changes > 0);   // the share changes lru's time: the curve is not flat
    QCOMPARE(r->points[3].x, 3 * 0.1);   // the CLI's start + i * step, not 3 / 10.0
    QCOMPARE(sweep->plot()->xAxis->label(), kShareKnob);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

// The share as the second knob of a 2-D sweep: the grid of best times is the core's.
void TestGuiExpertsControls::shareAsTheSecondKnob()
{
    MainWindow& w = *w_;
    ScenarioPanel* panel = w.scenarioPanel();
    panel->expertPolicyCombo()->setCurrentIndex(panel->expertPolicyCombo()->findData(QStringLiteral("lfu")));
    QVERIFY(waitCurrent(w));
    SweepView* sweep = w.sweepView();
    sweep->knob()->setCurrentIndex(3);   // batch
    sweep->knob2()->setCurrentIndex(sweep->knob2()->findText(kShareKnob));
    sweep->pointCount()->setValue(3);
    sweep->setRange(8, 32);
    sweep->setRange2(0, 1);
    QSignalSpy done(sweep, &SweepView::finished);
    sweep->run();
    QVERIFY(done.wait(120000));
    const auto r = sweep->result();
    QVERIFY(r && r->twoD && !r->cancelled && r->error.isEmpty());
    QCOMPARE(r->finished(), 9);
    QCOMPARE(r->grid.y, (std::vector<double>{0, 0.5, 1}));
    QCOMPARE(r->grid.x, (std::vector<double>{8, 16, 32}));
    Pipeline fresh;
    const kvtier::SweepResult ref = runSweep(fresh, scenarioToJson(w.scenario()), "reference", PresetLibrary::loadBuiltin(),
                                             {parseSweepAxis("batch=8,16,32"), parseSweepAxis("experts.hbm_share=0:1:0.5")});
    const SweepGrid2d want = sweepGrid2d(ref);
    for (size_t c = 0; c < 9; ++c) {
        QVERIFY(std::isfinite(want.best_time_s[c]));
        QCOMPARE(r->grid.best_time_s[c], want.best_time_s[c]);
        QCOMPARE(r->grid.best_policy[c], want.best_policy[c]);
    }
    QCOMPARE(sweep->plot()->yAxis->label(), kShareKnob);
    QVERIFY2(errors_.isEmpty(), qPrintable(errors_.join('\n')));
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiExpertsControls>(argc, argv, "tst_gui_experts_controls"); }
#include "tst_gui_experts_controls.moc"
