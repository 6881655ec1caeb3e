"""LLM inference: genesis.models against transformers on the same random Llama checkpoint.

The model (hidden 256, 4 layers, 4 heads / 2 KV heads, vocab 2048, intermediate 688,
float32) is built by transformers, saved, and loaded by both libraries. Rows: greedy
decoding of 64 new tokens from a 16-token prompt at batch 1 (both with their KV cache; the
generated ids are checked equal) and the prefill of 4 x 256 tokens (one forward pass,
logits compared). The decode row's time per call is the whole generation, so its ratio is
the inverse of the tokens/s ratio.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import genesis
import genesis.models
import numpy as np
import torch
import transformers
from _harness import Case, Contest

TITLE = "LLM inference (genesis.models vs transformers)"
CONFIG = dict(vocab_size=2048, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024)
SMOKE = dict(CONFIG, hidden_size=32, intermediate_size=64, num_hidden_layers=1, vocab_size=64)


def models(config: dict, device: str | None = None):
    """(genesis model on ``device``, transformers model) holding the same random weights."""
    torch.manual_seed(0)
    reference = transformers.AutoModelForCausalLM.from_config(
        transformers.LlamaConfig(**config)).eval()
    folder = Path(tempfile.mkdtemp(prefix="genesis-bench-llm-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    reference.save_pretrained(folder)
    return genesis.models.AutoModelForCausalLM.from_pretrained(folder, device=device), reference


def decode(config: dict, new_tokens: int) -> Contest:
    model, reference = models(config)
    prompt = np.random.default_rng(0).integers(0, config["vocab_size"], (1, 16))
    g_prompt, t_prompt = genesis.tensor(prompt), torch.tensor(prompt)

    def torch_generate():
        with torch.no_grad():
            return reference.generate(t_prompt, max_new_tokens=new_tokens,
                                      min_new_tokens=new_tokens, do_sample=False,
                                      pad_token_id=0)

    return Contest(genesis=lambda: model.generate(g_prompt, max_new_tokens=new_tokens,
                                                  eos_token_id=[]),
                   torch={"": torch_generate}, tol=0.0)


def prefill(config: dict, batch: int, length: int) -> Contest:
    model, reference = models(config)
    ids = np.random.default_rng(1).integers(0, config["vocab_size"], (batch, length))
    g_ids, t_ids = genesis.tensor(ids), torch.tensor(ids)

    def genesis_forward():
        with genesis.no_grad():
            return model(g_ids).logits

    def torch_forward():
        with torch.no_grad():
            return reference(t_ids).logits

    return Contest(genesis=genesis_forward, torch={"": torch_forward})


def cases(smoke: bool) -> list[Case]:
    config = SMOKE if smoke else CONFIG
    return [
        Case("LLM greedy decode, 64 new tokens, batch 1", lambda: decode(config, 64), 1.0,
             "Llama hidden 256 x 4 layers, float32; transformers generate with its cache"),
        Case("LLM prefill, 4 x 256 tokens", lambda: prefill(config, 4, 16 if smoke else 256),
             1.2, "same model; one forward pass, all logits"),
    ]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
