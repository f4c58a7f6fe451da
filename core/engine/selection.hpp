#pragma once
// Stage 1 of the pipeline (MODEL.md §2): which KV each step reads.
// Input: a Trace and a SelectionConfig. Output: a Selection (core/model/selection.hpp).
#include "core/model/cancel.hpp"
#include "core/model/selection.hpp"
#include "core/model/trace.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kvtier {

// The tokens one record selects (MODEL.md §2), ascending. Exposed for tests and views.
std::vector<uint32_t> selectTokens(std::span<const uint32_t> index, std::span<const float> value,
                                   int64_t n, RecordKind kind, const SelectionConfig& c);

// Runs the selection stage over all records in parallel (oneTBB). Deterministic.
Selection computeSelection(const Trace& trace, const SelectionConfig& c, const JobControl& job = {});

} // namespace kvtier
