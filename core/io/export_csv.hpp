#pragma once
// Exports a stored trace as long CSV (docs/TRACE_FORMAT.md): a `# kvtier trace {...}`
// metadata line (core/io/trace_comment.hpp), the header `step,layer,token,score`, then one
// row per non-zero entry in (step, layer, token) order; selections have score 1; layer -1 for aggregated traces.
// Scores are written in the shortest form that reads back to the same float32, so
// importLongCsv restores the trace bit for bit.
#include "core/model/cancel.hpp"
#include "core/store/trace_store.hpp"

#include <ostream>
#include <string>

namespace kvtier {

// Streams the trace record by record into `out`. Returns the number of data rows.
int64_t exportLongCsv(const TraceStore& store, const std::string& name, std::ostream& out,
                      const JobControl& control = {});
// To a file or "-" for stdout. The file is written to a unique temporary name beside it
// and renamed over it when complete (core/atomic_file.hpp); a directory or a missing
// folder is refused before any work.
int64_t exportLongCsv(const TraceStore& store, const std::string& name, const std::string& outPath,
                      const JobControl& control = {});

} // namespace kvtier
