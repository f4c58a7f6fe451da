"""A stand-in for a Hugging Face causal LM loaded with attn_implementation="eager", shaped by
transformers' documented interface (transformers cannot be installed here):

- `config` as a PretrainedConfig carries it: `_name_or_path`, `num_hidden_layers`,
  `num_attention_heads`, `num_key_value_heads`, `hidden_size`, `vocab_size`, and no
  `head_dim` (many configs leave it out; it is hidden_size / num_attention_heads);
- `forward(input_ids, past_key_values=None, use_cache=True, output_attentions=False,
  return_dict=True)` returning a CausalLMOutputWithPast: `logits` [batch, seq, vocab],
  `past_key_values` (a Cache object, here one that is not a tuple: the capture must pass it
  back untouched), `attentions` (one [batch, heads, q_len, kv_len] tensor per layer, None
  unless output_attentions=True).

The weights are tiny_llama's, so results can be compared with the plain model; build_moe is
the MoE variant, its config declaring `num_experts` and `num_experts_per_tok`."""
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import nn

from kvtier_capture import tiny_llama


class PretrainedConfigStandIn:
    def __init__(self, c):
        self._name_or_path = "stand-in/Llama-tiny"
        self.num_hidden_layers = c.num_hidden_layers
        self.num_attention_heads = c.num_attention_heads
        self.num_key_value_heads = c.num_key_value_heads
        self.hidden_size = c.hidden_size
        self.vocab_size = c.vocab_size
        if c.num_experts:   # as Qwen2-MoE's config: E and the top-k
            self.num_experts = c.num_experts
            self.num_experts_per_tok = c.num_experts_per_tok


class DynamicCacheStandIn:
    """Holds per-layer K and V like transformers' DynamicCache; not a tuple."""

    def __init__(self, layers):
        self.layers = layers

    def get_seq_length(self):
        return self.layers[0][0].shape[2]


@dataclass
class CausalLMOutputWithPast:
    logits: torch.Tensor
    past_key_values: Optional[DynamicCacheStandIn] = None
    hidden_states: Optional[Tuple[torch.Tensor, ...]] = None
    attentions: Optional[Tuple[torch.Tensor, ...]] = None


class LlamaForCausalLMStandIn(nn.Module):
    def __init__(self, **overrides):
        super().__init__()
        self.inner = tiny_llama.build(**overrides)   # its routers: inner.layers.N.mlp.gate
        self.config = PretrainedConfigStandIn(self.inner.config)

    def forward(self, input_ids, past_key_values=None, use_cache=True, output_attentions=False, return_dict=True):
        past = None if past_key_values is None else tuple(past_key_values.layers)
        out = self.inner(input_ids=input_ids, past_key_values=past, use_cache=use_cache,
                         output_attentions=output_attentions)
        return CausalLMOutputWithPast(logits=out.logits, past_key_values=DynamicCacheStandIn(list(out.past_key_values)),
                                      attentions=out.attentions)


def build():
    return LlamaForCausalLMStandIn().eval()


def build_moe():
    return LlamaForCausalLMStandIn(num_experts=8).eval()
