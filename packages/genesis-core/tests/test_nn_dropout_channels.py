"""Channel dropout (dropout1d/2d/3d), alpha dropout and feature alpha dropout: whole channels
zeroed, exact scaling and affine form, drop rates and SELU moments checked statistically,
gradients through the same mask, reproducibility, and PyTorch's errors and warnings."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from genesis import nn
from torch_compare import assert_raises_like_torch

F = genesis.nn.functional
ALPHA = 1.7580993408473766


def _binomial_ok(dropped: int, total: int, p: float) -> bool:
    """``dropped`` of ``total`` Bernoulli(p) draws lies within 5 standard deviations."""
    return abs(dropped - total * p) <= 5 * math.sqrt(total * p * (1 - p)) + 1


CHANNEL = [  # (function, module, shape, channel axes: dims that index one channel)
    ("dropout1d", "Dropout1d", (40, 30, 3), 2),
    ("dropout1d", "Dropout1d", (300, 4), 1),         # unbatched (C, L)
    ("dropout2d", "Dropout2d", (30, 40, 2, 3), 2),
    ("dropout3d", "Dropout3d", (20, 30, 2, 1, 2), 2),
    ("dropout3d", "Dropout3d", (400, 2, 2, 1), 1),   # unbatched (C, D, H, W)
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.2, 0.7])
@pytest.mark.parametrize("case", range(len(CHANNEL)))
def test_channel_dropout_zeroes_whole_channels_with_exact_scaling(case, p, dtype):
    fn, _, shape, lead = CHANNEL[case]
    genesis.manual_seed(case)
    x = genesis.tensor(np.random.default_rng(case).uniform(0.5, 2.0, shape).astype(dtype),
                       requires_grad=True)
    y = getattr(F, fn)(x, p)
    y.sum().backward()
    xs, ys, gs = (a.reshape(math.prod(shape[:lead]), -1)
                  for a in (x.detach().numpy(), y.detach().numpy(), x.grad.numpy()))
    scale = np.asarray(1.0 / (1.0 - p), dtype=dtype)
    dropped = (ys == 0).all(axis=1)
    kept = ~dropped
    np.testing.assert_array_equal(ys[kept], xs[kept] * scale)   # bit-exact, as torch
    assert ((ys == 0) == dropped[:, None]).all()                 # all or nothing per channel
    want_grad = np.where(kept[:, None], scale, 0).astype(dtype)
    np.testing.assert_array_equal(gs, np.broadcast_to(want_grad, gs.shape))
    assert _binomial_ok(int(dropped.sum()), len(dropped), p), (dropped.mean(), p)


@pytest.mark.parametrize("case", range(len(CHANNEL)))
def test_channel_dropout_modules_eval_p0_p1_and_repr_like_torch(case):
    fn, cls, shape, _ = CHANNEL[case]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    g, t = getattr(nn, cls)(0.3), getattr(torch.nn, cls)(0.3)
    assert repr(g) == repr(t)
    xg = genesis.tensor(x)
    assert g.eval()(xg).numpy().tolist() == x.tolist()
    assert getattr(F, fn)(xg, 0.0).numpy().tolist() == x.tolist()
    assert getattr(F, fn)(xg, 0.5, training=False).numpy().tolist() == x.tolist()
    zeros = getattr(F, fn)(xg, 1.0)
    np.testing.assert_array_equal(zeros.numpy(), getattr(torch.nn.functional, fn)(
        torch.tensor(x), 1.0).numpy())


def test_channel_dropout_is_reproducible_under_manual_seed():
    x = genesis.ones(8, 16, 3, 3)
    genesis.manual_seed(5)
    a = F.dropout2d(x).numpy()
    genesis.manual_seed(5)
    b = F.dropout2d(x).numpy()
    c = F.dropout2d(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_channel_dropout_inplace_modifies_input_and_keeps_gradient():
    genesis.manual_seed(2)
    leaf = genesis.ones(10, 12, 4, requires_grad=True)
    x = leaf * 2.0
    y = nn.Dropout1d(0.5, inplace=True)(x)
    assert y is x
    y.sum().backward()
    kept = x.detach().numpy()[..., 0] != 0
    np.testing.assert_array_equal(leaf.grad.numpy(), np.repeat(
        np.where(kept, 4.0, 0.0)[..., None], 4, axis=2).astype(np.float32))


def test_dropout2d_on_3d_input_drops_dim1_channels_and_warns_like_torch():
    x = np.ones((50, 20, 6), np.float32)
    for lib in (genesis, torch):
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            y = lib.nn.functional.dropout2d(lib.tensor(x), 0.5).numpy()
        assert ((y == 0).all(axis=2) | (y != 0).all(axis=2)).all()
        assert _binomial_ok(int((y[..., 0] == 0).sum()), 1000, 0.5)


@pytest.mark.parametrize("fn, shape", [
    ("dropout2d", (3, 4, 2, 2, 2)), ("dropout2d", (6, 5)), ("dropout3d", (3, 4, 2)),
    ("dropout3d", (2, 3, 2, 2, 2, 2))])
def test_other_ranks_warn_as_deprecated_like_torch(fn, shape):
    x = np.ones(shape, np.float32)
    for lib in (genesis, torch):
        with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to {fn}"):
            y = getattr(lib.nn.functional, fn)(lib.tensor(x), 0.0)
        assert tuple(y.shape) == shape


ERRORS = [
    (lambda lib: lib.nn.functional.dropout1d(lib.ones(2, 3, 4, 5)), "Expected 2D or 3D input"),
    (lambda lib: lib.nn.functional.dropout1d(lib.ones(4)), "Expected 2D or 3D input"),
    (lambda lib: lib.nn.functional.dropout1d(lib.ones(2, 3), 1.5), "between 0 and 1"),
    (lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 4, 4), -0.1), "between 0 and 1"),
    (lambda lib: lib.nn.functional.alpha_dropout(lib.ones(2, 3), 2.0), "between 0 and 1"),
    (lambda lib: lib.nn.functional.feature_alpha_dropout(lib.ones(4), 0.5, True),
     "Feature dropout requires at least 2 dimensions"),
    (lambda lib: lib.nn.Dropout2d(1.1), "between 0 and 1"),
    (lambda lib: lib.nn.AlphaDropout(-1), "between 0 and 1"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_like_torch(i):
    call, match = ERRORS[i]
    assert_raises_like_torch(call, match)


def _alpha_constants(p: float) -> tuple:
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1.0) * (1.0 - p))
    return a, ALPHA * a * p, -ALPHA * a + ALPHA * a * p  # scale, shift, dropped value


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_exact_affine_form_and_gradient(p):
    genesis.manual_seed(3)
    x = genesis.randn(300, 200, dtype=genesis.float64, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    y.sum().backward()
    a, b, dropped_value = _alpha_constants(p)
    xs, ys, gs = x.detach().numpy(), y.detach().numpy(), x.grad.numpy()
    dropped = np.isclose(ys, dropped_value, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ys[~dropped], a * xs[~dropped] + b, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(gs, np.where(dropped, 0.0, a))
    assert _binomial_ok(int(dropped.sum()), dropped.size, p)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_alpha_dropout_keeps_selu_moments(p):
    genesis.manual_seed(4)
    x = genesis.randn(400, 500)  # zero mean, unit variance, like SELU's fixed point
    y = nn.AlphaDropout(p)(x).numpy().astype(np.float64)
    assert abs(y.mean()) < 0.02, y.mean()
    assert abs(y.var() - 1.0) < 0.03, y.var()


def test_alpha_dropout_dropped_value_matches_torch():
    x = np.random.default_rng(0).standard_normal((200, 100)).astype(np.float32)
    values = []
    for lib in (genesis, torch):
        y = lib.nn.functional.alpha_dropout(lib.tensor(x), 0.3, True).numpy()
        u, counts = np.unique(y, return_counts=True)
        values.append(u[counts.argmax()])
    assert values[0] == pytest.approx(_alpha_constants(0.3)[2], rel=1e-6)
    assert values[0] == pytest.approx(values[1], rel=1e-6)


def test_feature_alpha_dropout_is_constant_per_dropped_channel():
    genesis.manual_seed(6)
    x = genesis.randn(40, 30, 5, dtype=genesis.float64)
    y = nn.FeatureAlphaDropout(0.4)(x).numpy()
    a, b, dropped_value = _alpha_constants(0.4)
    dropped = np.isclose(y, dropped_value, rtol=0, atol=1e-12).all(axis=2)
    kept = np.isclose(y, a * x.numpy() + b, rtol=0, atol=1e-12).all(axis=2)
    assert (dropped ^ kept).all()
    assert _binomial_ok(int(dropped.sum()), dropped.size, 0.4)


def test_alpha_dropout_identity_cases_and_reprs_like_torch():
    x = genesis.randn(3, 4)
    assert F.alpha_dropout(x, 0.5) is x            # training defaults to False
    assert F.feature_alpha_dropout(x, 0.5) is x
    assert nn.AlphaDropout(0.5).eval()(x) is x
    assert F.alpha_dropout(x, 0.0, True) is x
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, True).numpy(), np.zeros((3, 4)))
    for cls in ("AlphaDropout", "FeatureAlphaDropout", "Dropout1d"):
        assert repr(getattr(nn, cls)(0.2, True)) == repr(getattr(torch.nn, cls)(0.2, True))
