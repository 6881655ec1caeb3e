"""genesis.models.lora against a float64 numpy reference of the LoRA formula and against peft
itself (same weights in a PyTorch copy of the model, adapters saved by one and loaded by the
other)."""

from __future__ import annotations

import json
import math

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
import numpy as np
import peft
import pytest
import torch
from genesis.models.lora import (
    LoraConfig,
    LoraLinear,
    apply_lora,
    load_lora,
    lora_state_dict,
    merge_lora,
    save_lora,
)

D, HIDDEN, N_LAYERS = 12, 20, 2


def arr(t) -> np.ndarray:
    """A Genesis or PyTorch tensor as a numpy array."""
    return t.detach().numpy()


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q_proj = nn.Linear(D, D)
        self.k_proj = nn.Linear(D, D, bias=False)
        self.v_proj = nn.Linear(D, D, bias=False)
        self.up_proj = nn.Linear(D, HIDDEN)
        self.down_proj = nn.Linear(HIDDEN, D)
        self.norm = nn.LayerNorm(D)

    def forward(self, x):
        x = x + self.q_proj(x) * F.sigmoid(self.k_proj(x)) + self.v_proj(x)
        return self.norm(x + self.down_proj(F.silu(self.up_proj(x))))


class Toy(nn.Module):
    """Llama-style layer names, so target_modules reads as it does on a real model."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([Block() for _ in range(N_LAYERS)])
        self.lm_head = nn.Linear(D, 5)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(x)


def randomize_adapters(model: nn.Module, rng: np.random.Generator) -> None:
    """Give lora_B non-zero values (a fresh one is zero, which would hide half the formula)."""
    with genesis.no_grad():
        for module in model.modules():
            if isinstance(module, LoraLinear):
                shape = tuple(module.lora_B.weight.shape)
                module.lora_B.weight.copy_(genesis.tensor(rng.normal(0, 0.2, shape),
                                                          dtype=genesis.float32))


def reference_lora_linear(layer: LoraLinear, x: np.ndarray) -> np.ndarray:
    """``x W^T + b + scaling (x A^T) B^T`` in float64."""
    w = arr(layer.base_layer.weight).astype(np.float64)
    a = arr(layer.lora_A.weight).astype(np.float64)
    b = arr(layer.lora_B.weight).astype(np.float64)
    y = x @ w.T + (x @ a.T) @ b.T * layer.scaling
    if layer.base_layer.bias is not None:
        y = y + arr(layer.base_layer.bias)
    return y


def test_only_named_linears_are_wrapped_and_only_adapters_train():
    model = Toy()
    before = {k: arr(v).copy() for k, v in model.state_dict().items()}
    config = LoraConfig(target_modules=["q_proj", "v_proj"], r=4, lora_alpha=8)
    assert apply_lora(model, config) is model
    wrapped = sorted(name for name, m in model.named_modules() if isinstance(m, LoraLinear))
    assert wrapped == [f"layers.{i}.{p}" for i in range(N_LAYERS) for p in ("q_proj", "v_proj")]
    trainable = sorted(name for name, p in model.named_parameters() if p.requires_grad)
    assert trainable == sorted(f"{w}.lora_{ab}.weight" for w in wrapped for ab in "AB")
    q = model.layers[0].q_proj
    assert q.weight is q.base_layer.weight and q.bias is q.base_layer.bias
    assert (q.in_features, q.out_features) == (D, D)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == (
        len(wrapped) * config.r * (D + D))
    for key, value in before.items():  # the base weights are untouched, under a new path
        now = model.state_dict()[key.replace("q_proj.", "q_proj.base_layer.")
                                  .replace("v_proj.", "v_proj.base_layer.")]
        np.testing.assert_array_equal(arr(now), value)


def test_regex_target_modules_match_the_full_name():
    model = apply_lora(Toy(), LoraConfig(target_modules=r"layers\.1\.(up|down)_proj", r=2))
    wrapped = sorted(name for name, m in model.named_modules() if isinstance(m, LoraLinear))
    assert wrapped == ["layers.1.down_proj", "layers.1.up_proj"]


def test_fresh_adapters_change_nothing_and_a_starts_kaiming_uniform():
    genesis.manual_seed(3)
    model = Toy()
    x = genesis.randn(3, 7, D)
    base_out = arr(model(x))
    apply_lora(model, LoraConfig(target_modules=["up_proj", "down_proj"], r=16))
    np.testing.assert_array_equal(arr(model(x)), base_out)  # B = 0
    a = np.concatenate([arr(m.lora_A.weight).ravel() for m in model.modules()
                        if isinstance(m, LoraLinear) and m.base_layer.in_features == D])
    bound = 1 / math.sqrt(D)  # kaiming_uniform_(a=sqrt(5)) on fan_in = D
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
    assert abs(a.std() - bound / math.sqrt(3)) < 0.1 * bound
    b = [arr(m.lora_B.weight) for m in model.modules() if isinstance(m, LoraLinear)]
    assert all((w == 0).all() for w in b)


@pytest.mark.parametrize("use_rslora", [False, True])
def test_forward_and_gradients_equal_a_float64_reference(use_rslora):
    rng = np.random.default_rng(0)
    config = LoraConfig(target_modules=["q_proj"], r=3, lora_alpha=5, use_rslora=use_rslora)
    layer = apply_lora(Toy(), config).layers[0].q_proj
    assert layer.scaling == (5 / math.sqrt(3) if use_rslora else 5 / 3)
    randomize_adapters(layer, rng)
    x = rng.normal(size=(4, 6, D))
    weights = rng.normal(size=(4, 6, D))  # loss = sum(y * weights): dL/dy = weights
    y = layer(genesis.tensor(x, dtype=genesis.float32))
    np.testing.assert_allclose(arr(y), reference_lora_linear(layer, x), rtol=1e-5, atol=1e-5)
    (y * genesis.tensor(weights, dtype=genesis.float32)).sum().backward()
    a = arr(layer.lora_A.weight).astype(np.float64)
    b = arr(layer.lora_B.weight).astype(np.float64)
    g, xs = weights.reshape(-1, D), x.reshape(-1, D)
    np.testing.assert_allclose(arr(layer.lora_B.weight.grad),
                               layer.scaling * g.T @ (xs @ a.T), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(arr(layer.lora_A.weight.grad),
                               layer.scaling * (g @ b).T @ xs, rtol=1e-4, atol=1e-4)
    assert layer.base_layer.weight.grad is None and layer.base_layer.bias.grad is None


def test_dropout_applies_to_the_adapter_input_only_while_training():
    config = LoraConfig(target_modules=["q_proj"], r=D, lora_alpha=D, lora_dropout=0.5)
    layer = apply_lora(Toy(), config).layers[0].q_proj
    with genesis.no_grad():  # A = B = identity: the update is exactly dropout(x)
        layer.lora_A.weight.copy_(genesis.eye(D))
        layer.lora_B.weight.copy_(genesis.eye(D))
    x = genesis.randn(64, D)
    base = arr(layer.base_layer(x))
    update = arr(layer(x)) - base
    kept = np.isclose(update, 2 * arr(x), atol=1e-5)
    dropped = np.isclose(update, 0, atol=1e-5)
    assert (kept | dropped).all() and 0.35 < kept.mean() < 0.65
    layer.eval()
    np.testing.assert_allclose(arr(layer(x)) - base, arr(x), atol=1e-5)


def test_merge_gives_plain_linears_computing_the_adapted_function():
    rng = np.random.default_rng(1)
    model = apply_lora(Toy(), LoraConfig(target_modules=["q_proj", "k_proj", "down_proj"],
                                         r=4, lora_alpha=16, lora_dropout=0.1))
    randomize_adapters(model, rng)
    model.eval()
    x = genesis.tensor(rng.normal(size=(2, 5, D)), dtype=genesis.float32)
    adapted = arr(model(x))
    expected = {}
    for name, m in model.named_modules():
        if isinstance(m, LoraLinear):
            w = arr(m.base_layer.weight).astype(np.float64)
            delta = arr(m.lora_B.weight).astype(np.float64) @ arr(m.lora_A.weight)
            expected[name] = w + m.scaling * delta
    assert merge_lora(model) is model
    assert not any(isinstance(m, LoraLinear) for m in model.modules())
    assert sorted(model.state_dict()) == sorted(Toy().state_dict())
    for name, w in expected.items():
        assert type(model.get_submodule(name)) is nn.Linear
        np.testing.assert_allclose(arr(model.get_submodule(name).weight), w, atol=1e-6)
    np.testing.assert_allclose(arr(model(x)), adapted, rtol=1e-5, atol=1e-5)


def test_save_and_load_only_the_adapters(tmp_path):
    rng = np.random.default_rng(2)
    genesis.manual_seed(7)
    base = Toy()
    base_state = base.state_dict()
    config = LoraConfig(target_modules=["v_proj", "lm_head"], r=2, lora_alpha=4)
    tuned = apply_lora(base, config)
    randomize_adapters(tuned, rng)
    save_lora(tuned, tmp_path)
    saved = genesis.load(tmp_path / "adapter_model.safetensors")
    assert sorted(saved) == sorted("base_model.model." + k for k in lora_state_dict(tuned))
    assert json.loads((tmp_path / "adapter_config.json").read_text())["r"] == 2

    fresh = Toy()
    fresh.load_state_dict(base_state)
    load_lora(fresh, tmp_path)
    x = genesis.randn(3, D)
    np.testing.assert_array_equal(arr(fresh(x)), arr(tuned(x)))

    other = apply_lora(Toy(), LoraConfig(target_modules=["v_proj"], r=2))
    with pytest.raises(ValueError, match="missing \\[\\], unexpected \\['lm_head"):
        load_lora(other, tmp_path)
    with pytest.raises(FileNotFoundError, match="has no adapter_config.json"):
        load_lora(Toy(), tmp_path / "nowhere")


def test_a_tiny_fine_tune_learns_while_the_base_stays_fixed():
    """Plain SGD on the adapters of a frozen model fits a target the base model misses."""
    rng = np.random.default_rng(3)
    teacher = Toy()
    model = Toy()
    frozen = {k: arr(v).copy() for k, v in model.state_dict().items()}
    apply_lora(model, LoraConfig(target_modules=["q_proj", "v_proj", "up_proj", "down_proj"],
                                 r=4, lora_alpha=8))
    x = genesis.tensor(rng.normal(size=(32, D)), dtype=genesis.float32)
    target = teacher(x).detach()
    losses = []
    params = [p for p in model.parameters() if p.requires_grad]
    for _ in range(60):
        loss = F.mse_loss(model(x), target)
        for p in params:
            p.grad = None
        loss.backward()
        with genesis.no_grad():
            for p in params:
                p.sub_(0.5 * p.grad)
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    merge_lora(model)
    merged_loss = F.mse_loss(model(x), target).item()
    assert merged_loss < 0.5 * losses[0]
    changed = [k for k, v in model.state_dict().items() if not np.array_equal(arr(v), frozen[k])]
    assert sorted(changed) == sorted(f"layers.{i}.{p}.weight" for i in range(N_LAYERS)
                                     for p in ("q_proj", "v_proj", "up_proj", "down_proj"))


def test_bad_configs_name_the_argument():
    with pytest.raises(ValueError, match="r=0"):
        LoraConfig(target_modules=["q_proj"], r=0)
    with pytest.raises(ValueError, match="lora_dropout=1.0"):
        LoraConfig(target_modules=["q_proj"], lora_dropout=1.0)
    with pytest.raises(ValueError, match="target_modules=\\[\\]"):
        LoraConfig(target_modules=[])
    with pytest.raises(ValueError, match="matches no layer; the model's Linear layers are"):
        apply_lora(Toy(), LoraConfig(target_modules=["qkv"]))
    with pytest.raises(TypeError, match="'layers.0.norm' .* is a LayerNorm"):
        apply_lora(Toy(), LoraConfig(target_modules=["norm"]))
    tied = Toy()
    tied.layers[1].v_proj.weight = tied.layers[0].v_proj.weight
    with pytest.raises(ValueError, match="'layers.0.v_proj' shares its weight with "
                                         "\\['layers.1.v_proj.weight'\\]"):
        apply_lora(tied, LoraConfig(target_modules=["layers.0.v_proj"]))
    twice = apply_lora(Toy(), LoraConfig(target_modules=["q_proj"]))
    with pytest.raises(TypeError, match="is a LoraLinear"):
        apply_lora(twice, LoraConfig(target_modules=["q_proj"]))
    with pytest.raises(ValueError, match="no LoRA adapters"):
        merge_lora(Toy())


# ---- against peft ---------------------------------------------------------------------------

def torch_copy(state: dict[str, np.ndarray]):
    """The network of Toy in PyTorch, holding the weights ``state``."""
    tnn = torch.nn

    class TBlock(tnn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj = tnn.Linear(D, D)
            self.k_proj = tnn.Linear(D, D, bias=False)
            self.v_proj = tnn.Linear(D, D, bias=False)
            self.up_proj = tnn.Linear(D, HIDDEN)
            self.down_proj = tnn.Linear(HIDDEN, D)
            self.norm = tnn.LayerNorm(D)

        def forward(self, x):
            x = x + self.q_proj(x) * torch.sigmoid(self.k_proj(x)) + self.v_proj(x)
            return self.norm(x + self.down_proj(torch.nn.functional.silu(self.up_proj(x))))

    class TToy(tnn.Module):
        def __init__(self):
            super().__init__()
            self.layers = tnn.ModuleList([TBlock() for _ in range(N_LAYERS)])
            self.lm_head = tnn.Linear(D, 5)

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.lm_head(x)

    out = TToy()
    out.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return out


def test_adapters_round_trip_with_peft(tmp_path):
    rng = np.random.default_rng(4)
    genesis.manual_seed(11)
    base = Toy()
    base_state = {k: arr(v).copy() for k, v in base.state_dict().items()}
    x = rng.normal(size=(3, 4, D)).astype(np.float32)
    targets = ["q_proj", "v_proj", "down_proj"]

    # peft's adapters (with non-zero B) -> load_lora: same outputs
    peft_model = peft.get_peft_model(torch_copy(base_state), peft.LoraConfig(
        target_modules=targets, r=4, lora_alpha=12, lora_dropout=0.0, use_rslora=True))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.from_numpy(rng.normal(0, 0.2, tuple(param.shape))))
    peft_model.save_pretrained(tmp_path / "from_peft")
    ours = load_lora(base, tmp_path / "from_peft")
    assert all(isinstance(ours.get_submodule(f"layers.{i}.{t}"), LoraLinear)
               for i in range(N_LAYERS) for t in targets)
    peft_model.eval()
    with torch.no_grad():
        want = arr(peft_model(torch.from_numpy(x)))
    np.testing.assert_allclose(arr(ours(genesis.tensor(x))), want, rtol=1e-5, atol=1e-5)

    # our adapters -> peft: same outputs; merged weights equal peft's merge_and_unload
    randomize_adapters(ours, rng)
    save_lora(ours, tmp_path / "from_genesis")
    reloaded = peft.PeftModel.from_pretrained(torch_copy(base_state), tmp_path / "from_genesis")
    reloaded.eval()
    with torch.no_grad():
        want = arr(reloaded(torch.from_numpy(x)))
    np.testing.assert_allclose(arr(ours(genesis.tensor(x))), want, rtol=1e-5, atol=1e-5)
    merged_peft = reloaded.merge_and_unload().state_dict()
    merge_lora(ours)
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(arr(value), arr(merged_peft[key]), rtol=1e-6, atol=1e-6)


def test_save_pretrained_refuses_adapters_and_saves_the_merged_model(tmp_path):
    """A base-model checkpoint cannot hold adapters (their ``base_layer`` names load nowhere):
    save_pretrained says to merge first; after merge_lora transformers loads the fine-tuned
    weights and computes the adapted logits."""
    import genesis.models as gm
    import transformers

    rng = np.random.default_rng(5)
    config = gm.ModelConfig.from_dict({"model_type": "llama", "vocab_size": 40,
                                       "hidden_size": 16, "intermediate_size": 32,
                                       "num_hidden_layers": 1, "num_attention_heads": 2,
                                       "tie_word_embeddings": False})
    model = apply_lora(gm.LlamaForCausalLM(config), LoraConfig(target_modules=["q_proj",
                                                                                 "v_proj"]))
    randomize_adapters(model, rng)
    with pytest.raises(ValueError, match="LoRA adapters on 2 layers .*merge_lora\\(model\\) "
                                         "first.*save_lora"):
        model.save_pretrained(tmp_path)
    assert not any(tmp_path.iterdir())

    ids = rng.integers(0, 40, size=(1, 7))
    adapted = arr(model(genesis.tensor(ids)).logits)
    merge_lora(model).save_pretrained(tmp_path)
    loaded = transformers.LlamaForCausalLM.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        want = loaded(torch.from_numpy(ids)).logits.numpy()
    np.testing.assert_allclose(want, adapted, rtol=1e-4, atol=1e-5)
