"""LLM inference rows of the GPU benchmark: genesis.models against transformers on CUDA.

The same random Llama checkpoint (``bench_llm.models``: built by transformers, saved, loaded
by genesis.models with ``device="cuda"``), and transformers' model moved to CUDA. float32 on
both sides (IEEE matmuls): bfloat16 rounding would let greedy decoding pick different tokens
wherever the two best logits are within a rounding error, so the ids could not be checked.
Rows: greedy decoding (batch 1, both with their KV cache; ids checked equal) and a prefill
forward pass (logits checked), both as tokens/s.
"""

from __future__ import annotations

import genesis
import numpy as np
import torch
from _gpu_bench import Bench

CONFIG = dict(vocab_size=32000, hidden_size=1024, intermediate_size=2816, num_hidden_layers=8,
              num_attention_heads=16, num_key_value_heads=4, max_position_embeddings=1024)
SMOKE = dict(CONFIG, vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
             num_attention_heads=4, num_key_value_heads=2)
LOGITS_TOL = 1e-3


def bench_llm(b: Bench) -> None:
    # imported here: a host without genesis-models or transformers fails this group alone
    from bench_llm import models

    config = SMOKE if b.smoke else CONFIG
    model, reference = models(config, device="cuda")
    reference = reference.to(b.torch_device)
    shape = (f"Llama hidden {config['hidden_size']} x {config['num_hidden_layers']} layers, "
             f"vocab {config['vocab_size']}, float32")
    decode(b, model, reference, config["vocab_size"], 8 if b.smoke else 16,
           4 if b.smoke else 64, shape)
    prefill(b, model, reference, config["vocab_size"], (2, 8) if b.smoke else (4, 256), shape)


def decode(b: Bench, model, reference, vocab: int, prompt_len: int, new: int,
           shape: str) -> None:
    prompt = np.random.default_rng(0).integers(0, vocab, (1, prompt_len))
    g_prompt = genesis.tensor(prompt, device="cuda")
    t_prompt = torch.tensor(prompt, device=b.torch_device)

    def g_generate():
        return model.generate(g_prompt, max_new_tokens=new, eos_token_id=[])

    def t_generate():
        with torch.no_grad():
            return reference.generate(t_prompt, max_new_tokens=new, min_new_tokens=new,
                                      do_sample=False, pad_token_id=0)

    b.check_equal("decode token ids", g_generate().numpy().tolist(),
                  t_generate().cpu().tolist())
    b.row("llm", f"greedy decode, {new} new tokens after {prompt_len}, batch 1", g_generate,
          t_generate, 1, work=new, unit="tokens/s", rounds=3,
          note=f"{shape}; transformers generate with its KV cache")


def prefill(b: Bench, model, reference, vocab: int, shape_ids: tuple[int, int],
            shape: str) -> None:
    ids = np.random.default_rng(1).integers(0, vocab, shape_ids)
    g_ids, t_ids = genesis.tensor(ids, device="cuda"), torch.tensor(ids, device=b.torch_device)

    def g_forward():
        with genesis.no_grad():
            return model(g_ids).logits

    def t_forward():
        with torch.no_grad():
            return reference(t_ids).logits

    b.check("prefill logits", g_forward(), t_forward(), LOGITS_TOL)
    batch, length = shape_ids
    b.row("llm", f"prefill {batch} x {length} tokens", g_forward, t_forward,
          1 if b.smoke else 3, work=batch * length, unit="tokens/s",
          note=f"{shape}; one forward pass, all logits")
