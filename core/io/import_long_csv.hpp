#pragma once
// The long CSV (docs/TRACE_FORMAT.md): header `step,layer,token,score`, one row per
// non-zero entry, layer -1 for aggregated traces, optionally preceded by a
// `# kvtier trace NAME key=value ...` line that carries the metadata (export_csv writes
// it, so an exported trace imports back exactly).
#include "core/io/importers.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kvtier {

// The metadata comment. Values are percent-encoded (bytes <= 0x20, '%', '=' and 0x7F as %XX).
struct TraceComment {
    std::string name;   // empty when the line has none
    std::optional<int64_t> prefill;
    std::optional<int64_t> steps;
    std::optional<int32_t> layers;
    std::optional<int64_t> rows;   // data rows after the header: a file cut short is refused
    std::optional<LayerMode> mode;
    std::optional<RecordKind> kind;
    std::optional<Encoding> encoding;
    std::optional<std::string> model_name, head_reduction, description, source, notes;
};

// "# kvtier trace NAME prefill=P steps=T layers=L mode=... kind=... encoding=... rows=N model=...
//  head_reduction=... description=... source=... notes=..." (one line, no line end).
std::string formatTraceComment(const TraceSummary& s);
// True when `line` is such a comment ("# kvtier trace" prefix).
bool isTraceComment(std::string_view line);
// Parses it; unknown keys are ignored (newer exports may add some). Throws
// InputError(where, problem) on a malformed value.
TraceComment parseTraceComment(std::string_view line, const std::string& where);

std::string percentEncode(std::string_view s);
std::string percentDecode(std::string_view s, const std::string& where);   // throws on a bad %XX

// Streams the file. P comes from the comment or options.prefill (required when the file
// has no comment). T, L and the layer mode come from the comment; without it, a first
// streaming pass finds them (T = max step + 1, L = max layer + 1). Records without rows
// are empty (all-zero scores / nothing selected).
TraceSummary importLongCsv(TraceStore& store, const std::string& path, const ImportOptions& options);

} // namespace kvtier
