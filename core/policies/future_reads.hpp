#pragma once
// What the oracle policies know of the future (docs/POLICIES.md, docs/PERFORMANCE.md
// "Streamed analysis"): each step's read units, each read's next read of the same unit,
// and every unit's first read. Two sources give the same answers: the whole Selection of a
// pipeline run (wholeSelectionReads, below), and a streamed analysis's spill file read
// ahead in chunks (engine/future_spill.hpp). The oracles take either, so their decision
// logic exists once.
//
// Access is forward only: a policy asks for steps at or after the last advance(); steps
// before it may be forgotten (a streamed source frees them). How far ahead a policy asks
// is its own look-ahead (look-ahead: the step being planned; belady: that step and every
// unit's next read, given as a step number; windowed-look-ahead: window_steps steps).
#include "core/model/selection.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace kvtier {

class FutureReads {
public:
    static constexpr uint32_t kNever = 0xffffffffu;   // a unit no later step reads

    virtual ~FutureReads() = default;
    virtual int64_t steps() const = 0;   // T
    // Step t's read units, ascending (Selection::step_units' row t).
    virtual std::span<const uint32_t> reads(int64_t t) = 0;
    // Parallel to reads(t): for each unit, the first step after t that reads it, or kNever.
    virtual std::span<const uint32_t> nextReads(int64_t t) = 0;
    // Per unit (all totalUnits()): the first step that reads it, or kNever.
    virtual const std::vector<uint32_t>& firstReads() = 0;
    // Steps before t will not be asked for again.
    virtual void advance(int64_t t) = 0;
};

// The future of a whole selection (which must outlive it). Next and first reads come from
// one backward pass over its read units on first use: 4 B per read entry, O(total reads).
std::unique_ptr<FutureReads> wholeSelectionReads(const Selection& selection);

// The source an oracle's factory uses: ctx.future_reads when given (a streamed analysis),
// else one built from ctx.future, owned by `owned`. Throws std::logic_error when there is
// neither (an oracle built without the future).
struct PolicyContext;
FutureReads& futureOf(const PolicyContext& ctx, std::unique_ptr<FutureReads>& owned, const char* policy);

} // namespace kvtier
