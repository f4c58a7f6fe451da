"""The record BLOBs, against the byte examples and rules of docs/TRACE_FORMAT.md section 2."""
import unittest

import numpy as np

import support  # noqa: F401  (puts the package on the path)
from kvtier_capture import CaptureError, blob_codec


def enc(encoding, values):
    return blob_codec.encode_scores(encoding, len(values), np.array(values, dtype=np.float32))


class CodecTest(unittest.TestCase):
    def test_trace_format_example(self):
        # n_t = 3, token 0 -> 1.0, token 2 -> 0.5. Dense encodings with 2 of 3 non-zero stay
        # dense (f32: 8 * 2 = 16 bytes is not smaller than 12; f16: 12 is not smaller than 6).
        v = [1.0, 0.0, 0.5]
        self.assertEqual(enc("f32", v), ("f32", 3, bytes.fromhex("0000803f 00000000 0000003f"), 2))
        self.assertEqual(enc("f16", v), ("f16", 3, bytes.fromhex("003c 0000 0038"), 2))
        self.assertEqual(enc("sparse_f32", v), ("sparse_f32", 2, bytes.fromhex("00000000 0000803f 02000000 0000003f"), 2))
        self.assertEqual(enc("sparse_f16", v), ("sparse_f16", 2, bytes.fromhex("00000000 02000000 003c 0038"), 2))
        self.assertEqual(blob_codec.encode_selection(3, [0, 2]), ("index_u32", 2, bytes.fromhex("00000000 02000000"), 2))

    def test_reads_the_varint_encodings(self):
        # docs/TRACE_FORMAT.md section 2: {0, 1, 2, 130, 131} as gaps 0, 0, 0, 127, 0; the
        # order {5, 2, 300} as zigzag differences 10, 5, 596.
        sel = blob_codec.decode("index_varint", 200, 5, bytes.fromhex("00 00 00 7f 00"))
        self.assertEqual(list(np.flatnonzero(sel)), [0, 1, 2, 130, 131])
        ranked = blob_codec.decode("ranked_varint", 301, 3, bytes.fromhex("0a 05 d4 04"))
        self.assertEqual((ranked[5], ranked[2], ranked[300]), (3.0, 2.0, 1.0))
        self.assertEqual(float(ranked.sum()), 6.0)
        same = blob_codec.decode("ranked_u32", 301, 3, bytes.fromhex("05000000 02000000 2c010000"))
        self.assertTrue(np.array_equal(same, ranked))
        for bad in ("80", "8080808080 00", "8080808010", "00 00"):
            with self.assertRaises(CaptureError):
                blob_codec.decode("index_varint", 10, 1, bytes.fromhex(bad))
        with self.assertRaises(CaptureError):
            blob_codec.decode("ranked_varint", 10, 2, bytes.fromhex("0a 00"))

    def test_step_delta_bytes(self):
        # docs/TRACE_FORMAT.md "Step-delta selections": {0, 2, 5, 9} -> {0, 5, 7, 9, 12} is
        # 1 removed, 2 added, removed gaps [2], added gaps [7, 4].
        self.assertEqual(blob_codec.encode_step_delta([0, 2, 5, 9], [0, 5, 7, 9, 12]), bytes.fromhex("01 02 02 07 04"))
        self.assertEqual(blob_codec.decode_step_delta(13, 5, bytes.fromhex("01 02 02 07 04"), [0, 2, 5, 9]),
                         [0, 5, 7, 9, 12])
        self.assertEqual(blob_codec.encode_index_varint(200, [0, 1, 2, 130, 131]),
                         ("index_varint", 5, bytes.fromhex("00 00 00 7f 00"), 5))
        for count, bad in ((4, ""), (3, "01 00 03"), (5, "00 01 05"), (5, "00 01 0d"), (5, "00 01 07 00"),
                           (0, "05 00 00 00 00 00 00"), (5, "01 01 02 07")):
            with self.assertRaises(CaptureError, msg=bad):
                blob_codec.decode_step_delta(13, count, bytes.fromhex(bad), [0, 2, 5, 9])
        with self.assertRaises(CaptureError):
            blob_codec.decode("index_step_delta", 13, 5, bytes.fromhex("01 02 02 07 04"))

    def test_step_delta_encoder_picks_keys_as_the_core(self):
        # Key at t % K == 0 and wherever the delta is not smaller (core/store/trace_writer.cpp).
        e = blob_codec.StepDeltaEncoder(4)
        self.assertEqual(e.encode(0, 0, 1, 100, [0, 1, 2, 3])[0], "index_varint")
        self.assertEqual(e.encode(1, 0, 1, 100, [0, 1, 2, 3]), ("index_step_delta", 4, bytes.fromhex("00 00"), 4))
        self.assertEqual(e.encode(2, 0, 1, 100, [50, 51, 52, 53])[0], "index_varint")   # 10 delta bytes > 4
        self.assertEqual(e.encode(3, 0, 1, 100, [50, 51, 52, 54])[0], "index_varint")   # 4 == 4: the key
        self.assertEqual(e.encode(4, 0, 1, 100, [50, 51, 52, 54])[0], "index_varint")   # t % 4 == 0
        self.assertEqual(e.encode(5, 0, 1, 100, [50, 51, 52, 54, 90]), ("index_step_delta", 5, bytes.fromhex("00 01 5a"), 5))
        self.assertEqual(blob_codec.trace_encoding("index_step_delta", 4), "index_step_delta/4")
        with self.assertRaises(CaptureError):
            blob_codec.StepDeltaEncoder(0)

    def test_f16_rounding(self):
        for value, bits in ((0.1, 0x2E66), (1 / 3, 0x3555), (2049.0, 0x6800), (2.0 ** -24, 0x0001)):
            _, _, blob, _ = enc("f16", [value])
            self.assertEqual(int.from_bytes(blob, "little"), bits, value)
        with self.assertRaisesRegex(CaptureError, "exceeds the f16 range"):
            enc("sparse_f16", [65519.0])

    def test_mostly_zero_dense_records_are_stored_sparse(self):
        # f32: sparse when fewer than half are non-zero; f16: fewer than a third.
        self.assertEqual(enc("f32", [0, 0, 0, 0.5])[:2], ("sparse_f32", 1))
        self.assertEqual(enc("f32", [0, 0, 0.25, 0.5])[:2], ("f32", 4))
        self.assertEqual(enc("f16", [0, 0, 0, 0.5])[:2], ("sparse_f16", 1))
        self.assertEqual(enc("f16", [0, 0, 0.25, 0.5, 0, 0])[:2], ("f16", 6))
        self.assertEqual(enc("f16", [0, 0, 0.25, 0.5, 0, 0, 0])[:2], ("sparse_f16", 2))
        self.assertEqual(enc("f32", [0.0] * 5), ("sparse_f32", 0, b"", 0))

    def test_sparse_f16_drops_what_f16_rounds_to_zero(self):
        stored, count, blob, entries = enc("sparse_f16", [2.0 ** -26, 0.5, 2.0 ** -25])
        self.assertEqual((stored, count, entries), ("sparse_f16", 1, 1))
        self.assertEqual(blob, bytes.fromhex("01000000 0038"))

    def test_bad_values_are_refused(self):
        for bad in ([float("nan")], [float("inf")], [-0.5]):
            with self.assertRaises(CaptureError):
                enc("f32", bad)
        with self.assertRaises(CaptureError):
            blob_codec.encode_selection(3, [2, 1])
        with self.assertRaises(CaptureError):
            blob_codec.encode_selection(3, [3])

    def test_decode_round_trip(self):
        rng = np.random.default_rng(1)
        v = rng.random(50).astype(np.float32) * (rng.random(50) > 0.5)
        for e in blob_codec.SCORE_ENCODINGS:
            stored, count, blob, _ = blob_codec.encode_scores(e, 50, v)
            back = blob_codec.decode(stored, 50, count, blob)
            want = v if e.endswith("f32") else v.astype(np.float16).astype(np.float32)
            self.assertTrue(np.array_equal(back, want), e)


if __name__ == "__main__":
    unittest.main()
