"""Record BLOBs, byte for byte as core/store/blob_codec.cpp writes them (docs/TRACE_FORMAT.md
section 2): little-endian, zeros dropped from sparse encodings, a dense record stored in the
matching sparse encoding when that BLOB is strictly smaller (core/store/trace_writer.cpp)."""
import numpy as np

from .errors import CaptureError

SCORE_ENCODINGS = ("f32", "f16", "sparse_f32", "sparse_f16")
SELECTION_ENCODING = "index_u32"
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
    index = np.asarray(index, dtype=np.int64)
    if index.size and (index[0] < 0 or index[-1] >= n_t or np.any(np.diff(index) <= 0)):
        raise CaptureError(f"selection indices must be strictly ascending and < n_t = {n_t}")
    return SELECTION_ENCODING, int(index.size), index.astype("<u4").tobytes(), int(index.size)


def _varints(blob, count):
    """`count` LEB128 varints filling `blob` (docs/TRACE_FORMAT.md section 2), each <= 2^32 - 1."""
    out, pos = [], 0
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
    if pos != len(blob):
        raise CaptureError(f"{len(blob) - pos} trailing bytes after {count} varints")
    return out


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
        index, prev = [], -1
        for k, gap in enumerate(_varints(blob, count)):
            prev = gap if k == 0 else prev + 1 + gap
            index.append(prev)
        out[np.array(index, dtype=np.int64)] = 1.0
    elif encoding == "ranked_varint":
        order, prev = [], 0
        for z in _varints(blob, count):
            prev = (prev + ((z >> 1) ^ -(z & 1))) % 2 ** 32
            order.append(prev)
        _rank_scores(out, order)
    else:
        raise CaptureError(f"unknown encoding '{encoding}'")
    return out
