"""Loading what the command line names: the model (a Hugging Face directory, or a Python
factory `module:function` / `file.py:function`) and the prompts file."""
import importlib
import importlib.util
import os
import re

import torch

from .capture import ModelInfo, Prompt
from .errors import CaptureError

_IDS = re.compile(r"^\s*\d+(?:[\s,]+\d+)*\s*$")


class Loaded:
    def __init__(self, model, tokenizer, name):
        self.model, self.tokenizer, self.name = model, tokenizer, name


def load_model(spec, dtype=None, device="cpu"):
    """A Hugging Face model directory (needs the transformers package; loaded with
    attn_implementation="eager" so that output_attentions returns the weights), or
    `module:function` / `path/file.py:function`, a function returning a model that follows
    the Hugging Face call convention (hooks.py) and has a Hugging Face-style `config`."""
    if os.path.isdir(spec):
        if not os.path.exists(os.path.join(spec, "config.json")):
            raise CaptureError(spec, "a folder without config.json is not a Hugging Face model")
        try:
            import transformers
        except ImportError:
            raise CaptureError(spec, "loading a Hugging Face model needs the transformers package, "
                                     "which is not installed (pip install transformers)") from None
        kwargs = {"attn_implementation": "eager"}
        if dtype:
            kwargs["torch_dtype"] = getattr(torch, dtype)
        model = transformers.AutoModelForCausalLM.from_pretrained(spec, **kwargs).to(device).eval()
        tokenizer = transformers.AutoTokenizer.from_pretrained(spec)
        return Loaded(model, tokenizer, os.path.basename(os.path.normpath(spec)))
    if ":" not in spec:
        raise CaptureError(f"--model {spec}", "neither a folder nor module:function (e.g. "
                                              "kvtier_capture.tiny_llama:build)")
    where, func = spec.rsplit(":", 1)
    try:
        if where.endswith(".py"):
            if not os.path.isfile(where):
                raise CaptureError(f"--model {spec}", f"no such file '{where}'")
            loader = importlib.util.spec_from_file_location("kvtier_capture_user_model", where)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except CaptureError:
        raise
    except Exception as e:
        raise CaptureError(f"--model {spec}", f"cannot import '{where}' ({type(e).__name__}: {e})") from None
    factory = getattr(module, func, None)
    if not callable(factory):
        raise CaptureError(f"--model {spec}", f"'{where}' has no function '{func}'")
    model = factory()
    if dtype:
        model = model.to(getattr(torch, dtype))
    return Loaded(model.to(device).eval(), None, spec)


def describe(loaded, spec, seed, hook):
    """The header from the model's Hugging Face-style config (num_hidden_layers,
    num_attention_heads, num_key_value_heads, head_dim or hidden_size; kv_lora_rank and
    qk_rope_head_dim for a latent cache) and its parameters."""
    c = getattr(loaded.model, "config", None)

    def field(*names):
        for n in names:
            v = getattr(c, n, None)
            if v is not None:
                return v
        return None

    layers, q_heads = field("num_hidden_layers", "n_layer"), field("num_attention_heads", "n_head")
    if c is None or layers is None or q_heads is None:
        raise CaptureError(f"--model {spec}", "the model has no config with num_hidden_layers and "
                                              "num_attention_heads (give it one; see capture/README.md)")
    kv_heads = field("num_key_value_heads") or q_heads
    head_dim = field("head_dim") or field("hidden_size") // q_heads
    params = list(loaded.model.parameters())
    floating = [p for p in params if p.is_floating_point()]
    dt = floating[0].dtype if floating else torch.float32
    name = field("name_or_path", "_name_or_path") or loaded.name
    # Multi-head latent attention (DeepSeek-V2/V3 configs) caches kv_lora_rank + qk_rope_head_dim.
    latent = (field("kv_lora_rank") or 0) + (field("qk_rope_head_dim") or 0) if field("kv_lora_rank") else 0
    return ModelInfo(kv_latent_dim=int(latent), name=str(name), spec=spec, layers=int(layers), q_heads=int(q_heads), kv_heads=int(kv_heads),
                     head_dim=int(head_dim), dtype=str(dt).replace("torch.", ""),
                     dtype_bytes=torch.tensor([], dtype=dt).element_size(),
                     weight_bytes=int(sum(p.numel() * p.element_size() for p in params)), seed=seed, hook=hook)


def read_prompts(path, tokenizer=None, vocab_size=None, max_prompts=None):
    """One prompt per line: token ids (integers separated by spaces or commas), or text for
    a model with a tokenizer. Blank lines are skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise CaptureError(path, "no such file") from None
    except IsADirectoryError:
        raise CaptureError(path, "is a directory") from None
    except UnicodeDecodeError:
        raise CaptureError(path, "not UTF-8 text") from None
    except OSError as e:
        raise CaptureError(path, e.strerror or str(e)) from None
    prompts = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{no}"
        if _IDS.match(line):
            ids = [int(x) for x in re.split(r"[\s,]+", line.strip())]
        elif tokenizer is None:
            raise CaptureError(where, "a text prompt needs a tokenizer (a Hugging Face model folder); "
                                      "for this model give token ids separated by spaces")
        else:
            ids = list(tokenizer(line)["input_ids"])
        if vocab_size is not None and any(i >= vocab_size for i in ids):
            bad = next(i for i in ids if i >= vocab_size)
            raise CaptureError(where, f"token id {bad} is outside the vocabulary (0 .. {vocab_size - 1})")
        prompts.append(Prompt(ids=ids, where=where))
        if max_prompts is not None and len(prompts) == max_prompts:
            break
    if not prompts:
        raise CaptureError(path, "no prompts (one per line: token ids or text)")
    return prompts
