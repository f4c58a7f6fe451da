#pragma once
// View data: one unit's (or one token's) story over the run, as the relevance view's
// token detail shows it and `kvtier-cli view timeline` writes it.
#include "core/engine/placement.hpp"
#include "core/model/selection.hpp"
#include "core/model/trace.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

// Where one unit lives at every step (255 before it exists), replaying the placement's
// moves in step order: locationsAt's semantics, one unit at a time.
std::vector<uint8_t> unitTimeline(const PlacementResult& placement, uint32_t unit);

struct TokenTimeline {
    uint32_t token = 0;
    int32_t sequence = 0;             // the sequence of a batch the token belongs to (MODEL.md §8)
    int32_t layer = -1;               // the layer slot shown, or -1: every slot (mean / any)
    uint32_t unit = 0;                // the unit holding the token in the placement (layer slot, or slot 0)
    std::vector<double> relevance;    // per step; NaN before the token exists
    std::vector<uint8_t> selected;    // per step: 1 when read
    std::vector<uint8_t> tier;        // per step: the unit's fastest tier, 255 before it exists
};

// Token `token` of sequence `sequence` (its position in that sequence's context, 0 ..
// P_s + T - 1). Throws InputError when the sequence, the token or the layer is outside the trace.
TokenTimeline tokenTimeline(const Trace& trace, const Selection& sel, const PlacementResult& placement,
                            uint32_t token, int32_t layer = -1, int32_t sequence = 0);

} // namespace kvtier
