#pragma once
// The bytes of one NumPy array, read front to back: a .npy file, or an entry of an .npz
// archive (core/io/npz_archive.hpp). The .npy parser and the importer see only this.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

namespace kvtier {

class ArrayStream {
public:
    virtual ~ArrayStream() = default;
    ArrayStream(const ArrayStream&) = delete;
    ArrayStream& operator=(const ArrayStream&) = delete;

    // The place messages name: "x.npy", or "x.npz entry 'scores.npy'".
    const std::string& where() const { return where_; }
    // The bytes the array claims (a file's size, an entry's declared size), and those not
    // yet read. Checked against what a header states before anything is allocated.
    uint64_t size() const { return size_; }
    uint64_t remaining() const { return size_ - done_; }

    // Exactly n bytes, or InputError "truncated file: WHAT is cut off after byte N".
    void read(unsigned char* dst, size_t n, const char* what);
    // After the last row: checks what can only be checked at the end (an entry's CRC-32).
    virtual void finish() {}

    // Non-zero scores this array may yield (limits::kMaxNonzeroPerCompressedByte): a
    // deflate bomb of repeated non-zero values must not become a huge database. Stored
    // bytes cost their size, so they have no limit beyond it.
    virtual uint64_t nonzeroLimit() const { return std::numeric_limits<uint64_t>::max(); }
    // Bytes the array takes in the file (compressed for a deflated entry).
    virtual uint64_t compressedSize() const { return size_; }

protected:
    ArrayStream(std::string where, uint64_t size) : where_(std::move(where)), size_(size) {}
    // Up to n bytes; fewer only when the data ends. May throw InputError.
    virtual size_t readSome(unsigned char* dst, size_t n) = 0;
    uint64_t done() const { return done_; }

private:
    std::string where_;
    uint64_t size_;
    uint64_t done_ = 0;
};

// The size of a file kvtier can seek in, or InputError(shown, ...) for a pipe, a missing
// or unreadable file.
uint64_t seekableFileSize(const std::string& path, const std::string& shown);

// A .npy file as a stream (path opened, shown named in messages).
std::unique_ptr<ArrayStream> openNpyFile(const std::string& path, const std::string& shown);

} // namespace kvtier
