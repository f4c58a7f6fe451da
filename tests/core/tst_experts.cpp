// MoE experts as placeable objects (MODEL.md §9, docs/MODEL.md "Experts"): expert sets in
// memory and in the store (round trip, schema upgrade, hostile data), the initial expert
// placement, and the equivalence of "every expert active every step" with the dense model
// of the same total weights.
#include "test_support.hpp"

#include "core/engine/expert_placement.hpp"
#include "core/engine/pipeline.hpp"
#include "core/model/error.hpp"
#include "core/policies/policy.hpp"
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <sqlite3.h>

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <set>

using namespace kvtier;

namespace {

void sql(const std::string& path, const std::string& text)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
    const std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, msg.c_str());
}

std::string scalar(const std::string& path, const std::string& text)
{
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    std::string out = "<none>";
    if (sqlite3_prepare_v2(db, text.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
        const auto* p = sqlite3_column_text(s, 0);
        out = p ? reinterpret_cast<const char*>(p) : "";
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

// A small per-layer score trace from the generator (2 layers).
GeneratorParams smallParams()
{
    GeneratorParams p;
    p.seed = 7;
    p.prefill = 48;
    p.steps = 24;
    p.layers = 2;
    p.per_layer = true;
    p.heavy_count = 8;
    p.burst_min_age = 8;
    return p;
}

ExpertSets allActive(int32_t E, int64_t T, int32_t L)
{
    ExpertSets x(E, T, L);
    for (int64_t t = 0; t < T; ++t)
        for (int32_t l = 0; l < L; ++l)
            for (int32_t e = 0; e < E; ++e) x.set(t, l, e);
    return x;
}

void store(const std::string& db, const Trace& trace, const ExpertSets& sets)
{
    test::storeTrace(db, trace, &sets);
}

Scenario scenarioOn(const std::string& db, const std::string& name, int tiers)
{
    Scenario s;
    s.trace_db = db;
    s.trace_name = name;
    s.model.layers = 2;
    s.model.kv_bytes_per_token_layer = 64;
    // Powers of two: W / L and W_dense / L + E * expert_bytes are exact in a double.
    s.model.weight_bytes = 2560;
    Tier hbm{"HBM", 2560 + 64.0 * 2 * 40, 1e6, kNoLink, kNoLink, 0};
    Tier dram{"DRAM", 1e9, 1e5, 5e4, 5e4, 0};
    s.hardware.tiers = tiers == 1 ? std::vector<Tier>{hbm} : std::vector<Tier>{hbm, dram};
    if (tiers == 1) s.hardware.tiers[0].capacity_bytes = 1e9;
    s.selection.mode = SelectionMode::Ratio;
    s.selection.value = 0.25;
    for (const PolicyEntry& e : policyRegistry()) s.policies.push_back({e.info.name, {}});
    return s;
}

} // namespace

class TestExperts : public QObject {
    Q_OBJECT

private slots:
    void setsInMemory()
    {
        ExpertSets x(4, 3, 2);
        x.set(1, 0, 2);
        x.set(1, 0, 0);
        x.set(1, 0, 2);
        QCOMPARE(x.count(1, 0), 2);
        QCOMPARE(x.ids(1, 0), (std::vector<uint16_t>{0, 2}));
        QCOMPARE(x.count(0, 0), 0);
        QVERIFY(test::errorOf([&] { x.set(1, 0, 4); }).contains("expert id 4 >= E = 4"));
        QVERIFY(test::errorOf([&] { x.set(3, 0, 1); }).contains("(t=3, l=0)"));
        QVERIFY(test::errorOf([] { ExpertSets(kMaxExperts + 1, 1, 1); }).contains("outside 1..4096"));
        QVERIFY(test::errorOf([] { ExpertSets(4096, int64_t{1} << 30, 64); }).contains("exceed the limit"));
    }

    // The list the GUI's expert policy combo shows: every policy once, in the CLI's names,
    // each read back by expertPolicyFromString; only `static` ignores hbm_share.
    void policyList()
    {
        std::vector<std::string> names;
        for (ExpertPolicy p : allExpertPolicies()) {
            names.emplace_back(toString(p));
            QCOMPARE(expertPolicyFromString(toString(p)), p);
            // static keeps its placement, joint chooses the split itself: neither uses the share.
            QCOMPARE(usesHbmShare(p), p != ExpertPolicy::Static && p != ExpertPolicy::Joint);
        }
        QCOMPARE(names.front(), std::string("static"));   // the default first
        QCOMPARE(names.size(), std::set<std::string>(names.begin(), names.end()).size());
        QCOMPARE(names.size(), size_t(6));
        for (const char* n : {"static", "lru", "lfu", "frequency-oracle", "belady", "joint"})
            QVERIFY2(std::find(names.begin(), names.end(), n) != names.end(), n);
    }

    // MODEL.md §9: after the dense weights, experts go in (layer, expert) order into the
    // fastest tier with room. Dense 100 (omega 1) in a 350-byte HBM leaves 250: experts
    // (0,0) and (0,1) fit, (0,2) does not; the rest go to DRAM.
    void initialPlacementFirstFit()
    {
        TimingConfig c;
        c.model.layers = 2;
        c.model.experts = 4;
        c.model.expert_bytes = 100;
        c.model.weight_bytes = 100 + 2 * 4 * 100;
        c.hardware.tiers = {Tier{"HBM", 350, 1000, kNoLink, kNoLink, 0}, Tier{"DRAM", 1e6, 100, 50, 50, 0}};
        const ExpertPlacement p = placeExperts(c);
        QCOMPARE(p.at(0, 0), 0);
        QCOMPARE(p.at(0, 1), 0);
        QCOMPARE(p.at(0, 2), 1);
        QCOMPARE(p.at(1, 3), 1);
        QCOMPARE(p.bytes[0], 200.0);
        QCOMPARE(p.bytes[1], 600.0);
        QCOMPARE(p.unplaced, int64_t{0});
        const std::vector<double> w = residentWeightBytes(c, p);
        QCOMPARE(w[0], 300.0);
        QCOMPARE(w[1], 600.0);
        // Nowhere to go: one tier too small for the last experts.
        c.hardware.tiers = {Tier{"HBM", 650, 1000, kNoLink, kNoLink, 0}};
        const ExpertPlacement q = placeExperts(c);
        QCOMPARE(q.unplaced, int64_t{3});
        bool threw = false;
        try {
            requireExpertsPlaced(q, c);
        } catch (const InfeasibleError& e) {
            threw = QString(e.what()).contains("3 of the 8 experts");
        }
        QVERIFY(threw);
        // A model built in code whose W cannot hold its experts is refused.
        TimingConfig bad = c;
        bad.model.weight_bytes = 100;
        QVERIFY(test::errorOf([&] { placeExperts(bad); }).contains("that weight_bytes includes (W = 100, L x E x expert_bytes = 800)"));
    }

    void storeRoundTrip()
    {
        const std::string db = test::scratchPath("roundtrip.sqlite");
        Trace t = generateTrace(smallParams(), "moe");
        ExpertSets x(6, 24, 2);
        for (int64_t s = 0; s < 24; ++s) {
            x.set(s, 0, static_cast<int32_t>(s % 6));
            x.set(s, 1, 5);
            if (s % 3 == 0) x.set(s, 1, 0);
        }
        store(db, t, x);
        auto st = TraceStore::open(db, TraceStore::Mode::ReadOnly);
        QCOMPARE(st->experts("moe"), 6);
        const Trace back = st->load("moe");
        QVERIFY(back.experts() == x);
        QCOMPARE(back.experts().ids(3, 1), (std::vector<uint16_t>{0, 5}));
        // Stored as ascending u16 little-endian ids: (t=3, l=1) is 00 00 05 00.
        QCOMPARE(scalar(db, "SELECT hex(data) FROM expert_sets WHERE step = 3 AND layer = 1"), std::string("00000500"));
        // A trace without expert sets loads with none; remove() deletes the sets too.
        st.reset();
        auto rw = TraceStore::open(db, TraceStore::Mode::ReadWrite);
        rw->remove("moe");
        QCOMPARE(scalar(db, "SELECT count(*) FROM expert_sets"), std::string("0"));
        QCOMPARE(scalar(db, "SELECT count(*) FROM trace_experts"), std::string("0"));
    }

    void generatorRoutesDeterministically()
    {
        GeneratorParams p = smallParams();
        p.experts = 8;
        p.expert_top_k = 2;
        p.expert_tokens = 1;
        p.expert_zipf = 1.2;
        const ExpertSets a = generateExperts(p), b = generateExperts(p);
        QVERIFY(a == b);
        for (int64_t t = 0; t < p.steps; ++t)
            for (int32_t l = 0; l < p.layers; ++l) QCOMPARE(a.count(t, l), 2);   // one token: exactly top-k
        p.seed = 8;
        QVERIFY(!(generateExperts(p) == a));
        // Reuse 1: every step keeps step 0's experts.
        p.expert_reuse = 1;
        const ExpertSets r = generateExperts(p);
        for (int64_t t = 1; t < p.steps; ++t) QCOMPARE(r.ids(t, 1), r.ids(0, 1));
        // Four tokens of top-2 over 8 experts: between 2 and 8 active.
        p.expert_reuse = 0;
        p.expert_tokens = 4;
        const ExpertSets u = generateExperts(p);
        for (int64_t t = 0; t < p.steps; ++t) QVERIFY(u.count(t, 0) >= 2 && u.count(t, 0) <= 8);
        // Skew: with a steep Zipf law the top-ranked expert of a layer is in nearly every set.
        p.expert_tokens = 1;
        p.expert_zipf = 6;
        p.steps = 400;
        const ExpertSets z = generateExperts(p);
        int most = 0;
        for (int32_t e = 0; e < 8; ++e) {
            int n = 0;
            for (int64_t t = 0; t < p.steps; ++t) n += z.active(t, 0, e);
            most = std::max(most, n);
        }
        QVERIFY(most >= 390);
        p.expert_top_k = 9;
        QVERIFY(test::errorOf([&] { generateExperts(p); }).contains("expert_top_k"));
    }


    // Hostile expert data: refused with the place named, nothing large allocated.
    void hostileExpertData()
    {
        const std::string db = test::scratchPath("hostile.sqlite");
        ExpertSets x(4, 24, 2);
        x.set(0, 0, 1);
        store(db, generateTrace(smallParams(), "moe"), x);
        sql(db, "UPDATE expert_sets SET data = x'0500' WHERE step = 2 AND layer = 1");
        auto load = [&] {
            auto st = TraceStore::open(db, TraceStore::Mode::ReadOnly);
            st->load("moe");
        };
        QString e = test::errorOf(load);
        QVERIFY2(e.contains("expert set (t=2, l=1)") && e.contains("expert id 5 >= E = 4"), qPrintable(e));
        sql(db, "UPDATE expert_sets SET data = x'020001' WHERE step = 2 AND layer = 1");
        e = test::errorOf(load);
        QVERIFY2(e.contains("(t=2, l=1)") && e.contains("not a list of u16"), qPrintable(e));
        sql(db, "UPDATE expert_sets SET data = x'02000100' WHERE step = 2 AND layer = 1");
        e = test::errorOf(load);
        QVERIFY2(e.contains("not strictly ascending (2 then 1)"), qPrintable(e));
        sql(db, "UPDATE expert_sets SET data = x'' WHERE step = 2 AND layer = 1; UPDATE trace_experts SET experts = 1000000000");
        e = test::errorOf(load);
        QVERIFY2(e.contains("trace 'moe'") && e.contains("E = 1000000000 outside 1..4096"), qPrintable(e));
        sql(db, "UPDATE trace_experts SET experts = 4; DELETE FROM expert_sets WHERE step = 23");
        e = test::errorOf(load);
        QVERIFY2(e.contains("incomplete: 46 of T x L = 48"), qPrintable(e));
        sql(db, "INSERT INTO expert_sets VALUES (1, 99, 0, x'')");
        e = test::errorOf(load);
        QVERIFY2(e.contains("(t=99, l=0)") && e.contains("out of place: expected (t=23, l=0)"), qPrintable(e));
    }

    // MODEL.md §9 with every expert active every step is the dense model of the same W:
    // identical step times for every policy and the paper bound; the balanced bound is
    // identical on one tier and at most the dense one with two (experts are movable there).
    void allExpertsActiveIsTheDenseModel()
    {
        const std::string db = test::scratchPath("dense-vs-moe.sqlite");
        const Trace t = generateTrace(smallParams(), "moe");
        store(db, t, allActive(4, 24, 2));
        store(db, generateTrace(smallParams(), "nosets"), ExpertSets{});
        for (int tiers : {1, 2}) {
            Pipeline pipe;
            Scenario dense = scenarioOn(db, "moe", tiers);
            Scenario moe = dense;
            moe.model.experts = 4;
            moe.model.expert_bytes = 256;   // W_dense = 2560 - 2 * 4 * 256 = 512
            QCOMPARE(moe.model.denseWeightBytes(), 512.0);
            const AnalysisResult a = pipe.run(dense);
            const AnalysisResult b = pipe.run(moe);
            Scenario noSets = moe;   // no expert data: every expert read every step, the same
            noSets.trace_name = "nosets";
            const AnalysisResult c = pipe.run(noSets);
            QCOMPARE(a.policies.size(), policyRegistry().size());
            QVERIFY(a.policies.size() >= 14);
            for (size_t i = 0; i < a.policies.size(); ++i) {
                QVERIFY2(a.policies[i].timing->total_time == b.policies[i].timing->total_time,
                         a.policies[i].info.name.c_str());
                QVERIFY(a.policies[i].timing->step_time == b.policies[i].timing->step_time);
                QVERIFY(c.policies[i].timing->total_time == b.policies[i].timing->total_time);
                QVERIFY(b.policies[i].timing->total_time >= b.balanced->total_time * (1 - 1e-12));
                // Experts' bytes counted as such: 4 x 256 per layer, 2 layers, 24 steps.
                QCOMPARE(b.policies[i].timing->expert_read_bytes, 4.0 * 256 * 2 * 24);
                QCOMPARE(a.policies[i].timing->expert_read_bytes, 0.0);
                QVERIFY(b.policies[i].timing->expert_sets);
                QVERIFY(!c.policies[i].timing->expert_sets);
            }
            QVERIFY(a.paper->total_time == b.paper->total_time);
            QVERIFY(a.capacity.units == b.capacity.units);
            // The balanced bound bisects (relative width 1e-16): equal up to its rounding.
            if (tiers == 1) QVERIFY(std::abs(a.balanced->total_time - b.balanced->total_time) <= 1e-12 * a.balanced->total_time);
            else QVERIFY(b.balanced->total_time <= a.balanced->total_time * (1 + 1e-12));
            // The migration-aware bound refuses a model with experts, clearly.
            moe.bounds.migration_aware.enabled = true;
            QVERIFY(test::errorOf([&] { pipe.run(moe); }).contains("not computed for a model with experts"));
        }
    }

    // A trace whose expert sets disagree with the model is refused before any work.
    void mismatchRefused()
    {
        const std::string db = test::scratchPath("mismatch.sqlite");
        store(db, generateTrace(smallParams(), "moe"), allActive(4, 24, 2));
        Scenario s = scenarioOn(db, "moe", 2);
        s.model.experts = 8;
        s.model.expert_bytes = 128;
        Pipeline pipe;
        const QString e = test::errorOf([&] { pipe.run(s); });
        QVERIFY2(e.contains("E = 4") && e.contains("the model has 8"), qPrintable(e));
    }
};

QTEST_GUILESS_MAIN(TestExperts)
#include "tst_experts.moc"
