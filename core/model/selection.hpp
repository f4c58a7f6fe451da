#pragma once
// What the selection stage (engine/selection.hpp, MODEL.md §2) is configured with and what
// it produces: the SelectionConfig, the unit numbering (UnitLayout, MODEL.md §5) and the
// Selection itself: per (step, layer slot) the selected tokens and the read pages, plus per
// step the read *units* and the units' scores that score-based policies observe after the
// step. Plain data: the policies and the engine both speak it.
#include "core/model/trace.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kvtier {

enum class SelectionMode { Dense, TopK, Ratio, Mass };
const char* toString(SelectionMode m);
SelectionMode selectionModeFromString(const std::string& s);   // throws InputError

struct SelectionConfig {
    SelectionMode mode = SelectionMode::Ratio;
    double value = 0.3;        // K (topk), rho (ratio) or tau (mass); unused for dense
    int64_t sinks = 0;         // first tokens always read
    int64_t window = 0;        // last tokens of the context always read
    int64_t page_tokens = 1;   // g
    bool operator==(const SelectionConfig&) const = default;
};

// Validates the config against MODEL.md ranges; throws InputError("selection.<key>", ...).
void validate(const SelectionConfig& c);

// A compressed sparse row list: row r holds items [offset[r], offset[r+1]).
template <class T>
struct Csr {
    std::vector<size_t> offset{0};
    std::vector<T> items;
    size_t rows() const { return offset.size() - 1; }
    std::span<const T> row(size_t r) const { return {items.data() + offset[r], offset[r + 1] - offset[r]}; }
};

// Unit numbering (MODEL.md §5): aggregated trace: unit = page; per-layer trace:
// unit = page * L + layer, which is also first-fit order (page index, then layer).
struct UnitLayout {
    int64_t prefill = 0;       // P
    int64_t steps = 0;         // T
    int32_t slot_count = 1;       // layer slots: L for per-layer traces, 1 for aggregated  (not "slots": a Qt macro)
    int64_t page_tokens = 1;   // g

    int64_t pagesAt(int64_t tokens) const { return (tokens + page_tokens - 1) / page_tokens; }
    // Units that exist before step t's new token is written (prefill + tokens 0..n_t-1).
    int64_t unitsBefore(int64_t t) const { return pagesAt(prefill + t) * slot_count; }
    // Units once the whole run is written.
    int64_t totalUnits() const { return pagesAt(prefill + steps) * slot_count; }
    // Does step t's new token start a new page?
    bool newPageAt(int64_t t) const { return (prefill + t) % page_tokens == 0; }
    int64_t pageOfNewToken(int64_t t) const { return (prefill + t) / page_tokens; }
    uint32_t unit(int64_t page, int32_t slot) const { return static_cast<uint32_t>(page * slot_count + slot); }
    int64_t pageOf(uint32_t u) const { return u / slot_count; }
    int32_t slotOf(uint32_t u) const { return static_cast<int32_t>(u % static_cast<uint32_t>(slot_count)); }
    // Tokens of page p that exist when the context has n tokens.
    int64_t tokensIn(int64_t page, int64_t n) const {
        const int64_t lo = page * page_tokens;
        return std::max<int64_t>(0, std::min(page_tokens, n - lo));
    }
};

struct Selection {
    SelectionConfig config;
    UnitLayout layout;
    Csr<uint32_t> tokens;        // row (t * slots + slot): selected tokens, ascending
    Csr<uint32_t> pages;         // row (t * slots + slot): read pages, ascending
    std::vector<int64_t> read_tokens;   // row (t * slots + slot): tokens in read pages (what is loaded)
    Csr<uint32_t> step_units;    // row t: read units over all slots, ascending
    // Units' relevance at step t (known once step t ran): sum and max of token scores
    // in the unit's page for that slot. Selection traces: 1 per selected token. Every scored
    // unit is kept, read or not; the placement stage passes a policy only those the scenario
    // lets it see (PlacementConfig::observe_scores).
    Csr<uint32_t> score_units;   // row t: units with a non-zero score, ascending
    std::vector<float> score_sum;   // parallel to score_units.items
    std::vector<float> score_max;
    // The trace's per-step expert sets X[t][l] (MODEL.md §9); null when it has none.
    std::shared_ptr<const ExpertSets> experts;

    size_t row(int64_t t, int32_t slot) const {
        return static_cast<size_t>(t) * static_cast<size_t>(layout.slot_count) + static_cast<size_t>(slot);
    }
};

} // namespace kvtier
