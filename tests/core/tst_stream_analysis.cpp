// The streamed analysis (core/engine/stream_analysis.hpp, docs/PERFORMANCE.md "Streamed
// analysis"): reading the trace a window of steps at a time gives exactly the numbers of
// the whole-trace pipeline, bit for bit, for every policy (the oracles on their spilled
// future, read back in chunks of a few entries) and both bounds, on every kind of trace
// (aggregated, per layer, selections, batches with experts, inclusive placement over three
// tiers) and every window size, windows shorter than windowed-look-ahead's look-ahead
// included; what it cannot run is refused before a record is read; a broken trace and a
// cancellation end it with no result and no spill file.
#include "test_support.hpp"

#include "core/engine/future_spill.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/stream_analysis.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <sqlite3.h>
#include <sys/resource.h>

#include <QtTest>

#include <atomic>
#include <csignal>
#include <cstring>
#include <functional>
#include <stdexcept>

using namespace kvtier;

namespace {

// Writes a generated trace (and its expert sets) into `db` with the given encoding.
void saveGenerated(const std::string& db, const GeneratorParams& p, const std::string& name, Encoding enc)
{
    auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
    TraceMeta meta = generatorMeta(p);
    meta.name = name;
    auto w = store->beginTrace(meta, enc);
    generate(p, [&](const Record& r) { w->add(r); });
    if (p.experts > 0) w->setExperts(generateExperts(p));
    w->commit();
}

GeneratorParams shape(uint64_t seed, int64_t prefill, int64_t steps, int32_t layers, bool perLayer)
{
    GeneratorParams p;
    p.seed = seed;
    p.prefill = prefill;
    p.steps = steps;
    p.layers = layers;
    p.per_layer = perLayer;
    p.heavy_count = 6;
    p.burst_min_age = 8;
    p.burst_rate = 0.1;
    return p;
}

Scenario scenarioFor(const std::string& db, const std::string& name, int32_t layers, double hbmUnits, double unitBytes)
{
    Scenario s;
    s.trace_db = db;
    s.trace_name = name;
    s.batch = 2;
    s.model.layers = layers;
    s.model.kv_bytes_per_token_layer = 64;
    s.model.weight_bytes = 4096;
    s.selection.mode = SelectionMode::Ratio;
    s.selection.value = 0.25;
    const Tier hbm{"HBM", 4096 + hbmUnits * unitBytes, 2e6, kNoLink, kNoLink, 0};
    const Tier dram{"DRAM", 1e12, 4e5, 2e5, 2e5, 0};
    s.hardware.tiers = {hbm, dram};
    for (const PolicyEntry& e : policyRegistry()) s.policies.push_back({e.info.name, {}});
    // The other belady variant, and a windowed look-ahead of 33 steps: longer than most windows.
    s.policies.push_back({"belady", {{"variant", 1}}});
    s.policies.push_back({"windowed-look-ahead", {{"window_steps", 33}, {"promotion_ratio", 1}}});
    return s;
}

// The message of the std::logic_error (a caller's bug) f throws, or "<no error>".
QString logicErrorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const std::logic_error& e) {
        return QString::fromStdString(e.what());
    }
    return QStringLiteral("<no error>");
}

// Files in a directory.
int filesIn(const QString& dir) { return static_cast<int>(QDir(dir).entryList(QDir::Files | QDir::NoDotAndDotDot).size()); }

// Exactly equal doubles (QCOMPARE on double is fuzzy).
bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same(const std::vector<double>& a, const std::vector<double>& b)
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// What differs between the whole-trace result and the streamed one, empty when nothing.
QStringList differences(const AnalysisResult& whole, const AnalysisResult& streamed)
{
    QStringList out;
    auto check = [&](bool ok, const QString& what) {
        if (!ok) out << what;
    };
    check(same(whole.balanced->step_time, streamed.balanced->step_time), "balanced step times");
    check(same(whole.balanced->fast_share, streamed.balanced->fast_share), "balanced fast shares");
    check(same(whole.balanced->total_time, streamed.balanced->total_time), "balanced total");
    check(same(whole.paper->step_time, streamed.paper->step_time), "paper step times");
    check(same(whole.paper->total_time, streamed.paper->total_time), "paper total");
    check(whole.capacity.units == streamed.capacity.units, "capacity");
    size_t k = 0;
    for (const PolicyOutcome& o : whole.policies) {
        if (k >= streamed.policies.size()) {
            out << "missing " + QString::fromStdString(o.info.name);
            continue;
        }
        const PolicyOutcome& q = streamed.policies[k++];
        const QString n = QString::fromStdString(o.info.name);
        check(o.info.name == q.info.name, n + ": order");
        const TimingResult& a = *o.timing;
        const TimingResult& b = *q.timing;
        check(same(a.step_time, b.step_time), n + ": step times");
        check(same(a.total_time, b.total_time), n + ": total time");
        check(same(a.kv_read_bytes, b.kv_read_bytes) && same(a.kv_read_fast_bytes, b.kv_read_fast_bytes),
              n + ": KV bytes");
        check(same(a.migrated_bytes, b.migrated_bytes), n + ": migrated bytes");
        check(same(a.expert_read_bytes, b.expert_read_bytes) && same(a.expert_read_fast_bytes, b.expert_read_fast_bytes) &&
                  same(a.expert_migrated_bytes, b.expert_migrated_bytes),
              n + ": expert bytes");
        check(a.tier_step.size() == b.tier_step.size() &&
                  std::memcmp(a.tier_step.data(), b.tier_step.data(), a.tier_step.size() * sizeof(TierStep)) == 0,
              n + ": per-step tier figures");
        bool totals = a.tier_totals.size() == b.tier_totals.size();
        for (size_t m = 0; totals && m < a.tier_totals.size(); ++m) {
            const TierTotals& x = a.tier_totals[m];
            const TierTotals& y = b.tier_totals[m];
            totals = same(x.read_bytes, y.read_bytes) && same(x.write_bytes, y.write_bytes) &&
                     same(x.kv_read_bytes, y.kv_read_bytes) && same(x.mig_bytes, y.mig_bytes) &&
                     same(x.busy_s, y.busy_s) && same(x.busy_fraction, y.busy_fraction) &&
                     same(x.bandwidth_use, y.bandwidth_use) && same(x.expert_read_bytes, y.expert_read_bytes);
        }
        check(totals, n + ": tier totals");
        bool seqs = a.sequences.size() == b.sequences.size();
        for (size_t s = 0; seqs && s < a.sequences.size(); ++s)
            seqs = same(a.sequences[s].kv_read_bytes, b.sequences[s].kv_read_bytes) &&
                   same(a.sequences[s].kv_read_fast_bytes, b.sequences[s].kv_read_fast_bytes) &&
                   same(a.sequences[s].migrated_bytes, b.sequences[s].migrated_bytes) &&
                   same(a.sequences[s].time_share, b.sequences[s].time_share);
        check(seqs, n + ": per-sequence totals");
        check(same(o.placement->migrated_tokens, q.placement->migrated_tokens), n + ": migrated tokens");
        check(o.placement->created_tier == q.placement->created_tier, n + ": tiers units were created in");
        // A policy run as another (lru-fair, lru-demand on one sequence) still carries its own name and parameters.
        check(q.placement->policy == o.info.name && q.placement->params == o.params, n + ": placement's name and parameters");
        check(same(o.gapToBound, q.gapToBound), n + ": gap to bound");
    }
    check(k == streamed.policies.size(), "streamed has extra policies");
    return out;
}


} // namespace

class TestStreamAnalysis : public QObject {
    Q_OBJECT

private slots:
    void sameAsWholeTrace_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("windowSteps");
        for (const char* kind : {"aggregated", "per-layer-inclusive", "selections", "batch-experts"})
            for (int w : {1, 5, 29, 1000, 0}) {
                const QString tag = QString("%1, window %2").arg(kind).arg(w == 0 ? QString("auto") : QString::number(w));
                QTest::newRow(tag.toUtf8().constData()) << QString(kind) << w;
            }
    }

    void sameAsWholeTrace()
    {
        QFETCH(QString, kind);
        QFETCH(int, windowSteps);
        const std::string db = test::scratchPath("stream-" + kind.toStdString() + ".sqlite");
        Scenario s;
        if (!QFile::exists(QString::fromStdString(db))) {
            if (kind == "aggregated") {
                saveGenerated(db, shape(3, 97, 61, 4, false), "t", Encoding::SparseF32);
            } else if (kind == "per-layer-inclusive") {
                saveGenerated(db, shape(5, 70, 45, 3, true), "t", Encoding::SparseF16);
            } else if (kind == "selections") {
                GeneratorParams p = shape(7, 120, 50, 2, true);
                p.selection_ratio = 0.3;
                saveGenerated(db, p, "t", Encoding::IndexVarint);
            } else {
                GeneratorParams p = shape(9, 64, 40, 4, false);
                p.sequences = 3;
                p.prefill_spread = 0.4;
                p.experts = 6;
                p.expert_top_k = 2;
                p.expert_tokens = 2;
                saveGenerated(db, p, "t", Encoding::SparseF32);
            }
        }
        if (kind == "aggregated") {
            s = scenarioFor(db, "t", 4, 40, 64 * 4);
        } else if (kind == "per-layer-inclusive") {
            s = scenarioFor(db, "t", 3, 50, 4 * 64);
            s.selection.page_tokens = 4;
            s.selection.mode = SelectionMode::TopK;
            s.selection.value = 12;
            s.selection.sinks = 2;
            s.selection.window = 3;
            s.inclusive = true;
            s.route = Route::Balanced;
            // Three tiers: HBM, a middle tier with room for a few copies, the last holds all.
            const Tier mid{"LPDDR", 3 * 4 * 64.0 * 20, 8e5, 6e5, 6e5, 0};
            s.hardware.tiers.insert(s.hardware.tiers.begin() + 1, mid);
        } else if (kind == "selections") {
            s = scenarioFor(db, "t", 2, 60, 64);
            s.selection.mode = SelectionMode::Dense;
        } else {
            s = scenarioFor(db, "t", 4, 30, 2 * 64 * 4);
            s.selection.page_tokens = 2;
            s.model.experts = 6;
            s.model.expert_bytes = 512;
            s.model.weight_bytes += 4 * 6 * 512;   // W = W_dense + L x E x expert bytes
            s.experts.policy = ExpertPolicy::Lru;
            s.experts.hbm_share = 0.1;   // 5 of the 24 experts in HBM
            s.hardware.tiers[0].capacity_bytes += 4 * 6 * 512;
        }
        Pipeline pipe;
        const AnalysisResult whole = pipe.run(s);
        StreamOptions o;
        o.window_steps = windowSteps;
        o.window_bytes = 200 * 1024;   // auto: a few windows on these small traces
        // The spill in a directory of its own, read back in chunks of 7 entries: every
        // feed reloads many times, across windows and within a step.
        QTemporaryDir spillDir;
        QVERIFY(spillDir.isValid());
        o.spill_dir = spillDir.path().toStdString();
        o.spill_chunk_entries = 7;
        const StreamedAnalysis st = analyzeStreamed(s, o);
        const int64_t T = whole.selection->layout.steps;
        QCOMPARE(st.report.window_steps, windowSteps == 0 ? st.report.window_steps : std::min<int64_t>(windowSteps, T));
        QCOMPARE(st.report.windows, (T + st.report.window_steps - 1) / st.report.window_steps);
        if (windowSteps == 0) QVERIFY2(st.report.windows > 1, "the byte budget should make several windows");
        QCOMPARE(st.result.policies.size(), s.policies.size());
        QVERIFY(st.report.oracles_left_out.empty());
        QVERIFY(st.result.relevance == nullptr);
        const QStringList diff = differences(whole, st.result);
        QVERIFY2(diff.isEmpty(), qPrintable(diff.join("; ")));
        // The spill held each read's unit and its next read (4 B each), in the directory
        // asked for, and is gone.
        QCOMPARE(st.report.spill_bytes, static_cast<int64_t>(8 * whole.selection->step_units.items.size()));
        QVERIFY(st.report.spill_bytes > 0);
        QVERIFY(QString::fromStdString(st.report.spill_path).startsWith(spillDir.path() + "/kvtier-future-"));
        QCOMPARE(filesIn(spillDir.path()), 0);
        // Not vacuous for the oracles: each one's step times differ from every online policy's.
        for (const PolicyOutcome& p : st.result.policies) {
            if (p.info.online) continue;
            for (const PolicyOutcome& q : st.result.policies)
                if (q.info.online)
                    QVERIFY2(!same(p.timing->step_time, q.timing->step_time),
                             qPrintable(QString::fromStdString(p.info.name + " equals " + q.info.name)));
        }
        // Not a vacuous comparison: the policies differ from each other and migrate.
        double lo = 1e300, hi = 0, migrated = 0;
        for (const PolicyOutcome& p : st.result.policies) {
            lo = std::min(lo, p.timing->total_time);
            hi = std::max(hi, p.timing->total_time);
            migrated += p.timing->migrated_bytes;
        }
        QVERIFY(hi > lo);
        QVERIFY(migrated > 0);
        // On one sequence lru-fair and lru-demand are run as lru (PolicyInfo::same_on_one_sequence),
        // and the comparison above holds them to the whole run of each; in a batch each runs.
        const auto outcome = [&](const char* name) -> const PolicyOutcome& {
            for (const PolicyOutcome& p : st.result.policies)
                if (p.info.name == name) return p;
            throw std::logic_error(name);
        };
        const bool shared = outcome("lru-fair").timing == outcome("lru").timing;
        QCOMPARE(shared, kind != "batch-experts");
        QCOMPARE(outcome("lru-demand").timing == outcome("lru").timing, kind != "batch-experts");
        // Each policy's CPU time is its own; a policy run as another has none of its own.
        QCOMPARE(st.report.policy_cpu_ms.size(), st.result.policies.size());
        for (size_t i = 0; i < st.result.policies.size(); ++i) {
            const std::string& name = st.result.policies[i].info.name;
            const bool runAsLru = kind != "batch-experts" && (name == "lru-fair" || name == "lru-demand");
            if (runAsLru) QCOMPARE(st.report.policy_cpu_ms[i], 0.0);
            else QVERIFY2(st.report.policy_cpu_ms[i] > 0, name.c_str());
        }
        if (kind == "batch-experts") {
            QCOMPARE(st.result.policies[0].timing->sequences.size(), size_t{3});
            QVERIFY(st.result.policies[0].timing->expert_migrated_bytes > 0);
        }
    }

    // Heatmaps pooled while streaming equal the whole run's grids cell for cell: pooling
    // takes maxima, so columns split across windows merge exactly.
    void heatmapsSameAsWhole_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("windowSteps");
        QTest::addColumn<int>("layer");
        QTest::addColumn<int>("sequence");
        QTest::addColumn<int>("t0");
        QTest::addColumn<int>("t1");
        QTest::addColumn<int>("cells");
        QTest::newRow("per layer, all layers, pooled 7 x 9, window 5") << "per-layer" << 5 << -1 << 0 << 0 << 0 << 7;
        QTest::newRow("per layer, layer 2, steps 11..40, window 3") << "per-layer" << 3 << 2 << 0 << 11 << 40 << 8192;
        QTest::newRow("batch, sequence 1, pooled, window 7") << "batch" << 7 << -1 << 1 << 0 << 0 << 13;
        QTest::newRow("batch, sequence 2, steps 5..6, window 1") << "batch" << 1 << -1 << 2 << 5 << 6 << 8192;
    }

    void heatmapsSameAsWhole()
    {
        QFETCH(QString, kind);
        QFETCH(int, windowSteps);
        QFETCH(int, layer);
        QFETCH(int, sequence);
        QFETCH(int, t0);
        QFETCH(int, t1);
        QFETCH(int, cells);
        const std::string db = test::scratchPath("stream-grid-" + kind.toStdString() + ".sqlite");
        Scenario s;
        if (kind == "per-layer") {
            if (!QFile::exists(QString::fromStdString(db))) saveGenerated(db, shape(21, 70, 45, 3, true), "t", Encoding::SparseF32);
            s = scenarioFor(db, "t", 3, 25, 2 * 64);
            s.selection.page_tokens = 2;
        } else {
            if (!QFile::exists(QString::fromStdString(db))) {
                GeneratorParams p = shape(23, 50, 30, 2, false);
                p.sequences = 3;
                p.prefill_spread = 0.5;
                saveGenerated(db, p, "t", Encoding::SparseF32);
            }
            s = scenarioFor(db, "t", 2, 40, 64 * 2);
        }
        s.policies = {{"lru", {}}, {"h2o", {}}, {"first-fit", {}}};
        HeatmapWindow w;
        w.t0 = t0;
        w.t1 = t1;
        w.width = cells;
        w.height = cells == 8192 ? 8192 : cells + 2;
        w.layer = layer;
        w.sequence = sequence;
        Pipeline pipe;
        const AnalysisResult whole = pipe.run(s);
        StreamOptions o;
        o.window_steps = windowSteps;
        o.relevance_grid = w;
        o.placement_grids = {{"h2o", w}, {"lru", w}};
        const StreamedAnalysis st = analyzeStreamed(s, o);
        const RelevanceGrid rel = relevanceGrid(*whole.trace, *whole.selection, w);
        QVERIFY(st.relevance_grid.has_value());
        QVERIFY(st.relevance_grid->grid.window == rel.grid.window);
        QCOMPARE(st.relevance_grid->grid.nx, rel.grid.nx);
        QCOMPARE(st.relevance_grid->grid.ny, rel.grid.ny);
        QVERIFY(st.relevance_grid->max_value == rel.max_value);
        QVERIFY(st.relevance_grid->selected == rel.selected);
        QVERIFY(st.relevance_grid->exists == rel.exists);
        QCOMPARE(st.relevance_grid->vmax, rel.vmax);
        QCOMPARE(st.relevance_grid->vmin, rel.vmin);
        QCOMPARE(st.placement_grids.size(), size_t{2});
        for (const char* name : {"h2o", "lru"}) {
            const PolicyOutcome* o2 = nullptr;
            for (const PolicyOutcome& x : whole.policies)
                if (x.info.name == name) o2 = &x;
            QVERIFY(o2);
            const PlacementGrid g = placementGrid(*whole.selection, *o2->placement, w);
            const PlacementGrid& sg = st.placement_grids[std::string(name) == "h2o" ? 0 : 1];
            QCOMPARE(sg.policy, std::string(name));
            QVERIFY(sg.grid.window == g.grid.window);
            QVERIFY2(sg.category == g.category, name);
            QVERIFY2(sg.tier == g.tier, name);
            QVERIFY2(sg.promoted == g.promoted, name);
            QVERIFY2(sg.evicted == g.evicted, name);
            // Not vacuous: the grid shows reads from both tiers.
            QVERIFY(std::count(g.category.begin(), g.category.end(), kLowerRead) > 0);
            QVERIFY(std::count(g.category.begin(), g.category.end(), kFastRead) > 0);
        }
        // A policy the scenario does not run is refused before anything is read.
        o.placement_grids = {{"belady", w}};
        QVERIFY(test::errorOf([&] { analyzeStreamed(s, o); }).startsWith("policy 'belady': is not among the policies"));
    }

    // The window model of PERFORMANCE.md: 112 B per entry, 48 B per record row, 40 B per
    // (row, policy, tier). 1000 entries and 4 rows per step, 2 policies, 2 tiers:
    // 112,000 + 4 x (48 + 160) = 112,832 B per step, so 1 MB holds 8 steps.
    void windowFromBudget()
    {
        QCOMPARE(streamWindowSteps(1000, 4, 2, 2, 1000000), int64_t{8});
        QCOMPARE(streamWindowSteps(1000, 4, 2, 2, 112832), int64_t{1});
        QCOMPARE(streamWindowSteps(1000, 4, 2, 2, 112831), int64_t{1});   // never below one step
        QCOMPARE(streamWindowSteps(1000, 4, 2, 2, 2 * 112832), int64_t{2});
        QCOMPARE(streamWindowSteps(1000, 4, 2, 2, 2 * 112832 - 1), int64_t{1});
        QCOMPARE(streamWindowSteps(0, 1, 1, 1, 88), int64_t{1});
    }

    void refusedBeforeReading_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("message");
        QTest::newRow("annealed schedule") << "anneal" << "bounds.annealed: anneals a schedule of the whole trace";
        QTest::newRow("inclusive bound") << "inclusive" << "bounds.migration_aware: covers exclusive placement only";
        QTest::newRow("oracle's parameter") << "oracles" << "policies[1].window_steps: must be between";
        QTest::newRow("no policy") << "none" << "policies: no policy chosen";
        QTest::newRow("joint experts") << "joint" << "experts.policy: joint chooses its budget";
        QTest::newRow("model layers") << "layers" << "model.layers: the per-layer trace 't' has 3 layers";
    }

    void refusedBeforeReading()
    {
        QFETCH(QString, what);
        QFETCH(QString, message);
        const std::string db = test::scratchPath("stream-refused.sqlite");
        if (!QFile::exists(QString::fromStdString(db))) saveGenerated(db, shape(5, 40, 10, 3, true), "t", Encoding::SparseF32);
        Scenario s = scenarioFor(db, "t", 3, 20, 64);
        if (what == "anneal") s.bounds.migration_aware.enabled = s.bounds.annealed.enabled = true;
        if (what == "inclusive") s.bounds.migration_aware.enabled = s.inclusive = true;
        if (what == "oracles") s.policies = {{"belady", {}}, {"windowed-look-ahead", {{"window_steps", 0}}}};
        if (what == "none") s.policies.clear();
        if (what == "joint") {
            s.model.experts = 4;
            s.model.expert_bytes = 16;
            s.model.weight_bytes += 3 * 4 * 16;
            s.experts.policy = ExpertPolicy::Joint;
        }
        if (what == "layers") s.model.layers = 4;
        const QString err = test::errorOf([&] { analyzeStreamed(s); });
        QVERIFY2(err.startsWith(message), qPrintable(err));
    }

    // A record gone from the middle of the trace: the reader thread's error reaches the
    // caller, naming the file, the trace and the record.
    void missingRecordNamed()
    {
        const std::string db = test::scratchPath("stream-missing.sqlite");
        saveGenerated(db, shape(5, 40, 30, 1, false), "t", Encoding::SparseF32);
        {
            auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
            QCOMPARE(sqlite3_exec(store->handle(), "DELETE FROM records WHERE step = 17", nullptr, nullptr, nullptr),
                     SQLITE_OK);
        }
        Scenario s = scenarioFor(db, "t", 1, 20, 64);
        StreamOptions o;
        o.window_steps = 4;
        const QString err = test::errorOf([&] { analyzeStreamed(s, o); });
        QVERIFY2(err.contains(QString::fromStdString(db)) && err.contains("'t'") && err.contains("t=17") &&
                     err.contains("missing"),
                 qPrintable(err));
    }

    // Cancelled after the first window: Cancelled, and no result.
    void cancelledMidway()
    {
        const std::string db = test::scratchPath("stream-cancel.sqlite");
        saveGenerated(db, shape(5, 60, 40, 2, true), "t", Encoding::SparseF32);
        Scenario s = scenarioFor(db, "t", 2, 20, 64);
        std::atomic<bool> cancel{false};
        JobControl job;
        job.cancel = &cancel;
        int reports = 0;
        job.progress = [&](double f) {
            if (f > 0 && f < 1 && ++reports == 1) cancel = true;
        };
        StreamOptions o;
        o.window_steps = 8;
        bool cancelled = false;
        try {
            analyzeStreamed(s, o, job);
        } catch (const Cancelled&) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        QCOMPARE(reports, 1);
    }

    // The spilled future, by hand: 4 prefill units, 3 steps (units 0..6), reads {0, 2},
    // {2, 4}, {0, 1}, added in windows of 2 and 1 steps and read back a word per chunk.
    // Next reads: step 0: unit 0 at 2, unit 2 at 1; steps 1 and 2: none. First reads:
    // units 0 and 2 at 0, 4 at 1, 1 at 2, the rest never.
    void spilledFutureByHand()
    {
        UnitLayout lay;
        lay.prefill = 4;
        lay.steps = 3;
        QCOMPARE(lay.totalUnits(), int64_t{7});
        auto window = [&](int64_t first, std::vector<std::vector<uint32_t>> rows) {
            Selection w;
            w.layout = lay;
            w.first_step = first;
            for (const auto& r : rows) {
                w.step_units.items.insert(w.step_units.items.end(), r.begin(), r.end());
                w.step_units.offset.push_back(w.step_units.items.size());
            }
            return w;
        };
        QTemporaryDir dir;
        FutureSpill spill(lay, dir.path().toStdString(), 1);
        spill.add(window(0, {{0, 2}, {2, 4}}));
        QVERIFY(logicErrorOf([&] { spill.add(window(0, {{1}})); }).contains("window from step 0 out of order"));
        spill.add(window(2, {{0, 1}}));
        QCOMPARE(spill.reads(), int64_t{6});
        QCOMPARE(spill.bytes(), int64_t{24});
        spill.finish();
        QCOMPARE(spill.bytes(), int64_t{48});
        QCOMPARE(filesIn(dir.path()), 0);   // unlinked at once
        const uint32_t never = FutureReads::kNever;
        auto feed = spill.feed();
        QCOMPARE(feed->steps(), int64_t{3});
        QVERIFY(feed->firstReads() == (std::vector<uint32_t>{0, 2, 0, never, 1, never, never}));
        auto vec = [](std::span<const uint32_t> x) { return std::vector<uint32_t>(x.begin(), x.end()); };
        QVERIFY(vec(feed->reads(0)) == (std::vector<uint32_t>{0, 2}));
        QVERIFY(vec(feed->nextReads(0)) == (std::vector<uint32_t>{2, 1}));
        feed->advance(1);
        QVERIFY(vec(feed->reads(2)) == (std::vector<uint32_t>{0, 1}));   // read ahead past step 1
        QVERIFY(vec(feed->nextReads(1)) == (std::vector<uint32_t>{never, never}));
        QVERIFY(vec(feed->reads(1)) == (std::vector<uint32_t>{2, 4}));
        QVERIFY(vec(feed->nextReads(2)) == (std::vector<uint32_t>{never, never}));
        QVERIFY(logicErrorOf([&] { feed->reads(0); }).contains("step 0 asked for outside steps 1 .. 2"));
        // The whole selection's future is the same.
        Selection whole = window(0, {{0, 2}, {2, 4}, {0, 1}});
        auto w = wholeSelectionReads(whole);
        QVERIFY(w->firstReads() == feed->firstReads());
        QVERIFY(vec(w->nextReads(0)) == (std::vector<uint32_t>{2, 1}));
    }

    // A spill that cannot be written (here a file size limit of 64 B stops it, as a full
    // disk would): one line naming the file and the problem, nothing left behind.
    void spillWriteFails()
    {
        UnitLayout lay;
        lay.prefill = 40;
        lay.steps = 2;
        Selection w;
        w.layout = lay;
        for (uint32_t u = 0; u < 40; ++u) w.step_units.items.push_back(u);   // 160 B
        w.step_units.offset.push_back(40);
        QTemporaryDir dir;
        FutureSpill spill(lay, dir.path().toStdString());
        rlimit before{};
        QCOMPARE(getrlimit(RLIMIT_FSIZE, &before), 0);
        const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit small = before;
        small.rlim_cur = 64;
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
        const QString err = test::errorOf([&] { spill.add(w); });
        setrlimit(RLIMIT_FSIZE, &before);
        std::signal(SIGXFSZ, oldHandler);
        QCOMPARE(err, QString::fromStdString(spill.path()) +
                          ": cannot write the oracles' future reads at byte 64 (the spill takes 8 B per read "
                          "entry): larger than this process may write a file (ulimit -f)");
        QVERIFY(QString::fromStdString(spill.path()).startsWith(dir.path() + "/kvtier-future-"));
        QCOMPARE(filesIn(dir.path()), 0);
    }

    // Cancelled in the oracles' pre-pass (its first progress report, at most half way):
    // Cancelled, and no spill file is left.
    void cancelledInPrePass()
    {
        const std::string db = test::scratchPath("stream-cancel-oracle.sqlite");
        saveGenerated(db, shape(5, 60, 40, 2, true), "t", Encoding::SparseF32);
        Scenario s = scenarioFor(db, "t", 2, 20, 64);
        s.policies = {{"lru", {}}, {"belady", {}}};
        std::atomic<bool> cancel{false};
        JobControl job;
        job.cancel = &cancel;
        std::vector<double> reports;
        job.progress = [&](double f) {
            reports.push_back(f);
            cancel = true;
        };
        QTemporaryDir dir;
        StreamOptions o;
        o.window_steps = 8;
        o.spill_dir = dir.path().toStdString();
        bool cancelled = false;
        try {
            analyzeStreamed(s, o, job);
        } catch (const Cancelled&) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        QCOMPARE(reports.size(), size_t{1});
        QCOMPARE(reports[0], 0.5 * 8 / 40);   // the pre-pass's first window of five
        QCOMPARE(filesIn(dir.path()), 0);
    }

    // A spill directory that cannot take the file: one line naming the file and the problem.
    void spillDirectoryUnwritable()
    {
        const std::string db = test::scratchPath("stream-refused.sqlite");
        if (!QFile::exists(QString::fromStdString(db))) saveGenerated(db, shape(5, 40, 10, 3, true), "t", Encoding::SparseF32);
        Scenario s = scenarioFor(db, "t", 3, 20, 64);
        StreamOptions o;
        o.spill_dir = "/nonexistent-kvtier-dir";
        const QString err = test::errorOf([&] { analyzeStreamed(s, o); });
        QCOMPARE(err, QString("/nonexistent-kvtier-dir/kvtier-future-XXXXXX: cannot create the oracles' spill file: "
                              "the directory does not exist (set TMPDIR to a writable directory)"));
        // Without oracles there is no spill.
        s.policies = {{"lru", {}}};
        const StreamedAnalysis st = analyzeStreamed(s, o);
        QCOMPARE(st.report.spill_bytes, int64_t{0});
        QVERIFY(st.report.spill_path.empty());
    }

    // A window of a trace takes the records of its own steps only, in order.
    void windowTakesItsSteps()
    {
        TraceMeta m;
        m.name = "w";
        m.prefill = 4;
        m.steps = 6;
        m.layers = 2;
        m.layer_mode = LayerMode::PerLayer;
        Trace t(m);
        t.startWindow(3);
        const std::vector<uint32_t> idx{1, 5};
        const std::vector<float> val{0.5f, 0.25f};
        QVERIFY(test::errorOf([&] { t.append(0, 0, idx, val); }).contains("out of order: expected (t=3, l=0)"));
        t.append(3, 0, idx, val);
        t.append(3, 1, idx, val);
        QVERIFY(test::errorOf([&] { t.append(4, 0, std::vector<uint32_t>{8}, std::vector<float>{1}); })
                    .contains("token index 8 >= n_t = 8"));
        QCOMPARE(t.heldSteps(), int64_t{1});
        QCOMPARE(t.indices(t.recordId(3, 1))[1], 5u);
        QVERIFY(!t.complete());
        QVERIFY(test::errorOf([&] { t.startWindow(7); }).contains("window starts at step 7 outside T = 6"));
    }
};

QTEST_GUILESS_MAIN(TestStreamAnalysis)
#include "tst_stream_analysis.moc"
