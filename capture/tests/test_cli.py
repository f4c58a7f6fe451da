"""The command line: a capture that kvtier-cli reads (info, analyze, a byte-exact re-import),
the progress bar, one-line errors, and a capture killed with SIGKILL and resumed.

kvtier-cli comes from the KVTIER_CLI environment variable (CTest sets it from CMake's
$<TARGET_FILE:kvtier-cli>); without it the tests that need it are skipped."""
import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

import support
from support import TempDirTest, read_db
from kvtier_capture import cli, trace_db

CLI = os.environ.get("KVTIER_CLI")
SAMPLE_SCENARIO = os.path.join(support.PACKAGE_ROOT, "..", "sample_traces", "default.kvtier.json")
ENV = dict(os.environ, PYTHONPATH=support.PACKAGE_ROOT + os.pathsep + support.HERE)


def capture_cmd(*args):
    return [sys.executable, "-m", "kvtier_capture", "--model", "kvtier_capture.tiny_llama:build", *args]


def kvtier(*args):
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"kvtier-cli {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


class CliTestBase(TempDirTest):
    def setUp(self):
        super().setUp()
        self.prompts = self.path("prompts.txt")
        with open(self.prompts, "w") as f:
            f.write("3 14 15 92 65 35 89 79 32 38 46 26\n\n27, 18, 28\n")

    def capture(self, *args, check=True):
        r = subprocess.run(capture_cmd("--prompts", self.prompts, *args), capture_output=True, text=True, env=ENV)
        if check and r.returncode != 0:
            raise AssertionError(f"capture failed ({r.returncode}): {r.stderr.strip()}")
        return r


@unittest.skipUnless(CLI, "KVTIER_CLI (the kvtier-cli binary) not set")
class KvtierReadsTheCaptureTest(CliTestBase):
    def test_info_and_analyze(self):
        db, scenario = self.path("cap.kvtr"), self.path("cap.kvtier.json")
        r = self.capture("--out", db, "--steps", "12", "--scenario-out", scenario, "--head-reduction", "kv-group")
        self.assertEqual(r.stdout.splitlines(), [
            f"{db}: trace 'capture-1' (P=12 T=12 L=3, per-layer, scores)",
            f"{db}: trace 'capture-2' (P=3 T=12 L=3, per-layer, scores)"])
        self.assertIn("100.0%", r.stderr)   # the progress bar, one line per tenth without a terminal
        self.assertTrue(all(line.startswith("kvtier-capture [") for line in r.stderr.splitlines()))
        info = kvtier("info", db, "capture-1")
        for line in ("sequences S      1", "prefill P        12", "steps T          12", "layers L         3",
                     "records          36 of 36", "encoding         sparse_f16", "head reduction   kv-group",
                     "model            tiny-llama", "experts          none"):
            self.assertIn(line, info)
        a = json.loads(kvtier("analyze", "--scenario", scenario, "--json"))
        self.assertEqual((a["trace"]["name"], a["layers"], a["steps"], a["batch"]), ("capture-1", 3, 12, 1))
        self.assertEqual(a["capacity"]["unit_bytes"], 2 * 2 * 8 * 4)   # kappa = 2 x kv_heads x head_dim x 4 B
        self.assertEqual(len(a["policies"]), 17)   # every policy of the registry
        b = json.loads(kvtier("analyze", "--scenario", SAMPLE_SCENARIO, "--set", f"trace.db={db}",
                              "--set", "trace.name=capture-2", "--set", "model.layers=3", "--json"))
        self.assertEqual((b["trace"]["name"], b["steps"]), ("capture-2", 12))

    def test_info_shows_a_batch_and_its_experts(self):
        # --as-batch on an MoE model: one trace of S = 2 sequences (P_s = 12, 3) with expert sets.
        db, scenario = self.path("moe.kvtr"), self.path("moe.kvtier.json")
        r = self.capture("--out", db, "--steps", "6", "--as-batch", "--name", "moe", "--quiet",
                         "--scenario-out", scenario, "--model", "kvtier_capture.tiny_llama:build_moe")
        self.assertEqual(r.stdout, f"{db}: trace 'moe' (S=2 P_s=12,3 T=6 L=3, per-layer, scores, experts E=8 top-2)\n")
        info = kvtier("info", db, "moe")
        for line in ("sequences S      2", "prefill P_s      12, 3", "steps T          6", "layers L         3",
                     "records          36 of 36", "experts          per-step expert sets, E = 8 per layer"):
            self.assertIn(line, info)
        j = json.loads(kvtier("info", db, "moe", "--json"))
        self.assertEqual((j["sequences"], j["sequence_prefill"], j["experts"], j["records"]), (2, [12, 3], 8, 36))
        # The core reads every record and expert set and writes them again: the same rows.
        copy = self.path("copy.kvtr")
        kvtier("import", copy, db, "--format", "kvtier")
        self.assertEqual(support.read_full(copy), support.read_full(db))
        self.assertEqual(len(support.read_full(db)["moe"]["expert_sets"]), 6 * 3)
        # The engine analyses the batch (MODEL.md §8): per-sequence books for every policy.
        a = json.loads(kvtier("analyze", "--scenario", scenario, "--json"))
        self.assertEqual((a["sequences"], a["experts"]["expert_sets"]), (2, True))
        for p in a["policies"]:
            seqs = p["per_sequence"]
            self.assertEqual([q["prefill"] for q in seqs], [12, 3])
            self.assertAlmostEqual(sum(q["time_share"] for q in seqs), 1.0, places=12)
            self.assertAlmostEqual(sum(q["kv_read_bytes"] for q in seqs), sum(t["kv_read_bytes"] for t in p["tiers"]),
                                   delta=1e-9 * sum(t["kv_read_bytes"] for t in p["tiers"]))

    def test_analyze_reads_the_expert_sets(self):
        db, scenario = self.path("moe1.kvtr"), self.path("moe1.kvtier.json")
        self.capture("--out", db, "--steps", "8", "--max-prompts", "1", "--quiet", "--scenario-out", scenario,
                     "--model", "kvtier_capture.tiny_llama:build_moe")
        a = json.loads(kvtier("analyze", "--scenario", scenario, "--json"))
        e = a["experts"]   # expert_bytes: gate, up and down projections of 32 x 32 float32
        self.assertEqual((e["expert_sets"], e["experts_per_layer"], e["expert_bytes"]), (True, 8, 3 * 32 * 32 * 4))

    def test_selection_and_aggregated_traces_analyse(self):
        db, scenario = self.path("sel.kvtr"), self.path("sel.kvtier.json")
        self.capture("--out", db, "--steps", "10", "--topk", "4", "--layer-mode", "aggregated",
                     "--max-prompts", "1", "--scenario-out", scenario, "--name", "top4", "--quiet")
        self.assertIn("kind             selection", kvtier("info", db, "top4"))
        a = json.loads(kvtier("analyze", "--scenario", scenario, "--json"))
        self.assertEqual((a["trace"]["name"], a["layers"], a["steps"]), ("top4", 3, 10))

    def test_the_core_re_encodes_every_record_to_the_same_bytes(self):
        # kvtier-cli import --format kvtier decodes each record (validating it) and encodes it
        # again with the core's codec in the trace's encoding: identical BLOBs, encodings
        # (dense records stored sparse included), counts and entries prove the formats agree.
        db = self.path("enc.kvtr")
        for enc in ("f32", "f16", "sparse_f32", "sparse_f16"):
            self.capture("--out", db, "--steps", "8", "--encoding", enc, "--name", enc, "--quiet", "--max-prompts", "1")
        self.capture("--out", db, "--steps", "8", "--ratio", "0.3", "--name", "sel", "--quiet", "--max-prompts", "1")
        self.capture("--out", db, "--steps", "8", "--mass", "0.9", "--name", "agg", "--quiet", "--max-prompts", "1",
                     "--layer-mode", "aggregated")
        copy = self.path("copy.kvtr")
        kvtier("import", copy, db, "--format", "kvtier")
        ours, core = support.without_volatile(read_db(db)), support.without_volatile(read_db(copy))
        self.assertEqual(sorted(ours), ["agg", "f16", "f32", "sel", "sparse_f16", "sparse_f32"])
        self.assertEqual(ours, core)

    def test_step_delta_capture_reads_as_its_index_u32_twin(self):
        # The same selections written as index_u32 and as index_step_delta (K = 3, T = 10: the
        # last chain is short), two prompts as a batch: the core decodes the deltas to the
        # same sets (export), re-encodes them to the same bytes (K carried by the copy), and
        # analyses the same numbers.
        db = self.path("delta.kvtr")
        common = ("--out", db, "--steps", "10", "--ratio", "0.8", "--as-batch", "--quiet")
        self.capture(*common, "--name", "u32")
        self.capture(*common, "--name", "delta", "--selection-encoding", "index_step_delta", "--key-interval", "3")
        self.assertIn("encoding         index_step_delta/3", kvtier("info", db, "delta"))
        records = support.read_full(db)["delta"]["records"]
        self.assertEqual({e for e, _, _ in records.values()}, {"index_varint", "index_step_delta"})
        self.assertEqual({e for (t, _, _), (e, _, _) in records.items() if t % 3 == 0}, {"index_varint"})
        csv = [self.path(n + ".csv") for n in ("u32", "delta")]
        for name, out in zip(("u32", "delta"), csv):
            kvtier("export", db, name, "--csv", out)
        bodies = []
        for out in csv:
            with open(out) as f:
                bodies.append([line for line in f if not line.startswith("#")])
        self.assertGreater(len(bodies[0]), 2 * 10 * 3)
        self.assertEqual(bodies[0], bodies[1])
        copy = self.path("copy.kvtr")
        kvtier("import", copy, db, "--format", "kvtier", "--trace", "delta")
        self.assertEqual(support.read_full(copy)["delta"], support.read_full(db)["delta"])
        ja, jb = (json.loads(kvtier("analyze", "--scenario", SAMPLE_SCENARIO, "--set", f"trace.db={db}",
                                    "--set", f"trace.name={n}", "--set", "model.layers=3", "--set", "selection.mode=dense",
                                    "--json"))
                  for n in ("u32", "delta"))
        self.assertEqual([p["total_time_s"] for p in ja["policies"]], [p["total_time_s"] for p in jb["policies"]])


class ErrorsTest(CliTestBase):
    def run_main(self, *argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli.main(list(argv))
            except SystemExit as e:
                code = e.code
        return code, err.getvalue()

    def test_bad_arguments_give_one_line(self):
        out = self.path("x.kvtr")
        model = ["--model", "kvtier_capture.tiny_llama:build"]
        base = model + ["--prompts", self.prompts, "--out", out]
        moe = ["--model", "kvtier_capture.tiny_llama:build_moe", "--prompts", self.prompts, "--out", out]
        text = self.path("text.txt")
        with open(text, "w") as f:
            f.write("hello world\n")
        big = self.path("big.txt")
        with open(big, "w") as f:
            f.write("1 2 500\n")
        hf = self.path("hf")
        os.mkdir(hf)
        with open(os.path.join(hf, "config.json"), "w") as f:
            f.write("{}")
        cases = [
            ((), 2, "the following arguments are required: --model, --prompts, --out"),
            (base + ["--steps", "x"], 2, "argument --steps: invalid int value: 'x'"),
            (base + ["--topk", "3", "--ratio", "0.5"], 2, "argument --ratio: not allowed with argument --topk"),
            (base + ["--head-reduction", "median"], 2, "argument --head-reduction: invalid choice: 'median'"),
            (base + ["--steps", "0"], 1, "--steps: 0 must be at least 1"),
            (base + ["--topk", "0"], 1, "--topk: 0 must be a whole number >= 1"),
            (base + ["--ratio", "1.5"], 1, "--ratio: 1.5 must be in (0, 1]"),
            (base + ["--mass", "0"], 1, "--mass: 0 must be in (0, 1]"),
            (base + ["--commit-every", "0"], 1, "--commit-every: 0 must be at least 1"),
            (base + ["--steps", "30000000"], 1, "--steps: 30000000 steps x 3 layers exceed kvtier's limit of 67108864"),
            (base + ["--name", "a\tb"], 1, "contains a control character"),
            (base + ["--hook", "qk"], 1, "--hook qk: needs --qk-modules REGEX"),
            (base + ["--qk-modules", "x"], 1, "--qk-modules: only with --hook qk"),
            (base + ["--hook", "qk", "--qk-modules", "("], 1, "not a regular expression"),
            (base + ["--hook", "qk", "--qk-modules", "nothing"], 1, "matches no module of the model"),
            (base + ["--router-top-k", "2"], 1, "--router-top-k: only for an MoE model"),
            (base + ["--router-modules", r"layers\.\d+\.self_attn"], 1, "cannot tell the number of experts E"),
            (moe + ["--router-modules", "gate"], 1, "--router-modules 'gate': matches no module of the model"),
            (moe + ["--router-modules", r"layers\.0\.mlp\.gate"], 1, "matches 1 modules (layers.0.mlp.gate, ...), but "
                                                                  "the model has 3 layers"),
            (moe + ["--router-modules", "("], 1, "not a regular expression"),
            (moe + ["--router-top-k", "9"], 1, "--router-top-k: 9 must be in 1 .. E = 8"),
            (moe + ["--router-top-k", "0"], 1, "--router-top-k: 0 must be in 1 .. E = 8"),
            (moe + ["--no-experts", "--router-top-k", "2"], 1, "--router-top-k: not with --no-experts"),
            (moe + ["--router-modules", r"layers\.\d+\.self_attn\.o_proj", "--out", self.path("shape.kvtr"), "--quiet"], 1,
             "router 'layers.0.self_attn.o_proj': output of shape (1, 1, 32) at a decode step, expected the router "
             "logits [1 token, E = 32]"),
            (moe + ["--router-modules", r"layers\.\d+\.self_attn", "--out", self.path("tuple.kvtr"), "--quiet"], 1,
             "router 'layers.0.self_attn': returned a tuple, expected the router logits [tokens, E = 8] as one tensor"),
            (model + ["--prompts", self.path("none.txt"), "--out", out], 1, "none.txt: no such file"),
            (model + ["--prompts", text, "--out", out], 1, "text.txt:1: a text prompt needs a tokenizer"),
            (model + ["--prompts", big, "--out", out], 1, "big.txt:1: token id 500 is outside the vocabulary (0 .. 96)"),
            (model + ["--prompts", self.prompts, "--out", self.dir], 1, "is a directory"),
            (model + ["--prompts", self.prompts, "--out", self.path("no/x.kvtr")], 1, "folder"),
            (["--model", "no_such_module:f", "--prompts", self.prompts, "--out", out], 1, "cannot import 'no_such_module'"),
            (["--model", "kvtier_capture.tiny_llama:nope", "--prompts", self.prompts, "--out", out], 1, "has no function 'nope'"),
            (["--model", "llama", "--prompts", self.prompts, "--out", out], 1, "neither a folder nor module:function"),
            (["--model", hf, "--prompts", self.prompts, "--out", out], 1, "needs the transformers package"),
        ]
        for argv, code, message in cases:
            got, err = self.run_main(*argv)
            self.assertEqual(got, code, (argv, err))
            self.assertEqual(len(err.splitlines()), 1, (argv, err))
            self.assertTrue(err.startswith("kvtier-capture: "), err)
            self.assertIn(message, err, argv)
        self.assertFalse(os.path.exists(out))

    def test_help(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(SystemExit) as e:
            cli.main(["--help"])
        self.assertEqual(e.exception.code, 0)
        for option in ("--qk-modules", "--as-batch", "--router-modules", "--router-top-k", "--no-experts"):
            self.assertIn(option, out.getvalue())


class KillTest(CliTestBase):
    def test_killed_capture_resumes_to_the_same_database(self):
        self.interrupt_and_resume(signal.SIGKILL, -signal.SIGKILL)

    def test_killed_batch_capture_resumes_to_the_same_database(self):
        self.interrupt_and_resume(signal.SIGKILL, -signal.SIGKILL, "slow_model:build_moe", ["--as-batch"], "capture")

    def test_ctrl_c_keeps_the_committed_steps_and_says_so(self):
        err = self.interrupt_and_resume(signal.SIGINT, 130)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("interrupted; the committed steps are kept in", err)
        self.assertIn("run the same command again to resume", err)

    def test_a_second_capture_into_the_same_work_file_is_refused(self):
        out = self.path("busy.kvtr")
        from kvtier_capture.trace_db import WorkFile
        w = WorkFile(out, {"x": 1})
        try:
            r = self.capture("--out", out, "--quiet", check=False)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr, f"kvtier-capture: {out}.kvtier-capture: another capture is writing it\n")
        finally:
            w.close()

    def interrupt_and_resume(self, sig, code, model="slow_model:build", extra=(), trace="capture-2"):
        """Interrupts a capture once trace `trace` has a commit, and resumes it."""
        args = ["--steps", "60", "--commit-every", "5", "--quiet", "--seed", "7", *extra]
        slow = [sys.executable, "-m", "kvtier_capture", "--model", model, "--prompts", self.prompts, *args]
        whole = self.path("whole.kvtr")
        subprocess.run(slow + ["--out", whole], env=ENV, check=True, stdout=subprocess.DEVNULL)
        out = self.path("killed.kvtr")
        p = subprocess.Popen(slow + ["--out", out], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        work = out + trace_db.WORK_SUFFIX
        try:
            while p.poll() is None:   # until the first commit of `trace`
                if os.path.exists(work):
                    try:
                        with contextlib.closing(sqlite3.connect(work, timeout=5)) as db:
                            n = db.execute("SELECT count(*) FROM traces t JOIN records r ON r.trace_id = t.id "
                                           "WHERE t.name = ?", (trace,)).fetchone()[0]
                    except sqlite3.Error:
                        n = 0
                    if n:
                        break
                time.sleep(0.01)
        finally:
            p.send_signal(sig)
            _, err = p.communicate()
        self.assertEqual(p.returncode, code, f"the capture ended before the signal: {err}")
        self.assertFalse(os.path.exists(out))
        self.assertTrue(os.path.exists(work))
        r = subprocess.run(slow + ["--out", out], env=ENV, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(support.read_full(out), support.read_full(whole))
        self.assertFalse(os.path.exists(work))
        self.assertEqual(r.stderr, "")
        return err


if __name__ == "__main__":
    unittest.main()
