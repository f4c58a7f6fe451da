#!/usr/bin/env python3
"""Writes the seed corpus for future libFuzzer harnesses of the importers:
tests/fuzz/corpus/{paper_csv,seed_csv,long_csv,npy,npz}/, a handful of tiny valid and invalid files
each (names start with ok_ or bad_; with P = 2 where the file does not say it, every ok_ file
imports and every bad_ file is refused: tests/core/tst_import_hostile.cpp checks that). Standard library only; deterministic output.

    python3 tests/fuzz/make_corpus.py            # (re)writes the corpus beside this script

The bad_ files are the hostile cases of docs/HOSTILE_INPUTS_importers.md in miniature.
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(kind, name, data):
    d = os.path.join(CORPUS, kind)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) < 4096, name
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(descr, shape, data=b"", version=1):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    pre = 10 if version == 1 else 12
    while (pre + len(d) + 1) % 64:
        d += " "
    d += "\n"
    size = struct.pack("<H" if version == 1 else "<I", len(d))
    return b"\x93NUMPY" + bytes([version, 0]) + size + d.encode() + data


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def zip_archive(members, claimed=None):
    """members: list of (name, data, deflate). claimed: {name: uncompressed size to declare}."""
    claimed = claimed or {}
    out, central = b"", b""
    for name, data, deflate in members:
        nm = name.encode()
        if deflate:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = c.compress(data) + c.flush()
        else:
            payload = data
        size = claimed.get(name, len(data))
        z64 = size >= 0xFFFFFFFF
        crc = zlib.crc32(data) & 0xFFFFFFFF
        method = 8 if deflate else 0
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0, crc, len(payload),
                           0xFFFFFFFF if z64 else size, len(nm), 0) + nm + payload
        extra = struct.pack("<HHQ", 1, 8, size) if z64 else b""
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0, crc,
                               len(payload), 0xFFFFFFFF if z64 else size, len(nm), len(extra),
                               0, 0, 0, 0, offset) + nm + extra
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                       len(out), 0)
    return out + central + eocd


def main():
    # ---- paper CSV
    put("paper_csv", "ok_two_layers.csv",
        'n,l,read_kv\n4,0,"[0, 1]"\n4,1,"[3, 4]"\n5,1,"[0]"\n5,0,"[2, 4, 1]"\n6,0,"[5]"\n6,1,"[]"\n')
    put("paper_csv", "ok_unquoted_crlf_bom.csv", '\ufeffn,l,read_kv\r\n3,0,[1]\r\n4,0,"[0, 4, 0]"\r\n')
    put("paper_csv", "bad_four_fields.csv", 'n,l,read_kv\n5,0,"[1]",x\n')
    put("paper_csv", "bad_utf16_bom.csv", "n,l,read_kv\n5,0,\"[1]\"\n".encode("utf-16"))
    put("paper_csv", "bad_cr_only.csv", 'n,l,read_kv\r5,0,"[1]"\r')
    put("paper_csv", "bad_huge_index.csv", 'n,l,read_kv\n5,0,"[1, ' + "9" * 300 + ']"\n')
    put("paper_csv", "bad_missing_step.csv", 'n,l,read_kv\n5,0,"[1]"\n7,0,"[1]"\n')
    # ---- seed batch CSV
    seed = "query_id,token_id,layer_id,experts,attention\n"
    put("seed_csv", "ok_two_queries.csv", seed + '0,3,0,"[1, 2]","[2, 0, 1]"\n0,3,1,[],"[0, 1, 2, 3]"\n'
        '1,2,0,[0],"[1, 0]"\n1,2,1,[],[0]\n')
    put("seed_csv", "bad_split_query.csv", seed + '0,2,0,[],[0]\n1,2,0,[],[0]\n0,3,0,[],[0]\n')
    put("seed_csv", "bad_future_index.csv", seed + '0,1,0,[],"[2, 0]"\n')
    put("seed_csv", "bad_gap.csv", seed + '0,2,0,[],[0]\n0,4,0,[],[0]\n')

    # ---- long CSV
    head = "step,layer,token,score\n"
    put("long_csv", "ok_aggregated.csv", head + "0,-1,1,0.25\n0,-1,0,0.75\n2,-1,3,1e-3\n")
    put("long_csv", "ok_comment_rows.csv",
        "# kvtier trace t prefill=2 steps=3 layers=2 mode=per-layer kind=scores encoding=sparse_f32 rows=3\n"
        + head + "0,0,1,0.5\n1,1,2,1\n2,0,0,0.125\n")
    put("long_csv", "ok_json_comment.csv",
        '# kvtier trace {"name":"t","prefill":2,"steps":3,"layers":2,"mode":"per-layer","kind":"scores",'
        '"encoding":"sparse_f32","rows":3,"head_reduction":"mean","model":"","description":"a\\nb",'
        '"source":"","notes":""}\n' + head + "0,0,1,0.5\n1,1,2,1\n2,0,0,0.125\n")
    put("long_csv", "bad_json_comment_steps_4e9.csv",
        '# kvtier trace {"prefill":2,"steps":4000000000,"layers":1,"mode":"aggregated"}\n' + head + "0,-1,0,1\n")
    put("long_csv", "bad_declares_4e9_steps.csv",
        "# kvtier trace x prefill=2 steps=4000000000 layers=1 mode=aggregated\n" + head + "0,-1,0,1\n")
    put("long_csv", "bad_step_1e12.csv", head + "1000000000000,-1,0,1\n")
    put("long_csv", "bad_cut_short.csv",
        "# kvtier trace t prefill=2 steps=4 layers=1 mode=aggregated kind=scores rows=4\n" + head
        + "0,-1,0,0.5\n1,-1,0,0.5\n")
    put("long_csv", "bad_empty_gap.csv", head + "0,-1,0,1\n100000,-1,0,1\n")
    put("long_csv", "bad_300_digit_step.csv", head + "1" * 300 + ",-1,0,1\n")

    # ---- .npy
    rows = f32([0.5, 0, 0, 9, 9, 0, 0.25, 0.125, 0, 0, 1, 0, 0, 2, 7])   # P = 2, T = 3, n_max = 5
    put("npy", "ok_f32_aggregated.npy", npy("<f4", "(3, 5)", rows))
    put("npy", "ok_f32_per_layer_v2.npy", npy("<f4", "(1, 3, 5)", rows, version=2))
    put("npy", "ok_zero_rows_2p27_wide.npy", npy("<f8", "(0, 134217728)"))   # valid; must not allocate 1 GiB
    put("npy", "bad_layers_2p31.npy", npy("<f4", "(1, 2147483647, 0)"))
    put("npy", "bad_header_2gb.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 0x7FFFFFFF) + b"{'descr': '<f4'")
    put("npy", "bad_truncated.npy", npy("<f4", "(3, 5)", rows[:50]))
    put("npy", "bad_big_endian.npy", npy(">f4", "(3, 5)", rows))

    # ---- .npz
    prefill = npy("<i8", "()", struct.pack("<q", 2))
    scores = npy("<f4", "(3, 5)", rows)
    put("npz", "ok_stored_with_prefill.npz", zip_archive([("scores.npy", scores, False), ("prefill.npy", prefill, False)]))
    put("npz", "ok_deflated.npz", zip_archive([("scores.npy", scores, True)]))
    put("npz", "bad_claims_2p40_bytes.npz",
        zip_archive([("scores.npy", npy("<f8", "(1, 134217728)", bytes(4096)), True)], {"scores.npy": 1 << 40}))
    put("npz", "bad_stored_size_lie.npz", zip_archive([("scores.npy", scores, False)], {"scores.npy": 1000000}))
    put("npz", "bad_no_end_record.npz", zip_archive([("scores.npy", scores, True)])[:-22])
    put("npz", "bad_two_float_arrays.npz", zip_archive([("a.npy", scores, False), ("b.npy", scores, False)]))

    # ---- one record BLOB (fuzz_record_blob.cpp): a 13-byte head (encoding, n_t - 1 as u32,
    # count as i64), then the BLOB; the examples of docs/TRACE_FORMAT.md section 2
    def blob(encoding, n_t, count, data):
        names = ["f32", "f16", "sparse_f32", "sparse_f16", "index_u32", "ranked_u32", "index_varint", "ranked_varint"]
        return struct.pack("<BIq", names.index(encoding), n_t - 1, count) + data
    put("record_blob", "ok_f32.bin", blob("f32", 3, 3, f32([1.0, 0.0, 0.5])))
    put("record_blob", "ok_sparse_f16.bin", blob("sparse_f16", 3, 2, bytes.fromhex("00000000 02000000 003c 0038")))
    put("record_blob", "ok_index_u32.bin", blob("index_u32", 200, 5, struct.pack("<5I", 0, 1, 2, 130, 131)))
    put("record_blob", "ok_ranked_u32.bin", blob("ranked_u32", 301, 3, struct.pack("<3I", 5, 2, 300)))
    put("record_blob", "ok_index_varint.bin", blob("index_varint", 200, 5, bytes.fromhex("00 00 00 7f 00")))
    put("record_blob", "ok_index_varint_top.bin", blob("index_varint", 1 << 32, 2, bytes.fromhex("00 fe ff ff ff 0f")))
    put("record_blob", "ok_ranked_varint.bin", blob("ranked_varint", 301, 3, bytes.fromhex("0a 05 d4 04")))
    put("record_blob", "ok_ranked_varint_wrap.bin", blob("ranked_varint", 1 << 32, 2, bytes.fromhex("00 01")))
    put("record_blob", "bad_varint_truncated.bin", blob("index_varint", 10, 2, bytes.fromhex("00 80")))
    put("record_blob", "bad_varint_6_bytes.bin", blob("index_varint", 1 << 32, 1, bytes.fromhex("80 80 80 80 80 00")))
    put("record_blob", "bad_varint_2p32.bin", blob("ranked_varint", 1 << 32, 1, bytes.fromhex("80 80 80 80 10")))
    put("record_blob", "bad_varint_trailing.bin", blob("index_varint", 10, 1, bytes.fromhex("00 00")))
    put("record_blob", "bad_varint_past_top.bin", blob("index_varint", 1 << 32, 2, bytes.fromhex("ff ff ff ff 0f 00")))
    put("record_blob", "bad_ranked_varint_twice.bin", blob("ranked_varint", 10, 2, bytes.fromhex("0a 00")))
    put("record_blob", "bad_varint_count_2p62.bin", blob("index_varint", 1 << 32, 1 << 62, bytes.fromhex("00 00")))
    put("record_blob", "bad_u32_count_wraps.bin", blob("index_u32", 1 << 32, 1 << 62, b""))
    # index_step_delta (encoding 8): a u16 length, the previous record as index_varint, then
    # the delta (docs/TRACE_FORMAT.md "Step-delta selections"); the previous set is {0, 2, 5, 9}
    def delta(n_t, count, data):
        prev = bytes.fromhex("00 01 02 03")
        return struct.pack("<BIqH", 8, n_t - 1, count, len(prev)) + prev + data
    put("record_blob", "ok_step_delta.bin", delta(13, 5, bytes.fromhex("01 02 02 07 04")))
    put("record_blob", "ok_step_delta_same.bin", delta(13, 4, bytes.fromhex("00 00")))
    put("record_blob", "bad_step_delta_removed_absent.bin", delta(13, 3, bytes.fromhex("01 00 03")))
    put("record_blob", "bad_step_delta_added_present.bin", delta(13, 5, bytes.fromhex("00 01 05")))
    put("record_blob", "bad_step_delta_counts_past_blob.bin", delta(13, 4, bytes.fromhex("00 ff ff ff ff 0f")))


if __name__ == "__main__":
    main()
