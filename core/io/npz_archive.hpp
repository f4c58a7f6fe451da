#pragma once
// The .npz container: a zip archive read through libzip. The archive is untrusted input, so
// every entry's declared sizes are checked before its data is read, and no libzip text
// reaches a user: its error codes become kvtier's own one-line InputErrors.
#include "core/io/array_stream.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct zip;   // libzip's archive handle (zip_t); only npz_archive.cpp includes <zip.h>

namespace kvtier {

// One entry of the central directory, as the archive declares it.
struct NpzEntry {
    uint64_t index = 0;           // in the archive
    std::string name;             // raw bytes as stored (quote with excerpt())
    uint16_t method = 0;          // 0 stored, 8 deflate
    bool encrypted = false;
    uint64_t compressed_size = 0;
    uint64_t size = 0;            // declared uncompressed size
};

class NpzArchive {
public:
    // Opens the archive at `path` (a regular file); messages name `shown`.
    NpzArchive(const std::string& path, std::string shown);

    const std::vector<NpzEntry>& entries() const { return entries_; }

    // The entry's uncompressed bytes. Refuses before reading: encryption, methods other than
    // stored and deflate, a stored entry whose declared size differs from its bytes, a
    // deflated one claiming more than deflate can give (limits::kMaxDeflateExpansion).
    // The stream yields at most the declared size and checks the CRC-32 in finish().
    std::unique_ptr<ArrayStream> open(const NpzEntry& entry) const;

private:
    std::string shown_;
    uint64_t fileSize_ = 0;
    std::shared_ptr<zip> zip_;    // shared with the open streams
    std::vector<NpzEntry> entries_;
};

} // namespace kvtier
