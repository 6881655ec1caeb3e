"""``Tensor.register_post_accumulate_grad_hook`` against PyTorch: when it runs, what it sees."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch


def _events(lib, x_data, w_data, two_uses: bool):
    """Backward of sum((x*w)**2) (+ w again when ``two_uses``) recording each hook call."""
    x = lib.tensor(x_data, requires_grad=True)
    w = lib.tensor(w_data, requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(("x", t.grad.numpy().copy())))
    w.register_post_accumulate_grad_hook(lambda t: seen.append(("w", t.grad.numpy().copy())))
    y = ((x * w) ** 2).sum()
    if two_uses:
        y = y + (w * 3.0).sum()
    y.backward()
    y2 = (x * 2.0).sum()
    y2.backward()  # accumulates into x.grad: the hook sees the sum
    return seen


@pytest.mark.parametrize("two_uses", [False, True])
def test_hook_sees_accumulated_grad_once_per_backward_like_torch(two_uses):
    rng = np.random.default_rng(0)
    xd, wd = rng.standard_normal(5), rng.standard_normal(5)
    got = _events(genesis, xd, wd, two_uses)
    want = _events(torch, xd, wd, two_uses)
    assert sorted(n for n, _ in got) == sorted(n for n, _ in want)
    for name in ("x", "w"):
        g = [v for n, v in got if n == name]
        t = [v for n, v in want if n == name]
        for a, b in zip(g, t):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hook_may_modify_grad_in_place_and_remove_stops_it():
    def scale(t):
        t.grad.mul_(10.0)

    x = genesis.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_post_accumulate_grad_hook(scale)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_runs_after_register_hook_transformed_the_gradient():
    x = genesis.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    x.register_hook(lambda g: g * 0.5)
    (x * 4.0).sum().backward()
    np.testing.assert_allclose(seen[0], [2.0, 2.0])


def test_rejects_non_leaf_tensors_without_grad_and_bad_hooks():
    x = genesis.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2.0).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require"):
        genesis.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="hook=3"):
        x.register_post_accumulate_grad_hook(3)
    x.register_post_accumulate_grad_hook(lambda t: t)
    with pytest.raises(RuntimeError, match="must return None"):
        (x * 1.0).sum().backward()
