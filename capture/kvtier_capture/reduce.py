"""From one decode step's attention probabilities to a trace record: head reduction, layer
aggregation and select-at-source (MODEL.md sections 1 and 2)."""
import math

import numpy as np
import torch

HEAD_REDUCTIONS = ("mean", "max", "kv-group")


def reduce_heads(probs, n_t, reduction, kv_heads):
    """probs [q_heads, n_t + 1]: the decode query's attention over the n_t tokens it reads and
    its own new token (last). Returns float32 [G, n_t]: G = 1 for `mean` and `max` over all
    query heads; G = kv_heads for `kv-group`, each row the mean over the query heads that
    share one KV head (Hugging Face's repeat_kv order: KV head j serves query heads
    j*g .. j*g+g-1). The new token's own weight is not part of the record: its KV is written
    at this step, not read (MODEL.md section 1)."""
    p = probs[:, :n_t].to(torch.float32)
    if reduction == "mean":
        return p.mean(dim=0, keepdim=True)
    if reduction == "max":
        return p.amax(dim=0, keepdim=True)
    q_heads = p.shape[0]
    if kv_heads < 1 or q_heads % kv_heads:
        raise ValueError(f"{q_heads} query heads do not split into {kv_heads} KV head groups")
    return p.reshape(kv_heads, q_heads // kv_heads, n_t).mean(dim=1)


def scores_of(groups):
    """One relevance vector per record: the groups' maximum (a token is needed by the layer
    when any KV head's group attends to it); for G = 1 the row itself."""
    return groups.amax(dim=0) if groups.shape[0] > 1 else groups[0]


class Selector:
    """Select-at-source, exactly as MODEL.md section 2 derives selections from scores:
    `topk K` (min(K, n) highest), `ratio rho` (ceil(rho n - 1e-9) highest), `mass tau`
    (fewest highest reaching tau * sum * (1 - 1e-12)); score descending, ties by lower index.
    With several KV head groups each group selects, and the record is their union."""

    def __init__(self, mode, value):
        self.mode, self.value = mode, value

    def select_row(self, row):
        n = row.shape[0]
        if self.mode == "topk":
            k = min(int(self.value), n)
        elif self.mode == "ratio":
            k = min(max(math.ceil(self.value * n - 1e-9), 0), n)
        else:
            k = None
        # A stable descending sort keeps equal scores in index order: lower index first.
        values, order = torch.sort(row, descending=True, stable=True)
        if k is None:   # mass: sequential double sums, as the core adds them
            v = row.to(torch.float64).numpy()
            total = float(np.add.accumulate(v)[-1]) if n else 0.0
            target = self.value * total * (1 - 1e-12)
            if target <= 0:
                return np.empty(0, dtype=np.int64)
            acc = np.add.accumulate(values.to(torch.float64).numpy())
            k = min(int(np.searchsorted(acc, target, side="left")) + 1, n)
        return np.sort(order[:k].numpy())

    def select(self, groups):
        picked = [self.select_row(g) for g in groups]
        return picked[0] if len(picked) == 1 else np.unique(np.concatenate(picked))
