"""A batch of prompts as the S sequences of one trace (MODEL.md section 8) and MoE routed
experts (section 9): each sequence's records are its prompt's capture alone, byte for byte;
expert sets are the top-k of the router logits computed independently, united over the
batch; an interrupted batch resumes to the same database."""
import dataclasses
import json
import os
import sqlite3
import unittest

import torch

import support
from support import TempDirTest, dense, info_of, read_full, settings, tiny_model
from kvtier_capture import CaptureError, capture, hooks, router, trace_db
from kvtier_capture.capture import Prompt

# Three prompts of different lengths: P_s = 12, 3, 5.
BATCH = [support.PROMPTS[0], support.PROMPTS[1], [5, 60, 7, 81, 9]]
QK = r"layers\.\d+\.self_attn\.core"


def batch_prompts(which=(0, 1, 2)):
    return [Prompt(ids=list(BATCH[i]), where=f"test:{i + 1}") for i in which]


def capture_into(out, s, model, which=(0, 1, 2), hook="hf", experts=False, wrap=None, **kw):
    """capture.run on the tiny model, with the router hook of tiny_llama's MoE when `experts`."""
    source = hooks.QKSource(model, QK) if hook == "qk" else hooks.HFAttentionSource(model)
    info = info_of(model, hook)
    routers = None
    if experts:
        routers = router.RouterHook(model, router.DEFAULT_PATTERN, None, info.layers)
        info = dataclasses.replace(info, experts=routers.experts, experts_per_token=routers.top_k,
                                   expert_bytes=routers.expert_bytes, router=routers.pattern)
    try:
        return capture.run(wrap(source) if wrap else source, batch_prompts(which), out, s, info, router=routers, **kw)
    finally:
        if routers:
            routers.close()
        if hook == "qk":
            source.close()


def sequence_records(trace, q):
    """Sequence q's records of a batch trace, keyed (step, layer) as in a trace of its own."""
    return {(t, l): v for (t, s, l), v in trace["records"].items() if s == q}


def single_records(trace):
    assert all(s == 0 for (_, s, _) in trace["records"])
    return {(t, l): v for (t, _, l), v in trace["records"].items()}


class BatchTest(TempDirTest):
    CONFIGS = [   # (hook, settings)
        ("hf", dict(encoding="sparse_f16")),
        ("hf", dict(encoding="f32", layer_mode="aggregated", head_reduction="kv-group")),
        ("hf", dict(select="topk", select_value=3, head_reduction="kv-group")),
        ("qk", dict(encoding="f32", head_reduction="max")),
    ]

    def test_each_sequence_is_its_prompt_captured_alone(self):
        model = tiny_model()
        for n, (hook, kw) in enumerate(self.CONFIGS):
            out = self.path(f"batch{n}.kvtr")
            self.assertEqual(capture_into(out, settings(as_batch=True, **kw), model, hook=hook), ["capture"])
            traces = read_full(out)
            self.assertEqual(list(traces), ["capture"])   # one trace, named --name itself
            batch = traces["capture"]
            meta = batch["meta"]
            slots = 1 if kw.get("layer_mode") == "aggregated" else 3
            self.assertEqual((meta["prefill"], meta["steps"], meta["layers"]), (12, 9, 3))
            self.assertEqual(batch["sequences"], [(0, 12), (1, 3), (2, 5)])
            self.assertEqual(len(batch["records"]), 9 * 3 * slots)
            self.assertEqual((batch["experts"], batch["expert_sets"]), (None, {}))   # a dense model
            header = json.loads(meta["notes"])
            self.assertEqual((header["sequences"], header["prompt_tokens"], header["prompt_source"]),
                             (3, [12, 3, 5], ["test:1", "test:2", "test:3"]))
            self.assertEqual(meta["source"], "kvtier-capture test test:1,2,3")
            entries = 0
            for q in range(3):
                alone = self.path(f"alone{n}-{q}.kvtr")
                capture_into(alone, settings(**kw), model, which=[q], hook=hook)
                single = read_full(alone)["capture"]
                self.assertEqual(single["sequences"], [(0, len(BATCH[q]))])
                self.assertEqual(sequence_records(batch, q), single_records(single), (hook, kw, q))
                entries += single["meta"]["entries"]
            self.assertEqual(meta["entries"], entries)

    def test_each_sequence_reads_its_own_context(self):
        out = self.path("f32.kvtr")
        capture_into(out, settings(as_batch=True, encoding="f32"), tiny_model())
        recs = read_full(out)["capture"]["records"]
        # A dense record holds n_t^s = P_s + t values: 12 + 4, 3 + 4, 5 + 4 at step 4.
        self.assertEqual([recs[(4, q, 1)][:2] for q in range(3)], [("f32", 16), ("f32", 7), ("f32", 9)])
        self.assertEqual(len(recs[(8, 1, 2)][2]), 4 * (3 + 8))

    def test_one_prompt_as_a_batch_is_the_plain_capture(self):
        a, b = self.path("a.kvtr"), self.path("b.kvtr")
        model = tiny_model()
        capture_into(a, settings(as_batch=True), model, which=[2])
        capture_into(b, settings(), model, which=[2])
        x, y = read_full(a)["capture"], read_full(b)["capture"]
        self.assertEqual((x["records"], x["sequences"]), (y["records"], y["sequences"]))


class ExpertsTest(TempDirTest):
    # float64, so that the model's cached forward and the independent reference agree far
    # below the gaps between router logits: the top-k compared are the same experts.
    @classmethod
    def setUpClass(cls):
        cls.model = tiny_model(num_experts=8).double()
        cls.logits = []   # [prompt][t][l] = router logits [E] of the token fed at step t
        cls.probs = []
        for ids in BATCH:
            logits = []
            cls.probs.append(support.reference_decode(cls.model, ids, 9, logits))
            cls.logits.append(logits)

    def top2(self, q, t, l):
        return set(torch.topk(self.logits[q][t][l], 2).indices.tolist())

    def test_expert_sets_are_the_top_k_of_the_router_logits(self):
        for q in range(3):
            out = self.path(f"moe{q}.kvtr")
            capture_into(out, settings(encoding="f32"), self.model, which=[q], experts=True)
            trace = read_full(out)["capture"]
            self.assertEqual(trace["experts"], 8)
            self.assertEqual(sorted(trace["expert_sets"]), [(t, l) for t in range(9) for l in range(3)])
            for (t, l), ids in trace["expert_sets"].items():
                self.assertEqual(ids, sorted(self.top2(q, t, l)), (q, t, l))
            # The MoE model's attention, too, is the independent computation's.
            P = len(BATCH[q])
            worst = max(float((dense(single_records(trace), (t, l), P + t).double()
                               - self.probs[q][t][l][:, :P + t].mean(0)).abs().max()) for t in range(9) for l in range(3))
            self.assertLess(worst, 1e-6)

    def test_batch_expert_sets_are_the_union_over_the_sequences(self):
        out = self.path("batch.kvtr")
        capture_into(out, settings(as_batch=True, encoding="f32"), self.model, experts=True)
        trace = read_full(out)["capture"]
        self.assertEqual((trace["experts"], len(trace["expert_sets"])), (8, 9 * 3))
        for (t, l), ids in trace["expert_sets"].items():
            self.assertEqual(ids, sorted(self.top2(0, t, l) | self.top2(1, t, l) | self.top2(2, t, l)), (t, l))
        sizes = {len(ids) for ids in trace["expert_sets"].values()}
        self.assertGreater(max(sizes), 2)   # the union holds more than one token's experts
        for q in range(3):   # the records stay each prompt's own
            alone = self.path(f"alone{q}.kvtr")
            capture_into(alone, settings(encoding="f32"), self.model, which=[q], experts=True)
            self.assertEqual(sequence_records(trace, q), single_records(read_full(alone)["capture"]))

    def test_header_records_the_experts(self):
        out = self.path("h.kvtr")
        capture_into(out, settings(steps=2), self.model, which=[1], experts=True)
        h = json.loads(read_full(out)["capture"]["meta"]["notes"])
        expert_bytes = 3 * 32 * 32 * 8   # gate, up, down: 32 x 32 each (moe_intermediate_size 32), float64
        self.assertEqual((h["experts"], h["experts_per_token"], h["router_modules"]), (8, 2, router.DEFAULT_PATTERN))
        self.assertEqual((h["model"]["experts"], h["model"]["expert_bytes"], h["model"]["experts_per_token"]),
                         (8, expert_bytes, 2))
        self.assertGreaterEqual(h["model"]["weight_bytes"], 3 * 8 * expert_bytes)

    def test_router_hook_refuses_bad_input(self):
        model = self.model
        with self.assertRaisesRegex(CaptureError, r"^--router-modules 'gate': matches no module of the model"):
            router.RouterHook(model, "gate", 2, 3)   # full names only: 'layers.0.mlp.gate' does not match
        with self.assertRaisesRegex(CaptureError, "matches 1 modules .*but the model has 3 layers"):
            router.RouterHook(model, r"layers\.0\.mlp\.gate", 2, 3)
        with self.assertRaisesRegex(CaptureError, r"^--router-top-k: 9 must be in 1 \.\. E = 8$"):
            router.RouterHook(model, router.DEFAULT_PATTERN, 9, 3)
        with self.assertRaisesRegex(CaptureError, "not a regular expression"):
            router.RouterHook(model, "(", 2, 3)
        with self.assertRaisesRegex(CaptureError, "cannot tell the number of experts E"):
            router.RouterHook(tiny_model(), r"layers\.\d+\.self_attn", 2, 3)
        # Hooks on modules whose output is not [1, E] router logits fail at the first decode step.
        for pattern, problem in ((r"layers\.\d+\.self_attn\.o_proj", r"output of shape \(1, 1, 32\) at a decode step, "
                                  r"expected the router logits \[1 token, E = 32\]"),
                                 (r"layers\.\d+\.self_attn", r"returned a tuple, expected the router logits")):
            hook = router.RouterHook(model, pattern, 2, 3)
            try:
                source = hooks.HFAttentionSource(model)
                info = dataclasses.replace(info_of(model), experts=hook.experts, experts_per_token=2, router=pattern)
                with self.assertRaisesRegex(CaptureError, r"^router 'layers\.0\.self_attn(\.o_proj)?': " + problem):
                    capture.run(source, batch_prompts([1]), self.path("bad.kvtr"), settings(), info, router=hook,
                                restart=True)
            finally:
                hook.close()

    def test_top_k_ties_go_to_the_lower_id(self):
        self.assertEqual(router.top_k_ids(torch.tensor([0.5, 2.0, 0.5, 2.0, 1.0]), 3), [1, 3, 4])
        self.assertEqual(router.top_k_ids(torch.tensor([1.0, 0.0, 1.0, 1.0]), 2), [0, 2])


class Interrupted(Exception):
    pass


class FailingSource:
    """Raises at the fail_at-th decode forward (counting every sequence's)."""

    def __init__(self, inner, fail_at):
        self.inner, self.fail_at, self.calls = inner, fail_at, 0
        self.device = inner.device

    def prefill(self, ids):
        return self.inner.prefill(ids)

    def step(self, token, past, record):
        self.calls += 1
        if self.calls == self.fail_at:
            raise Interrupted()
        return self.inner.step(token, past, record)


class ResumeBatchTest(TempDirTest):
    def test_resume_mid_batch_gives_the_same_database(self):
        for mode in ("per-layer", "aggregated"):
            s = settings(as_batch=True, layer_mode=mode, steps=11, commit_every=3)
            slots = 3 if mode == "per-layer" else 1
            model = tiny_model(num_experts=8)
            whole = self.path(f"whole-{mode}.kvtr")
            capture_into(whole, s, model, experts=True)
            out = self.path(f"resumed-{mode}.kvtr")
            work = out + trace_db.WORK_SUFFIX

            def stop(trace, step):   # after the first commit: steps 0 .. 2 of all sequences
                raise Interrupted()
            with self.assertRaises(Interrupted):
                capture_into(out, s, tiny_model(num_experts=8), experts=True, on_commit=stop)
            self.assertFalse(os.path.exists(out), "an interrupted capture must not leave OUT")
            held = read_full(work)["capture"]
            self.assertEqual((len(held["records"]), len(held["expert_sets"])), (3 * 3 * slots, 3 * 3))
            # Interrupted again inside a step: forwards 1-9 replay steps 0-2, 10-18 are steps
            # 3-5 (committed), 19-24 steps 6-7; the 26th is sequence 1 of step 8, so sequence 0
            # of step 8 and steps 6, 7 are lost and the resume restarts at step 6.
            with self.assertRaises(Interrupted):
                capture_into(out, s, tiny_model(num_experts=8), experts=True,
                             wrap=lambda src: FailingSource(src, fail_at=26))
            held = read_full(work)["capture"]
            self.assertEqual((len(held["records"]), len(held["expert_sets"])), (6 * 3 * slots, 6 * 3))
            self.assertEqual(max(t for t, _, _ in held["records"]), 5)
            capture_into(out, s, tiny_model(num_experts=8), experts=True)
            self.assertEqual(read_full(out), read_full(whole))
            self.assertFalse(os.path.exists(work))

    def test_a_batch_does_not_resume_a_capture_of_single_prompts(self):
        out = self.path("x.kvtr")

        def stop(trace, step):
            raise Interrupted()
        with self.assertRaises(Interrupted):
            capture_into(out, settings(), tiny_model(), on_commit=stop)
        with self.assertRaisesRegex(CaptureError, "an interrupted capture with other settings"):
            capture_into(out, settings(as_batch=True), tiny_model())

    def test_progress_counts_sequence_steps(self):
        class Recording:
            def __init__(self):
                self.updates = []

            def update(self, done, what):
                self.updates.append((done, what))
        p = Recording()
        capture_into(self.path("p.kvtr"), settings(as_batch=True, steps=5, commit_every=2), tiny_model(), progress=p)
        self.assertEqual(p.updates, [(0, "prefill"), (6, "step 2/5 of 3 sequences"), (12, "step 4/5 of 3 sequences"),
                                     (15, "step 5/5 of 3 sequences"), (15, "writing " + self.path("p.kvtr"))])


class OutputBatchTest(TempDirTest):
    def test_copied_into_an_existing_database_with_sequences_and_experts(self):
        model = tiny_model(num_experts=8)
        fresh = self.path("fresh.kvtr")
        capture_into(fresh, settings(as_batch=True, name="b"), model, experts=True)
        out = self.path("db.kvtr")
        capture_into(out, settings(name="a"), model, which=[0])   # creates OUT: the next capture is copied in
        capture_into(out, settings(as_batch=True, name="b"), model, experts=True)
        got = read_full(out)
        self.assertEqual(sorted(got), ["a", "b"])
        self.assertEqual(got["b"], read_full(fresh)["b"])
        self.assertEqual(got["a"]["experts"], None)
        capture_into(out, settings(as_batch=True, name="b", steps=2), model, which=[1, 2], experts=True, replace=True)
        got = read_full(out)["b"]
        self.assertEqual((got["sequences"], len(got["expert_sets"]), got["meta"]["steps"]), ([(0, 3), (1, 5)], 6, 2))
        with sqlite3.connect(out) as db:   # the replaced trace's rows are gone, not orphaned
            self.assertEqual([db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                              for t in ("trace_sequences", "trace_experts", "expert_sets")], [1 + 2, 1, 6])
        db.close()


if __name__ == "__main__":
    unittest.main()
