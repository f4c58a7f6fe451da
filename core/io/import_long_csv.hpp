#pragma once
// The long CSV (docs/TRACE_FORMAT.md): header `step,layer,token,score`, one row per
// non-zero entry, layer -1 for aggregated traces, optionally preceded by a
// `# kvtier trace {...}` line that carries the metadata (core/io/trace_comment.hpp; the
// exporter writes it, so an exported trace imports back exactly).
#include "core/io/importers.hpp"

#include <string>

namespace kvtier {

// Streams the file. P comes from the comment or options.prefill (required when the file
// has no comment). T, L and the layer mode come from the comment; without it, a first
// streaming pass finds them (T = max step + 1, L = max layer + 1). Records without rows
// are empty (all-zero scores / nothing selected).
TraceSummary importLongCsv(TraceStore& store, const std::string& path, const ImportOptions& options);

} // namespace kvtier
