"""kvtier_capture: record decode attention from a PyTorch causal LM into a kvtier trace
database (capture/README.md). Entry points: the CLI (`python3 -m kvtier_capture`) and
capture.run() with a source from hooks.py."""
from .errors import CaptureError

__all__ = ["CaptureError", "ModelInfo", "Prompt", "Settings", "run"]


def __getattr__(name):
    # Imported on first use, so that `python3 -m kvtier_capture` without PyTorch can say so
    # in one line (__main__.py) instead of failing in this file's imports.
    if name in ("ModelInfo", "Prompt", "Settings", "run"):
        from . import capture
        return getattr(capture, name)
    raise AttributeError(f"module 'kvtier_capture' has no attribute '{name}'")
