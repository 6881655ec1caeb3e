"""Optimizer steps tell autograd the parameters changed (PyTorch's version-counter error)."""

import genesis
import genesis.optim
import numpy as np
import pytest


def test_optimizer_step_before_backward_is_detected():
    w = genesis.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.grad = genesis.tensor([1.0, 1.0])
    genesis.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_training_loop_is_unaffected():
    w = genesis.tensor([1.0, 2.0], requires_grad=True)
    opt = genesis.optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * 0.8 ** 3, rtol=1e-6)
