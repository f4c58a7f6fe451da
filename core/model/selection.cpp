#include "core/model/selection.hpp"

#include "core/model/error.hpp"

#include <cmath>

namespace kvtier {

const char* toString(SelectionMode m)
{
    switch (m) {
    case SelectionMode::Dense: return "dense";
    case SelectionMode::TopK: return "topk";
    case SelectionMode::Ratio: return "ratio";
    case SelectionMode::Mass: return "mass";
    }
    return "?";
}

SelectionMode selectionModeFromString(const std::string& s)
{
    for (auto m : {SelectionMode::Dense, SelectionMode::TopK, SelectionMode::Ratio, SelectionMode::Mass})
        if (s == toString(m)) return m;
    throw InputError("selection.mode", "unknown mode '" + s + "' (expected dense, topk, ratio or mass)");
}

void validate(const SelectionConfig& c)
{
    switch (c.mode) {
    case SelectionMode::Dense: break;
    case SelectionMode::TopK:
        if (!(c.value >= 0) || c.value != std::floor(c.value) || c.value > 4.0e9)
            throw InputError("selection.value", "topk needs a whole number K >= 0, got " + readableNumber(c.value));
        break;
    case SelectionMode::Ratio:
    case SelectionMode::Mass:
        if (!(c.value > 0 && c.value <= 1))
            throw InputError("selection.value", std::string(toString(c.mode)) +
                                                    " needs 0 < value <= 1, got " + readableNumber(c.value));
        break;
    }
    if (c.sinks < 0) throw InputError("selection.sinks", "must be >= 0");
    if (c.window < 0) throw InputError("selection.window", "must be >= 0");
    // No context is longer than this; larger values would overflow n_t + sinks.
    if (c.sinks > kMaxContextTokens)
        throw InputError("selection.sinks", "must be at most " + std::to_string(kMaxContextTokens) + ", got " +
                                                std::to_string(c.sinks));
    if (c.window > kMaxContextTokens)
        throw InputError("selection.window", "must be at most " + std::to_string(kMaxContextTokens) + ", got " +
                                                 std::to_string(c.window));
    if (c.page_tokens < 1 || c.page_tokens > (1 << 20))
        throw InputError("selection.page_tokens", "must be between 1 and 1048576");
}

} // namespace kvtier

namespace kvtier {

UnitLayout unitLayoutOf(const TraceMeta& m, int64_t pageTokens)
{
    UnitLayout lay{m.prefill, m.steps, m.layerSlots(), pageTokens};
    const int32_t S = m.sequenceCount();
    if (S == 1) return lay;
    auto su = std::make_shared<SequenceUnits>();
    su->prefill = m.sequence_prefill;
    const int64_t g = pageTokens, T = m.steps;
    const int32_t L = lay.slot_count;
    const auto pagesAt = [&](int64_t tokens) { return (tokens + g - 1) / g; };
    su->first_page.resize(static_cast<size_t>(S) + 1, 0);
    int64_t maxPrefillPages = 0;
    for (int32_t s = 0; s < S; ++s) {
        const int64_t P = su->prefill[static_cast<size_t>(s)];
        su->first_page[static_cast<size_t>(s) + 1] = su->first_page[static_cast<size_t>(s)] + static_cast<size_t>(pagesAt(P + T));
        maxPrefillPages = std::max(maxPrefillPages, pagesAt(P));
    }
    const size_t pages = su->first_page.back();
    su->page_unit.resize(pages);
    su->page_stride.resize(pages);
    const size_t units = pages * static_cast<size_t>(L);
    su->unit_sequence.reserve(units);
    su->unit_slot.reserve(units);
    su->unit_page.reserve(units);
    std::vector<int32_t> with;   // the sequences that get a page in this event
    std::vector<int64_t> pageOfSeq;
    // One event: every slot, then every sequence in `with`, each getting page pageOfSeq[i].
    const auto event = [&] {
        const auto k = static_cast<uint32_t>(with.size());
        const auto base = static_cast<uint32_t>(su->unit_sequence.size());
        for (size_t i = 0; i < with.size(); ++i) {
            const size_t at = su->first_page[static_cast<size_t>(with[i])] + static_cast<size_t>(pageOfSeq[i]);
            su->page_unit[at] = base + static_cast<uint32_t>(i);
            su->page_stride[at] = k;
        }
        for (int32_t l = 0; l < L; ++l)
            for (size_t i = 0; i < with.size(); ++i) {
                su->unit_sequence.push_back(static_cast<uint16_t>(with[i]));
                su->unit_slot.push_back(static_cast<uint16_t>(l));
                su->unit_page.push_back(static_cast<uint32_t>(pageOfSeq[i]));
            }
    };
    // Prefill pages: page index, then slot, then sequence.
    for (int64_t page = 0; page < maxPrefillPages; ++page) {
        with.clear();
        pageOfSeq.clear();
        for (int32_t s = 0; s < S; ++s)
            if (page < pagesAt(su->prefill[static_cast<size_t>(s)])) {
                with.push_back(s);
                pageOfSeq.push_back(page);
            }
        event();
    }
    // Decode: step t creates a page for every sequence whose new token starts one.
    su->units_before.resize(static_cast<size_t>(T) + 1);
    for (int64_t t = 0; t < T; ++t) {
        su->units_before[static_cast<size_t>(t)] = static_cast<int64_t>(su->unit_sequence.size());
        with.clear();
        pageOfSeq.clear();
        for (int32_t s = 0; s < S; ++s) {
            const int64_t token = su->prefill[static_cast<size_t>(s)] + t;
            if (token % g == 0) {
                with.push_back(s);
                pageOfSeq.push_back(token / g);
            }
        }
        event();
    }
    su->units_before[static_cast<size_t>(T)] = static_cast<int64_t>(su->unit_sequence.size());
    lay.seq = std::move(su);
    return lay;
}

} // namespace kvtier
