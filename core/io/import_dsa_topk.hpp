#pragma once
// DeepSeek sparse attention (DSA) top-k JSON lines (docs/TRACE_FORMAT.md "DSA top-k JSON
// lines"): one JSON object per line per (request, layer, decode step) with the token
// positions the indexer selected, e.g.
//   {"request": "r1", "layer": 0, "step": 0, "context": 8193, "topk": [8192, 17, 0, -1]}
// A per-layer selection trace with one sequence per request (MODEL.md §8).
#include "core/io/importers.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

// One line, parsed and checked on its own (the importer checks its place in the file).
struct DsaTopkLine {
    std::string request;        // the "request" value as JSON text ("\"r1\"", "7")
    int64_t layer = 0;
    int64_t step = 0;
    int64_t context = -1;       // -1: not given
    int64_t prefill = -1;       // -1: not given
    std::vector<int64_t> topk;  // as listed, padding (-1) dropped
};
// Parses one line of JSON; throws InputError(where, problem).
void parseDsaTopkLine(const std::string& text, const std::string& where, DsaTopkLine& out);

// Two passes over a regular file: the first finds the requests (numbered in order of first
// appearance; each must start at step 0), P_s, T and L and checks that steps never go back;
// the second holds one step's lines at a time and writes its records in (sequence, layer)
// order, one transaction. Throws InputError("<file>:<line>", problem).
TraceSummary importDsaTopk(TraceStore& store, const std::string& path, const ImportOptions& options);

} // namespace kvtier
