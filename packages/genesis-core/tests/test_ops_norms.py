"""Norms and distances against PyTorch: linalg.vector_norm / matrix_norm / norm, torch.norm,
Tensor.norm and cdist -- orders, dims, keepdim, dtypes, zeros in gradients, empty inputs and
errors."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare

INF = math.inf
F32 = {"rtol": 1e-4, "atol": 1e-5, "grad_rtol": 1e-4, "grad_atol": 1e-5}


def same_error(fn, exc=RuntimeError):
    messages = []
    for lib in (torch, genesis):
        with pytest.raises(exc) as info:
            fn(lib)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("ord", [2, 1, INF, -INF, 0, 3, 0.5, -1, 1.5, 2.5])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), ()], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm(ord, dim, keepdim):
    compare(lambda m, x: m.linalg.vector_norm(x, ord, dim, keepdim), [(2, 3, 4)], low=0.5,
            high=2, **F32)


@pytest.mark.parametrize("ord", [2, 1, INF, 0, 3, 0.5])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
def test_vector_norm_strided(ord, layout):
    compare(lambda m, x: m.linalg.vector_norm(x, ord, dim=1), [(3, 4)], layout=layout, **F32)


@pytest.mark.parametrize("ord", [2, 1, INF, 3, 0.5, 1.5])
def test_vector_norm_gradient_at_zero(ord):
    """Zero vectors (and zero entries) get PyTorch's finite gradients, not nan."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, -2.0], [3.0, -3.0, 1.0]], np.float64)
    compare(lambda m, t: m.linalg.vector_norm(t, ord, dim=1), arrays=[x])


def test_vector_norm_dtypes():
    compare(lambda m, x: m.linalg.vector_norm(x), [(3, 4)], dtype="float16")
    compare(lambda m, x: m.linalg.vector_norm(x, 1, 0), [(3, 4)], dtype="bfloat16")
    compare(lambda m, x: m.linalg.vector_norm(x, dtype=m.float64), [(3, 4)])
    compare(lambda m, x: m.linalg.vector_norm(x, INF, dtype=m.float32), [(3, 4)],
            dtype="float16")
    compare(lambda m, x: m.linalg.vector_norm(x, 2, 0), [()])
    compare(lambda m, x: m.linalg.vector_norm(x), [()])


def test_vector_norm_empty():
    compare(lambda m, x: m.linalg.vector_norm(x), [(0, 3)])
    compare(lambda m, x: m.linalg.vector_norm(x, 2, 0), [(0, 3)])
    compare(lambda m, x: m.linalg.vector_norm(x, INF, 1), [(0, 3)])
    compare(lambda m, x: m.linalg.vector_norm(x, 0), [(0, 3)])


VECTOR_ERRORS = [
    (lambda m: m.linalg.vector_norm(m.ones(2, dtype=m.int64)), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.ones(0), INF), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.ones(0, 3), -1), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.ones(0, 3), INF, dim=0), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.ones(3), dtype=m.float16), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.ones(3), dtype=m.int64), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.ones(3, dtype=m.float64), dtype=m.float32), RuntimeError),
    (lambda m: m.linalg.vector_norm(m.ones(2), "fro"), TypeError),
]


@pytest.mark.parametrize("i", range(len(VECTOR_ERRORS)))
def test_vector_norm_errors(i):
    fn, exc = VECTOR_ERRORS[i]
    if exc is TypeError:
        for lib in (torch, genesis):
            with pytest.raises(TypeError, match="must be Number, not str"):
                fn(lib)
        return
    same_error(fn, exc)


# -- matrix norms ------------------------------------------------------------------------------

@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, INF, -INF])
@pytest.mark.parametrize("dim", [(-2, -1), (0, 2), (2, 0)], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm(ord, dim, keepdim):
    compare(lambda m, a: m.linalg.matrix_norm(a, ord, dim, keepdim), [(3, 4, 5)], **F32)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, 2, INF])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
def test_matrix_norm_strided(ord, layout):
    compare(lambda m, a: m.linalg.matrix_norm(a, ord), [(2, 3, 3)], layout=layout, **F32)


def test_matrix_norm_dtypes_and_empty():
    compare(lambda m, a: m.linalg.matrix_norm(a), [(2, 3)], dtype="float16")
    compare(lambda m, a: m.linalg.matrix_norm(a, 1), [(2, 3)], dtype="float16")
    compare(lambda m, a: m.linalg.matrix_norm(a, "nuc", dtype=m.float64), [(3, 2)])
    compare(lambda m, a: m.linalg.matrix_norm(a, 2), [(3, 4)], dtype="float64")
    for ord in ("fro", "nuc", 1, -1, 2, INF):
        compare(lambda m, a, o=ord: m.linalg.matrix_norm(a, o), [(0, 2)])
    for ord in ("fro", 1, 2, INF):
        compare(lambda m, a, o=ord: m.linalg.matrix_norm(a, o), [(2, 0)])


MATRIX_ERRORS = [
    lambda m: m.linalg.matrix_norm(m.ones(3)),
    lambda m: m.linalg.matrix_norm(m.ones(2, 3, 4), dim=(0, 0)),
    lambda m: m.linalg.matrix_norm(m.ones(2, 3, 4), dim=(0,)),
    lambda m: m.linalg.matrix_norm(m.ones(2, 2), 3),
    lambda m: m.linalg.matrix_norm(m.ones(2, 2), "bad"),
    lambda m: m.linalg.matrix_norm(m.ones(2, 2, dtype=m.float16), "nuc"),
    lambda m: m.linalg.matrix_norm(m.ones(2, 2, dtype=m.float16), 2),
    lambda m: m.linalg.matrix_norm(m.ones(2, 3, dtype=m.int64)),
    lambda m: m.linalg.matrix_norm(m.ones(2, 3, dtype=m.float64), dtype=m.float32),
]


@pytest.mark.parametrize("i", range(len(MATRIX_ERRORS)))
def test_matrix_norm_errors(i):
    same_error(MATRIX_ERRORS[i])


def test_matrix_norm_min_singular_value_of_empty_raises():
    for lib in (torch, genesis):
        with pytest.raises(IndexError, match="amin"):
            lib.linalg.matrix_norm(lib.ones(0, 2), -2)


# -- linalg.norm and torch.norm -------------------------------------------------------------

LINALG_NORM = [
    ({}, (2, 3, 4)),
    ({"ord": 2}, (4,)),
    ({"ord": INF}, (4,)),
    ({"ord": 2}, (3, 4)),
    ({"ord": "fro"}, (3, 4)),
    ({"ord": "nuc"}, (3, 4)),
    ({"ord": -1}, (3, 4)),
    ({"dim": 1}, (2, 3, 4)),
    ({"dim": (0, 2)}, (2, 3, 4)),
    ({"ord": 3, "dim": (1,)}, (2, 3, 4)),
    ({"ord": INF, "dim": (2, 1), "keepdim": True}, (2, 3, 4)),
    ({"dim": (0, 1), "keepdim": True}, (2, 3, 4)),
]


@pytest.mark.parametrize("kwargs,shape", LINALG_NORM, ids=str)
def test_linalg_norm(kwargs, shape):
    compare(lambda m, a: m.linalg.norm(a, **kwargs), [shape], **F32)


TORCH_NORM = [
    ({}, (2, 3, 4)),
    ({"p": "fro", "dim": (0, 1)}, (2, 3, 4)),
    ({"p": "fro", "dim": 1}, (2, 3, 4)),
    ({"p": "nuc"}, (3, 4)),
    ({"p": "nuc", "dim": (0, 2)}, (2, 3, 4)),
    ({"p": 1}, (2, 3, 4)),
    ({"p": INF, "dim": 1, "keepdim": True}, (2, 3, 4)),
    ({"p": 3, "dim": (0, 1)}, (2, 3, 4)),
    ({"p": None}, (2, 3)),
    ({"p": 2, "dtype": "float64"}, (2, 3)),
]


@pytest.mark.parametrize("kwargs,shape", TORCH_NORM, ids=str)
def test_torch_norm_and_method(kwargs, shape):
    def fn(m, a):
        kw = dict(kwargs)
        if "dtype" in kw:
            kw["dtype"] = getattr(m, kw["dtype"])
        return m.norm(a, **kw), a.norm(**kw)
    compare(fn, [shape], **F32)


NORM_ERRORS = [
    lambda m: m.linalg.norm(m.ones(2, 3, 4), 2),
    lambda m: m.linalg.norm(m.ones(3), "fro"),
    lambda m: m.linalg.norm(m.ones(2, 3, 4), dim=(0, 1, 2)),
    lambda m: m.linalg.norm(m.ones(2, 3), "fro", dim=1),
    lambda m: m.norm(m.ones(2, 3, 4), "nuc"),
    lambda m: m.norm(m.ones(2, 3, 4), "fro", dim=(0, 1, 2)),
    lambda m: m.norm(m.ones(2, 3), "bad"),
    lambda m: m.norm(m.ones(3, dtype=m.int64)),
]


@pytest.mark.parametrize("i", range(len(NORM_ERRORS)))
def test_norm_errors(i):
    same_error(NORM_ERRORS[i])


# -- cdist ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, INF, 3.0, 0.5])
@pytest.mark.parametrize("shapes", [[(4, 3), (5, 3)], [(2, 4, 3), (2, 5, 3)],
                                    [(2, 1, 4, 3), (3, 5, 3)]], ids=str)
def test_cdist(p, shapes):
    compare(lambda m, a, b: m.cdist(a, b, p=p), shapes, **F32)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary",
                                  "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
@pytest.mark.parametrize("rows", [4, 30])
def test_cdist_compute_modes(mode, rows):
    """The matrix-product path (p=2, > 25 rows or forced) and the direct one."""
    compare(lambda m, a, b: m.cdist(a, b, compute_mode=mode), [(rows, 3), (6, 3)], **F32)
    compare(lambda m, a, b: m.cdist(a, b, compute_mode=mode), [(rows, 3), (6, 3)],
            dtype="float64")


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_zero_distance_gradient(mode):
    x = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, -1.0]])
    compare(lambda m, a, b: m.cdist(a, b, compute_mode=mode), arrays=[x, x[:2].copy()])


def test_cdist_layouts_and_empty():
    compare(lambda m, a, b: m.cdist(a, b), [(3, 3), (3, 3)], layout="transposed", **F32)
    compare(lambda m, a, b: m.cdist(a, b, p=1), [(3, 3), (4, 3)], layout="sliced", **F32)
    compare(lambda m, a, b: m.cdist(a, b), [(2, 3, 3), (2, 4, 3)], layout="expanded", **F32)
    compare(lambda m, a, b: m.cdist(a, b), [(0, 3), (4, 3)])
    compare(lambda m, a, b: m.cdist(a, b), [(2, 0), (4, 0)])


CDIST_ERRORS = [
    (lambda m: m.cdist(m.ones(2, 3), m.ones(4, 3, dtype=m.float64)), RuntimeError),
    (lambda m: m.cdist(m.ones(2, 3, dtype=m.float16), m.ones(4, 3, dtype=m.float16)),
     NotImplementedError),
    (lambda m: m.cdist(m.ones(3), m.ones(4, 3)), RuntimeError),
    (lambda m: m.cdist(m.ones(2, 3), m.ones(4, 2)), RuntimeError),
    (lambda m: m.cdist(m.ones(2, 3), m.ones(4, 3), p=-1), RuntimeError),
    (lambda m: m.cdist(m.ones(2, 3), m.ones(4, 3), compute_mode="x"), ValueError),
    (lambda m: m.cdist(m.ones(2, 3, dtype=m.int64), m.ones(4, 3, dtype=m.int64)),
     RuntimeError),
]


@pytest.mark.parametrize("i", range(len(CDIST_ERRORS)))
def test_cdist_errors(i):
    fn, exc = CDIST_ERRORS[i]
    same_error(fn, exc)


def test_gradcheck_float64():
    def f64(*shape):
        return genesis.randn(*shape, dtype=genesis.float64, requires_grad=True)
    gc = genesis.autograd.gradcheck
    assert gc(lambda x: genesis.linalg.vector_norm(x, 3, dim=1), [f64(2, 3)])
    assert gc(lambda x: genesis.linalg.matrix_norm(x, "nuc"), [f64(3, 2)])
    assert gc(lambda x: genesis.linalg.matrix_norm(x, 2), [f64(2, 3)])
    assert gc(lambda a, b: genesis.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
              [f64(3, 2), f64(2, 2)])
