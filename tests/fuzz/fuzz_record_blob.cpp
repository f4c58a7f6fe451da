// libFuzzer harness: one record BLOB (docs/TRACE_FORMAT.md §2) straight into decodeRecord,
// without SQLite around it, so the fuzzer spends its time on the codec. The input is a
// 13-byte head, then the BLOB:
//   byte 0       encoding, modulo 9 (f32, f16, sparse_f32, sparse_f16, index_u32,
//                ranked_u32, index_varint, ranked_varint, index_step_delta)
//   bytes 1..4   n_t - 1 as little-endian u32 (n_t in 1 .. 2^32)
//   bytes 5..12  count as little-endian int64 (any value, negative and huge included)
// index_step_delta needs the record before it: its BLOB is a u16 length m (little-endian),
// m bytes of the previous record as index_varint (one entry per byte with the high bit
// clear), then the delta, decoded by decodeStepDelta against that previous set.
// A BLOB that decodes must re-encode to a BLOB that decodes to the same record, in its own
// encoding and, for selections and ranked records, in the other encoding of that kind.
#include "core/store/blob_codec.hpp"
#include "fuzz_common.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace kvtier;

namespace {

constexpr Encoding kEncodings[] = {Encoding::DenseF32,  Encoding::DenseF16,  Encoding::SparseF32,
                                   Encoding::SparseF16, Encoding::IndexU32,  Encoding::RankedU32,
                                   Encoding::IndexVarint, Encoding::RankedVarint};

// The place a reader adds (trace_reader.cpp); the codec's own errors have none.
void decodeAt(Encoding e, int64_t n, int64_t count, std::span<const unsigned char> blob,
              std::vector<uint32_t>& index, std::vector<float>& value)
{
    try {
        decodeRecord(e, n, count, blob, index, value);
    } catch (const InputError& err) {
        throw InputError("record", err.problem());
    }
}

// Encodes in `e` and decodes again: the record must come back unchanged.
void roundTrip(Encoding e, int64_t n, const std::vector<uint32_t>& index, const std::vector<float>& value)
{
    std::vector<unsigned char> blob;
    EncodedRecord r;
    try {
        r = encodeRecord(e, n, index, value, blob);
    } catch (const InputError& err) {
        fuzz::finding("a decoded record does not encode", std::string(toString(e)) + ": " + err.problem());
    }
    std::vector<uint32_t> index2;
    std::vector<float> value2;
    try {
        decodeRecord(e, n, r.count, blob, index2, value2);
    } catch (const InputError& err) {
        fuzz::finding("an encoded record does not decode", std::string(toString(e)) + ": " + err.problem());
    }
    if (index2 != index || value2 != value)
        fuzz::finding("round trip changed the record", toString(e));
}

// index_step_delta: the previous set, then the delta against it; a delta that decodes
// must be ascending, < n_t, of `count` entries, and come back unchanged through
// encodeStepDelta -> decodeStepDelta.
void stepDelta(int64_t n, int64_t count, std::span<const unsigned char> blob)
{
    if (blob.size() < 2) return;
    const size_t m = std::min<size_t>(blob[0] | static_cast<size_t>(blob[1]) << 8, blob.size() - 2);
    const auto prevBlob = blob.subspan(2, m);
    const auto deltaBlob = blob.subspan(2 + m);
    int64_t prevCount = 0;
    for (const unsigned char c : prevBlob) prevCount += (c & 0x80) == 0;
    std::vector<uint32_t> prev, index;
    std::vector<float> value;
    bool ok = false;
    fuzz::expectOnlyInputErrors([&] {
        decodeAt(Encoding::IndexVarint, n, prevCount, prevBlob, prev, value);
        try {
            decodeStepDelta(n, count, deltaBlob, prev, index, value);
        } catch (const InputError& err) {
            throw InputError("record", err.problem());
        }
        ok = true;
    });
    if (!ok) return;
    if (static_cast<int64_t>(index.size()) != count) fuzz::finding("a decoded delta's size is not its count", "index_step_delta");
    for (size_t k = 1; k < index.size(); ++k)
        if (index[k] <= index[k - 1]) fuzz::finding("decoded indices not strictly ascending", "index_step_delta");
    if (!index.empty() && index.back() >= n) fuzz::finding("decoded index >= n_t", "index_step_delta");
    std::vector<unsigned char> again;
    encodeStepDelta(prev, index, again);
    std::vector<uint32_t> index2;
    try {
        decodeStepDelta(n, count, again, prev, index2, value);
    } catch (const InputError& err) {
        fuzz::finding("an encoded delta does not decode", err.problem());
    }
    if (index2 != index) fuzz::finding("round trip changed the record", "index_step_delta");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 13) return 0;
    fuzz::setInput(data, size);
    uint32_t n1 = 0;
    uint64_t c = 0;
    for (int k = 0; k < 4; ++k) n1 |= static_cast<uint32_t>(data[1 + k]) << (8 * k);
    for (int k = 0; k < 8; ++k) c |= static_cast<uint64_t>(data[5 + k]) << (8 * k);
    const int64_t n = int64_t{n1} + 1;
    const auto count = static_cast<int64_t>(c);
    const std::span<const unsigned char> blob(data + 13, size - 13);
    if (data[0] % 9 == 8) {
        stepDelta(n, count, blob);
        return 0;
    }
    const Encoding e = kEncodings[data[0] % 9];
    std::vector<uint32_t> index;
    std::vector<float> value;
    bool ok = false;
    fuzz::expectOnlyInputErrors([&] {
        decodeAt(e, n, count, blob, index, value);
        ok = true;
    });
    if (!ok) return 0;
    for (size_t k = 1; k < index.size(); ++k)
        if (index[k] <= index[k - 1]) fuzz::finding("decoded indices not strictly ascending", toString(e));
    if (!index.empty() && index.back() >= n) fuzz::finding("decoded index >= n_t", toString(e));
    roundTrip(e, n, index, value);
    if (e == Encoding::IndexU32 || e == Encoding::IndexVarint)
        roundTrip(e == Encoding::IndexU32 ? Encoding::IndexVarint : Encoding::IndexU32, n, index, value);
    if (e == Encoding::RankedU32 || e == Encoding::RankedVarint)
        roundTrip(e == Encoding::RankedU32 ? Encoding::RankedVarint : Encoding::RankedU32, n, index, value);
    return 0;
}
