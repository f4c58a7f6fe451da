"""Where a decode step's attention comes from.

Both sources drive the model through the Hugging Face causal-LM call convention:
`model(input_ids=ids, past_key_values=past, use_cache=True, output_attentions=flag,
return_dict=True)` returning an object with `.logits` [batch, seq, vocab] and
`.past_key_values` (passed back unchanged at the next step), so Hugging Face models and any
model written to the same convention (kvtier_capture.tiny_llama) work.

- HFAttentionSource: the model returns the weights itself (`.attentions`, one tensor
  [batch, heads, q_len, kv_len] per layer), as Hugging Face's eager attention does with
  `output_attentions=True` (load the model with `attn_implementation="eager"`).
- QKSource: for attention kernels that return no weights (SDPA, flash attention), forward
  pre-hooks on the modules that receive the rotated query and the whole key cache as their
  first two arguments, q [batch, q_heads, q_len, d] and k [batch, kv_heads, n, d], compute
  the decode query's softmax(q K^T / sqrt(d)) themselves.

Each returns, per decode step, one tensor per layer of shape [q_heads, n_t + 1]: the new
token's attention over every token including itself. Only the decode query's row is ever
formed: never a score matrix, and the prefill runs without recording."""
import math
import re

import torch

from .errors import CaptureError


def _last_logits(out):
    return out.logits[0, -1]


class HFAttentionSource:
    name = "hf-eager"

    def __init__(self, model):
        self.model = model
        self.device = next(model.parameters()).device

    def prefill(self, ids):
        out = self.model(input_ids=ids, use_cache=True, output_attentions=False, return_dict=True)
        return _last_logits(out), out.past_key_values

    def step(self, token, past, record):
        out = self.model(input_ids=token, past_key_values=past, use_cache=True,
                         output_attentions=record, return_dict=True)
        rows = None
        if record:
            if not out.attentions or any(a is None for a in out.attentions):
                raise CaptureError("the model returned no attention weights with output_attentions=True; "
                                   "load it with attn_implementation=\"eager\" or use --hook qk")
            rows = [a[0, :, -1, :] for a in out.attentions]
        return _last_logits(out), out.past_key_values, rows


def decode_query_probs(q, k):
    """softmax(q K^T / sqrt(d)) of the last query position, [q_heads, n], in float32 (float64
    for a float64 model). GQA: KV
    head j serves query heads j*g .. j*g+g-1 (Hugging Face's repeat_kv order)."""
    if q.dim() != 4 or k.dim() != 4 or q.shape[0] != k.shape[0] or q.shape[-1] != k.shape[-1]:
        raise CaptureError(f"q/k hook: expected q [batch, heads, seq, d] and k [batch, kv_heads, n, d], "
                           f"got {tuple(q.shape)} and {tuple(k.shape)}")
    if q.shape[1] % k.shape[1]:
        raise CaptureError(f"q/k hook: {q.shape[1]} query heads do not split into {k.shape[1]} KV heads")
    kv_heads, d = k.shape[1], q.shape[-1]
    dt = torch.float64 if q.dtype == torch.float64 else torch.float32     # at least float32
    qd = q[0, :, -1, :].to(dt).reshape(kv_heads, -1, d)                    # [Hkv, g, d]
    # Grouped, not repeat_kv: K is never copied per query head (at 128k tokens that copy
    # would be gigabytes).
    logits = torch.einsum("hgd,hnd->hgn", qd, k[0].to(dt)) / math.sqrt(d)
    return torch.softmax(logits, dim=-1).reshape(q.shape[1], -1)


class QKSource:
    name = "qk"

    def __init__(self, model, pattern):
        try:
            rx = re.compile(pattern)
        except re.error as e:
            raise CaptureError(f"--qk-modules '{pattern}'", f"not a regular expression ({e})") from None
        self.model = model
        self.device = next(model.parameters()).device
        self.modules = [(n, m) for n, m in model.named_modules() if n and rx.fullmatch(n)]
        if not self.modules:
            raise CaptureError(f"--qk-modules '{pattern}'", "matches no module of the model "
                               "(give the full dotted names, e.g. 'layers\\.\\d+\\.self_attn\\.core')")
        self.active = False
        self.rows = []
        self.handles = [m.register_forward_pre_hook(self._hook) for _, m in self.modules]

    def _hook(self, module, args):
        if self.active:
            if len(args) < 2:
                raise CaptureError("q/k hook: the module was not called with (q, k, ...) as positional arguments")
            self.rows.append(decode_query_probs(args[0], args[1]))

    def prefill(self, ids):
        out = self.model(input_ids=ids, use_cache=True, return_dict=True)
        return _last_logits(out), out.past_key_values

    def step(self, token, past, record):
        self.rows, self.active = [], record
        try:
            out = self.model(input_ids=token, past_key_values=past, use_cache=True, return_dict=True)
        finally:
            self.active = False
        rows = None
        if record:
            if len(self.rows) != len(self.modules):
                raise CaptureError(f"q/k hook: {len(self.modules)} modules matched but {len(self.rows)} "
                                   "were called in one decode step")
            rows = self.rows
        return _last_logits(out), out.past_key_values, rows

    def close(self):
        for h in self.handles:
            h.remove()
