"""The examples' models train on "cuda" (the interpreter here, a GPU where present) and agree
with the CPU backend: loss, gradients and one SGD-momentum step of Example 1's MLP and of
Example 2's transformer (tiny configurations), same weights, same batch. (SGD, because
Adam's first step divides by |g| and so magnifies rounding in near-zero gradients; the
fused AdamW kernel has its own tests.)"""

import copy
import importlib.util
import sys
from pathlib import Path

import genesis
import genesis.nn.functional as F
import genesis.optim as optim
import numpy as np
import pytest

EXAMPLES = Path(__file__).parents[3] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def train_step(model, x, y, flatten: bool):
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    logits = model(x)
    if flatten:
        logits, y = logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    genesis.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    grads = [p.grad.numpy() for p in model.parameters()]
    opt.step()
    return loss.item(), grads, [p.detach().numpy() for p in model.parameters()]


def compare(cpu_model, x, y, flatten):
    cpu_model.eval()  # no dropout: the two devices draw different random streams
    cuda_model = copy.deepcopy(cpu_model).to("cuda")
    loss_c, grads_c, params_c = train_step(cpu_model, x, y, flatten)
    loss_g, grads_g, params_g = train_step(cuda_model, x.to("cuda"), y.to("cuda"), flatten)
    assert loss_g == pytest.approx(loss_c, rel=1e-5)
    for a, b in zip(grads_g, grads_c):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(params_g, params_c):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert all(p.device.type == "cuda" for p in cuda_model.parameters())


def test_digits_mlp_trains_on_cuda_like_on_cpu():
    genesis.manual_seed(0)
    model = load("train_digits").build_model()
    rng = np.random.default_rng(0)
    x = genesis.tensor(rng.random((6, 64)).astype(np.float32))
    y = genesis.tensor(rng.integers(0, 10, 6))
    compare(model, x, y, flatten=False)


def test_char_transformer_trains_on_cuda_like_on_cpu():
    genesis.manual_seed(0)
    model = load("train_charlm").CharTransformer(vocab=12, block=8, d_model=16, n_heads=2,
                                                 n_layers=1, dropout=0.0)
    rng = np.random.default_rng(1)
    x = genesis.tensor(rng.integers(0, 12, (2, 8)))
    y = genesis.tensor(rng.integers(0, 12, (2, 8)))
    compare(model, x, y, flatten=True)
