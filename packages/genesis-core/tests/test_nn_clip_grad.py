"""genesis.nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from genesis import nn


def _pairs(scale=1.0):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) * scale for s in [(3, 4), (5,), (2, 2, 2)]]
    gp, tp = [], []
    for gr in grads:
        g = nn.Parameter(genesis.zeros(*gr.shape, dtype=genesis.float64))
        g.grad = genesis.tensor(gr)
        t = torch.nn.Parameter(torch.zeros(*gr.shape, dtype=torch.float64))
        t.grad = torch.tensor(gr)
        gp.append(g)
        tp.append(t)
    return gp, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    gp, tp = _pairs()
    total_g = nn.utils.clip_grad_norm_(gp, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type)
    assert isinstance(total_g, genesis.Tensor) and total_g.ndim == 0
    np.testing.assert_allclose(total_g.item(), total_t.item(), rtol=1e-12)
    for g, t in zip(gp, tp):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_single_tensor_and_no_grads():
    p = nn.Parameter(genesis.zeros(2))
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == 0.0
    p.grad = genesis.tensor([3.0, 4.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(genesis.zeros(2))
    p.grad = genesis.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_([p], 1.0).item())


def test_clip_grad_value_matches_torch():
    gp, tp = _pairs(3.0)
    nn.utils.clip_grad_value_(gp, 1.5)
    torch.nn.utils.clip_grad_value_(tp, 1.5)
    for g, t in zip(gp, tp):
        np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())
    with pytest.raises(TypeError, match="clip_value='1'"):
        nn.utils.clip_grad_value_(gp, "1")


def test_clip_grad_norm_half_gradients_square_in_float32():
    """float16 gradients whose squares overflow float16 (norm 600 > sqrt(65504)): PyTorch
    accumulates the norm in float32, so the total is finite and the gradients are scaled."""
    values = np.full(4, 300.0, np.float16)
    p = nn.Parameter(genesis.zeros(4, dtype=genesis.float16))
    p.grad = genesis.tensor(values)
    t = torch.nn.Parameter(torch.zeros(4, dtype=torch.float16))
    t.grad = torch.tensor(values)
    total_g = nn.utils.clip_grad_norm_([p], 1.0)
    total_t = torch.nn.utils.clip_grad_norm_([t], 1.0)
    assert total_g.dtype == genesis.float16
    np.testing.assert_allclose(float(total_g.item()), float(total_t.item()), rtol=1e-3)
    np.testing.assert_allclose(p.grad.numpy().astype(np.float32),
                               t.grad.numpy().astype(np.float32), rtol=1e-3)


def test_clip_grad_norm_under_max_leaves_gradients_untouched():
    gp, tp = _pairs(1e-3)
    before = [g.grad.numpy().copy() for g in gp]
    total = nn.utils.clip_grad_norm_(gp, 10.0)
    np.testing.assert_allclose(total.item(), torch.nn.utils.clip_grad_norm_(tp, 10.0).item(),
                               rtol=1e-12)
    for g, b in zip(gp, before):
        np.testing.assert_array_equal(g.grad.numpy(), b)
