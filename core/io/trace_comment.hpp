#pragma once
// The long CSV's metadata line (docs/TRACE_FORMAT.md §5): `# kvtier trace {JSON object}`,
// written by the exporter (export_csv) and read by the importer (import_long_csv), so an
// exported trace imports back exactly. The form before JSON, `# kvtier trace NAME
// key=value ...` with percent-encoded values, is still read.
#include "core/store/trace_store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvtier {

// What the line says; every field is optional (a hand-written line may give only P).
struct TraceComment {
    std::string name;   // empty when the line has none
    std::optional<int64_t> prefill;
    std::optional<int64_t> steps;
    std::optional<int32_t> layers;
    std::optional<int64_t> rows;   // data rows after the header: a file cut short is refused
    std::optional<std::vector<int64_t>> sequence_prefill;   // P_s of each sequence (MODEL.md §8)
    std::optional<LayerMode> mode;
    std::optional<RecordKind> kind;
    std::optional<Encoding> encoding;
    std::optional<std::string> model_name, head_reduction, description, source, notes;
};

// `# kvtier trace {"name":...,"prefill":P,"steps":T,"layers":L,"mode":...,"kind":...,
// "encoding":...,"rows":N,"head_reduction":...,"model":...,"description":...,"source":...,
// "notes":...}` on one line (no line end), and "sequence_prefill":[P_0, ...] after "rows" when
// the trace holds several sequences. Text that is not UTF-8 is written with U+FFFD
// in place of the bad bytes.
std::string formatTraceComment(const TraceSummary& s);
// True when `line` is such a line ("# kvtier trace" then a blank or the end), either form.
bool isTraceComment(std::string_view line);
// Parses either form; unknown keys are ignored (a newer kvtier may add some). Throws a
// one-line InputError(where, problem) on a malformed line or value.
TraceComment parseTraceComment(std::string_view line, const std::string& where);

// The old form's value encoding: bytes <= 0x20, '%', '=' and 0x7F as %XX.
std::string percentEncode(std::string_view s);
std::string percentDecode(std::string_view s, const std::string& where);   // throws on a bad %XX

} // namespace kvtier
