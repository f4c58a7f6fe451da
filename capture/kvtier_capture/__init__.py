"""kvtier_capture: record decode attention from a PyTorch causal LM into a kvtier trace
database (capture/README.md). Entry points: the CLI (`python3 -m kvtier_capture`) and
capture.run() with a source from hooks.py."""
from .capture import ModelInfo, Prompt, Settings, run
from .errors import CaptureError

__all__ = ["CaptureError", "ModelInfo", "Prompt", "Settings", "run"]
