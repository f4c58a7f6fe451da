// The score-based and cache policies (docs/POLICIES.md): quest, arkvale, lru, lfu, arc and
// belady, each on a case small enough to follow by hand (exact moves, per-tier token
// traffic, capacity), plus ARC's adaptation against a direct transcription of the paper,
// Belady's miss count against every online policy, no peeking for the online ones, and a
// randomised run of every rule the simulator checks.
#include "test_support.hpp"

#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/policies/policy_arc.hpp"

#include <QtTest>

#include <algorithm>
#include <deque>
#include <limits>
#include <random>
#include <sstream>

using namespace kvtier;

namespace {

// One step's read tokens with their scores; every other token scores 0. With the selection
// "mass 1" every token with a score is read and nothing else is.
using Reads = std::vector<std::pair<uint32_t, float>>;

Trace readsTrace(int64_t prefill, const std::vector<Reads>& steps)
{
    std::vector<std::vector<float>> rows;
    for (size_t t = 0; t < steps.size(); ++t) {
        std::vector<float> row(static_cast<size_t>(prefill) + t, 0.0f);
        for (const auto& [tok, s] : steps[t]) row[tok] = s;
        rows.push_back(row);
    }
    return test::denseTrace(prefill, rows);
}

SelectionConfig readAll(int64_t g = 1) { return {SelectionMode::Mass, 1.0, 0, 0, g}; }

PlacementResult place(const Selection& s, const std::string& name, const PolicyParams& params, int64_t cap0,
                      bool inclusive = false, int64_t cap1 = 1000)
{
    const PolicyEntry& e = findPolicy(name);
    return runPlacement(s, e, resolveParams(e.info, params, "test"), PlacementConfig{inclusive, {cap0, cap1}});
}

// Step t's moves: "e<u>" for each eviction, then "p<u>" for each promotion, ascending.
std::string moves(const PlacementResult& p, int64_t t)
{
    std::vector<uint32_t> ev, pr;
    for (const Move& m : p.moves.row(static_cast<size_t>(t))) (m.from == 0 ? ev : pr).push_back(m.unit);
    std::sort(ev.begin(), ev.end());
    std::sort(pr.begin(), pr.end());
    std::string out;
    for (uint32_t u : ev) out += (out.empty() ? "e" : " e") + std::to_string(u);
    for (uint32_t u : pr) out += (out.empty() ? "p" : " p") + std::to_string(u);
    return out;
}

// Step t's token traffic on tier m summed over slots: "kv=.. w=.. mr=.. mw=..".
std::string traffic(const PlacementResult& p, int64_t t, int32_t m)
{
    SlotTraffic sum;
    for (int32_t l = 0; l < p.layout.slot_count; ++l) {
        const SlotTraffic& s = p.at(static_cast<size_t>(t) * static_cast<size_t>(p.layout.slot_count) + static_cast<size_t>(l), m);
        sum.kv_read += s.kv_read + s.flex_read;
        sum.write += s.write;
        sum.mig_read += s.mig_read;
        sum.mig_write += s.mig_write;
    }
    std::ostringstream o;
    o << "kv=" << sum.kv_read << " w=" << sum.write << " mr=" << sum.mig_read << " mw=" << sum.mig_write;
    return o.str();
}

// Reads (unit, step) not served from tier 0.
int64_t misses(const Selection& s, const PlacementResult& p)
{
    int64_t n = 0;
    for (int64_t t = 0; t < s.layout.steps; ++t) {
        const auto loc = locationsAt(p, t);
        for (uint32_t u : s.step_units.row(static_cast<size_t>(t)))
            if (loc[u] != 0) ++n;
    }
    return n;
}

bool sameMoves(const PlacementResult& a, const PlacementResult& b, int64_t t)
{
    const auto ra = a.moves.row(static_cast<size_t>(t)), rb = b.moves.row(static_cast<size_t>(t));
    if (ra.size() != rb.size()) return false;
    for (size_t i = 0; i < ra.size(); ++i)
        if (ra[i].unit != rb[i].unit || ra[i].from != rb[i].from || ra[i].to != rb[i].to) return false;
    return true;
}

// Random dense score rows (some zeros), aggregated or per layer. Rows of steps >= `from`
// come from `seedAfter`, so two traces with the same seed differ only from step `from` on.
Trace randomTrace(uint32_t seed, int64_t prefill, int64_t steps, int32_t layers, bool perLayer,
                  int64_t from = -1, uint32_t seedAfter = 0)
{
    TraceMeta m;
    m.name = "random";
    m.prefill = prefill;
    m.steps = steps;
    m.layers = layers;
    m.layer_mode = perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    m.kind = RecordKind::Scores;
    Trace tr(m);
    std::mt19937 rng(seed), rngAfter(seedAfter);
    std::uniform_real_distribution<float> score(0.0f, 1.0f);
    for (int64_t t = 0; t < steps; ++t)
        for (int32_t l = 0; l < (perLayer ? layers : 1); ++l) {
            std::mt19937& g = (from >= 0 && t >= from) ? rngAfter : rng;
            Record r;
            r.step = t;
            r.layer = perLayer ? l : -1;
            for (int64_t i = 0; i < prefill + t; ++i) {
                const float s = score(g);
                if (s > 0.3f) {   // ~30% of tokens score 0
                    r.index.push_back(static_cast<uint32_t>(i));
                    r.value.push_back(s * s * s);
                }
            }
            tr.append(r);
        }
    return tr;
}

const std::vector<std::string> kMine = {"quest", "arkvale", "lru", "lfu", "arc", "belady"};
const std::vector<std::string> kMineOnline = {"quest", "arkvale", "lru", "lfu", "arc"};

// Brute-force transcriptions of docs/POLICIES.md for lru, lfu (decay 1, exact counts) and
// belady: every step re-derives tier 0 from scratch (sorting), no lazy structures. Each
// returns per step the moves in moves()'s format and the set of units created in tier 0.
struct RefRun {
    std::vector<std::string> moves;
    std::vector<uint8_t> createdFast;
};

std::string formatMoves(std::vector<uint32_t> ev, std::vector<uint32_t> pr)
{
    std::sort(ev.begin(), ev.end());
    std::sort(pr.begin(), pr.end());
    std::string out;
    for (uint32_t u : ev) out += (out.empty() ? "e" : " e") + std::to_string(u);
    for (uint32_t u : pr) out += (out.empty() ? "p" : " p") + std::to_string(u);
    return out;
}

std::vector<uint32_t> newUnitsAt(const UnitLayout& lay, int64_t t)
{
    std::vector<uint32_t> out;
    if (lay.newPageAt(t))
        for (int32_t l = 0; l < lay.slot_count; ++l) out.push_back(lay.unit(lay.pageOfNewToken(t), l));
    return out;
}

RefRun refLru(const Selection& s, int64_t cap)
{
    const UnitLayout& lay = s.layout;
    const auto total = static_cast<size_t>(lay.totalUnits());
    RefRun r;
    r.createdFast.assign(total, 0);
    std::vector<uint8_t> in(total, 0);
    std::vector<int64_t> lastUse(total, -2);
    for (int64_t u = 0; u < std::min(cap, lay.unitsBefore(0)); ++u) {
        in[size_t(u)] = 1;
        lastUse[size_t(u)] = -1;
        r.createdFast[size_t(u)] = 1;
    }
    for (int64_t t = 0; t < lay.steps; ++t) {
        std::vector<uint32_t> cand;
        for (size_t u = 0; u < total; ++u)
            if (in[u]) cand.push_back(uint32_t(u));
        if (t > 0)
            for (uint32_t u : s.step_units.row(size_t(t - 1))) {
                lastUse[u] = t - 1;
                if (!in[u]) cand.push_back(u);
            }
        const auto fresh = newUnitsAt(lay, t);
        for (uint32_t u : fresh) {
            lastUse[u] = t;
            cand.push_back(u);
        }
        std::sort(cand.begin(), cand.end(), [&](uint32_t a, uint32_t b) {
            return lastUse[a] > lastUse[b] || (lastUse[a] == lastUse[b] && a > b);
        });
        std::vector<uint8_t> keep(total, 0);
        for (size_t i = 0; i < cand.size() && int64_t(i) < cap; ++i) keep[cand[i]] = 1;
        std::vector<uint32_t> ev, pr;
        for (uint32_t u : cand) {
            const bool isNew = std::find(fresh.begin(), fresh.end(), u) != fresh.end();
            if (isNew) {
                if (keep[u]) r.createdFast[u] = 1;
            } else if (in[u] && !keep[u]) {
                ev.push_back(u);
            } else if (!in[u] && keep[u]) {
                pr.push_back(u);
            }
            in[u] = keep[u];
        }
        r.moves.push_back(formatMoves(ev, pr));
    }
    return r;
}

RefRun refLfu(const Selection& s, int64_t cap)
{
    const UnitLayout& lay = s.layout;
    const auto total = static_cast<size_t>(lay.totalUnits());
    RefRun r;
    r.createdFast.assign(total, 0);
    std::vector<uint8_t> in(total, 0);
    std::vector<int64_t> f(total, 0);
    for (int64_t u = 0; u < std::min(cap, lay.unitsBefore(0)); ++u) {
        in[size_t(u)] = 1;
        r.createdFast[size_t(u)] = 1;
    }
    int64_t count = std::min(cap, lay.unitsBefore(0));
    std::vector<uint32_t> misses;
    for (int64_t t = 0; t < lay.steps; ++t) {
        std::vector<uint32_t> ev, pr;
        std::vector<uint8_t> arrived(total, 0);
        auto leastResident = [&]() {   // among residents that were there before this step
            int64_t best = -1;
            for (size_t u = 0; u < total; ++u)
                if (in[u] && !arrived[u] && (best < 0 || f[u] < f[size_t(best)])) best = int64_t(u);
            return best;
        };
        for (uint32_t u : newUnitsAt(lay, t)) {
            f[u] = 1;
            if (count == cap) {
                const int64_t v = leastResident();
                if (v < 0) continue;
                in[size_t(v)] = 0;
                ev.push_back(uint32_t(v));
                --count;
            }
            in[u] = 1;
            arrived[u] = 1;
            r.createdFast[u] = 1;
            ++count;
        }
        std::sort(misses.begin(), misses.end(), [&](uint32_t a, uint32_t b) { return f[a] > f[b] || (f[a] == f[b] && a > b); });
        for (uint32_t u : misses) {
            if (count == cap) {
                const int64_t v = leastResident();
                if (v < 0 || f[u] < f[size_t(v)]) break;
                in[size_t(v)] = 0;
                ev.push_back(uint32_t(v));
                --count;
            }
            in[u] = 1;
            arrived[u] = 1;
            pr.push_back(u);
            ++count;
        }
        r.moves.push_back(formatMoves(ev, pr));
        misses.clear();
        for (uint32_t u : s.step_units.row(size_t(t))) {
            ++f[u];
            if (!in[u]) misses.push_back(u);
        }
    }
    return r;
}

// maxHits: belady's max-hits variant (a miss's next use counts as t); else bypass (its next
// use after t).
RefRun refBelady(const Selection& s, int64_t cap, bool maxHits)
{
    const UnitLayout& lay = s.layout;
    const auto total = static_cast<size_t>(lay.totalUnits());
    const int64_t never = std::numeric_limits<int64_t>::max();
    auto nextUse = [&](uint32_t u, int64_t from) {   // first step >= from reading u
        for (int64_t t = from; t < lay.steps; ++t) {
            const auto row = s.step_units.row(size_t(t));
            if (std::binary_search(row.begin(), row.end(), u)) return t;
        }
        return never;
    };
    RefRun r;
    r.createdFast.assign(total, 0);
    std::vector<uint8_t> in(total, 0);
    std::vector<uint32_t> pre(static_cast<size_t>(lay.unitsBefore(0)));
    for (size_t u = 0; u < pre.size(); ++u) pre[u] = uint32_t(u);
    std::stable_sort(pre.begin(), pre.end(), [&](uint32_t a, uint32_t b) { return nextUse(a, 0) < nextUse(b, 0); });
    int64_t count = 0;
    for (uint32_t u : pre)
        if (count < cap) {
            in[u] = 1;
            r.createdFast[u] = 1;
            ++count;
        }
    for (int64_t t = 0; t < lay.steps; ++t) {
        std::vector<uint32_t> ev, pr;
        auto furthest = [&]() {
            int64_t best = -1, bestUse = -1;
            for (size_t u = 0; u < total; ++u)
                if (in[u]) {
                    const int64_t nu = nextUse(uint32_t(u), t);
                    if (nu >= bestUse) best = int64_t(u), bestUse = nu;   // ties: the higher id
                }
            return std::make_pair(best, bestUse);
        };
        std::vector<uint32_t> miss;
        for (uint32_t u : s.step_units.row(size_t(t)))
            if (!in[u]) miss.push_back(u);
        std::stable_sort(miss.begin(), miss.end(), [&](uint32_t a, uint32_t b) { return nextUse(a, t + 1) < nextUse(b, t + 1); });
        for (uint32_t u : miss) {
            if (count == cap) {
                const auto [v, vUse] = furthest();
                const int64_t use = maxHits ? t : nextUse(u, t + 1);
                if (v < 0 || !(use < vUse)) break;
                in[size_t(v)] = 0;
                ev.push_back(uint32_t(v));
                --count;
            }
            in[u] = 1;
            pr.push_back(u);
            ++count;
        }
        std::vector<uint32_t> admitted;
        for (uint32_t u : newUnitsAt(lay, t)) {
            if (count == cap) {
                const auto [v, vUse] = furthest();
                if (v < 0 || !(nextUse(u, t + 1) < vUse)) continue;
                in[size_t(v)] = 0;
                ev.push_back(uint32_t(v));
                --count;
            }
            admitted.push_back(u);
            r.createdFast[u] = 1;
            ++count;
        }
        for (uint32_t u : admitted) in[u] = 1;
        r.moves.push_back(formatMoves(ev, pr));
    }
    return r;
}

// ARC as printed in the paper (Figure 4), on deques (front = LRU): the reference for ArcLists.
struct RefArc {
    int64_t c = 0;
    double p = 0;
    std::deque<uint32_t> T1, T2, B1, B2;

    static bool take(std::deque<uint32_t>& d, uint32_t x)
    {
        const auto it = std::find(d.begin(), d.end(), x);
        if (it == d.end()) return false;
        d.erase(it);
        return true;
    }
    void replace(bool xInB2)
    {
        const auto t1 = static_cast<double>(T1.size());
        if (!T1.empty() && ((xInB2 && t1 == p) || t1 > p)) {
            B1.push_back(T1.front());
            T1.pop_front();
        } else {
            B2.push_back(T2.front());
            T2.pop_front();
        }
    }
    void access(uint32_t x)
    {
        const auto cd = static_cast<double>(c);
        const auto b1 = static_cast<double>(B1.size()), b2 = static_cast<double>(B2.size());
        if (take(T1, x) || take(T2, x)) {
            T2.push_back(x);
        } else if (std::find(B1.begin(), B1.end(), x) != B1.end()) {
            p = std::min(cd, p + std::max(b2 / b1, 1.0));
            replace(false);
            take(B1, x);
            T2.push_back(x);
        } else if (std::find(B2.begin(), B2.end(), x) != B2.end()) {
            p = std::max(0.0, p - std::max(b1 / b2, 1.0));
            replace(true);
            take(B2, x);
            T2.push_back(x);
        } else {
            const auto l1 = static_cast<int64_t>(T1.size() + B1.size());
            if (l1 == c) {
                if (static_cast<int64_t>(T1.size()) < c) {
                    B1.pop_front();
                    replace(false);
                } else {
                    T1.pop_front();
                }
            } else {
                const auto total = static_cast<int64_t>(T1.size() + T2.size() + B1.size() + B2.size());
                if (total >= c) {
                    if (total == 2 * c) B2.pop_front();
                    replace(false);
                }
            }
            T1.push_back(x);
        }
    }
};

std::vector<uint32_t> asVector(const std::deque<uint32_t>& d) { return {d.begin(), d.end()}; }

} // namespace

#define COMPARE_STR(actual, expected) QCOMPARE(QString::fromStdString(actual), QStringLiteral(expected))

class TestPoliciesB : public QObject {
    Q_OBJECT

private slots:
    void registryListsThemWithParams()
    {
        for (const auto& name : kMine) {
            const PolicyEntry& e = findPolicy(name);
            QCOMPARE(e.info.online, name != "belady");
            QVERIFY(!e.info.label.empty());
            QVERIFY(!e.info.description.empty());
            for (const auto& spec : e.info.params) {
                QVERIFY(spec.min <= spec.def && spec.def <= spec.max);
                QVERIFY(!spec.help.empty());
            }
        }
        QCOMPARE(findPolicy("quest").info.params.size(), size_t(2));
        QCOMPARE(findPolicy("arkvale").info.params.size(), size_t(3));
        QCOMPARE(findPolicy("lfu").info.params.size(), size_t(2));
        // Mine come in this order, after the ones registered before them.
        std::vector<std::string> order;
        for (const auto& e : policyRegistry())
            if (std::find(kMine.begin(), kMine.end(), e.info.name) != kMine.end()) order.push_back(e.info.name);
        QVERIFY(order == kMine);
        // ... and after the baselines and window/score policies, where those are registered.
        auto index = [](const std::string& name) {
            const auto& all = policyRegistry();
            for (size_t i = 0; i < all.size(); ++i)
                if (all[i].info.name == name) return static_cast<int>(i);
            return -1;
        };
        for (const char* other : {"first-fit", "reactive", "page", "look-ahead", "windowed-look-ahead",
                                  "sinks-window", "h2o", "tova"})
            QVERIFY2(index(other) < index("quest"), other);
    }

    // P = 4, capacity 3 units, g = 1. Recency key (last use, id); new units count as used.
    void lruByHand()
    {
        const Selection s = computeSelection(readsTrace(4, {{{0, 1}, {3, 1}}, {{3, 1}, {4, 1}}, {{0, 1}, {5, 1}}}),
                                             readAll());
        const PlacementResult p = place(s, "lru", {}, 3);
        // t0: nothing read yet; new unit 4 (just used) pushes out the oldest prefill unit 0.
        COMPARE_STR(moves(p, 0), "e0");
        COMPARE_STR(traffic(p, 0, 0), "kv=0 w=1 mr=1 mw=0");
        COMPARE_STR(traffic(p, 0, 1), "kv=2 w=0 mr=0 mw=1");
        // t1: ranking 5 (new) > 4 (new at t0) > 3 (read at t0, a miss: promoted) > 0 > 1, 2.
        COMPARE_STR(moves(p, 1), "e1 e2 p3");
        COMPARE_STR(traffic(p, 1, 0), "kv=2 w=1 mr=2 mw=1");
        COMPARE_STR(traffic(p, 1, 1), "kv=0 w=0 mr=1 mw=2");
        // t2: 6 > 5 > 4 (read at t1) > 3: unit 3 leaves although read at t1.
        COMPARE_STR(moves(p, 2), "e3");
        COMPARE_STR(traffic(p, 2, 0), "kv=1 w=1 mr=1 mw=0");
        COMPARE_STR(traffic(p, 2, 1), "kv=1 w=0 mr=0 mw=1");
        QCOMPARE(p.fast_units, (std::vector<int64_t>{2, 2, 2}));
        for (uint32_t u = 4; u <= 6; ++u) QCOMPARE(int(p.created_tier[u]), 0);
    }

    // P = 4, capacity 2, plain LFU, new units not admitted.
    void lfuByHand()
    {
        const Selection s = computeSelection(
            readsTrace(4, {{{2, 1}, {3, 1}}, {{2, 1}}, {{0, 1}, {4, 1}}, {{1, 1}}}), readAll());
        const PlacementResult p = place(s, "lfu", {{"decay", 1}, {"admit_new", 0}}, 2);
        COMPARE_STR(moves(p, 0), "");
        // t1: misses 3 (f=1) and 2 (f=1) beat residents 0 and 1 (f=0).
        COMPARE_STR(moves(p, 1), "e0 e1 p2 p3");
        COMPARE_STR(traffic(p, 1, 0), "kv=1 w=0 mr=2 mw=2");
        COMPARE_STR(traffic(p, 1, 1), "kv=0 w=1 mr=2 mw=2");
        COMPARE_STR(moves(p, 2), "");
        // t3: misses 4 and 0 (f=1); residents 2 (f=2) and 3 (f=1). 4 >= 3 swaps in (ties
        // promote); then 0 < 2: bypass.
        COMPARE_STR(moves(p, 3), "e3 p4");
        COMPARE_STR(traffic(p, 3, 0), "kv=0 w=0 mr=1 mw=1");
        COMPARE_STR(traffic(p, 3, 1), "kv=1 w=1 mr=1 mw=1");
        for (uint32_t u = 4; u <= 7; ++u) QCOMPARE(int(p.created_tier[u]), 1);
        QCOMPARE(p.fast_units, (std::vector<int64_t>{2, 2, 2, 2}));
    }

    void lfuDecayForgets_data()
    {
        QTest::addColumn<double>("decay");
        QTest::addColumn<QString>("lastStep");
        QTest::newRow("plain") << 1.0 << "";          // f1 = 2 > f2 = 1: bypass
        QTest::newRow("decay 0.5") << 0.5 << "e1 p2";   // f1 = 0.75 < f2 = 1
    }
    void lfuDecayForgets()
    {
        QFETCH(double, decay);
        QFETCH(QString, lastStep);
        const Selection s = computeSelection(readsTrace(4, {{{1, 1}}, {{1, 1}}, {{2, 1}}, {{3, 1}}}), readAll());
        const PlacementResult p = place(s, "lfu", {{"decay", decay}, {"admit_new", 0}}, 1);
        COMPARE_STR(moves(p, 1), "e0 p1");
        COMPARE_STR(moves(p, 2), "");
        QCOMPARE(QString::fromStdString(moves(p, 3)), lastStep);
    }

    void lfuAdmitsNewUnitsWithFrequencyOne()
    {
        const Selection s = computeSelection(readsTrace(2, {{{0, 1}}, {{1, 1}}}), readAll());
        const PlacementResult p = place(s, "lfu", {{"decay", 1}}, 2);
        // t0: new unit 2 (f=1) evicts 0 (f=0, lower id than 1).
        COMPARE_STR(moves(p, 0), "e0");
        QCOMPARE(int(p.created_tier[2]), 0);
        // t1: new unit 3 evicts 1 (f=0); miss 0 (f=1) >= resident 2 (f=1): swapped in.
        COMPARE_STR(moves(p, 1), "e1 e2 p0");
        QCOMPARE(int(p.created_tier[3]), 0);
        COMPARE_STR(traffic(p, 1, 0), "kv=0 w=1 mr=2 mw=1");
        COMPARE_STR(traffic(p, 1, 1), "kv=1 w=0 mr=1 mw=2");
    }

    // LFU never gives up a unit that arrived in tier 0 at the same step: new units are
    // admitted first and a miss cannot displace them, nor a unit promoted before it in that
    // step; with only such units left in tier 0, the remaining misses are read where they are.
    void lfuNeverDisplacesThisStepsArrivals()
    {
        // P = 2, capacity 1, plain LFU. t0: new unit 2 evicts 0; t0 reads 1 from tier 1 (f=1).
        // t1: new unit 3 (f=1) evicts 2 and is admitted; miss 1 (f=1) ties with 3 but 3 arrived
        // this step, so 1 stays in tier 1.
        const Selection a = computeSelection(readsTrace(2, {{{1, 1}}, {{1, 1}}}), readAll());
        const PlacementResult p = place(a, "lfu", {{"decay", 1}}, 1);
        COMPARE_STR(moves(p, 0), "e0");
        COMPARE_STR(moves(p, 1), "e2");
        QCOMPARE(int(p.created_tier[3]), 0);
        COMPARE_STR(traffic(p, 1, 0), "kv=0 w=1 mr=1 mw=0");
        COMPARE_STR(traffic(p, 1, 1), "kv=1 w=0 mr=0 mw=1");
        // P = 3, capacity 1, new units not admitted: t0 misses 1 and 2 (f=1 each). t1: 2 first
        // (ties: higher id) evicts 0; 1 finds only 2, promoted this step, and stays out.
        const Selection b = computeSelection(readsTrace(3, {{{1, 1}, {2, 1}}, {}}), readAll());
        const PlacementResult q = place(b, "lfu", {{"decay", 1}, {"admit_new", 0}}, 1);
        COMPARE_STR(moves(q, 0), "");
        COMPARE_STR(moves(q, 1), "e0 p2");
    }

    // The paper's Figure 4 by hand, c = 2, including ghost hits in B1 and B2.
    void arcListsByHand()
    {
        ArcLists a(16, 2);
        const std::vector<uint32_t> seq = {0, 1, 0, 2, 1, 0, 3, 2, 4, 0};
        const std::vector<double> p = {0, 0, 0, 0, 1, 0, 0, 1, 1, 0};
        const std::vector<bool> hit = {false, false, true, false, false, false, false, false, false, false};
        for (size_t i = 0; i < seq.size(); ++i) {
            QCOMPARE(a.access(seq[i]), bool(hit[i]));
            QCOMPARE(a.p(), p[i]);
            if (i == 4) {   // 1 was a ghost in B1: p grows, T2's LRU (0) goes to B2
                QCOMPARE(a.contents(ArcLists::T1), std::vector<uint32_t>{2});
                QCOMPARE(a.contents(ArcLists::T2), std::vector<uint32_t>{1});
                QCOMPARE(a.contents(ArcLists::B2), std::vector<uint32_t>{0});
            }
            if (i == 5) {   // 0 was a ghost in B2: p shrinks, T1's LRU (2) goes to B1
                QCOMPARE(a.contents(ArcLists::T1), std::vector<uint32_t>{});
                QCOMPARE(a.contents(ArcLists::T2), (std::vector<uint32_t>{1, 0}));
                QCOMPARE(a.contents(ArcLists::B1), std::vector<uint32_t>{2});
            }
        }
        QCOMPARE(a.contents(ArcLists::T1), std::vector<uint32_t>{4});
        QCOMPARE(a.contents(ArcLists::T2), std::vector<uint32_t>{0});
        QCOMPARE(a.contents(ArcLists::B1), std::vector<uint32_t>{3});
        QCOMPARE(a.contents(ArcLists::B2), std::vector<uint32_t>{2});
    }

    // ArcLists against the paper transcribed on deques, on random request streams; the
    // streams must exercise both ghost lists and adaptation steps other than 1.
    void arcListsMatchThePaper()
    {
        int ghostB1 = 0, ghostB2 = 0, bigSteps = 0;
        for (uint32_t seed = 1; seed <= 40; ++seed) {
            std::mt19937 rng(seed);
            const int64_t c = 1 + seed % 5;
            const auto ids = static_cast<uint32_t>(2 * c + 3 + seed % 4);
            ArcLists a(ids, c);
            RefArc r;
            r.c = c;
            std::uniform_int_distribution<uint32_t> pick(0, ids - 1), hot(0, static_cast<uint32_t>(c));
            for (int i = 0; i < 400; ++i) {
                const uint32_t x = (rng() % 3 == 0) ? hot(rng) : pick(rng);
                const uint8_t before = a.where(x);
                const double p0 = a.p();
                a.access(x);
                r.access(x);
                ghostB1 += before == ArcLists::B1;
                ghostB2 += before == ArcLists::B2;
                const double dp = std::abs(a.p() - p0);
                bigSteps += dp > 1 || (dp > 0 && dp < 1 && a.p() != 0 && a.p() != double(c));
                QCOMPARE(a.p(), r.p);
                QCOMPARE(a.contents(ArcLists::T1), asVector(r.T1));
                QCOMPARE(a.contents(ArcLists::T2), asVector(r.T2));
                QCOMPARE(a.contents(ArcLists::B1), asVector(r.B1));
                QCOMPARE(a.contents(ArcLists::B2), asVector(r.B2));
                QVERIFY(int64_t(a.size(ArcLists::T1) + a.size(ArcLists::T2)) <= c);
            }
        }
        QVERIFY(ghostB1 > 50);
        QVERIFY(ghostB2 > 50);
        QVERIFY(bigSteps > 0);
    }

    // P = 4, capacity 2; requests at step t: step t-1's reads, then step t's new unit.
    void arcByHand()
    {
        const Selection s = computeSelection(
            readsTrace(4, {{{1, 1}}, {{4, 1}}, {{1, 1}}, {{4, 1}, {6, 1}}, {{0, 1}}}), readAll());
        const PlacementResult p = place(s, "arc", {}, 2);
        // The same requests on the directory alone, to follow p.
        ArcLists a(16, 2);
        a.seed(0);
        a.seed(1);
        const std::vector<std::vector<uint32_t>> requests = {{4}, {1, 5}, {4, 6}, {1, 7}, {4, 6, 8}};
        const std::vector<double> pAfter = {0, 0, 1, 0, 1};
        for (size_t t = 0; t < requests.size(); ++t) {
            for (uint32_t x : requests[t]) a.access(x);
            QCOMPARE(a.p(), pAfter[t]);
        }
        // t0: T1 = [0 1] full, new 4 is case IV with |T1| = c: 0 leaves without a ghost.
        COMPARE_STR(moves(p, 0), "e0");
        // t1: 1 hit -> T2; new 5: REPLACE takes T1's LRU 4 to B1.
        COMPARE_STR(moves(p, 1), "e4");
        // t2: 4 is a ghost hit in B1 (p = 1): T2's LRU 1 goes to B2 and 4 to T2; new 6:
        // REPLACE with |T1| = p takes T2's LRU, i.e. 4 again: 4 never moves.
        COMPARE_STR(moves(p, 2), "e1");
        // t3: 1 is a ghost hit in B2 (p = 0): T1's LRU 5 to B1, 1 comes back; new 7 (|T1| +
        // |B1| = c): B1's LRU 5 forgotten, T1's LRU 6 to B1.
        COMPARE_STR(moves(p, 3), "e5 e6 p1");
        COMPARE_STR(traffic(p, 3, 0), "kv=0 w=1 mr=2 mw=1");
        COMPARE_STR(traffic(p, 3, 1), "kv=2 w=0 mr=1 mw=2");
        // t4: 4 in B2 (p stays 0): 7 to B1, 4 to T2; 6 in B1 (p = 1): T2's LRU 1 to B2, 6 to
        // T2; new 8: directory full (2c), B2's LRU 1 forgotten, T2's LRU 4 to B2.
        COMPARE_STR(moves(p, 4), "e1 e7 p6");
        for (uint32_t u = 4; u <= 8; ++u) QCOMPARE(int(p.created_tier[u]), 0);
        QCOMPARE(p.fast_units, (std::vector<int64_t>{1, 1, 1, 1, 1}));
    }

    // P = 8, capacity 5, blocks of 2 tokens (g = 1).
    void questByHand()
    {
        const Selection s = computeSelection(readsTrace(8, {{{0, 0.1f}, {5, 0.9f}},
                                                            {{2, 0.5f}, {4, 0.8f}},
                                                            {{2, 0.7f}, {9, 0.3f}},
                                                            {{0, 0.6f}}}),
                                             readAll());
        const PlacementResult p = place(s, "quest", {{"block_tokens", 2}}, 5);
        // t0: no scores yet; new unit 8 needs room: the lowest block (all 0, lowest id) is
        // block 0 = units {0, 1}.
        COMPARE_STR(moves(p, 0), "e0 e1");
        COMPARE_STR(traffic(p, 0, 0), "kv=0 w=1 mr=2 mw=0");
        COMPARE_STR(traffic(p, 0, 1), "kv=2 w=0 mr=0 mw=2");
        // t1: 9 takes the free unit; block 2 (0.9) misses unit 5 and displaces block 1 (0);
        // block 0 (0.1) finds nothing lower to displace (block 4 holds a new unit).
        COMPARE_STR(moves(p, 1), "e2 e3 p5");
        COMPARE_STR(traffic(p, 1, 0), "kv=1 w=1 mr=2 mw=1");
        COMPARE_STR(traffic(p, 1, 1), "kv=1 w=0 mr=1 mw=2");
        // t2: block 1 (0.5) would need block 2 (0.8) out: no swap.
        COMPARE_STR(moves(p, 2), "");
        COMPARE_STR(traffic(p, 2, 0), "kv=1 w=1 mr=0 mw=0");
        COMPARE_STR(traffic(p, 2, 1), "kv=1 w=0 mr=0 mw=0");
        // t3: new unit 11 evicts block 2 (score 0 now); block 1 (0.7) displaces block 4 (0.3),
        // skipping block 5, which holds new units.
        COMPARE_STR(moves(p, 3), "e4 e5 e8 e9 p2 p3");
        COMPARE_STR(traffic(p, 3, 0), "kv=0 w=1 mr=4 mw=2");
        COMPARE_STR(traffic(p, 3, 1), "kv=1 w=0 mr=2 mw=4");
        QCOMPARE(p.fast_units, (std::vector<int64_t>{3, 3, 4, 3}));
        for (uint32_t u = 8; u <= 11; ++u) QCOMPARE(int(p.created_tier[u]), 0);
    }

    void questSwapLimit_data()
    {
        QTest::addColumn<double>("limit");
        QTest::addColumn<QString>("expected");
        QTest::newRow("one block") << 1.0 << "e2 e3 p0 p1";
        QTest::newRow("unlimited") << 0.0 << "e2 e3 e4 e5 p0 p1 p6 p7";
        QTest::newRow("default") << 32.0 << "e2 e3 e4 e5 p0 p1 p6 p7";
    }
    void questSwapLimit()
    {
        QFETCH(double, limit);
        QFETCH(QString, expected);
        const Selection s = computeSelection(readsTrace(8, {{{0, 0.9f}, {6, 0.8f}}, {}}), readAll());
        const PlacementResult p = place(s, "quest", {{"block_tokens", 2}, {"max_swaps_per_step", limit}}, 6);
        COMPARE_STR(moves(p, 0), "e0 e1");
        // t1: block 0 (0.9) replaces block 1, then block 3 (0.8) replaces block 2.
        QCOMPARE(QString::fromStdString(moves(p, 1)), expected);
    }

    // P = 4, capacity 3, ema 0.5: e <- 0.5 e + 0.5 score_sum.
    void arkvaleByHand_data()
    {
        QTest::addColumn<double>("margin");
        QTest::addColumn<QString>("step2");
        QTest::newRow("margin 1.2") << 1.2 << "e1 e4 p3";   // e3 = 0.5 > 1.2 * e1 = 0.18
        QTest::newRow("margin 4") << 4.0 << "e4";           // 0.5 < 4 * 0.15
    }
    void arkvaleByHand()
    {
        QFETCH(double, margin);
        QFETCH(QString, step2);
        const Selection s = computeSelection(readsTrace(4, {{{1, 0.6f}, {3, 0.4f}},
                                                            {{3, 0.8f}, {4, 0.2f}},
                                                            {{1, 0.1f}, {3, 0.5f}},
                                                            {{0, 1.0f}}}),
                                             readAll());
        const PlacementResult p = place(s, "arkvale", {{"recall_margin", margin}}, 3);
        // t0: new 4 evicts the lowest (all 0, lowest id 0).
        COMPARE_STR(moves(p, 0), "e0");
        // t1: e1 = 0.3, e2 = 0, e3 = 0.2 (slow); 4 is new (not yet observed): new 5 evicts 2;
        // 3 is not recalled (0.2 <= 1.2 * 0.3).
        COMPARE_STR(moves(p, 1), "e2");
        COMPARE_STR(traffic(p, 1, 0), "kv=1 w=1 mr=1 mw=0");
        COMPARE_STR(traffic(p, 1, 1), "kv=1 w=0 mr=0 mw=1");
        // t2: e1 = 0.15, e3 = 0.5, e4 = 0.1, e5 unobserved: new 6 evicts 4; recall 3 over 1.
        QCOMPARE(QString::fromStdString(moves(p, 2)), step2);
        if (margin == 1.2) {
            COMPARE_STR(traffic(p, 2, 0), "kv=1 w=1 mr=2 mw=1");
            COMPARE_STR(traffic(p, 2, 1), "kv=1 w=0 mr=1 mw=2");
            // t3: e3 = 0.5, e5 = 0 (observed now), e1 = 0.125 slow: 7 evicts 5; no recall.
            COMPARE_STR(moves(p, 3), "e5");
        }
        for (uint32_t u = 4; u <= 7; ++u) QCOMPARE(int(p.created_tier[u]), 0);
    }

    // P = 6, capacity 4: units 4 and 5 score at t0, 5 again (a little) at t2.
    void arkvaleRecallLimitAndEma_data()
    {
        QTest::addColumn<double>("ema");
        QTest::addColumn<double>("limit");
        QTest::addColumn<QString>("step1");
        QTest::addColumn<QString>("step2");
        QTest::addColumn<QString>("step3");
        // t1: new 7 evicts 1; 4 (0.9) is recalled over 2 (0), then 5 (0.8) over 3 if allowed.
        // t2: new 8 evicts the lowest resident; a slow unit not scored at t1 is not recalled.
        // t3: 5 (scored at t2) comes back over the lowest resident.
        QTest::newRow("ema 0, one per step") << 0.0 << 1.0 << "e1 e2 p4" << "e3" << "e4 e6 p5";
        QTest::newRow("ema 0, unlimited") << 0.0 << 0.0 << "e1 e2 e3 p4 p5" << "e4" << "e6";
        // ema 0.5: 4 keeps a score (0.225) and stays; 6 and 7 (observed, score 0) go.
        QTest::newRow("ema 0.5, one per step") << 0.5 << 1.0 << "e1 e2 p4" << "e3" << "e6 e7 p5";
    }
    void arkvaleRecallLimitAndEma()
    {
        QFETCH(double, ema);
        QFETCH(double, limit);
        QFETCH(QString, step1);
        QFETCH(QString, step2);
        QFETCH(QString, step3);
        const Selection s =
            computeSelection(readsTrace(6, {{{4, 0.9f}, {5, 0.8f}}, {}, {{5, 0.1f}}, {}}), readAll());
        const PlacementResult p = place(s, "arkvale", {{"ema", ema}, {"max_recalls_per_step", limit}}, 4);
        COMPARE_STR(moves(p, 0), "e0");
        QCOMPARE(QString::fromStdString(moves(p, 1)), step1);
        QCOMPARE(QString::fromStdString(moves(p, 2)), step2);
        QCOMPARE(QString::fromStdString(moves(p, 3)), step3);
    }

    // P = 4, capacity 2. The two variants differ from t1 on.
    void beladyByHand_data()
    {
        QTest::addColumn<bool>("maxHits");
        QTest::newRow("bypass (default)") << false;
        QTest::newRow("max-hits") << true;
    }
    void beladyByHand()
    {
        QFETCH(bool, maxHits);
        const Selection s = computeSelection(
            readsTrace(4, {{{0, 1}, {2, 1}}, {{1, 1}, {3, 1}}, {{0, 1}, {4, 1}}, {{2, 1}, {3, 1}}}), readAll());
        const PlacementResult p = place(s, "belady", maxHits ? PolicyParams{{"variant", 1}} : PolicyParams{}, 2);
        // Prefill: the units used soonest (0 and 2, at t0).
        QCOMPARE(int(p.created_tier[0]), 0);
        QCOMPARE(int(p.created_tier[1]), 1);
        QCOMPARE(int(p.created_tier[2]), 0);
        QCOMPARE(int(p.created_tier[3]), 1);
        // New units are never needed sooner than a resident that is not read at their step.
        for (uint32_t u = 4; u <= 7; ++u) QCOMPARE(int(p.created_tier[u]), 1);
        COMPARE_STR(moves(p, 0), "");
        if (maxHits) {
            // t1: misses 3 (next 3) then 1 (never); furthest residents 2 (3) then 0 (2).
            COMPARE_STR(moves(p, 1), "e0 e2 p1 p3");
            COMPARE_STR(traffic(p, 1, 0), "kv=2 w=0 mr=2 mw=2");
            COMPARE_STR(traffic(p, 1, 1), "kv=0 w=1 mr=2 mw=2");
            // t2: 0 then 4 (both never again, lower id first) replace 1 (never) and 3 (t3).
            COMPARE_STR(moves(p, 2), "e1 e3 p0 p4");
            // t3: 2 and 3 replace 4 and 0 (both never again: higher id first).
            COMPARE_STR(moves(p, 3), "e0 e4 p2 p3");
            QCOMPARE(misses(s, p), int64_t(0));
        } else {
            // Nothing read at t1..t3 is needed again sooner than a resident (t1: 3 is next read
            // at t3, the furthest resident 2 also at t3; 1 never again).
            for (int64_t t = 1; t < 4; ++t) COMPARE_STR(moves(p, t), "");
            QCOMPARE(misses(s, p), int64_t(4));
        }
    }

    // Belady's max-hits variant serves min(reads, capacity) reads of every step from tier 0,
    // which no placement can beat, so its misses are <= every online policy's. (The default
    // bypass variant minimises fetches, not misses, and is not held to this.)
    void beladyHasFewestMisses()
    {
        std::vector<const PolicyEntry*> online;
        for (const auto& e : policyRegistry())
            if (e.info.online) online.push_back(&e);
        QVERIFY(online.size() >= 6);
        for (uint32_t seed = 1; seed <= 50; ++seed) {
            std::mt19937 rng(seed * 7919u);
            const auto P = static_cast<int64_t>(4 + rng() % 7);
            const int64_t T = 12;
            const auto K = static_cast<double>(1 + rng() % 4);
            const auto cap = static_cast<int64_t>(1 + rng() % 4);
            const Selection s = computeSelection(randomTrace(seed, P, T, 1, false), {SelectionMode::TopK, K, 0, 0, 1});
            const PlacementResult b = place(s, "belady", {{"variant", 1}}, cap);
            int64_t bound = 0;
            for (int64_t t = 0; t < T; ++t)
                bound += std::max<int64_t>(0, static_cast<int64_t>(s.step_units.row(static_cast<size_t>(t)).size()) - cap);
            const int64_t mb = misses(s, b);
            QCOMPARE(mb, bound);
            for (const PolicyEntry* e : online) {
                const PlacementResult o =
                    runPlacement(s, *e, resolveParams(e->info, {}, "test"), PlacementConfig{false, {cap, 1000}});
                const int64_t mo = misses(s, o);
                if (mb > mo)
                    QFAIL(qPrintable(QString("seed %1: belady %2 misses, %3 %4")
                                         .arg(seed).arg(mb).arg(QString::fromStdString(e->info.name)).arg(mo)));
            }
        }
    }

    // lru, lfu (plain) and belady against the brute-force transcriptions above.
    void matchBruteForce_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("lru") << "lru";
        QTest::newRow("lfu") << "lfu";
        QTest::newRow("belady") << "belady";
        QTest::newRow("belady max-hits") << "belady max-hits";
    }
    void matchBruteForce()
    {
        QFETCH(QString, name);
        for (uint32_t seed = 1; seed <= 40; ++seed) {
            std::mt19937 rng(seed * 31u);
            const auto P = static_cast<int64_t>(3 + rng() % 10);
            const int64_t T = 20;
            const bool perLayer = seed % 3 == 0;
            const auto g = static_cast<int64_t>(1 + rng() % 2);
            const Selection s = computeSelection(randomTrace(seed + 500, P, T, 2, perLayer),
                                                 {SelectionMode::TopK, double(1 + rng() % 4), 0, 0, g});
            const auto cap = static_cast<int64_t>(rng() % 7);
            const bool maxHits = name == "belady max-hits";
            const PolicyParams params = name == "lfu" ? PolicyParams{{"decay", 1}}
                                        : maxHits     ? PolicyParams{{"variant", 1}}
                                                      : PolicyParams{};
            const PlacementResult p = place(s, name.section(' ', 0, 0).toStdString(), params, cap);
            const RefRun ref = name == "lru"   ? refLru(s, cap)
                               : name == "lfu" ? refLfu(s, cap)
                                               : refBelady(s, cap, maxHits);
            for (int64_t t = 0; t < T; ++t)
                QVERIFY2(moves(p, t) == ref.moves[size_t(t)],
                         qPrintable(QString("seed %1 cap %2 step %3: %4 vs reference %5")
                                        .arg(seed).arg(cap).arg(t)
                                        .arg(QString::fromStdString(moves(p, t)), QString::fromStdString(ref.moves[size_t(t)]))));
            for (size_t u = 0; u < ref.createdFast.size(); ++u)
                QCOMPARE(p.created_tier[u] == 0, ref.createdFast[u] == 1);
        }
    }

    // Long runs with strong decay renormalise the lazy scales several times (every ~60
    // steps here); every rule must still hold and runs stay deterministic.
    void decayScalesRenormalise()
    {
        const Selection s = computeSelection(randomTrace(77, 12, 400, 1, false), {SelectionMode::TopK, 3, 0, 0, 1});
        for (const auto& [name, params] : std::vector<std::pair<std::string, PolicyParams>>{
                 {"arkvale", {{"ema", 0.01}}}, {"lfu", {{"decay", 0.01}}}}) {
            const PlacementResult p = place(s, name, params, 5);
            for (int64_t f : p.fast_units) QVERIFY(f <= 5);
            const PlacementResult again = place(s, name, params, 5);
            for (int64_t t = 0; t < 400; ++t) QVERIFY(sameMoves(p, again, t));
        }
    }

    // An online policy decides step t from steps < t: two traces equal before step k give
    // the same moves at steps 0..k and the same creation tiers up to step k.
    void onlinePoliciesDoNotPeek_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto& n : kMineOnline) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void onlinePoliciesDoNotPeek()
    {
        QFETCH(QString, name);
        for (uint32_t seed = 1; seed <= 12; ++seed) {
            const int64_t P = 10, T = 24, k = 4 + seed % 15;
            const int64_t g = 1 + seed % 2;
            const bool perLayer = seed % 3 == 0;
            const SelectionConfig sc{SelectionMode::TopK, 4, 0, 0, g};
            const Selection a = computeSelection(randomTrace(seed, P, T, 2, perLayer), sc);
            const Selection b = computeSelection(randomTrace(seed, P, T, 2, perLayer, k, seed + 1000), sc);
            const int64_t cap = 3 + seed % 4;
            const PlacementResult pa = place(a, name.toStdString(), {}, cap);
            const PlacementResult pb = place(b, name.toStdString(), {}, cap);
            for (int64_t t = 0; t <= k; ++t)
                QVERIFY2(sameMoves(pa, pb, t), qPrintable(QString("seed %1 step %2").arg(seed).arg(t)));
            const int64_t createdByK = a.layout.unitsBefore(k + 1);
            for (int64_t u = 0; u < createdByK; ++u) QCOMPARE(pa.created_tier[size_t(u)], pb.created_tier[size_t(u)]);
        }
    }

    // Every rule the simulator enforces (it throws std::logic_error), on random traces:
    // per layer and aggregated, pages, both modes, capacities from 0 up; and determinism.
    void randomRunsKeepTheRules()
    {
        const std::vector<std::pair<std::string, PolicyParams>> variants = {
            {"quest", {}}, {"quest", {{"block_tokens", 1}, {"max_swaps_per_step", 0}}},
            {"quest", {{"block_tokens", 5}, {"max_swaps_per_step", 2}}},
            {"arkvale", {}}, {"arkvale", {{"ema", 0}, {"max_recalls_per_step", 0}, {"recall_margin", 1}}},
            {"arkvale", {{"ema", 0.999}}}, {"lru", {}}, {"lfu", {}}, {"lfu", {{"decay", 0.01}, {"admit_new", 0}}},
            {"lfu", {{"decay", 1}}}, {"arc", {}}, {"belady", {}}, {"belady", {{"variant", 1}}},
        };
        int runs = 0;
        const uint32_t seeds = qEnvironmentVariableIsSet("KVTIER_FUZZ_SEEDS")
                                   ? static_cast<uint32_t>(qEnvironmentVariableIntValue("KVTIER_FUZZ_SEEDS"))
                                   : 60;
        for (uint32_t seed = 1; seed <= seeds; ++seed) {
            std::mt19937 rng(seed);
            const auto P = static_cast<int64_t>(3 + rng() % 12);
            const auto T = static_cast<int64_t>(10 + rng() % 30);
            const bool perLayer = seed % 2 == 0;
            const auto g = static_cast<int64_t>(1 + rng() % 3);
            const SelectionConfig sc = seed % 3 == 0 ? SelectionConfig{SelectionMode::Ratio, 0.4, 1, 2, g}
                                                     : SelectionConfig{SelectionMode::TopK, 3, 0, 0, g};
            const Selection s = computeSelection(randomTrace(seed, P, T, 3, perLayer), sc);
            const int64_t total = s.layout.totalUnits();
            for (int64_t cap : {int64_t(0), int64_t(1), int64_t(2 + rng() % 5), total / 3, total}) {
                for (bool inclusive : {false, true}) {
                    for (const auto& [name, params] : variants) {
                        PlacementResult p;
                        try {
                            p = place(s, name, params, cap, inclusive, total);
                        } catch (const std::exception& e) {
                            QFAIL(qPrintable(QString("%1 seed %2 cap %3: %4")
                                                 .arg(QString::fromStdString(name)).arg(seed).arg(cap).arg(e.what())));
                        }
                        for (int64_t f : p.fast_units) QVERIFY(f <= cap);
                        const PlacementResult again = place(s, name, params, cap, inclusive, total);
                        for (int64_t t = 0; t < T; ++t) QVERIFY(sameMoves(p, again, t));
                        QVERIFY(p.created_tier == again.created_tier);
                        ++runs;
                    }
                }
            }
        }
        QVERIFY(runs >= int(seeds) * 5 * 2 * 13);
    }
};

QTEST_GUILESS_MAIN(TestPoliciesB)
#include "tst_policies_b.moc"
