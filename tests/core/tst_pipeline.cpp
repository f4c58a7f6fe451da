// The cached pipeline and the scenario file: what a slider change recomputes, scenario
// parsing and its errors, round trips, cancellation.
#include "test_support.hpp"

#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/view_sweep.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <atomic>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace kvtier;
using nlohmann::json;

class TestPipeline : public QObject {
    Q_OBJECT

    std::string db_;
    PresetLibrary presets_ = PresetLibrary::loadBuiltin();

    json baseDoc() const
    {
        return json::parse(R"({
          "trace": {"db": "", "name": "small"},
          "model": {"layers": 4, "kv_bytes_per_token_layer": 1000, "weight_bytes": 4e5},
          "hardware": {"tiers": [
             {"name": "HBM", "capacity_bytes": 1.0e6, "bandwidth": 4.0e12, "reserve_bytes": 0},
             {"name": "LPDDR5X", "capacity_bytes": 1e9, "bandwidth": 5.0e11,
              "link_read": 4.5e11, "link_write": 4.5e11, "reserve_bytes": 0}]},
          "selection": {"mode": "ratio", "value": 0.3, "sinks": 0, "window": 0, "page_tokens": 1},
          "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
          "batch": 1,
          "policies": "all"})");
    }
    Scenario scenario(const std::vector<std::string>& sets = {}) const
    {
        json doc = baseDoc();
        doc["trace"]["db"] = db_;
        const std::string path = test::writeScratch("s.kvtier.json", doc.dump());
        return loadScenario(path, presets_, sets);
    }
    std::string errorOf(const json& doc, const std::vector<std::string>& sets = {}) const
    {
        const std::string path = test::writeScratch("bad.kvtier.json", doc.dump());
        try {
            loadScenario(path, presets_, sets);
        } catch (const std::exception& e) {
            return e.what();
        }
        return "";
    }

private slots:
    void initTestCase()
    {
        db_ = test::scratchPath("traces.sqlite");
        GeneratorParams g = generatorPreset("drift");
        g.prefill = 300;
        g.steps = 64;
        g.layers = 4;
        auto store = TraceStore::open(db_, TraceStore::Mode::ReadWrite);
        TraceMeta meta = generatorMeta(g);
        meta.name = "small";
        auto w = store->beginTrace(meta, Encoding::SparseF32);
        generate(g, [&](const Record& r) { w->add(r); });
        w->commit();
    }

    void runsEveryPolicyAndMatchesTheStages()
    {
        Pipeline p;
        const Scenario s = scenario();
        const AnalysisResult r = p.run(s);
        QCOMPARE(r.policies.size(), policyRegistry().size());
        QCOMPARE(r.selection->layout.steps, int64_t(64));
        // The same numbers as running the stages by hand.
        const Selection sel = computeSelection(*r.trace, s.selection);
        const CapacityPlan cap = planCapacity(s, sel.layout);
        QCOMPARE(cap.units, r.capacity.units);
        const PlacementResult pl = runPlacement(sel, findPolicy("first-fit"), {}, {false, cap.units});
        const TimingResult t = computeTiming(sel, pl, s.timingConfig());
        QCOMPARE(r.policies[0].info.name, std::string("first-fit"));
        QCOMPARE(r.policies[0].timing->total_time, t.total_time);
        for (const auto& o : r.policies) QVERIFY(o.gapToBound >= 1 - 1e-12);
        // The trace's relevance statistics come with the selection.
        const RelevanceStats st = relevanceStats(sel);
        QVERIFY(r.relevance);
        QCOMPARE(r.relevance->turnover, st.turnover);
        QCOMPARE(r.relevance->mean_stay_length, st.mean_stay_length);
        QVERIFY(st.mean_turnover > 0 && st.mean_turnover < 1);
        // Equal when writes fit in spare bandwidth (here: LPDDR behind its link); never below.
        QVERIFY(r.balanced->total_time >= r.paper->total_time * (1 - 1e-12));
    }

    void bandwidthRetimesWithoutReplacing()
    {
        Pipeline p;
        const AnalysisResult first = p.run(scenario());
        QCOMPARE(first.stats.selections_computed, 1);
        QCOMPARE(first.stats.placements_computed, int(policyRegistry().size()));
        const AnalysisResult r = p.run(scenario({"hardware.tiers.1.bandwidth=2.5e11"}));
        QCOMPARE(r.stats.selections_computed, 0);
        QCOMPARE(r.stats.placements_computed, 0);
        QCOMPARE(r.stats.timings_computed, int(policyRegistry().size()));
        QVERIFY(r.policies[0].timing->total_time > first.policies[0].timing->total_time);
        QCOMPARE(r.policies[0].placement.get(), first.policies[0].placement.get());
    }

    void capacityReplacesWithoutReselecting()
    {
        Pipeline p;
        const AnalysisResult first = p.run(scenario());
        const AnalysisResult r = p.run(scenario({"hardware.tiers.0.capacity_bytes=1.2e6"}));
        QCOMPARE(r.stats.selections_computed, 0);
        QCOMPARE(r.stats.placements_computed, int(policyRegistry().size()));
        QCOMPARE(r.selection.get(), first.selection.get());
        QVERIFY(r.capacity.units[0] > first.capacity.units[0]);
    }

    // What policies may observe is part of the placement key: switching it re-places every
    // policy without re-selecting, and the score-based ones then decide differently here.
    void observeScoresReplacesWithoutReselecting()
    {
        Pipeline p;
        const AnalysisResult read = p.run(scenario());
        const AnalysisResult all = p.run(scenario({"placement.observe_scores=all"}));
        QCOMPARE(all.stats.selections_computed, 0);
        QCOMPARE(all.stats.placements_computed, int(policyRegistry().size()));
        int differ = 0;
        for (size_t i = 0; i < read.policies.size(); ++i)
            differ += read.policies[i].placement->moves.items.size() != all.policies[i].placement->moves.items.size();
        QVERIFY(differ > 0);
        QCOMPARE(p.run(scenario()).stats.placements_computed, 0);   // both stay cached
    }

    void sparsityReselects()
    {
        Pipeline p;
        p.run(scenario());
        const AnalysisResult r = p.run(scenario({"selection.value=0.6"}));
        QCOMPARE(r.stats.selections_computed, 1);
        QVERIFY(r.selection->tokens.items.size() > 0);
        // And back: the first selection is still cached.
        QCOMPARE(p.run(scenario()).stats.selections_computed, 0);
    }

    void cancellationStopsTheRun()
    {
        Pipeline p;
        std::atomic<bool> cancel{true};
        JobControl job;
        job.cancel = &cancel;
        QVERIFY_THROWS_EXCEPTION(Cancelled, p.run(scenario(), job));
    }

    void scenarioRoundTrips()
    {
        const Scenario s = scenario({"selection.mode=topk", "selection.value=32", "batch=4", "placement.inclusive=true",
                                     "placement.route=balanced", "placement.observe_scores=all",
                                     R"(policies=[{"name":"belady","variant":"max-hits"},"h2o"])"});
        QCOMPARE(s.selection.mode, SelectionMode::TopK);
        QCOMPARE(s.batch, int64_t(4));
        QCOMPARE(s.observe_scores, ObserveScores::All);
        QCOMPARE(s.policies[0].params.at("variant"), 1.0);
        // Choice parameters are written by name.
        QCOMPARE(scenarioToJson(s)["policies"][0]["variant"].get<std::string>(), std::string("max-hits"));
        QCOMPARE(scenarioToJson(s)["placement"]["observe_scores"].get<std::string>(), std::string("all"));
        QCOMPARE(scenario().observe_scores, ObserveScores::Read);   // the default
        const std::string path = test::scratchPath("round.kvtier.json");
        saveScenario(s, path);
        const Scenario back = loadScenario(path, presets_);
        QVERIFY(back == s);
    }

    void presetsExpandAndOverride()
    {
        json doc = baseDoc();
        doc["trace"]["db"] = db_;
        doc["hardware"] = "gh200-hbm3";
        doc["model"] = "llama-3-8b";
        const std::string path = test::writeScratch("preset.kvtier.json", doc.dump());
        const Scenario s = loadScenario(path, presets_, {"hardware.tiers.0.capacity_bytes=2e10"});
        QCOMPARE(s.hardware_preset, std::string("gh200-hbm3"));
        QCOMPARE(s.hardware.tiers[0].capacity_bytes, 2e10);
        QCOMPARE(s.model.kv_bytes_per_token_layer, 4096.0);
        QCOMPARE(s.hardware.tiers.size(), presets_.hardwareById("gh200-hbm3").hardware.tiers.size());
    }

    void badScenariosNameFileAndKey_data()
    {
        QTest::addColumn<QString>("set");
        QTest::addColumn<QString>("expect");
        QTest::newRow("unknown key") << "selection.modee=ratio" << "selection.modee: unknown key";
        QTest::newRow("ratio > 1") << "selection.value=1.5" << "selection.value";
        QTest::newRow("negative capacity") << "hardware.tiers.0.capacity_bytes=-1" << "hardware.tiers[0].capacity_bytes";
        QTest::newRow("zero bandwidth") << "hardware.tiers.1.bandwidth=0" << "bandwidth: must be > 0";
        QTest::newRow("bad route") << "placement.route=fastest" << "placement.route";
        QTest::newRow("batch 0") << "batch=0" << "batch: must be between";
        QTest::newRow("omega") << "placement.weights_in_fast_tier=1.5" << "weights_in_fast_tier";
        QTest::newRow("unknown policy") << R"(policies=[{"name":"magic"}])" << "unknown policy 'magic'";
        QTest::newRow("unknown param") << R"(policies=[{"name":"first-fit","window":3}])" << "policies[0].window";
        QTest::newRow("past the end") << "hardware.tiers.5.bandwidth=1" << "past the end";
        QTest::newRow("observe_scores") << "placement.observe_scores=some" << "placement.observe_scores: unknown value";
        QTest::newRow("belady variant") << R"(policies=[{"name":"belady","variant":"fastest"}])"
                                        << "policies[0].variant: unknown value 'fastest' (expected bypass, max-hits)";
        QTest::newRow("variant index") << R"(policies=[{"name":"belady","variant":1}])" << "policies[0].variant";
    }
    void badScenariosNameFileAndKey()
    {
        QFETCH(QString, set);
        QFETCH(QString, expect);
        json doc = baseDoc();
        doc["trace"]["db"] = db_;
        const QString err = QString::fromStdString(errorOf(doc, {set.toStdString()}));
        QVERIFY2(err.contains("bad.kvtier.json"), qPrintable(err));
        QVERIFY2(err.contains(expect), qPrintable(err));
    }

    void infeasibleAndMismatchedAreErrors()
    {
        Pipeline p;
        try {
            p.run(scenario({"hardware.tiers.0.capacity_bytes=1e5"}));   // weights are 4e5
            QFAIL("expected infeasible");
        } catch (const InfeasibleError& e) {
            QVERIFY2(QString(e.what()).contains("weights"), e.what());
        }
        try {
            p.run(scenario({"trace.name=missing"}));
            QFAIL("expected a missing trace error");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("missing"), e.what());
        }
    }

    void sweepKeepsInfeasiblePoints()
    {
        Pipeline p;
        const Scenario s = scenario();
        const SweepResult r = runSweep(p, scenarioToJson(s), "test", presets_,
                                       {parseSweepAxis("hardware.tiers.0.capacity_bytes=2e5:1.4e6:4e5")});
        QCOMPARE(r.points.size(), size_t(4));
        QVERIFY(!r.points[0].error.empty());      // 2e5 < 4e5 of weights
        QVERIFY(r.points[1].error.empty());
        // More HBM never makes first-fit slower.
        QVERIFY(r.points[3].policies[0].total_time_s <= r.points[1].policies[0].total_time_s);
        const std::string csv = sweepToCsv(r);
        QVERIFY(csv.rfind("hardware.tiers.0.capacity_bytes,balanced_s,paper_s,first-fit_time_s", 0) == 0);
        QCOMPARE(std::count(csv.begin(), csv.end(), '\n'), 5L);
        QCOMPARE(parseSweepAxis("batch=1,2,8").values, (std::vector<double>{1, 2, 8}));
        QVERIFY_THROWS_EXCEPTION(InputError, parseSweepAxis("batch=1:4:0"));
    }

    // A sweep with the heavy bounds enabled carries them at every feasible point, and its
    // CSV gains their columns; each point equals a run of that point's scenario.
    void sweepCarriesTheHeavyBounds()
    {
        Pipeline p;
        Scenario s = scenario();
        s.bounds.migration_aware.enabled = true;
        s.bounds.migration_aware.iterations = 20;
        s.bounds.annealed.enabled = true;
        s.bounds.annealed.moves = 500;
        const SweepResult r = runSweep(p, scenarioToJson(s), "test", presets_,
                                       {parseSweepAxis("hardware.tiers.0.capacity_bytes=2e5:1.4e6:4e5")});
        QVERIFY(r.migration_bound && r.annealed);
        QVERIFY(!r.points[0].error.empty());
        QCOMPARE(r.points[0].migration_bound_s, 0.0);
        for (size_t i = 1; i < r.points.size(); ++i) {
            const SweepPoint& pt = r.points[i];
            QVERIFY(pt.error.empty());
            QVERIFY(pt.migration_bound_s >= pt.balanced_s);
            QVERIFY(pt.schedule_s >= pt.migration_bound_s);
            QVERIFY(pt.annealed_s >= pt.migration_bound_s * (1 - 1e-12));
            for (const SweepPolicyPoint& q : pt.policies) QVERIFY(q.total_time_s >= pt.migration_bound_s * (1 - 1e-12));
            Scenario at = s;
            at.hardware.tiers[0].capacity_bytes = pt.x[0];
            Pipeline fresh;
            const AnalysisResult one = fresh.run(at);
            QCOMPARE(pt.migration_bound_s, one.migration_bound->total_time);
            QCOMPARE(pt.schedule_s, one.migration_bound->schedule_time());
            QCOMPARE(pt.annealed_s, one.annealed->total_time());
            const SweepSeriesPoint series = sweepSeriesPoint(pt, r.policies.size());
            QCOMPARE(series.migration_bound, pt.migration_bound_tok_s);
            QCOMPARE(pt.migration_bound_tok_s, static_cast<double>(one.scenario.batch * r.steps) / pt.migration_bound_s);
        }
        QVERIFY(std::isnan(sweepSeriesPoint(r.points[0], r.policies.size()).schedule));
        const std::string csv = sweepToCsv(r);
        QVERIFY(csv.rfind("hardware.tiers.0.capacity_bytes,balanced_s,paper_s,migration_bound_s,schedule_s,annealed_s,"
                          "first-fit_time_s", 0) == 0);
        // Every line has as many fields as the header (the infeasible one included).
        std::istringstream lines(csv);
        std::string line, header;
        std::getline(lines, header);
        const auto fields = [](const std::string& l) { return std::count(l.begin(), l.end(), ',') ; };
        while (std::getline(lines, line)) {
            const std::string head = line.substr(0, line.find('"'));
            QCOMPARE(fields(head), fields(header));
        }
    }

    // The heavy bounds (docs/BOUNDS.md): opt-in, cached by their parameters, never cached
    // when cancelled; balanced <= B <= S and B <= every policy and the annealed schedule.
    void migrationAwareBoundIsAnOptInCachedStage()
    {
        Pipeline p;
        const AnalysisResult off = p.run(scenario());
        QVERIFY(!off.migration_bound && !off.annealed);
        const std::vector<std::string> on = {"bounds.migration_aware.enabled=true", "bounds.migration_aware.iterations=40",
                                             "bounds.annealed.enabled=true", "bounds.annealed.moves=2000"};
        // Cancelled in the heavy stage: Cancelled, and nothing of it is cached.
        std::atomic<bool> cancel{false};
        JobControl job;
        job.cancel = &cancel;
        job.progress = [&](double f) { if (f > 0.3) cancel = true; };   // 0.3: the cheap stages are done
        QVERIFY_THROWS_EXCEPTION(Cancelled, p.run(scenario(on), job));
        const AnalysisResult r = p.run(scenario(on));
        QCOMPARE(r.stats.heavy_bounds_computed, 2);
        QVERIFY(r.migration_bound && r.annealed);
        QVERIFY(r.balanced->total_time <= r.migration_bound->total_time);
        QVERIFY(r.migration_bound->total_time <= r.migration_bound->schedule_time() * (1 + 1e-12));
        QVERIFY(r.migration_bound->total_time <= r.annealed->total_time() * (1 + 1e-12));
        for (const PolicyOutcome& o : r.policies)
            QVERIFY2(r.migration_bound->total_time <= o.timing->total_time * (1 + 1e-12), o.info.name.c_str());
        QVERIFY(!r.migration_bound->schedule.placement->online);
        QCOMPARE(r.migration_bound->schedule.timing->total_time, r.migration_bound->schedule_time());
        const AnalysisResult again = p.run(scenario(on));
        QCOMPARE(again.stats.heavy_bounds_computed, 0);
        QCOMPARE(again.migration_bound.get(), r.migration_bound.get());
        // Its own parameters are part of the key.
        std::vector<std::string> other = on;
        other.push_back("bounds.annealed.seed=7");
        QCOMPARE(p.run(scenario(other)).stats.heavy_bounds_computed, 1);
        // Written back only when set; read back equal.
        const Scenario withBounds = scenario(on);
        QVERIFY(!scenarioToJson(scenario()).contains("bounds"));
        const std::string path = test::writeScratch("b.kvtier.json", scenarioToJson(withBounds).dump());
        QCOMPARE(loadScenario(path, presets_).bounds, withBounds.bounds);
    }

    void boundsKeysAreChecked()
    {
        json doc = baseDoc();
        doc["trace"]["db"] = db_;
        doc["bounds"] = {{"migration_aware", {{"enabled", true}, {"iterations", 0}}}};
        QVERIFY(errorOf(doc).find("bounds.migration_aware.iterations: must be between 1 and 1000000") != std::string::npos);
        doc["bounds"] = {{"annealed", {{"enabled", true}}}};
        QVERIFY(errorOf(doc).find("bounds.annealed: needs bounds.migration_aware.enabled") != std::string::npos);
        doc["bounds"] = {{"migration_aware", {{"enabled", true}, {"budget", 1}}}};
        QVERIFY(errorOf(doc).find("bounds.migration_aware") != std::string::npos);
        doc["bounds"] = {{"migration_aware", {{"enabled", true}}}};
        doc["placement"]["inclusive"] = true;
        QVERIFY(errorOf(doc).find("covers exclusive placement only") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
