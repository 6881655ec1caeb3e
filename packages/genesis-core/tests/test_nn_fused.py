"""The fused-kernel hooks of genesis.nn.functional: a backend declaring "softmax",
"log_softmax", "layer_norm" (and their backward kernels) in ``capabilities.fused`` gets them
used, and results agree with the composite path. The kernels here are numpy references."""

from __future__ import annotations

import genesis
import numpy as np
import pytest

F = genesis.nn.functional


def _arr(v):
    return v._backend.to_numpy(v)


def _softmax(x, dim):
    a = _arr(x)
    e = np.exp(a - a.max(dim, keepdims=True))
    return np.ascontiguousarray(e / e.sum(dim, keepdims=True))


def _log_softmax(x, dim):
    a = _arr(x)
    s = a - a.max(dim, keepdims=True)
    return np.ascontiguousarray(s - np.log(np.exp(s).sum(dim, keepdims=True)))


def _softmax_backward(y, g, dim):
    y, g = _arr(y), _arr(g)
    return np.ascontiguousarray(y * (g - (g * y).sum(dim, keepdims=True)))


def _log_softmax_backward(y, g, dim):
    y, g = _arr(y), _arr(g)
    return np.ascontiguousarray(g - np.exp(y) * g.sum(dim, keepdims=True))


def _layer_norm(x, w, b, eps):
    a = _arr(x)
    mean = a.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(((a - mean) ** 2).mean(-1, keepdims=True) + eps)
    y = (a - mean) * rstd
    if w is not None:
        y = y * _arr(w)
    if b is not None:
        y = y + _arr(b)
    return np.ascontiguousarray(y.astype(a.dtype)), mean, rstd


def _layer_norm_backward(g, x, w, mean, rstd):
    g, a, mean, rstd = _arr(g), _arr(x), _arr(mean), _arr(rstd)
    xhat = (a - mean) * rstd
    gx = g * _arr(w) if w is not None else g
    dx = rstd * (gx - gx.mean(-1, keepdims=True) - xhat * (gx * xhat).mean(-1, keepdims=True))
    lead = tuple(range(a.ndim - 1))
    dw = (g * xhat).sum(lead) if w is not None else None
    return dx, dw, g.sum(lead)


def _gelu(x, approximate):
    a = _arr(x)
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))
    from scipy.special import erf
    return 0.5 * a * (1 + erf(a / np.sqrt(2)))


def _gelu_backward(g, x, approximate):
    a, eps = _arr(x), 1e-6
    return _arr(g) * (_gelu_raw(a + eps, approximate) - _gelu_raw(a - eps, approximate)) / (2 * eps)


def _gelu_raw(a, approximate):
    return _gelu(genesis.tensor(a), approximate)


def _silu(x):
    a = _arr(x)
    return a / (1 + np.exp(-a))


def _silu_backward(g, x):
    a = _arr(x)
    s = 1 / (1 + np.exp(-a))
    return _arr(g) * s * (1 + a * (1 - s))


def _cross_entropy(x, t, ignore_index):
    a, t = _arr(x), _arr(t)
    m = a.max(1, keepdims=True)
    lse = (m + np.log(np.exp(a - m).sum(1, keepdims=True)))[:, 0]
    keep = t != ignore_index
    picked = a[np.arange(len(t)), np.where(keep, t, 0)]
    return np.where(keep, lse - picked, 0.0).astype(a.dtype), lse


def _cross_entropy_backward(g, x, t, lse, ignore_index):
    a, t, lse, g = _arr(x), _arr(t), _arr(lse), _arr(g)
    p = np.exp(a - lse[:, None])
    keep = t != ignore_index
    p[np.arange(len(t)), np.where(keep, t, 0)] -= keep
    return (p * (g * keep)[:, None]).astype(a.dtype)


def _rms_norm(x, w, eps):
    a = _arr(x)
    rstd = 1 / np.sqrt((a * a).mean(-1, keepdims=True) + eps)
    y = a * rstd * (_arr(w) if w is not None else 1.0)
    return y.astype(a.dtype), rstd


def _rms_norm_backward(g, x, w, rstd):
    g, a, rstd = _arr(g), _arr(x), _arr(rstd)
    xhat = a * rstd
    gw = g * _arr(w) if w is not None else g
    dx = rstd * (gw - xhat * (gw * xhat).mean(-1, keepdims=True))
    dw = (g * xhat).sum(tuple(range(a.ndim - 1))) if w is not None else None
    return dx, dw


def _dropout(x, p, seed, offset):
    a = _arr(x)
    mask = np.random.default_rng([seed, offset]).random(a.shape) >= p
    return (a * mask / (1 - p)).astype(a.dtype), mask


KERNELS = {"gelu": _gelu, "gelu_backward": _gelu_backward, "silu": _silu,
           "silu_backward": _silu_backward,
           "softmax": _softmax, "log_softmax": _log_softmax,
           "softmax_backward": _softmax_backward, "log_softmax_backward": _log_softmax_backward,
           "layer_norm": _layer_norm, "layer_norm_backward": _layer_norm_backward,
           "cross_entropy": _cross_entropy, "cross_entropy_backward": _cross_entropy_backward,
           "rms_norm": _rms_norm, "rms_norm_backward": _rms_norm_backward,
           "dropout": _dropout}


@pytest.fixture
def fused_cpu():
    calls = []
    fused = genesis.device("cpu").backend.capabilities.fused
    saved = dict(fused)
    for name, fn in KERNELS.items():
        fused[name] = (lambda f, n: lambda *a: (calls.append(n), f(*a))[1])(fn, name)
    yield calls
    fused.clear()
    fused.update(saved)


CASES = {
    "softmax": lambda x, w, b: F.softmax(x, 1),
    "log_softmax": lambda x, w, b: F.log_softmax(x, -1),
    "cross_entropy": lambda x, w, b: F.cross_entropy(x, genesis.tensor([0, 2, 1, 3, 0])),
    "cross_entropy_ignore": lambda x, w, b: F.cross_entropy(x, genesis.tensor([0, -100, 1, 3, 0])),
    "cross_entropy_sum": lambda x, w, b: F.cross_entropy(x, genesis.tensor([0, 2, 1, 3, 0]),
                                                         reduction="sum"),
    "rms_norm": lambda x, w, b: F.rms_norm(x, (4,), w, 1e-6),
    "layer_norm": lambda x, w, b: F.layer_norm(x, (4,), w, b),
    "gelu": lambda x, w, b: F.gelu(x),
    "gelu_tanh": lambda x, w, b: F.gelu(x, approximate="tanh"),
    "silu": lambda x, w, b: F.silu(x),
}


def _run(name: str) -> list:
    rng = np.random.default_rng(0)
    inputs = [genesis.tensor(rng.standard_normal(s), requires_grad=True)
              for s in [(5, 4), (4,), (4,)]]
    out = CASES[name](*inputs)
    if out.ndim:
        out = (out * genesis.tensor(rng.standard_normal(out.shape))).sum()
    out.backward()
    return [out.detach().numpy()] + [None if i.grad is None else i.grad.numpy() for i in inputs]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_and_composite_paths_agree(name, fused_cpu):
    fused = genesis.device("cpu").backend.capabilities.fused
    declared = dict(fused)
    fused.clear()
    composite = _run(name)
    fused.update(declared)
    assert not fused_cpu
    with_kernels = _run(name)
    assert fused_cpu, "the fused kernel was not called"
    for a, b in zip(composite, with_kernels):
        if a is None:
            assert b is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_fused_dropout_is_used_and_its_mask_drives_the_gradient(fused_cpu):
    x = genesis.randn(6, 7, requires_grad=True)
    y = F.dropout(x, 0.3)
    assert "dropout" in fused_cpu
    mask = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy(), x.detach().numpy() * mask / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.7, rtol=1e-6)
    assert 0 < mask.mean() < 1
