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
