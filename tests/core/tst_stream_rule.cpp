// When to stream and what a streamed result holds (core/engine/stream_rule.hpp): the
// whole-trace estimate read from the stored summary, the rule against a budget, the
// window analyzeStreamed takes, holdsStepLists, and the progress of a streamed run passing
// on the windows' ends only, in order, though the stages inside a window report their own.
#include "test_support.hpp"

#include "core/engine/pipeline.hpp"
#include "core/engine/stream_analysis.hpp"
#include "core/engine/stream_rule.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cstring>

using namespace kvtier;

class TestStreamRule : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void estimateAndRule();
    void windowAsTheStreamTakesIt();
    void holdsStepListsTellsWholeFromStreamed();
    void progressPassesWindowEndsOnly();

private:
    Scenario scenario() const;
    QTemporaryDir dir_;
    std::string db_;
    int64_t entries_ = 0;
};

void TestStreamRule::initTestCase()
{
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath(QStringLiteral("rule.sqlite")).toStdString();
    GeneratorParams g;
    g.seed = 3;
    g.prefill = 30;
    g.steps = 40;
    g.layers = 2;
    g.per_layer = true;
    test::storeTrace(db_, generateTrace(g, "t"));
    entries_ = TraceStore::open(db_, TraceStore::Mode::ReadOnly)->get("t").entries;
    QVERIFY(entries_ > 0);
}

Scenario TestStreamRule::scenario() const
{
    Scenario s;
    s.trace_db = db_;
    s.trace_name = "t";
    s.model.layers = 2;
    s.model.kv_bytes_per_token_layer = 64;
    s.model.weight_bytes = 1024;
    s.selection.mode = SelectionMode::Ratio;
    s.selection.value = 0.25;
    s.selection.page_tokens = 2;
    s.hardware.tiers = {Tier{"HBM", 1024 + 40 * 64.0, 2e6, kNoLink, kNoLink, 0}, Tier{"DRAM", 1e12, 4e5, 2e5, 2e5, 0}};
    s.policies = {{"first-fit", {}}, {"lru", {}}, {"belady", {}}};
    return s;
}

void TestStreamRule::estimateAndRule()
{
    const Scenario s = scenario();
    // By hand (analysisBytesEstimate): 16 B per entry; 40 steps x 2 layers = 80 records at
    // 32 + 48 x 2 tiers x 3 policies = 320 B; (30 + 40) / 2 = 35 pages x 2 layers = 70 units
    // at 24 + 40 x 3 + 2 x 3 = 150 B.
    const double whole = wholeTraceBytes(s);
    QCOMPARE(whole, 16.0 * static_cast<double>(entries_) + 80 * 320.0 + 70 * 150.0);
    QVERIFY(needsStreaming(whole, whole - 1));
    QVERIFY(!needsStreaming(whole, whole));
    QVERIFY(!needsStreaming(whole, 2 * whole));
    QVERIFY(physicalMemoryBytes() > 0);   // Linux says
    QCOMPARE(defaultWholeTraceBudget(), physicalMemoryBytes() / 2);
    Scenario missing = s;
    missing.trace_name = "nope";
    QVERIFY_THROWS_EXCEPTION(InputError, wholeTraceBytes(missing));
}

void TestStreamRule::windowAsTheStreamTakesIt()
{
    const Scenario s = scenario();
    StreamOptions o;
    o.window_steps = 7;
    QCOMPARE(analyzeStreamed(s, o).report.window_steps, int64_t{7});
    o.window_steps = 100;
    QCOMPARE(analyzeStreamed(s, o).report.window_steps, int64_t{40});   // at most T
    // A budget of a few steps: streamWindowSteps of the trace's entries per step (2 slots,
    // the scenario's 3 policies, oracle included, 2 tiers).
    o.window_steps = 0;
    o.window_bytes = 40000;
    const double perStep = static_cast<double>(entries_) / 40.0;
    const int64_t w = analyzeStreamed(s, o).report.window_steps;
    QCOMPARE(w, std::min<int64_t>(40, streamWindowSteps(perStep, 2, 3, 2, 40000)));
    QVERIFY(w > 1 && w < 40);
}

void TestStreamRule::holdsStepListsTellsWholeFromStreamed()
{
    const Scenario s = scenario();
    Pipeline p;
    QVERIFY(holdsStepLists(p.run(s)));
    QVERIFY(!holdsStepLists(analyzeStreamed(s).result));
    QVERIFY(!holdsStepLists(AnalysisResult{}));
}

void TestStreamRule::progressPassesWindowEndsOnly()
{
    // analyzeStreamed reports the end of each window only, in order: with an oracle in the
    // scenario, the pre-pass's windows as the first half, then the analysis's.
    const Scenario s = scenario();
    StreamOptions o;
    o.window_steps = 7;
    std::vector<double> shown;
    JobControl job;
    job.progress = [&](double f) { shown.push_back(f); };
    analyzeStreamed(s, o, job);
    std::vector<double> ends;
    for (const int64_t k : {7, 14, 21, 28, 35, 40}) ends.push_back(0.5 * (static_cast<double>(k) / 40.0));
    for (const int64_t k : {7, 14, 21, 28, 35, 40}) ends.push_back(0.5 + 0.5 * (static_cast<double>(k) / 40.0));
    ends.push_back(1.0);   // the finished analysis
    QCOMPARE(shown, ends);

    // The cancel flag is the caller's.
    std::atomic<bool> flag{true};
    job.cancel = &flag;
    QVERIFY_THROWS_EXCEPTION(Cancelled, analyzeStreamed(s, o, job));
}

QTEST_GUILESS_MAIN(TestStreamRule)
#include "tst_stream_rule.moc"
