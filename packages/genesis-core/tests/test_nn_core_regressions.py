"""Regressions for core bugs found while building genesis.nn (each fixed at the root)."""

from __future__ import annotations

import copy

import genesis
import numpy as np
import pytest
from genesis import nn


def test_tensor_subclass_in_elementwise_ops():
    p = nn.Parameter(genesis.tensor([1.0, 2.0]))
    np.testing.assert_array_equal((p * 2).detach().numpy(), [2.0, 4.0])
    np.testing.assert_array_equal((3 - p).detach().numpy(), [2.0, 1.0])
    np.testing.assert_array_equal(genesis.where(p > 1, p, 0.0).detach().numpy(), [0.0, 2.0])


@pytest.mark.parametrize("op", ["relu_", "sigmoid_", "exp_", "neg_"])
def test_inplace_unary_on_non_leaf_keeps_gradient(op):
    x = genesis.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    getattr(y, op)()
    y.sum().backward()
    ref = {"relu_": [0.0, 2.0, 2.0], "neg_": [-2.0, -2.0, -2.0]}
    assert x.grad is not None
    if op in ref:
        np.testing.assert_allclose(x.grad.numpy(), ref[op])


def test_inplace_binary_with_itself():
    x = genesis.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y.mul_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-2.0, 4.0, 6.0])


def test_setitem_basic_index_on_tracked_tensor():
    x = genesis.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[0] = 5.0
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4.0, 6.0])


def test_narrow_of_expanded_tensor_gradient():
    x = genesis.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x.expand(4, 3).narrow(1, 1, 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 4.0, 4.0]])


def test_deepcopy_tensor_shares_backend_and_copies_data():
    t = genesis.randn(2, 3).t()
    c = copy.deepcopy(t)
    assert c._backend is t._backend and c.storage is not t.storage
    np.testing.assert_array_equal(c.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(genesis.ones(2, requires_grad=True) * 2)
