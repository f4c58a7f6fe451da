"""Record BLOBs, byte for byte as core/store/blob_codec.cpp writes them (docs/TRACE_FORMAT.md
section 2): little-endian, zeros dropped from sparse encodings, a dense record stored in the
matching sparse encoding when that BLOB is strictly smaller (core/store/trace_writer.cpp)."""
import numpy as np

from .errors import CaptureError

SCORE_ENCODINGS = ("f32", "f16", "sparse_f32", "sparse_f16")
SELECTION_ENCODING = "index_u32"   # the default
SELECTION_ENCODINGS = ("index_u32", "index_varint", "index_step_delta")
STEP_DELTA = "index_step_delta"
DEFAULT_KEY_INTERVAL = 64   # core/model/trace.hpp kDefaultKeyInterval
MAX_KEY_INTERVAL = 4096     # kMaxKeyInterval
ENTRY_BYTES = {"f32": 4, "f16": 2, "sparse_f32": 8, "sparse_f16": 6, "index_u32": 4}
HALF_MAX = 65504.0


def _check_scores(values):
    if not np.all(np.isfinite(values)):
        raise CaptureError("a score is NaN or infinite")
    if np.any(values < 0):
        raise CaptureError("a score is negative")


def _halves(values):
    # numpy's float32 -> float16 rounds to nearest, ties to even, with subnormals: the same
    # bits as core/model/half.cpp. Above the f16 maximum the core refuses, so do we.
    if np.any(values > HALF_MAX):
        raise CaptureError("a score exceeds the f16 range (65504); use an f32 encoding")
    return values.astype("<f2")


def encode_scores(encoding, n_t, values):
    """A score record from the dense float32 vector `values` of length n_t.

    Returns (stored encoding, count, BLOB bytes, entries) where entries is the number of
    non-zero scores a reader gets back (what traces.entries sums)."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    if values.shape != (n_t,):
        raise CaptureError(f"a record of n_t = {n_t} has {values.shape} values")
    _check_scores(values)
    if encoding not in SCORE_ENCODINGS:
        raise CaptureError(f"unknown score encoding '{encoding}'")
    stored = encoding
    if encoding in ("f32", "f16"):
        sparse = "sparse_" + encoding
        k = int(np.count_nonzero(values))
        if ENTRY_BYTES[sparse] * k < ENTRY_BYTES[encoding] * n_t:
            stored = sparse
    if stored == "f32":
        return stored, n_t, values.astype("<f4").tobytes(), int(np.count_nonzero(values))
    if stored == "f16":
        h = _halves(values)
        return stored, n_t, h.tobytes(), int(np.count_nonzero(h.view("<u2") & 0x7FFF))
    index = np.flatnonzero(values).astype("<u4")
    if stored == "sparse_f32":
        rec = np.empty(index.size, dtype=[("i", "<u4"), ("v", "<f4")])
        rec["i"] = index
        rec["v"] = values[index]
        return stored, int(index.size), rec.tobytes(), int(index.size)
    # sparse_f16: values that are zero in f16 are dropped, then indices, then halves.
    h = _halves(values[index])
    keep = (h.view("<u2") & 0x7FFF) != 0
    index, h = index[keep], h[keep]
    return stored, int(index.size), index.tobytes() + h.tobytes(), int(index.size)


def encode_selection(n_t, index):
    """A selection record: strictly ascending token indices, each < n_t, as index_u32."""
    index = np.array(_check_selection(n_t, index), dtype=np.int64)
    return SELECTION_ENCODING, int(index.size), index.astype("<u4").tobytes(), int(index.size)


def _check_selection(n_t, index):
    """The selection as an int64 array, checked strictly ascending and < n_t."""
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    if index.size and (index[0] < 0 or index[-1] >= n_t or np.any(np.diff(index) <= 0)):
        raise CaptureError(f"selection indices must be strictly ascending and < n_t = {n_t}")
    return index


def _varint_bytes(values):
    """LEB128 of every value (0 .. 2^32 - 1), as core/store/blob_codec.cpp putVarint, at
    numpy speed: 7 bits a byte, least significant first, the high bit on all but the last."""
    v = np.asarray(values, dtype=np.uint64).reshape(-1)
    n = np.ones(v.size, dtype=np.int64)
    for k in range(1, 5):
        n += v >= np.uint64(1 << (7 * k))
    end = np.cumsum(n)
    start = end - n
    out = np.zeros(int(end[-1]) if v.size else 0, dtype=np.uint8)
    for k in range(5):
        has = n > k
        byte = (v[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (n[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[start[has] + k] = (byte | more).astype(np.uint8)
    return out.tobytes()


def _gaps(index):
    """index_varint's gaps of an ascending array: the first index, then i_k - i_{k-1} - 1."""
    index = np.asarray(index, dtype=np.int64)
    if index.size == 0:
        return index
    return np.concatenate((index[:1], np.diff(index) - 1))


def encode_index_varint(n_t, index):
    """A selection record as index_varint (docs/TRACE_FORMAT.md section 2)."""
    index = _check_selection(n_t, index)
    return "index_varint", int(index.size), _varint_bytes(_gaps(index)), int(index.size)


def encode_step_delta(prev, index):
    """The index_step_delta BLOB of the ascending `index` against the ascending `prev` (the
    same sequence's and layer's set at the step before): the removed and added counts, then
    the removed and the added indices as gaps (docs/TRACE_FORMAT.md "Step-delta selections")."""
    prev, index = np.asarray(prev, dtype=np.int64), np.asarray(index, dtype=np.int64)
    removed = np.setdiff1d(prev, index, assume_unique=True)
    added = np.setdiff1d(index, prev, assume_unique=True)
    return _varint_bytes([removed.size, added.size]) + _varint_bytes(np.concatenate((_gaps(removed), _gaps(added))))


class StepDeltaEncoder:
    """Writes a trace's selections as index_step_delta, as core/store/trace_writer.cpp does:
    per (sequence, layer), a key record (index_varint) at every step t % K == 0 and wherever
    the delta would not be smaller, else the delta from the step before. `prev` holds the last
    set of each (sequence, layer) (a resumed capture passes what its work file holds)."""

    def __init__(self, key_interval, prev=None):
        if not 1 <= key_interval <= MAX_KEY_INTERVAL:
            raise CaptureError("--key-interval", f"{key_interval} outside 1 .. {MAX_KEY_INTERVAL}")
        self.key_interval = key_interval
        self.prev = dict(prev or {})

    def encode(self, t, seq, layer, n_t, index):
        index = _check_selection(n_t, index)
        key = encode_index_varint(n_t, index)
        out = key
        if t % self.key_interval != 0:
            delta = encode_step_delta(self.prev[(seq, layer)], index)
            if len(delta) < len(key[2]):
                out = (STEP_DELTA, len(index), delta, len(index))
        self.prev[(seq, layer)] = index
        return out


def trace_encoding(encoding, key_interval):
    """traces.encoding: the name, and index_step_delta/K for a step-delta trace."""
    return f"{encoding}/{key_interval}" if encoding == STEP_DELTA else encoding


def _varints(blob, count, pos=0, whole=True):
    """`count` LEB128 varints filling `blob` from `pos` (docs/TRACE_FORMAT.md section 2), each
    <= 2^32 - 1; with whole=False returns (values, the position after them)."""
    out = []
    for k in range(count):
        v = 0
        for b in range(6):
            if b == 5:
                raise CaptureError(f"varint of entry {k} is longer than 5 bytes")
            if pos >= len(blob):
                raise CaptureError(f"truncated varint: entry {k}")
            c = blob[pos]
            pos += 1
            v |= (c & 0x7F) << (7 * b)
            if not c & 0x80:
                break
        if v > 0xFFFFFFFF:
            raise CaptureError(f"varint of entry {k} exceeds 2^32 - 1")
        out.append(v)
    if not whole:
        return out, pos
    if pos != len(blob):
        raise CaptureError(f"{len(blob) - pos} trailing bytes after {count} varints")
    return out


def _ungap(gaps):
    index, prev = [], -1
    for k, gap in enumerate(gaps):
        prev = gap if k == 0 else prev + 1 + gap
        index.append(prev)
    return index


def index_varint_set(count, blob):
    """The ascending indices of an index_varint BLOB."""
    return _ungap(_varints(blob, count))


def decode_step_delta(n_t, count, blob, prev):
    """The ascending set of an index_step_delta record given `prev`, the set of its sequence
    and layer at the step before; checked as core/store/blob_codec.cpp decodeStepDelta does."""
    if count < 0 or count > n_t:
        raise CaptureError(f"entry count {count} outside 0 .. n_t = {n_t}")
    (r, a), pos = _varints(blob, 2, whole=False)
    if r > len(prev) or r + a > len(blob) - pos:
        raise CaptureError(f"{r} removed and {a} added do not fit a {len(blob)}-byte BLOB and {len(prev)} indices")
    if count != len(prev) - r + a:
        raise CaptureError(f"count {count}, but {len(prev)} - {r} + {a} = {len(prev) - r + a}")
    gaps, pos = _varints(blob, r + a, pos, whole=False)
    if pos != len(blob):
        raise CaptureError(f"{len(blob) - pos} trailing bytes")
    removed, added = _ungap(gaps[:r]), _ungap(gaps[r:])
    have = set(prev)
    if any(i not in have for i in removed):
        raise CaptureError("a removed index is not in the previous record")
    if any(i in have or i >= n_t for i in added):
        raise CaptureError("an added index is already in the previous record or >= n_t")
    gone = set(removed)
    return sorted([i for i in prev if i not in gone] + added)


def _rank_scores(out, order):
    """A ranked record's rank scores: the first of len entries scores len, the last 1."""
    if len(set(order)) != len(order):
        raise CaptureError("a token appears twice in the ranked list")
    for rank, i in enumerate(order):
        out[i] = len(order) - rank


def decode(encoding, n_t, count, blob):
    """The dense float32 vector of a record (selections: 1 where selected; ranked records:
    their rank scores). For tests; reads every encoding of docs/TRACE_FORMAT.md section 2."""
    out = np.zeros(n_t, dtype=np.float32)
    if encoding == "f32":
        out[:] = np.frombuffer(blob, "<f4", count)
    elif encoding == "f16":
        out[:] = np.frombuffer(blob, "<f2", count).astype(np.float32)
    elif encoding == "sparse_f32":
        rec = np.frombuffer(blob, [("i", "<u4"), ("v", "<f4")], count)
        out[rec["i"]] = rec["v"]
    elif encoding == "sparse_f16":
        idx = np.frombuffer(blob, "<u4", count)
        out[idx] = np.frombuffer(blob, "<f2", count, offset=4 * count).astype(np.float32)
    elif encoding == "index_u32":
        out[np.frombuffer(blob, "<u4", count)] = 1.0
    elif encoding == "ranked_u32":
        _rank_scores(out, [int(i) for i in np.frombuffer(blob, "<u4", count)])
    elif encoding == "index_varint":
        index = _ungap(_varints(blob, count))
        if index and index[-1] >= n_t:
            raise CaptureError(f"token index {index[-1]} >= n_t = {n_t}")
        out[np.array(index, dtype=np.int64)] = 1.0
    elif encoding == STEP_DELTA:
        raise CaptureError("an index_step_delta record needs the record before it (decode_step_delta)")
    elif encoding == "ranked_varint":
        order, prev = [], 0
        for z in _varints(blob, count):
            prev = (prev + ((z >> 1) ^ -(z & 1))) % 2 ** 32
            order.append(prev)
        _rank_scores(out, order)
    else:
        raise CaptureError(f"unknown encoding '{encoding}'")
    return out
