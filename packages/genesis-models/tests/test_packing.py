"""Packed projections (genesis.models.packing): a decoding step (one position per row) runs
q/k/v and gate/up as one matmul over a shared buffer; the results must stay those of the
layers run one by one (autograd on: no packing) whatever happens to the weights between."""

from __future__ import annotations

import genesis
import genesis.models as gm
import numpy as np
from genesis.models.lora import LoraConfig, apply_lora, merge_lora

CONFIG = {"model_type": "qwen2", "vocab_size": 50, "hidden_size": 32,
          "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "tie_word_embeddings": False}


def logits(model, ids, packed: bool) -> np.ndarray:
    with genesis.set_grad_enabled(not packed):
        return model(ids).logits.detach().numpy()


def test_packed_inference_follows_every_change_of_the_weights():
    genesis.manual_seed(0)
    model = gm.Qwen2ForCausalLM(gm.ModelConfig.from_dict(CONFIG))  # q/k/v biases packed too
    ids = genesis.tensor(np.random.default_rng(0).integers(0, 50, (3, 1)))
    attn, mlp = model.model.layers[0].self_attn, model.model.layers[0].mlp
    q_weight, up_bias_free = attn.q_proj.weight, mlp.up_proj.weight
    np.testing.assert_allclose(logits(model, ids, True), logits(model, ids, False), atol=1e-5)
    assert attn.q_proj.weight is q_weight and mlp.up_proj.weight is up_bias_free
    assert attn.q_proj.weight.storage is attn.v_proj.weight.storage  # one buffer
    assert attn.k_proj.bias.storage is attn.q_proj.bias.storage
    longer = genesis.tensor(np.random.default_rng(2).integers(0, 50, (2, 6)))  # not packed
    np.testing.assert_allclose(logits(model, longer, True), logits(model, longer, False),
                               atol=1e-5)

    with genesis.no_grad():  # an optimizer-style in-place step reaches the buffer
        attn.k_proj.weight.add_(0.5)
        attn.v_proj.bias.mul_(3.0)
        mlp.up_proj.weight.sub_(0.25)
    np.testing.assert_allclose(logits(model, ids, True), logits(model, ids, False), atol=1e-5)

    model.to(genesis.float64)  # new storage for every weight: repacked
    assert attn.q_proj.weight.dtype == genesis.float64
    np.testing.assert_allclose(logits(model, ids, True), logits(model, ids, False), atol=1e-12)

    fresh = gm.Qwen2ForCausalLM(gm.ModelConfig.from_dict(CONFIG)).to(genesis.float64)
    model.load_state_dict(fresh.state_dict(), assign=True)
    np.testing.assert_allclose(logits(model, ids, True), logits(fresh, ids, False), atol=1e-12)


def test_lora_layers_run_unpacked_and_merge_back_into_the_buffer():
    genesis.manual_seed(1)
    model = gm.LlamaForCausalLM(gm.ModelConfig.from_dict({**CONFIG, "model_type": "llama"}))
    ids = genesis.tensor(np.random.default_rng(1).integers(0, 50, (2, 1)))
    logits(model, ids, True)  # packs
    apply_lora(model, LoraConfig(target_modules=["v_proj", "up_proj"], r=2))
    with genesis.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(genesis.randn(*p.shape) * 0.3)
    adapted = logits(model, ids, False)
    np.testing.assert_allclose(logits(model, ids, True), adapted, atol=1e-5)
    merge_lora(model)
    np.testing.assert_allclose(logits(model, ids, True), adapted, atol=1e-5)
    np.testing.assert_allclose(logits(model, ids, False), adapted, atol=1e-5)
