"""batch_norm against PyTorch: the stable closed-form input gradient, forward/backward and
running statistics in training and eval mode, with and without affine parameters, and
double backward."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch

F = {genesis: genesis.nn.functional, torch: torch.nn.functional}


def _inputs(shape, seed, affine):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.uniform(-3, 3), 2.0, shape).astype(np.float32)
    c = shape[1]
    w = rng.uniform(0.5, 2.0, c).astype(np.float32) if affine else None
    b = rng.standard_normal(c).astype(np.float32) if affine else None
    return x, w, b


def _input_grad_of_sum(lib, x, w, b):
    """``d sum(batch_norm(x)) / dx``: exactly 0, since each channel's outputs sum to a
    constant (``n * bias``)."""
    tx = lib.tensor(x, requires_grad=True)
    opt = [lib.tensor(v) if v is not None else None for v in (w, b)]
    F[lib].batch_norm(tx, None, None, *opt, training=True).sum().backward()
    return np.abs(tx.grad.numpy()).max()


@pytest.mark.parametrize("shape", [(2048, 2048), (128, 64, 96)], ids=str)
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_input_gradient_where_exact_is_zero_is_torch_level(shape, affine, seed):
    x, w, b = _inputs(shape, seed, affine)
    got = _input_grad_of_sum(genesis, x, w, b)
    want = _input_grad_of_sum(torch, x, w, b)
    assert got <= 2 * want + 1e-9, (got, want)


def _run(lib, x, w, b, g, training, running):
    tx = lib.tensor(x, requires_grad=True)
    tw = lib.tensor(w, requires_grad=True) if w is not None else None
    tb = lib.tensor(b, requires_grad=True) if b is not None else None
    rm, rv = ((lib.tensor(v) for v in running) if running is not None else (None, None))
    out = F[lib].batch_norm(tx, rm, rv, tw, tb, training, 0.3, 1e-3)
    out.backward(lib.tensor(g))
    grads = [t.grad.numpy() if t is not None else None for t in (tx, tw, tb)]
    stats = [v.numpy() for v in (rm, rv)] if running is not None else []
    return out.detach().numpy(), grads, stats


# (training, running stats given): eval mode needs the running statistics
MODES = {"train": (True, False), "train_stats": (True, True), "eval_stats": (False, True)}


@pytest.mark.parametrize("shape", [(16, 5), (6, 4, 7)], ids=str)
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_forward_backward_and_running_stats_match_torch(shape, mode, affine, dtype):
    training, stats = MODES[mode]
    x, w, b = _inputs(shape, 7, affine)
    rng = np.random.default_rng(8)
    g = rng.standard_normal(shape)
    running = (rng.standard_normal(shape[1]), rng.uniform(0.5, 2.0, shape[1])) if stats else None
    cast = [v.astype(dtype) if v is not None else None for v in (x, w, b, g)]
    running = tuple(v.astype(dtype) for v in running) if stats else None
    got = _run(genesis, *cast, training, running)
    want = _run(torch, *cast, training, running)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[0], want[0], **tol)
    for a, e in zip(got[1] + got[2], want[1] + want[2]):
        assert (a is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(a, e, **tol)


def test_eval_mode_requires_running_stats():
    with pytest.raises(RuntimeError, match="running_mean and running_var are required"):
        F[genesis].batch_norm(genesis.randn(4, 3), None, None, training=False)


@pytest.mark.parametrize("affine", [False, True])
def test_double_backward_matches_torch(affine):
    x, w, b = _inputs((6, 3, 4), 3, affine)
    res = {}
    for lib in (genesis, torch):
        tx = lib.tensor(x.astype(np.float64), requires_grad=True)
        tw = lib.tensor(w.astype(np.float64), requires_grad=True) if affine else None
        tb = lib.tensor(b.astype(np.float64)) if affine else None
        y = F[lib].batch_norm(tx, None, None, tw, tb, training=True)
        wrt = [tx, tw] if affine else [tx]
        grads = lib.autograd.grad((y * y * y).sum(), wrt, create_graph=True)
        second = lib.autograd.grad(sum((gr * gr).sum() for gr in grads), wrt)
        res[lib.__name__] = [s.detach().numpy() for s in second]
    for a, e in zip(res["genesis"], res["torch"]):
        np.testing.assert_allclose(a, e, rtol=1e-7, atol=1e-9)


def test_gradients_flow_to_weight_and_bias_alone():
    x, w, b = _inputs((8, 3), 4, True)
    tw = genesis.tensor(w, requires_grad=True)
    tb = genesis.tensor(b, requires_grad=True)
    F[genesis].batch_norm(genesis.tensor(x), None, None, tw, tb, training=True).sum().backward()
    ref_w = torch.tensor(w, requires_grad=True)
    ref_b = torch.tensor(b, requires_grad=True)
    F[torch].batch_norm(torch.tensor(x), None, None, ref_w, ref_b, training=True).sum().backward()
    np.testing.assert_allclose(tw.grad.numpy(), ref_w.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(tb.grad.numpy(), ref_b.grad.numpy())
