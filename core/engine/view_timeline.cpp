#include "core/engine/view_timeline.hpp"

#include "core/engine/relevance.hpp"
#include "core/model/error.hpp"

namespace kvtier {

std::vector<uint8_t> unitTimeline(const PlacementResult& p, uint32_t unit)
{
    const UnitLayout& L = p.layout;
    std::vector<uint8_t> out(static_cast<size_t>(L.steps), 255);
    uint8_t loc = 255;
    for (int64_t t = 0; t < L.steps; ++t) {
        if (loc == 255 && static_cast<int64_t>(unit) < L.unitsBefore(t) && unit < p.created_tier.size())
            loc = p.created_tier[unit];
        if (static_cast<size_t>(t) < p.moves.rows())
            for (const Move& m : p.moves.row(static_cast<size_t>(t)))
                if (m.unit == unit)
                    loc = m.to;
        out[static_cast<size_t>(t)] = loc;
    }
    return out;
}

TokenTimeline tokenTimeline(const Trace& trace, const Selection& sel, const PlacementResult& placement, uint32_t token,
                            int32_t layer, int32_t sequence)
{
    const TraceMeta& meta = trace.meta();
    const int32_t S = meta.sequenceCount();
    if (sequence < 0 || sequence >= S)
        throw InputError("sequence " + std::to_string(sequence),
                         "trace '" + meta.name + "' has " + std::to_string(S) + " sequence(s): 0.." + std::to_string(S - 1));
    const int64_t tokens = meta.prefillOf(sequence) + meta.steps;
    if (static_cast<int64_t>(token) >= tokens)
        throw InputError("token " + std::to_string(token),
                         "trace '" + meta.name + "'" + (S > 1 ? " sequence " + std::to_string(sequence) : std::string()) +
                             " has tokens 0.." + std::to_string(tokens - 1));
    const UnitLayout& L = placement.layout;
    if (layer < -1 || layer >= L.slot_count)
        throw InputError("layer " + std::to_string(layer), "trace '" + meta.name + "' has " +
                                                                std::to_string(L.slot_count) +
                                                                " layer slot(s); -1 means all");
    TokenTimeline out;
    out.token = token;
    out.sequence = sequence;
    out.layer = layer;
    out.relevance = tokenRelevance(trace, token, layer, sequence);
    out.selected = tokenSelected(sel, token, layer, sequence);
    // Aggregated traces: one unit per page. Per-layer traces: the layer's unit (slot 0 for all).
    out.unit = L.unit(sequence, static_cast<int64_t>(token) / L.page_tokens, layer < 0 ? 0 : layer);
    out.tier = unitTimeline(placement, out.unit);
    return out;
}

} // namespace kvtier
