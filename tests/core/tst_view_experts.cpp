// The expert heatmap (core/engine/view_experts.hpp, docs/GUI.md "Experts") on a hand-worked
// lru run: L = 1, E = 4 experts of 100 B, W_dense = 100 B, HBM 500 B: room 400 B, hbm_share
// 0.25 gives 100 B = a budget of 1 expert; expert 0 starts in HBM, 1, 2, 3 in DRAM.
// X = t0 {1}, t1 {1}, t2 {0, 2}, t3 {3}, t4 {}, t5 {0}.
//
// lru (docs/POLICIES.md: tier 0 becomes the budget experts with the highest (last read,
// resident, lower id) among its residents and the misses of t-1; swaps before the reads):
//   t0: 1 read from DRAM (miss).
//   t1: miss of t0 = {1} (last read 0) beats resident 0 (never read): 1 in, 0 out. 1 hit.
//   t2: no miss at t1, no move. 0 and 2 read from DRAM (misses).
//   t3: misses of t2 = {0, 2}, both last read 2, resident 1 last read 1: the lower id 0 comes
//       in, 1 goes out. 3 read from DRAM (miss).
//   t4: miss of t3 = {3} (last read 3) beats resident 0 (2): 3 in, 0 out. Nothing read.
//   t5: no miss at t4, no move. 0 read from DRAM (miss).
// Classes (LI lower idle, FI HBM idle, FR hit, LR miss, MG migrated) and tiers after moves:
//        t0    t1    t2    t3    t4    t5
//   e0   FI 0  MG 1  LR 1  MG 0  MG 1  LR 1
//   e1   LR 1  MG 0  FI 0  MG 1  LI 1  LI 1
//   e2   LI 1  LI 1  LR 1  LI 1  LI 1  LI 1
//   e3   LI 1  LI 1  LI 1  LR 1  MG 0  FI 0
// (e1 at t1 is both moved into HBM and read from it: counted as migrated and as a hit.)
#include "test_support.hpp"

#include "core/engine/expert_residency.hpp"
#include "core/engine/view_experts.hpp"
#include "core/engine/view_heatmap_csv.hpp"
#include "core/model/error.hpp"

#include <QtTest>

#include <atomic>
#include <sstream>

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
    c.experts.hbm_share = 0.25;
    return c;
}

ExpertSets handSets()
{
    ExpertSets x(4, 6, 1);
    const std::vector<std::vector<int>> ids = {{1}, {1}, {0, 2}, {3}, {}, {0}};
    for (int64_t t = 0; t < 6; ++t)
        for (int e : ids[static_cast<size_t>(t)]) x.set(t, 0, e);
    return x;
}

ExpertResidency run(ExpertPolicy policy, const ExpertSets* sets)
{
    const TimingConfig c = handConfig(policy);
    const ExpertPlacement p = placeExperts(c);
    requireExpertsPlaced(p, c);
    return simulateExpertResidency(p, sets, c, 6);
}

HeatmapWindow window(int width, int height, int32_t layer = 0)
{
    HeatmapWindow w;
    w.width = width;
    w.height = height;
    w.layer = layer;
    return w;
}

enum : uint8_t { LI = kExpertLowerIdle, FI = kExpertFastIdle, FR = kExpertFastRead, LR = kExpertLowerRead, MG = kExpertMigrated };

} // namespace

class TestViewExperts : public QObject {
    Q_OBJECT

private slots:
    void lruByHand()
    {
        const ExpertSets sets = handSets();
        const ExpertResidency r = run(ExpertPolicy::Lru, &sets);
        QCOMPARE(placeExperts(handConfig(ExpertPolicy::Lru)).budget, int64_t{1});
        QCOMPARE(r.initial, (std::vector<int32_t>{0, 1, 1, 1}));
        QCOMPARE(r.moves, (std::vector<ExpertMove>{{1, 0, 1, 1, 0}, {1, 0, 0, 0, 1}, {3, 0, 0, 1, 0}, {3, 0, 1, 0, 1},
                                                    {4, 0, 3, 1, 0}, {4, 0, 0, 0, 1}}));
        const ExpertGrid g = expertGrid(&sets, r, window(800, 400));
        QCOMPARE(g.grid.nx, int64_t{6});
        QCOMPARE(g.grid.ny, int64_t{4});
        QCOMPARE(g.experts, 4);
        QVERIFY(g.expert_sets);
        const uint8_t cat[4][6] = {{FI, MG, LR, MG, MG, LR}, {LR, MG, FI, MG, LI, LI}, {LI, LI, LR, LI, LI, LI}, {LI, LI, LI, LR, MG, FI}};
        const uint8_t tier[4][6] = {{0, 1, 1, 0, 1, 1}, {1, 0, 0, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 0, 0}};
        for (int e = 0; e < 4; ++e)
            for (int t = 0; t < 6; ++t) {
                const size_t c = g.grid.index(t, e);
                QVERIFY2(g.category[c] == cat[e][t], qPrintable(QStringLiteral("expert %1 step %2: %3").arg(e).arg(t).arg(g.category[c])));
                QCOMPARE(g.tier[c], tier[e][t]);
                // One pair per cell: its state once among the four, and migrated when moved.
                uint32_t base = 0;
                for (int k = 0; k < 4; ++k) base += g.counts[c][static_cast<size_t>(k)];
                QCOMPARE(base, 1u);
                QCOMPARE(g.counts[c][MG], cat[e][t] == MG ? 1u : 0u);
            }
        // e1 at t1: moved in from DRAM and read from HBM; e0 at t1 moved out, idle.
        QCOMPARE(g.counts[g.grid.index(1, 1)][FR], 1u);
        QCOMPARE(g.moved_from[g.grid.index(1, 1)], uint8_t{1});
        QCOMPARE(g.counts[g.grid.index(1, 0)][LI], 1u);
        QCOMPARE(g.moved_from[g.grid.index(1, 0)], uint8_t{0});
        QCOMPARE(g.moved_from[g.grid.index(2, 0)], uint8_t{255});
    }

    // 2 x 2 pooled cells take the highest class (among equals the deepest tier) and keep
    // the exact counts of the pairs they cover.
    void pooledTakesHighest()
    {
        const ExpertSets sets = handSets();
        const ExpertResidency r = run(ExpertPolicy::Lru, &sets);
        const ExpertGrid g = expertGrid(&sets, r, window(3, 2));
        QCOMPARE(g.grid.nx, int64_t{3});
        QCOMPARE(g.grid.ny, int64_t{2});
        struct Want {
            uint8_t category, tier, from;
            std::array<uint32_t, 5> counts;   // LI FI FR LR MG
        };
        // Columns: steps {0,1}, {2,3}, {4,5}; rows: experts {0,1}, {2,3}.
        const Want want[2][3] = {{{MG, 1, 1, {1, 1, 1, 1, 2}}, {MG, 1, 0, {1, 2, 0, 1, 2}}, {MG, 1, 0, {3, 0, 0, 1, 1}}},
                                 {{LI, 1, 255, {4, 0, 0, 0, 0}}, {LR, 1, 255, {2, 0, 0, 2, 0}}, {MG, 0, 1, {2, 2, 0, 0, 1}}}};
        for (int by = 0; by < 2; ++by)
            for (int bx = 0; bx < 3; ++bx) {
                const size_t c = g.grid.index(bx, by);
                const Want& w = want[by][bx];
                QCOMPARE(g.category[c], w.category);
                QCOMPARE(g.tier[c], w.tier);
                QCOMPARE(g.moved_from[c], w.from);
                QCOMPARE(g.counts[c], w.counts);
            }
        // Every move of the layer is one migrated pair.
        uint32_t migrated = 0;
        for (const auto& n : g.counts) migrated += n[MG];
        QCOMPARE(migrated, static_cast<uint32_t>(r.moves.size()));
        std::ostringstream csv;
        writeExpertCsv(csv, g, "lru", "lru", {"HBM", "DRAM"});
        QVERIFY(csv.str().find("\n0,0,0,0,migrated,DRAM,DRAM,1,1,1,1,2\n") != std::string::npos);
        QVERIFY(csv.str().find("\n2,1,4,2,migrated,HBM,DRAM,2,2,0,0,1\n") != std::string::npos);
    }

    // Without expert sets every expert is read every step (MODEL.md §9) and nothing moves;
    // the static policy never moves either.
    void withoutSetsEveryExpertIsRead()
    {
        const ExpertResidency r = run(ExpertPolicy::Lru, nullptr);
        QVERIFY(r.moves.empty());
        const ExpertGrid g = expertGrid(nullptr, r, window(800, 400));
        QVERIFY(!g.expert_sets);
        for (int e = 0; e < 4; ++e)
            for (int t = 0; t < 6; ++t)
                QCOMPARE(g.category[g.grid.index(t, e)], e == 0 ? FR : LR);
        const ExpertSets sets = handSets();
        const ExpertResidency s = run(ExpertPolicy::Static, &sets);
        QVERIFY(s.moves.empty());
        const ExpertGrid st = expertGrid(&sets, s, window(800, 400));
        for (uint8_t c : st.category) QVERIFY(c != MG);
        // Static: every expert fits in HBM (500 B - 100 B dense = 4 experts).
        QCOMPARE(st.category[st.grid.index(2, 0)], FR);
        QCOMPARE(st.category[st.grid.index(0, 0)], FI);
    }

    void badInput()
    {
        const ExpertSets sets = handSets();
        const ExpertResidency r = run(ExpertPolicy::Lru, &sets);
        QVERIFY_THROWS_EXCEPTION(InputError, expertGrid(&sets, r, window(10, 10, 1)));
        QVERIFY_THROWS_EXCEPTION(InputError, expertGrid(&sets, r, window(10, 10, -1)));
        QVERIFY_THROWS_EXCEPTION(InputError, expertGrid(&sets, ExpertResidency{}, window(10, 10)));
        const ExpertSets shorter(4, 3, 1);
        QVERIFY_THROWS_EXCEPTION(InputError, expertGrid(&shorter, r, window(10, 10)));
        try {
            expertGrid(&sets, r, window(10, 10, 3));
            QFAIL("layer 3 of a 1-layer model was accepted");
        } catch (const InputError& e) {
            QCOMPARE(QString::fromStdString(e.what()), QStringLiteral("layer 3: the model has 1 layer (0..0)"));
        }
    }

    void cancelled()
    {
        const ExpertSets sets = handSets();
        const ExpertResidency r = run(ExpertPolicy::Lru, &sets);
        std::atomic<bool> flag{true};
        JobControl job;
        job.cancel = &flag;
        QVERIFY_THROWS_EXCEPTION(Cancelled, expertGrid(&sets, r, window(800, 400), job));
    }
};

QTEST_GUILESS_MAIN(TestViewExperts)
#include "tst_view_experts.moc"
