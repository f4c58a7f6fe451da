#include "core/engine/relevance.hpp"

#include "core/support/parallel.hpp"

#include <tbb/blocked_range.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kvtier {

std::vector<double> tokenRelevance(const Trace& trace, uint32_t token, int32_t layer, int32_t sequence)
{
    const TraceMeta& m = trace.meta();
    std::vector<double> out(static_cast<size_t>(m.steps), std::numeric_limits<double>::quiet_NaN());
    const int32_t slots = m.layerSlots();
    for (int64_t t = 0; t < m.steps; ++t) {
        if (static_cast<int64_t>(token) >= m.contextAt(sequence, t)) continue;
        if (layer >= 0 && slots > 1) {
            out[static_cast<size_t>(t)] = trace.valueAt(trace.recordId(t, sequence, layer), token);
            continue;
        }
        double sum = 0;
        for (int32_t l = 0; l < slots; ++l) sum += trace.valueAt(trace.recordId(t, sequence, l), token);
        out[static_cast<size_t>(t)] = sum / slots;
    }
    return out;
}

std::vector<uint8_t> tokenSelected(const Selection& sel, uint32_t token, int32_t layer, int32_t sequence)
{
    const UnitLayout& lay = sel.layout;
    std::vector<uint8_t> out(static_cast<size_t>(lay.steps), 0);
    for (int64_t t = 0; t < lay.steps; ++t)
        for (int32_t l = 0; l < lay.slot_count; ++l) {
            if (layer >= 0 && l != layer && lay.slot_count > 1) continue;
            auto row = sel.tokens.row(sel.recordRow(t, sequence, l));
            if (std::binary_search(row.begin(), row.end(), token)) out[static_cast<size_t>(t)] = 1;
        }
    return out;
}

namespace {

struct Hist {
    std::vector<int64_t> reuse, stay;
    double reuseSum = 0, staySum = 0;
    int64_t reuseN = 0, stayN = 0;
};

} // namespace

RelevanceStats relevanceStats(const Selection& sel, int64_t maxBin, const JobControl& job)
{
    const UnitLayout& lay = sel.layout;
    const int64_t T = lay.steps;
    const auto bins = static_cast<size_t>(std::max<int64_t>(2, maxBin) + 1);
    RelevanceStats st;
    st.turnover.assign(static_cast<size_t>(T), 0.0);
    st.selected.assign(static_cast<size_t>(T), 0.0);
    st.reuse_distance.assign(bins, 0);
    st.stay_length.assign(bins, 0);
    const int64_t tokens = lay.prefill + T;

    for (int64_t t = 0; t < T; ++t) {
        double turnover = 0, selected = 0;
        for (int32_t l = 0; l < lay.slot_count; ++l) {
            auto cur = sel.tokens.row(sel.recordRow(t, 0, l));
            selected += static_cast<double>(cur.size());
            if (t == 0 || cur.empty()) continue;
            auto prev = sel.tokens.row(sel.recordRow(t - 1, 0, l));
            size_t fresh = 0, j = 0;
            for (uint32_t x : cur) {
                while (j < prev.size() && prev[j] < x) ++j;
                if (j == prev.size() || prev[j] != x) ++fresh;
            }
            turnover += static_cast<double>(fresh) / static_cast<double>(cur.size());
        }
        st.turnover[static_cast<size_t>(t)] = turnover / lay.slot_count;
        st.selected[static_cast<size_t>(t)] = selected / lay.slot_count;
    }

    // Per (slot, token): walk the steps once, in parallel over slots, merged in slot order.
    std::vector<Hist> perSlot(static_cast<size_t>(lay.slot_count));
    parallelFor(tbb::blocked_range<int32_t>(0, lay.slot_count), [&](const tbb::blocked_range<int32_t>& r) {
        for (int32_t l = r.begin(); l != r.end(); ++l) {
            job.check();
            Hist& h = perSlot[static_cast<size_t>(l)];
            h.reuse.assign(bins, 0);
            h.stay.assign(bins, 0);
            std::vector<int64_t> last(static_cast<size_t>(tokens), -1), runStart(static_cast<size_t>(tokens), -1);
            auto closeRun = [&](size_t tok, int64_t end) {
                const int64_t len = end - runStart[tok];
                h.stay[std::min(static_cast<size_t>(len), bins - 1)]++;
                h.staySum += static_cast<double>(len);
                h.stayN++;
                runStart[tok] = -1;
            };
            for (int64_t t = 0; t < T; ++t) {
                for (uint32_t x : sel.tokens.row(sel.recordRow(t, 0, l))) {
                    const int64_t prev = last[x];
                    if (prev >= 0) {
                        const int64_t dist = t - prev;
                        h.reuse[std::min(static_cast<size_t>(dist), bins - 1)]++;
                        h.reuseSum += static_cast<double>(dist);
                        h.reuseN++;
                        if (dist > 1) closeRun(x, prev + 1);
                    }
                    if (runStart[x] < 0) runStart[x] = t;
                    last[x] = t;
                }
            }
            for (size_t x = 0; x < static_cast<size_t>(tokens); ++x)
                if (runStart[x] >= 0) closeRun(x, last[x] + 1);
        }
    }, job);
    double reuseSum = 0, staySum = 0;
    int64_t reuseN = 0, stayN = 0;
    for (const Hist& h : perSlot) {
        for (size_t b = 0; b < bins; ++b) {
            st.reuse_distance[b] += h.reuse[b];
            st.stay_length[b] += h.stay[b];
        }
        reuseSum += h.reuseSum;
        staySum += h.staySum;
        reuseN += h.reuseN;
        stayN += h.stayN;
    }
    double tsum = 0;
    for (double x : st.turnover) tsum += x;
    st.mean_turnover = T > 1 ? tsum / static_cast<double>(T - 1) : 0;
    st.mean_reuse_distance = reuseN ? reuseSum / static_cast<double>(reuseN) : 0;
    st.mean_stay_length = stayN ? staySum / static_cast<double>(stayN) : 0;
    return st;
}

} // namespace kvtier
