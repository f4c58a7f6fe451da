// The view data (core/engine/view_*.hpp) against hand-computed values, brute force and
// the engine's own results: pooled grids keep the maximum of what they cover, the
// explanation's terms recompute the TimingResult's step times, the stage a scenario
// change reruns is the one the pipeline's caches see.
#include "test_support.hpp"

#include "core/engine/bounds.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/selection.hpp"
#include "core/engine/timing.hpp"
#include "core/engine/view_baseline.hpp"
#include "core/engine/view_compare.hpp"
#include "core/engine/view_explain.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/engine/view_steps.hpp"
#include "core/engine/view_sweep2d.hpp"
#include "core/engine/view_timeline.hpp"
#include "core/model/error.hpp"
#include "core/synth/generator.hpp"

#include <QtTest>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <tuple>

using namespace kvtier;

namespace {

// MODEL_EXAMPLE.md: P = 4, T = 2, L = 2 (aggregated), top-2, HBM 800 B / 1000 B/s,
// DRAM behind 50 B/s links.
Trace exampleTrace()
{
    return test::denseTrace(4, {{0.1f, 0.5f, 0.3f, 0.1f}, {0.4f, 0.1f, 0.1f, 0.2f, 0.2f}}, 2);
}

Scenario exampleScenario()
{
    Scenario s;
    s.model = {"example", 2, 100, 400};
    s.hardware.tiers = {{"HBM", 800, 1000, kNoLink, kNoLink, 0}, {"DRAM", 1e6, 100, 50, 50, 0}};
    s.selection = {SelectionMode::TopK, 2, 0, 0, 1};
    s.policies = {{"first-fit", {}}};
    return s;
}

// The example's result, assembled from the stages as the pipeline does.
AnalysisResult exampleResult()
{
    AnalysisResult r;
    r.scenario = exampleScenario();
    r.trace = std::make_shared<const Trace>(exampleTrace());
    r.selection = std::make_shared<const Selection>(computeSelection(*r.trace, r.scenario.selection));
    const TimingConfig tc = r.scenario.timingConfig();
    r.balanced = std::make_shared<const BoundResult>(balancedBound(*r.selection, tc));
    r.paper = std::make_shared<const BoundResult>(paperBound(*r.selection, tc));
    PolicyOutcome o;
    o.info = findPolicy("first-fit").info;
    o.placement = std::make_shared<const PlacementResult>(
        runPlacement(*r.selection, findPolicy("first-fit"), {}, PlacementConfig{false, {2, 5000}}));
    o.timing = std::make_shared<const TimingResult>(computeTiming(*r.selection, *o.placement, tc));
    o.gapToBound = o.timing->total_time / r.balanced->total_time;
    r.policies.push_back(o);
    return r;
}

} // namespace

class TestViews : public QObject {
    Q_OBJECT

    std::string db_;

    Scenario generated(int64_t steps, int32_t layers) const
    {
        Scenario s;
        s.trace_db = db_;
        s.trace_name = "small";
        s.model = {"m", layers, 1000, 4e5};
        s.hardware.tiers = {{"HBM", 1.0e6, 4.0e12, kNoLink, kNoLink, 0},
                            {"LPDDR5X", 1e9, 5.0e11, 4.5e11, 4.5e11, 0}};
        s.selection = {SelectionMode::Ratio, 0.3, 0, 0, 1};
        for (const char* p : {"lru", "first-fit", "belady"})
            s.policies.push_back({p, {}});
        (void)steps;
        return s;
    }

private slots:
    void initTestCase()
    {
        db_ = test::scratchPath("views.sqlite");
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
        // The same shape with a record per layer.
        g.per_layer = true;
        TraceMeta perLayer = generatorMeta(g);
        perLayer.name = "layers";
        auto w2 = store->beginTrace(perLayer, Encoding::SparseF32);
        generate(g, [&](const Record& r) { w2->add(r); });
        w2->commit();
    }

    void explanationOfOneLayer()
    {
        // A per-layer trace: each layer's terms come from its own bytes; the layers' own
        // times (with the compute floor) add up to tau[t], and the busy times to busy_s.
        Pipeline p;
        Scenario s = generated(64, 4);
        s.trace_name = "layers";
        s.compute_floor_s = 1e-9;
        const AnalysisResult r = p.run(s);
        QCOMPARE(r.trace->meta().layerSlots(), 4);
        for (const PolicyOutcome& o : r.policies) {
            const TimingResult& tm = *o.timing;
            bool differ = false;   // the layers are not copies of one another
            for (int64_t t = 0; t < tm.steps; t += 7) {
                double tau = 0;
                std::vector<double> busy(static_cast<size_t>(tm.tiers), 0.0), read(static_cast<size_t>(tm.tiers), 0.0);
                const StepExplanation l0 = explainStep(r, o, t, 0);
                for (int32_t l = 0; l < 4; ++l) {
                    const StepExplanation e = explainStep(r, o, t, l);
                    QCOMPARE(e.layer, l);
                    QCOMPARE(e.step_time, tm.step_time[static_cast<size_t>(t)]);
                    tau += std::max(e.layer_time, e.compute_floor);
                    for (size_t m = 0; m < e.tiers.size(); ++m) {
                        busy[m] += e.tiers[m].time;
                        read[m] += e.tiers[m].read;
                        differ = differ || e.tiers[m].read != l0.tiers[m].read;
                    }
                }
                QVERIFY(std::abs(tau - tm.step_time[static_cast<size_t>(t)]) <= 1e-12 * tau);
                for (int32_t m = 0; m < tm.tiers; ++m) {
                    QVERIFY(std::abs(busy[static_cast<size_t>(m)] - tm.at(t, m).busy_s) <= 1e-12 * std::max(1e-30, busy[static_cast<size_t>(m)]));
                    QVERIFY(std::abs(read[static_cast<size_t>(m)] - tm.at(t, m).readBytes()) <= 1e-9 * std::max(1.0, read[static_cast<size_t>(m)]));
                }
            }
            QVERIFY(differ);
            QVERIFY(test::errorOf([&] { explainStep(r, o, 0, 4); }).contains("layer 4"));
        }
        // An aggregated trace has no layer of its own.
        Scenario agg = generated(64, 4);
        const AnalysisResult ra = p.run(agg);
        QVERIFY(test::errorOf([&] { explainStep(ra, ra.policies[0], 0, 0); }).contains("aggregated"));
    }

    void relevanceGridHandComputed()
    {
        const AnalysisResult r = exampleResult();
        // 2 steps x 6 tokens pooled to 2 x 2: rows 0-2 and 3-5, one column per step.
        HeatmapWindow w;
        w.width = 2;
        w.height = 2;
        const RelevanceGrid g = relevanceGrid(*r.trace, *r.selection, w);
        QCOMPARE(g.grid.nx, int64_t(2));
        QCOMPARE(g.grid.ny, int64_t(2));
        QCOMPARE(g.max_value[g.grid.index(0, 0)], 0.5f);   // step 0, tokens 0-2
        QCOMPARE(g.max_value[g.grid.index(0, 1)], 0.1f);   // step 0, token 3
        QCOMPARE(g.max_value[g.grid.index(1, 0)], 0.4f);   // step 1, tokens 0-2
        QCOMPARE(g.max_value[g.grid.index(1, 1)], 0.2f);   // step 1, tokens 3-4
        // Step 0 selects tokens 1, 2; step 1 tokens 0, 3.
        QCOMPARE(int(g.selected[g.grid.index(0, 0)]), 1);
        QCOMPARE(int(g.selected[g.grid.index(0, 1)]), 0);
        QCOMPARE(int(g.selected[g.grid.index(1, 1)]), 1);
        QCOMPARE(g.vmax, double(0.5f));
        QCOMPARE(g.vmin, double(0.1f));
        // A window of one step and the rows 3-5 at full resolution.
        w = {1, 2, 3, 6, 100, 100, -1};
        const RelevanceGrid one = relevanceGrid(*r.trace, *r.selection, w);
        QCOMPARE(one.grid.ny, int64_t(3));
        QCOMPARE(one.max_value[one.grid.index(0, 0)], 0.2f);   // token 3
        QCOMPARE(one.max_value[one.grid.index(0, 1)], 0.2f);   // token 4
        QCOMPARE(one.max_value[one.grid.index(0, 2)], 0.0f);   // token 5 is not scored yet
        QVERIFY(test::errorOf([&] { w.layer = 1; relevanceGrid(*r.trace, *r.selection, w); }).contains("layer 1"));
    }

    void pooledGridsKeepTheBruteForceMaximum()
    {
        Pipeline p;
        const AnalysisResult r = p.run(generated(64, 4));
        const Trace& tr = *r.trace;
        const int64_t T = tr.meta().steps, rows = tr.meta().prefill + T;
        const HeatmapWindow full{0, 0, 0, 0, 8192, 8192, -1};
        const RelevanceGrid fine = relevanceGrid(tr, *r.selection, full);
        QCOMPARE(fine.grid.nx, T);
        QCOMPARE(fine.grid.ny, rows);
        // Full resolution: each cell is the trace's own score.
        float bruteMax = 0;
        for (int64_t t = 0; t < T; ++t) {
            const size_t rec = tr.recordId(t, 0);
            const auto idx = tr.indices(rec);
            const auto val = tr.values(rec);
            for (size_t k = 0; k < idx.size(); ++k) {
                QCOMPARE(fine.max_value[fine.grid.index(t, idx[k])], val[k]);
                bruteMax = std::max(bruteMax, val[k]);
            }
        }
        for (const HeatmapWindow w : {HeatmapWindow{0, 0, 0, 0, 7, 5, -1}, HeatmapWindow{3, 50, 20, 333, 13, 40, -1}}) {
            const RelevanceGrid g = relevanceGrid(tr, *r.selection, w);
            // Every pooled cell is the maximum of the fine cells it covers.
            std::vector<float> want(g.grid.cells(), 0.f);
            for (int64_t t = g.grid.window.t0; t < g.grid.window.t1; ++t)
                for (int64_t y = g.grid.window.y0; y < g.grid.window.y1; ++y) {
                    float& c = want[g.grid.index(g.grid.cellOfStep(t), g.grid.cellOfRow(y))];
                    c = std::max(c, fine.max_value[fine.grid.index(t, y)]);
                }
            QCOMPARE(g.max_value, want);
        }
        const RelevanceGrid all = relevanceGrid(tr, *r.selection, HeatmapWindow{0, 0, 0, 0, 3, 3, -1});
        QCOMPARE(*std::max_element(all.max_value.begin(), all.max_value.end()), bruteMax);
        QCOMPARE(all.vmax, double(bruteMax));
    }

    void placementGridMatchesLocationsAt_data()
    {
        QTest::addColumn<int>("tiers");
        QTest::newRow("HBM + LPDDR5X") << 2;
        QTest::newRow("HBM + DDR5 + CXL") << 3;
    }

    void placementGridMatchesLocationsAt()
    {
        QFETCH(int, tiers);
        Pipeline p;
        Scenario sc = generated(64, 4);
        if (tiers == 3)   // a small DDR5, so the rest of the KV lands in CXL
            sc.hardware.tiers = {{"HBM", 1.0e6, 4.0e12, kNoLink, kNoLink, 0},
                                 {"DDR5", 4.0e5, 5.0e11, 4.5e11, 4.5e11, 0},
                                 {"CXL", 1e9, 1.0e11, 6.4e10, 6.4e10, 0}};
        const AnalysisResult r = p.run(sc);
        bool sawDeepest = false;
        for (const PolicyOutcome& o : r.policies) {
            const PlacementResult& pl = *o.placement;
            const UnitLayout& L = pl.layout;
            const int64_t pages = L.pagesAt(L.prefill + L.steps);
            const PlacementGrid fine = placementGrid(*r.selection, pl, HeatmapWindow{0, 0, 0, 0, 8192, 8192, -1});
            QCOMPARE(fine.grid.nx, L.steps);
            QCOMPARE(fine.grid.ny, pages);
            for (int64_t t = 0; t < L.steps; ++t) {
                const std::vector<uint8_t> where = locationsAt(pl, t);
                const auto read = r.selection->step_units.row(static_cast<size_t>(t));
                for (int64_t page = 0; page < pages; ++page) {
                    const uint32_t u = L.unit(0, page, 0);
                    const bool isRead = std::binary_search(read.begin(), read.end(), u);
                    const uint8_t loc = u < where.size() ? where[u] : 255;
                    const int want = loc == 255 ? kNotCreated
                                   : loc == 0   ? (isRead ? kFastRead : kFastIdle)
                                                : (isRead ? kLowerRead : kLowerIdle);
                    QCOMPARE(int(fine.category[fine.grid.index(t, page)]), want);
                    // Every tier keeps its own identity (host DDR5 and CXL do not merge).
                    QCOMPARE(int(fine.tier[fine.grid.index(t, page)]), int(loc));
                    sawDeepest = sawDeepest || loc == tiers - 1;
                }
            }
            // Pooled: the highest category of the cells covered (brute force over the fine grid).
            const PlacementGrid g = placementGrid(*r.selection, pl, HeatmapWindow{5, 60, 10, 300, 9, 17, -1});
            std::vector<uint8_t> want(g.grid.cells(), kNotCreated), wantTier(g.grid.cells(), 255);
            for (int64_t t = g.grid.window.t0; t < g.grid.window.t1; ++t)
                for (int64_t y = g.grid.window.y0; y < g.grid.window.y1; ++y) {
                    const size_t cell = g.grid.index(g.grid.cellOfStep(t), g.grid.cellOfRow(y));
                    const uint8_t fc = fine.category[fine.grid.index(t, y)], ft = fine.tier[fine.grid.index(t, y)];
                    // The highest category; among equals the deepest tier.
                    if (fc > want[cell] || (fc == want[cell] && fc != kNotCreated && (wantTier[cell] == 255 || ft > wantTier[cell]))) {
                        want[cell] = fc;
                        wantTier[cell] = ft;
                    }
                }
            QCOMPARE(g.category, want);
            QCOMPARE(g.tier, wantTier);
            // Layer 0 of an aggregated trace is the whole trace; there is no layer 1.
            const PlacementGrid l0 = placementGrid(*r.selection, pl, HeatmapWindow{5, 60, 10, 300, 9, 17, 0});
            QCOMPARE(l0.category, g.category);
            QVERIFY(test::errorOf([&] { placementGrid(*r.selection, pl, HeatmapWindow{0, 0, 0, 0, 9, 9, 1}); }).contains("layer 1"));
        }
        QVERIFY2(sawDeepest, "the scenario should put some KV in its last tier");
    }

    void unitTimelineMatchesLocationsAt()
    {
        Pipeline p;
        const AnalysisResult r = p.run(generated(64, 4));
        for (const PolicyOutcome& o : r.policies) {
            const PlacementResult& pl = *o.placement;
            const auto units = static_cast<uint32_t>(pl.layout.totalUnits());
            std::vector<std::vector<uint8_t>> byUnit;
            for (uint32_t u = 0; u < units; u += 7)
                byUnit.push_back(unitTimeline(pl, u));
            for (int64_t t = 0; t < pl.layout.steps; t += 5) {
                const std::vector<uint8_t> core = locationsAt(pl, t);
                size_t k = 0;
                for (uint32_t u = 0; u < units; u += 7, ++k)
                    QCOMPARE(int(byUnit[k][static_cast<size_t>(t)]), int(u < core.size() ? core[u] : 255));
            }
            const TokenTimeline tl = tokenTimeline(*r.trace, *r.selection, pl, 17);
            QCOMPARE(tl.tier, unitTimeline(pl, 17));
            QCOMPARE(tl.selected, tokenSelected(*r.selection, 17));
        }
    }

    void explanationOfTheWorkedExample()
    {
        const AnalysisResult r = exampleResult();
        const StepExplanation e = explainStep(r, r.policies[0], 0);
        QCOMPARE(e.context, int64_t(4));
        QCOMPARE(e.layers, 2);
        QVERIFY(e.aggregated);
        QCOMPARE(e.tiers.size(), size_t(2));
        // HBM per layer: 200 B weights + 100 B KV read, nothing written: 0.3 s.
        QCOMPARE(e.tiers[0].read, 300.0);
        QCOMPARE(e.tiers[0].write, 0.0);
        QCOMPARE(e.tiers[0].by_bandwidth, 0.3);
        QVERIFY(!e.tiers[0].has_read_link);
        QVERIFY(e.tiers[0].binding[0] && !e.tiers[0].binding[1] && !e.tiers[0].binding[2]);
        // DRAM: 100 B read, the new token's 100 B written; all three terms are 2 s.
        QCOMPARE(e.tiers[1].read, 100.0);
        QCOMPARE(e.tiers[1].write, 100.0);
        QCOMPARE(e.tiers[1].by_bandwidth, 2.0);
        QCOMPARE(e.tiers[1].by_read_link, 2.0);
        QCOMPARE(e.tiers[1].by_write_link, 2.0);
        QVERIFY(e.tiers[1].binding[0] && e.tiers[1].binding[1] && e.tiers[1].binding[2]);
        QCOMPARE(e.layer_time, 2.0);
        QCOMPARE(e.limiting_tier, 1);
        QCOMPARE(e.step_time, 4.0);
        QCOMPARE(e.recomputed_step_time, 4.0);
        QVERIFY(std::abs(e.balanced_step_time - 2 * 500.0 / 1050.0) < 1e-12);
        QCOMPARE(e.paper_denominator, 1050.0);
        QVERIFY(std::abs(e.paper_step_time - 2 * 400.0 / 1050.0) < 1e-12);
        QCOMPARE(e.time_per_token, 4.0);
        QCOMPARE(e.hbm_hit_ratio, 0.5);
        QVERIFY(test::errorOf([&] { explainStep(r, r.policies[0], 2); }).contains("step 2"));
    }

    void explanationRecomputesEveryStepTime()
    {
        // L = 4, a power of two: the per-layer figures are the step's sums / L exactly.
        Pipeline p;
        Scenario s = generated(64, 4);
        s.compute_floor_s = 1e-9;
        const AnalysisResult r = p.run(s);
        for (const PolicyOutcome& o : r.policies) {
            const TimingResult& tm = *o.timing;
            for (int64_t t = 0; t < tm.steps; ++t) {
                const StepExplanation e = explainStep(r, o, t);
                QCOMPARE(e.recomputed_step_time, tm.step_time[static_cast<size_t>(t)]);
                for (size_t m = 0; m < e.tiers.size(); ++m) {
                    QCOMPARE(e.tiers[m].time * 4, tm.at(t, static_cast<int32_t>(m)).busy_s);
                    const double terms[3] = {e.tiers[m].by_bandwidth, e.tiers[m].by_read_link, e.tiers[m].by_write_link};
                    QCOMPARE(e.tiers[m].time, *std::max_element(terms, terms + 3));
                }
            }
        }
    }

    // A 2-D sweep's grid against each point's analysis run directly: per cell the smallest
    // policy time and its policy, the chosen policy's time, NaN where infeasible or not yet
    // computed; a partial sweep (cancelled) keeps exactly its finished cells.
    void sweepGridAgainstDirectRuns()
    {
        const Scenario base = generated(64, 4);
        // 1e5 B of HBM cannot hold the 4e5 B of weights: an infeasible column.
        const std::vector<SweepAxis> axes{{"hbm", {1e5, 6e5, 1.0e6}}, {"ratio", {0.1, 0.3}}};
        const auto at = [&](const std::vector<double>& x) {
            Scenario s = base;
            s.hardware.tiers[0].capacity_bytes = x[0];
            s.selection.value = x[1];
            return s;
        };
        Pipeline pipeline;
        const SweepResult r = runSweep(pipeline, base, axes, at, "test");
        const SweepGrid2d g = sweepGrid2d(r, 2);   // belady chosen
        QCOMPARE(g.x, axes[0].values);
        QCOMPARE(g.y, axes[1].values);
        QCOMPARE(g.finished, size_t(6));
        int feasible = 0;
        double lo = std::numeric_limits<double>::infinity(), hi = 0;
        for (size_t i = 0; i < 3; ++i)
            for (size_t j = 0; j < 2; ++j) {
                const size_t c = g.cell(i, j);
                QVERIFY(g.done[c]);
                Pipeline fresh;
                std::optional<AnalysisResult> direct;
                try {
                    direct = fresh.run(at({axes[0].values[i], axes[1].values[j]}));
                } catch (const InfeasibleError&) {
                }
                if (!direct) {
                    QVERIFY(std::isnan(g.best_time_s[c]));
                    QCOMPARE(g.best_policy[c], -1);
                    QVERIFY(std::isnan(g.policy_time_s[c]));
                    QVERIFY(!g.error[c].empty());
                    continue;
                }
                ++feasible;
                double best = std::numeric_limits<double>::infinity();
                int who = -1;
                for (size_t k = 0; k < direct->policies.size(); ++k)
                    if (direct->policies[k].timing->total_time < best) {
                        best = direct->policies[k].timing->total_time;
                        who = static_cast<int>(k);
                    }
                QCOMPARE(g.best_time_s[c], best);
                QCOMPARE(g.best_policy[c], who);
                QCOMPARE(g.policy_time_s[c], direct->policies[2].timing->total_time);
                QVERIFY(g.best_time_s[c] <= g.policy_time_s[c]);   // belady is one of the three
                QVERIFY(g.error[c].empty());
                lo = std::min(lo, best);
                hi = std::max(hi, best);
            }
        QCOMPARE(feasible, 4);   // the 1e5 B column is infeasible, the rest is not
        QCOMPARE(g.min_time_s, lo);
        QCOMPARE(g.max_time_s, hi);
        QVERIFY(lo < hi);   // the knobs matter: the heat map is not flat
        // A partial sweep: the points finished so far, at their grid places.
        SweepResult part = r;
        part.points = {r.points[5], r.points[2]};
        const SweepGrid2d p = sweepGrid2d(part);
        QCOMPARE(p.finished, size_t(2));
        for (size_t c = 0; c < 6; ++c) {
            QCOMPARE(bool(p.done[c]), c == 5 || c == 2);
            if (c == 5 || c == 2)
                QCOMPARE(p.best_time_s[c], g.best_time_s[c]);
            else
                QVERIFY(std::isnan(p.best_time_s[c]));
            QVERIFY(std::isnan(p.policy_time_s[c]));   // none chosen
        }
        // The grid CSV: a row per ratio, a column per HBM size, the best times.
        const std::string csv = sweepGrid2dToCsv(r, g);
        std::ostringstream want;
        want.precision(10);
        want << "\"ratio \\ hbm (best policy time, s)\",100000,600000,1000000\n";
        for (size_t j = 0; j < 2; ++j) {
            want << axes[1].values[j] << ',';
            for (size_t i = 0; i < 3; ++i) {
                if (std::isfinite(g.best_time_s[g.cell(i, j)]))
                    want << g.best_time_s[g.cell(i, j)];
                want << (i + 1 < 3 ? "," : "\n");
            }
        }
        QCOMPARE(csv, want.str());
        // One axis, or a policy that is not in the sweep: refused.
        SweepResult one = r;
        one.axes.pop_back();
        QVERIFY_THROWS_EXCEPTION(InputError, sweepGrid2d(one));
        QVERIFY_THROWS_EXCEPTION(InputError, sweepGrid2d(r, 3));
    }

    void comparisonAndStepSeries()
    {
        const AnalysisResult r = exampleResult();
        const std::vector<ComparisonRow> rows = comparisonRows(r);
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(rows[0].name, std::string("first-fit"));
        QCOMPARE(rows[0].time_per_token, 4.0);
        QCOMPARE(rows[0].throughput, 0.25);
        QCOMPARE(rows[1].name, std::string("balanced"));
        QCOMPARE(rows[1].kind, RowKind::Bound);
        QCOMPARE(rows[1].gap, 1.0);
        QVERIFY(std::isnan(rows[1].hbm_hit_ratio));
        QVERIFY(std::abs(rows[2].gap - 0.8) < 1e-12);   // paper / balanced = 400 / 500
        const StepSeries st = stepSeries(r, r.policies[0]);
        QCOMPARE(st.step_time, (std::vector<double>{4.0, 4.0}));
        // DRAM: 400 B moved per step at 100 B/s over 4 s: fully used, always busy.
        QCOMPARE(st.tier_use[1][0], 1.0);
        QCOMPARE(st.tier_busy[1][0], 1.0);
        QCOMPARE(st.tier_busy[0][0], 0.15);
        const auto traffic = trafficSeries(*r.policies[0].timing, 0);
        QCOMPARE(traffic[kWeightRead][0], 400.0);
        QCOMPARE(traffic[kKvRead][0], 200.0);
    }

    // MODEL.md §8: a batch's comparison has one row per timed policy with a cell per
    // sequence, copied from TimingResult::sequences; a lone sequence has none.
    void sequenceRowsOfABatch()
    {
        QVERIFY(sequenceRows(exampleResult()).empty());
        // The worked example's trace twice: two identical sequences move the same KV bytes
        // at every step, so each gets exactly half of every step's time.
        const Trace one = exampleTrace();
        TraceMeta m = one.meta();
        m.name = "two";
        m.sequence_prefill = {4, 4};
        Trace two(m);
        for (int64_t t = 0; t < m.steps; ++t)
            for (int32_t q = 0; q < 2; ++q)
                two.append(t, q, -1, one.indices(one.recordId(t, 0)), one.values(one.recordId(t, 0)));
        AnalysisResult r = exampleResult();
        r.trace = std::make_shared<const Trace>(std::move(two));
        r.selection = std::make_shared<const Selection>(computeSelection(*r.trace, r.scenario.selection));
        const TimingConfig tc = r.scenario.timingConfig();
        PolicyOutcome o = r.policies[0];
        o.placement = std::make_shared<const PlacementResult>(
            runPlacement(*r.selection, findPolicy("first-fit"), {}, PlacementConfig{false, {4, 5000}}));
        o.timing = std::make_shared<const TimingResult>(computeTiming(*r.selection, *o.placement, tc));
        r.policies = {o};
        const std::vector<SequenceRow> rows = sequenceRows(r);
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].name, std::string("first-fit"));
        QCOMPARE(rows[0].kind, RowKind::Online);
        QCOMPARE(rows[0].sequences.size(), size_t(2));
        for (size_t q = 0; q < 2; ++q) {
            const SequenceCell& c = rows[0].sequences[q];
            const SequenceTotals& t = o.timing->sequences[q];
            QCOMPARE(c.time_share, 0.5);
            QCOMPARE(c.hbm_hit_ratio, t.hbmHitRatio());
            QCOMPARE(c.kv_read_bytes, t.kv_read_bytes);
            QCOMPARE(c.migrated_bytes, t.migrated_bytes);
        }
        // Each sequence reads its top 2 of 4 then 5 tokens at 200 B: 800 B over the run.
        QCOMPARE(rows[0].sequences[0].kv_read_bytes, 800.0);
    }

    void decimationKeepsEveryExtreme()
    {
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> u(0, 1);
        std::vector<double> y(100'003);
        for (double& v : y)
            v = u(rng);
        y[500] = 9;            // a single spike
        y[70'001] = -3;        // a single dip
        for (size_t t = 20'000; t < 20'400; ++t)
            y[t] = std::numeric_limits<double>::quiet_NaN();   // a gap
        for (const auto& [t0, t1, buckets] : {std::tuple<int64_t, int64_t, int>{0, 100'003, 800}, {1'000, 90'000, 333}, {0, 100'003, 7}}) {
            const DecimatedCurve d = decimateMinMax(y, t0, t1, buckets);
            QVERIFY(d.x.size() <= size_t(4 * buckets));
            QCOMPARE(d.x.size(), d.y.size());
            // Every point is a real point of the curve, in step order.
            for (size_t i = 0; i < d.x.size(); ++i) {
                if (i)
                    QVERIFY(d.x[i] > d.x[i - 1]);
                const double want = y[static_cast<size_t>(d.x[i])];
                QVERIFY(std::isnan(d.y[i]) ? std::isnan(want) : d.y[i] == want);
            }
            // Brute force: each column's min and max appear among the column's points.
            for (int64_t k = 0; k < buckets; ++k) {
                const int64_t s = t0 + (t1 - t0) * k / buckets, e = t0 + (t1 - t0) * (k + 1) / buckets;
                double lo = INFINITY, hi = -INFINITY, dlo = INFINITY, dhi = -INFINITY;
                for (int64_t t = s; t < e; ++t)
                    if (!std::isnan(y[static_cast<size_t>(t)])) {
                        lo = std::min(lo, y[static_cast<size_t>(t)]);
                        hi = std::max(hi, y[static_cast<size_t>(t)]);
                    }
                for (size_t i = 0; i < d.x.size(); ++i)
                    if (d.x[i] >= double(s) && d.x[i] < double(e) && !std::isnan(d.y[i])) {
                        dlo = std::min(dlo, d.y[i]);
                        dhi = std::max(dhi, d.y[i]);
                    }
                QCOMPARE(dlo, lo);
                QCOMPARE(dhi, hi);
            }
        }
        // The whole curve's extremes survive, and the gap is still drawn as one.
        const DecimatedCurve d = decimateMinMax(y, 0, 100'003, 800);
        QCOMPARE(*std::max_element(d.y.begin(), d.y.end(), [](double a, double b) { return std::isnan(a) || (!std::isnan(b) && a < b); }), 9.0);
        QVERIFY(std::find(d.y.begin(), d.y.end(), -3.0) != d.y.end());
        QVERIFY(std::any_of(d.y.begin(), d.y.end(), [](double v) { return std::isnan(v); }));
        // Shared steps for stacked curves: every curve's own extremes are among them.
        std::vector<double> z(y.size());
        for (size_t t = 0; t < z.size(); ++t)
            z[t] = static_cast<double>((t * 7919) % 1009);
        const std::vector<int64_t> shared = decimatedSteps({&y, &z}, 0, 100'003, 200);
        QVERIFY(std::is_sorted(shared.begin(), shared.end()));
        for (const std::vector<double>* c : {&y, &z})
            for (double x : decimateMinMax(*c, 0, 100'003, 200).x)
                QVERIFY(std::binary_search(shared.begin(), shared.end(), static_cast<int64_t>(x)));
        QVERIFY(shared.size() <= size_t(2 * 4 * 200));
        // Few points per column: nothing is dropped.
        const DecimatedCurve all = decimateMinMax(y, 10, 410, 100);
        QCOMPARE(all.x.size(), size_t(400));
        QCOMPARE(all.x.front(), 10.0);
        QCOMPARE(all.y.back(), y[409]);
    }

    void baselineDeltasPerPolicy()
    {
        // The worked example (first-fit: 2 steps of 4 s) against itself and against
        // results whose timings differ; every figure is the TimingResults' own.
        const AnalysisResult base = exampleResult();
        AnalysisResult now = exampleResult();
        const AnalysisResult same = exampleResult();
        const std::vector<BaselineDelta> d0 = baselineDeltas(now, same);
        QCOMPARE(d0.size(), size_t(2));   // first-fit, balanced
        QCOMPARE(d0[0].name, std::string("first-fit"));
        QCOMPARE(d0[0].delta, 0.0);
        QCOMPARE(d0[0].ratio, 1.0);
        QCOMPARE(d0[0].total_now, 8.0);
        QCOMPARE(d0[0].per_token_baseline, 4.0);
        QCOMPARE(d0[1].name, std::string("balanced"));
        // A policy only the baseline has, and one only the new result has.
        PolicyOutcome extra = now.policies[0];
        extra.info.name = "other";
        TimingResult faster = *extra.timing;
        faster.total_time = 5.0;
        extra.timing = std::make_shared<const TimingResult>(faster);
        now.policies.push_back(extra);
        const std::vector<BaselineDelta> d1 = baselineDeltas(now, base);
        QCOMPARE(d1.size(), size_t(3));
        QCOMPARE(d1[1].name, std::string("other"));
        QVERIFY(d1[1].in_now && !d1[1].in_baseline);
        QVERIFY(std::isnan(d1[1].delta));
        const std::vector<BaselineDelta> d2 = baselineDeltas(base, now);
        QCOMPARE(d2[1].name, std::string("other"));
        QVERIFY(!d2[1].in_now && d2[1].in_baseline);
        QCOMPARE(d2[1].total_baseline, 5.0);
        // A real change: the same policy, its total time from the new timing.
        AnalysisResult slower = exampleResult();
        TimingResult t = *slower.policies[0].timing;
        t.total_time = 10.0;
        slower.policies[0].timing = std::make_shared<const TimingResult>(t);
        const std::vector<BaselineDelta> d3 = baselineDeltas(slower, base);
        QCOMPARE(d3[0].delta, 2.0);
        QCOMPARE(d3[0].ratio, 1.25);
    }

    // With the migration-aware bound: the schedules are oracle rows, B a bound row, and
    // every row's two gaps are its time over B and over S (the certified band's ends).
    void comparisonCarriesTheCertifiedBand()
    {
        Pipeline p;
        Scenario s = generated(64, 4);
        QVERIFY(!boundBand(p.run(s)).present);
        s.bounds.migration_aware.enabled = true;
        s.bounds.migration_aware.iterations = 30;
        s.bounds.annealed.enabled = true;
        s.bounds.annealed.moves = 2000;
        const AnalysisResult r = p.run(s);
        QVERIFY(r.migration_bound && r.annealed);
        const double B = r.migration_bound->total_time, S = r.migration_bound->schedule_time();
        const double steps = static_cast<double>(r.selection->layout.steps);
        const BoundBand band = boundBand(r);
        QVERIFY(band.present);
        QCOMPARE(band.bound_time_per_token, B / steps);
        QCOMPARE(band.schedule_time_per_token, S / steps);
        QCOMPARE(band.gap, S / B);
        QVERIFY(band.gap >= 1.0);

        const std::vector<ComparisonRow> rows = comparisonRows(r);
        std::vector<std::string> names;
        for (const ComparisonRow& c : rows) names.push_back(c.name);
        QCOMPARE(names, (std::vector<std::string>{"lru", "first-fit", "belady", "schedule", "annealed", "migration_aware",
                                                  "balanced", "paper"}));
        for (const ComparisonRow& c : rows) {
            const double total = c.time_per_token * steps;
            QVERIFY2(std::abs(c.gap_to_migration_bound - total / B) <= 1e-12 * (total / B), c.name.c_str());
            QVERIFY2(std::abs(c.gap_to_schedule - total / S) <= 1e-12 * (total / S), c.name.c_str());
            if (c.kind != RowKind::Bound) {
                // Everything achievable is at or above B (a proven lower bound).
                QVERIFY2(c.gap_to_migration_bound >= 1.0 - 1e-9, c.name.c_str());
            }
        }
        QCOMPARE(rows[3].kind, RowKind::Oracle);
        QCOMPARE(rows[3].gap_to_schedule, 1.0);
        QCOMPARE(rows[4].kind, RowKind::Oracle);
        QCOMPARE(rows[4].time_per_token, r.annealed->total_time() / steps);
        QCOMPARE(rows[5].kind, RowKind::Bound);
        QCOMPARE(rows[5].gap_to_migration_bound, 1.0);
        QVERIFY(rows[5].gap >= 1.0);                        // B >= the balanced bound
        QCOMPARE(rows[6].gap, 1.0);
        QCOMPARE(rows[0].gap, r.policies[0].gapToBound);    // the pipeline's ratio, unchanged

        // The schedules as outcomes the placement and bandwidth views show like a policy's.
        const std::vector<PolicyOutcome> shown = scheduleOutcomes(r);
        QCOMPARE(shown.size(), size_t(2));
        QCOMPARE(shown[0].info.name, std::string("schedule"));
        QCOMPARE(shown[1].info.name, std::string("annealed"));
        QVERIFY(!shown[0].info.online && !shown[1].info.online);
        QCOMPARE(shown[0].placement, r.migration_bound->schedule.placement);
        QCOMPARE(shown[0].timing->total_time, S);
        QCOMPARE(shown[1].timing->total_time, r.annealed->total_time());
        QCOMPARE(shown[0].timing->timePerToken(), rows[3].time_per_token);
        QCOMPARE(shown[0].gapToBound, S / r.balanced->total_time);
        QVERIFY(!shown[0].placement_key.empty() && shown[0].placement_key != shown[1].placement_key);
        s.bounds = BoundsConfig{};
        QVERIFY(scheduleOutcomes(p.run(s)).empty());
    }

    void stageToRerunFollowsTheCaches()
    {
        Pipeline p;
        const Scenario a = generated(64, 4);
        QCOMPARE(firstStageToRerun(a, a), Stage::None);
        struct Case { const char* what; std::function<void(Scenario&)> edit; Stage want; };
        const std::vector<Case> cases = {
            {"bandwidth", [](Scenario& s) { s.hardware.tiers[1].bandwidth = 2.5e11; }, Stage::Timing},
            {"link", [](Scenario& s) { s.hardware.tiers[1].link_read = 1e11; }, Stage::Timing},
            {"route", [](Scenario& s) { s.route = Route::Balanced; }, Stage::Timing},
            {"floor", [](Scenario& s) { s.compute_floor_s = 1e-6; }, Stage::Timing},
            {"name", [](Scenario& s) { s.hardware.name = "x"; }, Stage::Timing},
            {"capacity", [](Scenario& s) { s.hardware.tiers[0].capacity_bytes = 1.2e6; }, Stage::Placement},
            {"batch", [](Scenario& s) { s.batch = 2; }, Stage::Placement},
            {"inclusive", [](Scenario& s) { s.inclusive = true; }, Stage::Placement},
            {"policies", [](Scenario& s) { s.policies.pop_back(); }, Stage::Placement},
            {"sparsity", [](Scenario& s) { s.selection.value = 0.2; }, Stage::Selection},
            {"page", [](Scenario& s) { s.selection.page_tokens = 4; }, Stage::Selection},
            {"trace", [](Scenario& s) { s.trace_name = "other"; }, Stage::Trace},
            {"tiers", [](Scenario& s) { s.hardware.tiers.push_back(s.hardware.tiers.back()); }, Stage::Placement},
            {"bound", [](Scenario& s) { s.bounds.migration_aware.time_budget_s = 3; }, Stage::Placement},
            {"expert policy", [](Scenario& s) { s.experts.policy = ExpertPolicy::Lru; }, Stage::Placement},
            {"expert share", [](Scenario& s) { s.experts.hbm_share = 0.25; }, Stage::Placement},
        };
        (void)p.run(a);
        for (const Case& c : cases) {
            Scenario b = a;
            c.edit(b);
            QCOMPARE(toString(firstStageToRerun(a, b)), toString(c.want));
            if (c.want == Stage::Trace || c.want == Stage::Placement)
                continue;
            // What the pipeline's caches recompute agrees: nothing before the stage named.
            Pipeline q;
            (void)q.run(a);
            const AnalysisResult rb = q.run(b);
            QCOMPARE(rb.stats.selections_computed, c.want >= Stage::Selection ? 1 : 0);
            QCOMPARE(rb.stats.placements_computed > 0, c.want >= Stage::Placement);
        }
    }
};

QTEST_GUILESS_MAIN(TestViews)
#include "tst_views.moc"
