"""Loading: the Hugging Face stand-in through the CLI, the header from a config, prompts."""
import contextlib
import io
import json
import os

import support
from support import TempDirTest, read_db
from kvtier_capture import CaptureError, cli, models


class HuggingFaceStandInTest(TempDirTest):
    def test_stand_in_captures_what_the_plain_model_does(self):
        prompts = self.path("p.txt")
        with open(prompts, "w") as f:
            f.write("3 14 15 92 65 35 89 79 32 38 46 26\n")
        spec = os.path.join(support.HERE, "hf_standin.py") + ":build"
        with contextlib.redirect_stdout(io.StringIO()):
            for model, out in ((spec, "hf.kvtr"), ("kvtier_capture.tiny_llama:build", "plain.kvtr")):
                code = cli.main(["--model", model, "--prompts", prompts, "--out", self.path(out), "--steps", "7",
                                 "--encoding", "f32", "--quiet", "--head-reduction", "kv-group"])
                self.assertEqual(code, 0)
        hf, plain = read_db(self.path("hf.kvtr"))["capture"], read_db(self.path("plain.kvtr"))["capture"]
        self.assertEqual(hf[1], plain[1])   # the same bytes: same weights, same attention
        self.assertEqual(hf[0]["model_name"], "stand-in/Llama-tiny")
        header = json.loads(hf[0]["notes"])
        self.assertEqual((header["model"]["head_dim"], header["model"]["kv_heads"], header["q_heads"]), (8, 2, 4))

    def test_moe_stand_in_records_the_plain_models_experts(self):
        # The routers are found under the stand-in's prefix (inner.layers.N.mlp.gate) from
        # its config's num_experts and num_experts_per_tok: the same rows as the plain model.
        prompts = self.path("p.txt")
        with open(prompts, "w") as f:
            f.write("3 14 15 92 65 35 89 79 32 38 46 26\n27 18 28\n")
        spec = os.path.join(support.HERE, "hf_standin.py") + ":build_moe"
        with contextlib.redirect_stdout(io.StringIO()):
            for model, out in ((spec, "hf.kvtr"), ("kvtier_capture.tiny_llama:build_moe", "plain.kvtr")):
                code = cli.main(["--model", model, "--prompts", prompts, "--out", self.path(out), "--steps", "5",
                                 "--quiet", "--as-batch"])
                self.assertEqual(code, 0)
        hf, plain = support.read_full(self.path("hf.kvtr"))["capture"], support.read_full(self.path("plain.kvtr"))["capture"]
        self.assertEqual((hf["experts"], len(hf["expert_sets"]), hf["sequences"]), (8, 5 * 3, [(0, 12), (1, 3)]))
        self.assertEqual((hf["records"], hf["expert_sets"]), (plain["records"], plain["expert_sets"]))
        self.assertEqual(json.loads(hf["meta"]["notes"])["model"]["expert_bytes"], 3 * 32 * 32 * 4)

    def test_describe_defaults(self):
        class Config:   # multi-head attention, no head_dim, no num_key_value_heads
            num_hidden_layers, num_attention_heads, hidden_size = 2, 4, 64
            _name_or_path = "mha"

        class Model(support.torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = support.torch.nn.Linear(64, 64, bias=False).to(support.torch.float16)
                self.config = Config()

        info = models.describe(models.Loaded(Model(), None, "x"), "spec", 3, "hf")
        self.assertEqual((info.layers, info.q_heads, info.kv_heads, info.head_dim, info.dtype, info.dtype_bytes,
                          info.weight_bytes, info.name), (2, 4, 4, 16, "float16", 2, 64 * 64 * 2, "mha"))
        self.assertEqual(info.scenario_model(), {"name": "mha", "layers": 2, "kv_heads": 4, "head_dim": 16,
                                                 "dtype_bytes": 2, "weight_bytes": 64 * 64 * 2})
        Config.kv_lora_rank, Config.qk_rope_head_dim = 512, 64   # DeepSeek-V3's latent cache
        info = models.describe(models.Loaded(Model(), None, "x"), "spec", 3, "hf")
        self.assertEqual(info.scenario_model(), {"name": "mha", "layers": 2, "kv_latent_dim": 576, "dtype_bytes": 2,
                                                 "weight_bytes": 64 * 64 * 2})
        with self.assertRaisesRegex(CaptureError, "no config with num_hidden_layers"):
            models.describe(models.Loaded(support.torch.nn.Linear(2, 2), None, "x"), "spec", 0, "hf")


class PromptsTest(TempDirTest):
    def write(self, text):
        p = self.path("p.txt")
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        return p

    def test_ids_text_and_limits(self):
        p = self.write("1 2 3\n\n  4,5 ,6  \n7\n")
        got = models.read_prompts(p)
        self.assertEqual([(x.ids, x.where) for x in got], [([1, 2, 3], f"{p}:1"), ([4, 5, 6], f"{p}:3"), ([7], f"{p}:4")])
        self.assertEqual(len(models.read_prompts(p, max_prompts=2)), 2)

        class Tokenizer:
            def __call__(self, text):
                return {"input_ids": [len(w) for w in text.split()]}
        self.assertEqual(models.read_prompts(self.write("hello big world\n"), Tokenizer())[0].ids, [5, 3, 5])
        with self.assertRaisesRegex(CaptureError, r":1: a text prompt needs a tokenizer"):
            models.read_prompts(self.write("hello\n"))
        with self.assertRaisesRegex(CaptureError, "no prompts"):
            models.read_prompts(self.write("\n \n"))
        with open(self.path("bin.txt"), "wb") as f:
            f.write(b"\xff\xfe1 2\n")
        with self.assertRaisesRegex(CaptureError, "not UTF-8 text"):
            models.read_prompts(self.path("bin.txt"))
