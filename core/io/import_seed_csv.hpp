#pragma once
// The seed simulator's batch trace CSV (docs/TRACE_FORMAT.md "Seed batch CSV"): header
// `query_id,token_id,layer_id,experts,attention`, one row per (query, decoded token,
// layer); `token_id` is the absolute position P_s + t, `experts` a JSON list of the expert
// ids the token was routed to, `attention` a JSON list of context indices in descending
// attention (the token being decoded, if listed, is dropped). One sequence per query_id
// (MODEL.md §8), ranked per-layer records.
#include "core/io/importers.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

namespace kvtier {

// Queries one import reads at once (each is read through its own file position).
inline constexpr int64_t kMaxSeedQueries = 256;

// One data row, parsed and checked on its own (the importer checks its place).
struct SeedRow {
    int64_t query = 0;
    int64_t token = 0;                 // P_s + t
    int64_t layer = 0;
    std::vector<int32_t> experts;      // as listed (ids >= 0, no repeats)
    std::vector<uint32_t> attention;   // as listed, without the token itself; each < token, no repeats
};
// Parses a row of `fields` (5 CSV fields); throws InputError(where, problem).
void parseSeedRow(std::span<const std::string_view> fields, const std::string& where, SeedRow& row);

// The experts column is stored as the trace's expert sets (MODEL.md §9): X[t][l] = the union
// over the batch's sequences of the experts their token of step t was routed to at layer l,
// with E = options.experts, else the largest id + 1 (a file whose lists are all empty and no
// options.experts: no expert sets). The sink, when given, also sees each row's list with its
// (step, sequence, layer).
using SeedExpertSink = std::function<void(int64_t step, int32_t sequence, int32_t layer, std::span<const int32_t> experts)>;

// Two passes over a regular file: the first checks the shape (each query's rows together,
// tokens consecutive from its first token_id = P_s, layers 0..L-1 in order, every query
// the same number of tokens T and layers L, expert ids < E), the second reads the queries in lock step
// and writes records in (step, sequence, layer) order and each step's expert sets once the
// step is read (never more than one step's sets in memory), one transaction. Sequences are
// numbered in order of first appearance. Throws InputError("<file>:<line>", problem).
TraceSummary importSeedCsv(TraceStore& store, const std::string& path, const ImportOptions& options,
                           const SeedExpertSink& experts = {});

} // namespace kvtier
