"""Scans against PyTorch: cumsum, cumprod (zeros in the gradient), cummax/cummin (tie and NaN
indices), logcumsumexp (stability), diff, and the in-place cumsum_/cumprod_."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare

SCANS = {
    "cumsum": lambda m, x, d: m.cumsum(x, d),
    "cumprod": lambda m, x, d: m.cumprod(x, d),
    "cummax": lambda m, x, d: m.cummax(x, d),
    "cummin": lambda m, x, d: m.cummin(x, d),
    "logcumsumexp": lambda m, x, d: m.logcumsumexp(x, d),
    "cumsum_method": lambda m, x, d: x.cumsum(d),
    "cumprod_method": lambda m, x, d: x.cumprod(dim=d),
    "cummax_method": lambda m, x, d: x.cummax(d),
    "cummin_method": lambda m, x, d: x.cummin(dim=d),
    "logcumsumexp_method": lambda m, x, d: x.logcumsumexp(d),
}


@pytest.mark.parametrize("name", sorted(SCANS))
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scans_forward_and_backward(name, dim, dtype):
    compare(lambda m, x: SCANS[name](m, x, dim), [(3, 4, 5)], dtype=dtype, low=0.5, high=1.5)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
def test_scans_of_strided_inputs(name, layout):
    compare(lambda m, x: SCANS[name](m, x, 1), [(3, 4, 5)], layout=layout, low=0.5, high=1.5)
    compare(lambda m, x: SCANS[name](m, x, -1), [(4, 5)], layout=layout, low=0.5, high=1.5)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_scans_of_half_types(name, dtype):
    compare(lambda m, x: SCANS[name](m, x, 1), [(2, 6)], dtype=dtype, low=0.5, high=1.5,
            grad_rtol=2e-2, grad_atol=2e-2)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "int8", "uint8", "int16", "bool"])
def test_scans_of_integers_and_bools(name, dtype):
    """cumsum/cumprod of integers and bools give int64; cummax/cummin keep the dtype."""
    compare(lambda m, x: SCANS[name](m, x, 1), [(3, 7)], dtype=dtype, low=-3, high=4)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("out", ["float64", "int32", "float16"])
def test_cumsum_cumprod_dtype_argument(name, out):
    for src in ("int32", "float32"):
        compare(lambda m, x: getattr(m, name)(x, 0, dtype=getattr(m, out)), [(5, 2)],
                dtype=src, grad=False)
    compare(lambda m, x: getattr(x, name)(1, dtype=m.float64), [(2, 5)])


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
def test_scans_of_0d_and_empty(name):
    compare(lambda m, x: SCANS[name](m, x, 0), [()])
    compare(lambda m, x: SCANS[name](m, x, -1), [()])
    compare(lambda m, x: SCANS[name](m, x, 1), [(3, 0)])
    compare(lambda m, x: SCANS[name](m, x, 0), [(0, 4)])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_ties_take_the_last_index(name):
    rng = np.random.default_rng(1)
    for dtype in (np.float64, np.int64):
        ties = rng.integers(-2, 3, (4, 9)).astype(dtype)
        compare(lambda m, x: SCANS[name](m, x, 1), arrays=[ties])
        compare(lambda m, x: SCANS[name](m, x, 0), arrays=[ties])
    flags = rng.random((3, 8)) < 0.5
    compare(lambda m, x: SCANS[name](m, x, 1), arrays=[flags])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_nan_propagates_with_the_latest_nan_index(name):
    nan = float("nan")
    x = np.array([[1.0, nan, 3.0, nan, 0.0], [2.0, 2.0, -1.0, 5.0, nan],
                  [nan, 1.0, 1.0, nan, nan]])
    compare(lambda m, t: SCANS[name](m, t, 1), arrays=[x])
    compare(lambda m, t: SCANS[name](m, t, 0), arrays=[x])


ZERO_ROWS = [
    [2.0, 0.0, 3.0, 0.5, 4.0],     # one zero
    [2.0, 0.0, 3.0, 0.0, 4.0],     # two zeros: only the first gets a gradient
    [0.0, 1.5, -2.0, 3.0, 1.0],    # a zero first
    [1.5, -2.0, 3.0, 1.0, 0.0],    # a zero last
    [0.0, 0.0, 0.0, 2.0, 3.0],     # zeros in a row
    [1.5, -2.0, 3.0, 1.0, 0.25],   # no zero
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cumprod_gradient_at_zeros_matches_torch(dtype):
    rows = np.array(ZERO_ROWS, dtype=dtype)
    g, _ = compare(lambda m, x: m.cumprod(x, 1), arrays=[rows])
    compare(lambda m, x: m.cumprod(x, 0), arrays=[rows.T.copy()])
    x = genesis.tensor(rows, requires_grad=True)
    genesis.cumprod(x, 1).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_cumprod_double_backward_matches_torch():
    rows = np.array([[1.5, -2.0, 3.0, 0.5]])
    out = []
    for m in (genesis, torch):
        x = m.tensor(rows, requires_grad=True)
        (grad,) = m.autograd.grad(m.cumprod(x, 1).sum(), x, create_graph=True)
        (grad * grad).sum().backward()
        out.append(x.grad.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10)


def test_logcumsumexp_is_stable():
    inf = float("inf")
    wide = np.array([[-1000.0, 0.0, -inf, inf, 5.0], [-inf, -inf, -inf, 0.0, 1.0],
                     [800.0, 799.0, -100.0, 1000.0, 0.5]])
    compare(lambda m, x: m.logcumsumexp(x, 1), arrays=[wide], grad=False)
    log_probs = np.array([[-120.0, -110.5, -300.0, -0.25, -105.0]], dtype=np.float32)
    compare(lambda m, x: m.logcumsumexp(x, 1), arrays=[log_probs])  # exp(-120) underflows
    compare(lambda m, x: m.logcumsumexp(x, 1), [(3, 6)], dtype="float64", low=-50, high=50)


def test_logcumsumexp_gradient_with_zero_and_mixed_sign_upstream():
    x = np.array([[0.5, -1.0, 2.0, 0.25]])
    w = np.array([[1.0, 0.0, -2.0, 0.5]])
    grads = []
    for m in (genesis, torch):
        t = m.tensor(x, requires_grad=True)
        (m.logcumsumexp(t, 1) * m.tensor(w)).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


DIFFS = {
    "n1": lambda m, x: m.diff(x),
    "n2_dim0": lambda m, x: m.diff(x, n=2, dim=0),
    "n0": lambda m, x: m.diff(x, 0),
    "n_beyond": lambda m, x: m.diff(x, n=7, dim=1),
    "method": lambda m, x: x.diff(dim=-1, n=3),
    "prepend": lambda m, x: m.diff(x, dim=1, prepend=x[:, :2] * 2),
    "append": lambda m, x: m.diff(x, n=2, dim=0, append=x[:1] + 1),
    "both": lambda m, x: m.diff(x, 1, 1, x[:, -1:], x[:, :3]),
}


@pytest.mark.parametrize("name", sorted(DIFFS))
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "expanded"])
def test_diff(name, layout):
    compare(DIFFS[name], [(4, 5)], layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64", "bool", "float16"])
def test_diff_dtypes(dtype):
    """bool differences are ``!=``; uint8 wraps around, as in PyTorch."""
    compare(lambda m, x: m.diff(x, dim=1), [(3, 6)], dtype=dtype, low=-4, high=5)
    compare(lambda m, x: m.diff(x, n=2, dim=0), [(4, 3)], dtype=dtype, low=-4, high=5)


def test_diff_promotes_with_prepend_and_handles_empty():
    ints = np.array([3, 1, 2], dtype=np.int32)
    compare(lambda m, x, p: m.diff(x, prepend=p), arrays=[ints, np.array([1.5])])
    compare(lambda m, x: m.diff(x, dim=0), [(0, 3)])
    compare(lambda m, x: m.diff(x), [(1,)])


def test_diff_errors():
    x, t = genesis.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    for lib, v in ((genesis, genesis.tensor(1.0)), (torch, torch.tensor(1.0))):
        with pytest.raises(RuntimeError, match="at least one-dimensional"):
            lib.diff(v)
    for lib, v in ((genesis, x), (torch, t)):
        with pytest.raises(RuntimeError, match="order must be non-negative but got -1"):
            lib.diff(v, n=-1)
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.diff(v, dim=1)
    for lib, v in ((genesis, x), (torch, t)):
        with pytest.raises(RuntimeError, match="same dimension as input"):
            lib.diff(v, prepend=lib.tensor(1))
        with pytest.raises(RuntimeError, match="except along the differencing dimension"):
            lib.diff(v.reshape(1, 3), append=lib.tensor([[1], [2]]))
        with pytest.raises(TypeError, match="prepend"):
            lib.diff(v, prepend=1.0)


def test_scan_errors():
    x = genesis.tensor([1, 2, 3])
    with pytest.raises(IndexError, match="Dimension out of range"):
        genesis.cumsum(x, 1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        genesis.cummax(x, -2)
    with pytest.raises(TypeError):
        genesis.cumsum(x)  # dim is required, as in PyTorch
    with pytest.raises(TypeError, match="dtype"):
        genesis.cumsum(x, 0, dtype="float32")
    with pytest.raises(TypeError, match="input"):
        genesis.cumprod([1, 2], 0)
    for lib in (genesis, torch):
        with pytest.raises(NotImplementedError):
            lib.logcumsumexp(lib.tensor([1, 2]), 0)
        with pytest.raises(NotImplementedError):
            lib.logcumsumexp(lib.tensor([True, False]), 0)


@pytest.mark.parametrize("name", ["cumsum_", "cumprod_"])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_inplace_cumsum_cumprod(name, dtype):
    """The result is cast back to the tensor's dtype; the tensor itself is returned."""
    def fn(m, x):
        y = x.clone()
        out = getattr(y, name)(1)
        assert out is y
        return y
    compare(fn, [(3, 5)], dtype=dtype, grad=dtype == "float32", low=0.5, high=1.5)
    compare(lambda m, x: getattr(x.clone(), name)(0, dtype=x.dtype), [(3, 5)], dtype=dtype,
            grad=False, low=0.5, high=1.5)
    for lib in (genesis, torch):
        with pytest.raises(RuntimeError, match="Bad in-place call"):
            getattr(lib.ones(2, 3, dtype=getattr(lib, dtype)), name)(0, dtype=lib.float64)


def test_inplace_cumsum_refuses_a_leaf_that_requires_grad():
    for lib in (genesis, torch):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            lib.ones(3, requires_grad=True).cumsum_(0)


GRADCHECKS = {
    "cumsum": (lambda x: x.cumsum(1), (0.5, 1.5)),
    "cumprod": (lambda x: x.cumprod(0), (0.5, 1.5)),
    "cumprod_with_zeros": (lambda x: (x * (x > 0.9)).cumprod(1), (0.5, 1.5)),
    "cummax": (lambda x: x.cummax(1).values, (-1, 1)),
    "cummin": (lambda x: x.cummin(0).values, (-1, 1)),
    "logcumsumexp": (lambda x: x.logcumsumexp(1), (-3, 3)),
    "diff": (lambda x: x.diff(n=2, dim=1, prepend=x[:, :1] * 3), (-1, 1)),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck(name):
    fn, (low, high) = GRADCHECKS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    x = genesis.tensor(rng.uniform(low, high, (3, 5)), dtype=genesis.float64,
                       requires_grad=True)
    assert genesis.autograd.gradcheck(fn, [x])
