"""python3 -m kvtier_capture --model SPEC --prompts FILE --out DB [options]

Exit status: 0 done, 1 failed (one line on stderr), 2 bad command line, 130 interrupted
(the committed steps are kept: the same command resumes)."""
import argparse
import dataclasses
import json
import os
import sys

from . import blob_codec, capture, hooks, models, reduce, router, trace_db
from .errors import CaptureError
from .progress import Progress

PROG = "kvtier-capture"


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, not argparse's usage block
        sys.stderr.write(f"{PROG}: {message} (see --help)\n")
        sys.exit(2)


def parser():
    p = _Parser(prog="python3 -m kvtier_capture", description=(
        "Record the decode attention of a PyTorch causal LM into a kvtier trace database "
        "(capture/README.md)."))
    p.add_argument("--model", required=True, metavar="SPEC",
                   help="a Hugging Face model folder (needs transformers), or module:function / file.py:function "
                        "returning a model (e.g. kvtier_capture.tiny_llama:build)")
    p.add_argument("--prompts", required=True, metavar="FILE",
                   help="one prompt per line: token ids separated by spaces, or text (Hugging Face models)")
    p.add_argument("--out", required=True, metavar="DB", help="the kvtier database to write (created or added to)")
    p.add_argument("--steps", type=int, default=32, metavar="T", help="decode steps per prompt (default 32)")
    p.add_argument("--as-batch", action="store_true",
                   help="all prompts as the S sequences of one trace, decoded in lock step (each its own forward "
                        "and KV cache, so attention is exact); default: one trace per prompt")
    p.add_argument("--name", default="capture",
                   help="trace name (several prompts without --as-batch: NAME-1, NAME-2, ...; default capture)")
    p.add_argument("--description", default="", help="one line shown in trace lists")
    p.add_argument("--layer-mode", choices=["per-layer", "aggregated"], default="per-layer",
                   help="one record per layer, or one per step averaged over layers (default per-layer)")
    p.add_argument("--head-reduction", choices=list(reduce.HEAD_REDUCTIONS), default="mean",
                   help="mean or max over query heads, or kv-group: mean within each KV head's group of query "
                        "heads, then the groups' max (selections: the union of each group's) (default mean)")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--topk", type=int, metavar="K", help="record selections: the K highest scores")
    sel.add_argument("--ratio", type=float, metavar="RHO", help="record selections: ceil(RHO * n_t) highest")
    sel.add_argument("--mass", type=float, metavar="TAU", help="record selections: fewest highest reaching TAU of the mass")
    p.add_argument("--encoding", choices=list(blob_codec.SCORE_ENCODINGS), default="sparse_f16",
                   help="score encoding without --topk/--ratio/--mass (default sparse_f16)")
    p.add_argument("--selection-encoding", choices=list(blob_codec.SELECTION_ENCODINGS), default="index_u32",
                   help="selection encoding with --topk/--ratio/--mass: index_u32 (default), index_varint (delta + "
                        "varint per record) or index_step_delta (each step as the change from the step before, a "
                        "key record at least every --key-interval steps)")
    p.add_argument("--key-interval", type=int, default=blob_codec.DEFAULT_KEY_INTERVAL, metavar="K",
                   help=f"index_step_delta: a key record at least every K steps, 1 .. {blob_codec.MAX_KEY_INTERVAL} "
                        f"(default {blob_codec.DEFAULT_KEY_INTERVAL})")
    p.add_argument("--hook", choices=["hf", "qk"], default="hf",
                   help="hf: the model returns attention weights (output_attentions=True, eager attention); "
                        "qk: compute softmax(q K^T / sqrt(d)) in hooks on --qk-modules (default hf)")
    p.add_argument("--qk-modules", metavar="REGEX",
                   help="with --hook qk: full dotted names of the modules called as (q, k, ...) once per layer, "
                        r"e.g. 'layers\.\d+\.self_attn\.core'")
    p.add_argument("--router-modules", metavar="REGEX",
                   help="record MoE routed experts: full dotted names of the router modules, one per layer, whose "
                        r"output is the router logits [tokens, E], e.g. 'model\.layers\.\d+\.mlp\.gate' "
                        "(default for a model whose config declares experts: " + router.DEFAULT_PATTERN + ")")
    p.add_argument("--router-top-k", type=int, metavar="K",
                   help="experts per token: the K highest router logits (default: the config's num_experts_per_tok)")
    p.add_argument("--no-experts", action="store_true", help="record no expert sets, even for an MoE model")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed before the model is built (default 0)")
    p.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], help="cast the model to this dtype")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--max-prompts", type=int, metavar="N", help="only the first N prompts")
    p.add_argument("--commit-every", type=int, default=16, metavar="N",
                   help="commit every N decode steps; an interrupted capture resumes from the last commit (default 16)")
    p.add_argument("--scenario-out", metavar="FILE",
                   help="also write a scenario (*.kvtier.json) naming the first trace and the model's sizes")
    p.add_argument("--replace", action="store_true", help="overwrite traces of the same name in DB")
    p.add_argument("--restart", action="store_true", help="discard an interrupted capture's work file (DB.kvtier-capture)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def settings_of(a):
    select, value = "full", 0.0
    for mode in ("topk", "ratio", "mass"):
        if getattr(a, mode) is not None:
            select, value = mode, float(getattr(a, mode))
    return capture.Settings(steps=a.steps, layer_mode=a.layer_mode, head_reduction=a.head_reduction,
                            select=select, select_value=value, encoding=a.encoding,
                            selection_encoding=a.selection_encoding, key_interval=a.key_interval, name=a.name,
                            description=a.description, as_batch=a.as_batch, commit_every=a.commit_every)


def write_scenario(path, out, name, info, s):
    folder = os.path.dirname(os.path.abspath(path))
    selection = {"mode": "dense"} if s.select != "full" else {"mode": "ratio", "value": 0.2}
    scenario = {"comment": f"written by kvtier-capture for {info.name}", "trace": {
        "db": os.path.relpath(os.path.abspath(out), folder), "name": name},
        "model": info.scenario_model(), "hardware": "gh200-hbm3", "selection": selection, "batch": 1,
        "policies": "all"}
    tmp = path + ".kvtier-capture-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(scenario, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def router_of(a, model, info):
    """The router hook: on --router-modules, or on the default pattern when the model's
    config declares experts (router.DEFAULT_PATTERN); None for a dense model or --no-experts."""
    if a.no_experts:
        for option, given in (("--router-modules", a.router_modules), ("--router-top-k", a.router_top_k)):
            if given is not None:
                raise CaptureError(option, "not with --no-experts")
        return None
    if a.router_modules is not None:
        return router.RouterHook(model, a.router_modules, a.router_top_k, info.layers)
    declared = router.config_experts(model)
    if declared:
        return router.RouterHook(model, router.DEFAULT_PATTERN, a.router_top_k, info.layers,
                                 option=f"the model declares E = {declared} experts, but the router pattern")
    if a.router_top_k is not None:
        raise CaptureError("--router-top-k", "only for an MoE model (its config declares experts, or give "
                                             "--router-modules REGEX)")
    return None


def main(argv=None):
    a = parser().parse_args(argv)
    s = settings_of(a)
    progress = None
    try:
        capture.check_settings(s)
        if a.hook == "qk" and not a.qk_modules:
            raise CaptureError("--hook qk", "needs --qk-modules REGEX")
        if a.qk_modules and a.hook != "qk":
            raise CaptureError("--qk-modules", "only with --hook qk")
        if a.max_prompts is not None and a.max_prompts < 1:
            raise CaptureError("--max-prompts", f"{a.max_prompts} must be at least 1")
        capture.check_out(a.out)
        if not os.path.exists(a.prompts):
            raise CaptureError(a.prompts, "no such file")
        if a.scenario_out and not os.path.isdir(os.path.dirname(os.path.abspath(a.scenario_out))):
            raise CaptureError(a.scenario_out, "folder does not exist")
        import torch
        torch.manual_seed(a.seed)
        loaded = models.load_model(a.model, a.dtype, a.device)
        info = models.describe(loaded, a.model, a.seed, a.hook)
        if s.head_reduction == "kv-group" and info.q_heads % info.kv_heads:
            raise CaptureError("--head-reduction kv-group", f"{info.q_heads} query heads do not split into "
                                                            f"{info.kv_heads} KV head groups")
        routers = router_of(a, loaded.model, info)
        if routers:
            info = dataclasses.replace(info, experts=routers.experts, experts_per_token=routers.top_k,
                                       expert_bytes=routers.expert_bytes, router=routers.pattern)
        vocab = getattr(getattr(loaded.model, "config", None), "vocab_size", None)
        prompts = models.read_prompts(a.prompts, loaded.tokenizer, vocab, a.max_prompts)
        source = hooks.QKSource(loaded.model, a.qk_modules) if a.hook == "qk" else hooks.HFAttentionSource(loaded.model)
        progress = Progress(s.steps * len(prompts), quiet=a.quiet)
        names = capture.run(source, prompts, a.out, s, info, progress, restart=a.restart, replace=a.replace,
                            router=routers)
        if a.scenario_out:
            write_scenario(a.scenario_out, a.out, names[0], info, s)
        kind = "scores" if s.select == "full" else "selection"
        experts = f", experts E={info.experts} top-{info.experts_per_token}" if info.experts else ""
        if s.as_batch:
            print(f"{a.out}: trace '{names[0]}' (S={len(prompts)} P_s={','.join(str(len(p.ids)) for p in prompts)} "
                  f"T={s.steps} L={info.layers}, {s.layer_mode}, {kind}{experts})")
        for n, prompt in zip([] if s.as_batch else names, prompts):
            print(f"{a.out}: trace '{n}' (P={len(prompt.ids)} T={s.steps} L={info.layers}, {s.layer_mode}, "
                  f"{kind}{experts})")
        return 0
    except CaptureError as e:
        if progress:
            progress.end_line()
        sys.stderr.write(f"{PROG}: {e}\n")
        return 1
    except KeyboardInterrupt:
        # On a terminal a new line first: after the echoed ^C, or the bar.
        sys.stderr.write(f"{chr(10) if sys.stderr.isatty() else ''}{PROG}: interrupted; the committed steps are kept in {a.out}{trace_db.WORK_SUFFIX}: "
                         "run the same command again to resume\n")
        return 130
