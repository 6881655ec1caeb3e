"""LLM inference: genesis.models vs transformers on the same random Llama checkpoint, float32.

The model (hidden 256, 4 layers, 4 heads / 2 KV heads, vocab 2048) is built by
transformers, saved, and loaded by both libraries. Rows: greedy decoding of 64 new tokens
from a 16-token prompt at batch 1 (tokens/s, both with their KV cache), and the prefill of
4 x 256 tokens (one forward pass). Calls alternate and medians are taken; the generated
tokens are checked equal first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import genesis
import genesis.models
import numpy as np
import torch
import transformers

sys.path.insert(0, str(Path(__file__).parent))
from _harness import median_pair, print_table  # noqa: E402

CONFIG = dict(vocab_size=2048, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(0)
    reference = transformers.AutoModelForCausalLM.from_config(
        transformers.LlamaConfig(**CONFIG)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        reference.save_pretrained(tmp)
        model = genesis.models.AutoModelForCausalLM.from_pretrained(tmp)
    rng = np.random.default_rng(0)
    prompt = rng.integers(0, CONFIG["vocab_size"], (1, 16))
    batch = rng.integers(0, CONFIG["vocab_size"], (4, 256))
    g_prompt, t_prompt = genesis.tensor(prompt), torch.tensor(prompt)
    g_batch, t_batch = genesis.tensor(batch), torch.tensor(batch)
    new = args.new_tokens

    def genesis_decode():
        return model.generate(g_prompt, max_new_tokens=new, eos_token_id=[])

    def torch_decode():
        with torch.no_grad():
            return reference.generate(t_prompt, max_new_tokens=new, min_new_tokens=new,
                                      do_sample=False, pad_token_id=0)

    def genesis_prefill():
        with genesis.no_grad():
            return model(g_batch).logits

    def torch_prefill():
        with torch.no_grad():
            return reference(t_batch).logits

    assert np.array_equal(genesis_decode().numpy(), torch_decode().numpy())
    g_decode, t_decode = median_pair(genesis_decode, torch_decode, rounds=args.rounds)
    g_prefill, t_prefill = median_pair(genesis_prefill, torch_prefill, rounds=args.rounds)
    print_table(
        "LLM inference, Llama hidden 256 x 4 layers, float32 (genesis.models vs transformers)",
        [
            (f"greedy decode {new} tokens, batch 1", new / g_decode, new / t_decode, "tok/s"),
            ("prefill 4 x 256 tokens", g_prefill, t_prefill, "s"),
        ],
    )


if __name__ == "__main__":
    main()
