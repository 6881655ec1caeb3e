"""Autograd engine semantics against PyTorch: accumulation, retain_graph, grad modes, grad()."""

from __future__ import annotations

import gc
import weakref

import genesis
import numpy as np
import pytest
import torch
from torch_compare import assert_close, make_pair


def _pair(shape=(2, 3), seed=0):
    a = np.random.default_rng(seed).uniform(-1, 1, shape)
    return make_pair(a, "float64", requires_grad=True)


def test_backward_with_explicit_gradient():
    (g, t), (gw, tw) = _pair(), make_pair(np.arange(6.0).reshape(2, 3), "float64")
    (g * g).backward(gw)
    (t * t).backward(tw)
    assert_close(g.grad, t.grad)


def test_backward_of_non_scalar_needs_gradient():
    g, _ = _pair()
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (g * 2).backward()
    with pytest.raises(RuntimeError, match="shape"):
        (g * 2).backward(genesis.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        genesis.ones(2).sum().backward()


def test_gradients_accumulate_across_backward_calls():
    g, t = _pair()
    for _ in range(3):
        (g.exp() * 2).sum().backward()
        (t.exp() * 2).sum().backward()
    assert_close(g.grad, t.grad)
    grad_obj = g.grad
    (g * 1).sum().backward()
    assert g.grad is grad_obj  # accumulated in place, as torch does without create_graph


def test_grad_is_not_aliased_with_upstream_gradient():
    g, _ = _pair()
    seed = genesis.ones(2, 3, dtype=genesis.float64)
    (g * 1).backward(seed)
    g.grad.add_(1.0)
    assert seed.tolist() == [[1.0] * 3] * 2


def test_retain_graph():
    g, t = _pair()
    gy, ty = (g.sin() * g).sum(), (t.sin() * t).sum()
    gy.backward(retain_graph=True)
    ty.backward(retain_graph=True)
    gy.backward()
    ty.backward()
    assert_close(g.grad, t.grad)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ty.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        gy.backward()


def test_reused_subgraph_and_diamond():
    g, t = _pair()
    for x in (g, t):
        h = x * 3
        (h.exp() + h.sin() * h).sum().backward()
    assert_close(g.grad, t.grad)


@pytest.mark.parametrize("mode", ["context", "decorator"])
def test_no_grad_and_enable_grad(mode):
    g, _ = _pair()
    if mode == "context":
        with genesis.no_grad():
            y = g * 2
            with genesis.enable_grad():
                z = g * 2
            assert not genesis.is_grad_enabled()
    else:
        @genesis.no_grad()
        def f(x):
            return x * 2, genesis.enable_grad()(lambda: x * 2)()
        y, z = f(g)
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    assert genesis.is_grad_enabled()


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError):
        with genesis.no_grad():
            raise ValueError
    assert genesis.is_grad_enabled()


def test_set_grad_enabled():
    g, _ = _pair()
    with genesis.set_grad_enabled(False):
        assert not (g * 2).requires_grad
    assert genesis.is_grad_enabled()
    genesis.set_grad_enabled(False)  # as a function: stays off
    assert not genesis.is_grad_enabled()
    genesis.set_grad_enabled(True)

    @genesis.set_grad_enabled(False)
    def f(x):
        return x * 2
    assert not f(g).requires_grad and genesis.is_grad_enabled()


def test_requires_grad_flag_propagation():
    g = genesis.ones(2)
    assert not (g * 2).requires_grad
    g.requires_grad_()
    y = g * 2
    assert y.requires_grad and not y.is_leaf and g.is_leaf
    assert y.detach().requires_grad is False and y.detach().is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    assert (genesis.ones(2) + g).requires_grad


def test_detach_stops_gradient():
    g, t = _pair()
    (g * g.detach()).sum().backward()
    (t * t.detach()).sum().backward()
    assert_close(g.grad, t.grad)


def test_detach_shares_storage_and_detach_inplace():
    g, _ = _pair()
    d = g.detach()
    d.zero_()
    assert g.abs().sum().item() == 0.0
    y = g * 2
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None


def test_retain_grad():
    g, t = _pair()
    gh, th = g * 2, t * 2
    gh.retain_grad()
    th.retain_grad()
    (gh * gh).sum().backward()
    (th * th).sum().backward()
    assert gh.retains_grad and th.retains_grad
    assert_close(gh.grad, th.grad)
    assert_close(g.grad, t.grad)
    assert (g * 3).grad is None


def test_autograd_grad():
    g, t = _pair()
    gw, tw = _pair(seed=1)
    gy, ty = (g * gw).sin().sum(), (t * tw).sin().sum()
    gdx, gdw = genesis.autograd.grad(gy, [g, gw])
    tdx, tdw = torch.autograd.grad(ty, [t, tw])
    assert_close(gdx, tdx)
    assert_close(gdw, tdw)
    assert g.grad is None and gw.grad is None  # .grad untouched


def test_autograd_grad_options():
    g, _ = _pair()
    u, _ = _pair(seed=2)
    y = (g * 2).sum()
    with pytest.raises(RuntimeError, match="not have been used"):
        genesis.autograd.grad(y, [g, u], retain_graph=True)
    dx, du = genesis.autograd.grad(y, [g, u], allow_unused=True)
    assert du is None and dx.tolist() == [[2.0] * 3] * 2
    out = g * 3
    (d,) = genesis.autograd.grad(out, g, grad_outputs=genesis.ones(2, 3, dtype=genesis.float64))
    assert d.tolist() == [[3.0] * 3] * 2


@pytest.mark.parametrize("name", ["mul", "exp", "sin", "tanh", "pow", "sigmoid", "div", "matmul",
                                  "sum_sq", "log"])
def test_double_backward(name):
    fns = {"mul": lambda x: x * x * x, "exp": lambda x: x.exp(), "sin": lambda x: x.sin(),
           "tanh": lambda x: x.tanh(), "pow": lambda x: x ** 3, "sigmoid": lambda x: x.sigmoid(),
           "div": lambda x: 1 / (x + 3), "matmul": lambda x: (x @ x.T) * x.sum(),
           "sum_sq": lambda x: (x * x).sum(1, keepdim=True) * x, "log": lambda x: (x + 2).log()}
    g, t = _pair((3, 3))
    results = []
    for lib, x in ((genesis, g), (torch, t)):
        y = fns[name](x).sum()
        (dx,) = lib.autograd.grad(y, x, create_graph=True)
        assert dx.requires_grad
        (dx * dx).sum().backward()
        results.append((dx, x.grad))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


def test_backward_with_create_graph_builds_grad_graph():
    g, t = _pair()
    (g ** 3).sum().backward(create_graph=True)
    (t ** 3).sum().backward(create_graph=True)
    assert g.grad.requires_grad
    gg, tg = g.grad, t.grad
    g.grad = t.grad = None
    gg.sum().backward()
    tg.sum().backward()
    assert_close(g.grad, t.grad)


def test_graph_is_freed_after_backward():
    x = genesis.ones(50, 50, requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    y = (h.exp() * h).sum()
    del h
    gc.collect()
    assert ref() is not None  # the graph keeps the intermediate alive ...
    y.backward()
    gc.collect()
    assert ref() is None  # ... until backward frees the saved tensors


def test_graph_kept_with_retain_graph_then_freed():
    x = genesis.ones(4, requires_grad=True)
    h = x.sin()
    ref = weakref.ref(h)
    y = (h * h).sum()
    del h
    y.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    y.backward()
    gc.collect()
    assert ref() is None


def test_deep_graph_has_no_recursion_limit():
    x = genesis.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    assert abs(x.grad.item() - 1.0001 ** 10_000) < 1e-2


def test_gradient_dtype_matches_input_through_casts():
    g, t = make_pair(np.ones(3), "float32", requires_grad=True)
    (g.double() * 2).sum().backward()
    (t.double() * 2).sum().backward()
    assert_close(g.grad, t.grad)


def test_grad_of_broadcast_inputs_summed_back():
    (ga, ta), (gb, tb) = _pair((3, 1)), _pair((4,), seed=3)
    ((ga * gb).exp()).sum().backward()
    ((ta * tb).exp()).sum().backward()
    assert_close(ga.grad, ta.grad)
    assert_close(gb.grad, tb.grad)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        genesis.tensor([1, 2]).requires_grad_()


def test_slices_of_one_tensor_accumulate_into_one_gradient():
    """Pieces of a split, overlapping slices and a whole-tensor use of one non-leaf: its
    gradient (seen by a hook) and the leaf's equal torch's, with and without retain_graph and
    under create_graph (where the engine leaves the in-place accumulation alone)."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 6))
    w = rng.standard_normal((4, 2))

    def run(lib, create_graph=False):
        x = lib.tensor(data, requires_grad=True)
        y = x * 2.0
        seen = []
        y.register_hook(lambda g: seen.append(g.detach().clone()))
        a, b, c = y.split(2, dim=1)
        z = y[:, 1:4]  # overlaps a, b and c
        total = (a * lib.tensor(w)).sum() + (b ** 2).sum() + c.sum() * 3.0 + (z * z * z).sum()
        total = total + y.sum()
        (gx,) = (lib.autograd.grad(total, x, create_graph=True) if create_graph
                 else (None,))
        if not create_graph:
            total.backward(retain_graph=True)
            total.backward()
            return x.grad, seen
        return gx, seen

    g_grad, g_seen = run(genesis)
    t_grad, t_seen = run(torch)
    np.testing.assert_allclose(g_grad.numpy(), t_grad.numpy(), rtol=1e-12)
    assert len(g_seen) == len(t_seen) == 2
    for g, t in zip(g_seen, t_seen):
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)
    g_gx, _ = run(genesis, create_graph=True)
    t_gx, _ = run(torch, create_graph=True)
    np.testing.assert_allclose(g_gx.detach().numpy(), t_gx.detach().numpy(), rtol=1e-12)
