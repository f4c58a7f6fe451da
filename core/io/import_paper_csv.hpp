#pragma once
// The paper simulator's trace CSV (REFERENCE.md "Trace file", docs/TRACE_FORMAT.md):
// header `n,l,read_kv`, rows `n,l,"[i, j, k]"`; a per-layer selection trace.
#include "core/io/importers.hpp"

namespace kvtier {

// Streams the file one decode step at a time. P = the first row's n; t = n - P; L = the
// number of layers of the first step. Throws InputError("<file>:<line>", problem).
TraceSummary importPaperCsv(TraceStore& store, const std::string& path, const ImportOptions& options);

} // namespace kvtier
