"""Reductions against PyTorch: dims, keepdim, dtypes, ties and zeros in gradients."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare

REDUCTIONS = {
    "sum": lambda m, x, d, k: x.sum(d, keepdim=k) if d is not None else x.sum(),
    "mean": lambda m, x, d, k: x.mean(d, keepdim=k) if d is not None else x.mean(),
    "amax": lambda m, x, d, k: x.amax(d, keepdim=k) if d is not None else x.amax(),
    "amin": lambda m, x, d, k: m.amin(x, d, keepdim=k) if d is not None else m.amin(x),
    "var": lambda m, x, d, k: x.var(d, keepdim=k) if d is not None else x.var(),
    "var_biased": lambda m, x, d, k: x.var(d, keepdim=k, correction=0),
    "std": lambda m, x, d, k: x.std(d, keepdim=k) if d is not None else x.std(),
    "std_unbiased_false": lambda m, x, d, k: m.std(x, d, unbiased=False, keepdim=k),
    "logsumexp": lambda m, x, d, k: m.logsumexp(x, d if d is not None else (0, 1, 2),
                                                keepdim=k),
    "prod": lambda m, x, d, k: x.prod(d, keepdim=k) if isinstance(d, int) else x.prod(),
    "max_dim": lambda m, x, d, k: x.max(d, keepdim=k) if isinstance(d, int) else x.max(),
    "min_dim": lambda m, x, d, k: m.min(x, d, keepdim=k) if isinstance(d, int) else m.min(x),
    "norm_like": lambda m, x, d, k: (x * x).sum(d, keepdim=k).sqrt() if d is not None
    else (x * x).sum().sqrt(),
}
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions(name, dim, keepdim):
    if dim == () and name in ("var", "std", "var_biased", "std_unbiased_false", "logsumexp",
                              "amax", "amin"):
        return  # torch gives dim=() op-specific meanings (all dims or none); tested separately
    if dim is None and name in ("var_biased", "std_unbiased_false"):
        dim = (0, 1, 2)
    compare(lambda m, x: REDUCTIONS[name](m, x, dim, keepdim), [(2, 3, 4)], low=0.5, high=2)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "var", "logsumexp", "max_dim", "prod"])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
def test_reductions_non_contiguous(name, layout):
    compare(lambda m, x: REDUCTIONS[name](m, x, 1, False), [(3, 4, 5)], layout=layout)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "prod", "var", "logsumexp"])
def test_reductions_of_0d(name):
    dim = 0 if name != "logsumexp" else 0
    compare(lambda m, x: REDUCTIONS[name](m, x, dim, False), [()])
    compare(lambda m, x: REDUCTIONS[name](m, x, None, False), [()]) if name != "logsumexp" \
        else None


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "logsumexp", "amax"])
def test_reductions_of_empty(name):
    if name == "amax":
        with pytest.raises((RuntimeError, IndexError)):
            torch.zeros(0, 3).amax(0)
        with pytest.raises((RuntimeError, IndexError)):
            genesis.zeros(0, 3).amax(0)
        compare(lambda m, x: x.amax(1), [(0, 3)])
        return
    compare(lambda m, x: REDUCTIONS[name](m, x, 0, False), [(0, 3)])
    compare(lambda m, x: REDUCTIONS[name](m, x, 1, True), [(0, 3)])


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool", "int8"])
@pytest.mark.parametrize("op", ["sum", "sum_dim", "prod", "amax", "max_dim", "argmax", "all",
                                "any"])
def test_integer_reductions_dtypes(dtype, op):
    if (op, dtype) == ("argmax", "bool"):
        # Divergence: torch refuses argmax of bool; genesis answers (False < True), harmless.
        assert genesis.tensor([False, True, True]).argmax().item() == 1
        return
    fns = {"sum": lambda m, x: x.sum(), "sum_dim": lambda m, x: x.sum(1, keepdim=True),
           "prod": lambda m, x: x.prod(0), "amax": lambda m, x: x.amax(1),
           "max_dim": lambda m, x: x.max(0), "argmax": lambda m, x: x.argmax(1),
           "all": lambda m, x: x.all(1), "any": lambda m, x: x.any()}
    compare(fns[op], [(3, 4)], dtype=dtype, low=0, high=3, grad=False)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_float_reduction_dtypes(dtype):
    compare(lambda m, x: (x.sum(0), x.mean(1), x.amax(), x.var(1)), [(4, 6)], dtype=dtype)


def test_sum_with_dtype_argument():
    compare(lambda m, x: x.sum(dtype=m.float64), [(3, 4)])
    compare(lambda m, x: x.sum(0, dtype=m.float32), [(3, 4)], dtype="int32")
    compare(lambda m, x: x.mean(dtype=m.float64), [(3, 4)], dtype="int64", grad=False)


def test_mean_of_integers_raises():
    with pytest.raises(RuntimeError, match="mean"):
        genesis.tensor([1, 2]).mean()


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_arg_reductions(op, dim, keepdim):
    # ties: the first index wins in both
    a = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, -1.0], [5.0, 0.0, 5.0, 0.0]])
    compare(lambda m, x: getattr(x, op)(dim, keepdim), arrays=[a], grad=False)
    compare(lambda m, x: getattr(m, op)(x, dim=dim, keepdim=keepdim), [(3, 4)],
            layout="transposed", grad=False)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_dim_ties_gradient(op):
    # values with ties: torch routes the gradient of max(dim) to the index it returns
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]])
    compare(lambda m, x: getattr(x, op)(1), arrays=[a])
    compare(lambda m, x: getattr(x, op)(0, keepdim=True), arrays=[a])


@pytest.mark.parametrize("op", ["max", "min", "amax", "amin"])
def test_full_reduction_ties_share_gradient(op):
    a = np.array([[1.0, 3.0, 3.0], [3.0, -2.0, -2.0]])
    compare(lambda m, x: getattr(x, op)(), arrays=[a])
    compare(lambda m, x: getattr(x, op)() if op in ("max", "min") else getattr(x, op)(1),
            arrays=[a])


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 1.0, 5.0],
                                    [1.5, -2.0, 3.0, 0.5], [0.0, 2.0, 0.0, 0.0]], ids=str)
def test_prod_gradient_with_zeros(values):
    a = np.array([values, values[::-1], [1.0, 2.0, 3.0, 4.0]])
    compare(lambda m, x: x.prod(1), arrays=[a])
    compare(lambda m, x: x.prod(0, keepdim=True), arrays=[a])
    compare(lambda m, x: x.prod(), arrays=[a])


def test_max_with_other_tensor_and_named_results():
    compare(lambda m, x, y: m.max(x, y), [(3, 4), (4,)])
    g = genesis.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    assert g.values.tolist() == [5.0, 7.0] and g.indices.tolist() == [1, 0]
    values, indices = genesis.tensor([[1.0, 5.0]]).min(dim=1)
    assert values.tolist() == [1.0] and indices.dtype is genesis.int64


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_correction(correction):
    compare(lambda m, x: (x.var(1, correction=correction), x.std(0, correction=correction)),
            [(4, 5)])


def test_var_of_single_element_is_nan_like_torch():
    compare(lambda m, x: x.var(), [(1,)], grad=False)
    compare(lambda m, x: x.std(0), [(1, 3)], grad=False)


def test_logsumexp_stability():
    a = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [-np.inf, 0.0]])
    compare(lambda m, x: m.logsumexp(x, 1), arrays=[a])
    compare(lambda m, x: x.logsumexp(0), arrays=[np.array([[-np.inf, 1.0], [-np.inf, 2.0]])],
            grad=False)


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_all_any(op, dim):
    a = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    kw = {} if dim is None else {"dim": dim}
    compare(lambda m, x: getattr(m, op)(x, **kw), arrays=[a], grad=False)
    compare(lambda m, x: getattr(x, op)(**kw), arrays=[a > 2], grad=False)
    compare(lambda m, x: getattr(x, op)(), arrays=[np.zeros((0, 2))], grad=False)


@pytest.mark.parametrize("dim", [3, -4, (0, 0)], ids=str)
def test_bad_dims(dim):
    with pytest.raises((IndexError, RuntimeError)):
        torch.zeros(2, 3, 4).sum(dim)
    with pytest.raises((IndexError, RuntimeError)):
        genesis.zeros(2, 3, 4).sum(dim)
