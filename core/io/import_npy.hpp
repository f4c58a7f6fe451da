#pragma once
// NumPy score arrays (docs/TRACE_FORMAT.md): a .npy file, or an .npz archive (zip, stored
// or deflated entries) holding the scores and optionally the prefill length.
// Arrays are dense float16/32/64, little-endian, C order, shaped [T, n_max] (aggregated)
// or [T, L, n_max] (per layer); row t holds n_t = P + t scores, the rest is padding.
#include "core/io/importers.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

// P from options.prefill or from an integer array named `prefill` (0-d or one element) in
// the .npz. The scores array: options.array, else `scores`, else the only float array.
// Reads one row at a time from the file (inflating deflated entries as it goes).
TraceSummary importNpy(TraceStore& store, const std::string& path, const ImportOptions& options);

// What a .npy header says (exposed for tests and the GUI's file preview).
struct NpyHeader {
    char byte_order = '<';        // '<', '>', '|' or '='
    char kind = 'f';              // 'f' float, 'i' signed, 'u' unsigned, 'b' bool, ...
    int item_size = 4;            // bytes per element
    std::string descr;            // as written, e.g. "<f4"
    bool fortran_order = false;
    std::vector<uint64_t> shape;
};

// Parses the header dictionary text ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }").
// Throws InputError(where, problem).
NpyHeader parseNpyHeaderDict(const std::string& text, const std::string& where);

// The entries of a zip archive's central directory (zip64 aware).
struct ZipEntry {
    std::string name;
    uint16_t flags = 0;
    uint16_t method = 0;          // 0 stored, 8 deflate
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t size = 0;
    uint64_t local_header_offset = 0;
};
std::vector<ZipEntry> readZipDirectory(const std::string& path);   // throws InputError(path, ...)

} // namespace kvtier
