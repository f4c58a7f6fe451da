#pragma once
// The .npy format (NumPy's format description, version 1-3): the header dictionary, the
// dtype, elements. Parsed from an ArrayStream, so a .npy file and an .npz entry read alike.
#include "core/io/array_stream.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

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

// Magic, version, header length (checked against limits::kMaxNpyHeaderBytes and the bytes
// the stream holds before it is allocated) and the dictionary.
NpyHeader readNpyHeader(ArrayStream& in);

// float16, float32 or float64.
bool isFloat(const NpyHeader& h);
// "(3, 4)", "(5,)".
std::string shapeText(const std::vector<uint64_t>& shape);
// Elements of the array; throws InputError(where, "array too large ...") when its byte size
// would overflow 64 bits.
uint64_t elementCount(const NpyHeader& h, const std::string& where);
// Element `p` of a little-endian float array of `itemSize` bytes (2, 4 or 8), widened.
double floatElementAt(const unsigned char* p, size_t itemSize);

// The prefill array of an .npz: an integer scalar or one-element array, >= 0. Reads the
// whole entry (and checks it with finish()).
int64_t readPrefillArray(ArrayStream& in);
// The sequence_prefill array of an .npz: a one-dimensional little-endian integer array of
// 1 .. maxCount values, each >= 0 (P_s of each sequence). Reads the whole entry.
std::vector<int64_t> readSequencePrefillArray(ArrayStream& in, uint64_t maxCount);

} // namespace kvtier
