"""A model built from a config alone: its config defaults and its initial weights."""

from __future__ import annotations

import genesis.models as gm


def test_fresh_model_initialises_like_transformers():
    config = gm.ModelConfig.from_dict({"model_type": "llama", "vocab_size": 500,
                                       "hidden_size": 64, "intermediate_size": 128,
                                       "num_hidden_layers": 1, "num_attention_heads": 4,
                                       "initializer_range": 0.05})
    model = gm.LlamaForCausalLM(config)
    weights = model.model.layers[0].mlp.up_proj.weight.detach().numpy()
    assert abs(weights.std() - 0.05) < 0.005 and abs(weights.mean()) < 0.005
    assert (model.model.norm.weight.detach().numpy() == 1).all()
    assert config.num_key_value_heads == 4 and config.head_dim == 16
