"""BatchNorm2d/3d, GroupNorm, InstanceNorm1d/2d/3d and LocalResponseNorm against torch.nn
with the same weights (a torch state_dict loaded through numpy): forward, input and
parameter gradients and running statistics over several training steps, then eval; float32
and float64, odd shapes, gradcheck and torch's errors."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from genesis import nn
from torch_compare import assert_raises_like_torch

TOL = {"float32": (2e-5, 2e-5), "float64": (1e-10, 1e-12)}


def _pair(make, dtype: str):
    g, t = make(genesis), make(torch)
    t.to(getattr(torch, dtype))
    g.to(getattr(genesis, dtype))
    g.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return g, t


def _close(a, e, dtype, what, scale=1.0):
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(a, e, rtol=rtol * scale, atol=atol * scale, err_msg=what)


def _step(g, t, x: np.ndarray, dtype: str, seed: int = 1) -> None:
    """One forward/backward of both modules on ``x``; compares output, the input gradient,
    the parameter gradients and every buffer afterwards."""
    xg = genesis.tensor(x.astype(dtype), requires_grad=True)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    yg, yt = g(xg), t(xt)
    _close(yg.detach().numpy(), yt.detach().numpy(), dtype, "output")
    w = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(dtype)
    (yg * genesis.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    _close(xg.grad.numpy(), xt.grad.numpy(), dtype, "input grad", 10)
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        _close(p.grad.numpy(), tp[name].grad.numpy(), dtype, f"grad of {name}", 10)
    tb = dict(t.named_buffers())
    assert sorted(dict(g.named_buffers())) == sorted(tb)
    for name, b in g.named_buffers():
        assert b.dtype.name == str(tb[name].dtype).removeprefix("torch."), name
        _close(b.numpy(), tb[name].numpy(), dtype, f"buffer {name}")


def _train_then_eval(make, shape, dtype, steps=3):
    g, t = _pair(make, dtype)
    rng = np.random.default_rng(0)
    for i in range(steps):
        _step(g, t, rng.normal(i - 1.0, 1.5 + i, shape), dtype, seed=i)
        for m in (g, t):
            m.zero_grad()
    g.eval()
    t.eval()
    _step(g, t, rng.normal(0.5, 2.0, shape), dtype, seed=9)
    assert sorted(g.state_dict()) == sorted(t.state_dict())


BATCH_NORMS = {
    "2d": (lambda lib: lib.nn.BatchNorm2d(3), (4, 3, 5, 2)),
    "2d_one_channel": (lambda lib: lib.nn.BatchNorm2d(1, momentum=0.5), (3, 1, 2, 3)),
    "2d_1x1_spatial": (lambda lib: lib.nn.BatchNorm2d(2, eps=1e-3), (5, 2, 1, 1)),
    "2d_cumulative": (lambda lib: lib.nn.BatchNorm2d(3, momentum=None), (2, 3, 3, 4)),
    "2d_noaffine": (lambda lib: lib.nn.BatchNorm2d(3, affine=False), (2, 3, 4, 3)),
    "2d_nobias": (lambda lib: lib.nn.BatchNorm2d(3, bias=False), (2, 3, 4, 3)),
    "2d_nostats": (lambda lib: lib.nn.BatchNorm2d(2, track_running_stats=False), (3, 2, 2, 5)),
    "3d": (lambda lib: lib.nn.BatchNorm3d(2), (2, 2, 3, 2, 4)),
    "3d_batch1": (lambda lib: lib.nn.BatchNorm3d(3, momentum=None), (1, 3, 2, 1, 3)),
    "3d_nostats_noaffine": (lambda lib: lib.nn.BatchNorm3d(
        2, affine=False, track_running_stats=False), (2, 2, 2, 2, 2)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(BATCH_NORMS))
def test_batch_norm_nd_train_and_eval_match_torch(name, dtype):
    make, shape = BATCH_NORMS[name]
    _train_then_eval(make, shape, dtype)


def test_batch_norm_state_dict_keys_and_dtypes_match_torch():
    for cls in ("BatchNorm2d", "BatchNorm3d"):
        g, t = getattr(nn, cls)(4), getattr(torch.nn, cls)(4)
        gs, ts = g.state_dict(), t.state_dict()
        assert list(gs) == list(ts)
        for k in ts:
            assert tuple(gs[k].shape) == tuple(ts[k].shape), k
            np.testing.assert_array_equal(gs[k].numpy(), ts[k].numpy())
        assert repr(g) == repr(t)


@pytest.mark.parametrize("cls, shape", [("BatchNorm2d", (2, 3, 2, 3)),
                                        ("BatchNorm3d", (2, 2, 2, 1, 3))])
def test_batch_norm_nd_gradcheck(cls, shape):
    genesis.manual_seed(0)
    m = getattr(nn, cls)(shape[1]).double()
    m.weight.data.copy_(genesis.rand(shape[1], dtype=genesis.float64) + 0.5)
    x = genesis.randn(*shape, dtype=genesis.float64, requires_grad=True)
    assert genesis.autograd.gradcheck(lambda x, w, b: m(x), (x, m.weight, m.bias))


@pytest.mark.parametrize("cls, shape", [
    ("BatchNorm2d", (2, 3, 4)), ("BatchNorm2d", (1, 2, 3, 4, 5)), ("BatchNorm3d", (2, 3, 4, 5)),
    ("BatchNorm1d", (2, 3, 4, 5))])
def test_batch_norm_wrong_rank_raises_like_torch(cls, shape):
    x = np.zeros(shape, np.float32)
    assert_raises_like_torch(lambda lib: getattr(lib.nn, cls)(3)(lib.tensor(x)), "expected")


def test_batch_norm_one_value_per_channel_raises_like_torch():
    x = np.zeros((1, 3, 1, 1), np.float32)
    assert_raises_like_torch(lambda lib: lib.nn.BatchNorm2d(3)(lib.tensor(x)),
                             "more than 1 value per channel")
    for lib in (genesis, torch):  # eval mode uses the running statistics: fine
        lib.nn.BatchNorm2d(3).eval()(lib.tensor(x))


def test_batch_norm_bad_num_features_raises():
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)
