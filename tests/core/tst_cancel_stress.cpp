// Cancellation cannot corrupt: requests superseded at random points, thousands of times,
// across selection, relevance statistics, every policy, timing, bounds and sweeps, on one
// shared Pipeline. Every result that completes must equal a clean run's, bit for bit, and
// so must everything served from the caches afterwards. Runs under ASan and TSan in CI
// (scripts/sanitize.sh); KVTIER_STRESS_ITERATIONS scales it.
// oneTBB before anything from Qt: Qt's `emit` macro breaks its headers.
#include "core/support/parallel.hpp"

#include "test_support.hpp"

#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/pipeline.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

using namespace kvtier;
using nlohmann::json;

namespace {

// Everything a user can see of a result, exactly. Two runs of the same scenario must
// produce the same fingerprint whatever was cancelled or cached in between.
struct Fingerprint {
    std::vector<double> numbers;
    bool operator==(const Fingerprint&) const = default;
};

Fingerprint fingerprint(const AnalysisResult& r)
{
    Fingerprint f;
    auto add = [&](double x) { f.numbers.push_back(x); };
    add(static_cast<double>(r.selection->tokens.items.size()));
    add(static_cast<double>(r.selection->step_units.items.size()));
    for (int64_t n : r.selection->read_tokens) add(static_cast<double>(n));
    add(r.relevance ? r.relevance->mean_turnover : -1);
    add(r.relevance ? r.relevance->mean_reuse_distance : -1);
    add(r.relevance ? r.relevance->mean_stay_length : -1);
    for (const auto* b : {r.balanced.get(), r.paper.get()}) {
        add(b->total_time);
        for (double x : b->step_time) add(x);
    }
    for (const PolicyOutcome& o : r.policies) {
        add(static_cast<double>(o.placement->moves.items.size()));
        for (int64_t u : o.placement->fast_units) add(static_cast<double>(u));
        add(o.timing->total_time);
        add(o.timing->kv_read_bytes);
        add(o.timing->kv_read_fast_bytes);
        add(o.timing->migrated_bytes);
        for (double x : o.timing->step_time) add(x);
    }
    return f;
}

Fingerprint fingerprint(const SweepPoint& p)
{
    Fingerprint f;
    f.numbers = {p.balanced_s, p.paper_s, static_cast<double>(p.error.size())};
    for (const auto& q : p.policies)
        f.numbers.insert(f.numbers.end(), {q.total_time_s, q.throughput_tok_s, q.hbm_hit_ratio, q.migrated_bytes});
    return f;
}

int iterations()
{
    bool ok = false;
    const int n = qEnvironmentVariableIntValue("KVTIER_STRESS_ITERATIONS", &ok);
    return ok && n > 0 ? n : 1500;
}

} // namespace

class TestCancelStress : public QObject {
    Q_OBJECT

    std::string db_;
    PresetLibrary presets_ = PresetLibrary::loadBuiltin();

    // A small per-layer trace: many slots, so every stage has parallel work to cancel.
    json doc(double ratio, double hbmBytes, double dramBandwidth) const
    {
        json d = json::parse(R"({
          "trace": {"db": "", "name": "stress"},
          "model": {"layers": 4, "kv_bytes_per_token_layer": 1000, "weight_bytes": 4e5},
          "hardware": {"tiers": [
             {"name": "HBM", "capacity_bytes": 1.0e6, "bandwidth": 4.0e12, "reserve_bytes": 0},
             {"name": "LPDDR5X", "capacity_bytes": 1e9, "bandwidth": 5.0e11,
              "link_read": 4.5e11, "link_write": 4.5e11, "reserve_bytes": 0}]},
          "selection": {"mode": "ratio", "value": 0.3, "sinks": 0, "window": 0, "page_tokens": 4},
          "placement": {"inclusive": false, "route": "home", "weights_in_fast_tier": 1.0},
          "batch": 1,
          "policies": "all"})");
        d["trace"]["db"] = db_;
        d["selection"]["value"] = ratio;
        d["hardware"]["tiers"][0]["capacity_bytes"] = hbmBytes;
        d["hardware"]["tiers"][1]["bandwidth"] = dramBandwidth;
        return d;
    }
    Scenario scenario(double ratio, double hbmBytes, double dramBandwidth) const
    {
        return scenarioFromJson(doc(ratio, hbmBytes, dramBandwidth), "stress", presets_);
    }

    static constexpr double kRatios[] = {0.1, 0.2, 0.35, 0.5};
    static constexpr double kHbm[] = {1.0e6, 1.4e6, 2.0e6};
    static constexpr double kBandwidths[] = {2.5e11, 5.0e11};

    // Every scenario of the grid, each with its clean result from a pipeline of its own.
    struct Case {
        Scenario scenario;
        Fingerprint clean;
        double cleanMs = 0;   // the whole uncached run
    };
    std::vector<Case> cases_;
    double cleanMs_ = 1;   // a whole uncached run, for the spread of the cancel points

private slots:
    void initTestCase()
    {
        db_ = test::scratchPath("stress.sqlite");
        GeneratorParams g = generatorPreset("drift");
        g.prefill = 200;
        g.steps = 48;
        g.layers = 4;
        g.per_layer = true;
        auto store = TraceStore::open(db_, TraceStore::Mode::ReadWrite);
        TraceMeta meta = generatorMeta(g);
        meta.name = "stress";
        auto w = store->beginTrace(meta, Encoding::SparseF32);
        generate(g, [&](const Record& r) { w->add(r); });
        w->commit();

        for (double ratio : kRatios)
            for (double hbm : kHbm)
                for (double bw : kBandwidths) {
                    Pipeline clean;
                    const Scenario s = scenario(ratio, hbm, bw);
                    const auto t0 = std::chrono::steady_clock::now();
                    const AnalysisResult r = clean.run(s);
                    const double ms =
                        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                    cleanMs_ = std::max(cleanMs_, ms);
                    QVERIFY(r.policies.size() >= 14);
                    for (const PolicyOutcome& o : r.policies) QVERIFY(o.timing->total_time > 0);
                    cases_.push_back({s, fingerprint(r), ms});
                }
    }

    // The mechanism behind the "0 ns policy": a sibling task throws, oneTBB cancels the
    // group, and a stage nested in it must throw too instead of returning a half-filled
    // result. The stage's result must not reach the caches either.
    void siblingFailureNeverLeavesAPartialResult()
    {
        Pipeline shared;
        int failures = 0;
        for (int round = 0; round < 40; ++round) {
            const Case& c = cases_[static_cast<size_t>(round) % cases_.size()];
            if (round % 8 == 0) shared.clear();
            std::atomic<bool> started{false}, completedWrong{false};
            try {
                tbb::parallel_for(0, 2, [&](int i) {
                    if (i == 0) {
                        started = true;
                        const AnalysisResult r = shared.run(c.scenario);
                        // Completed before the sibling failed: it must be the clean result.
                        if (!(fingerprint(r) == c.clean)) completedWrong = true;
                        return;
                    }
                    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
                    while (!started && std::chrono::steady_clock::now() < until) std::this_thread::yield();
                    std::this_thread::sleep_for(std::chrono::microseconds(50 * (round % 10)));
                    throw std::runtime_error("sibling failed");
                });
            } catch (const std::runtime_error& e) {
                QCOMPARE(QString(e.what()), QString("sibling failed"));
                ++failures;
            }
            QVERIFY(!completedWrong);
            // Whatever the interrupted run left in the caches, a clean request sees the truth.
            QCOMPARE(fingerprint(shared.run(c.scenario)), c.clean);
        }
        QCOMPARE(failures, 40);
    }

    // parallelFor inside a cancelled group throws Cancelled rather than returning early.
    void parallelForThrowsWhenItsGroupIsCancelled()
    {
        std::atomic<int> ran{0};
        std::atomic<bool> nestedThrew{false}, nestedReturned{false};
        try {
            tbb::parallel_for(0, 2, [&](int i) {
                if (i == 1) throw std::logic_error("outer failure");
                const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
                try {
                    parallelFor(0, 1 << 20, [&](int) {
                        ++ran;
                        if (std::chrono::steady_clock::now() > until) return;
                        std::this_thread::sleep_for(std::chrono::microseconds(1));
                    }, JobControl{});
                    nestedReturned = true;
                } catch (const Cancelled&) {
                    nestedThrew = true;
                }
            });
            QFAIL("the outer failure was swallowed");
        } catch (const std::logic_error&) {
        }
        // Either the nested loop never started (the group was already cancelled) or it was
        // stopped part-way; it must never have returned as if it had finished.
        QVERIFY(!nestedReturned);
        QVERIFY(nestedThrew || ran == 0);
        QVERIFY(ran < (1 << 20));
    }

    // Thousands of requests, each superseded at a random point of its run.
    void randomlySupersededRequestsMatchACleanRun()
    {
        Pipeline shared;
        std::mt19937_64 rng(20261202);
        const int n = iterations();
        int cancelled = 0, completed = 0;
        for (int i = 0; i < n; ++i) {
            const Case& c = cases_[rng() % cases_.size()];
            // Mostly from scratch, sometimes on top of what earlier (maybe cancelled) requests
            // cached: both paths must give the clean answer.
            if (rng() % 3 != 0) shared.clear();
            std::atomic<bool> flag{false};
            JobControl job;
            job.cancel = &flag;
            std::optional<AnalysisResult> result;
            std::string failure;
            std::thread worker([&] {
                try {
                    result = shared.run(c.scenario, job);
                } catch (const Cancelled&) {
                } catch (const std::exception& e) {
                    failure = e.what();
                }
            });
            const double delayUs = std::uniform_real_distribution<double>(0, c.cleanMs * 1000 * 2.0)(rng);
            std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(delayUs)));
            flag = true;
            worker.join();
            QVERIFY2(failure.empty(), failure.c_str());
            if (!result) {
                ++cancelled;
                continue;
            }
            ++completed;
            QCOMPARE(fingerprint(*result), c.clean);
        }
        // Both outcomes must really have happened, or the test proves nothing.
        qInfo("%d requests: %d cancelled part-way, %d completed", n, cancelled, completed);
        QVERIFY(cancelled > n / 20);
        QVERIFY(completed > n / 20);
        // The caches hold only complete results: every case, served from them now, is clean.
        for (const Case& c : cases_) QCOMPARE(fingerprint(shared.run(c.scenario)), c.clean);
    }

    // Sweeps cancelled at random points: every point delivered is complete and equals the
    // clean point; the sweep itself throws Cancelled rather than returning.
    void cancelledSweepsDeliverOnlyCompletePoints()
    {
        Pipeline shared;
        SweepAxis axis{"selection.value", {0.1, 0.2, 0.35, 0.5}};
        SweepAxis hbm{"hardware.tiers.0.capacity_bytes", {1.0e6, 1.4e6, 2.0e6}};
        const json base = doc(0.3, 1.0e6, 5.0e11);
        std::map<std::pair<double, double>, Fingerprint> clean;
        {
            Pipeline p;
            const SweepResult r = runSweep(p, base, "stress", presets_, {axis, hbm});
            QCOMPARE(r.points.size(), size_t(12));
            for (const SweepPoint& pt : r.points) {
                QVERIFY(pt.error.empty());
                clean[{pt.x[0], pt.x[1]}] = fingerprint(pt);
            }
        }
        std::mt19937_64 rng(7);
        const int rounds = std::max(20, iterations() / 30);
        int cancelled = 0, delivered = 0;
        for (int i = 0; i < rounds; ++i) {
            shared.clear();
            std::atomic<bool> flag{false};
            JobControl job;
            job.cancel = &flag;
            std::mutex m;
            std::vector<SweepPoint> got;
            bool finished = false;
            std::thread worker([&] {
                try {
                    const SweepResult r = runSweep(shared, base, "stress", presets_, {axis, hbm}, job,
                                                   [&](size_t, const SweepPoint& p) {
                                                       std::lock_guard lock(m);
                                                       got.push_back(p);
                                                   });
                    finished = r.points.size() == 12;
                } catch (const Cancelled&) {
                }
            });
            const double delayUs = std::uniform_real_distribution<double>(0, cleanMs_ * 1000 * 8)(rng);
            std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(delayUs)));
            flag = true;
            worker.join();
            if (!finished) ++cancelled;
            for (const SweepPoint& p : got) {
                QCOMPARE(fingerprint(p), (clean[{p.x[0], p.x[1]}]));
                ++delivered;
            }
            if (finished) QCOMPARE(got.size(), size_t(12));
        }
        qInfo("%d sweeps: %d cancelled, %d points delivered", rounds, cancelled, delivered);
        QVERIFY(cancelled > 0);
    }
};

QTEST_GUILESS_MAIN(TestCancelStress)
#include "tst_cancel_stress.moc"
