"""Tiny random transformers models, built and saved at test time (nothing is downloaded)."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
import transformers

VOCAB = 96
SMALL = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2)

#: name -> (transformers config class, its extra arguments)
VARIANTS = {
    "llama": ("LlamaConfig", {}),
    "llama_tied_bias": ("LlamaConfig", dict(tie_word_embeddings=True, attention_bias=True,
                                             mlp_bias=True)),
    "llama_linear": ("LlamaConfig", dict(rope_scaling={"rope_type": "linear", "factor": 2.0})),
    "llama_dynamic": ("LlamaConfig", dict(max_position_embeddings=8, rope_scaling={
        "rope_type": "dynamic", "factor": 2.0})),
    "llama3": ("LlamaConfig", dict(max_position_embeddings=64, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16})),
    "llama_yarn": ("LlamaConfig", dict(max_position_embeddings=64, rope_scaling={
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16})),
    "mistral_window": ("MistralConfig", dict(sliding_window=4)),
    "qwen2": ("Qwen2Config", {}),
    "qwen2_window": ("Qwen2Config", dict(use_sliding_window=True, sliding_window=4,
                                         max_window_layers=1)),
    "qwen3": ("Qwen3Config", dict(head_dim=24)),
    "mixtral": ("MixtralConfig", dict(num_local_experts=4, num_experts_per_tok=2)),
    "qwen2_moe": ("Qwen2MoeConfig", dict(num_experts=4, num_experts_per_tok=2,
                                         moe_intermediate_size=32,
                                         shared_expert_intermediate_size=48,
                                         decoder_sparse_step=1, mlp_only_layers=[1])),
}


def hf_model(name: str):
    """A seeded random transformers model of the variant ``name`` (float32, eval mode)."""
    class_name, extra = VARIANTS[name]
    config = getattr(transformers, class_name)(**SMALL, **extra)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config).eval()
    with torch.no_grad():  # the default init (std 0.02) makes near-uniform logits: widen it
        for param in model.parameters():
            param.mul_(10.0 if param.ndim > 1 else 1.0).add_(
                torch.randn_like(param) * (0.0 if param.ndim > 1 else 0.1))
    return model


@pytest.fixture(scope="session")
def saved(tmp_path_factory):
    """``saved(name, shard=False)`` -> (directory, transformers model), built once each."""
    built = {}

    def get(name: str, shard: bool = False):
        if (name, shard) not in built:
            model = hf_model(name)
            directory = tmp_path_factory.mktemp(name + ("_sharded" if shard else ""))
            model.save_pretrained(directory, max_shard_size="40KB" if shard else "5GB")
            built[name, shard] = (directory, model)
        return built[name, shard]

    return get


def token_ids(batch: int, length: int, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(3, VOCAB, (batch, length))


def to_numpy(t) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, genesis.Tensor) else t.detach().cpu().numpy()
