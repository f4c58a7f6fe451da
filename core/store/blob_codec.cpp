#include "core/store/blob_codec.hpp"

#include "core/model/error.hpp"
#include "core/model/half.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

namespace kvtier {

namespace {

// Explicit little-endian stores and loads. On a little-endian host these compile to plain
// moves; the byte-wise path keeps big-endian hosts correct.
void putU32(unsigned char* p, uint32_t v)
{
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(p, &v, 4);
    } else {
        p[0] = static_cast<unsigned char>(v);
        p[1] = static_cast<unsigned char>(v >> 8);
        p[2] = static_cast<unsigned char>(v >> 16);
        p[3] = static_cast<unsigned char>(v >> 24);
    }
}

void putU16(unsigned char* p, uint16_t v)
{
    p[0] = static_cast<unsigned char>(v);
    p[1] = static_cast<unsigned char>(v >> 8);
}

uint32_t getU32(const unsigned char* p)
{
    if constexpr (std::endian::native == std::endian::little) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    } else {
        return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
               static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    }
}

uint16_t getU16(const unsigned char* p)
{
    return static_cast<uint16_t>(p[0] | p[1] << 8);
}

void putF32(unsigned char* p, float f) { putU32(p, std::bit_cast<uint32_t>(f)); }
float getF32(const unsigned char* p) { return std::bit_cast<float>(getU32(p)); }

uint16_t toHalfChecked(float v, uint32_t token)
{
    if (v > kHalfMax)
        throw InputError("", "score " + std::to_string(v) + " of token " + std::to_string(token) +
                                 " exceeds the f16 range (65504); use an f32 encoding");
    return floatToHalf(v);
}

void checkValue(float v, uint32_t token)
{
    if (std::isnan(v))
        throw InputError("", "score of token " + std::to_string(token) + " is NaN");
    if (!std::isfinite(v))
        throw InputError("", "score of token " + std::to_string(token) + " is infinite");
    if (v < 0)
        throw InputError("", "score of token " + std::to_string(token) + " is negative (" +
                                 std::to_string(v) + ")");
}

void checkIndex(uint32_t i, int64_t n_t, bool first, uint32_t prev)
{
    if (static_cast<int64_t>(i) >= n_t)
        throw InputError("", "token index " + std::to_string(i) + " >= n_t = " + std::to_string(n_t));
    if (!first && i <= prev)
        throw InputError("", "token indices not strictly ascending at " + std::to_string(i));
}

// LEB128: seven bits a byte, least significant group first, the high bit set on every
// byte but the last. A u32 takes 1 to 5 bytes.
void putVarint(std::vector<unsigned char>& out, uint32_t v)
{
    while (v >= 0x80) {
        out.push_back(static_cast<unsigned char>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<unsigned char>(v));
}

// Reads the varint of entry `k` at blob[pos], advancing pos. Refuses a varint the BLOB
// ends inside, one longer than 5 bytes and one whose value exceeds 2^32 - 1 (the fifth
// byte may carry 4 bits only). Padded forms (0x80 0x00 for 0) decode to their value.
uint32_t getVarint(std::span<const unsigned char> blob, size_t& pos, size_t k)
{
    const size_t start = pos;
    uint64_t v = 0;
    for (int b = 0; b < 5; ++b) {
        if (pos >= blob.size())
            throw InputError("", "truncated varint: entry " + std::to_string(k) + " at byte " + std::to_string(start) +
                                     " runs past the end of the " + std::to_string(blob.size()) + "-byte BLOB");
        const unsigned char c = blob[pos++];
        v |= static_cast<uint64_t>(c & 0x7Fu) << (7 * b);
        if ((c & 0x80u) == 0) {
            if (v > 0xFFFFFFFFu)
                throw InputError("", "varint of entry " + std::to_string(k) + " at byte " + std::to_string(start) +
                                         " exceeds 2^32 - 1");
            return static_cast<uint32_t>(v);
        }
    }
    throw InputError("", "varint of entry " + std::to_string(k) + " at byte " + std::to_string(start) +
                             " is longer than 5 bytes");
}

// Zigzag: a signed 32-bit difference as an unsigned one, small magnitudes small
// (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...). Differences are taken modulo 2^32, so every
// step between two u32 indices is one int32 and fits 5 bytes.
uint32_t zigzag(uint32_t diff)
{
    const auto d = static_cast<int32_t>(diff);
    return (static_cast<uint32_t>(d) << 1) ^ static_cast<uint32_t>(d >> 31);
}
uint32_t unzigzag(uint32_t z) { return (z >> 1) ^ (0u - (z & 1u)); }

// The `count` entries must end exactly where the BLOB does.
void checkVarintEnd(Encoding e, int64_t count, size_t size, size_t end)
{
    if (end != size)
        throw InputError("", "oversized BLOB: " + std::to_string(size) + " bytes, " + toString(e) + " with count " +
                                 std::to_string(count) + " ends at byte " + std::to_string(end) + " (trailing bytes)");
}

void decodeVarintRecord(Encoding e, int64_t n_t, int64_t count, std::span<const unsigned char> blob,
                        std::vector<uint32_t>& index, std::vector<float>& value)
{
    // Every varint takes at least one byte: count is checked against the BLOB before
    // anything is sized by it.
    if (static_cast<uint64_t>(count) > blob.size())
        throw InputError("", "truncated BLOB: " + std::to_string(blob.size()) + " bytes, " + toString(e) +
                                 " with count " + std::to_string(count) + " needs at least " + std::to_string(count));
    const auto c = static_cast<size_t>(count);
    size_t pos = 0;
    if (e == Encoding::IndexVarint) {
        index.resize(c);
        uint32_t* out = index.data();
        const unsigned char* bytes = blob.data();
        const size_t size = blob.size();
        uint64_t least = 0;   // the least index entry k may take: 0, then the previous + 1
        for (size_t k = 0; k < c; ++k) {
            // A gap below 128 is one byte: the usual case, read without the general decoder.
            const uint32_t gap = pos < size && bytes[pos] < 0x80u ? bytes[pos++] : getVarint(blob, pos, k);
            const uint64_t i = least + gap;   // < 2^33: no overflow
            if (static_cast<int64_t>(i) >= n_t)
                throw InputError("", "token index " + std::to_string(i) + " >= n_t = " + std::to_string(n_t));
            out[k] = static_cast<uint32_t>(i);
            least = i + 1;
        }
    } else {
        // The limit rankScoresFromOrder enforces, before the order is sized (1-byte
        // entries: a 1 GB BLOB would otherwise hold 4 GB of order).
        if (count > kMaxRankedEntries)
            throw InputError("", "a ranked record of " + std::to_string(count) + " entries exceeds the limit of " +
                                     std::to_string(kMaxRankedEntries));
        std::vector<uint32_t> order(c);
        uint32_t prev = 0;
        for (size_t k = 0; k < c; ++k) {
            prev += unzigzag(getVarint(blob, pos, k));   // modulo 2^32, as written
            if (static_cast<int64_t>(prev) >= n_t)
                throw InputError("", "token index " + std::to_string(prev) + " >= n_t = " + std::to_string(n_t));
            order[k] = prev;
        }
        checkVarintEnd(e, count, blob.size(), pos);
        rankScoresFromOrder(order, index, value);
        return;
    }
    checkVarintEnd(e, count, blob.size(), pos);
    value.assign(c, 1.0f);
}

} // namespace

size_t entryBytes(Encoding e)
{
    switch (e) {
    case Encoding::DenseF32: return 4;
    case Encoding::DenseF16: return 2;
    case Encoding::SparseF32: return 8;
    case Encoding::SparseF16: return 6;
    case Encoding::IndexU32: return 4;
    case Encoding::RankedU32: return 4;
    case Encoding::IndexVarint:
    case Encoding::RankedVarint:
    case Encoding::IndexStepDelta: return 1;
    }
    return 0;
}

bool isVarint(Encoding e) { return e == Encoding::IndexVarint || e == Encoding::RankedVarint; }

size_t blobBytes(Encoding e, int64_t count)
{
    return entryBytes(e) * static_cast<size_t>(count);
}

EncodedRecord encodeRecord(Encoding e, int64_t n_t, std::span<const uint32_t> index,
                           std::span<const float> value, std::vector<unsigned char>& out)
{
    EncodedRecord r;
    switch (e) {
    case Encoding::DenseF32:
    case Encoding::DenseF16: {
        const size_t width = e == Encoding::DenseF32 ? 4 : 2;
        out.assign(width * static_cast<size_t>(n_t), 0);   // zeros are 0x00 bytes in both
        for (size_t k = 0; k < index.size(); ++k) {
            unsigned char* p = out.data() + width * index[k];
            if (e == Encoding::DenseF32) {
                putF32(p, value[k]);
                r.nonzero += value[k] != 0.0f;
            } else {
                const uint16_t h = toHalfChecked(value[k], index[k]);
                putU16(p, h);
                r.nonzero += (h & 0x7FFFu) != 0;
            }
        }
        r.count = n_t;
        return r;
    }
    case Encoding::SparseF32: {
        out.resize(8 * index.size());
        size_t k2 = 0;
        for (size_t k = 0; k < index.size(); ++k) {
            if (value[k] == 0.0f) continue;
            putU32(out.data() + 8 * k2, index[k]);
            putF32(out.data() + 8 * k2 + 4, value[k]);
            ++k2;
        }
        out.resize(8 * k2);
        r.count = r.nonzero = static_cast<int64_t>(k2);
        return r;
    }
    case Encoding::SparseF16: {
        // Two arrays: all indices, then all halves. Count known only after dropping the
        // values that are zero in f16, so convert first.
        std::vector<uint16_t> halves;
        halves.reserve(index.size());
        std::vector<uint32_t> kept;
        kept.reserve(index.size());
        for (size_t k = 0; k < index.size(); ++k) {
            const uint16_t h = toHalfChecked(value[k], index[k]);
            if ((h & 0x7FFFu) == 0) continue;
            kept.push_back(index[k]);
            halves.push_back(h);
        }
        const size_t c = kept.size();
        out.resize(6 * c);
        for (size_t k = 0; k < c; ++k) {
            putU32(out.data() + 4 * k, kept[k]);
            putU16(out.data() + 4 * c + 2 * k, halves[k]);
        }
        r.count = r.nonzero = static_cast<int64_t>(c);
        return r;
    }
    case Encoding::IndexU32: {
        out.resize(4 * index.size());
        for (size_t k = 0; k < index.size(); ++k) putU32(out.data() + 4 * k, index[k]);
        r.count = r.nonzero = static_cast<int64_t>(index.size());
        return r;
    }
    case Encoding::RankedU32: {
        const std::string problem = rankScoreProblem(value);
        if (!problem.empty() || value.size() != index.size())
            throw InputError("", problem.empty() ? "ranked record without rank scores" : problem);
        const std::vector<uint32_t> order = orderFromRankScores(index, value);
        out.resize(4 * order.size());
        for (size_t k = 0; k < order.size(); ++k) putU32(out.data() + 4 * k, order[k]);
        r.count = r.nonzero = static_cast<int64_t>(order.size());
        return r;
    }
    case Encoding::IndexVarint: {
        out.clear();
        out.reserve(index.size());
        for (size_t k = 0; k < index.size(); ++k)
            putVarint(out, k == 0 ? index[0] : index[k] - index[k - 1] - 1);   // ascending: gap >= 0
        r.count = r.nonzero = static_cast<int64_t>(index.size());
        return r;
    }
    case Encoding::RankedVarint: {
        const std::string problem = rankScoreProblem(value);
        if (!problem.empty() || value.size() != index.size())
            throw InputError("", problem.empty() ? "ranked record without rank scores" : problem);
        const std::vector<uint32_t> order = orderFromRankScores(index, value);
        out.clear();
        out.reserve(order.size());
        uint32_t prev = 0;
        for (const uint32_t i : order) {
            putVarint(out, zigzag(i - prev));   // modulo 2^32
            prev = i;
        }
        r.count = r.nonzero = static_cast<int64_t>(order.size());
        return r;
    }
    case Encoding::IndexStepDelta:
        throw InputError("", "an index_step_delta record is written against the record before it (encodeStepDelta)");
    }
    throw InputError("", "unknown encoding");
}

void decodeRecord(Encoding e, int64_t n_t, int64_t count, std::span<const unsigned char> blob,
                  std::vector<uint32_t>& index, std::vector<float>& value)
{
    index.clear();
    value.clear();
    if (count < 0)
        throw InputError("", "negative entry count " + std::to_string(count));
    const bool dense = e == Encoding::DenseF32 || e == Encoding::DenseF16;
    if (dense && count != n_t)
        throw InputError("", std::string("dense ") + toString(e) + " record has count " +
                                 std::to_string(count) + ", expected n_t = " + std::to_string(n_t));
    if (!dense && count > n_t)
        throw InputError("", "entry count " + std::to_string(count) + " > n_t = " + std::to_string(n_t));
    if (isVarint(e)) {
        decodeVarintRecord(e, n_t, count, blob, index, value);
        return;
    }
    if (e == Encoding::IndexStepDelta)
        throw InputError("", "an index_step_delta record needs the record of its sequence and layer at the step before");
    // Compare count with what the BLOB can hold before multiplying: count x entry size
    // may not fit size_t (a damaged count of 2^62 would wrap to 0 and pass).
    const size_t width = entryBytes(e);
    if (static_cast<uint64_t>(count) > blob.size() / width) {
        const double need = static_cast<double>(count) * static_cast<double>(width);
        throw InputError("", "truncated BLOB: " + std::to_string(blob.size()) + " bytes, " + toString(e) +
                                 " with count " + std::to_string(count) + " needs " +
                                 (need < 1e15 ? std::to_string(static_cast<uint64_t>(need)) : readableNumber(need)));
    }
    const size_t want = width * static_cast<size_t>(count);
    if (blob.size() != want)
        throw InputError("", "oversized BLOB: " + std::to_string(blob.size()) + " bytes, " + toString(e) +
                                 " with count " + std::to_string(count) + " needs " + std::to_string(want));
    const unsigned char* p = blob.data();
    const auto c = static_cast<size_t>(count);
    switch (e) {
    case Encoding::DenseF32:
    case Encoding::DenseF16:
        for (size_t i = 0; i < c; ++i) {
            const float v = e == Encoding::DenseF32 ? getF32(p + 4 * i) : halfToFloat(getU16(p + 2 * i));
            checkValue(v, static_cast<uint32_t>(i));
            if (v != 0.0f) {
                index.push_back(static_cast<uint32_t>(i));
                value.push_back(v);
            }
        }
        return;
    case Encoding::SparseF32:
    case Encoding::SparseF16: {
        const bool f32 = e == Encoding::SparseF32;
        auto indexAt = [&](size_t k) { return f32 ? getU32(p + 8 * k) : getU32(p + 4 * k); };
        index.reserve(c);
        value.reserve(c);
        for (size_t k = 0; k < c; ++k) {
            const uint32_t i = indexAt(k);
            const float v = f32 ? getF32(p + 8 * k + 4) : halfToFloat(getU16(p + 4 * c + 2 * k));
            // Against the previous stored index, kept or not: a stray zero may sit between.
            checkIndex(i, n_t, k == 0, k == 0 ? 0 : indexAt(k - 1));
            checkValue(v, i);
            if (v != 0.0f) {
                index.push_back(i);
                value.push_back(v);
            }
        }
        return;
    }
    case Encoding::IndexU32:
        index.reserve(c);
        for (size_t k = 0; k < c; ++k) {
            const uint32_t i = getU32(p + 4 * k);
            checkIndex(i, n_t, k == 0, k == 0 ? 0 : index.back());
            index.push_back(i);
        }
        value.assign(c, 1.0f);
        return;
    case Encoding::RankedU32: {
        std::vector<uint32_t> order(c);
        for (size_t k = 0; k < c; ++k) {
            order[k] = getU32(p + 4 * k);
            if (order[k] >= n_t)
                throw InputError("", "token index " + std::to_string(order[k]) + " >= n_t = " + std::to_string(n_t));
        }
        rankScoresFromOrder(order, index, value);
        return;
    }
    case Encoding::IndexVarint:
    case Encoding::RankedVarint:
    case Encoding::IndexStepDelta: return;   // decoded (or refused) above
    }
}

namespace {

// index_varint's gaps of an ascending list, appended to `out`.
void putGaps(std::vector<unsigned char>& out, std::span<const uint32_t> list)
{
    for (size_t k = 0; k < list.size(); ++k) putVarint(out, k == 0 ? list[0] : list[k] - list[k - 1] - 1);
}

// One of the two counts at the head of a delta BLOB.
uint32_t getCount(std::span<const unsigned char> blob, size_t& pos, const char* what)
{
    try {
        return getVarint(blob, pos, 0);
    } catch (const InputError& e) {
        throw InputError("", std::string("the ") + what + " count: " + e.problem());
    }
}

} // namespace

void encodeStepDelta(std::span<const uint32_t> prev, std::span<const uint32_t> index, std::vector<unsigned char>& out)
{
    std::vector<uint32_t> removed;
    std::vector<uint32_t> added;
    size_t i = 0;
    size_t j = 0;
    while (i < prev.size() || j < index.size()) {
        if (j == index.size() || (i < prev.size() && prev[i] < index[j])) {
            removed.push_back(prev[i++]);
        } else if (i == prev.size() || index[j] < prev[i]) {
            added.push_back(index[j++]);
        } else {
            ++i;
            ++j;
        }
    }
    out.clear();
    out.reserve(2 + removed.size() + added.size());
    putVarint(out, static_cast<uint32_t>(removed.size()));
    putVarint(out, static_cast<uint32_t>(added.size()));
    putGaps(out, removed);
    putGaps(out, added);
}

void decodeStepDelta(int64_t n_t, int64_t count, std::span<const unsigned char> blob, std::span<const uint32_t> prev,
                     std::vector<uint32_t>& index, std::vector<float>& value)
{
    index.clear();
    value.clear();
    if (count < 0) throw InputError("", "negative entry count " + std::to_string(count));
    if (count > n_t) throw InputError("", "entry count " + std::to_string(count) + " > n_t = " + std::to_string(n_t));
    size_t pos = 0;
    const uint32_t r = getCount(blob, pos, "removed");
    const uint32_t a = getCount(blob, pos, "added");
    if (r > prev.size())
        throw InputError("", "removes " + std::to_string(r) + " indices from a previous record of " +
                                 std::to_string(prev.size()));
    // Every index takes at least one byte: both counts are checked against the BLOB before
    // anything is sized by them.
    if (uint64_t{r} + a > blob.size() - pos)
        throw InputError("", "truncated BLOB: " + std::to_string(blob.size()) + " bytes, index_step_delta with " +
                                 std::to_string(r) + " removed and " + std::to_string(a) + " added needs at least " +
                                 std::to_string(pos + uint64_t{r} + a));
    const auto want = static_cast<int64_t>(prev.size()) - r + a;
    if (count != want)
        throw InputError("", "count " + std::to_string(count) + ", but the previous record's " +
                                 std::to_string(prev.size()) + " indices - " + std::to_string(r) + " removed + " +
                                 std::to_string(a) + " added make " + std::to_string(want));
    // Removed: each in prev (both ascending: one walk). The gaps keep the list ascending.
    std::vector<char> gone(prev.size(), 0);
    size_t j = 0;
    uint64_t last = 0;
    try {
        for (uint32_t k = 0; k < r; ++k) {
            const uint32_t gap = getVarint(blob, pos, k);
            const uint64_t i = k == 0 ? gap : last + 1 + gap;   // < 2^33: no overflow
            while (j < prev.size() && prev[j] < i) ++j;
            if (j == prev.size() || prev[j] != i)
                throw InputError("", "removed index " + std::to_string(i) + " is not in the previous record");
            gone[j++] = 1;
            last = i;
        }
    } catch (const InputError& e) {
        throw InputError("", "removed list: " + e.problem());
    }
    // Added: each < n_t and not in prev; merged with what prev keeps.
    index.reserve(static_cast<size_t>(count));
    j = 0;
    last = 0;
    try {
        for (uint32_t k = 0; k < a; ++k) {
            const uint32_t gap = getVarint(blob, pos, k);
            const uint64_t i = k == 0 ? gap : last + 1 + gap;
            if (static_cast<int64_t>(i) >= n_t)
                throw InputError("", "token index " + std::to_string(i) + " >= n_t = " + std::to_string(n_t));
            while (j < prev.size() && prev[j] < i) {
                if (!gone[j]) index.push_back(prev[j]);
                ++j;
            }
            if (j < prev.size() && prev[j] == i)
                throw InputError("", "added index " + std::to_string(i) + " is already in the previous record");
            index.push_back(static_cast<uint32_t>(i));
            last = i;
        }
    } catch (const InputError& e) {
        throw InputError("", "added list: " + e.problem());
    }
    for (; j < prev.size(); ++j)
        if (!gone[j]) index.push_back(prev[j]);
    if (pos != blob.size())
        throw InputError("", "oversized BLOB: " + std::to_string(blob.size()) + " bytes, index_step_delta with " +
                                 std::to_string(r) + " removed and " + std::to_string(a) +
                                 " added ends at byte " + std::to_string(pos) + " (trailing bytes)");
    value.assign(index.size(), 1.0f);
}

} // namespace kvtier
