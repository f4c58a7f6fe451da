"""The capture loop: prefill, greedy decode, one record per step (aggregated) or per step
and layer, committed every few steps into the work file, resumed from the last committed
step after an interruption.

Memory is bounded by the model and its KV cache plus one step's attention rows ([heads,
n_t + 1] per layer) and the records of at most `commit_every` steps (fewer when they reach
COMMIT_BYTES): no score matrix, no whole trace. The work file is a kvtier database (trace_db.py)."""
import hashlib
import json
import os
from dataclasses import asdict, dataclass

import torch

from . import blob_codec, reduce, trace_db
from .errors import CaptureError

# At most about this many bytes of records are held before they are committed.
COMMIT_BYTES = 64 << 20
# Records per trace that kvtier accepts (docs/TRACE_FORMAT.md section 10).
MAX_RECORDS = 1 << 26


@dataclass
class Settings:
    steps: int = 32
    layer_mode: str = "per-layer"         # or "aggregated"
    head_reduction: str = "mean"          # mean, max, kv-group
    select: str = "full"                  # full (scores), topk, ratio, mass (selections)
    select_value: float = 0.0
    encoding: str = "sparse_f16"          # score encoding for select = full
    name: str = "capture"
    description: str = ""
    commit_every: int = 16                # steps per transaction (not part of the result)


@dataclass
class Prompt:
    ids: list          # token ids
    where: str         # "FILE:LINE", recorded as the prompt's source


@dataclass
class ModelInfo:
    """The header: everything kvtier needs to size bytes (MODEL.md section 3), and where
    the trace came from. `model` is the scenario model object of docs/SCENARIO.md."""
    name: str
    spec: str
    layers: int
    q_heads: int
    kv_heads: int
    head_dim: int
    dtype: str
    dtype_bytes: int
    weight_bytes: int
    seed: int
    hook: str
    kv_latent_dim: int = 0   # MLA: the cached latent per token and layer (kv_lora_rank + qk_rope_head_dim)

    def scenario_model(self):
        m = {"name": self.name, "layers": self.layers}
        if self.kv_latent_dim:   # a latent cache is sized by it, not by heads (resources/presets/models.json)
            m["kv_latent_dim"] = self.kv_latent_dim
        else:
            m.update(kv_heads=self.kv_heads, head_dim=self.head_dim)
        m.update(dtype_bytes=self.dtype_bytes, weight_bytes=self.weight_bytes)
        return m


def check_settings(s):
    if s.steps < 1:
        raise CaptureError("--steps", f"{s.steps} must be at least 1")
    if s.layer_mode not in ("per-layer", "aggregated"):
        raise CaptureError("--layer-mode", f"'{s.layer_mode}' is not per-layer or aggregated")
    if s.head_reduction not in reduce.HEAD_REDUCTIONS:
        raise CaptureError("--head-reduction", f"'{s.head_reduction}' is not one of {', '.join(reduce.HEAD_REDUCTIONS)}")
    if s.select == "topk" and (s.select_value < 1 or s.select_value != int(s.select_value)):
        raise CaptureError("--topk", f"{s.select_value:g} must be a whole number >= 1")
    if s.select in ("ratio", "mass") and not 0 < s.select_value <= 1:
        raise CaptureError(f"--{s.select}", f"{s.select_value:g} must be in (0, 1]")
    if s.select == "full" and s.encoding not in blob_codec.SCORE_ENCODINGS:
        raise CaptureError("--encoding", f"'{s.encoding}' is not one of {', '.join(blob_codec.SCORE_ENCODINGS)}")
    if s.commit_every < 1:
        raise CaptureError("--commit-every", f"{s.commit_every} must be at least 1")
    trace_db.check_name(s.name)


def trace_names(s, prompts):
    return [s.name] if len(prompts) == 1 else [f"{s.name}-{i + 1}" for i in range(len(prompts))]


def check_out(out):
    if os.path.isdir(out):
        raise CaptureError(out, "is a directory")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise CaptureError(out, f"folder '{os.path.dirname(out)}' does not exist")


class Recorder:
    """Turns one decode step's attention rows into the step's records."""

    def __init__(self, s, info):
        self.s, self.info = s, info
        self.selector = None if s.select == "full" else reduce.Selector(s.select, s.select_value)

    def records(self, t, n_t, rows):
        info = self.info
        if len(rows) != info.layers:
            raise CaptureError(f"step t={t}", f"attention of {len(rows)} layers, the model's config says {info.layers}")
        groups = []
        for l, r in enumerate(rows):
            if r.dim() != 2 or r.shape[0] != info.q_heads or r.shape[1] != n_t + 1:
                raise CaptureError(f"step t={t} layer {l}", f"attention row of shape {tuple(r.shape)}, expected "
                                   f"[{info.q_heads} heads, P + t + 1 = {n_t + 1} keys] (a model with a "
                                   "sliding window or a cache it prunes is not supported)")
            groups.append(reduce.reduce_heads(r, n_t, self.s.head_reduction, info.kv_heads).cpu())
        if self.s.layer_mode == "aggregated":   # the mean over layers, one record per step
            return [(t, -1) + self.encode(n_t, torch.stack(groups).mean(dim=0))]
        return [(t, l) + self.encode(n_t, g) for l, g in enumerate(groups)]

    def encode(self, n_t, groups):
        if self.selector is None:
            return blob_codec.encode_scores(self.s.encoding, n_t, reduce.scores_of(groups).numpy())
        return blob_codec.encode_selection(n_t, self.selector.select(groups))


def _trace_meta(s, info, prompt, name, index, count):
    header = {"kvtier_capture": 1, "model": info.scenario_model(), "q_heads": info.q_heads, "dtype": info.dtype,
              "model_spec": info.spec, "hook": info.hook, "seed": info.seed, "prompt_source": prompt.where,
              "prompt_tokens": len(prompt.ids), "prompt": f"{index + 1} of {count}", "select": s.select}
    if s.select != "full":
        header["select_value"] = s.select_value
    selection = s.select != "full"
    return {"name": name,
            "description": s.description or f"{info.name}, {prompt.where}, greedy decode",
            "source": f"kvtier-capture {info.spec} {prompt.where}",
            "model_name": info.name, "head_reduction": s.head_reduction,
            "notes": json.dumps(header, sort_keys=True),
            "prefill": len(prompt.ids), "steps": s.steps, "layers": info.layers, "layer_mode": s.layer_mode,
            "kind": "selection" if selection else "scores",
            "encoding": blob_codec.SELECTION_ENCODING if selection else s.encoding}


def run(source, prompts, out, s, info, progress=None, restart=False, replace=False, on_commit=None):
    """Captures every prompt as one trace into OUT. Returns the trace names."""
    check_settings(s)
    check_out(out)
    if not prompts:
        raise CaptureError("no prompts")
    names = trace_names(s, prompts)
    if os.path.exists(out):   # checked before any work: a file kvtier would refuse, a clash
        clash = [n for n in names if n in trace_db.existing_names(out)]
        if clash and not replace:
            raise CaptureError(out, f"trace '{clash[0]}' already exists (use --replace to overwrite it)")
    slots = info.layers if s.layer_mode == "per-layer" else 1
    if s.steps * slots > MAX_RECORDS:
        raise CaptureError("--steps", f"{s.steps} steps x {slots} layers exceed kvtier's limit of {MAX_RECORDS} "
                                      "records per trace (use --layer-mode aggregated or fewer steps)")
    for p in prompts:
        if not p.ids:
            raise CaptureError(p.where, "empty prompt")
    ids_hash = hashlib.sha256(json.dumps([p.ids for p in prompts]).encode()).hexdigest()
    settings = {k: v for k, v in asdict(s).items() if k != "commit_every"}
    work = trace_db.WorkFile(out, {"settings": settings, "info": asdict(info), "prompts": ids_hash,
                                   "sources": [p.where for p in prompts]}, restart)
    try:
        recorder = Recorder(s, info)
        done_at = [work.resume_point(n, slots, s.steps) for n in names]
        total, done = s.steps * len(prompts), sum(done_at)
        if progress:
            progress.update(done, f"resuming at step {done}" if done else "prefill")
        for i, (prompt, name) in enumerate(zip(prompts, names)):
            first = done_at[i]
            if first == s.steps:
                continue
            trace_id = work.begin_trace(_trace_meta(s, info, prompt, name, i, len(prompts)))
            with torch.no_grad():
                ids = torch.tensor([prompt.ids], dtype=torch.long, device=getattr(source, "device", "cpu"))
                logits, past = source.prefill(ids)
                batch, batch_bytes, batch_first = [], 0, first
                for t in range(s.steps):
                    token = torch.argmax(logits).reshape(1, 1)   # greedy
                    logits, past, rows = source.step(token, past, t >= first)
                    if t < first:   # replayed to rebuild the KV cache of a resumed trace
                        continue
                    step = recorder.records(t, len(prompt.ids) + t, rows)
                    batch += step
                    batch_bytes += sum(len(r[4]) for r in step)
                    # Whole steps per commit: every commit_every steps, or sooner when the
                    # records held reach COMMIT_BYTES (long contexts, many layers).
                    if t + 1 - batch_first == s.commit_every or batch_bytes >= COMMIT_BYTES or t + 1 == s.steps:
                        work.commit_records(trace_id, batch)
                        batch, batch_bytes, batch_first = [], 0, t + 1
                        if progress:   # every earlier prompt is complete
                            progress.update(s.steps * i + t + 1, f"prompt {i + 1}/{len(prompts)} step {t + 1}/{s.steps}")
                        if on_commit:
                            on_commit(i, t + 1)
        if progress:
            progress.update(total, "writing " + out)
        return work.finish(replace)
    finally:
        work.close()
