// Expert residency (docs/MODEL.md "Experts", docs/POLICIES.md "Expert residency"): the split
// of tier 0, the moves of lru, lfu, frequency-oracle and belady worked by hand, properties on
// generated expert sets, and the pipeline with a dynamic expert policy.
//
// The hand-worked case (also through kvtier-cli in tst_cli_experts): L = 1, E = 4 experts of
// 100 B, W_dense = 100 B. HBM 500 B: room 400 B after the dense weights, hbm_share 0.5 gives
// 200 B = 2 experts; experts 0, 1 start in HBM (first in (layer, expert) order), 2, 3 in DRAM.
// X = t0 {0,1}, t1 {2,3}, t2 {0,2}, t3 {0,2}.
//
// lru (tier 0 = the 2 highest (last read, resident, lower id) of residents and t-1's misses):
//   t0: reads 0, 1 from HBM.  t1: reads 2, 3 from DRAM (2 misses).
//   t2: misses of t1 = {2, 3}; residents 0, 1 last read at t0 < t1: 2 in / 1 out (at equal
//       last read the higher id goes first), 3 in / 0 out. Reads 0 from DRAM (miss), 2 HBM.
//   t3: miss of t2 = {0}; residents 2 (t2), 3 (t1): 0 in / 3 out. Reads 0, 2 from HBM.
//   3 misses of 8 reads, 3 swaps = 6 moves = 600 B.
// lfu (frequency = steps read before t; promoted only if strictly above the least frequent
// resident, ties: lower id evicted):
//   t0: hits (f0 = f1 = 1).  t1: 2, 3 miss (f2 = f3 = 1).
//   t2: misses 2, 3 have f 1, least resident 0 has f 1: no move. Reads 0 HBM, 2 DRAM (f0 = f2 = 2).
//   t3: miss 2 (f 2) > resident 1 (f 1): 2 in / 1 out. Reads 0, 2 from HBM.
//   3 misses, 1 swap = 200 B.
// frequency-oracle: reads over the run 0: 3, 1: 1, 2: 3, 3: 1, so {0, 2} in HBM from the
//   start, 1 and 3 in DRAM; misses: 1 at t0, 3 at t1 = 2; no move.
// belady (max-hits): start with the soonest first use (0, 1 at t0; ties lower id).
//   t0: hits.  t1: misses 2 (next after t1: t2), 3 (never): 2 in / 1 out (1 never read again),
//   3 in / 0 out (0 next at t2, the furthest left). t2: miss 0: 0 in / 3 out. t3: hits.
//   0 misses (the minimum: no step reads more than 2), 3 swaps = 600 B.
#include "test_support.hpp"

#include "core/engine/expert_residency.hpp"
#include "core/engine/pipeline.hpp"
#include "core/model/error.hpp"
#include "core/policies/policy.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace kvtier;

namespace {

TimingConfig handConfig(ExpertPolicy policy)
{
    TimingConfig c;
    c.model.layers = 1;
    c.model.experts = 4;
    c.model.expert_bytes = 100;
    c.model.weight_bytes = 500;
    c.model.kv_bytes_per_token_layer = 10;
    c.hardware.tiers = {Tier{"HBM", 500, 1000, kNoLink, kNoLink, 0}, Tier{"DRAM", 1e6, 100, 50, 50, 0}};
    c.experts.policy = policy;
    c.experts.hbm_share = 0.5;
    return c;
}

ExpertSets handSets()
{
    ExpertSets x(4, 4, 1);
    const int ids[4][2] = {{0, 1}, {2, 3}, {0, 2}, {0, 2}};
    for (int64_t t = 0; t < 4; ++t)
        for (int e : ids[t]) x.set(t, 0, e);
    return x;
}

ExpertMove in(int64_t t, int32_t e, int32_t from) { return {t, 0, e, from, 0}; }
ExpertMove out(int64_t t, int32_t e, int32_t to) { return {t, 0, e, 0, to}; }

ExpertResidency run(ExpertPolicy policy, const ExpertSets& sets)
{
    const TimingConfig c = handConfig(policy);
    const ExpertPlacement p = placeExperts(c);
    requireExpertsPlaced(p, c);
    return simulateExpertResidency(p, &sets, c, sets.steps());
}

// Replays the moves from the initial tiers: every tier holds as many experts at every step
// as at the start, and every move starts where its expert is.
bool movesConsistent(const ExpertResidency& r, int32_t E)
{
    std::vector<int32_t> tier = r.initial;
    std::vector<int64_t> start(static_cast<size_t>(r.tiers), 0);
    for (int32_t m : tier) ++start[static_cast<size_t>(m)];
    int64_t step = -1;
    for (const ExpertMove& mv : r.moves) {
        if (mv.step != step) {
            std::vector<int64_t> now(static_cast<size_t>(r.tiers), 0);
            for (int32_t m : tier) ++now[static_cast<size_t>(m)];
            if (now != start) return false;
            step = mv.step;
        }
        int32_t& at = tier[static_cast<size_t>(mv.layer * E + mv.expert)];
        if (at != mv.from || mv.from == mv.to) return false;
        at = mv.to;
    }
    std::vector<int64_t> now(static_cast<size_t>(r.tiers), 0);
    for (int32_t m : tier) ++now[static_cast<size_t>(m)];
    return now == start;
}

// Deterministic skewed expert sets: L layers, E experts, k distinct per layer and step.
ExpertSets skewedSets(int32_t E, int64_t T, int32_t L, int k, uint64_t seed)
{
    ExpertSets x(E, T, L);
    uint64_t s = seed;
    auto next = [&] {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<uint32_t>(s >> 33);
    };
    for (int64_t t = 0; t < T; ++t)
        for (int32_t l = 0; l < L; ++l)
            for (int n = 0; n < k;) {
                // Squared uniform: low ids far more often.
                const double u = (next() % 10000) / 10000.0;
                const auto e = static_cast<int32_t>(u * u * E);
                if (!x.active(t, l, e)) {
                    x.set(t, l, e);
                    ++n;
                }
            }
    return x;
}

} // namespace

class TestExpertResidency : public QObject {
    Q_OBJECT

private slots:
    // The split: hbm_share of tier 0's room, whole experts; the rest first-fit from tier 1.
    void splitOfTierZero()
    {
        TimingConfig c = handConfig(ExpertPolicy::Lru);
        ExpertPlacement p = placeExperts(c);
        QVERIFY(p.dynamic);
        QCOMPARE(p.budget, int64_t{2});
        QCOMPARE(p.tier, (std::vector<int32_t>{0, 0, 1, 1}));
        QCOMPARE(p.bytes[0], 200.0);
        QCOMPARE(p.bytes[1], 200.0);
        QCOMPARE(residentWeightBytes(c, p)[0], 300.0);   // KV keeps 500 - 300 = 200 B
        c.experts.hbm_share = 0.6;   // 240 B: still 2 whole experts
        QCOMPARE(placeExperts(c).budget, int64_t{2});
        c.experts.hbm_share = 0;
        QCOMPARE(placeExperts(c).tier, (std::vector<int32_t>{1, 1, 1, 1}));
        c.experts.hbm_share = 1;   // 400 B: every expert, nothing left for KV
        QCOMPARE(placeExperts(c).budget, int64_t{4});
        // Static ignores the share: first-fit over all tiers, as before.
        c.experts.policy = ExpertPolicy::Static;
        c.experts.hbm_share = 0.25;
        p = placeExperts(c);
        QVERIFY(!p.dynamic);
        QCOMPARE(p.budget, int64_t{4});
        // One tier: the experts outside the budget fit nowhere, and the message says why.
        c.experts.policy = ExpertPolicy::Belady;
        c.hardware.tiers.resize(1);
        p = placeExperts(c);
        QCOMPARE(p.unplaced, int64_t{3});
        QString e;
        try {
            requireExpertsPlaced(p, c);
        } catch (const InfeasibleError& x) {
            e = x.what();
        }
        QVERIFY2(e.contains("3 of the 4 experts") && e.contains("experts.belady keeps 1 of them in tier 0, hbm_share = 0.25"),
                 qPrintable(e));
    }

    void lruByHand()
    {
        const ExpertResidency r = run(ExpertPolicy::Lru, handSets());
        QCOMPARE(r.moves, (std::vector<ExpertMove>{in(2, 2, 1), out(2, 1, 1), in(2, 3, 1), out(2, 0, 1),
                                                    in(3, 0, 1), out(3, 3, 1)}));
        QCOMPARE(r.reads, int64_t{8});
        QCOMPARE(r.misses, int64_t{3});
        QCOMPARE(r.migrated_bytes, 600.0);
        QCOMPARE(r.hitRatio(), 5.0 / 8);
        // Step 2: two swaps; expert 0 read from DRAM, expert 2 from HBM.
        QCOMPARE(r.read[r.index(2, 0, 0)], 100.0);
        QCOMPARE(r.read[r.index(2, 0, 1)], 100.0);
        QCOMPARE(r.mig_read[r.index(2, 0, 0)], 200.0);
        QCOMPARE(r.mig_write[r.index(2, 0, 0)], 200.0);
        QCOMPARE(r.mig_read[r.index(2, 0, 1)], 200.0);
        QCOMPARE(r.mig_write[r.index(2, 0, 1)], 200.0);
        QCOMPARE(r.read[r.index(1, 0, 1)], 200.0);
        QVERIFY(movesConsistent(r, 4));
    }

    void lfuByHand()
    {
        const ExpertResidency r = run(ExpertPolicy::Lfu, handSets());
        QCOMPARE(r.moves, (std::vector<ExpertMove>{in(3, 2, 1), out(3, 1, 1)}));
        QCOMPARE(r.misses, int64_t{3});
        QCOMPARE(r.migrated_bytes, 200.0);
        QCOMPARE(r.read[r.index(2, 0, 1)], 100.0);   // expert 2 at t2, from DRAM
        QVERIFY(movesConsistent(r, 4));
    }

    void frequencyOracleByHand()
    {
        const ExpertResidency r = run(ExpertPolicy::FrequencyOracle, handSets());
        QVERIFY(r.moves.empty());
        QCOMPARE(r.initial, (std::vector<int32_t>{0, 1, 0, 1}));
        QCOMPARE(r.misses, int64_t{2});
        QCOMPARE(r.hitRatio(), 6.0 / 8);
        QCOMPARE(r.migrated_bytes, 0.0);
    }

    void beladyByHand()
    {
        const ExpertResidency r = run(ExpertPolicy::Belady, handSets());
        QCOMPARE(r.initial, (std::vector<int32_t>{0, 0, 1, 1}));
        QCOMPARE(r.moves, (std::vector<ExpertMove>{in(1, 2, 1), out(1, 1, 1), in(1, 3, 1), out(1, 0, 1),
                                                    in(2, 0, 1), out(2, 3, 1)}));
        QCOMPARE(r.misses, int64_t{0});
        QCOMPARE(r.hitRatio(), 1.0);
        QCOMPARE(r.migrated_bytes, 600.0);
        QVERIFY(movesConsistent(r, 4));
    }

    // Static, a budget of 0 or of every expert, and no expert sets: nothing moves.
    void nothingMoves()
    {
        const ExpertSets x = handSets();
        QVERIFY(run(ExpertPolicy::Static, x).moves.empty());
        QCOMPARE(run(ExpertPolicy::Static, x).misses, int64_t{0});   // static: all 4 fit in HBM's 400 B
        for (ExpertPolicy pol : {ExpertPolicy::Lru, ExpertPolicy::Lfu, ExpertPolicy::FrequencyOracle, ExpertPolicy::Belady})
            for (double share : {0.0, 1.0}) {
                TimingConfig c = handConfig(pol);
                c.experts.hbm_share = share;
                const ExpertResidency r = simulateExpertResidency(placeExperts(c), &x, c, 4);
                QVERIFY(r.moves.empty());
                QCOMPARE(r.misses, share == 0 ? int64_t{8} : int64_t{0});
                // Without expert sets every expert is read every step, from the initial placement.
                c.experts.hbm_share = 0.5;
                const ExpertResidency all = simulateExpertResidency(placeExperts(c), nullptr, c, 4);
                QVERIFY(all.moves.empty());
                QCOMPARE(all.reads, int64_t{16});
                QCOMPARE(all.misses, int64_t{8});
            }
    }

    // On generated skewed sets: belady's misses are the minimum, sum over t of
    // max(0, |X_t| - budget), at most every other policy's; the frequency oracle never moves;
    // every policy's moves keep each tier's expert count.
    void properties()
    {
        TimingConfig c;
        c.model.layers = 3;
        c.model.experts = 8;
        c.model.expert_bytes = 64;
        c.model.weight_bytes = 1000 + 3 * 8 * 64;
        c.hardware.tiers = {Tier{"HBM", 1000 + 2000, 1000, kNoLink, kNoLink, 0}, Tier{"DRAM", 1e6, 100, 50, 50, 0},
                            Tier{"CXL", 1e6, 50, 25, 25, 0}};
        for (uint64_t seed : {1u, 2u, 3u})
            for (double share : {0.1, 0.3, 0.6}) {
                const ExpertSets x = skewedSets(8, 300, 3, 2, seed);
                auto runWith = [&](ExpertPolicy pol) {
                    TimingConfig k = c;
                    k.experts.policy = pol;
                    k.experts.hbm_share = share;
                    return simulateExpertResidency(placeExperts(k), &x, k, x.steps());
                };
                TimingConfig k = c;
                k.experts.policy = ExpertPolicy::Belady;
                k.experts.hbm_share = share;
                const int64_t budget = placeExperts(k).budget;
                QCOMPARE(budget, static_cast<int64_t>(std::floor(share * 2000 / 64)));
                int64_t minimum = 0;
                for (int64_t t = 0; t < x.steps(); ++t) minimum += std::max<int64_t>(0, 6 - budget);
                const ExpertResidency b = runWith(ExpertPolicy::Belady);
                QCOMPARE(b.misses, minimum);
                for (ExpertPolicy pol : {ExpertPolicy::Lru, ExpertPolicy::Lfu, ExpertPolicy::FrequencyOracle}) {
                    const ExpertResidency r = runWith(pol);
                    QVERIFY(b.misses <= r.misses);
                    QCOMPARE(r.reads, int64_t{300 * 3 * 2});
                    QVERIFY(movesConsistent(r, 8));
                    if (pol == ExpertPolicy::FrequencyOracle) QVERIFY(r.moves.empty());
                    else QVERIFY(!r.moves.empty());
                }
                QVERIFY(movesConsistent(b, 8));
            }
    }

    // Through the pipeline: a dynamic expert policy leaves the balanced bound as it was (it
    // uses the undivided capacity), every KV policy stays at or above it for every share,
    // the KV capacity shrinks by the expert budget, and the expert moves are charged.
    void pipelineWithExpertPolicy()
    {
        const std::string db = test::scratchPath("expert-residency.sqlite");
        GeneratorParams g;
        g.seed = 5;
        g.prefill = 48;
        g.steps = 24;
        g.layers = 2;
        g.per_layer = true;
        g.experts = 8;
        g.expert_top_k = 2;
        g.expert_zipf = 1.2;
        const Trace tr = generateTrace(g, "moe");
        QVERIFY(!tr.experts().empty());
        test::storeTrace(db, tr);
        Scenario s;
        s.trace_db = db;
        s.trace_name = "moe";
        s.model.layers = 2;
        s.model.kv_bytes_per_token_layer = 64;
        s.model.experts = 8;
        s.model.expert_bytes = 256;
        s.model.weight_bytes = 512 + 2 * 8 * 256;
        s.hardware.tiers = {Tier{"HBM", 512 + 4096 + 64.0 * 2 * 40, 1e6, kNoLink, kNoLink, 0},
                            Tier{"DRAM", 1e9, 1e5, 5e4, 5e4, 0}};
        s.selection.mode = SelectionMode::Ratio;
        s.selection.value = 0.25;
        for (const PolicyEntry& e : policyRegistry()) s.policies.push_back({e.info.name, {}});
        Pipeline pipe;
        const AnalysisResult base = pipe.run(s);
        const double room = 4096 + 64.0 * 2 * 40;
        for (ExpertPolicy pol : {ExpertPolicy::Lru, ExpertPolicy::Lfu, ExpertPolicy::FrequencyOracle, ExpertPolicy::Belady})
            for (double share : {0.0, 0.25, 0.5, 1.0}) {
                Scenario d = s;
                d.experts.policy = pol;
                d.experts.hbm_share = share;
                QCOMPARE(firstStageToRerun(s, d), Stage::Placement);
                const AnalysisResult r = pipe.run(d);
                QCOMPARE(r.balanced->total_time, base.balanced->total_time);
                QCOMPARE(r.paper->total_time, base.paper->total_time);
                const double budget = std::min(16.0, std::floor(share * room / 256));
                QCOMPARE(r.capacity.kv_bytes[0], room - budget * 256);
                for (const PolicyOutcome& o : r.policies) {
                    QVERIFY2(o.timing->total_time >= r.balanced->total_time * (1 - 1e-12), o.info.name.c_str());
                    QCOMPARE(o.timing->expert_budget, static_cast<int64_t>(budget));
                    QCOMPARE(o.timing->expert_read_bytes, base.policies[0].timing->expert_read_bytes);
                    double migW = 0;
                    for (const TierStep& x : o.timing->tier_step) migW += x.expert_mig_write;
                    QCOMPARE(migW, o.timing->expert_migrated_bytes);
                    if (pol == ExpertPolicy::FrequencyOracle || share == 0.0 || budget == 16)
                        QCOMPARE(o.timing->expert_migrated_bytes, 0.0);
                    if (budget == 16) QCOMPARE(o.timing->expertHitRatio(), 1.0);
                    if (share == 0.0) QCOMPARE(o.timing->expertHitRatio(), 0.0);
                }
            }
    }
};

QTEST_GUILESS_MAIN(TestExpertResidency)
#include "tst_expert_residency.moc"
