"""End to end on the tiny Llama-like model: scores against an independent computation,
selections against torch.topk and the MODEL.md rules, both hooks, resume, output handling."""
import json
import math
import os
import sqlite3
import unittest

import numpy as np
import torch

import support
from support import TempDirTest, dense, info_of, prompts, read_db, settings, tiny_model
from kvtier_capture import CaptureError, capture, hooks, trace_db


def run(out, s, model=None, hook="hf", which=None, **kw):
    model = model or tiny_model()
    source = (hooks.QKSource(model, r"layers\.\d+\.self_attn\.core") if hook == "qk"
              else hooks.HFAttentionSource(model))
    return capture.run(source, prompts(which), out, s, info_of(model, hook), **kw)


class ScoresTest(TempDirTest):
    # In float64, so that the comparison measures the capture, not float32 rounding: the
    # float32 model and the float32 reference differ by up to ~2e-6 through three layers of
    # differently ordered sums (FloatModelTest). Records are float32 either way.
    @classmethod
    def setUpClass(cls):
        cls.model = tiny_model().double()
        cls.ref = [support.reference_decode(cls.model, p.ids, 9) for p in prompts()]

    def captured(self, which=None, **kw):
        out = self.path(f"t{len(os.listdir(self.dir))}.kvtr")
        kw.setdefault("encoding", "f32")
        run(out, settings(**kw), self.model, which=which)
        return read_db(out)

    def reduced_ref(self, i, t, l, how):
        p = self.ref[i][t][l][:, : len(prompts()[i].ids) + t].double()
        if how == "mean":
            return p.mean(0)
        if how == "max":
            return p.amax(0)
        c = self.model.config
        return p.reshape(c.num_key_value_heads, -1, p.shape[1]).mean(1).amax(0)

    def test_per_layer_scores_equal_the_direct_computation(self):
        for how in ("mean", "max", "kv-group"):
            traces = self.captured(head_reduction=how)
            self.assertEqual(sorted(traces), ["capture-1", "capture-2"])
            worst = 0.0
            for i, name in enumerate(["capture-1", "capture-2"]):
                meta, recs = traces[name]
                P = len(prompts()[i].ids)
                self.assertEqual((meta["prefill"], meta["steps"], meta["layers"]), (P, 9, 3))
                self.assertEqual((meta["layer_mode"], meta["kind"], meta["head_reduction"]), ("per-layer", "scores", how))
                self.assertEqual(len(recs), 9 * 3)
                for t in range(9):
                    for l in range(3):
                        got = dense(recs, (t, l), P + t).double()
                        worst = max(worst, float((got - self.reduced_ref(i, t, l, how)).abs().max()))
            self.assertLess(worst, 1e-6, how)

    def test_aggregated_scores_are_the_mean_over_layers(self):
        meta, recs = self.captured(layer_mode="aggregated", which=None)["capture-1"]
        self.assertEqual((meta["layer_mode"], meta["layers"], len(recs)), ("aggregated", 3, 9))
        P = len(prompts()[0].ids)
        for t in range(9):
            want = torch.stack([self.reduced_ref(0, t, l, "mean") for l in range(3)]).mean(0)
            self.assertLess(float((dense(recs, (t, -1), P + t).double() - want).abs().max()), 1e-6)

    def test_entries_count_the_stored_non_zero_scores(self):
        for enc in ("f32", "f16", "sparse_f32", "sparse_f16"):
            meta, recs = self._enc(enc)
            got = sum(int(np.count_nonzero(dense(recs, k, meta["prefill"] + k[0]).numpy())) for k in recs)
            self.assertEqual(meta["entries"], got, enc)

    def _enc(self, enc):
        out = self.path(f"{enc}.kvtr")
        run(out, settings(encoding=enc), self.model)
        return read_db(out)["capture-1"]

    def test_sparse_f16_is_the_f16_rounding_of_the_scores(self):
        meta, recs = self._enc("sparse_f16")
        P = meta["prefill"]
        for t in range(9):
            want = self.reduced_ref(0, t, 1, "mean").float().half().float()
            got = dense(recs, (t, 1), P + t)
            # f16 keeps 11 bits: the stored value is the reference's rounding, or its
            # neighbour when the capture's f32 and the reference differ across a tie.
            self.assertTrue(torch.all((got - want).abs() <= want.abs() * 2 ** -10 + 1e-12))
            self.assertEqual(recs[(t, 1)][0], "sparse_f16")

    def test_qk_hook_records_what_the_model_returns(self):
        hf = self.path("hf.kvtr")
        qk = self.path("qk.kvtr")
        run(hf, settings(encoding="f32", head_reduction="kv-group"), self.model, "hf")
        run(qk, settings(encoding="f32", head_reduction="kv-group"), self.model, "qk")
        a, b = read_db(hf), read_db(qk)
        for name in a:
            P = a[name][0]["prefill"]
            for key in a[name][1]:
                diff = (dense(a[name][1], key, P + key[0]) - dense(b[name][1], key, P + key[0])).abs().max()
                self.assertLess(float(diff), 1e-6)
        self.assertEqual(json.loads(b["capture-1"][0]["notes"])["hook"], "qk")

    def test_topk_selections_equal_torch_topk(self):
        for k in (1, 5, 1000):
            out = self.path(f"top{k}.kvtr")
            run(out, settings(select="topk", select_value=k), self.model)
            for i, name in enumerate(["capture-1", "capture-2"]):
                meta, recs = read_db(out)[name]
                self.assertEqual((meta["kind"], meta["encoding"]), ("selection", "index_u32"))
                P = meta["prefill"]
                for (t, l), (enc, count, blob) in recs.items():
                    ref = self.reduced_ref(i, t, l, "mean")
                    want = torch.topk(ref, min(k, P + t)).indices.sort().values.tolist()
                    self.assertEqual(np.frombuffer(blob, "<u4").tolist(), want, (k, name, t, l))
                    self.assertEqual((enc, count), ("index_u32", len(want)))

    def test_ratio_and_mass_follow_model_md(self):
        out = self.path("ratio.kvtr")
        run(out, settings(select="ratio", select_value=0.3), self.model)
        for (t, l), (_, count, blob) in read_db(out)["capture-1"][1].items():
            n = 12 + t
            ref = self.reduced_ref(0, t, l, "mean")
            k = math.ceil(0.3 * n - 1e-9)
            self.assertEqual(np.frombuffer(blob, "<u4").tolist(), torch.topk(ref, k).indices.sort().values.tolist())
        out = self.path("mass.kvtr")
        run(out, settings(select="mass", select_value=0.5), self.model)
        for (t, l), (_, count, blob) in read_db(out)["capture-1"][1].items():
            ref = self.reduced_ref(0, t, l, "mean")
            order = torch.argsort(ref, descending=True)
            csum = torch.cumsum(ref[order], 0)
            k = int((csum < 0.5 * ref.sum() * (1 - 1e-12)).sum()) + 1
            self.assertEqual(np.frombuffer(blob, "<u4").tolist(), order[:k].sort().values.tolist())

    def test_kv_group_selection_is_the_union_of_each_group(self):
        out = self.path("group.kvtr")
        run(out, settings(select="topk", select_value=2, head_reduction="kv-group"), self.model)
        c = self.model.config
        for (t, l), (_, _, blob) in read_db(out)["capture-1"][1].items():
            p = self.ref[0][t][l][:, : 12 + t].double().reshape(c.num_key_value_heads, -1, 12 + t).mean(1)
            want = sorted(set().union(*(torch.topk(g, 2).indices.tolist() for g in p)))
            self.assertEqual(np.frombuffer(blob, "<u4").tolist(), want)

    def test_header_says_what_sizes_bytes(self):
        meta, _ = self.captured()["capture-2"]
        h = json.loads(meta["notes"])
        self.assertEqual(h["model"], {"name": "tiny-llama", "layers": 3, "kv_heads": 2, "head_dim": 8, "dtype_bytes": 8,
                                      "weight_bytes": sum(p.numel() * 8 for p in self.model.parameters())})
        self.assertEqual((h["q_heads"], h["dtype"], h["seed"], h["prompt_source"], h["prompt_tokens"]),
                         (4, "float64", 0, "test:2", 3))
        self.assertEqual(meta["model_name"], "tiny-llama")


class FloatModelTest(TempDirTest):
    def test_float32_model_is_within_float32_rounding_of_the_reference(self):
        model = tiny_model()
        ref = support.reference_decode(model, prompts()[0].ids, 9)
        out = self.path("f32.kvtr")
        run(out, settings(encoding="f32", head_reduction="max"), model, which=[0])
        _, recs = read_db(out)["capture"]
        worst = max(float((dense(recs, (t, l), 12 + t) - ref[t][l][:, :12 + t].amax(0)).abs().max())
                    for t in range(9) for l in range(3))
        self.assertLess(worst, 1e-5)


class Interrupted(Exception):
    pass


class FailingSource:
    """Raises in the middle of a commit range: the steps since the last commit are lost."""

    def __init__(self, inner, fail_at):
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def prefill(self, ids):
        return self.inner.prefill(ids)

    def step(self, token, past, record):
        self.calls += 1
        if self.calls == self.fail_at:
            raise Interrupted()
        return self.inner.step(token, past, record)


class ResumeTest(TempDirTest):
    def database(self, out, s, **kw):
        run(out, s, **kw)
        return support.without_volatile(read_db(out))

    def test_resume_after_an_interruption_gives_the_same_database(self):
        for mode in ("per-layer", "aggregated"):
            s = settings(encoding="sparse_f16", layer_mode=mode, steps=11, commit_every=3)
            whole = self.database(self.path(f"whole-{mode}.kvtr"), s)
            out = self.path(f"resumed-{mode}.kvtr")

            def stop(prompt, step):   # after the first commit of the second prompt
                if prompt == 1:
                    raise Interrupted()
            with self.assertRaises(Interrupted):
                run(out, s, on_commit=stop)
            self.assertFalse(os.path.exists(out), "an interrupted capture must not leave OUT")
            work = read_db(out + trace_db.WORK_SUFFIX)
            self.assertEqual(len(work["capture-2"][1]), 3 * (3 if mode == "per-layer" else 1))
            # Interrupted again mid-range (step 8 of the second prompt, after the commit
            # of steps 3..5): steps 6 and 7 are lost, the resume restarts at step 6.
            model = tiny_model()
            source = FailingSource(hooks.HFAttentionSource(model), fail_at=9)
            with self.assertRaises(Interrupted):
                capture.run(source, prompts(), out, s, info_of(model))
            self.assertEqual(len(read_db(out + trace_db.WORK_SUFFIX)["capture-2"][1]),
                             6 * (3 if mode == "per-layer" else 1))
            resumed = self.database(out, s)
            self.assertEqual(resumed, whole)
            self.assertFalse(os.path.exists(out + trace_db.WORK_SUFFIX))

    def test_resumed_step_delta_trace_continues_its_chains(self):
        # Interrupted after the commit of steps 3..5 of the second prompt and resumed at step
        # 6: the delta encoder continues from the work file's sets (decoded from the key at
        # step 4 and the delta at 5), so the database is the uninterrupted one byte for byte.
        s = settings(select="ratio", select_value=0.8, selection_encoding="index_step_delta", key_interval=4,
                     steps=11, commit_every=3)
        whole = self.database(self.path("whole.kvtr"), s)
        encodings = {t: e for (t, l), (e, _, _) in whole["capture-2"][1].items() if l == 0}
        self.assertEqual([encodings[t] for t in (4, 5, 6)], ["index_varint", "index_step_delta", "index_step_delta"])
        out = self.path("resumed.kvtr")

        def stop(prompt, step):
            if prompt == 1 and step == 6:
                raise Interrupted()
        with self.assertRaises(Interrupted):
            run(out, s, on_commit=stop)
        self.assertEqual(self.database(out, s), whole)

    def test_other_settings_do_not_resume(self):
        out = self.path("x.kvtr")

        def stop(prompt, step):
            raise Interrupted()
        with self.assertRaises(Interrupted):
            run(out, settings(), on_commit=stop)
        with self.assertRaisesRegex(CaptureError, "an interrupted capture with other settings"):
            run(out, settings(head_reduction="max"))
        run(out, settings(head_reduction="max"), restart=True)
        self.assertEqual(read_db(out)["capture-1"][0]["head_reduction"], "max")

    def test_commit_every_does_not_change_the_result(self):
        a = self.database(self.path("a.kvtr"), settings(commit_every=1))
        b = self.database(self.path("b.kvtr"), settings(commit_every=100))
        self.assertEqual(a, b)


class OutputTest(TempDirTest):
    def test_new_database_is_a_kvtier_database(self):
        out = self.path("new.kvtr")
        run(out, settings(), which=[1])
        db = sqlite3.connect(out)
        self.assertEqual(db.execute("PRAGMA application_id").fetchone()[0], 0x4B565452)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 2)
        self.assertEqual(dict(db.execute("SELECT key, value FROM kvtier_meta")),
                         {"schema_version": "2", "application": "kvtier"})
        self.assertEqual(db.execute("SELECT sequence, prefill FROM trace_sequences").fetchall(),
                         [(0, db.execute("SELECT prefill FROM traces").fetchone()[0])])
        db.close()
        self.assertEqual(sorted(os.listdir(self.dir)), ["new.kvtr"])   # no -wal, -shm or work file
        self.assertEqual(list(read_db(out)), ["capture"])              # one prompt: the name itself

    def test_adds_to_an_existing_database_and_refuses_clashes(self):
        out = self.path("db.kvtr")
        run(out, settings(name="a"), which=[0])
        before = read_db(out)
        run(out, settings(name="b"), which=[1])
        after = read_db(out)
        self.assertEqual(sorted(after), ["a", "b"])
        self.assertEqual(after["a"][1], before["a"][1])
        with self.assertRaisesRegex(CaptureError, "trace 'a' already exists"):
            run(out, settings(name="a", steps=3), which=[1])
        self.assertEqual(read_db(out)["a"][0]["steps"], 9)
        run(out, settings(name="a", steps=3), which=[1], replace=True)
        self.assertEqual(read_db(out)["a"][0]["steps"], 3)
        self.assertEqual(sorted(read_db(out)), ["a", "b"])

    def test_refuses_a_file_that_is_not_a_kvtier_database(self):
        out = self.path("other.sqlite")
        db = sqlite3.connect(out)
        db.execute("CREATE TABLE t (x)")
        db.commit()
        db.close()
        for replace in (False, True):   # refused before any work, --replace or not
            with self.assertRaisesRegex(CaptureError, "not a kvtier trace database"):
                run(out, settings(), replace=replace)
            self.assertFalse(os.path.exists(out + trace_db.WORK_SUFFIX))


if __name__ == "__main__":
    unittest.main()
