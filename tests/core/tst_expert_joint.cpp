// The joint expert policy (docs/POLICIES.md "Expert residency", joint; docs/MODEL.md
// "Experts"): experts and KV units ranked together by the fraction of steps that read them
// fill tier 0's room; the experts admitted are the budget B, held by the frequency oracle's
// B most read experts; KV gets the rest of the room. A hand-worked case (also through
// kvtier-cli in tests/cli/tst_cli_expert_joint.cpp), invariants on generated traces, and
// joint = frequency-oracle at hbm_share = B x expert_bytes / room_0 through the pipeline.
//
// The hand-worked case: aggregated selection trace, P = 4, T = 4, L = 1, pages of 1 token,
// so unit u = token u; units 0..3 exist from step 0, step t creates unit 4 + t.
//   reads: t0 {0, 1}, t1 {0, 4}, t2 {0, 1, 4}, t3 {0, 4}.
//   read fractions (reads / steps it exists, T - creation step):
//     u0 4/4 = 1, u1 2/4 = 0.5, u2 = u3 = 0, u4 (created t0) 3/4, u5 (t1) 0/3, u6, u7 0.
// Model: kappa = 10 B (a unit is 10 B), E = 4 experts of 20 B, W_dense = 100, W = 180.
//   X = t0 {1, 3}, t1 {1, 3}, t2 {2, 3}, t3 {3}: expert 3 every step (1), expert 1 half of
//   them (0.5), expert 2 once (0.25), expert 0 never (0, left out).
// Ranking (ties: experts first, then lower id): e3 1, u0 1, u4 0.75, e1 0.5, u1 0.5, e2 0.25.
// HBM 160 B: room_0 = 160 - 100 = 60 B. e3 (20) -> 40 left, u0 -> 30, u4 -> 20, e1 -> 0,
//   u1 and e2 do not fit. B = 2; experts 3 and 1 (the two most read) live in HBM, 0 and 2
//   in DRAM; KV gets 60 - 2 x 20 = 20 B = 2 units.
// HBM 150 B: room_0 = 50: e3 -> 30, u0 -> 20, u4 -> 10, e1 (20) does not fit, u1 -> 0.
//   B = 1 (expert 3); KV gets 30 B = 3 units.
// Time with first-fit KV at HBM 160 (HBM 1000 B/s; DRAM 100 B/s, links 50 B/s): KV units
// 0, 1 in HBM, 2..7 in DRAM; every new token written to DRAM (10 B, 0.2 s).
//   t0: HBM R 100 + 40 + 20 = 160 (0.16 s); DRAM W 10 (0.2 s).            tau 0.2
//   t1: HBM R 100 + 40 + 10 (0.15 s); DRAM R 10 (u4), W 10: 0.2 s.        tau 0.2
//   t2: HBM R 100 + 20 + 20 (0.14 s); DRAM R 10 + 20 (e2), W 10:
//       max(40/100, 30/50, 10/50) = 0.6 s.                                  tau 0.6
//   t3: HBM R 100 + 20 + 10 (0.13 s); DRAM R 10, W 10: 0.2 s.              tau 0.2
//   Total 1.2 s; expert hit ratio 6/7 (e2's one read from DRAM); nothing moves.
#include "test_support.hpp"

#include "core/engine/expert_joint.hpp"
#include "core/engine/expert_placement.hpp"
#include "core/engine/expert_residency.hpp"
#include "core/engine/kv_units.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/selection.hpp"
#include "core/engine/timing.hpp"
#include "core/model/error.hpp"
#include "core/policies/policy.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace kvtier;

namespace {

ExpertSets handSets()
{
    ExpertSets x(4, 4, 1);
    const std::vector<std::vector<int>> ids = {{1, 3}, {1, 3}, {2, 3}, {3}};
    for (int64_t t = 0; t < 4; ++t)
        for (int e : ids[static_cast<size_t>(t)]) x.set(t, 0, e);
    return x;
}

Selection handSelection(const ExpertSets& sets)
{
    TraceMeta m;
    m.name = "joint";
    m.prefill = 4;
    m.steps = 4;
    m.layers = 1;
    m.layer_mode = LayerMode::Aggregated;
    m.kind = RecordKind::Selection;
    Trace tr(m);
    const std::vector<std::vector<uint32_t>> reads = {{0, 1}, {0, 4}, {0, 1, 4}, {0, 4}};
    for (int64_t t = 0; t < 4; ++t) {
        const auto& idx = reads[static_cast<size_t>(t)];
        const std::vector<float> ones(idx.size(), 1.0f);
        tr.append(t, -1, idx, ones);
    }
    if (!sets.empty()) tr.setExperts(sets);
    SelectionConfig c;
    c.mode = SelectionMode::Dense;
    c.page_tokens = 1;
    return computeSelection(tr, c);
}

Scenario handScenario(double hbm)
{
    Scenario s;
    s.model.layers = 1;
    s.model.kv_bytes_per_token_layer = 10;
    s.model.weight_bytes = 180;
    s.model.experts = 4;
    s.model.expert_bytes = 20;
    s.hardware.tiers = {Tier{"HBM", hbm, 1000, kNoLink, kNoLink, 0}, Tier{"DRAM", 1e6, 100, 50, 50, 0}};
    s.experts.policy = ExpertPolicy::Joint;
    s.experts.hbm_share = 0.5;   // ignored by joint
    return s;
}

Trace generatedTrace(uint64_t seed)
{
    GeneratorParams g;
    g.seed = seed;
    g.prefill = 48;
    g.steps = 24;
    g.layers = 2;
    g.per_layer = true;
    g.experts = 8;
    g.expert_top_k = 2;
    g.expert_zipf = 1.2;
    return generateTrace(g, "moe");
}

} // namespace

class TestExpertJoint : public QObject {
    Q_OBJECT

private slots:
    void readFractionsByHand()
    {
        const Selection sel = handSelection(handSets());
        QCOMPARE(unitReadFractions(sel), (std::vector<double>{1, 0.5, 0, 0, 0.75, 0, 0, 0}));
        QCOMPARE(kvUnitBytes(handScenario(160).model, sel.layout), 10.0);
    }

    // The header's case: the budget, the experts in tier 0, the KV capacity and the time.
    void handWorkedCase()
    {
        const Selection sel = handSelection(handSets());
        for (const auto& [hbm, budget, kvUnits] : {std::tuple{160.0, 2, 2}, std::tuple{150.0, 1, 3}}) {
            const Scenario s = handScenario(hbm);
            const TimingConfig tc = resolveExpertBudget(sel, s.timingConfig());
            QCOMPARE(fastTierRoom(tc), hbm - 100);
            QCOMPARE(jointExpertBudget(sel, s.timingConfig()), int64_t{budget});
            QCOMPARE(tc.expert_budget, int64_t{budget});
            const CapacityPlan plan = planCapacity(s, sel.layout, tc);
            QCOMPARE(plan.kv_bytes[0], hbm - 100 - 20.0 * budget);
            QCOMPARE(plan.units[0], int64_t{kvUnits});
            const ExpertPlacement p = placeExperts(tc);
            QCOMPARE(p.budget, int64_t{budget});
            // The frequency oracle's choice at budget B: the B most read experts.
            const ExpertResidency r = simulateExpertResidency(p, sel.experts.get(), tc, 4);
            const std::vector<int32_t> resident =
                budget == 2 ? std::vector<int32_t>{1, 0, 1, 0} : std::vector<int32_t>{1, 1, 1, 0};
            QCOMPARE(r.initial, resident);
            QVERIFY(r.moves.empty());
            QCOMPARE(r.reads, int64_t{7});
            QCOMPARE(r.misses, int64_t{budget == 2 ? 1 : 3});   // B = 1: e1 twice, e2 once
        }
        // The time at HBM 160 with first-fit for the KV.
        const Scenario s = handScenario(160);
        const TimingConfig tc = resolveExpertBudget(sel, s.timingConfig());
        const CapacityPlan plan = planCapacity(s, sel.layout, tc);
        const PolicyEntry& ff = findPolicy("first-fit");
        const PlacementResult pl =
            runPlacement(sel, ff, resolveParams(ff.info, {}, ""), PlacementConfig{false, plan.units, ObserveScores::Read});
        const TimingResult t = computeTiming(sel, pl, tc);
        QCOMPARE(t.expert_budget, int64_t{2});
        QCOMPARE(t.expert_policy, ExpertPolicy::Joint);
        QCOMPARE(t.step_time, (std::vector<double>{0.2, 0.2, 0.6, 0.2}));
        QVERIFY(std::abs(t.total_time - 1.2) < 1e-12);
        QCOMPARE(t.expertHitRatio(), 6.0 / 7);
        QCOMPARE(t.expert_migrated_bytes, 0.0);
        // hbm_share does not change joint's budget.
        Scenario other = s;
        other.experts.hbm_share = 0;
        QCOMPARE(resolveExpertBudget(sel, other.timingConfig()).expert_budget, int64_t{2});
        // The budget must be chosen before the placement: never a silent default.
        QVERIFY(test::errorOf([&] { placeExperts(s.timingConfig()); }).contains("joint"));
    }

    // Invariants on generated traces, for many rooms and batches: 0 <= B <= L x E and
    // B x expert_bytes <= room_0; KV never read: B = min(experts ever read, floor(room_0 /
    // expert_bytes)) (every expert without expert sets); experts never active: B = 0.
    void invariants()
    {
        for (uint64_t seed : {3u, 11u}) {
            Trace tr = generatedTrace(seed);
            SelectionConfig sc;
            sc.mode = SelectionMode::Ratio;
            sc.value = 0.25;
            const Selection sel = computeSelection(tr, sc);
            QVERIFY(sel.experts != nullptr);
            int64_t everRead = 0;
            for (int32_t l = 0; l < 2; ++l)
                for (int32_t e = 0; e < 8; ++e) {
                    bool any = false;
                    for (int64_t t = 0; t < 24; ++t) any = any || sel.experts->active(t, l, e);
                    everRead += any;
                }
            Selection unread = sel;   // the same units, none of them ever read
            unread.step_units = Csr<uint32_t>{};
            unread.step_units.offset.assign(static_cast<size_t>(sel.layout.steps) + 1, 0);
            Selection noSets = unread;
            noSets.experts = nullptr;
            Selection idle = sel;     // expert sets in which no expert is ever active
            idle.experts = std::make_shared<const ExpertSets>(8, 24, 2);
            for (int64_t batch : {1, 3})
                for (double room = 0; room <= 5000; room += 97) {
                    TimingConfig c;
                    c.model.layers = 2;
                    c.model.kv_bytes_per_token_layer = 16;
                    c.model.experts = 8;
                    c.model.expert_bytes = 128;
                    c.model.weight_bytes = 256 + 2 * 8 * 128;
                    c.batch = batch;
                    c.hardware.tiers = {Tier{"HBM", 256 + room, 1e6, kNoLink, kNoLink, 0},
                                        Tier{"DRAM", 1e9, 1e5, 5e4, 5e4, 0}};
                    c.experts.policy = ExpertPolicy::Joint;
                    QCOMPARE(fastTierRoom(c), room);
                    const int64_t fit = std::min<int64_t>(16, static_cast<int64_t>(std::floor(room / 128)));
                    const int64_t b = jointExpertBudget(sel, c);
                    QVERIFY(b >= 0 && b <= 16);
                    QVERIFY(static_cast<double>(b) * 128 <= room);
                    QCOMPARE(jointExpertBudget(unread, c), std::min(everRead, fit));
                    QCOMPARE(jointExpertBudget(noSets, c), fit);
                    QCOMPARE(jointExpertBudget(idle, c), int64_t{0});
                    // The placement holds exactly B experts in tier 0, the rest below.
                    c.expert_budget = b;
                    QCOMPARE(placeExperts(c).budget, b);
                }
        }
    }

    // Through the pipeline: joint's outcome is frequency-oracle's at hbm_share = B x
    // expert_bytes / room_0 (room_0 = 8192 B, a power of two: the share is exact), for every
    // KV policy; hbm_share does not change joint; the balanced bound is unchanged.
    void pipelineEqualsFrequencyOracleAtItsShare()
    {
        const std::string db = test::scratchPath("expert-joint.sqlite");
        test::storeTrace(db, generatedTrace(5));
        Scenario s;
        s.trace_db = db;
        s.trace_name = "moe";
        s.model.layers = 2;
        s.model.kv_bytes_per_token_layer = 64;
        s.model.experts = 8;
        s.model.expert_bytes = 256;
        s.model.weight_bytes = 512 + 2 * 8 * 256;
        s.hardware.tiers = {Tier{"HBM", 512 + 8192, 1e6, kNoLink, kNoLink, 0}, Tier{"DRAM", 1e9, 1e5, 5e4, 5e4, 0}};
        s.selection.mode = SelectionMode::Ratio;
        s.selection.value = 0.25;
        for (const PolicyEntry& e : policyRegistry()) s.policies.push_back({e.info.name, {}});
        s.experts.policy = ExpertPolicy::Joint;
        Pipeline pipe;
        const AnalysisResult j = pipe.run(s);
        const int64_t B = j.expert_budget;
        QCOMPARE(B, jointExpertBudget(*j.selection, s.timingConfig()));
        QVERIFY(B > 0 && B < 16);   // a real split: experts and KV both in tier 0 (B = 10 here)
        QCOMPARE(j.capacity.kv_bytes[0], 8192 - 256.0 * static_cast<double>(B));
        Scenario f = s;
        f.experts.policy = ExpertPolicy::FrequencyOracle;
        f.experts.hbm_share = static_cast<double>(B) * 256 / 8192;
        const AnalysisResult o = pipe.run(f);
        QCOMPARE(o.capacity.units, j.capacity.units);
        QCOMPARE(o.balanced->total_time, j.balanced->total_time);
        Scenario share = s;
        share.experts.hbm_share = 0.9;
        QCOMPARE(firstStageToRerun(s, share), Stage::Placement);
        const AnalysisResult js = pipe.run(share);
        QCOMPARE(js.expert_budget, B);
        for (size_t i = 0; i < s.policies.size(); ++i) {
            const TimingResult& a = *j.policies[i].timing;
            const TimingResult& b = *o.policies[i].timing;
            QCOMPARE(a.expert_budget, B);
            QCOMPARE(a.step_time, b.step_time);
            QCOMPARE(a.total_time, js.policies[i].timing->total_time);
            QCOMPARE(a.expert_read_fast_bytes, b.expert_read_fast_bytes);
            QCOMPARE(a.expert_migrated_bytes, 0.0);
        }
    }
};

QTEST_GUILESS_MAIN(TestExpertJoint)
#include "tst_expert_joint.moc"
