"""Shared by the capture tests: a reference attention computation written independently
of the capture (and of tiny_llama's cached forward), temporary folders, reading a
database back."""
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)

import torch  # noqa: E402

from kvtier_capture import blob_codec, tiny_llama  # noqa: E402
from kvtier_capture.capture import ModelInfo, Prompt, Settings  # noqa: E402

PROMPTS = [[3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26], [27, 18, 28]]


def tiny_model(seed=0, **overrides):
    torch.manual_seed(seed)
    return tiny_llama.build(**overrides)


def info_of(model, hook="hf", seed=0):
    c = model.config
    size = next(model.parameters()).element_size()
    return ModelInfo(name=c.name_or_path, spec="test", layers=c.num_hidden_layers, q_heads=c.num_attention_heads,
                     kv_heads=c.num_key_value_heads, head_dim=c.head_dim, dtype=str(next(model.parameters()).dtype)[6:],
                     dtype_bytes=size, weight_bytes=sum(p.numel() * size for p in model.parameters()), seed=seed,
                     hook=hook)


def prompts(which=None):
    ps = [Prompt(ids=list(p), where=f"test:{i + 1}") for i, p in enumerate(PROMPTS)]
    return ps if which is None else [ps[i] for i in which]


def reference_decode(model, prompt, steps, router_logits=None):
    """Greedy decode without a KV cache, every step recomputing the whole sequence from the
    weights with its own RMSNorm, rotary embedding and per-head attention loop (and, for an
    MoE model, its own per-token top-k routing with torch.topk). Returns probs[t][l] =
    [q_heads, P + t + 1]: the attention row of the token fed at step t. With a list
    `router_logits`, appends router_logits[t][l] = [E]: the router logits of that token."""
    c = model.config
    seq = list(prompt)
    d = c.head_dim
    inv = 1.0 / (c.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))

    def rms(x, w):
        return w * x / torch.sqrt((x * x).mean(-1, keepdim=True) + c.rms_norm_eps)

    def rotate(x, pos):   # x [seq, d]: pairs (i, i + d/2) rotated by pos * inv[i]
        a = pos.float()[:, None] * inv[None, :]
        x1, x2 = x[:, : d // 2], x[:, d // 2:]
        return torch.cat((x1 * a.cos() - x2 * a.sin(), x2 * a.cos() + x1 * a.sin()), dim=-1)

    def moe(mlp, h, logits_out):
        logits = h @ mlp.gate.weight.T                    # [s, E]
        logits_out.append(logits[-1])
        top = torch.topk(logits, mlp.top_k, dim=-1)
        weights = torch.softmax(top.values, dim=-1)
        out = torch.zeros_like(h)
        for i in range(h.shape[0]):
            for j in range(mlp.top_k):
                e = mlp.experts[int(top.indices[i, j])]
                g = torch.nn.functional.silu(h[i] @ e.gate_proj.weight.T) * (h[i] @ e.up_proj.weight.T)
                out[i] += weights[i, j] * (g @ e.down_proj.weight.T)
        return out

    def forward(ids, logits_out):
        s = len(ids)
        pos = torch.arange(s)
        x = model.embed_tokens.weight[torch.tensor(ids)]
        rows = []
        for layer in model.layers:
            at = layer.self_attn
            h = rms(x, layer.input_layernorm.weight)
            q = h @ at.q_proj.weight.T
            k = h @ at.k_proj.weight.T
            v = h @ at.v_proj.weight.T
            group = c.num_attention_heads // c.num_key_value_heads
            outs, last = [], []
            for head in range(c.num_attention_heads):
                kvh = head // group
                qh = rotate(q[:, head * d:(head + 1) * d], pos)
                kh = rotate(k[:, kvh * d:(kvh + 1) * d], pos)
                vh = v[:, kvh * d:(kvh + 1) * d]
                logits = qh @ kh.T / math.sqrt(d)
                logits = logits.masked_fill(torch.ones(s, s, dtype=torch.bool).triu(1), float("-inf"))
                p = torch.softmax(logits, dim=-1)
                outs.append(p @ vh)
                last.append(p[-1])
            rows.append(torch.stack(last))
            x = x + torch.cat(outs, dim=-1) @ at.o_proj.weight.T
            h = rms(x, layer.post_attention_layernorm.weight)
            if hasattr(layer, "mlp"):
                x = x + moe(layer.mlp, h, logits_out)
                continue
            g = torch.nn.functional.silu(h @ layer.gate_proj.weight.T) * (h @ layer.up_proj.weight.T)
            x = x + g @ layer.down_proj.weight.T
        logits = rms(x, model.norm.weight) @ model.lm_head.weight.T
        return logits[-1], rows

    with torch.no_grad():
        logits, _ = forward(seq, [])
        out = []
        for _ in range(steps):
            seq.append(int(torch.argmax(logits)))
            step_router = []
            logits, rows = forward(seq, step_router)
            out.append(rows)
            if router_logits is not None:
                router_logits.append(step_router)
    return out


def read_db(path):
    """{name: (trace row as dict, {(step, layer): (encoding, count, blob)})}"""
    db = sqlite3.connect(path)
    try:
        out = {}
        cols = [r[1] for r in db.execute("PRAGMA table_info(traces)")]
        for row in db.execute("SELECT * FROM traces ORDER BY name").fetchall():
            meta = dict(zip(cols, row))
            recs = {(s, l): (e, c, bytes(b)) for s, l, e, c, b in db.execute(
                "SELECT step, layer, encoding, count, data FROM records WHERE trace_id = ? ORDER BY step, layer",
                (meta["id"],))}
            out[meta["name"]] = (meta, recs)
        return out
    finally:
        db.close()


def read_full(path):
    """Everything a trace holds, sequences and expert sets included: {name: {"meta": the
    traces row (without id and created_at), "sequences": [(s, P_s)], "records": {(t, s, l):
    (encoding, count, blob)}, "experts": E or None, "expert_sets": {(t, l): [ids]}}}, the
    rows read in storage order."""
    db = sqlite3.connect(path)
    try:
        out = {}
        cols = [r[1] for r in db.execute("PRAGMA table_info(traces)")]
        for row in db.execute("SELECT * FROM traces ORDER BY name").fetchall():
            meta = dict(zip(cols, row))
            tid = meta.pop("id")
            meta.pop("created_at")
            sets = {}
            for t, l, blob in db.execute("SELECT step, layer, data FROM expert_sets WHERE trace_id = ? "
                                         "ORDER BY step, layer", (tid,)):
                sets[(t, l)] = [int.from_bytes(blob[k:k + 2], "little") for k in range(0, len(blob), 2)]
            e = db.execute("SELECT experts FROM trace_experts WHERE trace_id = ?", (tid,)).fetchone()
            out[meta["name"]] = {
                "meta": meta,
                "sequences": db.execute("SELECT sequence, prefill FROM trace_sequences WHERE trace_id = ? "
                                        "ORDER BY sequence", (tid,)).fetchall(),
                "records": {(t, q, l): (enc, c, bytes(b)) for t, q, l, enc, c, b in db.execute(
                    "SELECT step, sequence, layer, encoding, count, data FROM records WHERE trace_id = ? "
                    "ORDER BY step, sequence, layer", (tid,))},
                "experts": e[0] if e else None,
                "expert_sets": sets}
        return out
    finally:
        db.close()


def dense(records, key, n_t):
    e, c, b = records[key]
    return torch.from_numpy(blob_codec.decode(e, n_t, c, b))


def without_volatile(traces):
    """What must not depend on when or how often the capture ran: everything but the row
    ids and the creation time."""
    return {n: ({k: v for k, v in m.items() if k not in ("id", "created_at")}, r) for n, (m, r) in traces.items()}


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="kvtier-capture-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)


def settings(**kw):
    kw.setdefault("steps", 9)
    kw.setdefault("commit_every", 4)
    return Settings(**kw)
