"""A tiny Llama-like causal LM in plain torch (1.13 has no scaled_dot_product_attention):
RMSNorm, rotary position embeddings, grouped-query attention, SwiGLU MLP, random weights.
With `num_experts` E > 0 each layer's MLP is a mixture of E SwiGLU experts instead, routed
top-k (`num_experts_per_tok`) by a router `layers.N.mlp.gate` (a Linear giving the router
logits [tokens, E], as in Mixtral and Qwen-MoE): `--model kvtier_capture.tiny_llama:build_moe`.

It follows the Hugging Face causal-LM call convention that the capture drives (`model(
input_ids=..., past_key_values=..., use_cache=True, output_attentions=..., return_dict=True)`
returning `.logits`, `.past_key_values` as a tuple of per-layer (K, V) of shape [batch,
kv_heads, seq, head_dim], and `.attentions` as per-layer [batch, heads, q_len, kv_len] when
asked), and it has a `config` with the Hugging Face field names. So it stands in for a
Hugging Face model with `attn_implementation="eager"` in the tests, and its attention
kernel is a separate module (`layers.N.self_attn.core`, called with the rotated q and k)
for the generic q/k hook. Use it as `--model kvtier_capture.tiny_llama:build`."""
import math
from types import SimpleNamespace

import torch
from torch import nn


def default_config(**overrides):
    c = dict(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
             num_attention_heads=4, num_key_value_heads=2, rope_theta=10000.0, rms_norm_eps=1e-6,
             name_or_path="tiny-llama", model_type="llama", torch_dtype="float32",
             num_experts=0, num_experts_per_tok=2, moe_intermediate_size=32)
    c.update(overrides)
    c["head_dim"] = c["hidden_size"] // c["num_attention_heads"]
    return SimpleNamespace(**c)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(1.0 + 0.1 * torch.randn(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope(x, positions, theta):
    """Rotary embedding of x [batch, heads, seq, d] at integer positions [seq]."""
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = positions.to(torch.float32)[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    return x * emb.cos().to(x.dtype) + rotate_half(x) * emb.sin().to(x.dtype)


class EagerAttention(nn.Module):
    """softmax(q K^T / sqrt(d)) V with a causal mask, K and V repeated for GQA. Called with
    the rotated q [b, Hq, s, d] and the whole cached k, v [b, Hkv, n, d]."""

    def forward(self, q, k, v):
        group = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        s, n = q.shape[2], k.shape[2]
        if s > 1:   # query i sits at position n - s + i and sees keys 0 .. n - s + i
            mask = torch.ones(s, n, dtype=torch.bool).triu(n - s + 1)
            logits = logits.masked_fill(mask, float("-inf"))
        # Half-precision models take the softmax in float32, as Hugging Face's eager path does.
        probs = torch.softmax(logits.float() if q.element_size() < 4 else logits, dim=-1).to(q.dtype)
        return probs @ v, probs


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d = c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * d, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * d, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * d, bias=False)
        self.o_proj = nn.Linear(c.num_attention_heads * d, c.hidden_size, bias=False)
        self.core = EagerAttention()

    def forward(self, x, past, positions):
        b, s, _ = x.shape
        d = self.c.head_dim
        q = self.q_proj(x).view(b, s, -1, d).transpose(1, 2)
        k = self.k_proj(x).view(b, s, -1, d).transpose(1, 2)
        v = self.v_proj(x).view(b, s, -1, d).transpose(1, 2)
        q = rope(q, positions, self.c.rope_theta)
        k = rope(k, positions, self.c.rope_theta)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        out, probs = self.core(q, k, v)
        out = out.transpose(1, 2).reshape(b, s, -1)
        return self.o_proj(out), (k, v), probs


class Expert(nn.Module):
    """One SwiGLU MLP: down(silu(gate(h)) * up(h))."""

    def __init__(self, hidden, inner):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inner, bias=False)
        self.up_proj = nn.Linear(hidden, inner, bias=False)
        self.down_proj = nn.Linear(inner, hidden, bias=False)

    def forward(self, h):
        return self.down_proj(nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))


def route(logits, k):
    """Top-k routing: the k experts of highest router logit (ties: the lower id, as the
    capture counts them), weighted by the softmax over those k logits (Mixtral's rule).
    Returns (weights [tokens, k], expert ids [tokens, k])."""
    top, chosen = torch.sort(logits, dim=-1, descending=True, stable=True)
    return torch.softmax(top[:, :k], dim=-1), chosen[:, :k]


class MoE(nn.Module):
    """E experts and a router `gate` (Linear hidden -> E); each token goes to its top-k
    experts, each expert runs on the tokens routed to it only."""

    def __init__(self, c):
        super().__init__()
        self.top_k = c.num_experts_per_tok
        self.gate = nn.Linear(c.hidden_size, c.num_experts, bias=False)
        self.experts = nn.ModuleList(Expert(c.hidden_size, c.moe_intermediate_size) for _ in range(c.num_experts))

    def forward(self, x):
        flat = x.reshape(-1, x.shape[-1])
        weights, chosen = route(self.gate(flat), self.top_k)   # the router logits [tokens, E]
        out = torch.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            rows, slot = (chosen == e).nonzero(as_tuple=True)
            if rows.numel():
                out.index_add_(0, rows, expert(flat[rows]) * weights[rows, slot, None])
        return out.reshape(x.shape)


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        if c.num_experts:
            self.mlp = MoE(c)
        else:   # dense: created in this order, so the weights drawn from a seed never change
            self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
            self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
            self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x, past, positions):
        a, kv, probs = self.self_attn(self.input_layernorm(x), past, positions)
        x = x + a
        h = self.post_attention_layernorm(x)
        if hasattr(self, "mlp"):
            return x + self.mlp(h), kv, probs
        x = x + self.down_proj(nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, kv, probs


class TinyLlama(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        self.config = config or default_config()
        c = self.config
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        # Sharper than the default init, so attention is far from uniform and top-k matters.
        with torch.no_grad():
            for layer in self.layers:
                for p in (layer.self_attn.q_proj, layer.self_attn.k_proj):
                    p.weight.mul_(4.0)

    def forward(self, input_ids, past_key_values=None, use_cache=True, output_attentions=False,
                return_dict=True):
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        positions = torch.arange(past_len, past_len + input_ids.shape[1])
        x = self.embed_tokens(input_ids)
        cache, attentions = [], []
        for i, layer in enumerate(self.layers):
            x, kv, probs = layer(x, None if past_key_values is None else past_key_values[i], positions)
            cache.append(kv)
            attentions.append(probs)
        logits = self.lm_head(self.norm(x))
        return SimpleNamespace(logits=logits, past_key_values=tuple(cache) if use_cache else None,
                               attentions=tuple(attentions) if output_attentions else None)


def build(**overrides):
    """The CLI's factory (`--model kvtier_capture.tiny_llama:build`); random weights from the
    seed the CLI sets before calling it."""
    return TinyLlama(default_config(**overrides)).eval()


def build_moe(**overrides):
    """The MoE variant (`--model kvtier_capture.tiny_llama:build_moe`): 8 experts per layer,
    top-2 routing, the router `layers.N.mlp.gate`."""
    overrides.setdefault("num_experts", 8)
    return build(**overrides)
