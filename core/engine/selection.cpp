#include "core/engine/selection.hpp"

#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>

namespace kvtier {

namespace {

// The order of MODEL.md §2 (score descending, ties by lower index first) as one integer:
// a larger key comes first. The score's bits are mapped so that unsigned order is float
// order (exact for every non-NaN float; -0 is read as +0, as == does), and the index is
// inverted below them, so equal scores put the lower index first. Keys of distinct
// indices are distinct, so "the k largest keys" is exactly the first k of the order.
inline uint64_t orderKey(float v, uint32_t index)
{
    uint32_t b = v == 0.0f ? 0u : std::bit_cast<uint32_t>(v);
    b = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
    return (uint64_t{b} << 32) | (0xFFFFFFFFu - index);
}

inline float scoreOfKey(uint64_t key)
{
    const auto b = static_cast<uint32_t>(key >> 32);
    return std::bit_cast<float>((b & 0x80000000u) ? (b & 0x7FFFFFFFu) : ~b);
}

inline uint32_t indexOfKey(uint64_t key) { return 0xFFFFFFFFu - static_cast<uint32_t>(key); }

struct ScoredUnit {
    uint32_t unit;
    float sum, max;
};

// One thread's reusable buffers (nothing is allocated per record once they have grown).
struct Scratch {
    std::vector<uint64_t> keys;
    std::vector<uint32_t> picked;   // one record's budget selection, ascending
    std::vector<size_t> start;      // per page: count, then next position (mergeByPage)
    std::vector<uint32_t> groupPage;   // a step's scored pages per slot (page_tokens > 1)
    std::vector<float> groupSum, groupMax;
    std::vector<size_t> groupEnd;   // per slot, into groupPage
    std::vector<std::span<const uint32_t>> slotIndex;   // a step's records, per slot
    std::vector<std::span<const float>> slotValue;
    std::vector<ScoredUnit> scored;   // a batch's step (S > 1): every record's scored units
};

// Emits, ascending, the entries of a sparse record whose key is at least `threshold`.
void emitFrom(std::span<const uint32_t> index, std::span<const float> value, uint64_t threshold,
              std::vector<uint32_t>& out)
{
    for (size_t pos = 0; pos < index.size(); ++pos)
        if (orderKey(value[pos], index[pos]) >= threshold) out.push_back(index[pos]);
}

// The k highest-scoring tokens of a sparse record whose absent tokens score 0, ascending.
void topTokens(std::span<const uint32_t> index, std::span<const float> value, int64_t n, int64_t k,
               Scratch& s, std::vector<uint32_t>& out)
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
    if (k <= 0) return;
    auto& keys = s.keys;
    const auto kk = static_cast<size_t>(k);
    if (kk * 16 <= index.size()) {
        // A small budget: a min-heap of the k best keys seen so far; most entries lose
        // against its root in one comparison. Its members, sorted by index, are the answer.
        keys.clear();
        for (size_t pos = 0; pos < kk; ++pos) keys.push_back(orderKey(value[pos], index[pos]));
        std::make_heap(keys.begin(), keys.end(), std::greater<>());
        for (size_t pos = kk; pos < index.size(); ++pos) {
            const uint64_t key = orderKey(value[pos], index[pos]);
            if (key > keys.front()) {
                std::pop_heap(keys.begin(), keys.end(), std::greater<>());
                keys.back() = key;
                std::push_heap(keys.begin(), keys.end(), std::greater<>());
            }
        }
        const size_t first = out.size();
        for (uint64_t key : keys) out.push_back(indexOfKey(key));
        std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
        return;
    }
    keys.resize(index.size());
    for (size_t pos = 0; pos < index.size(); ++pos) keys[pos] = orderKey(value[pos], index[pos]);
    std::nth_element(keys.begin(), keys.begin() + (k - 1), keys.end(), std::greater<>());
    emitFrom(index, value, keys[kk - 1], out);
}

// The fewest highest scores reaching tau of the total, ascending.
void massTokens(std::span<const uint32_t> index, std::span<const float> value, double tau, Scratch& s,
                std::vector<uint32_t>& out)
{
    double total = 0;
    for (float v : value) total += v;
    const double target = tau * total * (1 - 1e-12);
    if (target <= 0 || index.empty()) return;
    auto& keys = s.keys;
    keys.resize(index.size());
    for (size_t pos = 0; pos < index.size(); ++pos) keys[pos] = orderKey(value[pos], index[pos]);
    std::sort(keys.begin(), keys.end(), std::greater<>());
    // The same additions, in the same order, as summing the scores along the §2 order.
    double acc = 0;
    size_t taken = 0;
    while (taken < keys.size()) {
        acc += scoreOfKey(keys[taken++]);
        if (acc >= target) break;
    }
    emitFrom(index, value, keys[taken - 1], out);
}

// Appends the tokens one record selects (MODEL.md §2), ascending, to `out`.
void selectInto(std::span<const uint32_t> index, std::span<const float> value, int64_t n, RecordKind kind,
                const SelectionConfig& c, Scratch& s, std::vector<uint32_t>& out)
{
    // A ranked record's budget counts its own entries (MODEL.md §8: the first K /
    // ceil(rho * len) of the list); a score record's counts the whole context.
    const int64_t len = kind == RecordKind::Ranked ? static_cast<int64_t>(index.size()) : n;
    std::span<const uint32_t> chosen = index;   // selection records: read as given
    if (kind != RecordKind::Selection) {
        s.picked.clear();
        switch (c.mode) {
        case SelectionMode::Dense: {
            // Every token: the always-kept extras cannot add anything.
            const size_t first = out.size();
            out.resize(first + static_cast<size_t>(n));
            for (size_t i = 0; i < static_cast<size_t>(n); ++i) out[first + i] = static_cast<uint32_t>(i);
            return;
        }
        case SelectionMode::TopK:
            topTokens(index, value, n, std::min<int64_t>(static_cast<int64_t>(c.value), len), s, s.picked);
            break;
        case SelectionMode::Ratio: {
            const auto k = static_cast<int64_t>(std::ceil(c.value * static_cast<double>(len) - 1e-9));
            topTokens(index, value, n, std::clamp<int64_t>(k, 0, len), s, s.picked);
            break;
        }
        case SelectionMode::Mass: massTokens(index, value, c.value, s, s.picked); break;
        }
        chosen = s.picked;
    }
    // The union with the always-kept extras [0, sinks) and [windowStart, n): the chosen
    // tokens between them, in between, all three ranges disjoint and ascending.
    const int64_t sinks = std::min(c.sinks, n);
    const int64_t windowStart = std::max(std::max<int64_t>(0, n - c.window), sinks);
    for (int64_t i = 0; i < sinks; ++i) out.push_back(static_cast<uint32_t>(i));
    auto lo = chosen.begin(), hi = chosen.end();
    if (sinks > 0) lo = std::lower_bound(lo, hi, static_cast<uint32_t>(sinks));
    if (windowStart < n) hi = std::lower_bound(lo, hi, static_cast<uint32_t>(windowStart));
    out.insert(out.end(), lo, hi);
    for (int64_t i = windowStart; i < n; ++i) out.push_back(static_cast<uint32_t>(i));
}

} // namespace

std::vector<uint32_t> selectTokens(std::span<const uint32_t> index, std::span<const float> value,
                                   int64_t n, RecordKind kind, const SelectionConfig& c)
{
    Scratch s;
    std::vector<uint32_t> out;
    selectInto(index, value, n, kind, c, s, out);
    return out;
}

namespace {

// Steps per block of the parallel loop: each block's tokens, pages and units go to its
// own buffers, which are then copied into the Selection's arrays in parallel.
constexpr size_t kBlockSteps = 8;

struct Block {
    std::vector<uint32_t> tokens, pages, units;
    std::vector<size_t> tokenEnd, pageEnd;   // per row of the block, into tokens / pages
    std::vector<size_t> unitEnd;             // per step of the block, into units
    std::vector<int64_t> readTokens;         // per row
};

// Merges the slots' ascending page lists of one step into ascending units
// (unit = page * L + slot, MODEL.md §5) with a counting sort by page: within a page the
// slots come in increasing order because the slots are scattered in that order.
// forEachPage(l, f) calls f(page) for slot l's pages in order; emit(position, l, k) writes
// slot l's k-th entry at `position` of the step's output. `start` holds pages + 1 zeros on
// entry and on exit. Returns the step's output length.
template <class ForEachPage, class Emit>
size_t mergeByPage(int32_t slots, size_t pages, std::vector<size_t>& start, const ForEachPage& forEachPage,
                   const Emit& emit)
{
    for (int32_t l = 0; l < slots; ++l) forEachPage(l, [&](uint32_t page, size_t) { ++start[page + 1]; });
    for (size_t p = 1; p <= pages; ++p) start[p] += start[p - 1];
    const size_t total = start[pages];
    for (int32_t l = 0; l < slots; ++l) forEachPage(l, [&](uint32_t page, size_t k) { emit(start[page]++, l, k); });
    std::fill(start.begin(), start.begin() + static_cast<std::ptrdiff_t>(pages) + 1, size_t{0});
    return total;
}

// A step's read units over all sequences and slots, ascending, written to `units` (room
// for every page of the rows). rowPages(q, l): the ascending pages sequence q reads in slot
// l. A batch's units are numbered in creation order (UnitLayout): sorted, there being no
// page order to merge by; one sequence's slots are merged by page. `contextPages`: the
// step's pages of context; `sc` lends its start counts and slotIndex.
template <class RowPages>
void mergeStepUnits(const UnitLayout& lay, size_t contextPages, const RowPages& rowPages, Scratch& sc, uint32_t* units)
{
    const int32_t S = lay.sequences(), slots = lay.slot_count;
    if (S > 1) {
        size_t k = 0;
        for (int32_t q = 0; q < S; ++q)
            for (int32_t l = 0; l < slots; ++l)
                for (uint32_t page : rowPages(q, l)) units[k++] = lay.unit(q, page, l);
        std::sort(units, units + k);
    } else if (slots == 1) {
        const auto pg = rowPages(0, 0);
        std::copy(pg.begin(), pg.end(), units);
    } else {
        sc.slotIndex.clear();
        for (int32_t l = 0; l < slots; ++l) sc.slotIndex.push_back(rowPages(0, l));
        mergeByPage(slots, contextPages, sc.start,
                    [&](int32_t l, const auto& f) {
                        const auto pg = sc.slotIndex[static_cast<size_t>(l)];
                        for (size_t k = 0; k < pg.size(); ++k) f(pg[k], k);
                    },
                    [&](size_t pos, int32_t l, size_t k) {
                        units[pos] = lay.unit(0, sc.slotIndex[static_cast<size_t>(l)][k], l);
                    });
    }
}

// Scored units of one record (page_tokens > 1): each page's tokens are contiguous and
// ascending, and are summed in that order.
void groupScores(std::span<const uint32_t> idx, std::span<const float> val, int64_t g, Scratch& s)
{
    for (size_t k = 0; k < idx.size(); ++k) {
        const auto page = static_cast<uint32_t>(idx[k] / static_cast<uint64_t>(g));
        if (k > 0 && s.groupPage.back() == page) {
            s.groupSum.back() += val[k];
            s.groupMax.back() = std::max(s.groupMax.back(), val[k]);
        } else {
            s.groupPage.push_back(page);
            s.groupSum.push_back(val[k]);
            s.groupMax.push_back(val[k]);
        }
    }
    s.groupEnd.push_back(s.groupPage.size());
}

} // namespace

namespace {

// Resizes `v` to n; when it must grow, with a quarter to spare. A streamed analysis's
// windows grow with the context, and an array reallocated for each slightly larger window
// would be touched afresh every time (SelectionBuffers).
template <class T>
void resizeWithSpare(std::vector<T>& v, size_t n)
{
    if (v.capacity() < n) v.reserve(n + n / 4);
    v.resize(n);
}

template <class T>
void reserveWithSpare(std::vector<T>& v, size_t n)
{
    if (v.capacity() < n) v.reserve(n + n / 4);
}

void clearBlock(Block& p)
{
    p.tokens.clear();
    p.pages.clear();
    p.units.clear();
    p.tokenEnd.clear();
    p.pageEnd.clear();
    p.unitEnd.clear();
    p.readTokens.clear();
}

// The selection stage, built in `s`'s arrays (emptied first) with `parts` as the blocks'
// lists; `keepParts` leaves the parts' memory for the next call instead of freeing it as
// soon as each is copied.
Selection select(const Trace& trace, const SelectionConfig& c, const JobControl& job, Selection s,
                 std::vector<Block>& parts, bool keepParts);

} // namespace

struct SelectionBuffers::Parts {
    std::vector<Block> blocks;
};

SelectionBuffers::SelectionBuffers() : parts_(std::make_unique<Parts>()) {}
SelectionBuffers::~SelectionBuffers() = default;

void SelectionBuffers::recycle(Selection&& used) { spare_ = std::move(used); }

Selection computeSelection(const Trace& trace, const SelectionConfig& c, const JobControl& job)
{
    std::vector<Block> parts;
    return select(trace, c, job, Selection{}, parts, false);
}

Selection computeSelection(const Trace& trace, const SelectionConfig& c, SelectionBuffers& buffers, const JobControl& job)
{
    return select(trace, c, job, std::move(buffers.spare_), buffers.parts_->blocks, true);
}

namespace {

// Selection records read as given at one token per page (a stored selection in dense mode
// with no sinks or window, the usual way such traces are analysed): a record's selected
// tokens are its entries, its read pages the same list, a step's scored units its read
// units, each of relevance 1 (MODEL.md §2, what select() below computes for them). Every
// list's length is known before anything is selected, so each is written straight to its
// place: no per-block parts to concatenate. `s` has its config, layout and first step.
void selectAsGiven(const Trace& trace, const JobControl& job, Selection& s)
{
    const TraceMeta& m = trace.meta();
    const UnitLayout& lay = s.layout;
    const int32_t slots = lay.slot_count;
    const int32_t S = lay.sequences();
    const auto L = static_cast<size_t>(slots);
    const size_t rowsPerStep = static_cast<size_t>(S) * L;
    const int64_t first = s.first_step;
    const auto T = static_cast<size_t>(trace.isWindow() ? trace.heldSteps() : m.steps);
    const auto recOf = [&](size_t t, int32_t q, int32_t l) { return trace.recordId(first + static_cast<int64_t>(t), q, l); };

    // Offsets: a record's lists are as long as it is; a step reads one unit per entry.
    s.tokens.offset.resize(T * rowsPerStep + 1);
    s.pages.offset.resize(T * rowsPerStep + 1);
    s.step_units.offset.resize(T + 1);
    s.read_tokens.assign(T * L, 0);
    size_t at = 0;
    for (size_t t = 0; t < T; ++t) {
        for (int32_t q = 0; q < S; ++q)
            for (int32_t l = 0; l < slots; ++l) {
                const size_t n = trace.indices(recOf(t, q, l)).size();
                at += n;
                const size_t row = (t * static_cast<size_t>(S) + static_cast<size_t>(q)) * L + static_cast<size_t>(l) + 1;
                s.tokens.offset[row] = s.pages.offset[row] = at;
                s.read_tokens[t * L + static_cast<size_t>(l)] += static_cast<int64_t>(n);
            }
        s.step_units.offset[t + 1] = at;
    }
    s.score_units.offset = s.step_units.offset;
    // The large arrays are first touched by both threads at once.
    parallelFor(0, 6, [&](int i) {
        switch (i) {
        case 0: resizeWithSpare(s.tokens.items, at); break;
        case 1: resizeWithSpare(s.pages.items, at); break;
        case 2: resizeWithSpare(s.step_units.items, at); break;
        case 3: resizeWithSpare(s.score_units.items, at); break;
        case 4: resizeWithSpare(s.score_sum, at); break;
        default: resizeWithSpare(s.score_max, at); break;
        }
    }, job);

    tbb::enumerable_thread_specific<Scratch> scratch;
    const auto maxPages = static_cast<size_t>(lay.pagesAt(m.prefill + m.steps));
    parallelFor(tbb::blocked_range<size_t>(0, T, 1), [&](const tbb::blocked_range<size_t>& r) {
        job.check();
        Scratch& sc = scratch.local();
        if (sc.start.size() < maxPages + 1) sc.start.assign(maxPages + 1, 0);
        for (size_t t = r.begin(); t != r.end(); ++t) {
            const size_t base = s.step_units.offset[t], end = s.step_units.offset[t + 1];
            for (int32_t q = 0; q < S; ++q)
                for (int32_t l = 0; l < slots; ++l) {
                    const auto idx = trace.indices(recOf(t, q, l));
                    const size_t row = (t * static_cast<size_t>(S) + static_cast<size_t>(q)) * L + static_cast<size_t>(l);
                    // std::copy: an empty record may have null data, which memcpy may not be given.
                    std::copy(idx.begin(), idx.end(), s.tokens.items.begin() + static_cast<std::ptrdiff_t>(s.tokens.offset[row]));
                    std::copy(idx.begin(), idx.end(), s.pages.items.begin() + static_cast<std::ptrdiff_t>(s.pages.offset[row]));
                }
            // The step's read units over all sequences and slots, ascending.
            uint32_t* units = s.step_units.items.data() + base;
            mergeStepUnits(lay, static_cast<size_t>(lay.pagesAt(m.contextAt(first + static_cast<int64_t>(t)))),
                           [&](int32_t q, int32_t l) { return trace.indices(recOf(t, q, l)); }, sc, units);
            std::copy(units, units + (end - base), s.score_units.items.data() + base);
            std::fill(s.score_sum.data() + base, s.score_sum.data() + end, 1.0f);
            std::fill(s.score_max.data() + base, s.score_max.data() + end, 1.0f);
        }
    }, job);
    job.report(1.0);
}

Selection select(const Trace& trace, const SelectionConfig& c, const JobControl& job, Selection s,
                 std::vector<Block>& parts, bool keepParts)
{
    validate(c);
    const TraceMeta& m = trace.meta();
    if (!trace.isWindow() && !trace.complete())
        throw InputError("trace '" + m.name + "'", "incomplete: " + std::to_string(trace.recordCount()) +
                                                       " of " + std::to_string(m.recordCount()) + " records");
    if (trace.isWindow() && trace.recordCount() != trace.heldSteps() * m.layerSlots() * m.sequenceCount())
        throw InputError("trace '" + m.name + "'", "window from step " + std::to_string(trace.firstStep()) +
                                                       " ends inside a step");
    // A selection record is already the step's read set and has no scores to rank, so a
    // budget mode would have nothing to act on; refusing it beats ignoring it silently.
    if (m.kind == RecordKind::Selection && c.mode != SelectionMode::Dense)
        throw InputError("selection.mode", std::string(toString(c.mode)) + " needs scores, but trace '" + m.name +
                                               "' holds selections, which are read as given: use \"dense\"");
    if (m.kind == RecordKind::Ranked && c.mode == SelectionMode::Mass)
        throw InputError("selection.mode", "mass needs scores, but trace '" + m.name +
                                               "' holds ranked records (an order without scores): use topk, ratio or dense");
    // A recycled selection's arrays keep their contents: every element below the new size
    // is written again, and resizing without clearing first zero-fills only what is added.
    s.tokens.offset.assign(1, 0);
    s.pages.offset.assign(1, 0);
    s.step_units.offset.assign(1, 0);
    s.score_units.offset.assign(1, 0);
    s.config = c;
    s.layout = unitLayoutOf(m, c.page_tokens);
    s.experts = trace.experts().empty() ? nullptr : std::make_shared<const ExpertSets>(trace.experts());
    const UnitLayout& lay = s.layout;
    const int32_t slots = lay.slot_count;
    const int32_t S = lay.sequences();
    const auto L = static_cast<size_t>(slots);
    const size_t rowsPerStep = static_cast<size_t>(S) * L;   // (sequence, slot) records of a step
    // A window of steps (Trace::startWindow) selects the steps it holds; t below counts from
    // its first step, `first + t` is the step in the run.
    const int64_t first = trace.firstStep();
    s.first_step = first;
    const auto T = static_cast<size_t>(trace.isWindow() ? trace.heldSteps() : m.steps);
    const int64_t g = c.page_tokens;
    const auto rec = [&](size_t t, int32_t l) { return trace.recordId(first + static_cast<int64_t>(t), l); };
    const auto recOf = [&](size_t t, int32_t q, int32_t l) { return trace.recordId(first + static_cast<int64_t>(t), q, l); };

    if (m.kind == RecordKind::Selection && g == 1 && c.sinks == 0 && c.window == 0) {
        selectAsGiven(trace, job, s);
        return s;
    }

    // Scored units per step are known before selecting: every entry is one (g = 1), or one
    // per run of entries on the same page. They go straight into the Selection's arrays.
    s.score_units.offset.assign(T + 1, 0);
    parallelFor(tbb::blocked_range<size_t>(0, T, T >= 64 ? 16 : 1), [&](const tbb::blocked_range<size_t>& r) {
        for (size_t t = r.begin(); t != r.end(); ++t) {
            size_t count = 0;
            for (size_t k0 = 0; k0 < rowsPerStep; ++k0) {
                auto idx = trace.indices(recOf(t, static_cast<int32_t>(k0 / L), static_cast<int32_t>(k0 % L)));
                if (g == 1) {
                    count += idx.size();
                    continue;
                }
                for (size_t k = 0; k < idx.size(); ++k)
                    if (k == 0 || idx[k] / g != idx[k - 1] / g) ++count;
            }
            s.score_units.offset[t + 1] = count;
        }
    }, job);
    for (size_t t = 0; t < T; ++t) s.score_units.offset[t + 1] += s.score_units.offset[t];
    const size_t nScores = s.score_units.offset[T];
    // The large arrays are zero-filled (first touched) by both threads at once.
    parallelFor(0, 3, [&](int i) {
        if (i == 0) resizeWithSpare(s.score_units.items, nScores);
        else if (i == 1) resizeWithSpare(s.score_sum, nScores);
        else resizeWithSpare(s.score_max, nScores);
    }, job);

    // Blocks of kBlockSteps steps; fewer steps than that per thread (a streamed window of
    // a few long steps) take one step per block, so every thread has one.
    const size_t blockSteps = T >= kBlockSteps * 4 ? kBlockSteps : 1;
    const size_t blocks = (T + blockSteps - 1) / blockSteps;
    parts.resize(blocks);
    for (Block& p : parts) clearBlock(p);
    tbb::enumerable_thread_specific<Scratch> scratch;
    const auto maxPages = static_cast<size_t>(lay.pagesAt(m.prefill + m.steps));
    parallelFor(tbb::blocked_range<size_t>(0, blocks, 1), [&](const tbb::blocked_range<size_t>& r) {
        job.check();
        Scratch& sc = scratch.local();
        if (sc.start.size() < maxPages + 1) sc.start.assign(maxPages + 1, 0);
        for (size_t b = r.begin(); b != r.end(); ++b) {
            Block& p = parts[b];
            const size_t t0 = b * blockSteps, t1 = std::min(T, t0 + blockSteps);
            p.tokenEnd.reserve((t1 - t0) * rowsPerStep);
            p.pageEnd.reserve((t1 - t0) * rowsPerStep);
            p.readTokens.reserve((t1 - t0) * L);
            for (size_t t = t0; t < t1; ++t) {
                const size_t firstRow = p.pageEnd.size();
                const size_t readRow = p.readTokens.size();
                p.readTokens.resize(readRow + L, 0);
                for (int32_t q = 0; q < S; ++q) {
                    const int64_t n = lay.prefillOf(q) + first + static_cast<int64_t>(t);
                    for (int32_t l = 0; l < slots; ++l) {
                        const size_t id = recOf(t, q, l);
                        const size_t tokBegin = p.tokens.size();
                        selectInto(trace.indices(id), trace.values(id), n, m.kind, c, sc, p.tokens);
                        p.tokenEnd.push_back(p.tokens.size());
                        int64_t read = 0;
                        const size_t pageBegin = p.pages.size();
                        if (g == 1) {
                            // A page per token, each of one existing token.
                            p.pages.insert(p.pages.end(), p.tokens.begin() + static_cast<std::ptrdiff_t>(tokBegin),
                                           p.tokens.end());
                            read = static_cast<int64_t>(p.tokens.size() - tokBegin);
                        } else {
                            for (size_t k = tokBegin; k < p.tokens.size(); ++k) {
                                const auto page = static_cast<uint32_t>(p.tokens[k] / static_cast<uint64_t>(g));
                                if (p.pages.size() == pageBegin || p.pages.back() != page) {
                                    p.pages.push_back(page);
                                    read += lay.tokensIn(page, n);
                                }
                            }
                        }
                        p.pageEnd.push_back(p.pages.size());
                        p.readTokens[readRow + static_cast<size_t>(l)] += read;
                    }
                }
                // The step's read units over all sequences and slots, ascending.
                auto rowPages = [&](int32_t q, int32_t l) {
                    const size_t row = firstRow + static_cast<size_t>(q) * L + static_cast<size_t>(l);
                    const size_t lo = row == 0 ? 0 : p.pageEnd[row - 1];
                    return std::span<const uint32_t>(p.pages.data() + lo, p.pageEnd[row] - lo);
                };
                const size_t base = p.units.size();
                size_t need = 0;
                for (int32_t q = 0; q < S; ++q)
                    for (int32_t l = 0; l < slots; ++l) need += rowPages(q, l).size();
                p.units.resize(base + need);
                mergeStepUnits(lay, static_cast<size_t>(lay.pagesAt(m.contextAt(first + static_cast<int64_t>(t)))),
                               rowPages, sc, p.units.data() + base);
                p.unitEnd.push_back(p.units.size());
                if (t == t0 && t1 - t0 > 1) {
                    // The block's other steps are about as large as its first: one allocation each.
                    const size_t steps = t1 - t0, slack = 64 * rowsPerStep;
                    reserveWithSpare(p.tokens, p.tokens.size() * steps + p.tokens.size() / 8 + slack);
                    reserveWithSpare(p.pages, p.pages.size() * steps + p.pages.size() / 8 + slack);
                    reserveWithSpare(p.units, p.units.size() * steps + p.units.size() / 8 + slack);
                }
                // The units' scores (MODEL.md §2 relevance), ascending unit.
                uint32_t* su = s.score_units.items.data() + s.score_units.offset[t];
                float* ss = s.score_sum.data() + s.score_units.offset[t];
                float* sm = s.score_max.data() + s.score_units.offset[t];
                if (S > 1) {
                    sc.scored.clear();
                    for (int32_t q = 0; q < S; ++q)
                        for (int32_t l = 0; l < slots; ++l) {
                            auto idx = trace.indices(recOf(t, q, l));
                            auto val = trace.values(recOf(t, q, l));
                            if (g == 1) {
                                for (size_t k = 0; k < idx.size(); ++k)
                                    sc.scored.push_back({lay.unit(q, idx[k], l), val[k], val[k]});
                                continue;
                            }
                            sc.groupPage.clear();
                            sc.groupSum.clear();
                            sc.groupMax.clear();
                            sc.groupEnd.assign(1, 0);
                            groupScores(idx, val, g, sc);
                            for (size_t k = 0; k < sc.groupPage.size(); ++k)
                                sc.scored.push_back({lay.unit(q, sc.groupPage[k], l), sc.groupSum[k], sc.groupMax[k]});
                        }
                    std::sort(sc.scored.begin(), sc.scored.end(),
                              [](const ScoredUnit& x, const ScoredUnit& y) { return x.unit < y.unit; });
                    for (size_t k = 0; k < sc.scored.size(); ++k) {
                        su[k] = sc.scored[k].unit;
                        ss[k] = sc.scored[k].sum;
                        sm[k] = sc.scored[k].max;
                    }
                } else if (g == 1 && m.kind == RecordKind::Selection &&
                           p.unitEnd.back() - (p.unitEnd.size() > 1 ? p.unitEnd[p.unitEnd.size() - 2] : 0) ==
                               s.score_units.offset[t + 1] - s.score_units.offset[t]) {
                    // A selection record's entries are the tokens it reads, each of relevance 1
                    // (one per unit at g = 1): the scored units are the read units just merged.
                    const size_t lo = p.unitEnd.size() > 1 ? p.unitEnd[p.unitEnd.size() - 2] : 0;
                    std::copy(p.units.begin() + static_cast<std::ptrdiff_t>(lo), p.units.end(), su);
                    const size_t n = p.units.size() - lo;
                    std::fill(ss, ss + n, 1.0f);
                    std::fill(sm, sm + n, 1.0f);
                } else if (g == 1 && slots == 1) {
                    auto idx = trace.indices(rec(t, 0));
                    auto val = trace.values(rec(t, 0));
                    // std::copy: an empty record may have null data, which memcpy may not be given.
                    std::copy(idx.begin(), idx.end(), su);
                    std::copy(val.begin(), val.end(), ss);
                    std::copy(val.begin(), val.end(), sm);
                } else if (g == 1) {
                    const auto pages = static_cast<size_t>(lay.pagesAt(m.contextAt(first + static_cast<int64_t>(t))));
                    sc.slotIndex.clear();
                    sc.slotValue.clear();
                    for (int32_t l = 0; l < slots; ++l) {
                        sc.slotIndex.push_back(trace.indices(rec(t, l)));
                        sc.slotValue.push_back(trace.values(rec(t, l)));
                    }
                    mergeByPage(slots, pages, sc.start,
                                [&](int32_t l, const auto& f) {
                                    const auto idx = sc.slotIndex[static_cast<size_t>(l)];
                                    for (size_t k = 0; k < idx.size(); ++k) f(idx[k], k);
                                },
                                [&](size_t pos, int32_t l, size_t k) {
                                    const auto ul = static_cast<size_t>(l);
                                    su[pos] = lay.unit(0, sc.slotIndex[ul][k], l);
                                    ss[pos] = sm[pos] = sc.slotValue[ul][k];
                                });
                } else {
                    const auto pages = static_cast<size_t>(lay.pagesAt(m.contextAt(first + static_cast<int64_t>(t))));
                    sc.groupPage.clear();
                    sc.groupSum.clear();
                    sc.groupMax.clear();
                    sc.groupEnd.assign(1, 0);
                    for (int32_t l = 0; l < slots; ++l) groupScores(trace.indices(rec(t, l)), trace.values(rec(t, l)), g, sc);
                    mergeByPage(slots, pages, sc.start,
                                [&](int32_t l, const auto& f) {
                                    const auto ul = static_cast<size_t>(l);
                                    for (size_t k = sc.groupEnd[ul]; k < sc.groupEnd[ul + 1]; ++k) f(sc.groupPage[k], k);
                                },
                                [&](size_t pos, int32_t l, size_t k) {
                                    su[pos] = lay.unit(0, sc.groupPage[k], l);
                                    ss[pos] = sc.groupSum[k];
                                    sm[pos] = sc.groupMax[k];
                                });
                }
            }
        }
    }, job);
    job.report(0.5);

    // Concatenation: each block's rows land at the offsets its predecessors end at.
    std::vector<size_t> tokBase(blocks + 1, 0), pageBase(blocks + 1, 0), unitBase(blocks + 1, 0);
    for (size_t b = 0; b < blocks; ++b) {
        tokBase[b + 1] = tokBase[b] + parts[b].tokens.size();
        pageBase[b + 1] = pageBase[b] + parts[b].pages.size();
        unitBase[b + 1] = unitBase[b] + parts[b].units.size();
    }
    parallelFor(0, 3, [&](int i) {
        if (i == 0) resizeWithSpare(s.tokens.items, tokBase[blocks]);
        else if (i == 1) resizeWithSpare(s.pages.items, pageBase[blocks]);
        else resizeWithSpare(s.step_units.items, unitBase[blocks]);
    }, job);
    s.tokens.offset.resize(T * rowsPerStep + 1);
    s.pages.offset.resize(T * rowsPerStep + 1);
    s.step_units.offset.resize(T + 1);
    s.read_tokens.resize(T * L);
    parallelFor(tbb::blocked_range<size_t>(0, blocks, 1), [&](const tbb::blocked_range<size_t>& r) {
        for (size_t b = r.begin(); b != r.end(); ++b) {
            Block& p = parts[b];
            const size_t row0 = b * blockSteps * L, t0 = b * blockSteps;
            const size_t recordRow0 = b * blockSteps * rowsPerStep;
            std::copy(p.tokens.begin(), p.tokens.end(), s.tokens.items.begin() + static_cast<std::ptrdiff_t>(tokBase[b]));
            std::copy(p.pages.begin(), p.pages.end(), s.pages.items.begin() + static_cast<std::ptrdiff_t>(pageBase[b]));
            std::copy(p.units.begin(), p.units.end(), s.step_units.items.begin() + static_cast<std::ptrdiff_t>(unitBase[b]));
            std::copy(p.readTokens.begin(), p.readTokens.end(), s.read_tokens.begin() + static_cast<std::ptrdiff_t>(row0));
            for (size_t i = 0; i < p.tokenEnd.size(); ++i) {
                s.tokens.offset[recordRow0 + i + 1] = tokBase[b] + p.tokenEnd[i];
                s.pages.offset[recordRow0 + i + 1] = pageBase[b] + p.pageEnd[i];
            }
            for (size_t i = 0; i < p.unitEnd.size(); ++i) s.step_units.offset[t0 + i + 1] = unitBase[b] + p.unitEnd[i];
            if (keepParts) clearBlock(p);
            else p = Block{};
        }
    }, job);
    job.report(1.0);
    return s;
}

} // namespace

} // namespace kvtier
