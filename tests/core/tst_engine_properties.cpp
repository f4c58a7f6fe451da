// Invariants of MODEL.md on many seeded random traces and hardware:
// every policy's time >= the balanced bound >= the paper bound; first-fit with room for
// everything equals the all-HBM time; results are bit-identical on 1 and 2 threads.
#include <tbb/global_control.h>   // before Qt: Qt's `emit` macro breaks oneTBB headers

#include "test_support.hpp"

#include "core/engine/bounds.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/split.hpp"
#include "core/policies/policy.hpp"

#include <QtTest>

#include <random>

using namespace kvtier;

namespace {

struct Case {
    Trace trace;
    TimingConfig timing;
    SelectionConfig selection;
    bool inclusive = false;
};

Trace randomTrace(std::mt19937_64& rng, bool perLayer)
{
    std::uniform_int_distribution<int> pDist(4, 40), tDist(3, 24);
    TraceMeta m;
    m.name = "random";
    m.prefill = pDist(rng);
    m.steps = tDist(rng);
    m.layers = perLayer ? 3 : 1;
    m.layer_mode = perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    Trace tr(m);
    std::uniform_real_distribution<float> u(0, 1);
    std::vector<float> heavy(static_cast<size_t>(m.prefill + m.steps));
    for (auto& h : heavy) h = u(rng) < 0.15f ? 5.0f : 0.2f;
    for (int64_t t = 0; t < m.steps; ++t)
        for (int32_t l = 0; l < m.layerSlots(); ++l) {
            Record r;
            r.step = t;
            r.layer = perLayer ? l : -1;
            const int64_t n = m.prefill + t;
            for (int64_t i = 0; i < n; ++i) {
                if (u(rng) < 0.1f) continue;   // some exact zeros
                r.index.push_back(static_cast<uint32_t>(i));
                r.value.push_back(heavy[static_cast<size_t>(i)] * u(rng) + (i > n - 4 ? 2.0f : 0.0f));
            }
            tr.append(r);
        }
    return tr;
}

Case randomCase(uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    Case c;
    c.trace = randomTrace(rng, u(rng) < 0.3);
    const auto& m = c.trace.meta();
    c.timing.model = {"m", m.layer_mode == LayerMode::PerLayer ? m.layers : 1 + static_cast<int32_t>(u(rng) * 4),
                      64 + std::floor(u(rng) * 200), std::floor(u(rng) * 5000)};
    c.timing.batch = 1 + static_cast<int64_t>(u(rng) * 3);
    c.timing.weights_in_fast_tier = u(rng) < 0.5 ? 1.0 : std::round(u(rng) * 10) / 10;
    const int64_t page = u(rng) < 0.5 ? 1 : 1 + static_cast<int64_t>(u(rng) * 5);
    const double unitBytes = static_cast<double>(page) * c.timing.model.kv_bytes_per_token_layer *
                             (m.layer_mode == LayerMode::Aggregated ? c.timing.model.layers : 1);
    const double nSlots = m.layer_mode == LayerMode::Aggregated ? 1 : m.layers;
    const double units = std::ceil(static_cast<double>(m.prefill + m.steps) / static_cast<double>(page)) * nSlots;
    const double kvAll = units * unitBytes * static_cast<double>(c.timing.batch);
    const int tiers = u(rng) < 0.25 ? 3 : 2;
    auto link = [&]() { return u(rng) < 0.3 ? kNoLink : 50 + u(rng) * 400; };
    Tier hbm{"HBM", 0, 500 + u(rng) * 4000, kNoLink, kNoLink, std::floor(u(rng) * 100)};
    hbm.capacity_bytes = c.timing.weights_in_fast_tier * c.timing.model.weight_bytes + hbm.reserve_bytes +
                         std::floor(u(rng) * 0.6 * kvAll);
    c.timing.hardware.tiers.push_back(hbm);
    if (tiers == 3)
        c.timing.hardware.tiers.push_back({"DRAM", std::floor(u(rng) * 0.5 * kvAll) + 1, 100 + u(rng) * 600, link(), link(), 0});
    c.timing.hardware.tiers.push_back(
        {"CXL", 2 * kvAll + c.timing.model.weight_bytes + 10, 50 + u(rng) * 300, link(), link(), 0});
    const int mode = static_cast<int>(u(rng) * 4);
    c.selection.mode = static_cast<SelectionMode>(mode);
    c.selection.value = mode == 1 ? std::floor(1 + u(rng) * 12) : 0.05 + 0.9 * u(rng);
    c.selection.sinks = u(rng) < 0.3 ? 2 : 0;
    c.selection.window = u(rng) < 0.3 ? 3 : 0;
    c.selection.page_tokens = page;
    c.inclusive = u(rng) < 0.4;
    c.timing.route = c.inclusive && u(rng) < 0.5 ? Route::Balanced : Route::Home;
    return c;
}

Scenario scenarioFor(const Case& c)
{
    Scenario s;
    s.model = c.timing.model;
    s.hardware = c.timing.hardware;
    s.batch = c.timing.batch;
    s.weights_in_fast_tier = c.timing.weights_in_fast_tier;
    s.route = c.timing.route;
    s.inclusive = c.inclusive;
    s.selection = c.selection;
    return s;
}

} // namespace

class TestEngineProperties : public QObject {
    Q_OBJECT

private slots:
    void everyPolicyIsAtLeastTheBalancedBound()
    {
        int checked = 0;
        for (uint64_t seed = 1; seed <= 60; ++seed) {
            const Case c = randomCase(seed);
            const Selection sel = computeSelection(c.trace, c.selection);
            const CapacityPlan cap = planCapacity(scenarioFor(c), sel.layout);
            const BoundResult bal = balancedBound(sel, c.timing);
            const BoundResult paper = paperBound(sel, c.timing);
            for (size_t t = 0; t < bal.step_time.size(); ++t)
                QVERIFY2(bal.step_time[t] >= paper.step_time[t] * (1 - 1e-12),
                         qPrintable(QString("seed %1 step %2").arg(seed).arg(t)));
            for (const PolicyEntry& e : policyRegistry()) {
                const PlacementResult p =
                    runPlacement(sel, e, resolveParams(e.info, {}, ""), PlacementConfig{c.inclusive, cap.units});
                const TimingResult r = computeTiming(sel, p, c.timing);
                for (size_t t = 0; t < r.step_time.size(); ++t)
                    QVERIFY2(r.step_time[t] >= bal.step_time[t] * (1 - 1e-9),
                             qPrintable(QString("seed %1 policy %2 step %3: %4 < bound %5")
                                            .arg(seed).arg(QString::fromStdString(e.info.name)).arg(t)
                                            .arg(r.step_time[t]).arg(bal.step_time[t])));
                // Capacity holds at every step.
                for (int64_t f : p.fast_units) QVERIFY(f <= cap.units[0]);
                QVERIFY(r.hbmHitRatio() >= 0 && r.hbmHitRatio() <= 1 + 1e-12);
                ++checked;
            }
        }
        QVERIFY(checked >= 60);
    }

    void firstFitWithRoomForEverythingIsAllHbm()
    {
        for (uint64_t seed = 100; seed < 130; ++seed) {
            Case c = randomCase(seed);
            c.timing.weights_in_fast_tier = 1;
            c.timing.hardware.tiers[0].capacity_bytes = 1e15;   // everything fits in HBM
            c.inclusive = false;
            const Selection sel = computeSelection(c.trace, c.selection);
            const CapacityPlan cap = planCapacity(scenarioFor(c), sel.layout);
            const PlacementResult p = runPlacement(sel, findPolicy("first-fit"), {}, {false, cap.units});
            const TimingResult r = computeTiming(sel, p, c.timing);
            // All-HBM time by hand: weights + reads + the write, all over B_0.
            const Tier& hbm = c.timing.hardware.tiers[0];
            const double bpt = c.timing.model.kv_bytes_per_token_layer * static_cast<double>(c.timing.batch);
            const double wl = c.timing.model.weight_bytes / c.timing.model.layers;
            const double factor = sel.layout.slot_count == 1 ? c.timing.model.layers : 1;
            double expect = 0;
            for (int64_t t = 0; t < sel.layout.steps; ++t)
                for (int32_t l = 0; l < sel.layout.slot_count; ++l)
                    expect += factor * (wl + bpt * static_cast<double>(sel.read_tokens[sel.row(t, l)]) + bpt) / hbm.bandwidth;
            QVERIFY2(std::abs(r.total_time - expect) <= 1e-12 * expect, qPrintable(QString("seed %1").arg(seed)));
            QCOMPARE(r.hbmHitRatio(), 1.0);
        }
    }

    void sameResultsOnOneAndTwoThreads()
    {
        for (uint64_t seed = 200; seed < 210; ++seed) {
            const Case c = randomCase(seed);
            auto runAll = [&]() {
                std::vector<double> out;
                const Selection sel = computeSelection(c.trace, c.selection);
                const CapacityPlan cap = planCapacity(scenarioFor(c), sel.layout);
                const BoundResult bal = balancedBound(sel, c.timing);
                out.insert(out.end(), bal.step_time.begin(), bal.step_time.end());
                for (const PolicyEntry& e : policyRegistry()) {
                    const PlacementResult p = runPlacement(sel, e, resolveParams(e.info, {}, ""), {c.inclusive, cap.units});
                    const TimingResult r = computeTiming(sel, p, c.timing);
                    out.insert(out.end(), r.step_time.begin(), r.step_time.end());
                    out.push_back(r.migrated_bytes);
                    out.push_back(r.kv_read_fast_bytes);
                }
                return out;
            };
            std::vector<double> one, two;
            {
                tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
                one = runAll();
            }
            {
                tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 2);
                two = runAll();
            }
            QCOMPARE(one.size(), two.size());
            QVERIFY(std::memcmp(one.data(), two.data(), one.size() * sizeof(double)) == 0);
        }
    }

    // The bound's split against a brute-force grid over (write tier, share per tier).
    void balancedSplitMatchesBruteForce()
    {
        std::mt19937_64 rng(7);
        std::uniform_real_distribution<double> u(0, 1);
        for (int trial = 0; trial < 40; ++trial) {
            std::vector<Tier> tiers = {{"a", 0, 200 + 800 * u(rng), kNoLink, kNoLink, 0},
                                       {"b", 0, 50 + 300 * u(rng), 20 + 300 * u(rng), 20 + 300 * u(rng), 0}};
            std::vector<TierLoad> fixed = {{100 * u(rng), 0}, {50 * u(rng), 0}};
            std::vector<double> cap = {300 * u(rng), 1e9};
            const double volume = 400 * u(rng), write = 30 * u(rng);
            double best = 1e300;
            std::vector<double> share;
            for (int w = 0; w < 2; ++w) {
                auto load = fixed;
                load[static_cast<size_t>(w)].write = write;
                best = std::min(best, splitReads(tiers, load, cap, volume, share));
            }
            double brute = 1e300;
            for (int w = 0; w < 2; ++w)
                for (int k = 0; k <= 20000; ++k) {
                    const double x = std::min(cap[0], volume * k / 20000.0);   // bytes on tier a
                    if (volume - x > cap[1]) continue;
                    const double ta = tierTime(tiers[0], fixed[0].read + x, w == 0 ? write : 0);
                    const double tb = tierTime(tiers[1], fixed[1].read + volume - x, w == 1 ? write : 0);
                    brute = std::min(brute, std::max(ta, tb));
                }
            QVERIFY2(best <= brute * (1 + 1e-12), qPrintable(QString("trial %1: %2 > %3").arg(trial).arg(best).arg(brute)));
            QVERIFY2(best >= brute * (1 - 1e-3), qPrintable(QString("trial %1: %2 << %3").arg(trial).arg(best).arg(brute)));
        }
    }
};

QTEST_GUILESS_MAIN(TestEngineProperties)
#include "tst_engine_properties.moc"
