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


PER_SAMPLE = {
    "group": (lambda lib: lib.nn.GroupNorm(2, 4), (3, 4, 5)),
    "group_4d": (lambda lib: lib.nn.GroupNorm(3, 6, eps=1e-3), (2, 6, 3, 2)),
    "group_per_channel": (lambda lib: lib.nn.GroupNorm(3, 3), (2, 3, 4)),
    "group_one": (lambda lib: lib.nn.GroupNorm(1, 4, affine=False), (2, 4, 3, 1, 2)),
    "group_2d_input": (lambda lib: lib.nn.GroupNorm(2, 4, bias=False), (5, 4)),
    "group_batch1": (lambda lib: lib.nn.GroupNorm(2, 2), (1, 2, 7)),
    "instance1d": (lambda lib: lib.nn.InstanceNorm1d(3), (2, 3, 5)),
    "instance1d_affine": (lambda lib: lib.nn.InstanceNorm1d(3, affine=True), (2, 3, 4)),
    "instance1d_stats": (lambda lib: lib.nn.InstanceNorm1d(
        2, track_running_stats=True, momentum=0.3), (3, 2, 6)),
    "instance1d_unbatched": (lambda lib: lib.nn.InstanceNorm1d(
        3, affine=True, track_running_stats=True), (3, 4)),
    "instance2d": (lambda lib: lib.nn.InstanceNorm2d(1, affine=True), (2, 1, 3, 2)),
    "instance2d_stats_affine": (lambda lib: lib.nn.InstanceNorm2d(
        3, affine=True, track_running_stats=True, eps=1e-3), (2, 3, 2, 3)),
    "instance2d_momentum_none": (lambda lib: lib.nn.InstanceNorm2d(
        2, track_running_stats=True, momentum=None), (2, 2, 3, 3)),
    "instance2d_unbatched": (lambda lib: lib.nn.InstanceNorm2d(2), (2, 3, 4)),
    "instance3d": (lambda lib: lib.nn.InstanceNorm3d(2, affine=True, track_running_stats=True),
                   (2, 2, 2, 1, 3)),
    "lrn": (lambda lib: lib.nn.LocalResponseNorm(3), (2, 5, 4)),
    "lrn_even_big": (lambda lib: lib.nn.LocalResponseNorm(
        4, alpha=0.5, beta=0.6, k=2.0), (2, 3, 2, 3)),
    "lrn_size1": (lambda lib: lib.nn.LocalResponseNorm(1, alpha=1.0), (1, 2, 3)),
    "lrn_window_over_channels": (lambda lib: lib.nn.LocalResponseNorm(
        7, alpha=0.3, beta=1.0), (2, 2, 2, 1, 2)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(PER_SAMPLE))
def test_per_sample_norms_train_and_eval_match_torch(name, dtype):
    make, shape = PER_SAMPLE[name]
    _train_then_eval(make, shape, dtype)


def test_per_sample_norm_reprs_and_state_dicts_match_torch():
    for make, _ in PER_SAMPLE.values():
        g, t = make(genesis), make(torch)
        assert repr(g) == repr(t)
        assert list(g.state_dict()) == list(t.state_dict())
        for k, v in t.state_dict().items():
            np.testing.assert_array_equal(g.state_dict()[k].numpy(), v.numpy())


FUNCTIONAL = {
    "group_norm": (lambda lib, x, w, b: lib.nn.functional.group_norm(x, 2, w, b, 1e-4),
                   [(3, 4, 2, 3), (4,), (4,)]),
    "instance_norm": (lambda lib, x, w, b: lib.nn.functional.instance_norm(
        x, weight=w, bias=b, eps=1e-3), [(2, 3, 5), (3,), (3,)]),
    "local_response_norm": (lambda lib, x: lib.nn.functional.local_response_norm(
        x, 3, alpha=0.2, beta=0.9, k=1.5), [(2, 4, 3, 2)]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_matches_torch(name, dtype):
    from torch_compare import compare
    fn, shapes = FUNCTIONAL[name]
    compare(fn, shapes, dtype=dtype, grad_rtol=1e-4 if dtype == "float32" else None,
            grad_atol=1e-5 if dtype == "float32" else None)


def test_instance_norm_functional_running_stats_match_torch():
    rng = np.random.default_rng(3)
    x = rng.normal(1.0, 2.0, (3, 2, 5))
    got, want = {}, {}
    for lib, out in ((genesis, got), (torch, want)):
        rm, rv = lib.tensor(np.array([0.5, -1.0])), lib.tensor(np.full(2, 2.0))
        y = lib.nn.functional.instance_norm(lib.tensor(x), rm, rv, momentum=0.25)
        y2 = lib.nn.functional.instance_norm(lib.tensor(x), rm, rv, use_input_stats=False)
        out.update(y=y.numpy(), y2=y2.numpy(), rm=rm.numpy(), rv=rv.numpy())
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_gradcheck(name):
    fn, shapes = FUNCTIONAL[name]
    genesis.manual_seed(1)
    args = [genesis.randn(*s, dtype=genesis.float64, requires_grad=True) for s in shapes]
    assert genesis.autograd.gradcheck(lambda *a: fn(genesis, *a), args)


F_ERRORS = [
    (lambda lib: lib.nn.functional.group_norm(lib.zeros(2, 4, 3), 3), "divisible by num_groups"),
    (lambda lib: lib.nn.functional.group_norm(lib.zeros(2, 4, 3), 2, lib.ones(3)),
     "weight to be a vector of size equal to the number of channels"),
    (lambda lib: lib.nn.functional.group_norm(lib.zeros(4), 2), "at least 2 dimensions"),
    (lambda lib: lib.nn.functional.group_norm(lib.zeros(1, 2), 2), "more than 1 value"),
    (lambda lib: lib.nn.functional.instance_norm(lib.zeros(2, 4, 1)), "more than 1 spatial"),
    (lambda lib: lib.nn.functional.instance_norm(lib.zeros(2, 4, 3), use_input_stats=False),
     "running_mean and running_var"),
    (lambda lib: lib.nn.functional.instance_norm(lib.zeros(2, 4, 3), weight=lib.ones(3)),
     "should contain"),
    (lambda lib: lib.nn.functional.local_response_norm(lib.zeros(2, 4), 2),
     "Expected 3D or higher dimensionality"),
    (lambda lib: lib.nn.GroupNorm(3, 4), "must be divisible by num_groups"),
    (lambda lib: lib.nn.InstanceNorm1d(3, affine=True)(lib.zeros(2, 4, 3)),
     "to match num_features"),
    (lambda lib: lib.nn.InstanceNorm1d(3)(lib.zeros(2, 3, 2, 2)), r"expected 2D or 3D input"),
    (lambda lib: lib.nn.InstanceNorm2d(3)(lib.zeros(3, 2)), r"expected 3D or 4D input"),
]


@pytest.mark.parametrize("i", range(len(F_ERRORS)))
def test_errors_like_torch(i):
    call, match = F_ERRORS[i]
    assert_raises_like_torch(call, match)


def test_instance_norm_feature_mismatch_warns_without_affine():
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(genesis.randn(2, 4, 3))


def test_local_response_norm_empty_input_is_returned():
    x = genesis.zeros(0, 3, 2)
    assert nn.LocalResponseNorm(2)(x) is x


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_double_backward_matches_torch(name):
    fn, shapes = FUNCTIONAL[name]
    rng = np.random.default_rng(5)
    arrays = [rng.uniform(0.5, 1.5, s) if i else rng.standard_normal(s)
              for i, s in enumerate(shapes)]
    res = {}
    for lib in (genesis, torch):
        args = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *args)
        grads = lib.autograd.grad((y * y * y).sum(), args, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), args)
        res[lib.__name__] = [s.detach().numpy() for s in second]
    for a, e in zip(res["genesis"], res["torch"]):
        np.testing.assert_allclose(a, e, rtol=1e-7, atol=1e-9)
