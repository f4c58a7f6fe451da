#pragma once
// Byte builders for the .npy / .npz import tests: little-endian integers, a .npy file and
// a raw deflate stream (what a zip entry holds). Shared by tst_import_npy and
// tst_import_hostile so both write exactly the format numpy writes.
#include <zlib.h>

#include <cstdint>
#include <string>

namespace kvtier::test {

inline void putLE(std::string& out, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
}

// A .npy file: magic, version, header dict padded with spaces to a 64-byte boundary, data.
inline std::string npy(const std::string& descr, const std::string& shape, const std::string& data = {},
                       bool fortran = false, int version = 1)
{
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
    const size_t pre = version == 1 ? 10 : 12;
    while ((pre + dict.size() + 1) % 64 != 0) dict.push_back(' ');
    dict.push_back('\n');
    std::string out = "\x93NUMPY";
    out.push_back(static_cast<char>(version));
    out.push_back(0);
    putLE(out, dict.size(), version == 1 ? 2 : 4);
    return out + dict + data;
}

// `in` as a raw deflate stream (no zlib header), as zip stores a deflated entry.
inline std::string rawDeflate(const std::string& in, int level = 6)
{
    z_stream zs{};
    deflateInit2(&zs, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 16, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

} // namespace kvtier::test
