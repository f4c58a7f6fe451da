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

// The units of a batch of S > 1 sequences (MODEL.md §8), numbered in creation order
// (docs/MODEL.md "Batches"). Units are created in *events*: each prefill page index (in
// order), then each decode step. An event creates, for every layer slot, one unit per
// sequence that gets a page in it, slot-major and sequence-minor: ids go (page, slot,
// sequence) as a lone sequence's go (page, slot). So the units that exist before step t
// are always 0 .. unitsBefore(t) - 1, and S identical sequences order their units as one
// sequence does, each unit followed by its copies.
struct SequenceUnits {
    std::vector<int64_t> prefill;          // P_s
    std::vector<size_t> first_page;        // per sequence: where its pages start below
    std::vector<uint32_t> page_unit;       // first_page[s] + page -> the unit of its slot 0
    std::vector<uint32_t> page_stride;     // first_page[s] + page -> id distance between its slots
    std::vector<uint16_t> unit_sequence;   // per unit (S <= 65,536)
    std::vector<uint16_t> unit_slot;       // per unit (L <= 65,536)
    std::vector<uint32_t> unit_page;       // per unit
    std::vector<int64_t> units_before;     // per step t = 0 .. T: units that exist before step t writes
};

// Unit numbering (MODEL.md §5, §8): one sequence, aggregated trace: unit = page; per-layer
// trace: unit = page * L + layer, which is also first-fit order (page index, then layer).
// A batch (`seq` set) numbers its page groups in creation order (SequenceUnits above).
struct UnitLayout {
    int64_t prefill = 0;       // P (P_0 of a batch: prefillOf(s) for the others)
    int64_t steps = 0;         // T
    int32_t slot_count = 1;       // layer slots: L for per-layer traces, 1 for aggregated  (not "slots": a Qt macro)
    int64_t page_tokens = 1;   // g
    std::shared_ptr<const SequenceUnits> seq = nullptr;   // S > 1 only

    int32_t sequences() const { return seq ? static_cast<int32_t>(seq->prefill.size()) : 1; }
    int64_t prefillOf(int32_t s) const { return seq ? seq->prefill[static_cast<size_t>(s)] : prefill; }
    int64_t pagesAt(int64_t tokens) const { return (tokens + page_tokens - 1) / page_tokens; }
    // Units that exist before step t's new tokens are written (prefill + tokens 0..n_t-1).
    // Step t creates exactly the units unitsBefore(t) .. unitsBefore(t + 1) - 1.
    int64_t unitsBefore(int64_t t) const
    {
        return seq ? seq->units_before[static_cast<size_t>(t)] : pagesAt(prefill + t) * slot_count;
    }
    // Units once the whole run is written.
    int64_t totalUnits() const { return unitsBefore(steps); }
    // The unit of page `page` of sequence s in layer slot `slot`.
    uint32_t unit(int32_t s, int64_t page, int32_t slot) const
    {
        if (!seq) return static_cast<uint32_t>(page * slot_count + slot);
        const size_t k = seq->first_page[static_cast<size_t>(s)] + static_cast<size_t>(page);
        return seq->page_unit[k] + static_cast<uint32_t>(slot) * seq->page_stride[k];
    }
    // The unit that holds the token sequence s writes at step t, in layer slot `slot`.
    uint32_t newTokenUnit(int32_t s, int64_t t, int32_t slot) const { return unit(s, (prefillOf(s) + t) / page_tokens, slot); }
    int32_t sequenceOf(uint32_t u) const { return seq ? seq->unit_sequence[u] : 0; }
    int64_t pageOf(uint32_t u) const { return seq ? seq->unit_page[u] : u / slot_count; }
    int32_t slotOf(uint32_t u) const
    {
        return seq ? seq->unit_slot[u] : static_cast<int32_t>(u % static_cast<uint32_t>(slot_count));
    }
    // Tokens of page p that exist when the context has n tokens.
    int64_t tokensIn(int64_t page, int64_t n) const {
        const int64_t lo = page * page_tokens;
        return std::max<int64_t>(0, std::min(page_tokens, n - lo));
    }
    // Tokens of unit u that exist at step t's reads (its sequence's context P_s + t).
    int64_t unitTokens(uint32_t u, int64_t t) const { return tokensIn(pageOf(u), prefillOf(sequenceOf(u)) + t); }
};

// The unit layout of a trace at page size g: the S = 1 formulas, or the batch's tables
// (MODEL.md §8) built in O(units / slots).
UnitLayout unitLayoutOf(const TraceMeta& m, int64_t pageTokens);

struct Selection {
    SelectionConfig config;
    UnitLayout layout;
    Csr<uint32_t> tokens;        // row recordRow(t, s, slot): sequence s's selected tokens, ascending
    Csr<uint32_t> pages;         // row recordRow(t, s, slot): sequence s's read pages, ascending
    std::vector<int64_t> read_tokens;   // row (t * slots + slot): tokens in read pages (what is
                                        // loaded), summed over the batch's sequences
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

    // The steps held: all of them (first_step 0), or a window of a streaming analysis
    // (engine/stream_analysis.hpp), steps first_step .. endStep() - 1. Every accessor below
    // takes a step of the whole run.
    int64_t first_step = 0;
    int64_t endStep() const { return first_step + static_cast<int64_t>(step_units.rows()); }
    // A step's row of step_units and score_units.
    size_t stepRow(int64_t t) const { return static_cast<size_t>(t - first_step); }
    // A (step, slot) row: read_tokens, and the placement's traffic.
    size_t row(int64_t t, int32_t slot) const {
        return stepRow(t) * static_cast<size_t>(layout.slot_count) + static_cast<size_t>(slot);
    }
    // A (step, sequence, slot) row: tokens and pages. Equals row(t, slot) for one sequence.
    size_t recordRow(int64_t t, int32_t s, int32_t slot) const {
        return (stepRow(t) * static_cast<size_t>(layout.sequences()) + static_cast<size_t>(s)) *
                   static_cast<size_t>(layout.slot_count) + static_cast<size_t>(slot);
    }
};

} // namespace kvtier
