"""A model converted with ``.to(genesis.bfloat16)`` or ``.half()`` trains: its optimizer keeps
its state in the parameter dtype, and the steps follow PyTorch's in the same dtype."""

from __future__ import annotations

import genesis
import genesis.optim
import numpy as np
import pytest
import torch

RNG = np.random.default_rng(0)
WEIGHTS = [RNG.standard_normal(s).astype(np.float32) * 0.3 for s in ((8, 4), (8,), (2, 8), (2,))]
X = RNG.standard_normal((32, 4)).astype(np.float32)
Y = RNG.standard_normal((32, 2)).astype(np.float32)


def model(lib, convert):
    net = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
    with lib.no_grad():
        for p, w in zip(net.parameters(), WEIGHTS):
            p.copy_(lib.tensor(w))
    return convert(net)


CONVERSIONS = {
    "bfloat16": lambda lib: (lambda net: net.to(lib.bfloat16)),
    "half": lambda lib: (lambda net: net.half()),
}
OPTIMIZERS = {
    "SGD": lambda lib, ps: lib.optim.SGD(ps, lr=0.05, momentum=0.9),
    "AdamW": lambda lib, ps: lib.optim.AdamW(ps, lr=0.01, eps=1e-3),
    "RMSprop": lambda lib, ps: lib.optim.RMSprop(ps, lr=0.01, eps=1e-3),
}


def train(lib, conversion, optimizer, steps):
    net = model(lib, CONVERSIONS[conversion](lib))
    opt = OPTIMIZERS[optimizer](lib, list(net.parameters()))
    x = lib.tensor(X).to(next(net.parameters()).dtype)
    y = lib.tensor(Y).to(x.dtype)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.float().item())
    states = sorted({str(v.dtype).rpartition(".")[2] for s in opt.state.values()
                     for k, v in s.items() if k != "step" and hasattr(v, "dtype")})
    return net, losses, states


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("conversion", sorted(CONVERSIONS))
def test_converted_model_trains_like_torch(conversion, optimizer):
    g_net, g_losses, g_states = train(genesis, conversion, optimizer, steps=25)
    t_net, t_losses, t_states = train(torch, conversion, optimizer, steps=25)
    dtype = "bfloat16" if conversion == "bfloat16" else "float16"
    assert all(p.dtype.name == dtype for p in g_net.parameters())
    assert g_states == t_states == [dtype]
    assert g_losses[-1] < 0.8 * g_losses[0]
    np.testing.assert_allclose(g_losses[:3], t_losses[:3], rtol=2e-2)
    np.testing.assert_allclose(g_losses, t_losses, rtol=0.1, atol=0.02)
