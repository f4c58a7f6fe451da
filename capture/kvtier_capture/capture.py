"""The capture loop: prefill, greedy decode, one record per step (aggregated) or per step
and layer, committed every few steps into the work file, resumed from the last committed
step after an interruption.

Each prompt is its own trace, or with `as_batch` all prompts are the S sequences of one
trace (MODEL.md section 8), decoded in lock step: at every step each sequence runs its own
forward (batch size 1, its own KV cache), so every sequence's attention is exactly what it
is alone, whatever the other prompts' lengths. With a router hook (router.py) each step
also records the experts X[t][l] its tokens were routed to (MODEL.md section 9): the union
over the sequences.

Memory is bounded by the model and its KV caches plus one step's attention rows ([heads,
n_t + 1] per layer and sequence) and the records of at most `commit_every` steps (fewer
when they reach COMMIT_BYTES): no score matrix, no whole trace. The work file is a kvtier
database (trace_db.py)."""
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
# Sequences per trace (docs/TRACE_FORMAT.md section 1).
MAX_SEQUENCES = 1 << 16


@dataclass
class Settings:
    steps: int = 32
    layer_mode: str = "per-layer"         # or "aggregated"
    head_reduction: str = "mean"          # mean, max, kv-group
    select: str = "full"                  # full (scores), topk, ratio, mass (selections)
    select_value: float = 0.0
    encoding: str = "sparse_f16"          # score encoding for select = full
    selection_encoding: str = "index_u32"  # index_u32, index_varint or index_step_delta (selections)
    key_interval: int = 64                # index_step_delta: a key record at least every K steps
    name: str = "capture"
    description: str = ""
    as_batch: bool = False                # all prompts as the sequences of one trace
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
    experts: int = 0         # MoE: E experts per layer whose routing is recorded (0: no expert sets)
    experts_per_token: int = 0   # the router's top-k
    expert_bytes: int = 0    # one expert's weights, when the model shows them (router.py); else 0
    router: str = ""         # the router modules' pattern

    def scenario_model(self):
        m = {"name": self.name, "layers": self.layers}
        if self.kv_latent_dim:   # a latent cache is sized by it, not by heads (resources/presets/models.json)
            m["kv_latent_dim"] = self.kv_latent_dim
        else:
            m.update(kv_heads=self.kv_heads, head_dim=self.head_dim)
        m.update(dtype_bytes=self.dtype_bytes, weight_bytes=self.weight_bytes)
        if self.experts and self.expert_bytes:   # docs/SCENARIO.md: experts and expert_bytes come together
            m.update(experts=self.experts, expert_bytes=self.expert_bytes, experts_per_token=self.experts_per_token)
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
    if s.selection_encoding not in blob_codec.SELECTION_ENCODINGS:
        raise CaptureError("--selection-encoding", f"'{s.selection_encoding}' is not one of "
                                                   f"{', '.join(blob_codec.SELECTION_ENCODINGS)}")
    if not 1 <= s.key_interval <= blob_codec.MAX_KEY_INTERVAL:
        raise CaptureError("--key-interval", f"{s.key_interval} outside 1 .. {blob_codec.MAX_KEY_INTERVAL}")
    if s.commit_every < 1:
        raise CaptureError("--commit-every", f"{s.commit_every} must be at least 1")
    trace_db.check_name(s.name)


def trace_names(s, prompts):
    return [s.name] if s.as_batch or len(prompts) == 1 else [f"{s.name}-{i + 1}" for i in range(len(prompts))]


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
        self.delta = None

    def start_trace(self, prev=None):
        """A new trace: index_step_delta starts from `prev`, {(sequence, layer): set} of the
        step before its first recorded one (a resumed trace), else from nothing."""
        if self.selector is not None and self.s.selection_encoding == blob_codec.STEP_DELTA:
            self.delta = blob_codec.StepDeltaEncoder(self.s.key_interval, prev)

    def records(self, t, seq, n_t, rows):
        """The records (step, sequence, layer, encoding, count, BLOB, entries) of step t of
        sequence `seq` from its attention rows."""
        info = self.info
        at = f"step t={t}" + (f" sequence {seq}" if self.s.as_batch else "")
        if len(rows) != info.layers:
            raise CaptureError(at, f"attention of {len(rows)} layers, the model's config says {info.layers}")
        groups = []
        for l, r in enumerate(rows):
            if r.dim() != 2 or r.shape[0] != info.q_heads or r.shape[1] != n_t + 1:
                raise CaptureError(f"{at} layer {l}", f"attention row of shape {tuple(r.shape)}, expected "
                                   f"[{info.q_heads} heads, P + t + 1 = {n_t + 1} keys] (a model with a "
                                   "sliding window or a cache it prunes is not supported)")
            groups.append(reduce.reduce_heads(r, n_t, self.s.head_reduction, info.kv_heads).cpu())
        if self.s.layer_mode == "aggregated":   # the mean over layers, one record per step
            return [(t, seq, -1) + self.encode(t, seq, -1, n_t, torch.stack(groups).mean(dim=0))]
        return [(t, seq, l) + self.encode(t, seq, l, n_t, g) for l, g in enumerate(groups)]

    def encode(self, t, seq, layer, n_t, groups):
        if self.selector is None:
            return blob_codec.encode_scores(self.s.encoding, n_t, reduce.scores_of(groups).numpy())
        index = self.selector.select(groups)
        if self.s.selection_encoding == "index_varint":
            return blob_codec.encode_index_varint(n_t, index)
        if self.s.selection_encoding == blob_codec.STEP_DELTA:
            return self.delta.encode(t, seq, layer, n_t, index)
        return blob_codec.encode_selection(n_t, index)


def _sources(prompts):
    """Where a batch's prompts came from: `FILE:1,3,4` when they share a file."""
    files = {p.where.rsplit(":", 1)[0] for p in prompts}
    if len(files) == 1 and all(":" in p.where for p in prompts):
        return f"{files.pop()}:{','.join(p.where.rsplit(':', 1)[1] for p in prompts)}"
    return " ".join(p.where for p in prompts)


def _trace_meta(s, info, group, name, index, count):
    """The traces row of one trace: `group` is its prompt (one) or the batch's prompts."""
    header = {"kvtier_capture": 1, "model": info.scenario_model(), "q_heads": info.q_heads, "dtype": info.dtype,
              "model_spec": info.spec, "hook": info.hook, "seed": info.seed, "select": s.select}
    if s.as_batch:   # one entry per sequence
        header.update(sequences=len(group), prompt_source=[p.where for p in group],
                      prompt_tokens=[len(p.ids) for p in group])
        where = _sources(group)
        description = f"{info.name}, a batch of {len(group)} prompts ({where}), greedy decode in lock step"
    else:
        header.update(prompt_source=group[0].where, prompt_tokens=len(group[0].ids), prompt=f"{index + 1} of {count}")
        where = group[0].where
        description = f"{info.name}, {where}, greedy decode"
    if s.select != "full":
        header["select_value"] = s.select_value
    if info.experts:
        header.update(experts=info.experts, experts_per_token=info.experts_per_token, router_modules=info.router)
    selection = s.select != "full"
    return {"name": name,
            "description": s.description or description,
            "source": f"kvtier-capture {info.spec} {where}",
            "model_name": info.name, "head_reduction": s.head_reduction,
            "notes": json.dumps(header, sort_keys=True),
            "prefill": len(group[0].ids), "steps": s.steps, "layers": info.layers, "layer_mode": s.layer_mode,
            "kind": "selection" if selection else "scores",
            "encoding": blob_codec.trace_encoding(s.selection_encoding, s.key_interval) if selection else s.encoding,
            "sequence_prefill": [len(p.ids) for p in group], "experts": info.experts}


def _check(s, info, prompts, router, slots):
    if not prompts:
        raise CaptureError("no prompts")
    for p in prompts:
        if not p.ids:
            raise CaptureError(p.where, "empty prompt")
    if s.as_batch and len(prompts) > MAX_SEQUENCES:
        raise CaptureError("--as-batch", f"{len(prompts)} prompts exceed kvtier's limit of {MAX_SEQUENCES} "
                                         "sequences per trace (use --max-prompts)")
    sequences = len(prompts) if s.as_batch else 1
    if s.steps * slots * sequences > MAX_RECORDS:
        what = f"{slots} layers x {sequences} sequences" if s.as_batch else f"{slots} layers"
        raise CaptureError("--steps", f"{s.steps} steps x {what} exceed kvtier's limit of {MAX_RECORDS} records "
                                      "per trace (use --layer-mode aggregated or fewer steps)")
    if (router is None) != (info.experts == 0) or (router is not None and router.experts != info.experts):
        raise CaptureError(f"the model info says E = {info.experts} experts, the router hook "
                           f"{'is missing' if router is None else f'has E = {router.experts}'}")


def run(source, prompts, out, s, info, progress=None, restart=False, replace=False, on_commit=None, router=None):
    """Captures every prompt as one trace, or all prompts as one trace of S sequences
    (s.as_batch), into OUT; with `router` (a router.RouterHook; info.experts its E) the
    expert sets too. Returns the trace names. on_commit(trace index, steps done) is called
    after every commit."""
    check_settings(s)
    check_out(out)
    slots = info.layers if s.layer_mode == "per-layer" else 1
    _check(s, info, prompts, router, slots)
    names = trace_names(s, prompts)
    if os.path.exists(out):   # checked before any work: a file kvtier would refuse, a clash
        clash = [n for n in names if n in trace_db.existing_names(out)]
        if clash and not replace:
            raise CaptureError(out, f"trace '{clash[0]}' already exists (use --replace to overwrite it)")
    groups = [prompts] if s.as_batch else [[p] for p in prompts]
    ids_hash = hashlib.sha256(json.dumps([p.ids for p in prompts]).encode()).hexdigest()
    settings = {k: v for k, v in asdict(s).items() if k != "commit_every"}
    work = trace_db.WorkFile(out, {"settings": settings, "info": asdict(info), "prompts": ids_hash,
                                   "sources": [p.where for p in prompts]}, restart)
    try:
        recorder = Recorder(s, info)
        expert_layers = info.layers if router is not None else 0
        done_at = [work.resume_point(n, slots * len(g), expert_layers, s.steps) for n, g in zip(names, groups)]
        total, done = s.steps * len(prompts), sum(d * len(g) for d, g in zip(done_at, groups))
        if progress:
            progress.update(done, f"resuming at step {done_at[0] if s.as_batch else done}" if done else "prefill")
        for i, (group, name) in enumerate(zip(groups, names)):
            first = done_at[i]
            if first == s.steps:
                continue
            trace_id = work.begin_trace(_trace_meta(s, info, group, name, i, len(prompts)))
            delta = s.select != "full" and s.selection_encoding == blob_codec.STEP_DELTA
            recorder.start_trace(work.last_sets(trace_id, first, s.key_interval) if delta and first > 0 else None)
            before = s.steps * sum(len(g) for g in groups[:i])   # sequence-steps of the traces before
            with torch.no_grad():
                _decode(source, recorder, router, work, trace_id, group, s, first, info.layers,
                        lambda t: _committed(progress, on_commit, s, i, len(groups), before, len(group), t))
        if progress:
            progress.update(total, "writing " + out)
        return work.finish(replace)
    finally:
        work.close()


def _committed(progress, on_commit, s, i, traces, before, sequences, t):
    if progress:   # every earlier trace is complete
        what = (f"step {t}/{s.steps} of {sequences} sequences" if s.as_batch
                else f"prompt {i + 1}/{traces} step {t}/{s.steps}")
        progress.update(before + sequences * t, what)
    if on_commit:
        on_commit(i, t)


def _decode(source, recorder, router, work, trace_id, group, s, first, layers, committed):
    """Prefill and greedy decode of a trace's sequences in lock step, each its own forward
    and KV cache; steps before `first` are replayed (a resumed trace) without recording."""
    device = getattr(source, "device", "cpu")
    states = []   # [logits, past] per sequence
    for p in group:
        states.append(list(source.prefill(torch.tensor([p.ids], dtype=torch.long, device=device))))
    held, held_experts, held_bytes, held_first = [], [], 0, first
    for t in range(s.steps):
        record = t >= first   # earlier steps rebuild the KV caches of a resumed trace
        experts = [set() for _ in range(layers)] if record and router is not None else None
        for q, (p, state) in enumerate(zip(group, states)):
            token = torch.argmax(state[0]).reshape(1, 1)   # greedy
            if experts is not None:
                router.start()
            try:
                state[0], state[1], rows = source.step(token, state[1], record)
            finally:
                if router is not None:
                    router.active = False
            if not record:
                continue
            if experts is not None:   # X[t][l]: the union over the batch's sequences
                for l, ids in enumerate(router.stop()):
                    experts[l].update(ids)
            step = recorder.records(t, q, len(p.ids) + t, rows)
            held += step
            held_bytes += sum(len(r[5]) for r in step)
        if not record:
            continue
        if experts is not None:
            held_experts += [(t, l, sorted(x)) for l, x in enumerate(experts)]
        # Whole steps per commit: every commit_every steps, or sooner when the records held
        # reach COMMIT_BYTES (long contexts, many layers, many sequences).
        if t + 1 - held_first == s.commit_every or held_bytes >= COMMIT_BYTES or t + 1 == s.steps:
            work.commit_records(trace_id, held, held_experts)
            held, held_experts, held_bytes, held_first = [], [], 0, t + 1
            committed(t + 1)
