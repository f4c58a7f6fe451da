#include "core/engine/selection.hpp"

#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <tbb/blocked_range.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>

namespace kvtier {

namespace {

// Order of MODEL.md §2: score descending, ties by lower index first.
struct ByScore {
    std::span<const uint32_t> index;
    std::span<const float> value;
    bool operator()(uint32_t a, uint32_t b) const {
        if (value[a] != value[b]) return value[a] > value[b];
        return index[a] < index[b];
    }
};

// Emits, in ascending token order, the positions of the sparse record marked in `chosen`.
void emitChosen(std::span<const uint32_t> index, const std::vector<uint8_t>& chosen, std::vector<uint32_t>& out)
{
    for (size_t pos = 0; pos < index.size(); ++pos)
        if (chosen[pos]) out.push_back(index[pos]);
}

// The k highest-scoring tokens of a sparse record whose absent tokens score 0, ascending.
void topTokens(std::span<const uint32_t> index, std::span<const float> value, int64_t n, int64_t k,
               std::vector<uint32_t>& out)
{
    const int64_t nnz = static_cast<int64_t>(index.size());
    if (k >= nnz) {
        // Every scored token, merged with the zero-score tokens of lowest index (the tail
        // of the order: score 0, ties by index) in one ascending walk.
        int64_t need = std::min(k, n) - nnz;
        size_t j = 0;
        uint32_t tok = 0;
        while (j < index.size() || need > 0) {
            if (j < index.size() && index[j] == tok) {
                out.push_back(tok++);
                ++j;
            } else if (need > 0) {
                out.push_back(tok++);
                --need;
            } else {
                tok = index[j];   // no zero-score token is needed any more
            }
        }
        return;
    }
    std::vector<uint32_t> order(index.size());
    std::iota(order.begin(), order.end(), 0u);
    std::nth_element(order.begin(), order.begin() + k, order.end(), ByScore{index, value});
    std::vector<uint8_t> chosen(index.size(), 0);
    for (int64_t i = 0; i < k; ++i) chosen[order[static_cast<size_t>(i)]] = 1;
    emitChosen(index, chosen, out);
}

// The fewest highest scores reaching tau of the total, ascending.
void massTokens(std::span<const uint32_t> index, std::span<const float> value, double tau,
                std::vector<uint32_t>& out)
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

} // namespace

std::vector<uint32_t> selectTokens(std::span<const uint32_t> index, std::span<const float> value,
                                   int64_t n, RecordKind kind, const SelectionConfig& c)
{
    std::vector<uint32_t> out;
    // A ranked record's budget counts its own entries (MODEL.md §8: the first K /
    // ceil(rho * len) of the list); a score record's counts the whole context.
    const int64_t len = kind == RecordKind::Ranked ? static_cast<int64_t>(index.size()) : n;
    if (kind == RecordKind::Selection) {
        out.assign(index.begin(), index.end());
    } else {
        switch (c.mode) {
        case SelectionMode::Dense:
            out.resize(static_cast<size_t>(n));
            std::iota(out.begin(), out.end(), 0u);
            return out;   // extras cannot add anything
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
    // `out` is ascending; the always-kept extras are merged in.
    const int64_t sinks = std::min(c.sinks, n), windowStart = std::max<int64_t>(0, n - c.window);
    if (sinks == 0 && windowStart >= n) return out;
    std::vector<uint32_t> extra;
    for (int64_t i = 0; i < sinks; ++i) extra.push_back(static_cast<uint32_t>(i));
    for (int64_t i = std::max(windowStart, sinks); i < n; ++i) extra.push_back(static_cast<uint32_t>(i));
    std::vector<uint32_t> merged;
    merged.reserve(out.size() + extra.size());
    std::set_union(out.begin(), out.end(), extra.begin(), extra.end(), std::back_inserter(merged));
    return merged;
}

namespace {

struct StepPart {
    std::vector<std::vector<uint32_t>> tokens, pages;   // per slot
    std::vector<int64_t> readTokens;                    // per slot
    std::vector<uint32_t> units;
    std::vector<uint32_t> scoreUnits;
    std::vector<float> scoreSum, scoreMax;
};

template <class T>
void appendRow(Csr<T>& csr, const std::vector<T>& row)
{
    csr.items.insert(csr.items.end(), row.begin(), row.end());
    csr.offset.push_back(csr.items.size());
}

} // namespace

Selection computeSelection(const Trace& trace, const SelectionConfig& c, const JobControl& job)
{
    validate(c);
    const TraceMeta& m = trace.meta();
    if (!trace.complete())
        throw InputError("trace '" + m.name + "'", "incomplete: " + std::to_string(trace.recordCount()) +
                                                       " of " + std::to_string(m.recordCount()) + " records");
    // A selection record is already the step's read set and has no scores to rank, so a
    // budget mode would have nothing to act on; refusing it beats ignoring it silently.
    if (m.kind == RecordKind::Selection && c.mode != SelectionMode::Dense)
        throw InputError("selection.mode", std::string(toString(c.mode)) + " needs scores, but trace '" + m.name +
                                               "' holds selections, which are read as given: use \"dense\"");
    if (m.kind == RecordKind::Ranked && c.mode == SelectionMode::Mass)
        throw InputError("selection.mode", "mass needs scores, but trace '" + m.name +
                                               "' holds ranked records (an order without scores): use topk, ratio or dense");
    if (m.sequenceCount() > 1)
        throw InputError("trace '" + m.name + "'",
                         "holds S = " + std::to_string(m.sequenceCount()) +
                             " sequences; this build stores, imports and exports batches of distinct sequences "
                             "(MODEL.md §8) but analyses only traces of one sequence");
    Selection s;
    s.config = c;
    s.layout = UnitLayout{m.prefill, m.steps, m.layerSlots(), c.page_tokens};
    if (!trace.experts().empty()) s.experts = std::make_shared<const ExpertSets>(trace.experts());
    const UnitLayout& lay = s.layout;
    const int32_t slots = lay.slot_count;
    const auto T = static_cast<size_t>(m.steps);

    std::vector<StepPart> parts(T);
    parallelFor(tbb::blocked_range<size_t>(0, T, 16), [&](const tbb::blocked_range<size_t>& r) {
        job.check();
        for (size_t t = r.begin(); t != r.end(); ++t) {
            StepPart& p = parts[t];
            const int64_t n = m.contextAt(static_cast<int64_t>(t));
            p.tokens.resize(static_cast<size_t>(slots));
            p.pages.resize(static_cast<size_t>(slots));
            p.readTokens.assign(static_cast<size_t>(slots), 0);
            std::vector<std::pair<uint32_t, std::pair<float, float>>> scored;
            for (int32_t l = 0; l < slots; ++l) {
                const size_t rec = trace.recordId(static_cast<int64_t>(t), l);
                auto idx = trace.indices(rec);
                auto val = trace.values(rec);
                auto& toks = p.tokens[static_cast<size_t>(l)];
                toks = selectTokens(idx, val, n, m.kind, c);
                auto& pg = p.pages[static_cast<size_t>(l)];
                for (uint32_t tok : toks) {
                    const auto page = static_cast<uint32_t>(tok / static_cast<uint64_t>(c.page_tokens));
                    if (pg.empty() || pg.back() != page) pg.push_back(page);
                }
                int64_t read = 0;
                for (uint32_t page : pg) {
                    read += lay.tokensIn(page, n);
                    p.units.push_back(lay.unit(page, l));
                }
                p.readTokens[static_cast<size_t>(l)] = read;
                // Units' scores: tokens ascending, so each page's tokens are contiguous.
                for (size_t k = 0; k < idx.size(); ++k) {
                    const uint32_t u = lay.unit(idx[k] / c.page_tokens, l);
                    if (!scored.empty() && scored.back().first == u) {
                        scored.back().second.first += val[k];
                        scored.back().second.second = std::max(scored.back().second.second, val[k]);
                    } else {
                        scored.push_back({u, {val[k], val[k]}});
                    }
                }
            }
            if (slots > 1) {
                std::sort(p.units.begin(), p.units.end());
                std::sort(scored.begin(), scored.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
            }
            for (const auto& [u, sm] : scored) {
                p.scoreUnits.push_back(u);
                p.scoreSum.push_back(sm.first);
                p.scoreMax.push_back(sm.second);
            }
        }
    }, job);
    job.report(0.5);

    size_t nTok = 0, nPages = 0, nUnits = 0, nScores = 0;
    for (const auto& p : parts) {
        for (const auto& v : p.tokens) nTok += v.size();
        for (const auto& v : p.pages) nPages += v.size();
        nUnits += p.units.size();
        nScores += p.scoreUnits.size();
    }
    s.tokens.items.reserve(nTok);
    s.pages.items.reserve(nPages);
    s.step_units.items.reserve(nUnits);
    s.score_units.items.reserve(nScores);
    s.score_sum.reserve(nScores);
    s.score_max.reserve(nScores);
    s.read_tokens.reserve(T * static_cast<size_t>(slots));
    for (auto& p : parts) {
        for (int32_t l = 0; l < slots; ++l) {
            appendRow(s.tokens, p.tokens[static_cast<size_t>(l)]);
            appendRow(s.pages, p.pages[static_cast<size_t>(l)]);
            s.read_tokens.push_back(p.readTokens[static_cast<size_t>(l)]);
        }
        appendRow(s.step_units, p.units);
        appendRow(s.score_units, p.scoreUnits);
        s.score_sum.insert(s.score_sum.end(), p.scoreSum.begin(), p.scoreSum.end());
        s.score_max.insert(s.score_max.end(), p.scoreMax.begin(), p.scoreMax.end());
        p = StepPart{};
    }
    job.report(1.0);
    return s;
}

} // namespace kvtier
