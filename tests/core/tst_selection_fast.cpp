// The selection stage's fast path (engine/selection.cpp: integer order keys, a heap or
// nth_element for top-k, counting merges of the slots' ascending lists, block buffers)
// against a plain reference: the straightforward algorithm of MODEL.md §2 as the stage
// first ran it (index permutation sorted by a comparator, per-step units and scores
// collected and comparison-sorted). Random traces of every record kind, aggregated and
// per layer, random page sizes, sinks and windows and every valid selection mode: the
// Selections must agree exactly, CSR for CSR, and score_sum / score_max bit for bit.
#include "test_support.hpp"

#include "core/engine/selection.hpp"

#include <QtTest>

#include <algorithm>
#include <bit>
#include <cmath>
#include <iterator>
#include <numeric>
#include <random>

using namespace kvtier;

namespace ref {

struct ByScore {
    std::span<const uint32_t> index;
    std::span<const float> value;
    bool operator()(uint32_t a, uint32_t b) const
    {
        if (value[a] != value[b]) return value[a] > value[b];
        return index[a] < index[b];
    }
};

void emitChosen(std::span<const uint32_t> index, const std::vector<uint8_t>& chosen, std::vector<uint32_t>& out)
{
    for (size_t pos = 0; pos < index.size(); ++pos)
        if (chosen[pos]) out.push_back(index[pos]);
}

void topTokens(std::span<const uint32_t> index, std::span<const float> value, int64_t n, int64_t k,
               std::vector<uint32_t>& out)
{
    const auto nnz = static_cast<int64_t>(index.size());
    if (k >= nnz) {
        // Scored tokens plus the lowest-index zero-score tokens, up to min(k, n) in all.
        std::vector<uint8_t> in(static_cast<size_t>(n), 0);
        for (uint32_t i : index) in[i] = 1;
        int64_t need = std::min(k, n) - nnz;
        for (int64_t i = 0; i < n && need > 0; ++i)
            if (!in[static_cast<size_t>(i)]) {
                in[static_cast<size_t>(i)] = 1;
                --need;
            }
        for (int64_t i = 0; i < n; ++i)
            if (in[static_cast<size_t>(i)]) out.push_back(static_cast<uint32_t>(i));
        return;
    }
    std::vector<uint32_t> order(index.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), ByScore{index, value});
    std::vector<uint8_t> chosen(index.size(), 0);
    for (int64_t i = 0; i < k; ++i) chosen[order[static_cast<size_t>(i)]] = 1;
    emitChosen(index, chosen, out);
}

void massTokens(std::span<const uint32_t> index, std::span<const float> value, double tau, std::vector<uint32_t>& out)
{
    double total = 0;
    for (float v : value) total += v;
    const double target = tau * total * (1 - 1e-12);
    if (target <= 0) return;
    std::vector<uint32_t> order(index.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), ByScore{index, value});
    std::vector<uint8_t> chosen(index.size(), 0);
    double acc = 0;
    for (uint32_t o : order) {
        chosen[o] = 1;
        acc += value[o];
        if (acc >= target) break;
    }
    emitChosen(index, chosen, out);
}

std::vector<uint32_t> selectTokens(std::span<const uint32_t> index, std::span<const float> value, int64_t n,
                                   RecordKind kind, const SelectionConfig& c)
{
    std::vector<uint32_t> out;
    const int64_t len = kind == RecordKind::Ranked ? static_cast<int64_t>(index.size()) : n;
    if (kind == RecordKind::Selection) {
        out.assign(index.begin(), index.end());
    } else {
        switch (c.mode) {
        case SelectionMode::Dense:
            out.resize(static_cast<size_t>(n));
            std::iota(out.begin(), out.end(), 0u);
            return out;
        case SelectionMode::TopK:
            topTokens(index, value, n, std::min<int64_t>(static_cast<int64_t>(c.value), len), out);
            break;
        case SelectionMode::Ratio: {
            const auto k = static_cast<int64_t>(std::ceil(c.value * static_cast<double>(len) - 1e-9));
            topTokens(index, value, n, std::clamp<int64_t>(k, 0, len), out);
            break;
        }
        case SelectionMode::Mass: massTokens(index, value, c.value, out); break;
        }
    }
    std::vector<uint32_t> extra;
    for (int64_t i = 0; i < std::min(c.sinks, n); ++i) extra.push_back(static_cast<uint32_t>(i));
    for (int64_t i = std::max<int64_t>(0, n - c.window); i < n; ++i) extra.push_back(static_cast<uint32_t>(i));
    std::sort(extra.begin(), extra.end());
    extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
    std::vector<uint32_t> merged;
    std::set_union(out.begin(), out.end(), extra.begin(), extra.end(), std::back_inserter(merged));
    return merged;
}

template <class T>
void appendRow(Csr<T>& csr, const std::vector<T>& row)
{
    csr.items.insert(csr.items.end(), row.begin(), row.end());
    csr.offset.push_back(csr.items.size());
}

Selection computeSelection(const Trace& trace, const SelectionConfig& c)
{
    const TraceMeta& m = trace.meta();
    Selection s;
    s.config = c;
    s.layout = unitLayoutOf(m, c.page_tokens);
    const UnitLayout& lay = s.layout;
    const auto L = static_cast<size_t>(lay.slot_count);
    for (int64_t t = 0; t < m.steps; ++t) {
        std::vector<uint32_t> units;
        // (unit, (sum, max)) with each page's scores added in ascending token order.
        std::vector<std::pair<uint32_t, std::pair<float, float>>> scored;
        std::vector<int64_t> read(L, 0);   // per slot, summed over the sequences
        for (int32_t q = 0; q < m.sequenceCount(); ++q) {
            const int64_t n = m.contextAt(q, t);
            for (int32_t l = 0; l < lay.slot_count; ++l) {
                const size_t rec = trace.recordId(t, q, l);
                auto idx = trace.indices(rec);
                auto val = trace.values(rec);
                const std::vector<uint32_t> toks = ref::selectTokens(idx, val, n, m.kind, c);
                std::vector<uint32_t> pg;
                for (uint32_t tok : toks) {
                    const auto page = static_cast<uint32_t>(tok / static_cast<uint64_t>(c.page_tokens));
                    if (pg.empty() || pg.back() != page) pg.push_back(page);
                }
                for (uint32_t page : pg) {
                    read[static_cast<size_t>(l)] += lay.tokensIn(page, n);
                    units.push_back(lay.unit(q, page, l));
                }
                appendRow(s.tokens, toks);
                appendRow(s.pages, pg);
                for (size_t k = 0; k < idx.size(); ++k) {
                    const uint32_t u = lay.unit(q, idx[k] / c.page_tokens, l);
                    if (!scored.empty() && scored.back().first == u) {
                        scored.back().second.first += val[k];
                        scored.back().second.second = std::max(scored.back().second.second, val[k]);
                    } else {
                        scored.push_back({u, {val[k], val[k]}});
                    }
                }
            }
        }
        s.read_tokens.insert(s.read_tokens.end(), read.begin(), read.end());
        std::sort(units.begin(), units.end());
        std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<uint32_t> su;
        for (const auto& [u, sm] : scored) {
            su.push_back(u);
            s.score_sum.push_back(sm.first);
            s.score_max.push_back(sm.second);
        }
        appendRow(s.step_units, units);
        appendRow(s.score_units, su);
    }
    return s;
}

} // namespace ref

namespace {

std::vector<uint32_t> floatBits(const std::vector<float>& v)
{
    std::vector<uint32_t> out;
    out.reserve(v.size());
    for (float f : v) out.push_back(std::bit_cast<uint32_t>(f));
    return out;
}

// Scores with many ties (a few levels) or spread out, as `tied` says.
float drawScore(std::mt19937_64& rng, bool tied)
{
    if (tied) return static_cast<float>(1 + rng() % 4) * 0.125f;
    return std::uniform_real_distribution<float>(1e-6f, 1.0f)(rng);
}

// `sequences` > 1: a batch (MODEL.md §8) of sequences with their own prefills.
Trace randomTrace(std::mt19937_64& rng, RecordKind kind, bool perLayer, int32_t sequences = 1)
{
    TraceMeta m;
    m.name = "r";
    m.kind = kind;
    m.layer_mode = perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    m.layers = perLayer ? static_cast<int32_t>(1 + rng() % 6) : 4;
    m.prefill = static_cast<int64_t>(rng() % 2 == 0 ? 1 + rng() % 400 : rng() % 40);
    m.steps = static_cast<int64_t>(1 + rng() % 12);
    if (sequences > 1) {
        m.sequence_prefill.push_back(m.prefill);
        for (int32_t q = 1; q < sequences; ++q) m.sequence_prefill.push_back(static_cast<int64_t>(rng() % 300));
    }
    Trace tr(m);
    const bool tied = rng() % 2 == 0;
    const double density = std::uniform_real_distribution<double>(0.02, 1.0)(rng);
    for (int64_t t = 0; t < m.steps; ++t)
        for (int32_t q = 0; q < m.sequenceCount(); ++q)
        for (int32_t l = 0; l < m.layerSlots(); ++l) {
            const int64_t n = m.contextAt(q, t);
            std::vector<uint32_t> idx;
            std::vector<float> val;
            for (int64_t i = 0; i < n; ++i)
                if (std::uniform_real_distribution<double>(0, 1)(rng) < density) idx.push_back(static_cast<uint32_t>(i));
            if (kind == RecordKind::Ranked) {
                std::shuffle(idx.begin(), idx.end(), rng);
                std::vector<uint32_t> index;
                rankScoresFromOrder(idx, index, val);
                idx = index;
            } else {
                for (size_t k = 0; k < idx.size(); ++k)
                    val.push_back(kind == RecordKind::Selection ? 1.0f : drawScore(rng, tied));
            }
            tr.append(t, q, perLayer ? l : -1, idx, val);
        }
    return tr;
}

SelectionConfig randomConfig(std::mt19937_64& rng, RecordKind kind, int64_t maxContext)
{
    SelectionConfig c;
    std::vector<SelectionMode> modes{SelectionMode::Dense};
    if (kind != RecordKind::Selection) {
        modes.push_back(SelectionMode::TopK);
        modes.push_back(SelectionMode::Ratio);
    }
    if (kind == RecordKind::Scores) modes.push_back(SelectionMode::Mass);
    c.mode = modes[rng() % modes.size()];
    switch (c.mode) {
    case SelectionMode::Dense: c.value = 0; break;
    // Budgets small and large against the record: both top-k algorithms are exercised.
    case SelectionMode::TopK: c.value = static_cast<double>(rng() % 2 ? rng() % 8 : rng() % static_cast<uint64_t>(maxContext + 8)); break;
    case SelectionMode::Ratio: c.value = std::uniform_real_distribution<double>(0.001, 1.0)(rng); break;
    case SelectionMode::Mass: c.value = std::uniform_real_distribution<double>(0.01, 1.0)(rng); break;
    }
    c.sinks = rng() % 3 == 0 ? static_cast<int64_t>(rng() % 8) : 0;
    c.window = rng() % 3 == 0 ? static_cast<int64_t>(rng() % 12) : 0;
    c.page_tokens = rng() % 2 ? 1 : static_cast<int64_t>(1 + rng() % 7);
    return c;
}

void expectSame(const Selection& a, const Selection& b)
{
    QCOMPARE(a.tokens.offset, b.tokens.offset);
    QCOMPARE(a.tokens.items, b.tokens.items);
    QCOMPARE(a.pages.offset, b.pages.offset);
    QCOMPARE(a.pages.items, b.pages.items);
    QCOMPARE(a.read_tokens, b.read_tokens);
    QCOMPARE(a.step_units.offset, b.step_units.offset);
    QCOMPARE(a.step_units.items, b.step_units.items);
    QCOMPARE(a.score_units.offset, b.score_units.offset);
    QCOMPARE(a.score_units.items, b.score_units.items);
    QCOMPARE(floatBits(a.score_sum), floatBits(b.score_sum));
    QCOMPARE(floatBits(a.score_max), floatBits(b.score_max));
}

} // namespace

class TestSelectionFast : public QObject {
    Q_OBJECT
private slots:
    void matchesTheReferenceOnRandomTraces()
    {
        std::mt19937_64 rng(20261202);
        int perLayer = 0, smallBudget = 0, extras = 0, paged = 0, batches = 0, asGiven = 0, asGivenBatches = 0;
        for (int round = 0; round < 600; ++round) {
            const auto kind = static_cast<RecordKind>(round % 3);
            const bool layered = round % 4 != 0;
            const int32_t sequences = round % 5 == 1 ? static_cast<int32_t>(2 + rng() % 3) : 1;
            const Trace tr = randomTrace(rng, kind, layered, sequences);
            const SelectionConfig c = randomConfig(rng, kind, tr.meta().contextAt(tr.meta().steps - 1));
            const Selection fast = computeSelection(tr, c);
            const Selection slow = ref::computeSelection(tr, c);
            expectSame(fast, slow);
            if (QTest::currentTestFailed()) {
                qInfo("round %d: kind %s, L %d, P %lld, T %lld, mode %s %g, sinks %lld, window %lld, g %lld", round,
                      toString(kind), tr.meta().layers, static_cast<long long>(tr.meta().prefill),
                      static_cast<long long>(tr.meta().steps), toString(c.mode), c.value,
                      static_cast<long long>(c.sinks), static_cast<long long>(c.window),
                      static_cast<long long>(c.page_tokens));
                return;
            }
            perLayer += layered;
            // Records whose top-k budget is at most 1/16 of their entries (the heap path).
            if (c.mode == SelectionMode::TopK && c.value >= 1)
                for (int64_t r = 0; r < tr.recordCount(); ++r)
                    smallBudget += c.value * 16 <= static_cast<double>(tr.indices(static_cast<size_t>(r)).size());
            extras += c.sinks > 0 || c.window > 0;
            paged += c.page_tokens > 1;
            batches += sequences > 1;
            // Selections read as given at one token per page (selection.cpp's selectAsGiven).
            const bool given = kind == RecordKind::Selection && c.page_tokens == 1 && c.sinks == 0 && c.window == 0;
            asGiven += given;
            asGivenBatches += given && sequences > 1;
        }
        // The draw covers what it claims to.
        QVERIFY(perLayer > 100);
        QVERIFY(smallBudget > 100);
        QVERIFY(extras > 40);
        QVERIFY(paged > 60);
        QVERIFY(batches > 100);
        QVERIFY(asGiven > 30);
        QVERIFY(asGivenBatches > 5);
    }

    void selectTokensMatchesTheReferenceWithZerosAndTies()
    {
        // Records as a caller may pass them (zeros included), every mode and budget.
        std::mt19937_64 rng(7);
        for (int round = 0; round < 3000; ++round) {
            const auto n = static_cast<int64_t>(1 + rng() % 300);
            std::vector<uint32_t> idx;
            std::vector<float> val;
            const bool tied = rng() % 2 == 0;
            for (int64_t i = 0; i < n; ++i)
                if (rng() % 3 != 0) {
                    idx.push_back(static_cast<uint32_t>(i));
                    val.push_back(rng() % 9 == 0 ? 0.0f : drawScore(rng, tied));
                }
            SelectionConfig c = randomConfig(rng, RecordKind::Scores, n);
            c.page_tokens = 1;
            const auto got = selectTokens(idx, val, n, RecordKind::Scores, c);
            const auto want = ref::selectTokens(idx, val, n, RecordKind::Scores, c);
            if (got != want) {
                qInfo("round %d: n %lld, mode %s %g, sinks %lld, window %lld", round, static_cast<long long>(n),
                      toString(c.mode), c.value, static_cast<long long>(c.sinks), static_cast<long long>(c.window));
                QCOMPARE(got, want);
            }
        }
    }

    void handComputedPerLayerStep()
    {
        // P = 4, one step, L = 2, g = 2: layer 0 scores tokens 0, 1, 3; layer 1 tokens 2, 3.
        TraceMeta m;
        m.name = "h";
        m.prefill = 4;
        m.steps = 1;
        m.layers = 2;
        m.layer_mode = LayerMode::PerLayer;
        Trace tr(m);
        tr.append(0, 0, std::vector<uint32_t>{0, 1, 3}, std::vector<float>{0.25f, 0.5f, 0.125f});
        tr.append(0, 1, std::vector<uint32_t>{2, 3}, std::vector<float>{0.75f, 0.0625f});
        const Selection s = computeSelection(tr, {SelectionMode::TopK, 1, 0, 0, 2});
        // Layer 0 reads token 1 (page 0), layer 1 token 2 (page 1): units 0*2+0 and 1*2+1.
        QCOMPARE(s.tokens.items, (std::vector<uint32_t>{1, 2}));
        QCOMPARE(s.step_units.items, (std::vector<uint32_t>{0, 3}));
        // Scored units: (page 0, l 0) = 0, (page 1, l 0) = 2, (page 1, l 1) = 3.
        QCOMPARE(s.score_units.items, (std::vector<uint32_t>{0, 2, 3}));
        QCOMPARE(s.score_sum, (std::vector<float>{0.75f, 0.125f, 0.8125f}));
        QCOMPARE(s.score_max, (std::vector<float>{0.5f, 0.125f, 0.75f}));
        QCOMPARE(s.read_tokens, (std::vector<int64_t>{2, 2}));
    }
};

QTEST_GUILESS_MAIN(TestSelectionFast)
#include "tst_selection_fast.moc"
