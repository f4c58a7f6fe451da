#pragma once
// The limits every importer enforces before it allocates or writes anything large
// (docs/TRACE_FORMAT.md "Limits"). A file is checked against them, and against the data it
// actually holds, so a tiny hostile file cannot make kvtier work for hours or fill a disk.
#include <cstdint>

namespace kvtier::limits {

// Layers and context: kvtier::kMaxLayers and kMaxContextTokens (core/trace.hpp), the
// limits of every stored trace, whoever writes it.
// Records (T, or T * L) of one trace: 16x a 32k-step, 128-layer trace. Each record is a
// database row, so this bounds the rows an import can write.
inline constexpr int64_t kMaxRecords = int64_t{1} << 26;
// Long CSV: records the file has no rows for (all-zero scores, empty selections), beyond
// one per data row. Rows are what a file pays bytes for; empty records are free to claim.
inline constexpr int64_t kMaxEmptyRecordsAllowance = 65536;
// One line of a CSV file. A paper-CSV row listing 10 million token indices is ~80 MB.
inline constexpr int64_t kMaxLineBytes = int64_t{256} << 20;
// The .npy header dictionary (numpy writes a few hundred bytes).
inline constexpr int64_t kMaxNpyHeaderBytes = int64_t{1} << 20;
// Deflate cannot expand data more than 1032:1; an entry declaring more is corrupt or hostile.
inline constexpr int64_t kMaxDeflateExpansion = 1032;
// A deflated .npz entry may yield at most this many non-zero scores per compressed byte
// (after the first kNonzeroAllowance). Real float scores compress about 1.1-3:1, i.e. well
// under 2 values per byte; only data crafted to be repetitive gets near 8. Zeros do not
// count: they are stored compactly.
inline constexpr int64_t kMaxNonzeroPerCompressedByte = 8;
inline constexpr int64_t kNonzeroAllowance = int64_t{1} << 22;

} // namespace kvtier::limits
