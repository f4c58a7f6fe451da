// Every policy on cases small enough to follow by hand (which unit moves at which step, the
// token traffic of every tier, capacity), and the fast implementations against plain
// references of the same rules: O(units)-per-step transcriptions for h2o, tova and
// windowed-look-ahead, brute-force ones for lru, lfu and belady, ARC's directory against the
// paper's Figure 4, Belady's miss count against every online policy. The properties every
// policy shares (rules, no peeking, determinism, bounds) are in tst_policy_properties.cpp.
//
// Two groups, each with its own helpers: the paper's baselines with the window and score
// policies (reactive, page, look-ahead, windowed-look-ahead, sinks-window, h2o, tova), and
// the cache policies (quest, arkvale, lru, lfu, arc, belady).
#include "test_support.hpp"

#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/model/error.hpp"
#include "core/policies/policy_arc.hpp"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

namespace baselines {

using namespace kvtier;

namespace {

// ---- Building traces ------------------------------------------------------------------

// An aggregated selection trace: reads[t] lists the tokens step t reads.
using test::selectionTrace;

// A per-layer selection trace: reads[t][l] lists the tokens layer l reads at step t.
Trace perLayerSelTrace(int64_t prefill, int32_t layers, const std::vector<std::vector<std::vector<uint32_t>>>& reads)
{
    TraceMeta m;
    m.name = "sel-layers";
    m.prefill = prefill;
    m.steps = static_cast<int64_t>(reads.size());
    m.layers = layers;
    m.layer_mode = LayerMode::PerLayer;
    m.kind = RecordKind::Selection;
    Trace tr(m);
    for (size_t t = 0; t < reads.size(); ++t)
        for (int32_t l = 0; l < layers; ++l) {
            const auto& r = reads[t][static_cast<size_t>(l)];
            tr.append(static_cast<int64_t>(t), l, r, std::vector<float>(r.size(), 1.0f));
        }
    return tr;
}

// A deterministic pseudo-random score trace. Scores are multiples of 1/8 (exact sums);
// steps >= divergeAt draw from a second stream, so two traces built with the same seed
// agree on steps < divergeAt and differ after.
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
    const int32_t slotCount = perLayer ? layers : 1;
    for (int64_t t = 0; t < steps; ++t)
        for (int32_t l = 0; l < slotCount; ++l) {
            uint64_t& st = (divergeAt >= 0 && t >= divergeAt) ? s2 : s;
            std::vector<uint32_t> idx;
            std::vector<float> val;
            const int64_t n = prefill + t;
            for (int64_t i = 0; i < n; ++i) {
                const uint32_t r = next(st) % 16;
                if (r < 9) continue;   // about 45% of the tokens have a score
                idx.push_back(static_cast<uint32_t>(i));
                val.push_back(static_cast<float>(r - 8) / 8.0f);
            }
            tr.append(t, perLayer ? l : -1, idx, val);
        }
    return tr;
}

Selection select(const Trace& tr, int64_t pageTokens, SelectionMode mode = SelectionMode::Dense, double value = 0)
{
    return computeSelection(tr, SelectionConfig{mode, value, 0, 0, pageTokens});
}

PlacementResult place(const Selection& s, const std::string& policy, const PolicyParams& params, int64_t cap0,
                      bool inclusive = false, int64_t cap1 = 1000)
{
    return runPlacement(s, findPolicy(policy), params, PlacementConfig{inclusive, {cap0, cap1}});
}

// ---- Describing results ---------------------------------------------------------------

// "t:" per step followed by its moves in order: -u an eviction, +u a promotion.
QString moves(const PlacementResult& p)
{
    QStringList steps;
    for (size_t t = 0; t + 1 < p.moves.offset.size(); ++t) {
        QString s = QString::number(t) + ":";
        for (const Move& mv : p.moves.row(t)) s += (mv.to == 0 ? "+" : "-") + QString::number(mv.unit);
        steps << s;
    }
    return steps.join(' ');
}

// Per tier "kv_read/flex_read/write/mig_read/mig_write" of one (step, slot), joined by " | ".
QString traffic(const PlacementResult& p, int64_t t, int32_t slot = 0)
{
    QStringList tiers;
    const size_t row = static_cast<size_t>(t) * static_cast<size_t>(p.layout.slot_count) + static_cast<size_t>(slot);
    for (int32_t m = 0; m < p.tiers; ++m) {
        const SlotTraffic& x = p.at(row, m);
        tiers << QStringLiteral("%1/%2/%3/%4/%5").arg(x.kv_read).arg(x.flex_read).arg(x.write).arg(x.mig_read).arg(x.mig_write);
    }
    return tiers.join(" | ");
}

QString created(const PlacementResult& p)
{
    QString s;
    for (uint8_t c : p.created_tier) s += QString::number(c);
    return s;
}

// Everything that happened up to and including step k (moves, traffic, created tiers).
QString historyUpTo(const PlacementResult& p, int64_t k)
{
    QString s;
    for (int64_t t = 0; t <= k; ++t) {
        s += QString::number(t) + ":";
        for (const Move& mv : p.moves.row(static_cast<size_t>(t)))
            s += QStringLiteral("%1>%2>%3,").arg(mv.unit).arg(mv.from).arg(mv.to);
        for (int32_t l = 0; l < p.layout.slot_count; ++l) s += "[" + traffic(p, t, l) + "]";
        s += "\n";
    }
    const int64_t units = p.layout.pagesAt(p.layout.prefill + k + 1) * p.layout.slot_count;
    for (int64_t u = 0; u < units; ++u) s += QString::number(p.created_tier[static_cast<size_t>(u)]);
    return s;
}

// ---- Reference implementations: the same rules, written plainly, O(units) per step ----

int64_t paramInt(const PolicyParams& p, const std::string& k) { return static_cast<int64_t>(p.at(k)); }

// Highest key first, ties lower id: is a ranked above b?
bool above(double ka, uint32_t a, double kb, uint32_t b) { return ka != kb ? ka > kb : a < b; }

class RefScoreSwap : public Policy {
public:
    // H2O (tova == false) or TOVA (tova == true).
    RefScoreSwap(const PolicyContext& ctx, const PolicyParams& p, bool tova)
        : lay_(ctx.layout), cap_(ctx.fast_capacity_units), tova_(tova)
    {
        key_.assign(static_cast<size_t>(lay_.totalUnits()), 0.0);
        res_.assign(key_.size(), 0);
        maxSwaps_ = paramInt(p, "max_swaps_per_step");
        if (!tova) {
            decay_ = p.at("decay");
            recent_ = paramInt(p, "recent_tokens");
        }
    }
    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        const int64_t k = std::min(prefillUnits, capacity);
        if (tova_) {
            for (int64_t u = 0; u < k; ++u) fast.push_back(static_cast<uint32_t>(u));
        } else {
            const int64_t from = std::max(recentLo(0), prefillUnits - k);
            for (int64_t u = from; u < prefillUnits; ++u) fast.push_back(static_cast<uint32_t>(u));
            for (int64_t u = 0; u < from && static_cast<int64_t>(fast.size()) < k; ++u)
                fast.push_back(static_cast<uint32_t>(u));
        }
        for (uint32_t u : fast) res_[u] = 1;
    }
    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        const int64_t before = tier0.unitsBefore();
        // Units that compete on their key: H2O the non-recent ones, TOVA all but the ones
        // created at the previous step (no score yet).
        int64_t lo = 0, hi = before;   // competing units: [0, hi) except [lo, hi) for TOVA
        if (tova_) {
            lo = t > 0 ? lay_.unitsBefore(t - 1) : before;
        } else {
            hi = std::min(recentLo(t), before);
            lo = hi;
        }
        auto competes = [&](int64_t u) { return tova_ ? (u < lo || !res_[static_cast<size_t>(u)]) : u < hi; };
        auto worstRes = [&]() {
            int64_t w = -1;
            for (int64_t u = 0; u < before; ++u)
                if (res_[static_cast<size_t>(u)] && competes(u) && !moved(u) &&
                    (w < 0 || above(key_[static_cast<size_t>(w)], static_cast<uint32_t>(u), key_[static_cast<size_t>(u)],
                                    static_cast<uint32_t>(w))))
                    w = u;
            return w;
        };
        auto bestNon = [&]() {
            int64_t b = -1;
            for (int64_t u = 0; u < before; ++u)
                if (!res_[static_cast<size_t>(u)] && competes(u) && !moved(u) &&
                    (b < 0 || above(key_[static_cast<size_t>(u)], static_cast<uint32_t>(u), key_[static_cast<size_t>(b)],
                                    static_cast<uint32_t>(b))))
                    b = u;
            return b;
        };
        moved_.clear();
        int64_t count = 0;
        for (int64_t u = 0; u < before; ++u) count += res_[static_cast<size_t>(u)];
        for (int64_t need = count + static_cast<int64_t>(tier0.newUnits().size()) - cap_; need > 0; --need) {
            int64_t w = worstRes();
            if (w < 0 && !tova_)   // H2O: the oldest recent resident
                for (int64_t u = hi; u < before && w < 0; ++u)
                    if (res_[static_cast<size_t>(u)]) w = u;
            if (w < 0) break;
            res_[static_cast<size_t>(w)] = 0;
            moved_.push_back(w);
            out.evict.push_back(static_cast<uint32_t>(w));
            --count;
        }
        for (uint32_t u : tier0.newUnits())
            if (count < cap_) {
                res_[u] = 1;
                ++count;
                out.admit_new.push_back(u);
            }
        for (int64_t swaps = 0; maxSwaps_ == 0 || swaps < maxSwaps_; ++swaps) {
            const int64_t b = bestNon();
            if (b < 0) break;
            if (count < cap_) {
                if (!(key_[static_cast<size_t>(b)] > 0)) break;
            } else {
                const int64_t w = worstRes();
                if (w < 0 || !(key_[static_cast<size_t>(b)] > key_[static_cast<size_t>(w)])) break;
                res_[static_cast<size_t>(w)] = 0;
                moved_.push_back(w);
                out.evict.push_back(static_cast<uint32_t>(w));
                --count;
            }
            res_[static_cast<size_t>(b)] = 1;
            moved_.push_back(b);
            out.promote.push_back(static_cast<uint32_t>(b));
            ++count;
        }
    }
    void observe(const StepObservation& obs) override
    {
        for (double& k : key_) k = tova_ ? 0.0 : k * decay_;
        for (size_t i = 0; i < obs.score_units.size(); ++i)
            key_[obs.score_units[i]] = (tova_ ? 0.0 : key_[obs.score_units[i]]) + static_cast<double>(obs.score_sum[i]);
    }

private:
    bool moved(int64_t u) const { return std::find(moved_.begin(), moved_.end(), u) != moved_.end(); }
    int64_t recentLo(int64_t t) const
    {
        // The page being written is always recent (R = 0 behaves as R = 1).
        return std::max<int64_t>(0, lay_.prefill + t + 1 - std::max<int64_t>(recent_, 1)) / lay_.page_tokens *
               lay_.slot_count;
    }
    UnitLayout lay_;
    int64_t cap_;
    bool tova_;
    double decay_ = 1;
    int64_t recent_ = 0, maxSwaps_ = 0;
    std::vector<double> key_;
    std::vector<uint8_t> res_;
    std::vector<int64_t> moved_;
};

class RefWindowed : public Policy {
public:
    RefWindowed(const PolicyContext& ctx, const PolicyParams& p)
        : sel_(*ctx.future), lay_(ctx.layout), cap_(ctx.fast_capacity_units)
    {
        w_ = paramInt(p, "window_steps");
        ratio_ = p.at("promotion_ratio");
        res_.assign(static_cast<size_t>(lay_.totalUnits()), 0);
    }
    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        computeKeys(0, prefillUnits);
        const auto target = targetOf(prefillUnits);
        std::vector<uint8_t> in(static_cast<size_t>(prefillUnits), 0);
        for (uint32_t u : target) {
            in[u] = 1;
            fast.push_back(u);
        }
        for (int64_t u = 0; u < prefillUnits && static_cast<int64_t>(fast.size()) < std::min(prefillUnits, capacity); ++u)
            if (!in[static_cast<size_t>(u)]) fast.push_back(static_cast<uint32_t>(u));
        for (uint32_t u : fast) res_[u] = 1;
    }
    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        const int64_t before = tier0.unitsBefore();
        const int64_t exist = before + static_cast<int64_t>(tier0.newUnits().size());
        computeKeys(t, exist);
        const auto target = targetOf(exist);   // best first
        std::vector<uint8_t> in(static_cast<size_t>(exist), 0);
        for (uint32_t u : target) in[u] = 1;
        std::vector<uint32_t> missing;
        int64_t admitTarget = 0;
        for (uint32_t u : target) {
            if (u >= before) ++admitTarget;
            else if (!res_[u]) missing.push_back(u);
        }
        const auto m = static_cast<int64_t>(missing.size());
        const int64_t p = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(ratio_ * static_cast<double>(m) - 1e-9)), 0, m);
        int64_t count = 0;
        for (int64_t u = 0; u < before; ++u) count += res_[static_cast<size_t>(u)];
        // Residents outside the target, worst first (lowest key; ties higher id).
        std::vector<uint32_t> outside;
        for (int64_t u = 0; u < before; ++u)
            if (res_[static_cast<size_t>(u)] && !in[static_cast<size_t>(u)]) outside.push_back(static_cast<uint32_t>(u));
        std::sort(outside.begin(), outside.end(), [&](uint32_t a, uint32_t b) { return above(key_[b], b, key_[a], a); });
        const int64_t e = count + p + admitTarget - cap_;
        for (int64_t i = 0; i < e; ++i) {
            out.evict.push_back(outside.at(static_cast<size_t>(i)));
            res_[outside[static_cast<size_t>(i)]] = 0;
        }
        for (int64_t i = 0; i < p; ++i) {
            out.promote.push_back(missing[static_cast<size_t>(i)]);
            res_[missing[static_cast<size_t>(i)]] = 1;
        }
        count += p - std::max<int64_t>(0, e);
        for (uint32_t u : tier0.newUnits())
            if (in[u]) {
                out.admit_new.push_back(u);
                res_[u] = 1;
                ++count;
            }
        for (uint32_t u : tier0.newUnits())
            if (!in[u] && count < cap_) {
                out.admit_new.push_back(u);
                res_[u] = 1;
                ++count;
            }
    }

private:
    // Window count * 2^32 + (2^32 - 1 - next read at or after t), for units 0 .. exist-1.
    void computeKeys(int64_t t, int64_t exist)
    {
        std::vector<int64_t> cnt(static_cast<size_t>(exist), 0), next(static_cast<size_t>(exist), -1);
        for (int64_t s = lay_.steps - 1; s >= t; --s)
            for (uint32_t u : sel_.step_units.row(static_cast<size_t>(s)))
                if (u < exist) {
                    next[u] = s;
                    if (s < t + w_) ++cnt[u];
                }
        key_.assign(static_cast<size_t>(exist), 0);
        for (size_t u = 0; u < key_.size(); ++u) {
            const double nu = next[u] < 0 ? 4294967295.0 : static_cast<double>(next[u]);
            key_[u] = static_cast<double>(cnt[u]) * 4294967296.0 + (4294967295.0 - nu);
        }
    }
    // Existing units the window reads, best first, at most capacity.
    std::vector<uint32_t> targetOf(int64_t exist) const
    {
        std::vector<uint32_t> c;
        for (int64_t u = 0; u < exist; ++u)
            if (key_[static_cast<size_t>(u)] >= 4294967296.0) c.push_back(static_cast<uint32_t>(u));
        std::sort(c.begin(), c.end(), [&](uint32_t a, uint32_t b) { return above(key_[a], a, key_[b], b); });
        if (static_cast<int64_t>(c.size()) > cap_) c.resize(static_cast<size_t>(cap_));
        return c;
    }
    const Selection& sel_;
    UnitLayout lay_;
    int64_t cap_, w_ = 1;
    double ratio_ = 0.5;
    std::vector<uint8_t> res_;
    std::vector<double> key_;
};

PolicyEntry refEntry(const std::string& name)
{
    PolicyEntry e = findPolicy(name);   // same info (online flag, params)
    e.info.name = "ref-" + name;
    if (name == "h2o")
        e.make = [](const PolicyContext& c, const PolicyParams& p) -> std::unique_ptr<Policy> {
            return std::make_unique<RefScoreSwap>(c, resolveParams(findPolicy("h2o").info, p, "ref"), false);
        };
    else if (name == "tova")
        e.make = [](const PolicyContext& c, const PolicyParams& p) -> std::unique_ptr<Policy> {
            return std::make_unique<RefScoreSwap>(c, resolveParams(findPolicy("tova").info, p, "ref"), true);
        };
    else
        e.make = [](const PolicyContext& c, const PolicyParams& p) -> std::unique_ptr<Policy> {
            return std::make_unique<RefWindowed>(c, resolveParams(findPolicy("windowed-look-ahead").info, p, "ref"));
        };
    return e;
}


} // namespace

class BaselineCases : public QObject {
    Q_OBJECT

private slots:
    // P = 4 tokens, one token per unit, tier 0 holds 2 units.
    //   initial {0,1}
    //   t0: new unit 4 needs room: evict the oldest (0); reads 2,3 miss
    //   t1: promote 2,3; the oldest 1 and 4 make room; unit 5 finds tier 0 full
    //   t2: new unit 6 evicts 2 (oldest); reads 0,4 miss
    //   t3: promote 0,4 (evicting 3 and 6); 6 is then read from tier 1: reactive cannot know
    void reactiveByHand()
    {
        const Selection s = select(selectionTrace(4, {{2, 3}, {2, 3}, {0, 4}, {0, 6}}), 1);
        const PlacementResult p = place(s, "reactive", {}, 2);
        QCOMPARE(moves(p), QString("0:-0 1:-1-4+2+3 2:-2 3:-3-6+0+4"));
        QCOMPARE(traffic(p, 0), QString("0/0/1/1/0 | 2/0/0/0/1"));
        QCOMPARE(traffic(p, 1), QString("2/0/0/2/2 | 0/0/1/2/2"));
        QCOMPARE(traffic(p, 2), QString("0/0/1/1/0 | 2/0/0/0/1"));
        QCOMPARE(traffic(p, 3), QString("1/0/0/2/2 | 1/0/1/2/2"));
        QCOMPARE(created(p), QString("00110101"));
        QCOMPARE(p.fast_units, (std::vector<int64_t>{1, 2, 1, 2}));
        QCOMPARE(p.migrated_tokens, 10.0);

        // One promotion per step: at t1 unit 2 and new unit 5 need both slots: 1 and 4 go.
        const PlacementResult q = place(s, "reactive", {{"max_promotions_per_step", 1}}, 2);
        QCOMPARE(moves(q).section(' ', 1, 1), QString("1:-1-4+2"));
        QCOMPARE(int(q.created_tier[5]), 0);
    }

    // Inclusive: the same decisions; a promotion copies (slow-tier read, tier-0 write), an
    // eviction drops the copy for free, tier-0 hits count as flex reads of the home tier,
    // and the new token is written to tier 0 (if it has a copy) and to its home.
    void reactiveInclusiveByHand()
    {
        const Selection s = select(selectionTrace(4, {{2, 3}, {2, 3}, {0, 4}, {0, 6}}), 1);
        const PlacementResult p = place(s, "reactive", {}, 2, true);
        QCOMPARE(moves(p), QString("0:-0 1:-1-4+2+3 2:-2 3:-3-6+0+4"));
        QCOMPARE(traffic(p, 0), QString("0/0/1/0/0 | 2/0/1/0/0"));
        QCOMPARE(traffic(p, 1), QString("0/0/0/0/2 | 0/2/1/2/0"));
        QCOMPARE(traffic(p, 2), QString("0/0/1/0/0 | 2/0/1/0/0"));
        QCOMPARE(traffic(p, 3), QString("0/0/0/0/2 | 1/1/1/2/0"));
        QCOMPARE(p.migrated_tokens, 4.0);
        QCOMPARE(p.fast_units, (std::vector<int64_t>{1, 2, 1, 2}));
    }

    // Per-layer trace, P = 3, L = 2: unit = token * 2 + layer; tier 0 holds 3 units.
    //   initial {0,1,2} (tokens 0 both layers, token 1 layer 0)
    //   t0: new units 6,7 (token 3) evict 0,1; layer 0 reads unit 4, layer 1 unit 1: both miss
    //   t1: promote 1,4; new units 8,9: evict 2,6,7 (all there is); room for 8 only.
    //       Layer 0 reads token 3 = unit 6 (just evicted), layer 1 token 2 = unit 5: misses.
    void reactivePerLayerByHand()
    {
        const Selection s = select(perLayerSelTrace(3, 2, {{{2}, {0}}, {{3}, {2}}}), 1);
        QCOMPARE(s.step_units.row(0).size(), size_t(2));
        const PlacementResult p = place(s, "reactive", {}, 3);
        QCOMPARE(moves(p), QString("0:-0-1 1:-2-6-7+1+4"));
        QCOMPARE(traffic(p, 0, 0), QString("0/0/1/1/0 | 1/0/0/0/1"));
        QCOMPARE(traffic(p, 0, 1), QString("0/0/1/1/0 | 1/0/0/0/1"));
        QCOMPARE(traffic(p, 1, 0), QString("0/0/1/2/1 | 1/0/0/1/2"));
        QCOMPARE(traffic(p, 1, 1), QString("0/0/0/1/1 | 1/0/1/1/1"));
        QCOMPARE(created(p), QString("0001110001"));
    }

    // Pages of 2 tokens, P = 12 (units 0..5), tier 0 holds 3 units; blocks of 4 tokens pair
    // pages {4,5}. t0 reads token 9 (page 4): a miss, so at t1 page pulls pages 4 and 5,
    // evicting 1 and 2, and t1's read of token 10 (page 5) hits. Reactive pulls page 4 only
    // and misses page 5 at t1.
    void pageByHand()
    {
        const Selection s = select(selectionTrace(12, {{9}, {10}, {0}}), 2);
        const PlacementResult p = place(s, "page", {{"block_tokens", 4}}, 3);
        QCOMPARE(moves(p), QString("0:-0 1:-1-2+4+5 2:-6"));
        QCOMPARE(traffic(p, 0), QString("0/0/1/2/0 | 2/0/0/0/2"));
        QCOMPARE(traffic(p, 1), QString("2/0/1/4/4 | 0/0/0/4/4"));
        QCOMPARE(traffic(p, 2), QString("0/0/1/2/0 | 2/0/0/0/2"));
        QCOMPARE(created(p), QString("00011100"));

        const PlacementResult r = place(s, "reactive", {}, 3);
        QCOMPARE(moves(r), QString("0:-0 1:-1+4 2:-2-6+5"));
        QCOMPARE(traffic(r, 1), QString("0/0/1/2/2 | 2/0/0/2/2"));
        // A block no larger than a page is reactive.
        const PlacementResult b = place(s, "page", {{"block_tokens", 2}}, 3);
        QCOMPARE(moves(b), moves(r));
        QCOMPARE(historyUpTo(b, 2), historyUpTo(r, 2));
        // Read units first, then their blocks' other existing units by id: t0 misses token 4;
        // at t1 its block (tokens 0..7) adds 0, 3, 5 (unit 7 is only being created): 4, 0, 3 fit.
        const Selection s1 = select(selectionTrace(6, {{4}, {0}}), 1);
        const PlacementResult e = place(s1, "page", {{"block_tokens", 8}}, 3);
        QCOMPARE(moves(e), QString("0:-0 1:-1-2-6+4+0+3"));
        QCOMPARE(moves(place(s1, "page", {{"block_tokens", 8}, {"max_promotions_per_step", 1}}, 3)),
                 QString("0:-0 1:-1-2+4"));
    }

    // P = 4, tier 0 holds 2. Look-ahead starts with step 0's reads {1,3}.
    //   t0: everything read is there; unit 4 finds tier 0 full
    //   t1: reads {0,3}: keep 3, evict 1 (oldest not read), promote 0
    //   t2: reads {2,4,5}: room for two: promote 2,4 (lowest ids), evict 3 then 0
    void lookAheadByHand()
    {
        const Selection s = select(selectionTrace(4, {{1, 3}, {0, 3}, {2, 4, 5}}), 1);
        const PlacementResult p = place(s, "look-ahead", {}, 2);
        QVERIFY(!p.online);
        QCOMPARE(moves(p), QString("0: 1:-1+0 2:-3-0+2+4"));
        QCOMPARE(created(p), QString("1010111"));
        QCOMPARE(traffic(p, 0), QString("2/0/0/0/0 | 0/0/1/0/0"));
        QCOMPARE(traffic(p, 1), QString("2/0/0/1/1 | 0/0/1/1/1"));
        QCOMPARE(traffic(p, 2), QString("2/0/0/2/2 | 1/0/1/2/2"));
    }

    // P = 4, tier 0 holds 2, window 2 steps. Reads: t0 {0,2}, t1 {2,3}, t2 {2,3}, t3 {1,4}.
    //   initial: window t0..t1 ranks 2 (2 reads), 0 (1 read, next at t0), 3 (1, next t1)
    //   t1: window t1..t2: 2 and 3 (2 reads each): promote 3, evict 0 (outside the target)
    //   t2: window t2..t3: 2,3 (read at t2) beat 1,4 (read at t3): nothing moves
    //   t3: window t3: target {1,4}, 2 missing: ratio 0.5 promotes ceil(1) = 1 unit (1);
    //       2 and 3 tie (never read again): the higher id ranks lower and goes first.
    void windowedLookAheadByHand()
    {
        const Selection s = select(selectionTrace(4, {{0, 2}, {2, 3}, {2, 3}, {1, 4}}), 1);
        const PlacementResult p = place(s, "windowed-look-ahead", {{"window_steps", 2}}, 2);
        QCOMPARE(moves(p), QString("0: 1:-0+3 2: 3:-3+1"));
        QCOMPARE(created(p), QString("01011111"));
        QCOMPARE(traffic(p, 0), QString("2/0/0/0/0 | 0/0/1/0/0"));
        QCOMPARE(traffic(p, 1), QString("2/0/0/1/1 | 0/0/1/1/1"));
        QCOMPARE(traffic(p, 3), QString("1/0/0/1/1 | 1/0/1/1/1"));
        const PlacementResult all = place(s, "windowed-look-ahead", {{"window_steps", 2}, {"promotion_ratio", 1}}, 2);
        QCOMPARE(moves(all), QString("0: 1:-0+3 2: 3:-3-2+1+4"));
        QCOMPARE(traffic(all, 3), QString("2/0/0/2/2 | 0/0/1/2/2"));
        const PlacementResult none = place(s, "windowed-look-ahead", {{"window_steps", 2}, {"promotion_ratio", 0}}, 2);
        QCOMPARE(moves(none), QString("0: 1: 2: 3:"));   // no promotion, so nothing needs room
    }

    // P = 6, one sink, window of 2 tokens (the one being written included), tier 0 holds 3.
    //   initial {0,5}; t0 admits 6; t1: 5 leaves the window; t2: 6 leaves.
    // With 2 units the window keeps only the newest unit.
    void sinksWindowByHand()
    {
        const Selection s = select(selectionTrace(6, {{0, 3, 5}, {4, 6}, {0, 7}}), 1);
        const PolicyParams prm{{"sinks_tokens", 1}, {"window_tokens", 2}};
        const PlacementResult p = place(s, "sinks-window", prm, 3);
        QCOMPARE(moves(p), QString("0: 1:-5 2:-6"));
        QCOMPARE(created(p), QString("011110000"));
        QCOMPARE(traffic(p, 0), QString("2/0/1/0/0 | 1/0/0/0/0"));
        QCOMPARE(traffic(p, 1), QString("1/0/1/1/0 | 1/0/0/0/1"));
        QCOMPARE(traffic(p, 2), QString("2/0/1/1/0 | 0/0/0/0/1"));
        const PlacementResult q = place(s, "sinks-window", prm, 2);
        QCOMPARE(moves(q), QString("0: 1:-6 2:-7"));
        QCOMPARE(created(q), QString("011111000"));
    }

    // Pages of 2 tokens, P = 8 (units 0..3), one sink token, window of 3 tokens, 3 units.
    //   initial: sink page 0 and page 3 (tokens 6,7); t0 admits page 4 (token 8);
    //   t1 writes token 9 into page 4; t2: the window is tokens 8..10 = pages 4,5: page 3 leaves.
    void sinksWindowPagesByHand()
    {
        const Selection s = select(selectionTrace(8, {{1, 7}, {8}, {2, 9}}), 2);
        const PlacementResult p = place(s, "sinks-window", {{"sinks_tokens", 1}, {"window_tokens", 3}}, 3);
        QCOMPARE(moves(p), QString("0: 1: 2:-3"));
        QCOMPARE(created(p), QString("011000"));
        QCOMPARE(traffic(p, 0), QString("4/0/1/0/0 | 0/0/0/0/0"));
        QCOMPARE(traffic(p, 1), QString("1/0/1/0/0 | 0/0/0/0/0"));
        QCOMPARE(traffic(p, 2), QString("2/0/1/2/0 | 2/0/0/0/2"));
    }

    // Score trace, top-2 reads, P = 4, tier 0 holds 3, recent window 2 tokens.
    //   initial: recent unit 3, then 0,1
    //   t0: all sums 0: new unit 4 evicts 0 (lowest id); reads 0,2 miss. Only read units'
    //       scores are observed (placement.observe_scores = read): sums 0 .5, 2 .25
    //   t1: 3 leaves the window; 5 needs room: 1 and 3 tie at 0: evict 1; then swap 0 (.5)
    //       in for 3 (0). t1 reads 0 and 2 again: sums 0 .625, 2 .75
    //   t2: 4 leaves the window and makes room for 6; 2 (.75) swaps in for 0 (.625).
    //   (Observing every score, 1 and 3 would tie at .125 at t1: the same moves.)
    void h2oByHand()
    {
        const Trace tr = test::denseTrace(4, {{0.5f, 0.125f, 0.25f, 0.125f},
                                              {0.125f, 0.125f, 0.5f, 0.125f, 0.125f},
                                              {0.25f, 0, 0, 0, 0.5f, 0.25f}});
        const Selection s = select(tr, 1, SelectionMode::TopK, 2);
        const PlacementResult p = place(s, "h2o", {{"recent_tokens", 2}}, 3);
        QCOMPARE(moves(p), QString("0:-0 1:-1-3+0 2:-4-0+2"));
        QCOMPARE(created(p), QString("0010000"));
        QCOMPARE(traffic(p, 0), QString("0/0/1/1/0 | 2/0/0/0/1"));
        QCOMPARE(traffic(p, 1), QString("1/0/1/2/1 | 1/0/0/1/2"));
        QCOMPARE(traffic(p, 2), QString("0/0/1/2/1 | 2/0/0/1/2"));
        // A decay of 0.5 keeps the order here; no swaps at all keeps 0 out at t1.
        QCOMPARE(moves(place(s, "h2o", {{"recent_tokens", 2}, {"decay", 0.5}}, 3)), moves(p));
        QCOMPARE(moves(place(s, "h2o", {{"recent_tokens", 2}, {"max_swaps_per_step", 1}}, 3)), moves(p));
        const PlacementConfig all{false, {3, 1000}, ObserveScores::All};
        QCOMPARE(moves(runPlacement(s, findPolicy("h2o"), {{"recent_tokens", 2}}, all)), moves(p));
    }

    // recent_tokens = 0 with pages of 2 tokens: the page being written is the current page
    // and stays, exactly as with recent_tokens = 1. P = 4 (units 0, 1), tier 0 holds 2,
    // dense reads, so every scored token is read.
    //   initial {0,1} (nothing recent exists yet)
    //   t0: new unit 2 (token 4) evicts 0 (all keys 0, lower id). Keys after t0: 0 .5, 1 .25
    //   t1: token 5 is written into unit 2, so 2 is recent and not a candidate (key 0, never
    //       scored); 0 (.5) swaps in for 1 (.25). Keeping no unit recent would evict 2 instead.
    //   t1 traffic: page 1 out (2 tokens: tier 0 mig_read, tier 1 mig_write) and page 0 in
    //   (tier 1 mig_read, tier 0 mig_write); then tier 0 serves pages 0 and 2 (2 + 1 tokens),
    //   tier 1 page 1 (2), and token 5 is written to unit 2 in tier 0.
    void h2oRecentZeroKeepsThePageBeingWritten()
    {
        const Trace tr = test::denseTrace(4, {{0.5f, 0, 0.25f, 0}, {0.125f, 0.125f, 0.125f, 0.125f, 0.125f}});
        const Selection s = select(tr, 2);
        const PlacementResult p = place(s, "h2o", {{"recent_tokens", 0}}, 2);
        QCOMPARE(moves(p), QString("0:-0 1:-1+0"));
        QCOMPARE(created(p), QString("000"));
        QCOMPARE(traffic(p, 1), QString("3/0/1/2/2 | 2/0/0/2/2"));
        QCOMPARE(moves(place(s, "h2o", {{"recent_tokens", 1}}, 2)), moves(p));
    }

    // placement.observe_scores: "read" (default) lets h2o learn the scores of the units a step
    // read, "all" those of every scored unit. P = 4, top-1 reads, tier 0 holds 3, recent 1.
    //   initial {0,1,2}; t0: new unit 4 evicts 0 (all keys 0, lower id). t0 reads unit 1 only;
    //   unit 3 scores .25 without being read. Keys after t0: read: 1 .5; all: 1 .5, 3 .25.
    //   t1: 4 leaves the recent window; new unit 5 evicts 2 (key 0, lower id than 4). "all":
    //   3 (.25) beats the lightest non-recent resident 4 (0) and swaps in; "read": 3's key is
    //   0, nothing beats 4.
    void h2oLearnsOnlyTheScoresItRead()
    {
        const Trace tr = test::denseTrace(4, {{0, 0.5f, 0, 0.25f}, {0, 0.5f, 0, 0.25f, 0}});
        const Selection s = select(tr, 1, SelectionMode::TopK, 1);
        const PolicyParams prm{{"recent_tokens", 1}};
        const PlacementResult read = runPlacement(s, findPolicy("h2o"), prm, PlacementConfig{false, {3, 1000}});
        QCOMPARE(moves(read), QString("0:-0 1:-2"));
        QCOMPARE(traffic(read, 1), QString("1/0/1/1/0 | 0/0/0/0/1"));
        const PlacementResult all =
            runPlacement(s, findPolicy("h2o"), prm, PlacementConfig{false, {3, 1000}, ObserveScores::All});
        QCOMPARE(moves(all), QString("0:-0 1:-2-4+3"));
        QCOMPARE(traffic(all, 1), QString("1/0/1/2/1 | 0/0/0/1/2"));
        QCOMPARE(observeScoresFromString("all"), ObserveScores::All);
        QCOMPARE(std::string(toString(ObserveScores::Read)), std::string("read"));
        QVERIFY_THROWS_EXCEPTION(InputError, observeScoresFromString("some"));
    }

    // Exclusive, three tiers of 1, 1 and 100 units, reactive, P = 3. An evicted unit lands in
    // the fastest lower tier with room once the step's promotions have left their tiers;
    // nothing ever moves between lower tiers.
    //   prefill: 0 in tier 0, 1 in tier 1, 2 in tier 2
    //   t0: new unit 3 evicts 0: tier 1 is full, so 0 lands in tier 2; t0 reads 1 (a miss)
    //   t1: 1 is promoted out of tier 1 and 3 evicted into the room it left; new unit 4 finds
    //       tiers 0 and 1 full and is created in tier 2; t1 reads 0 from tier 2
    void threeTiersEvictionsLandInTheFastestLowerTierWithRoom()
    {
        const Selection s = select(selectionTrace(3, {{1}, {0}}), 1);
        const PlacementResult p = runPlacement(s, findPolicy("reactive"), {}, PlacementConfig{false, {1, 1, 100}});
        QCOMPARE(historyUpTo(p, 1).section('\n', 0, 0), QString("0:0>0>2,[0/0/1/1/0 | 1/0/0/0/0 | 0/0/0/0/1]"));
        QCOMPARE(historyUpTo(p, 1).section('\n', 1, 1),
                 QString("1:3>0>1,1>1>0,[0/0/0/1/1 | 0/0/0/1/1 | 1/0/1/0/0]"));
        QCOMPARE(created(p), QString("01202"));
    }

    // Inclusive, three tiers of 2, 1 and 100 units, reactive, P = 3. Middle-tier copies are
    // handed out when units are created, in creation order, while the middle tier has room,
    // and kept for life: prefill creates the units the policy puts in tier 0 first (0, 1),
    // then the others (2), so unit 0 takes the only middle copy, 1 and 2 live in the last tier.
    //   t0: new unit 3 evicts 0 (its tier-0 copy is dropped; it is now read from tier 1) and
    //       gets no middle copy; t0 reads 0 from its middle copy; the new token goes to 3's
    //       tier-0 copy and to the last tier.
    void inclusiveMiddleCopiesGoToTheFirstUnitsCreated()
    {
        const Selection s = select(selectionTrace(3, {{0}}), 1);
        const PlacementResult p = runPlacement(s, findPolicy("reactive"), {}, PlacementConfig{true, {2, 1, 100}});
        QCOMPARE(moves(p), QString("0:-0"));
        QCOMPARE(created(p), QString("0020"));
        QCOMPARE(p.home_tier, (std::vector<uint8_t>{1, 2, 2, 2}));
        QCOMPARE(traffic(p, 0), QString("0/0/1/0/0 | 1/0/0/0/0 | 0/0/1/0/0"));
    }

    // page's FIFO: promoted units join in candidate order (the misses ascending, then their
    // block-mates), not by id. As pageByHand: at t1 the FIFO becomes 4, 0, 3; t1 reads 0 (a
    // hit); at t2 new unit 8 needs room and the oldest admission, 4, goes (not 0).
    void pageFifoKeepsCandidateOrder()
    {
        const Selection s = select(selectionTrace(6, {{4}, {0}, {0}}), 1);
        const PlacementResult p = place(s, "page", {{"block_tokens", 8}}, 3);
        QCOMPARE(moves(p), QString("0:-0 1:-1-2-6+4+0+3 2:-4"));
    }

    // look-ahead's FIFO: the initial residents in id order (not step 0's reads first), each
    // step's promotions in ascending id, then new units; a hit does not refresh a unit.
    // P = 4, tier 0 holds 2; reads t0 {3}, t1 {1}, t2 {2}, t3 {0,3}, t4 {1}.
    //   initial {0,3} (step 0 reads 3, then the lowest id 0): FIFO 0, 3
    //   t1: 0 (oldest, not read) makes room for 1: FIFO 3, 1   t2: 3 goes for 2: FIFO 1, 2
    //   t3: 1 and 2 go for 0 and 3: FIFO 0, 3                 t4: 0 goes for 1
    void lookAheadFifoOrder()
    {
        const Selection s = select(selectionTrace(4, {{3}, {1}, {2}, {0, 3}, {1}}), 1);
        const PlacementResult p = place(s, "look-ahead", {}, 2);
        QCOMPARE(moves(p), QString("0: 1:-0+1 2:-3+2 3:-1-2+0+3 4:-0+1"));
    }

    // Score trace, top-2 reads, P = 4, tier 0 holds 3; keys are the last step's scores.
    //   t0: no scores yet: new unit 4 evicts 0 (lowest id). Last scores: 0 .5, 1 .125, 2 .25, 3 .125
    //   t1: 4 (created at t0, unscored) is kept; 5 evicts 1 (.125); 0 (.5) swaps in for 2 (.25)
    //       Last scores: 0 .125, 1 .25, 4 .5, others 0
    //   t2: 6 evicts 0 (.125); 1 (.25) does not beat 4 (.5). (H2O would keep 0: sum .625.)
    void tovaByHand()
    {
        const Trace tr = test::denseTrace(4, {{0.5f, 0.125f, 0.25f, 0.125f},
                                              {0.125f, 0.25f, 0, 0, 0.5f},
                                              {0.25f, 0, 0, 0, 0.5f, 0.25f}});
        const Selection s = select(tr, 1, SelectionMode::TopK, 2);
        const PlacementResult p = place(s, "tova", {}, 3);
        QCOMPARE(moves(p), QString("0:-0 1:-1-2+0 2:-0"));
        QCOMPARE(created(p), QString("0001000"));
        QCOMPARE(traffic(p, 0), QString("1/0/1/1/0 | 1/0/0/0/1"));
        QCOMPARE(traffic(p, 1), QString("1/0/1/2/1 | 1/0/0/1/2"));
        QCOMPARE(traffic(p, 2), QString("1/0/1/1/0 | 1/0/0/0/1"));
        QCOMPARE(moves(place(s, "tova", {{"max_swaps_per_step", 0}}, 3)), moves(p));
    }

    // The heap-based policies against plain reference implementations of the same rules.
    void matchesReference_data()
    {
        QTest::addColumn<QString>("policy");
        QTest::addColumn<QVariantMap>("params");
        auto row = [](const char* tag, const char* pol, QVariantMap m) { QTest::newRow(tag) << QString(pol) << m; };
        row("h2o recent 8", "h2o", {{"recent_tokens", 8}});
        row("h2o recent 5 swaps 2", "h2o", {{"recent_tokens", 5}, {"max_swaps_per_step", 2}});
        row("h2o recent 0 unlimited", "h2o", {{"recent_tokens", 0}, {"max_swaps_per_step", 0}});
        row("h2o decay 1/2", "h2o", {{"recent_tokens", 4}, {"decay", 0.5}, {"max_swaps_per_step", 0}});
        row("h2o decay 1/16 renormalises", "h2o", {{"recent_tokens", 3}, {"decay", 0.0625}, {"max_swaps_per_step", 4}});
        row("tova defaults", "tova", {});
        row("tova swaps 1", "tova", {{"max_swaps_per_step", 1}});
        row("tova unlimited", "tova", {{"max_swaps_per_step", 0}});
        row("windowed defaults", "windowed-look-ahead", {});
        row("windowed w1 r1", "windowed-look-ahead", {{"window_steps", 1}, {"promotion_ratio", 1}});
        row("windowed w5 r0.3", "windowed-look-ahead", {{"window_steps", 5}, {"promotion_ratio", 0.3}});
        row("windowed w40 r0", "windowed-look-ahead", {{"window_steps", 40}, {"promotion_ratio", 0}});
    }
    void matchesReference()
    {
        QFETCH(QString, policy);
        QFETCH(QVariantMap, params);
        const std::string name = policy.toStdString();
        PolicyParams prm;
        for (auto it = params.begin(); it != params.end(); ++it) prm[it.key().toStdString()] = it.value().toDouble();
        const PolicyEntry ref = refEntry(name);
        const bool longRun = prm.count("decay") && prm.at("decay") < 0.1;
        int runs = 0;
        int64_t promotions = 0;
        for (uint64_t seed : {1, 2, 3})
            for (bool perLayer : {false, true})
                for (int64_t g : {1, 2})
                    for (int64_t cap : {3, 7, 16}) {
                        const int32_t L = perLayer ? 3 : 1;
                        const int64_t T = longRun ? 140 : 30;
                        const Selection s =
                            select(randomScoreTrace(seed, 12, T, L, perLayer), g, SelectionMode::Ratio, 0.25);
                        const PlacementConfig cfg{seed == 2, {cap, 100000}};
                        const PlacementResult mine = runPlacement(s, findPolicy(name), prm, cfg);
                        const PlacementResult want = runPlacement(s, ref, prm, cfg);
                        QCOMPARE(moves(mine), moves(want));
                        QCOMPARE(created(mine), created(want));
                        ++runs;
                        for (const Move& mv : mine.moves.items) promotions += mv.to == 0;
                    }
        QCOMPARE(runs, 36);
        if (prm.count("promotion_ratio") == 0 || prm.at("promotion_ratio") > 0)
            QVERIFY2(promotions > 100, "the comparison should exercise promotions");
    }

};

} // namespace baselines

namespace caches {

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
    for (int64_t u = lay.unitsBefore(t); u < lay.unitsBefore(t + 1); ++u) out.push_back(static_cast<uint32_t>(u));
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

class CacheCases : public QObject {
    Q_OBJECT

private slots:
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

    // settle() by hand, c = 2, residents 0 and 1 (T1 = [0 1], settled as cached).
    void arcListsSettleByHand()
    {
        ArcLists a(16, 2);
        a.seed(0);
        a.seed(1);
        std::vector<std::pair<uint32_t, bool>> got;
        auto settle = [&] {
            got.clear();
            a.settle([&](uint32_t x, bool now) { got.emplace_back(x, now); });
        };
        // 2 and 3 are new with |T1| = c: 0, then 1, leave without a ghost; 2 and 3 come in.
        a.access(std::vector<uint32_t>{2, 3});
        settle();
        QCOMPARE(got, (std::vector<std::pair<uint32_t, bool>>{{0, false}, {2, true}, {1, false}, {3, true}}));
        // 4 pushes 2 out, then 2 (forgotten) pushes 3 out: 2 left and came back, so only 4
        // comes in and 3 goes.
        a.access(std::vector<uint32_t>{4, 2});
        settle();
        QCOMPARE(got, (std::vector<std::pair<uint32_t, bool>>{{4, true}, {3, false}}));
        QCOMPARE(a.contents(ArcLists::T1), (std::vector<uint32_t>{4, 2}));
        // Nothing requested: nothing to settle.
        settle();
        QVERIFY(got.empty());
    }

    // ArcLists fed in batches (access(span), whose steady case IV takes a shortcut) against
    // the paper on deques fed one request at a time, and settle() against the net change of
    // the deques' T1 ∪ T2 over each batch, listed in the order of each id's first flip. The
    // streams mostly request ids not in the directory, as a long trace does, and in every
    // third batch few ids, so that T2 and the ghost lists are used; they must reach the
    // shortcut's state often.
    void arcListsBatchesMatchThePaper()
    {
        int shortcut = 0, ghosts = 0, reported = 0;
        for (uint32_t seed = 1; seed <= 30; ++seed) {
            std::mt19937 rng(seed);
            const int64_t c = 2 + seed % 7;
            const auto ids = static_cast<uint32_t>(40 * c);
            ArcLists a(ids, c);
            RefArc r;
            r.c = c;
            std::vector<bool> settled(ids, false);
            for (uint32_t x = 0; x < uint32_t(c) / 2; ++x) {
                a.seed(x);
                r.T1.push_back(x);
                settled[x] = true;
            }
            auto cached = [&](uint32_t x) {
                return std::find(r.T1.begin(), r.T1.end(), x) != r.T1.end() ||
                       std::find(r.T2.begin(), r.T2.end(), x) != r.T2.end();
            };
            auto listed = [&](uint32_t x) {
                return cached(x) || std::find(r.B1.begin(), r.B1.end(), x) != r.B1.end() ||
                       std::find(r.B2.begin(), r.B2.end(), x) != r.B2.end();
            };
            uint32_t fresh = uint32_t(c);
            for (int batch = 0; batch < 60; ++batch) {
                // A batch: distinct ids, ascending, as a step's reads are.
                // Every third batch draws from few ids (ghost hits), the others from all.
                std::vector<uint32_t> xs;
                const bool narrow = batch % 3 == 0;
                for (uint32_t x = 0; x < (narrow ? 2 * uint32_t(c) + 3 : ids); ++x)
                    if (narrow ? rng() % 2 == 0 : rng() % 6 == 0) xs.push_back(x);
                for (int k = 0; k < 3 && fresh < ids; ++k) xs.push_back(fresh++);
                std::sort(xs.begin(), xs.end());
                xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
                std::vector<uint32_t> firstFlips;
                std::vector<bool> flipped(ids, false);
                for (uint32_t x : xs) {
                    const auto t1 = static_cast<int64_t>(r.T1.size());
                    shortcut += !listed(x) && t1 >= 1 && t1 < c && t1 + int64_t(r.B1.size()) == c &&
                                double(t1) > r.p;
                    ghosts += listed(x) && !cached(x);
                    std::vector<bool> before(ids);
                    for (uint32_t y = 0; y < ids; ++y) before[y] = cached(y);
                    r.access(x);
                    // A request flips at most one id out (REPLACE's or case IV's victim)
                    // and then x in: the id going out flips first.
                    for (const bool out : {true, false})
                        for (uint32_t y = 0; y < ids; ++y)
                            if (before[y] == out && cached(y) != out && !flipped[y]) {
                                flipped[y] = true;
                                firstFlips.push_back(y);
                            }
                }
                std::vector<std::pair<uint32_t, bool>> want, got;
                for (uint32_t y : firstFlips)
                    if (cached(y) != settled[y]) {
                        settled[y] = cached(y);
                        want.emplace_back(y, settled[y]);
                    }
                a.access(xs);
                a.settle([&](uint32_t x, bool now) { got.emplace_back(x, now); });
                QCOMPARE(got, want);
                reported += int(got.size());
                QCOMPARE(a.p(), r.p);
                QCOMPARE(a.contents(ArcLists::T1), asVector(r.T1));
                QCOMPARE(a.contents(ArcLists::T2), asVector(r.T2));
                QCOMPARE(a.contents(ArcLists::B1), asVector(r.B1));
                QCOMPARE(a.contents(ArcLists::B2), asVector(r.B2));
            }
        }
        QVERIFY(shortcut > 2000);
        QVERIFY(ghosts > 100);
        QVERIFY(reported > 1000);
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

};

} // namespace caches

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    int failed = 0;
    {
        baselines::BaselineCases baselineCases;
        failed += QTest::qExec(&baselineCases, argc, argv);
    }
    {
        caches::CacheCases cacheCases;
        failed += QTest::qExec(&cacheCases, argc, argv);
    }
    return failed;
}

#include "tst_policy_cases.moc"
