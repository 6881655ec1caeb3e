"""``where`` with one scalar side: the compiled select agrees with ``np.where`` (float32 and
float64, NaN/inf/-0.0 values, scalar on either side) and other operands keep numpy's path."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
from genesis_backend_cpu import _select


def _values(dtype, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    x[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scalar", [0.0, -1.5, float("nan"), 3])
def test_compiled_select_matches_np_where(dtype, scalar):
    assert _select._select_array_scalar.available()
    n = _select.MIN_SIZE + 7
    x = _values(dtype, n)
    cond = np.random.default_rng(1).random(n) < 0.5
    npd = np.dtype(dtype)
    got = _select.where_with_scalar(cond, x, scalar, npd)
    np.testing.assert_array_equal(got, np.where(cond, x, dtype(scalar)))
    assert got.dtype == npd
    got = _select.where_with_scalar(cond, scalar, x, npd)
    np.testing.assert_array_equal(got, np.where(cond, dtype(scalar), x))


def test_other_operands_take_numpy_where():
    n = _select.MIN_SIZE + 1
    x = _values(np.float32, 2 * n)
    cond = np.ones(n, bool)
    f32 = np.dtype(np.float32)
    assert _select.where_with_scalar(cond, x[::2], 0.0, f32) is None  # strided
    assert _select.where_with_scalar(cond, x[:n], x[:n], f32) is None  # no scalar side
    assert _select.where_with_scalar(cond, x[:n], 0.0, np.dtype(np.float64)) is None
    assert _select.where_with_scalar(cond[:8], x[:8], 0.0, f32) is None  # small


def test_relu_backward_through_the_backend():
    g = genesis.tensor(_values(np.float32, 1 << 16).reshape(256, 256), requires_grad=True)
    g.relu().backward(genesis.ones_like(g))
    host = g.detach().numpy()
    np.testing.assert_array_equal(g.grad.numpy(), np.where(host > 0, 1.0, 0.0))
