// The paper's baselines and the literature's cache policies (reactive, page, look-ahead,
// windowed-look-ahead, sinks-window, h2o, tova): small scenarios checked by hand (which
// unit moves at which step, the token traffic of every tier), online policies shown not to
// peek at the future, and the fast implementations compared with plain O(units)-per-step
// reference implementations of the same rules on random traces.
#include "test_support.hpp"

#include "core/engine/placement.hpp"
#include "core/engine/selection.hpp"
#include "core/model/error.hpp"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

using namespace kvtier;

namespace {

// ---- Building traces ------------------------------------------------------------------

// An aggregated selection trace: reads[t] lists the tokens step t reads.
Trace selTrace(int64_t prefill, const std::vector<std::vector<uint32_t>>& reads)
{
    TraceMeta m;
    m.name = "sel";
    m.prefill = prefill;
    m.steps = static_cast<int64_t>(reads.size());
    m.kind = RecordKind::Selection;
    Trace tr(m);
    for (size_t t = 0; t < reads.size(); ++t)
        tr.append(static_cast<int64_t>(t), -1, reads[t], std::vector<float>(reads[t].size(), 1.0f));
    return tr;
}

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

const std::vector<std::string> kMine = {"reactive", "page", "look-ahead", "windowed-look-ahead",
                                        "sinks-window", "h2o", "tova"};
const std::vector<std::string> kOnline = {"reactive", "page", "sinks-window", "h2o", "tova"};

} // namespace

class TestPoliciesA : public QObject {
    Q_OBJECT

private slots:
    void registeredInOrderWithInfo()
    {
        const auto& all = policyRegistry();
        QVERIFY(all.size() >= 8);
        QCOMPARE(all[0].info.name, std::string("first-fit"));
        for (size_t i = 0; i < kMine.size(); ++i) {
            const PolicyInfo& info = all[i + 1].info;
            QCOMPARE(info.name, kMine[i]);
            QVERIFY(!info.label.empty());
            QVERIFY(info.description.size() > 40);
            const bool online = std::find(kOnline.begin(), kOnline.end(), info.name) != kOnline.end();
            QCOMPARE(info.online, online);
            for (const ParamSpec& s : info.params) {
                QVERIFY(!s.key.empty() && !s.label.empty() && !s.help.empty());
                QVERIFY(s.min <= s.def && s.def <= s.max);
            }
            // Defaults resolve; unknown keys are refused.
            resolveParams(info, {}, "p");
            QVERIFY_THROWS_EXCEPTION(InputError, resolveParams(info, {{"no_such_key", 1}}, "p"));
        }
        QVERIFY_THROWS_EXCEPTION(InputError, resolveParams(findPolicy("page").info, {{"block_tokens", 0}}, "p"));
        QVERIFY_THROWS_EXCEPTION(InputError, resolveParams(findPolicy("h2o").info, {{"decay", 0}}, "p"));
        QVERIFY_THROWS_EXCEPTION(InputError,
                                 resolveParams(findPolicy("windowed-look-ahead").info, {{"promotion_ratio", 1.5}}, "p"));
    }

    // P = 4 tokens, one token per unit, tier 0 holds 2 units.
    //   initial {0,1}
    //   t0: new unit 4 needs room: evict the oldest (0); reads 2,3 miss
    //   t1: promote 2,3; the oldest 1 and 4 make room; unit 5 finds tier 0 full
    //   t2: new unit 6 evicts 2 (oldest); reads 0,4 miss
    //   t3: promote 0,4 (evicting 3 and 6); 6 is then read from tier 1: reactive cannot know
    void reactiveByHand()
    {
        const Selection s = select(selTrace(4, {{2, 3}, {2, 3}, {0, 4}, {0, 6}}), 1);
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
        const Selection s = select(selTrace(4, {{2, 3}, {2, 3}, {0, 4}, {0, 6}}), 1);
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
        const Selection s = select(selTrace(12, {{9}, {10}, {0}}), 2);
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
        const Selection s1 = select(selTrace(6, {{4}, {0}}), 1);
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
        const Selection s = select(selTrace(4, {{1, 3}, {0, 3}, {2, 4, 5}}), 1);
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
        const Selection s = select(selTrace(4, {{0, 2}, {2, 3}, {2, 3}, {1, 4}}), 1);
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
        const Selection s = select(selTrace(6, {{0, 3, 5}, {4, 6}, {0, 7}}), 1);
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
        const Selection s = select(selTrace(8, {{1, 7}, {8}, {2, 9}}), 2);
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
        const Selection s = select(selTrace(3, {{1}, {0}}), 1);
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
        const Selection s = select(selTrace(3, {{0}}), 1);
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
        const Selection s = select(selTrace(6, {{4}, {0}, {0}}), 1);
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
        const Selection s = select(selTrace(4, {{3}, {1}, {2}, {0, 3}, {1}}), 1);
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

    // Online policies decide step t from steps < t: two traces equal up to step k give the
    // same moves and traffic up to step k.
    void onlinePoliciesDoNotPeek_data()
    {
        QTest::addColumn<QString>("policy");
        for (const auto& n : kOnline) QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void onlinePoliciesDoNotPeek()
    {
        QFETCH(QString, policy);
        const std::string name = policy.toStdString();
        const PolicyParams prm = name == "h2o"            ? PolicyParams{{"recent_tokens", 6}, {"max_swaps_per_step", 3}}
                                 : name == "sinks-window" ? PolicyParams{{"window_tokens", 8}}
                                 : name == "page"         ? PolicyParams{{"block_tokens", 4}}
                                                          : PolicyParams{};
        const int64_t k = 9;
        for (bool perLayer : {false, true})
            for (int64_t g : {1, 3})
                for (bool inclusive : {false, true}) {
                    const int32_t L = perLayer ? 2 : 1;
                    const Trace a = randomScoreTrace(7, 30, 20, L, perLayer, k + 1, 100);
                    const Trace b = randomScoreTrace(7, 30, 20, L, perLayer, k + 1, 200);
                    const Selection sa = select(a, g, SelectionMode::TopK, 6);
                    const Selection sb = select(b, g, SelectionMode::TopK, 6);
                    QVERIFY(sa.step_units.row(k + 1).size() != sb.step_units.row(k + 1).size() ||
                            !std::equal(sa.step_units.row(k + 1).begin(), sa.step_units.row(k + 1).end(),
                                        sb.step_units.row(k + 1).begin()));
                    const int64_t cap = 8 * L;
                    const PlacementResult pa = place(sa, name, prm, cap, inclusive);
                    const PlacementResult pb = place(sb, name, prm, cap, inclusive);
                    QCOMPARE(historyUpTo(pa, k), historyUpTo(pb, k));
                    QVERIFY(historyUpTo(pa, 19) != historyUpTo(pb, 19));   // the change shows later
                }
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

    // Every policy keeps the rules (the simulator throws std::logic_error otherwise) over
    // many shapes: pages, layers, three tiers, inclusive, tiny and ample capacity.
    void keepTheRulesEverywhere()
    {
        for (const auto& name : kMine)
            for (uint64_t seed : {11, 12})
                for (bool perLayer : {false, true})
                    for (int64_t g : {1, 2, 5})
                        for (int64_t cap : {0, 1, 2, 5, 13, 1000})
                            for (bool inclusive : {false, true}) {
                                const int32_t L = perLayer ? 2 : 1;
                                const Selection s =
                                    select(randomScoreTrace(seed, 17, 25, L, perLayer), g, SelectionMode::Ratio, 0.3);
                                const PlacementConfig cfg{inclusive, {cap, 6, 100000}};
                                try {
                                    const PlacementResult p = runPlacement(s, findPolicy(name), {}, cfg);
                                    for (int64_t f : p.fast_units) QVERIFY(f <= cap);
                                } catch (const std::logic_error& e) {
                                    QFAIL(qPrintable(QString::fromStdString(name) + ": " + e.what()));
                                }
                            }
    }

    // With room for everything nothing needs to move: policies that promote only on a miss
    // or a better key leave a tier 0 that holds the whole run alone.
    void ampleCapacityMovesNothing()
    {
        const Selection s = select(randomScoreTrace(5, 20, 15, 1, false), 1, SelectionMode::TopK, 5);
        for (const auto& name : kMine) {
            const PlacementResult p = place(s, name, {}, 1000);
            QVERIFY2(p.moves.items.empty(), name.c_str());
            QCOMPARE(p.migrated_tokens, 0.0);
            for (uint8_t c : p.created_tier) QCOMPARE(int(c), 0);
        }
    }
};

QTEST_GUILESS_MAIN(TestPoliciesA)
#include "tst_policies_a.moc"
