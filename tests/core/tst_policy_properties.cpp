// Properties every placement policy must have, checked for every entry of the registry (and
// the README's example policy), so a new policy is checked the moment it is registered:
// well-formed info and parameters, the simulator's rules kept (capacity, admit only new
// units, evict only residents, promote only non-residents: it throws std::logic_error
// otherwise) under every shape, determinism, no peeking at the future for online policies,
// nothing moved when tier 0 holds everything (hisparse: each unit loaded once, by its rule),
// and never faster than the balanced bound.
// Each runs with the defaults and with every parameter at its minimum and at its maximum.
#include "example_policy.hpp"
#include "test_support.hpp"

#include "core/engine/bounds.hpp"
#include "core/engine/pipeline.hpp"
#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/engine/timing.hpp"
#include "core/model/error.hpp"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <set>

using namespace kvtier;

namespace {

// The registry, then the example (registered nowhere else).
const std::vector<PolicyEntry>& entries()
{
    static const std::vector<PolicyEntry> all = [] {
        std::vector<PolicyEntry> v = policyRegistry();
        v.push_back(test::hotReadsPolicy());
        return v;
    }();
    return all;
}

const PolicyEntry& entry(const QString& name)
{
    for (const auto& e : entries())
        if (QString::fromStdString(e.info.name) == name) return e;
    throw std::logic_error("no policy " + name.toStdString());
}

// Defaults, every parameter at its minimum, every parameter at its maximum.
std::vector<PolicyParams> variants(const PolicyInfo& info)
{
    PolicyParams lo, hi;
    for (const ParamSpec& s : info.params) {
        lo[s.key] = s.min;
        hi[s.key] = s.max;
    }
    return {resolveParams(info, {}, "test"), resolveParams(info, lo, "test"), resolveParams(info, hi, "test")};
}

// A deterministic pseudo-random score trace (scores are multiples of 1/8). Steps >= divergeAt
// draw from a second stream, so two traces with the same seed agree before it.
Trace randomScoreTrace(uint64_t seed, int64_t prefill, int64_t steps, int32_t layers, bool perLayer,
                       int64_t divergeAt = -1, uint64_t seed2 = 0)
{
    TraceMeta m;
    m.name = "random";
    m.prefill = prefill;
    m.steps = steps;
    m.layers = layers;
    m.layer_mode = perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    m.kind = RecordKind::Scores;
    Trace tr(m);
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t s2 = seed2 * 6364136223846793005ull + 1013904223ull;
    auto next = [](uint64_t& x) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<uint32_t>(x >> 33);
    };
    for (int64_t t = 0; t < steps; ++t)
        for (int32_t l = 0; l < (perLayer ? layers : 1); ++l) {
            uint64_t& st = (divergeAt >= 0 && t >= divergeAt) ? s2 : s;
            std::vector<uint32_t> idx;
            std::vector<float> val;
            for (int64_t i = 0; i < prefill + t; ++i) {
                const uint32_t r = next(st) % 16;
                if (r < 9) continue;
                idx.push_back(static_cast<uint32_t>(i));
                val.push_back(static_cast<float>(r - 8) / 8.0f);
            }
            tr.append(t, perLayer ? l : -1, idx, val);
        }
    return tr;
}

Selection select(const Trace& tr, int64_t g, SelectionMode mode, double value)
{
    return computeSelection(tr, SelectionConfig{mode, value, 0, 0, g});
}

// Everything that happened up to and including step k: moves, per-tier traffic, the tiers
// the units created by then were created in.
QString historyUpTo(const PlacementResult& p, int64_t k)
{
    QString s;
    for (int64_t t = 0; t <= k; ++t) {
        s += QString::number(t) + ":";
        for (const Move& mv : p.moves.row(static_cast<size_t>(t)))
            s += QStringLiteral("%1>%2>%3,").arg(mv.unit).arg(mv.from).arg(mv.to);
        for (int32_t l = 0; l < p.layout.slot_count; ++l)
            for (int32_t m = 0; m < p.tiers; ++m) {
                const size_t row = static_cast<size_t>(t) * static_cast<size_t>(p.layout.slot_count) + static_cast<size_t>(l);
                const SlotTraffic& x = p.at(row, m);
                s += QStringLiteral("[%1/%2/%3/%4/%5]").arg(x.kv_read).arg(x.flex_read).arg(x.write).arg(x.mig_read).arg(x.mig_write);
            }
        s += "\n";
    }
    const int64_t units = p.layout.pagesAt(p.layout.prefill + k + 1) * p.layout.slot_count;
    for (int64_t u = 0; u < units; ++u) s += QString::number(p.created_tier[static_cast<size_t>(u)]);
    return s;
}

bool sameRun(const PlacementResult& a, const PlacementResult& b)
{
    if (a.moves.offset != b.moves.offset || a.created_tier != b.created_tier || a.fast_units != b.fast_units) return false;
    for (size_t i = 0; i < a.moves.items.size(); ++i) {
        const Move &x = a.moves.items[i], &y = b.moves.items[i];
        if (x.unit != y.unit || x.from != y.from || x.to != y.to) return false;
    }
    return true;
}

} // namespace

class TestPolicyProperties : public QObject {
    Q_OBJECT

    static void rows()
    {
        QTest::addColumn<QString>("policy");
        for (const auto& e : entries()) QTest::newRow(e.info.name.c_str()) << QString::fromStdString(e.info.name);
    }

private slots:
    void registryNamesAreUnique()
    {
        std::set<std::string> names;
        for (const auto& e : entries()) QVERIFY2(names.insert(e.info.name).second, e.info.name.c_str());
        QVERIFY(policyRegistry().size() >= 14);
        QVERIFY_THROWS_EXCEPTION(InputError, findPolicy("no-such-policy"));
    }

    void infoIsWellFormed_data() { rows(); }
    void infoIsWellFormed()
    {
        QFETCH(QString, policy);
        const PolicyInfo& info = entry(policy).info;
        QVERIFY(!info.label.empty());
        QVERIFY(info.description.size() > 40);
        std::set<std::string> keys;
        for (const ParamSpec& s : info.params) {
            QVERIFY(keys.insert(s.key).second);
            QVERIFY(!s.key.empty() && !s.label.empty() && !s.help.empty());
            QVERIFY(s.min <= s.def && s.def <= s.max);
            if (s.type == ParamSpec::Type::Choice) QCOMPARE(s.choices.size(), static_cast<size_t>(s.max) + 1);
            // Out of range and (for whole-number types) fractional values are refused.
            QVERIFY_THROWS_EXCEPTION(InputError, resolveParams(info, {{s.key, s.max + 1}}, "p"));
            QVERIFY_THROWS_EXCEPTION(InputError, resolveParams(info, {{s.key, s.min - 1}}, "p"));
            if (s.type != ParamSpec::Type::Double && s.max > s.min)
                QVERIFY_THROWS_EXCEPTION(InputError, resolveParams(info, {{s.key, s.min + 0.5}}, "p"));
        }
        const PolicyParams defaults = resolveParams(info, {}, "p");
        QCOMPARE(defaults.size(), info.params.size());
        QVERIFY_THROWS_EXCEPTION(InputError, resolveParams(info, {{"no_such_key", 1}}, "p"));
    }

    // Every rule the simulator checks, over pages, layers, three tiers, both modes and
    // capacities from 0 to everything; a second run gives the same placement.
    void keepsTheRulesAndIsDeterministic_data() { rows(); }
    void keepsTheRulesAndIsDeterministic()
    {
        QFETCH(QString, policy);
        const PolicyEntry& e = entry(policy);
        int runs = 0;
        for (const PolicyParams& prm : variants(e.info))
            for (uint64_t seed : {11, 12})
                for (bool perLayer : {false, true})
                    for (int64_t g : {1, 3}) {
                        const int32_t L = perLayer ? 2 : 1;
                        const Selection s = select(randomScoreTrace(seed, 17, 25, L, perLayer), g,
                                                   seed == 11 ? SelectionMode::Ratio : SelectionMode::TopK,
                                                   seed == 11 ? 0.3 : 4);
                        const int64_t total = s.layout.totalUnits();
                        for (int64_t cap : {int64_t(0), int64_t(1), int64_t(5), int64_t(13), total})
                            for (bool inclusive : {false, true}) {
                                const PlacementConfig cfg{inclusive, {cap, 6, 100000}};
                                PlacementResult p, again;
                                try {
                                    p = runPlacement(s, e, prm, cfg);
                                    again = runPlacement(s, e, prm, cfg);
                                } catch (const std::exception& ex) {
                                    QFAIL(qPrintable(QString("seed %1 cap %2: %3").arg(seed).arg(cap).arg(ex.what())));
                                }
                                for (int64_t f : p.fast_units) QVERIFY(f <= cap);
                                QVERIFY2(sameRun(p, again), qPrintable(QString("seed %1 cap %2").arg(seed).arg(cap)));
                                ++runs;
                            }
                    }
        QCOMPARE(runs, 3 * 2 * 2 * 2 * 5 * 2);
    }

    // A policy that says it places as another on one sequence (PolicyInfo::
    // same_on_one_sequence; a streamed analysis then runs it once) does so: the same moves,
    // traffic and creation tiers, for each of its parameter variants, over pages, layers,
    // both modes and capacities from 0 to everything.
    void sameOnOneSequenceHolds()
    {
        int runs = 0;
        for (const auto& e : entries()) {
            if (e.info.same_on_one_sequence.empty()) continue;
            const PolicyEntry& same = findPolicy(e.info.same_on_one_sequence);
            for (const PolicyParams& prm : variants(e.info))
                for (bool perLayer : {false, true})
                    for (int64_t g : {1, 3}) {
                        const Selection s = select(randomScoreTrace(21, 19, 30, perLayer ? 3 : 1, perLayer), g,
                                                   SelectionMode::Ratio, 0.35);
                        const int64_t total = s.layout.totalUnits();
                        for (int64_t cap : {int64_t(0), int64_t(2), int64_t(9), total})
                            for (bool inclusive : {false, true}) {
                                const PlacementConfig cfg{inclusive, {cap, 6, 100000}};
                                const PlacementResult a = runPlacement(s, e, prm, cfg);
                                const PlacementResult b = runPlacement(s, same, {}, cfg);
                                const QString where = QString("%1 as %2, cap %3").arg(e.info.name.c_str(), same.info.name.c_str()).arg(cap);
                                QVERIFY2(sameRun(a, b), qPrintable(where));
                                QCOMPARE(historyUpTo(a, s.layout.steps - 1), historyUpTo(b, s.layout.steps - 1));
                                ++runs;
                            }
                    }
        }
        QCOMPARE(runs, (3 + 3) * 2 * 2 * 4 * 2);   // lru-fair and lru-demand, three variants each
    }

    // An online policy decides step t from steps < t: two traces equal up to step k give the
    // same moves, traffic and creation tiers up to step k (and differ later).
    void onlineDoesNotPeek_data() { rows(); }
    void onlineDoesNotPeek()
    {
        QFETCH(QString, policy);
        const PolicyEntry& e = entry(policy);
        if (!e.info.online) QSKIP("an oracle: it reads the future by design");
        const int64_t k = 9;
        for (const PolicyParams& prm : variants(e.info))
            for (bool perLayer : {false, true})
                for (int64_t g : {1, 3})
                    for (bool inclusive : {false, true}) {
                        const int32_t L = perLayer ? 2 : 1;
                        const Selection sa = select(randomScoreTrace(7, 30, 20, L, perLayer, k + 1, 100), g, SelectionMode::TopK, 6);
                        const Selection sb = select(randomScoreTrace(7, 30, 20, L, perLayer, k + 1, 200), g, SelectionMode::TopK, 6);
                        const auto ra = sa.step_units.row(k + 1), rb = sb.step_units.row(k + 1);
                        QVERIFY(!std::equal(ra.begin(), ra.end(), rb.begin(), rb.end()));   // they do differ later
                        const PlacementConfig cfg{inclusive, {8 * L, 100000}};
                        try {
                            const PlacementResult pa = runPlacement(sa, e, prm, cfg);
                            const PlacementResult pb = runPlacement(sb, e, prm, cfg);
                            QCOMPARE(historyUpTo(pa, k), historyUpTo(pb, k));
                        } catch (const std::exception& ex) {
                            QFAIL(ex.what());
                        }
                    }
    }

    // With room for every unit in tier 0 nothing needs to move (defaults; the trace is
    // shorter than any default window). hisparse keeps its own rule there (checked exactly).
    void ampleCapacityMovesNothing_data() { rows(); }
    void ampleCapacityMovesNothing()
    {
        QFETCH(QString, policy);
        const PolicyEntry& e = entry(policy);
        for (bool perLayer : {false, true}) {
            const Selection s = select(randomScoreTrace(5, 20, 15, perLayer ? 2 : 1, perLayer), 1, SelectionMode::TopK, 5);
            for (bool inclusive : {false, true}) {
                const PlacementResult p =
                    runPlacement(s, e, resolveParams(e.info, {}, "t"), PlacementConfig{inclusive, {s.layout.totalUnits(), 100000}});
                if (e.info.name == "hisparse") {
                    // Its rule keeps the KV in the slow tier (prefill and new units) and loads
                    // what a step read at the next step (docs/POLICIES.md "hisparse"). With
                    // room for all, each unit is loaded exactly once, at the step after its
                    // first read, and nothing leaves.
                    std::vector<int64_t> firstRead(static_cast<size_t>(s.layout.totalUnits()), -1);
                    QStringList want, got;
                    for (int64_t t = 0; t < s.layout.steps; ++t) {
                        QStringList in;
                        if (t > 0)
                            for (uint32_t u : s.step_units.row(static_cast<size_t>(t - 1)))
                                if (firstRead[u] == t - 1) in << QString::number(u);
                        want << QString::number(t) + ":" + in.join(',');
                        for (uint32_t u : s.step_units.row(static_cast<size_t>(t)))
                            if (firstRead[u] < 0) firstRead[u] = t;
                        QStringList moved;
                        for (const Move& mv : p.moves.row(static_cast<size_t>(t)))
                            moved << (mv.to == 0 ? "" : "-") + QString::number(mv.unit);
                        got << QString::number(t) + ":" + moved.join(',');
                    }
                    QCOMPARE(got.join(' '), want.join(' '));
                    for (uint8_t c : p.created_tier) QCOMPARE(int(c), 1);
                    continue;
                }
                QVERIFY(p.moves.items.empty());
                QCOMPARE(p.migrated_tokens, 0.0);
                for (uint8_t c : p.created_tier) QCOMPARE(int(c), 0);
            }
        }
    }

    // MODEL.md: no placement is faster than the balanced bound, at any step.
    void neverBelowTheBalancedBound_data() { rows(); }
    void neverBelowTheBalancedBound()
    {
        QFETCH(QString, policy);
        const PolicyEntry& e = entry(policy);
        for (uint64_t seed = 1; seed <= 8; ++seed) {
            const bool perLayer = seed % 3 == 0;
            const int32_t L = perLayer ? 3 : 1;
            const Selection sel = select(randomScoreTrace(seed, 16 + static_cast<int64_t>(seed), 18, L, perLayer),
                                         1 + static_cast<int64_t>(seed % 2), SelectionMode::Ratio, 0.25);
            Scenario sc;
            sc.model = {"m", perLayer ? L : 2, 128, 5000};
            sc.batch = 1 + static_cast<int64_t>(seed % 3);
            sc.inclusive = seed % 2 == 0;
            const double kvAll = static_cast<double>(sel.layout.totalUnits()) * static_cast<double>(sel.layout.page_tokens) *
                                 128.0 * (perLayer ? 1 : 2) * static_cast<double>(sc.batch);
            sc.hardware.tiers = {{"HBM", 5000 + kvAll * 0.1 * static_cast<double>(seed % 5), 1000 + 300.0 * static_cast<double>(seed),
                                  kNoLink, kNoLink, 0},
                                 {"DRAM", 2 * kvAll + 10000, 200, 150, 120, 0}};
            sc.selection = SelectionConfig{SelectionMode::Ratio, 0.25, 0, 0, sel.layout.page_tokens};
            TimingConfig tc;
            tc.model = sc.model;
            tc.hardware = sc.hardware;
            tc.batch = sc.batch;
            const CapacityPlan cap = planCapacity(sc, sel.layout);
            const BoundResult bal = balancedBound(sel, tc);
            for (const PolicyParams& prm : variants(e.info)) {
                const PlacementResult p = runPlacement(sel, e, prm, PlacementConfig{sc.inclusive, cap.units});
                const TimingResult r = computeTiming(sel, p, tc);
                for (size_t t = 0; t < r.step_time.size(); ++t)
                    QVERIFY2(r.step_time[t] >= bal.step_time[t] * (1 - 1e-9),
                             qPrintable(QString("seed %1 step %2: %3 < %4").arg(seed).arg(t).arg(r.step_time[t]).arg(bal.step_time[t])));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestPolicyProperties)
#include "tst_policy_properties.moc"
