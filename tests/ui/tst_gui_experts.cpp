// The expert heatmap in the window (docs/GUI.md "Experts", issue 11): a MoE trace (generated
// with expert routing, 2 layers x 8 experts, lru over a budget of 4 experts) shows the
// Experts view next to Placement; its cells are the core's expertGrid of the residency the
// shown policy was timed with, cell for cell; the layer selector redraws layer 1's grid; the
// hover names the layer, step, expert and tier; a dense trace hides the view.
#include "test_support.hpp"

#include "core/engine/view_experts.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/error_sink.hpp"
#include "ui/expert_view.hpp"
#include "ui/infeasible_banner.hpp"
#include "ui/main_window.hpp"
#include "gui_wait.hpp"
#include "ui/placement_view.hpp"
#include "ui/start_options.hpp"
#include "ui/theme.hpp"

#include "gui_test_main.hpp"
#include <QComboBox>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using kvtier::test::waitCurrent;

using namespace kvtier;
using namespace kvtier::ui;

class TestGuiExperts : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanup();
    void moeShowsTheCoreGrid();
    void layerSelectorRedraws();
    void denseHidesTheView();

private:
    std::unique_ptr<MainWindow> open(const char* trace, int experts, const StartView& start = {});
    static void compareDrawn(const ExpertView& v, const ExpertGrid& g);
    QTemporaryDir dir_;
    QString db_;
    QStringList errors_;
};

void TestGuiExperts::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("experts.sqlite"));
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    auto add = [&](const char* name, int32_t experts) {
        GeneratorParams g;
        g.seed = 5;
        g.prefill = 48;
        g.steps = 40;
        g.layers = 2;
        g.per_layer = true;
        g.experts = experts;
        g.expert_top_k = 2;
        g.expert_zipf = 1.2;
        const Trace tr = generateTrace(g, name);
        test::storeTrace(*store, tr);
    };
    add("moe", 8);
    add("dense", 0);
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
}

void TestGuiExperts::cleanup() { QSettings().clear(); }

std::unique_ptr<MainWindow> TestGuiExperts::open(const char* trace, int experts, const StartView& start)
{
    // 2 layers x 8 experts of 256 B; HBM (9728 B) keeps 9216 B after the dense weights (512 B):
    // hbm_share 0.12 gives lru a budget of floor(0.12 x 9216 / 256) = 4 of the 16 experts.
    nlohmann::json model = {{"layers", 2}, {"kv_bytes_per_token_layer", 64}, {"weight_bytes", 512}};
    if (experts > 0) {
        model["experts"] = experts;
        model["expert_bytes"] = 256;
        model["weight_bytes"] = 512 + 2 * experts * 256;
    }
    nlohmann::json sc = {
        {"trace", {{"db", db_.toStdString()}, {"name", trace}}},
        {"model", model},
        {"hardware", {{"tiers", {{{"name", "HBM3"}, {"capacity_bytes", 512 + 4096 + 64.0 * 2 * 40}, {"bandwidth", 1e6}, {"reserve_bytes", 0}},
                                 {{"name", "LPDDR5X"}, {"capacity_bytes", 1e9}, {"bandwidth", 1e5}, {"link_read", 5e4},
                                  {"link_write", 5e4}, {"reserve_bytes", 0}}}}}},
        {"selection", {{"mode", "ratio"}, {"value", 0.25}, {"sinks", 0}, {"window", 0}, {"page_tokens", 1}}},
        {"placement", {{"inclusive", false}, {"route", "home"}, {"weights_in_fast_tier", 1.0}}},
        {"batch", 1},
        {"policies", {"first-fit", "lru"}}};
    if (experts > 0)
        sc["experts"] = {{"policy", "lru"}, {"hbm_share", 0.12}};
    const QString file = dir_.filePath(QStringLiteral("%1.kvtier.json").arg(QLatin1String(trace)));
    std::ofstream(file.toStdString()) << sc.dump(2);
    errors_.clear();
    auto w = std::make_unique<MainWindow>();
    w->resize(1400, 900);
    w->show();
    applyOnFirstResult(*w, start);
    if (!w->loadScenarioFile(file) || !waitCurrent(*w)) {
        auto* banner = w->findChild<InfeasibleBanner*>(QStringLiteral("infeasibleBanner"));
        qWarning("%s %s", qPrintable(errors_.join(QLatin1Char('\n'))), banner ? qPrintable(banner->text()) : "");
        return nullptr;
    }
    // The views ask again for their window once they know the trace: wait for that answer.
    QTest::qWait(300);
    if (!waitCurrent(*w))
        return nullptr;
    return w;
}

// The drawn colour map is the grid, cell for cell (NaN where a cell covers no pair).
void TestGuiExperts::compareDrawn(const ExpertView& v, const ExpertGrid& g)
{
    QCPColorMapData* d = v.colorMap()->data();
    QCOMPARE(d->keySize(), int(g.grid.nx));
    QCOMPARE(d->valueSize(), int(g.grid.ny));
    for (int64_t y = 0; y < g.grid.ny; ++y)
        for (int64_t x = 0; x < g.grid.nx; ++x) {
            const size_t c = g.grid.index(x, y);
            if (g.tier[c] == 255)
                QVERIFY(std::isnan(d->cell(int(x), int(y))));
            else
                QCOMPARE(d->cell(int(x), int(y)), double(expertClass(g.category[c], g.tier[c], 2)));
        }
}

void TestGuiExperts::moeShowsTheCoreGrid()
{
    auto win = open("moe", 8, StartView{QStringLiteral("lru"), -1, QStringLiteral("experts"), -1});
    QVERIFY(win);
    MainWindow& w = *win;
    QVERIFY(errors_.isEmpty());
    QVERIFY(w.expertsShown());
    ExpertView* v = w.expertView();
    QVERIFY(w.views().contains(v));
    QVERIFY(v->isVisible());   // --view experts brought it to the front
    const AnalysisOutputPtr out = w.lastOutput();
    QCOMPARE(out->view.policy, std::string("lru"));
    const PolicyOutcome* o = out->outcome("lru");
    QVERIFY(o && o->timing && o->timing->expert_residency);
    const ExpertResidency& res = *o->timing->expert_residency;
    QCOMPARE(res.layers, 2);
    QCOMPARE(res.initial.size(), size_t(16));
    QVERIFY(!res.moves.empty());   // lru over 4 of 16 experts moves some
    QCOMPARE(out->view.experts.layer, 0);
    const ExpertGrid g = expertGrid(out->result->selection->experts.get(), res, out->view.experts);
    QCOMPARE(g.grid.ny, int64_t(8));   // one row per expert
    QCOMPARE(g.grid.nx, int64_t(40));  // one column per step: the plot is wider than 40 px
    compareDrawn(*v, g);
    // Every class of the 2-tier legend: moved, read (LPDDR5X, HBM3), idle (HBM3, LPDDR5X).
    QCOMPARE(v->legendLabels(), (QStringList{QStringLiteral("migrated at this step"), QStringLiteral("active, read from LPDDR5X"),
                                             QStringLiteral("active, read from HBM3"), QStringLiteral("idle in HBM3"),
                                             QStringLiteral("idle in LPDDR5X")}));
    QVERIFY2(v->plotTitle().contains(QStringLiteral("layer 0 of 2")) && v->plotTitle().contains(QStringLiteral("expert policy lru, 4 experts in HBM3")),
             qPrintable(v->plotTitle()));
    // The hover of one step and expert: a move of layer 0 names both tiers.
    const ExpertMove* move = nullptr;
    for (const ExpertMove& m : res.moves)
        if (m.layer == 0 && m.to == 0) {
            move = &m;
            break;
        }
    QVERIFY(move);
    const QString text = v->cellText(double(move->step), double(move->expert));
    QVERIFY2(text.startsWith(QStringLiteral("layer 0, step %1, expert %2: migrated LPDDR5X → HBM3 at this step; ").arg(move->step).arg(move->expert)),
             qPrintable(text));
    // A cell neither moved nor read in HBM3: "idle in" or "active, read from" its tier.
    for (int64_t t = 0; t < 40; ++t)
        for (int e = 0; e < 8; ++e) {
            const size_t c = g.grid.index(t, e);
            if (g.category[c] == kExpertLowerRead) {
                QCOMPARE(v->cellText(double(t), double(e)),
                         QStringLiteral("layer 0, step %1, expert %2: active, read from LPDDR5X (a miss)").arg(t).arg(e));
                t = 40;
                break;
            }
        }
    // The CSV behind the figure: one line per cell and the header.
    QString csv;
    QTextStream s(&csv);
    QVERIFY(v->writeCsv(s));
    QCOMPARE(csv.count(QLatin1Char('\n')), 2 + 40 * 8);
    // Tabbed, the view is the tab after Placement.
    w.setTabbedViews(true);
    auto* tabs = w.findChild<QTabWidget*>(QStringLiteral("viewTabs"));
    QCOMPARE(tabs->indexOf(v), tabs->indexOf(w.placementView()) + 1);
    QVERIFY(tabs->isTabVisible(tabs->indexOf(v)));
    QCOMPARE(tabs->count(), 6);
}

void TestGuiExperts::layerSelectorRedraws()
{
    auto win = open("moe", 8, StartView{QStringLiteral("lru"), -1, {}, -1});
    QVERIFY(win);
    MainWindow& w = *win;
    QVERIFY(w.bringViewToFront(QStringLiteral("experts")));
    ExpertView* v = w.expertView();
    QComboBox* layer = v->layerSelector();
    QCOMPARE(layer->count(), 2);
    QCOMPARE(layer->itemText(1), QStringLiteral("layer 1"));
    const AnalysisOutputPtr before = w.lastOutput();
    const PolicyOutcome* o = before->outcome("lru");
    const ExpertSets* sets = before->result->selection->experts.get();
    HeatmapWindow win0 = before->view.experts;
    const ExpertGrid g0 = expertGrid(sets, *o->timing->expert_residency, win0);
    HeatmapWindow win1 = win0;
    win1.layer = 1;
    const ExpertGrid g1 = expertGrid(sets, *o->timing->expert_residency, win1);
    QVERIFY2(g0.category != g1.category, "layers 0 and 1 have the same expert grid");
    layer->setCurrentIndex(1);
    QVERIFY(QTest::qWaitFor([&] { return w.lastOutput() && w.lastOutput()->view.experts.layer == 1 && !w.busy(); }, 30000));
    QVERIFY(waitCurrent(w));
    QCOMPARE(v->shownGrid().grid.window.layer, 1);
    const AnalysisOutputPtr after = w.lastOutput();
    compareDrawn(*v, expertGrid(sets, *after->outcome("lru")->timing->expert_residency, after->view.experts));
    if (after->view.experts == win1)
        compareDrawn(*v, g1);
    QVERIFY2(v->plotTitle().contains(QStringLiteral("layer 1 of 2")), qPrintable(v->plotTitle()));
}

void TestGuiExperts::denseHidesTheView()
{
    auto win = open("dense", 0);
    QVERIFY(win);
    MainWindow& w = *win;
    QVERIFY(!w.expertsShown());
    QVERIFY(!w.views().contains(w.expertView()));
    QVERIFY(!w.expertView()->isVisible());
    for (QTabWidget* tabs : w.findChildren<QTabWidget*>())
        if (const int i = tabs->indexOf(w.expertView()); i >= 0)
            QVERIFY(!tabs->isTabVisible(i));
    QVERIFY(!w.lastOutput()->experts);
    // Tabbed, the row of tabs has the five other views only.
    w.setTabbedViews(true);
    auto* tabs = w.findChild<QTabWidget*>(QStringLiteral("viewTabs"));
    QCOMPARE(tabs->count(), 5);
    QCOMPARE(tabs->indexOf(w.expertView()), -1);
    QVERIFY(!w.expertView()->isVisible());
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiExperts>(argc, argv, "tst_gui_experts"); }
#include "tst_gui_experts.moc"
