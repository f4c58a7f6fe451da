#pragma once
// Record BLOBs (docs/TRACE_FORMAT.md): the bytes of one (step, layer) record in one of the
// encodings of kvtier::Encoding. Always little-endian, whatever the host.
#include "core/model/trace.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace kvtier {

// What encodeRecord stored: `count` goes into records.count (n_t for dense encodings,
// the number of entries for sparse ones); `nonzero` is what a reader will get back.
struct EncodedRecord {
    int64_t count = 0;
    int64_t nonzero = 0;
};

// Bytes one entry takes in encoding `e`, and a BLOB of `count` entries (the caller keeps
// count within what fits size_t: decodeRecord compares before it multiplies). The varint
// encodings have no fixed width: both give their least, 1 byte per entry.
size_t entryBytes(Encoding e);
size_t blobBytes(Encoding e, int64_t count);

// True for index_varint and ranked_varint (entries of 1 to 5 bytes; index_step_delta's
// varints are decoded by decodeStepDelta, against the record before).
bool isVarint(Encoding e);

// Encodes a sparse record (ascending index, each < n_t; values finite and >= 0 — the
// caller validates) into `out` (replaced). Sparse encodings drop zero values, including
// values that round to zero in f16. index_step_delta needs the record before it
// (encodeStepDelta): here it is refused. Throws InputError("", problem) when a value does not
// fit the encoding (above the f16 range).
EncodedRecord encodeRecord(Encoding e, int64_t n_t, std::span<const uint32_t> index,
                           std::span<const float> value, std::vector<unsigned char>& out);

// Decodes a BLOB into ascending index / value (both replaced), dropping zeros; selections
// (index_u32, index_varint) get value 1. An index_step_delta record needs the record before
// it (decodeStepDelta): here it is refused. Validates everything a damaged file could get
// wrong: BLOB length against encoding and count, dense count == n_t, index < n_t, strictly
// ascending, finite values >= 0; for the varint encodings exactly `count` varints filling
// the BLOB, none truncated, longer than 5 bytes or above 2^32 - 1. Throws
// InputError("", problem); the caller adds the place.
void decodeRecord(Encoding e, int64_t n_t, int64_t count, std::span<const unsigned char> blob,
                  std::vector<uint32_t>& index, std::vector<float>& value);

// ---- Step-delta selections (docs/TRACE_FORMAT.md "Step-delta selections") -------------------
// A trace stored as index_step_delta holds, per (sequence, layer), key records (index_varint,
// the whole set) and delta records (index_step_delta: the indices removed from and added to
// the set of the same sequence and layer at the step before). Every step t with t % K == 0
// is a key record, so a reader may start at any multiple of K (kDefaultKeyInterval,
// kMaxKeyInterval: core/model/trace.hpp).

// The delta BLOB of `index` against `prev` (both strictly ascending): the number of indices
// removed and added as two LEB128 varints, then the removed indices, then the added ones,
// each list as index_varint's gaps. `out` is replaced.
void encodeStepDelta(std::span<const uint32_t> prev, std::span<const uint32_t> index,
                     std::vector<unsigned char>& out);

// Decodes a delta BLOB against `prev` (the decoded set of the same sequence and layer at
// the step before, strictly ascending, each < n_t) into `index` (ascending) and `value`
// (all 1), both replaced. `count` is the decoded set's size. Validates everything a damaged
// file could get wrong before sizing anything by it: count against n_t, the two counts
// against the BLOB's length and the previous set, each removed index in `prev`, each added
// index < n_t and not in `prev`, count = |prev| - removed + added, the BLOB ending with the
// last varint. Throws InputError("", problem); the caller adds the place.
void decodeStepDelta(int64_t n_t, int64_t count, std::span<const unsigned char> blob,
                     std::span<const uint32_t> prev, std::vector<uint32_t>& index, std::vector<float>& value);

} // namespace kvtier
