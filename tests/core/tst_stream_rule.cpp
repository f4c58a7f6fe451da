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
    StreamWindow w = streamWindowOf(s, o);
    QCOMPARE(w.steps, int64_t{40});
    QCOMPARE(w.window_steps, int64_t{40});   // 256 MB holds every step
    o.window_steps = 7;
    QCOMPARE(streamWindowOf(s, o).window_steps, int64_t{7});
    o.window_steps = 100;
    QCOMPARE(streamWindowOf(s, o).window_steps, int64_t{40});   // at most T
    // A budget of a few steps: streamWindowSteps of the trace's entries per step (2 slots,
    // 2 online policies, 2 tiers), and analyzeStreamed takes the same.
    o.window_steps = 0;
    o.window_bytes = 40000;
    const double perStep = static_cast<double>(entries_) / 40.0;
    w = streamWindowOf(s, o);
    QCOMPARE(w.window_steps, std::min<int64_t>(40, streamWindowSteps(perStep, 2, 2, 2, 40000)));
    QVERIFY(w.window_steps > 1 && w.window_steps < 40);
    QCOMPARE(analyzeStreamed(s, o).report.window_steps, w.window_steps);
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
    const Scenario s = scenario();
    StreamOptions o;
    o.window_steps = 7;
    std::vector<double> raw, shown;
    JobControl rawJob;
    rawJob.progress = [&](double f) { raw.push_back(f); };
    analyzeStreamed(s, o, rawJob);
    // The stages report their own fractions: unfiltered, the fraction goes back.
    bool back = false;
    for (size_t i = 1; i < raw.size(); ++i) back = back || raw[i] < raw[i - 1];
    QVERIFY(back);

    JobControl job;
    job.progress = [&](double f) { shown.push_back(f); };
    analyzeStreamed(s, o, windowProgress(job, 7, 40));
    QVERIFY(std::is_sorted(shown.begin(), shown.end()));
    shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
    const std::vector<double> ends = {7 / 40.0, 14 / 40.0, 21 / 40.0, 28 / 40.0, 35 / 40.0, 1.0};
    QCOMPARE(shown, ends);

    // The cancel flag is the caller's.
    std::atomic<bool> flag{true};
    job.cancel = &flag;
    QVERIFY(windowProgress(job, 7, 40).cancelled());
    QVERIFY_THROWS_EXCEPTION(Cancelled, analyzeStreamed(s, o, windowProgress(job, 7, 40)));
}

QTEST_GUILESS_MAIN(TestStreamRule)
#include "tst_stream_rule.moc"
