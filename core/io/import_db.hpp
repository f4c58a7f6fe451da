#pragma once
// Copying traces from another kvtier trace database.
#include "core/io/importers.hpp"

#include <string>
#include <vector>

namespace kvtier {

// Copies options.trace (or every trace when empty) from the database at `path` into
// `store`, all in one transaction. options.name renames a single copied trace. A name
// that already exists in `store` is refused unless options.replace. Records are decoded
// and re-encoded in the source trace's encoding (lossless), so the copy is validated.
// options.description / model_name / notes override the copied metadata.
std::vector<TraceSummary> importKvtierDb(TraceStore& store, const std::string& path, const ImportOptions& options);

} // namespace kvtier
