"""genesis.nn.init: distributions checked statistically (bounds, mean, std), gains and fans
against torch, reproducibility through genesis's generators."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from genesis import nn
from genesis.nn import init


def _values(t) -> np.ndarray:
    return t.detach().numpy().astype(np.float64).ravel()


@pytest.mark.parametrize("name,param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3, 3)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(genesis.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(genesis.empty(3))


def test_uniform_and_normal():
    v = _values(init.uniform_(genesis.empty(200, 100), -2, 3))
    assert v.min() >= -2 and v.max() < 3 and abs(v.mean() - 0.5) < 0.05
    v = _values(init.normal_(genesis.empty(200, 100), 1.0, 2.0))
    assert abs(v.mean() - 1.0) < 0.05 and abs(v.std() - 2.0) < 0.05


def test_constant_ones_zeros_eye():
    p = nn.Parameter(genesis.empty(3, 4))
    init.constant_(p, 0.5)
    assert (_values(p) == 0.5).all() and p.requires_grad and p.is_leaf
    assert (_values(init.ones_(genesis.empty(2))) == 1).all()
    assert (_values(init.zeros_(genesis.empty(2))) == 0).all()
    np.testing.assert_array_equal(init.eye_(genesis.empty(2, 3)).numpy(), np.eye(2, 3))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0.0), ("leaky_relu", math.sqrt(5))])
def test_kaiming(mode, nonlinearity, a):
    t = genesis.empty(400, 300)
    fan = 300 if mode == "fan_in" else 400
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    v = _values(init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity))
    bound = math.sqrt(3) * std
    assert v.min() >= -bound and v.max() <= bound and abs(v.std() - std) < 0.02 * std
    v = _values(init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity))
    assert abs(v.mean()) < 0.02 * std * 5 and abs(v.std() - std) < 0.02 * std
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(t, mode="fan_avg")


def test_xavier():
    t = genesis.empty(300, 200)
    std = 2.0 * math.sqrt(2 / 500)
    v = _values(init.xavier_uniform_(t, gain=2.0))
    assert v.max() <= math.sqrt(3) * std and abs(v.std() - std) < 0.02 * std
    v = _values(init.xavier_normal_(t, gain=2.0))
    assert abs(v.std() - std) < 0.02 * std


def test_trunc_normal():
    v = _values(init.trunc_normal_(genesis.empty(300, 200), mean=0.5, std=1.0, a=-1.0, b=1.5))
    assert v.min() >= -1.0 and v.max() <= 1.5
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 200, dtype=torch.float64), 0.5, 1.0, -1.0,
                                      1.5).numpy().ravel()
    assert abs(v.mean() - ref.mean()) < 0.02 and abs(v.std() - ref.std()) < 0.02


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (3, 2, 2)])
def test_orthogonal(shape):
    t = init.orthogonal_(genesis.empty(*shape), gain=2.0)
    m = t.numpy().reshape(shape[0], -1)
    gram = m @ m.T if shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


def test_init_is_reproducible_and_uses_generator():
    genesis.manual_seed(5)
    a = nn.Linear(4, 3)
    genesis.manual_seed(5)
    b = nn.Linear(4, 3)
    np.testing.assert_array_equal(a.weight.detach().numpy(), b.weight.detach().numpy())
    g1, g2 = genesis.Generator().manual_seed(9), genesis.Generator().manual_seed(9)
    np.testing.assert_array_equal(init.normal_(genesis.empty(5), generator=g1).numpy(),
                                  init.normal_(genesis.empty(5), generator=g2).numpy())


def test_linear_default_init_distribution():
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = _values(lin.weight), _values(lin.bias)
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 1e-3
    assert b.min() >= -bound and b.max() <= bound
    ln = nn.LayerNorm(5)
    assert (_values(ln.weight) == 1).all() and (_values(ln.bias) == 0).all()
    assert not nn.Linear(0, 3).weight.numel()
