// The generator's batches (docs/GENERATOR.md "Batches"): S = 1 is the one-sequence
// generator bit for bit, sequence s does not depend on S, the shared prefix is shared
// exactly, P_s stays in its documented range, and the expert sets are the union of the
// sequences' routes.
// oneTBB before Qt: Qt's `emit` macro breaks oneTBB headers.
#include <tbb/task_arena.h>

#include "core/model/error.hpp"
#include "core/synth/generator.hpp"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <cmath>
#include <set>

using namespace kvtier;

namespace {

std::vector<Record> collect(const GeneratorParams& p)
{
    std::vector<Record> out;
    generate(p, [&](const Record& r) { out.push_back(r); });
    return out;
}

// The records of one sequence, in (step, layer) order.
std::vector<Record> sequenceRecords(const std::vector<Record>& all, int32_t s)
{
    std::vector<Record> out;
    for (const Record& r : all)
        if (r.sequence == s) out.push_back(r);
    return out;
}

bool sameRecords(const std::vector<Record>& a, const std::vector<Record>& b)
{
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].step != b[i].step || a[i].layer != b[i].layer || a[i].sequence != b[i].sequence ||
            a[i].index != b[i].index || a[i].value != b[i].value)   // bit-identical floats
            return false;
    return true;
}

struct Fnv {
    uint64_t h = 1469598103934665603ULL;
    void mix(const void* d, size_t n)
    {
        const auto* b = static_cast<const unsigned char*>(d);
        for (size_t i = 0; i < n; ++i) {
            h ^= b[i];
            h *= 1099511628211ULL;
        }
    }
};

GeneratorParams batchBase()
{
    GeneratorParams p;
    p.prefill = 400;
    p.steps = 12;
    p.layers = 3;
    p.seed = 23;
    p.burst_rate = 0.3;
    p.burst_min_age = 40;
    p.heavy_count = 30;
    p.focus_jitter = 6;
    return p;
}

std::string problemOf(const nlohmann::json& j)
{
    try {
        generatorParamsFromJson(j, "p.json");
    } catch (const InputError& e) {
        return e.problem();
    }
    return {};
}

} // namespace

class TestGeneratorBatch : public QObject {
    Q_OBJECT

private slots:
    void oneSequenceIsTheGeneratorBeforeBatches()
    {
        // The hash of these two traces (records and expert sets) as the generator of main
        // 513588a, before batches existed, wrote them: S = 1 must not change a bit.
        GeneratorParams a;
        a.prefill = 300;
        a.steps = 24;
        a.layers = 4;
        a.seed = 17;
        a.burst_rate = 0.2;
        a.burst_min_age = 50;
        GeneratorParams b = a;
        b.per_layer = true;
        b.heavy_count = 20;
        b.experts = 8;
        b.expert_tokens = 3;
        b.expert_reuse = 0.4;
        Fnv f;
        for (const GeneratorParams& p : {a, b}) {
            generate(p, [&](const Record& r) {
                f.mix(&r.step, 8);
                f.mix(&r.layer, 4);
                f.mix(r.index.data(), r.index.size() * 4);
                f.mix(r.value.data(), r.value.size() * 4);
            });
            const ExpertSets x = generateExperts(p);
            for (int64_t t = 0; t < x.steps(); ++t)
                for (int32_t l = 0; l < x.layers(); ++l) {
                    const auto ids = x.ids(t, l);
                    f.mix(ids.data(), ids.size() * 2);
                }
        }
        QCOMPARE(f.h, uint64_t{0xeb420935211ee7abULL});
        // And a one-sequence trace keeps the one-sequence metadata and parameter JSON.
        const TraceMeta m = generatorMeta(a);
        QVERIFY(m.sequence_prefill.empty());
        QCOMPARE(m.prefill, int64_t{300});
        const auto j = generatorParamsToJson(a);
        QVERIFY(!j.contains("sequences") && !j.contains("prefill_spread") && !j.contains("shared_prefix"));
    }

    void sequenceZeroOfABatchIsTheOneSequenceTrace()
    {
        for (bool perLayer : {false, true}) {
            GeneratorParams one = batchBase();
            one.per_layer = perLayer;
            GeneratorParams three = one;
            three.sequences = 3;
            const auto batch = collect(three);
            QCOMPARE(batch.size(), size_t{3} * 12 * (perLayer ? 3 : 1));
            QVERIFY(sameRecords(sequenceRecords(batch, 0), collect(one)));
            // Storage order: (step, sequence, layer).
            const TraceMeta m = generatorMeta(three);
            for (size_t k = 0; k < batch.size(); ++k) {
                QCOMPARE(batch[k].step, m.stepOfRecord(static_cast<int64_t>(k)));
                QCOMPARE(batch[k].sequence, m.sequenceOfRecord(static_cast<int64_t>(k)));
                QCOMPARE(batch[k].layer, m.layerOfRecord(static_cast<int64_t>(k)));
            }
        }
    }

    void sequenceDoesNotDependOnS()
    {
        for (int64_t prefix : {int64_t{0}, int64_t{120}}) {
            for (bool perLayer : {false, true}) {
                GeneratorParams two = batchBase();
                two.per_layer = perLayer;
                two.prefill_spread = 0.3;
                two.shared_prefix = prefix;
                two.sequences = 2;
                GeneratorParams four = two;
                four.sequences = 4;
                const auto a = collect(two), b = collect(four);
                for (int32_t s = 0; s < 2; ++s) {
                    QVERIFY(!sequenceRecords(a, s).empty());
                    QVERIFY2(sameRecords(sequenceRecords(a, s), sequenceRecords(b, s)),
                             qPrintable(QString("sequence %1, prefix %2").arg(s).arg(prefix)));
                }
                const auto pa = sequencePrefills(two), pb = sequencePrefills(four);
                QCOMPARE(pa[0], pb[0]);
                QCOMPARE(pa[1], pb[1]);
            }
        }
    }

    void sequencesHaveTheirOwnHeavyHittersAndDrift()
    {
        GeneratorParams p = batchBase();
        p.sequences = 2;
        const GeneratorPlan a = generatorPlan(p, 0), b = generatorPlan(p, 1);
        QCOMPARE(a.heavy[0].size(), size_t{30});
        QCOMPARE(b.heavy[0].size(), size_t{30});
        QVERIFY(a.heavy[0] != b.heavy[0]);
        QVERIFY(a.focus_centre != b.focus_centre);
        QVERIFY(a.static_relevance[0] != b.static_relevance[0]);
        // Sequence 0's plan is the one-sequence plan.
        GeneratorParams one = batchBase();
        const GeneratorPlan o = generatorPlan(one);
        QCOMPARE(a.heavy, o.heavy);
        QCOMPARE(a.heavy_weight, o.heavy_weight);
        QCOMPARE(a.focus_centre, o.focus_centre);
        QCOMPARE(a.static_relevance, o.static_relevance);
        QVERIFY_THROWS_EXCEPTION(InputError, generatorPlan(p, 2));
    }

    void sharedPrefixIsSharedExactly()
    {
        // What is shared (docs/GENERATOR.md "Batches"): the heavy hitters inside [0, N) with
        // their raw weights, and the static relevance of every token < N, per layer slot.
        for (bool perLayer : {false, true}) {
            GeneratorParams p = batchBase();
            p.per_layer = perLayer;
            p.sequences = 4;
            p.prefill_spread = 0.2;
            p.shared_prefix = 200;
            const int32_t slotCount = perLayer ? 3 : 1;
            // Heavy hitters in the prefix: round(30 * (200 - 4) / (400 - 4)) = round(14.85) = 15.
            const size_t inPrefix = 15;
            std::vector<GeneratorPlan> plans;
            for (int32_t s = 0; s < 4; ++s) plans.push_back(generatorPlan(p, s));
            for (int32_t slot = 0; slot < slotCount; ++slot) {
                const auto us = static_cast<size_t>(slot);
                auto prefixPart = [&](const GeneratorPlan& g) {
                    std::vector<std::pair<uint32_t, double>> v;
                    for (size_t i = 0; i < g.heavy[us].size(); ++i)
                        if (g.heavy[us][i] < 200) v.emplace_back(g.heavy[us][i], g.heavy_raw[us][i]);
                    return v;
                };
                const auto shared = prefixPart(plans[0]);
                QCOMPARE(shared.size(), inPrefix);
                QVERIFY(shared.front().first >= 4);   // never a sink
                for (int32_t s = 1; s < 4; ++s) {
                    QCOMPARE(prefixPart(plans[static_cast<size_t>(s)]), shared);   // exact doubles
                    QCOMPARE(plans[static_cast<size_t>(s)].heavy[us].size(), size_t{30});
                    const auto& u0 = plans[0].static_relevance[us];
                    const auto& uS = plans[static_cast<size_t>(s)].static_relevance[us];
                    QVERIFY(std::equal(u0.begin(), u0.begin() + 200, uS.begin()));   // exact floats
                    // Past the prefix each sequence has its own tokens.
                    QVERIFY(!std::equal(u0.begin() + 200, u0.begin() + 300, uS.begin() + 200));
                }
                // Outside the prefix the heavy hitters are each sequence's own.
                std::set<std::vector<uint32_t>> own;
                for (const auto& g : plans) {
                    std::vector<uint32_t> o;
                    for (uint32_t tok : g.heavy[us])
                        if (tok >= 200) o.push_back(tok);
                    QCOMPARE(o.size(), size_t{30} - inPrefix);
                    QVERIFY(o.back() < g.prefill);
                    own.insert(o);
                }
                QCOMPARE(own.size(), size_t{4});
            }
        }
    }

    void prefillsStayInTheirRange()
    {
        GeneratorParams p = batchBase();
        p.prefill = 1000;
        p.steps = 3;
        p.sequences = 64;
        p.prefill_spread = 0.25;
        const auto ps = sequencePrefills(p);
        QCOMPARE(ps.size(), size_t{64});
        std::set<int64_t> distinct(ps.begin(), ps.end());
        QVERIFY(distinct.size() > 20);
        for (int64_t x : ps) QVERIFY(x >= 750 && x <= 1000);
        const TraceMeta m = generatorMeta(p);
        QCOMPARE(m.sequence_prefill, ps);
        QCOMPARE(m.prefill, ps.front());
        QCOMPARE(m.sequenceCount(), 64);
        // Every record's context is n_t^s = P_s + t: the newest token is P_s + t - 1 and,
        // with full score records, every token is present.
        const auto records = collect(p);
        QCOMPARE(records.size(), size_t{64 * 3});
        for (const Record& r : records) {
            const int64_t n = ps[static_cast<size_t>(r.sequence)] + r.step;
            QCOMPARE(static_cast<int64_t>(r.index.size()), n);
            QCOMPARE(static_cast<int64_t>(r.index.back()), n - 1);
        }
        // Spread 0: every P_s = P. The trace round-trips through Trace with its sequences.
        p.prefill_spread = 0;
        p.sequences = 3;
        QCOMPARE(sequencePrefills(p), (std::vector<int64_t>{1000, 1000, 1000}));
        const Trace t = generateTrace(p);
        QVERIFY(t.complete());
        QCOMPARE(t.recordCount(), int64_t{9});
        // floor(0.999 * 1) = 0: a one-token prefill has nothing to spread.
        GeneratorParams tiny = batchBase();
        tiny.prefill = 1;
        tiny.sequences = 2;
        tiny.prefill_spread = 0.999;
        QCOMPARE(sequencePrefills(tiny), (std::vector<int64_t>{1, 1}));
    }

    void expertSetsAreTheUnionOfTheRoutes()
    {
        GeneratorParams p = batchBase();
        p.experts = 16;
        p.expert_top_k = 2;
        p.expert_tokens = 1;
        p.expert_zipf = 0.8;
        p.expert_reuse = 0.3;
        p.sequences = 3;
        const ExpertSets all = generateExperts(p);
        std::vector<ExpertSets> routes;
        for (int32_t s = 0; s < 3; ++s) routes.push_back(generateSequenceExperts(p, s));
        bool grew = false;
        for (int64_t t = 0; t < p.steps; ++t)
            for (int32_t l = 0; l < p.layers; ++l) {
                int32_t largest = 0;
                for (int32_t e = 0; e < 16; ++e) {
                    bool any = false;
                    for (const ExpertSets& r : routes) any = any || r.active(t, l, e);
                    QCOMPARE(all.active(t, l, e), any);
                }
                for (const ExpertSets& r : routes) {
                    QCOMPARE(r.count(t, l), 2);   // one token, two distinct experts
                    largest = std::max(largest, r.count(t, l));
                }
                grew = grew || all.count(t, l) > largest;
                QVERIFY(all.count(t, l) <= 6);
            }
        QVERIFY(grew);   // the sequences route differently
        // Sequence 0's routes are the one-sequence trace's sets; a sequence's routes do
        // not depend on S.
        GeneratorParams one = p;
        one.sequences = 1;
        QCOMPARE(routes[0], generateExperts(one));
        GeneratorParams five = p;
        five.sequences = 5;
        QCOMPARE(generateSequenceExperts(five, 2), routes[2]);
        // The records do not depend on the expert parameters.
        GeneratorParams dense = p;
        dense.experts = 0;
        QVERIFY(sameRecords(collect(dense), collect(p)));
        QVERIFY_THROWS_EXCEPTION(InputError, generateSequenceExperts(p, 3));
    }

    void parametersAreDataAndValidated()
    {
        GeneratorParams p = batchBase();
        p.sequences = 4;
        p.prefill_spread = 0.5;
        p.shared_prefix = 100;
        const nlohmann::json j = generatorParamsToJson(p);
        QCOMPARE(j.at("sequences").get<int>(), 4);
        QCOMPARE(j.at("prefill_spread").get<double>(), 0.5);
        QCOMPARE(j.at("shared_prefix").get<int>(), 100);
        QCOMPARE(generatorParamsFromJson(j, "j"), p);
        applyGeneratorSetting(p, "sequences=7");
        QCOMPARE(p.sequences, 7);

        QCOMPARE(problemOf({{"sequences", 0}}), std::string("sequences: must be in [1, 65536]"));
        QCOMPARE(problemOf({{"sequences", 1.5}}).rfind("sequences", 0), size_t{0});
        QCOMPARE(problemOf({{"prefill_spread", 1.0}}), std::string("prefill_spread: must be in [0, 1)"));
        QCOMPARE(problemOf({{"prefill_spread", -0.1}}), std::string("prefill_spread: must be in [0, 1)"));
        // prefill 4096, spread 0.5: the shortest prefill is 4096 - 2048 = 2048.
        QCOMPARE(problemOf({{"prefill_spread", 0.5}, {"shared_prefix", 2049}}),
                 std::string("shared_prefix: must be in [0, 2048] (the shortest prefill, prefill - floor(prefill_spread "
                             "* prefill))"));
        QVERIFY(problemOf({{"prefill_spread", 0.5}, {"shared_prefix", 2048}}).empty());
        QCOMPARE(problemOf({{"shared_prefix", -1}}).rfind("shared_prefix: must be in [0, 4096]", 0), size_t{0});
        QCOMPARE(problemOf({{"sequences", 65536}, {"per_layer", true}}).rfind("sequences: sequences x layer slots", 0),
                 size_t{0});
    }
};

QTEST_GUILESS_MAIN(TestGeneratorBatch)
#include "tst_generator_batch.moc"
