#pragma once
// NumPy score arrays (docs/TRACE_FORMAT.md): a .npy file, or an .npz archive (zip, stored
// or deflated entries) holding the scores and optionally the prefill length.
// Arrays are dense float16/32/64, little-endian, C order, shaped [T, n_max] (aggregated)
// or [T, L, n_max] (per layer); row t holds n_t = P + t scores, the rest is padding.
#include "core/io/importers.hpp"

#include <string>

namespace kvtier {

// P from options.prefill or from an integer array named `prefill` (0-d or one element) in
// the .npz. The scores array: options.array, else `scores`, else the only float array.
// Reads one row at a time from the file (libzip inflates deflated entries as it goes).
// The .npy format is core/io/npy_format.hpp, the .npz container core/io/npz_archive.hpp.
TraceSummary importNpy(TraceStore& store, const std::string& path, const ImportOptions& options);

} // namespace kvtier
