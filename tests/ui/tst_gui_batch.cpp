// A batch of S > 1 distinct sequences in the GUI (issue 11, MODEL.md §8): the heatmaps'
// sequence selector (only for S > 1) redraws the chosen sequence's grid, the comparison
// view stacks each policy's time from its sequences' shares (the core's sequenceRows), and
// the trace info names S and the range of P_s.
#include "core/engine/view_compare.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/engine/view_timeline.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/infeasible_banner.hpp"
#include "ui/main_window.hpp"
#include "ui/placement_view.hpp"
#include "ui/relevance_view.hpp"
#include "ui/sequence_bars.hpp"
#include "ui/sequence_link.hpp"
#include "ui/start_options.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include "gui_test_main.hpp"
#include <QComboBox>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

using namespace kvtier;
using namespace kvtier::ui;

class TestGuiBatch : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanup();
    void selectorOnlyForABatch();
    void switchingTheSequenceRedrawsItsGrid();
    void comparisonBarsAreTheTimeShares();
    void startOptionChoosesTheSequence();

private:
    std::unique_ptr<MainWindow> open(const char* trace, const StartView& start = {});
    bool waitCurrent(MainWindow& w, int timeoutMs = 60000);
    QTemporaryDir dir_;
    QString db_;
    TraceMeta batch_;
    QStringList errors_;
};

void TestGuiBatch::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("batch.sqlite"));
    auto store = TraceStore::open(db_.toStdString(), TraceStore::Mode::ReadWrite);
    auto add = [&](const char* name, int32_t sequences) {
        GeneratorParams p = generatorPreset("drift");
        p.seed = 11;
        p.prefill = 512;
        p.steps = 40;
        p.layers = 32;
        p.keep_top = 96;
        p.burst_min_age = 64;
        p.sequences = sequences;
        p.prefill_spread = sequences > 1 ? 0.5 : 0;
        TraceMeta meta = generatorMeta(p);
        meta.name = name;
        auto writer = store->beginTrace(meta, Encoding::SparseF32);
        generate(p, [&](const Record& r) { writer->add(r); });
        writer->commit();
        return meta;
    };
    add("one", 1);
    batch_ = add("three", 3);
    ErrorSink::instance().setHandler([this](const QString&, const QString& m) { errors_ << m; });
}

void TestGuiBatch::cleanup() { QSettings().clear(); }

namespace {
// The same steps, rows, layer and sequence (the pixel size may follow a late layout pass).
bool sameData(const HeatmapWindow& a, const HeatmapWindow& b)
{
    return a.t0 == b.t0 && a.t1 == b.t1 && a.y0 == b.y0 && a.y1 == b.y1 && a.layer == b.layer && a.sequence == b.sequence;
}
} // namespace

bool TestGuiBatch::waitCurrent(MainWindow& w, int timeoutMs)
{
    // Current: the shown output is of this scenario and answers the windows the heatmaps ask
    // for now (they ask again once they know the trace or the sequence; under a sanitizer
    // that second answer can take far longer than a fixed wait).
    const bool settled = QTest::qWaitFor(
        [&] {
            QCoreApplication::processEvents();
            const AnalysisOutputPtr out = w.lastOutput();
            return !w.busy() && out && !out->partial && out->scenario == w.scenario() &&
                   sameData(out->view.placement, w.placementView()->wantedWindow()) &&
                   sameData(out->view.relevance, w.relevanceView()->wantedWindow());
        },
        timeoutMs);
    QCoreApplication::processEvents();
    return settled;
}

std::unique_ptr<MainWindow> TestGuiBatch::open(const char* trace, const StartView& start)
{
    // HBM holds the weights (1 GB) and about 600 tokens of 128 KiB: a third of the batch.
    const nlohmann::json sc = {
        {"trace", {{"db", db_.toStdString()}, {"name", trace}}},
        {"model", {{"layers", 32}, {"kv_bytes_per_token_layer", 4096}, {"weight_bytes", 1e9}}},
        {"hardware", {{"preset", "gh200-hbm3"},
                      {"tiers", {{{"name", "HBM3"}, {"capacity_bytes", 1.08e9}, {"bandwidth", 4e12}, {"reserve_bytes", 0}},
                                 {{"name", "LPDDR5X"}, {"capacity_bytes", 480e9}, {"bandwidth", 5e11}, {"link_read", 4.5e11},
                                  {"link_write", 4.5e11}, {"reserve_bytes", 0}}}}}},
        {"selection", {{"mode", "ratio"}, {"value", 0.2}, {"sinks", 4}, {"window", 16}, {"page_tokens", 1}}},
        {"placement", {{"inclusive", false}, {"route", "home"}, {"weights_in_fast_tier", 1.0}}},
        {"batch", 1},
        {"policies", {"first-fit", "lru", "belady"}}};
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
    return w;
}

void TestGuiBatch::selectorOnlyForABatch()
{
    {
        auto win = open("one");
        QVERIFY(win);
        const QList<QComboBox*> selectors = win->findChildren<QComboBox*>(QStringLiteral("sequenceSelector"));
        QCOMPARE(selectors.size(), 2);   // relevance, placement
        for (QComboBox* c : selectors)
            QVERIFY(c->isHidden());
        QVERIFY(win->comparisonView()->sequenceBars()->isHidden());
        QCOMPARE(win->findChild<QLabel*>(QStringLiteral("traceStatus"))->text().left(12), QStringLiteral("one: P = 512"));
    }
    auto win = open("three");
    QVERIFY(win);
    MainWindow& w = *win;
    const std::vector<int64_t>& P = batch_.sequence_prefill;
    QCOMPARE(P.size(), size_t(3));
    for (int64_t q : P)
        QVERIFY(q >= 256 && q <= 512);   // prefill_spread 0.5: P_s = 512 - U{0..256}
    QVERIFY(P[1] != P[0] || P[2] != P[0]);
    const QList<QComboBox*> selectors = w.findChildren<QComboBox*>(QStringLiteral("sequenceSelector"));
    QCOMPARE(selectors.size(), 2);
    for (QComboBox* c : selectors) {
        QVERIFY(!c->isHidden());
        QVERIFY(c->isVisible());
        QCOMPARE(c->count(), 3);
        for (int s = 0; s < 3; ++s)
            QCOMPARE(c->itemText(s), QStringLiteral("sequence %1 (P = %2)").arg(s).arg(P[static_cast<size_t>(s)]));
    }
    // The trace info: S and the smallest and largest P_s.
    const int64_t lo = *std::min_element(P.begin(), P.end()), hi = *std::max_element(P.begin(), P.end());
    const QString range = QStringLiteral("S = 3 sequences, P_s = %1–%2").arg(lo).arg(hi);
    QVERIFY2(w.findChild<QLabel*>(QStringLiteral("traceStatus"))->text().contains(range),
             qPrintable(w.findChild<QLabel*>(QStringLiteral("traceStatus"))->text()));
    QVERIFY2(w.findChild<QLabel*>(QStringLiteral("traceInfo"))->text().contains(range),
             qPrintable(w.findChild<QLabel*>(QStringLiteral("traceInfo"))->text()));
    QVERIFY2(w.relevanceView()->plotTitle().contains(QStringLiteral("sequence 0 of 3: P = %1").arg(P[0])),
             qPrintable(w.relevanceView()->plotTitle()));
}

void TestGuiBatch::switchingTheSequenceRedrawsItsGrid()
{
    auto win = open("three");
    QVERIFY(win);
    MainWindow& w = *win;
    const AnalysisOutputPtr before = w.lastOutput();
    QCOMPARE(before->view.placement.sequence, 0);
    const PolicyOutcome* o = before->outcome(before->view.policy);
    QVERIFY(o && o->placement);
    const Selection& sel = *before->result->selection;
    // The core's grids of sequences 0 and 2 on the window the view asked for.
    HeatmapWindow window = before->view.placement;
    const PlacementGrid g0 = placementGrid(sel, *o->placement, window);
    window.sequence = 2;
    const PlacementGrid g2 = placementGrid(sel, *o->placement, window);
    QCOMPARE(g2.grid.nx, g0.grid.nx);
    QCOMPARE(g2.grid.ny, g0.grid.ny);
    size_t differ = g0.grid.cells();
    for (size_t c = 0; c < g0.grid.cells() && differ == g0.grid.cells(); ++c)
        if (placementClass(g0.category[c], g0.tier[c]) != placementClass(g2.category[c], g2.tier[c]))
            differ = c;
    QVERIFY2(differ < g0.grid.cells(), "sequences 0 and 2 have the same placement grid");
    const int bx = static_cast<int>(differ % static_cast<size_t>(g0.grid.nx));
    const int by = static_cast<int>(differ / static_cast<size_t>(g0.grid.nx));
    QCOMPARE(w.placementView()->colorMap()->data()->cell(bx, by), double(placementClass(g0.category[differ], g0.tier[differ])));

    // Choosing sequence 2 in the placement view's selector moves the relevance view's too.
    const QList<QComboBox*> selectors = w.findChildren<QComboBox*>(QStringLiteral("sequenceSelector"));
    selectors.back()->setCurrentIndex(2);
    for (QComboBox* c : selectors)
        QCOMPARE(c->currentData().toInt(), 2);
    QCOMPARE(w.sequenceLink()->sequence(), 2);
    QVERIFY(QTest::qWaitFor([&] { return w.lastOutput() && w.lastOutput()->view.placement.sequence == 2 && !w.busy(); }, 30000));
    QVERIFY(waitCurrent(w));   // the views re-ask for their window with sequence 2's rows
    const AnalysisOutputPtr after = w.lastOutput();
    QCOMPARE(after->view.relevance.sequence, 2);
    QCOMPARE(after->view.placement.sequence, 2);
    // The drawn grid is sequence 2's, cell for cell, on the window it was drawn for.
    const PlacementGrid drawn = placementGrid(sel, *after->outcome(after->view.policy)->placement, after->view.placement);
    QCPColorMapData* d = w.placementView()->colorMap()->data();
    QCOMPARE(d->keySize(), int(drawn.grid.nx));
    QCOMPARE(d->valueSize(), int(drawn.grid.ny));
    for (int64_t y = 0; y < drawn.grid.ny; ++y)
        for (int64_t x = 0; x < drawn.grid.nx; ++x) {
            const size_t c = drawn.grid.index(x, y);
            QCOMPARE(d->cell(int(x), int(y)), double(placementClass(drawn.category[c], drawn.tier[c])));
        }
    // The same steps and pages as above, and the drawing changed: on the window drawn,
    // sequence 0's grid differs from it in some cell (the cell found above when the pixel
    // size stayed, as it does on a settled window).
    QVERIFY(sameData(after->view.placement, window));
    HeatmapWindow w0 = after->view.placement;
    w0.sequence = 0;
    const PlacementGrid a0 = placementGrid(sel, *after->outcome(after->view.policy)->placement, w0);
    QCOMPARE(a0.grid.cells(), drawn.grid.cells());
    size_t changed = 0;
    for (size_t c = 0; c < a0.grid.cells(); ++c)
        changed += placementClass(a0.category[c], a0.tier[c]) != placementClass(drawn.category[c], drawn.tier[c]);
    QVERIFY(changed > 0);
    if (after->view.placement == window)
        QCOMPARE(d->cell(bx, by), double(placementClass(g2.category[differ], g2.tier[differ])));
    // Sequence 2 has P_2 + T tokens, one page each: the page axis ends there.
    const int64_t rows2 = batch_.sequence_prefill[2] + batch_.steps;
    QCOMPARE(w.placementView()->plot()->axisRect()->axis(QCPAxis::atLeft)->range().upper, double(rows2) - 0.5);
    // The relevance map is sequence 2's too, and the hover names the sequence.
    const RelevanceGrid rel = relevanceGrid(*after->result->trace, sel, after->view.relevance);
    QCPColorMapData* v = w.relevanceView()->colorMap()->data();
    QCOMPARE(v->keySize(), int(rel.grid.nx));
    QCOMPARE(v->valueSize(), int(rel.grid.ny));
    for (int64_t y = 0; y < rel.grid.ny; ++y)
        for (int64_t x = 0; x < rel.grid.nx; ++x) {
            const double want = rel.shownValue(rel.grid.index(x, y)), got = v->cell(int(x), int(y));
            QVERIFY2((std::isnan(want) && std::isnan(got)) || want == got, qPrintable(QStringLiteral("cell %1,%2").arg(x).arg(y)));
        }
    QVERIFY2(w.placementView()->cellText(10, 100).startsWith(QStringLiteral("sequence 2: step")),
             qPrintable(w.placementView()->cellText(10, 100)));
    QVERIFY2(w.relevanceView()->cellText(10, 3).startsWith(QStringLiteral("sequence 2: step")),
             qPrintable(w.relevanceView()->cellText(10, 3)));
    QVERIFY2(w.placementView()->plotTitle().contains(QStringLiteral("sequence 2 of 3 (P = %1)").arg(batch_.sequence_prefill[2])),
             qPrintable(w.placementView()->plotTitle()));
    // The token timeline follows token 40 of sequence 2: the core's timeline of that
    // sequence's token, not sequence 0's token 40 (whose relevance differs).
    QSignalSpy shown(w.relevanceView(), &RelevanceView::tokenDetailShown);
    QVERIFY(w.relevanceView()->followToken(40));
    QVERIFY(shown.wait(30000));
    const TokenDetail& td = w.relevanceView()->tokenDetail();
    QCOMPARE(td.token, 40u);
    QCOMPARE(td.sequence, 2);
    const PolicyOutcome* shownPolicy = after->outcome(after->view.policy);
    const TokenTimeline want = tokenTimeline(*after->result->trace, sel, *shownPolicy->placement, 40, -1, 2);
    const TokenTimeline other = tokenTimeline(*after->result->trace, sel, *shownPolicy->placement, 40, -1, 0);
    QCOMPARE(td.selected, want.selected);
    QCOMPARE(td.tier, want.tier);
    QCOMPARE(td.relevance.size(), want.relevance.size());
    for (size_t t = 0; t < want.relevance.size(); ++t)
        QCOMPARE(td.relevance[t], want.relevance[t]);
    QVERIFY(want.relevance != other.relevance);
    QVERIFY(want.unit != other.unit);
    QVERIFY2(w.relevanceView()->plot()->axisRect(1)->axis(QCPAxis::atTop)->label().startsWith(QStringLiteral("token 40 of sequence 2")),
             qPrintable(w.relevanceView()->plot()->axisRect(1)->axis(QCPAxis::atTop)->label()));
    // A token beyond sequence 2's context (P_2 + T tokens) is refused.
    QVERIFY(!w.relevanceView()->followToken(rows2));
}

void TestGuiBatch::comparisonBarsAreTheTimeShares()
{
    auto win = open("three");
    QVERIFY(win);
    MainWindow& w = *win;
    SequenceBars* bars = w.comparisonView()->sequenceBars();
    QVERIFY(!bars->isHidden());
    QCOMPARE(bars->sequenceCount(), 3);
    const AnalysisResult& r = *w.lastOutput()->result;
    QCOMPARE(r.policies.size(), size_t(3));
    for (size_t i = 0; i < r.policies.size(); ++i) {
        const TimingResult& t = *r.policies[i].timing;
        QCOMPARE(t.sequences.size(), size_t(3));
        double sum = 0;
        for (int s = 0; s < 3; ++s) {
            const SequenceTotals& q = t.sequences[static_cast<size_t>(s)];
            QCOMPARE(bars->bars(s)->data()->size(), int(r.policies.size()));
            const QCPBarsData& bar = *(bars->bars(s)->data()->constBegin() + static_cast<int>(i));
            QCOMPARE(bar.key, double(i));
            QCOMPARE(bar.value, q.time_share);
            sum += bar.value;
            const QString text = bars->cellText(static_cast<int>(i), s);
            QVERIFY2(text.contains(QStringLiteral("sequence %1").arg(s)), qPrintable(text));
            QVERIFY2(text.contains(QStringLiteral("HBM hit ratio: %1").arg(formatPercent(q.hbmHitRatio()))), qPrintable(text));
            QVERIFY2(text.contains(QStringLiteral("time share: %1").arg(formatPercent(q.time_share))), qPrintable(text));
        }
        QVERIFY(std::abs(sum - 1) < 1e-9);   // the stacked bar spans the whole time
    }
    // Sequence s has colour s in every row, the same as a lone series s elsewhere.
    for (int s = 0; s < 3; ++s)
        QCOMPARE(bars->bars(s)->brush().color(), seriesColor(s));
    QVERIFY(bars->cellText(3, 0).isEmpty());
    QVERIFY(bars->cellText(0, 3).isEmpty());
}

// `kvtier --sequence 2` opens the window on sequence 2; a sequence the trace lacks is one
// line and the first stays shown.
void TestGuiBatch::startOptionChoosesTheSequence()
{
    {
        auto win = open("three", {QString(), -1, QString(), 2});
        QVERIFY(win);
        QCOMPARE(win->sequenceLink()->sequence(), 2);
        QVERIFY(QTest::qWaitFor([&] { return win->lastOutput()->view.placement.sequence == 2 && !win->busy(); }, 30000));
        QVERIFY(errors_.isEmpty());
    }
    auto win = open("three", {QString(), -1, QString(), 3});
    QVERIFY(win);
    QCOMPARE(win->sequenceLink()->sequence(), 0);
    QCOMPARE(errors_, QStringList{QStringLiteral("--sequence 3: trace 'three' has sequences 0 to 2")});
}

int main(int argc, char** argv) { return runGuiSuite<TestGuiBatch>(argc, argv, "tst_gui_batch"); }
#include "tst_gui_batch.moc"
