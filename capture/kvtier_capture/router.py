"""MoE routed experts (MODEL.md section 9): forward hooks on the router modules, one per
layer, that read a decode step's router logits [tokens, E] and keep the ids of the K experts
the token was routed to.

A router here is a module whose output is the router logits of the tokens it was called on,
a tensor [tokens, E] (Mixtral's `block_sparse_moe.gate`, Qwen-MoE's `mlp.gate`,
tiny_llama's `layers.N.mlp.gate`: a Linear hidden -> E). At a decode step the capture runs
one token per forward, so a router gives [1, E]; its experts are the K of highest logit
(ties: the lower id), the top-k routing of those models (a softmax does not change the
order). Routers that route otherwise (DeepSeek-V3's grouped routing with bias terms, a
router returning a tuple) are not reproduced: pass --no-experts for them."""
import functools
import re

import torch

from .errors import CaptureError

# Hugging Face config fields that give E, and the top-k.
EXPERT_FIELDS = ("num_experts", "num_local_experts", "n_routed_experts")
TOP_K_FIELD = "num_experts_per_tok"
# The routers of tiny_llama, Mixtral and Qwen-MoE, under any prefix (`model.`, ...).
DEFAULT_PATTERN = r"(?:.*\.)?layers\.\d+\.(?:mlp|block_sparse_moe)\.gate"
# Experts per layer that kvtier stores (core/model/experts.hpp kMaxExperts).
MAX_EXPERTS = 4096


def config_experts(model):
    """E from the model's Hugging Face-style config, 0 when it declares none."""
    c = getattr(model, "config", None)
    for field in EXPERT_FIELDS:
        v = getattr(c, field, None)
        if isinstance(v, int) and v > 0:
            return v
    return 0


def top_k_ids(logits, k):
    """The k ids of highest logit, ties by lower id, ascending: a stable descending sort."""
    order = torch.sort(logits, descending=True, stable=True).indices
    return sorted(int(e) for e in order[:k])


class RouterHook:
    """Forward hooks on the modules whose full dotted names match `pattern`, one per layer
    in the model's module order. Between start() and stop() each must be called exactly
    once (one decode step of one sequence); stop() returns the layers' expert id lists."""

    def __init__(self, model, pattern, top_k, layers, option="--router-modules"):
        try:
            rx = re.compile(pattern)
        except re.error as e:
            raise CaptureError(f"{option} '{pattern}'", f"not a regular expression ({e})") from None
        self.root, self.pattern = model, pattern
        where = f"{option} '{pattern}'"
        self.modules = [(n, m) for n, m in model.named_modules() if n and rx.fullmatch(n)]
        if not self.modules:
            raise CaptureError(where, "matches no module of the model (give the routers' full dotted names, "
                                      r"e.g. --router-modules 'layers\.\d+\.mlp\.gate', or --no-experts)")
        if len(self.modules) != layers:
            raise CaptureError(where, f"matches {len(self.modules)} modules ({self.modules[0][0]}, ...), but the model "
                                      f"has {layers} layers: give one router per layer")
        self.experts = self._experts(model, where)
        if self.experts > MAX_EXPERTS:
            raise CaptureError(where, f"E = {self.experts} experts per layer exceed kvtier's limit of {MAX_EXPERTS}")
        if top_k is None:
            top_k = getattr(getattr(model, "config", None), TOP_K_FIELD, None)
            if not isinstance(top_k, int):
                raise CaptureError(where, f"needs --router-top-k K (the model's config has no {TOP_K_FIELD})")
            option_k = f"the config's {TOP_K_FIELD}"
        else:
            option_k = "--router-top-k"
        if not 1 <= top_k <= self.experts:
            raise CaptureError(option_k, f"{top_k} must be in 1 .. E = {self.experts}")
        self.top_k = top_k
        self.expert_bytes = self._expert_bytes()
        self.active = False
        self.sets = []
        self.handles = [m.register_forward_hook(functools.partial(self._hook, i)) for i, (_, m) in
                        enumerate(self.modules)]

    def _experts(self, model, where):
        outs = {m.out_features for _, m in self.modules if isinstance(m, torch.nn.Linear)}
        if len(outs) == 1 and all(isinstance(m, torch.nn.Linear) for _, m in self.modules):
            return outs.pop()
        if len(outs) > 1:
            raise CaptureError(where, f"the routers give different expert counts ({', '.join(map(str, sorted(outs)))})")
        e = config_experts(model)
        if not e:
            raise CaptureError(where, "cannot tell the number of experts E: the modules are not torch.nn.Linear "
                                      f"and the model's config has none of {', '.join(EXPERT_FIELDS)}")
        return e

    def _expert_bytes(self):
        """The bytes of one expert's weights when the router's parent holds the experts as
        `experts` (a ModuleList of E, or fused [E, ...] tensors): their bytes / E; else 0."""
        model_bytes = set()
        for name, _ in self.modules:
            parent = self._parent(name)
            experts = getattr(parent, "experts", None)
            if not isinstance(experts, torch.nn.Module):
                return 0
            total = sum(p.numel() * p.element_size() for p in experts.parameters())
            if total == 0 or total % self.experts:
                return 0
            model_bytes.add(total // self.experts)
        return model_bytes.pop() if len(model_bytes) == 1 else 0

    def _parent(self, name):
        parent = self.root
        for part in name.split(".")[:-1]:
            parent = getattr(parent, part)
        return parent

    def _hook(self, i, module, args, output):
        if not self.active:
            return
        name = self.modules[i][0]
        if self.sets[i] is not None:
            raise CaptureError(f"router '{name}'", "called twice in one decode step (give one router per layer)")
        if not isinstance(output, torch.Tensor):
            raise CaptureError(f"router '{name}'", f"returned a {type(output).__name__}, expected the router logits "
                                                   f"[tokens, E = {self.experts}] as one tensor")
        if output.dim() != 2 or output.shape[0] != 1 or output.shape[1] != self.experts:
            raise CaptureError(f"router '{name}'", f"output of shape {tuple(output.shape)} at a decode step, expected "
                                                   f"the router logits [1 token, E = {self.experts}]")
        self.sets[i] = top_k_ids(output[0].detach().to(torch.float64), self.top_k)   # exact for every dtype

    def start(self):
        self.sets = [None] * len(self.modules)
        self.active = True

    def stop(self):
        """The experts of each layer for the step that ran since start()."""
        self.active = False
        missing = [self.modules[i][0] for i, x in enumerate(self.sets) if x is None]
        if missing:
            raise CaptureError(f"router '{missing[0]}'", f"not called in a decode step ({len(missing)} of "
                                                         f"{len(self.modules)} routers were not)")
        return self.sets

    def close(self):
        for h in self.handles:
            h.remove()
