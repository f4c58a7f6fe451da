"""The tiny model, slowed down per forward call, so that a test can kill a capture while
it runs (test_cli.KillTest). Same weights as kvtier_capture.tiny_llama:build (build_moe: :build_moe)."""
import time

from kvtier_capture import tiny_llama


class Slow(tiny_llama.TinyLlama):
    def forward(self, *args, **kwargs):
        time.sleep(0.02)
        return super().forward(*args, **kwargs)


def build():
    return Slow(tiny_llama.default_config()).eval()


def build_moe():
    return Slow(tiny_llama.default_config(num_experts=8)).eval()
