// The GUI's streamed analysis (docs/GUI.md "Streamed analysis", issue 13): the worker's
// streamed answer equals its whole-trace answer (step times, totals, bounds, relevance and
// placement heatmap cells) on a small generated per-layer trace; the automatic rule streams
// exactly above its (injected) budget; a cancelled stream shows and keeps nothing; every
// view says plainly what a streamed run cannot show.
#include "test_support.hpp"

#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/engine/stream_rule.hpp"
#include "core/engine/view_compare.hpp"
#include "ui/stream_notes.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/bandwidth_view.hpp"
#include "ui/comparison_view.hpp"
#include "core/model/error.hpp"
#include "ui/error_sink.hpp"
#include "ui/explain_panel.hpp"
#include "ui/export_actions.hpp"
#include "ui/exporter.hpp"
#include "ui/heatmaps.hpp"
#include "ui/infeasible_banner.hpp"
#include "ui/job_runner.hpp"
#include "ui/layer_link.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/placement_view.hpp"
#include "ui/relevance_view.hpp"

#include "gui_test_main.hpp"
#include <QAction>
#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <atomic>
#include <cmath>
#include <fstream>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

class TestGuiStream : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanup();
    void streamedEqualsWhole();
    void streamedRunCarriesTheWindowedBound();
    void expertHeatmapStreamedEqualsWhole();
    void autoRuleStreamsAboveBudget();
    void cancelledStreamKeepsNothing();
    void cancelKeepsPreviousResultShown();
    void viewsSayWhatStreamingLeavesOut();
    void memoryErrorsAreRecognised();

private:
    nlohmann::json scenarioJson() const;
    Scenario scenario() const;
    std::unique_ptr<MainWindow> open(double budget, bool stream);
    AnalysisRequest request(bool stream, double budget) const;
    QTemporaryDir dir_;
    QString db_;
    QStringList errors_;
};

namespace {

constexpr int64_t kPrefill = 48, kSteps = 40;
constexpr int32_t kLayers = 2;

// Both images' cells, NaN for NaN.
void compareCells(QCPColorMapData& a, QCPColorMapData& b)
{
    QCOMPARE(a.keySize(), b.keySize());
    QCOMPARE(a.valueSize(), b.valueSize());
    for (int y = 0; y < a.valueSize(); ++y)
        for (int x = 0; x < a.keySize(); ++x) {
            const double u = a.cell(x, y), v = b.cell(x, y);
            if (std::isnan(u))
                QVERIFY(std::isnan(v));
            else
                QCOMPARE(u, v);
        }
}

} // namespace

void TestGuiStream::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("stream.sqlite"));
    GeneratorParams g;
    g.seed = 13;
    g.prefill = kPrefill;
    g.steps = kSteps;
    g.layers = kLayers;
    g.per_layer = true;
    test::storeTrace(db_.toStdString(), generateTrace(g, "small"));
    g.steps = 24;
    g.experts = 8;
    g.expert_top_k = 2;
    g.expert_zipf = 1.2;
    test::storeTrace(db_.toStdString(), generateTrace(g, "moe"));
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
    AnalysisWorker::setBoundsSettleMs(0);
}

void TestGuiStream::cleanup() { QSettings().clear(); }

// HBM holds a quarter of the 88 tokens' units (of 2 layers) after the weights: policies
// differ and lower-tier reads happen, so the heatmaps hold every category.
nlohmann::json TestGuiStream::scenarioJson() const
{
    return {{"trace", {{"db", db_.toStdString()}, {"name", "small"}}},
            {"model", {{"layers", kLayers}, {"kv_bytes_per_token_layer", 64}, {"weight_bytes", 512}}},
            {"hardware", {{"tiers", {{{"name", "HBM3"}, {"capacity_bytes", 512 + 64.0 * 2 * 22}, {"bandwidth", 1e6}, {"reserve_bytes", 0}},
                                     {{"name", "LPDDR5X"}, {"capacity_bytes", 1e9}, {"bandwidth", 1e5}, {"link_read", 5e4},
                                      {"link_write", 5e4}, {"reserve_bytes", 0}}}}}},
            {"selection", {{"mode", "ratio"}, {"value", 0.25}, {"sinks", 0}, {"window", 0}, {"page_tokens", 1}}},
            {"placement", {{"inclusive", false}, {"route", "home"}, {"weights_in_fast_tier", 1.0}}},
            {"batch", 1},
            {"policies", {"first-fit", "lru", "belady"}}};
}

Scenario TestGuiStream::scenario() const
{
    return scenarioFromJson(scenarioJson(), "test scenario", PresetLibrary::loadBuiltin());
}

AnalysisRequest TestGuiStream::request(bool stream, double budget) const
{
    AnalysisRequest r;
    r.id = 1;
    r.scenario = scenario();
    // Pooled below one cell per step and token (40 steps, 88 tokens), both layers' maximum.
    r.view.relevance.width = r.view.placement.width = 30;
    r.view.relevance.height = r.view.placement.height = 20;
    r.view.policy = "lru";
    r.stream = stream;
    r.wholeTraceBudget = budget;
    return r;
}

std::unique_ptr<MainWindow> TestGuiStream::open(double budget, bool stream)
{
    const QString file = dir_.filePath(QStringLiteral("small.kvtier.json"));
    std::ofstream(file.toStdString()) << scenarioJson().dump(2);
    errors_.clear();
    auto w = std::make_unique<MainWindow>();
    w->controller()->setWholeTraceBudget(budget);
    w->setStreaming(stream);
    w->resize(1400, 900);
    w->show();
    if (!w->loadScenarioFile(file) || !waitCurrent(*w)) {
        qWarning("%s", qPrintable(errors_.join(QLatin1Char('\n'))));
        return nullptr;
    }
    // The views ask again for their window once they know the trace: wait for that answer.
    QTest::qWait(300);
    if (!waitCurrent(*w))
        return nullptr;
    return w;
}

// The worker's streamed answer is its whole-trace answer for every online policy, both
// bounds and both heatmaps; the oracle is left out, by name, and has no outcome.
void TestGuiStream::streamedEqualsWhole()
{
    AnalysisWorker worker(std::make_shared<Pipeline>());
    const AnalysisOutputPtr whole = worker.process(request(false, 0), {});
    const AnalysisOutputPtr streamed = worker.process(request(true, 0), {});
    QVERIFY2(whole->result, qPrintable(whole->error));
    QVERIFY2(streamed->result, qPrintable(streamed->error));
    QVERIFY(!whole->streamed());
    QVERIFY(streamed->streamed());
    QVERIFY(!streamed->stream->automatic);
    QVERIFY(streamed->stream->report.oracles_left_out.empty());   // the oracles run on their spilled future
    QCOMPARE(streamed->stream->report.windows, int64_t{1});   // 40 steps fit the default window
    QVERIFY(holdsStepLists(*whole->result));
    QVERIFY(!holdsStepLists(*streamed->result));
    QVERIFY(whole->result->relevance);
    QVERIFY(!streamed->result->relevance);
    QVERIFY(whole->outcome("belady") && whole->outcome("belady")->info.name == "belady");
    QCOMPARE(streamed->result->policies.size(), size_t{3});
    for (const char* name : {"first-fit", "lru", "belady"}) {
        const PolicyOutcome* a = whole->outcome(name);
        const PolicyOutcome* b = streamed->outcome(name);
        QVERIFY(a && b && a->timing && b->timing);
        QCOMPARE(b->info.name, std::string(name));
        QCOMPARE(b->timing->steps, kSteps);
        QCOMPARE(b->timing->step_time, a->timing->step_time);   // std::vector: exact ==
        QVERIFY(b->timing->total_time == a->timing->total_time);   // exactly
        QVERIFY(b->timing->migrated_bytes == a->timing->migrated_bytes);   // exactly
        QVERIFY(b->timing->hbmHitRatio() == a->timing->hbmHitRatio());   // exactly
        QVERIFY(b->gapToBound == a->gapToBound);   // exactly
    }
    // The policies differ here (the comparison is not of two trivial runs).
    QVERIFY(whole->outcome("lru")->timing->total_time != whole->outcome("first-fit")->timing->total_time);
    QCOMPARE(streamed->result->balanced->step_time, whole->result->balanced->step_time);
    QCOMPARE(streamed->result->paper->step_time, whole->result->paper->step_time);

    // The heatmaps pooled while streaming: the whole run's cells, one for one (all steps
    // and rows, both layers' maximum; below, a zoomed window of layer 1).
    QVERIFY(whole->relevance && streamed->relevance && whole->placement && streamed->placement);
    QCOMPARE(streamed->relevance->grid.nx, int64_t{30});
    QCOMPARE(streamed->relevance->grid.ny, int64_t{20});
    compareCells(*whole->relevance->values, *streamed->relevance->values);
    compareCells(*whole->relevance->selected, *streamed->relevance->selected);
    QCOMPARE(streamed->relevance->vmin, whole->relevance->vmin);
    QCOMPARE(streamed->relevance->vmax, whole->relevance->vmax);
    QCOMPARE(streamed->placement->policy, std::string("lru"));
    compareCells(*whole->placement->categories, *streamed->placement->categories);
    QCOMPARE(streamed->placement->promotions, whole->placement->promotions);
    QCOMPARE(streamed->placement->evictions, whole->placement->evictions);
    QVERIFY(!whole->placement->promotions.isEmpty());   // lru moves units: the marks are compared

    AnalysisRequest zoomed = request(false, 0);
    for (HeatmapWindow* h : {&zoomed.view.relevance, &zoomed.view.placement}) {
        h->t0 = 5;
        h->t1 = 33;
        h->y0 = 10;
        h->y1 = 61;
        h->layer = 1;
    }
    const AnalysisOutputPtr wholeZoom = worker.process(zoomed, {});
    zoomed.stream = true;
    const AnalysisOutputPtr streamedZoom = worker.process(zoomed, {});
    QVERIFY(wholeZoom->relevance && streamedZoom->relevance && wholeZoom->placement && streamedZoom->placement);
    QCOMPARE(streamedZoom->relevance->grid.window, wholeZoom->relevance->grid.window);
    QCOMPARE(streamedZoom->relevance->grid.window.layer, 1);
    compareCells(*wholeZoom->relevance->values, *streamedZoom->relevance->values);
    compareCells(*wholeZoom->relevance->selected, *streamedZoom->relevance->selected);
    compareCells(*wholeZoom->placement->categories, *streamedZoom->placement->categories);
    QCOMPARE(streamedZoom->placement->promotions, wholeZoom->placement->promotions);
}

// The certified bound on while streaming: the worker's streamed answer carries the windowed
// migration-aware bound (docs/BOUNDS.md "Windows") with its comparison row and the fastest
// policy as its schedule; the annealed schedule is left out with a note.
void TestGuiStream::streamedRunCarriesTheWindowedBound()
{
    AnalysisWorker worker(std::make_shared<Pipeline>());
    AnalysisRequest r = request(true, 0);
    r.scenario.bounds.migration_aware.enabled = true;
    r.scenario.bounds.migration_aware.iterations = 40;
    r.scenario.bounds.migration_aware.time_budget_s = 600;
    const AnalysisOutputPtr out = worker.process(r, {});
    QVERIFY2(out->result, qPrintable(out->error));
    QVERIFY(out->streamed());
    QVERIFY(out->boundsNote.isEmpty());
    QVERIFY(out->result->migration_bound);
    const MigrationBoundResult& m = *out->result->migration_bound;
    QCOMPARE(m.windows, out->stream->report.windows);
    QVERIFY(m.total_time >= out->result->balanced->total_time);
    const PolicyOutcome* fastest = nullptr;
    for (const PolicyOutcome& o : out->result->policies) {
        QVERIFY(m.total_time <= o.timing->total_time);
        if (!fastest || o.timing->total_time < fastest->timing->total_time) fastest = &o;
    }
    QVERIFY(m.schedule_time() == fastest->timing->total_time);
    QCOMPARE(m.schedule_source, "policy " + fastest->info.name);
    const std::vector<ComparisonRow> rows = comparisonRows(*out->result);
    QVERIFY(std::any_of(rows.begin(), rows.end(), [](const ComparisonRow& x) { return x.name == "migration_aware"; }));
    QVERIFY(streamedLeftOut(*out, "schedule").contains(QString::fromStdString(fastest->info.name)));
    QVERIFY(!streamSummary(*out).contains(QStringLiteral("certified")));

    r.scenario.bounds.annealed.enabled = true;
    const AnalysisOutputPtr annealed = worker.process(r, {});
    QVERIFY2(annealed->result, qPrintable(annealed->error));
    QVERIFY(annealed->result->migration_bound && !annealed->result->annealed);
    QVERIFY(annealed->boundsNote.contains(QStringLiteral("annealed schedule")));
    QVERIFY(streamSummary(*annealed).contains(QStringLiteral("the annealed schedule")));
}

// A MoE trace (2 layers x 8 experts, lru over 4 of the 16): the expert heatmap of the shown
// policy's residency, drawn from a streamed result, is the whole-trace one cell for cell.
void TestGuiStream::expertHeatmapStreamedEqualsWhole()
{
    nlohmann::json sc = scenarioJson();
    sc["trace"]["name"] = "moe";
    sc["model"]["experts"] = 8;
    sc["model"]["expert_bytes"] = 256;
    sc["model"]["weight_bytes"] = 512 + 2 * 8 * 256;
    sc["hardware"]["tiers"][0]["capacity_bytes"] = 512 + 4096 + 64.0 * 2 * 40;
    sc["experts"] = {{"policy", "lru"}, {"hbm_share", 0.12}};
    AnalysisRequest r = request(false, 0);
    r.scenario = scenarioFromJson(sc, "moe scenario", PresetLibrary::loadBuiltin());
    r.view.experts.width = 16;
    r.view.experts.height = 8;
    r.view.experts.layer = 1;
    AnalysisWorker worker(std::make_shared<Pipeline>());
    const AnalysisOutputPtr whole = worker.process(r, {});
    r.stream = true;
    const AnalysisOutputPtr streamed = worker.process(r, {});
    QVERIFY2(whole->result, qPrintable(whole->error));
    QVERIFY2(streamed->result, qPrintable(streamed->error));
    QVERIFY(streamed->streamed());
    QCOMPARE(streamed->outcome("lru")->timing->step_time, whole->outcome("lru")->timing->step_time);
    QVERIFY(whole->experts && streamed->experts);
    QCOMPARE(streamed->experts->grid.grid.window.layer, 1);
    QCOMPARE(streamed->experts->grid.grid.nx, whole->experts->grid.grid.nx);
    compareCells(*whole->experts->classes, *streamed->experts->classes);
    QCOMPARE(streamed->experts->grid.category, whole->experts->grid.category);
    QCOMPARE(streamed->experts->grid.tier, whole->experts->grid.tier);
    // Experts live in both tiers: the cells compared are not all of one kind.
    const auto& tiers = whole->experts->grid.tier;
    QVERIFY(std::find(tiers.begin(), tiers.end(), 0) != tiers.end() && std::find(tiers.begin(), tiers.end(), 1) != tiers.end());
}

// Whole-trace estimate above the budget: streamed, automatically; at the budget: whole.
void TestGuiStream::autoRuleStreamsAboveBudget()
{
    const Scenario s = scenario();
    const auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadOnly);
    const int64_t entries = store->get("small").entries;
    // analysisBytesEstimate by hand: 16 B per entry; 2 x 40 records at 32 + 48 x 2 tiers x
    // 3 policies B; 88 pages x 2 layers = 176 units at 24 + 40 x 3 + 2 x 3 = 150 B.
    const double whole = wholeTraceBytes(s);
    QCOMPARE(whole, 16.0 * static_cast<double>(entries) + 80.0 * 320.0 + 176.0 * 150.0);
    QVERIFY(needsStreaming(whole, whole - 1));
    QVERIFY(!needsStreaming(whole, whole));

    AnalysisWorker worker(std::make_shared<Pipeline>());
    const AnalysisOutputPtr at = worker.process(request(false, whole), {});
    QVERIFY2(at->result, qPrintable(at->error));
    QVERIFY(!at->streamed());
    AnalysisWorker fresh(std::make_shared<Pipeline>());
    const AnalysisOutputPtr above = fresh.process(request(false, whole - 1), {});
    QVERIFY2(above->result, qPrintable(above->error));
    QVERIFY(above->streamed());
    QVERIFY(above->stream->automatic);
    QCOMPARE(above->stream->whole_bytes, whole);
    QCOMPARE(above->stream->budget_bytes, whole - 1);
    QCOMPARE(above->outcome("lru")->timing->step_time, at->outcome("lru")->timing->step_time);

    // The window: the same rule through the controller; the line above the views says why.
    std::unique_ptr<MainWindow> w = open(whole - 1, false);
    QVERIFY(w);
    QVERIFY(!w->streaming());
    QVERIFY(!w->streamAction()->isChecked());
    QVERIFY(w->lastOutput()->streamed());
    QVERIFY(w->streamNote().contains(QStringLiteral("above the budget")));
    QVERIFY(w->findChild<QLabel*>(QStringLiteral("streamNote"))->isVisible());
    // A larger budget: the same trace whole again, and the line goes.
    w->controller()->setWholeTraceBudget(whole);
    w->recompute();
    QTRY_VERIFY_WITH_TIMEOUT(!w->busy() && !w->lastOutput()->streamed(), 60000);
    QVERIFY(w->streamNote().isEmpty());
    QVERIFY(!w->findChild<QLabel*>(QStringLiteral("streamNote"))->isVisible());
    QVERIFY(errors_.isEmpty());
}

// A stream cancelled after its last window throws Cancelled and keeps nothing: the same
// request streams again in full (its progress runs to 1), and only that answer is kept.
void TestGuiStream::cancelledStreamKeepsNothing()
{
    AnalysisWorker worker(std::make_shared<Pipeline>());
    std::atomic<bool> flag{false};
    JobControl cancelling;
    cancelling.cancel = &flag;
    cancelling.progress = [&](double) { flag = true; };   // cancelled once a window was analysed
    bool threw = false;
    try {
        worker.process(request(true, 0), cancelling);
    } catch (const Cancelled&) {
        threw = true;
    }
    QVERIFY(threw);

    std::vector<double> reports;
    JobControl watched;
    watched.progress = [&](double f) { reports.push_back(f); };
    const AnalysisOutputPtr first = worker.process(request(true, 0), watched);
    QVERIFY2(first->result, qPrintable(first->error));
    QVERIFY(!reports.empty());   // it streamed: nothing of the cancelled run was kept
    QCOMPARE(reports.back(), 1.0);
    for (size_t i = 1; i < reports.size(); ++i)
        QVERIFY(reports[i] >= reports[i - 1]);
    // The same request again: the kept answer, no second pass.
    reports.clear();
    const AnalysisOutputPtr again = worker.process(request(true, 0), watched);
    QVERIFY(reports.empty());
    QVERIFY(again->streamed());
    QCOMPARE(again->relevance->key, first->relevance->key);
    compareCells(*again->relevance->values, *first->relevance->values);
}

// Turning streaming on and cancelling at once: the whole result stays on screen.
void TestGuiStream::cancelKeepsPreviousResultShown()
{
    std::unique_ptr<MainWindow> w = open(0, false);
    QVERIFY(w);
    const AnalysisOutputPtr before = w->lastOutput();
    QVERIFY(!before->streamed());
    QSignalSpy cancelled(w->controller()->runner(), &JobRunner::cancelled);
    QSignalSpy results(w.get(), &MainWindow::analysisShown);
    w->setStreaming(true);
    QVERIFY(w->streamAction()->isChecked());
    QVERIFY(w->controller()->busy());
    const uint64_t id = w->controller()->latestId();
    w->cancelComputation();
    QTRY_VERIFY_WITH_TIMEOUT(!w->controller()->busy(), 30000);
    QCoreApplication::processEvents();
    QVERIFY(!cancelled.isEmpty());
    for (const auto& r : results)
        QVERIFY(r.at(0).value<AnalysisOutputPtr>()->id != id);
    QCOMPARE(w->lastOutput(), before);
    QVERIFY(!w->lastOutput()->streamed());
    QVERIFY(w->streamNote().isEmpty());
    QVERIFY(w->relevanceView()->plotTitle().contains(QStringLiteral("turnover")));
    QVERIFY(errors_.isEmpty());
}

// Streamed, every view shows its data or says why not: the oracle's views, the relevance
// statistics, the token timeline, one layer's step breakdown, the full-resolution CSV.
void TestGuiStream::viewsSayWhatStreamingLeavesOut()
{
    std::unique_ptr<MainWindow> w = open(0, true);
    QVERIFY(w);
    QVERIFY(w->streaming());
    AnalysisOutputPtr out = w->lastOutput();
    QVERIFY(out->streamed());
    QVERIFY(!out->stream->automatic);
    QVERIFY(w->streamNote().contains(QStringLiteral("Stream the trace")));
    // The oracles run on their spilled future: nothing of them is left out.
    QVERIFY(!w->streamNote().contains(QStringLiteral("belady")));
    QVERIFY(!w->comparisonView()->note()->text().contains(QStringLiteral("left out")));
    QVERIFY(w->relevanceView()->plotTitle().contains(QStringLiteral("statistics: whole trace only, not while streamed")));
    QVERIFY(w->relevanceView()->tokenPanelText().contains(QStringLiteral("not available while streamed")));

    // An online policy shown: its heatmap is drawn, no placeholder.
    auto choose = [&](const char* policy) {
        QComboBox* c = w->policyCombo();
        c->setCurrentIndex(c->findData(QString::fromLatin1(policy)));
        QTRY_VERIFY_WITH_TIMEOUT(w->lastOutput()->view.policy == policy, 60000);
        QVERIFY(waitCurrent(*w));
    };
    choose("lru");
    QVERIFY(w->placementView()->placeholder().isEmpty());
    QVERIFY(w->bandwidthView()->placeholder().isEmpty());
    QVERIFY(w->placementView()->colorMap()->data()->keySize() >= 2);
    QVERIFY(w->explainPanel()->html().contains(QStringLiteral("Step t =")));

    // The oracle shown: drawn like any policy, from the streamed run.
    choose("belady");
    QVERIFY(w->placementView()->placeholder().isEmpty());
    QVERIFY(w->bandwidthView()->placeholder().isEmpty());
    QVERIFY(w->placementView()->colorMap()->data()->keySize() >= 2);
    QVERIFY(w->placementView()->plotTitle().contains(QStringLiteral("Belady")));
    QString csvText;
    QTextStream csvStream(&csvText);
    QVERIFY(w->placementView()->writeCsv(csvStream));
    QVERIFY(w->bandwidthView()->writeCsv(csvStream));
    choose("lru");
    QVERIFY(w->placementView()->writeCsv(csvStream));
    QVERIFY(w->placementView()->plotTitle().contains(QStringLiteral("LRU")));

    // A token's timeline: the panel says why, instead of a stale or empty plot.
    QVERIFY(w->relevanceView()->followToken(5));
    QTest::qWait(50);
    QVERIFY(w->relevanceView()->tokenDetail().relevance.empty());
    QVERIFY(w->relevanceView()->tokenPanelText().contains(QStringLiteral("not available while streamed")));

    // Layer 1 in Explain: the mean layer, with the reason.
    w->layerLink()->setLayer(1);
    QTRY_VERIFY_WITH_TIMEOUT(w->explainPanel()->html().contains(QStringLiteral("own breakdown is not available while streamed")), 30000);
    QVERIFY(w->explainPanel()->html().contains(QStringLiteral("mean layer")));
    w->layerLink()->setLayer(-1);
    QVERIFY(waitCurrent(*w));

    // The full-resolution CSV of the relevance heatmap is refused with the reason.
    QString error;
    const QString csv = dir_.filePath(QStringLiteral("relevance.csv"));
    QVERIFY(!w->exportActions()->exportOne(w->relevanceView(), csv, ExportFormat::Csv, FigureSize::pixels(QSize(800, 500)), true, &error));
    QVERIFY2(error.contains(QStringLiteral("not available while streamed")), qPrintable(error));
    QVERIFY(!QFileInfo::exists(csv));

    // Streaming off: the whole result, with what the stream left out.
    w->setStreaming(false);
    QTRY_VERIFY_WITH_TIMEOUT(!w->busy() && w->lastOutput() && !w->lastOutput()->streamed(), 60000);
    QVERIFY(waitCurrent(*w));
    QVERIFY(w->streamNote().isEmpty());
    QVERIFY(w->relevanceView()->plotTitle().contains(QStringLiteral("turnover")));
    QVERIFY(!w->comparisonView()->note()->text().contains(QStringLiteral("left out")));
    QVERIFY(w->relevanceView()->followToken(5));
    QTRY_VERIFY_WITH_TIMEOUT(!w->relevanceView()->tokenDetail().relevance.empty(), 30000);
    QVERIFY(errors_.isEmpty());
}

// The worker adds "Analysis → Stream the trace" to exactly these (the whole-trace run did
// not fit although the estimate was below the budget).
void TestGuiStream::memoryErrorsAreRecognised()
{
    QVERIFY(tooLargeForMemory(std::bad_alloc()));
    QVERIFY(tooLargeForMemory(InputError("db.sqlite trace 'big'", "too large for memory (needs about 30 GB)")));
    QVERIFY(!tooLargeForMemory(InputError("db.sqlite trace 'big'", "ended after 3 records")));
    QVERIFY(!tooLargeForMemory(std::runtime_error("too large for memory")));
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiStream>(argc, argv, "tst_gui_stream"); }
#include "tst_gui_stream.moc"
