"""Vector and matrix products against PyTorch: dot, vdot, inner, outer/ger, mv, addmm,
addmv, addr, baddbmm, addbmm (and in-place forms), cross, linalg.cross, multi_dot, vecdot."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare


def same_error(fn, exc=RuntimeError):
    """``fn(lib)`` raises ``exc`` with the same message in torch and genesis."""
    messages = []
    for lib in (torch, genesis):
        with pytest.raises(exc) as info:
            fn(lib)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


CASES = {
    "dot": (lambda m, a, b: m.dot(a, b), [(4,), (4,)]),
    "vdot": (lambda m, a, b: m.vdot(a, b), [(4,), (4,)]),
    "inner": (lambda m, a, b: m.inner(a, b), [(2, 3), (4, 3)]),
    "inner_1d": (lambda m, a, b: m.inner(a, b), [(3,), (3,)]),
    "outer": (lambda m, a, b: m.outer(a, b), [(3,), (4,)]),
    "ger": (lambda m, a, b: m.ger(a, b), [(3,), (4,)]),
    "mv": (lambda m, a, b: m.mv(a, b), [(3, 4), (4,)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b), [(2, 4), (2, 3), (3, 4)]),
    "addmm_scaled": (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2),
                     [(2, 4), (2, 3), (3, 4)]),
    "addmm_broadcast": (lambda m, c, a, b: m.addmm(c, a, b, beta=2), [(4,), (2, 3), (3, 4)]),
    "addmv": (lambda m, c, a, b: m.addmv(c, a, b, beta=0.5, alpha=3), [(3,), (3, 4), (4,)]),
    "addmv_broadcast": (lambda m, c, a, b: m.addmv(c, a, b), [(1,), (3, 4), (4,)]),
    "addr": (lambda m, c, a, b: m.addr(c, a, b, beta=2, alpha=0.5), [(3, 4), (3,), (4,)]),
    "baddbmm": (lambda m, c, a, b: m.baddbmm(c, a, b, beta=0.5, alpha=2),
                [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    "baddbmm_broadcast": (lambda m, c, a, b: m.baddbmm(c, a, b), [(3, 4), (2, 3, 5), (2, 5, 4)]),
    "addbmm": (lambda m, c, a, b: m.addbmm(c, a, b, beta=2, alpha=-1),
               [(3, 4), (2, 3, 5), (2, 5, 4)]),
    "cross": (lambda m, a, b: m.cross(a, b, dim=1), [(2, 3), (2, 3)]),
    "cross_default_dim": (lambda m, a, b: m.cross(a, b), [(4, 3, 2), (4, 3, 2)]),
    "linalg_cross": (lambda m, a, b: m.linalg.cross(a, b), [(4, 3), (1, 3)]),
    "linalg_cross_dim": (lambda m, a, b: m.linalg.cross(a, b, dim=0), [(3, 2, 2), (3, 2, 2)]),
    "multi_dot": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(2, 5), (5, 3), (3, 4)]),
    "multi_dot_vectors": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
                          [(5,), (5, 3), (3,)]),
    "multi_dot_first_vector": (lambda m, a, b: m.linalg.multi_dot([a, b]), [(5,), (5, 3)]),
    "multi_dot_last_vector": (lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
                              [(6, 2), (2, 5), (5, 3), (3,)]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b), [(2, 3), (3,)]),
    "vecdot_dim": (lambda m, a, b: m.linalg.vecdot(a, b, dim=0), [(3, 2), (3, 1)]),
}
SQUARE_CASES = {  # inputs whose every shape is square, for the transposed layout
    "mv": (lambda m, a, b: m.mv(a, b), [(3, 3), (3,)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b, alpha=2), [(3, 3), (3, 3), (3, 3)]),
    "baddbmm": (lambda m, c, a, b: m.baddbmm(c, a, b), [(2, 3, 3), (2, 3, 3), (2, 3, 3)]),
    "addbmm": (lambda m, c, a, b: m.addbmm(c, a, b), [(3, 3), (2, 3, 3), (2, 3, 3)]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b, dim=0), [(3, 3), (3, 3)]),
    "multi_dot": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(3, 3)] * 3),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_match_torch(name, dtype):
    fn, shapes = CASES[name]
    compare(fn, shapes, dtype=dtype)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("layout", ["sliced", "expanded"])
def test_products_strided_and_broadcast_inputs(name, layout):
    fn, shapes = CASES[name]
    compare(fn, shapes, layout=layout)


@pytest.mark.parametrize("name", sorted(SQUARE_CASES))
def test_products_transposed_inputs(name):
    fn, shapes = SQUARE_CASES[name]
    compare(fn, shapes, layout="transposed")


OTHER_DTYPE_CASES = ["dot", "vdot", "inner", "outer", "mv", "addmm", "addmm_broadcast",
                     "baddbmm_broadcast", "addmv_broadcast", "cross", "linalg_cross",
                     "multi_dot"]
INTEGRAL_SCALARS = {  # float beta/alpha are truncated for integer tensors (addr refuses them)
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.7), [(2, 4), (2, 3), (3, 4)]),
    "addmv": (lambda m, c, a, b: m.addmv(c, a, b, beta=-2, alpha=0.5), [(3,), (3, 4), (4,)]),
    "addr": (lambda m, c, a, b: m.addr(c, a, b, beta=2, alpha=-3), [(3, 4), (3,), (4,)]),
    "baddbmm": (lambda m, c, a, b: m.baddbmm(c, a, b, beta=1.5, alpha=3),
                [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    "addbmm": (lambda m, c, a, b: m.addbmm(c, a, b, beta=2, alpha=-1.9),
               [(3, 4), (2, 3, 5), (2, 5, 4)]),
}


@pytest.mark.parametrize("name", OTHER_DTYPE_CASES)
@pytest.mark.parametrize("dtype", ["int32", "int64", "float16"])
def test_products_other_dtypes(name, dtype):
    fn, shapes = CASES[name]
    compare(fn, shapes, dtype=dtype)


@pytest.mark.parametrize("name", sorted(INTEGRAL_SCALARS))
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_multiply_adds_of_integers(name, dtype):
    fn, shapes = INTEGRAL_SCALARS[name]
    compare(fn, shapes, dtype=dtype)


def test_products_bool_and_promotion():
    compare(lambda m, a, b: m.outer(a, b), [(2,), (3,)], dtype="bool")
    compare(lambda m, c, a, b: m.addr(c, a, b), [(2, 3), (2,), (3,)], dtype="bool")
    compare(lambda m, c, a, b: m.addr(c, a, b, beta=0), [(2, 3), (2,), (3,)], dtype="bool")
    compare(lambda m, a, b: m.outer(a, b), arrays=[np.arange(3), np.ones(2, np.float32)])
    # (torch's addr backward fails on mixed dtypes: forward only)
    compare(lambda m, c, a, b: m.addr(c, a, b),
            arrays=[np.ones((2, 3), np.float32), np.arange(2), np.ones(3, np.float32)],
            grad=False)


@pytest.mark.parametrize("fn", [lambda m, x: m.dot(x[0], x[0]), lambda m, x: m.mv(x, x[0]),
                                lambda m, x: m.addmm(x, x, x),
                                lambda m, x: m.linalg.cross(x, x)])
def test_products_refuse_bool_like_torch(fn):
    same_error(lambda m: fn(m, m.ones(3, 3, dtype=m.bool)), NotImplementedError)


def test_beta_zero_ignores_input_values():
    nan = np.full((2, 4), np.nan, np.float32)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3), np.float32), rng.standard_normal((3, 4), np.float32)
    compare(lambda m, c, x, y: m.addmm(c, x, y, beta=0), arrays=[nan, a, b])
    compare(lambda m, c, x, y: m.baddbmm(c, x, y, beta=0),
            arrays=[nan, a[None], b[None]])


@pytest.mark.parametrize("name", ["dot", "inner", "outer", "mv", "addmm", "baddbmm", "addbmm",
                                  "multi_dot", "vecdot"])
def test_products_of_empty(name):
    shapes = {"dot": [(0,), (0,)], "inner": [(2, 0), (3, 0)], "outer": [(0,), (3,)],
              "mv": [(2, 0), (0,)], "addmm": [(2, 3), (2, 0), (0, 3)],
              "baddbmm": [(0, 2, 3), (0, 2, 4), (0, 4, 3)], "addbmm": [(2, 3), (0, 2, 4),
                                                                       (0, 4, 3)],
              "multi_dot": [(2, 0), (0, 3), (3, 4)], "vecdot": [(0, 3), (0, 3)]}[name]
    compare(CASES[name][0], shapes)


@pytest.mark.parametrize("method", ["dot", "vdot", "inner", "outer", "ger", "mv", "addmm",
                                    "addmv", "addr", "baddbmm", "addbmm", "cross"])
def test_tensor_methods(method):
    shapes = {"dot": [(3,), (3,)], "vdot": [(3,), (3,)], "inner": [(2, 3), (3,)],
              "outer": [(2,), (3,)], "ger": [(2,), (3,)], "mv": [(2, 3), (3,)],
              "addmm": [(2, 4), (2, 3), (3, 4)], "addmv": [(2,), (2, 3), (3,)],
              "addr": [(2, 3), (2,), (3,)], "baddbmm": [(2, 3, 4), (2, 3, 5), (2, 5, 4)],
              "addbmm": [(3, 4), (2, 3, 5), (2, 5, 4)], "cross": [(2, 3), (2, 3)]}[method]
    compare(lambda m, x, *rest: getattr(x, method)(*rest), shapes)


@pytest.mark.parametrize("method,shapes", [
    ("addmm_", [(2, 4), (2, 3), (3, 4)]),
    ("addmv_", [(2,), (2, 3), (3,)]),
    ("addr_", [(2, 3), (2,), (3,)]),
    ("baddbmm_", [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    ("addbmm_", [(3, 4), (2, 3, 5), (2, 5, 4)]),
])
def test_inplace_methods(method, shapes):
    def fn(m, c, *rest):
        out = c * 1  # a non-leaf, so the in-place op is recorded
        res = getattr(out, method)(*rest, beta=0.5, alpha=2)
        assert res is out
        return out
    compare(fn, shapes)


def test_inplace_shape_error():
    same_error(lambda m: m.ones(3).addmm_(m.ones(2, 3), m.ones(3, 3)))


ERRORS = [
    (lambda m: m.dot(m.ones(3), m.ones(3, dtype=m.float64)), RuntimeError),
    (lambda m: m.dot(m.ones(3), m.ones(4)), RuntimeError),
    (lambda m: m.dot(m.ones(3, 1), m.ones(3)), RuntimeError),
    (lambda m: m.vdot(m.ones(3), m.ones(3, 1)), RuntimeError),
    (lambda m: m.inner(m.ones(2, 3), m.ones(4, 2)), RuntimeError),
    (lambda m: m.inner(m.ones(2, 3, dtype=m.int64), m.ones(4, 3)), RuntimeError),
    (lambda m: m.outer(m.ones(2, 1), m.ones(3)), RuntimeError),
    (lambda m: m.mv(m.ones(2, 3), m.ones(4)), RuntimeError),
    (lambda m: m.mv(m.ones(2, 3), m.ones(3, 1)), RuntimeError),
    (lambda m: m.mv(m.ones(2, 3, dtype=m.int64), m.ones(3)), RuntimeError),
    (lambda m: m.addmv(m.ones(2), m.ones(2, 3), m.ones(4)), RuntimeError),
    (lambda m: m.addmv(m.ones(2), m.ones(2, 3, dtype=m.int64), m.ones(3, dtype=m.int64)),
     RuntimeError),
    (lambda m: m.addmm(m.ones(3), m.ones(2, 3), m.ones(3, 3, dtype=m.float64)), RuntimeError),
    (lambda m: m.addmm(m.ones(3, dtype=m.float64), m.ones(2, 3), m.ones(3, 3)), RuntimeError),
    (lambda m: m.addmm(m.ones(3), m.ones(2, 3), m.ones(4, 3)), RuntimeError),
    (lambda m: m.addmm(m.ones(3), m.ones(2, 3, 1), m.ones(3, 3)), RuntimeError),
    (lambda m: m.addr(m.ones(2, 3, dtype=m.int64), m.ones(2, dtype=m.int64),
                      m.ones(3, dtype=m.int64), beta=2.0), RuntimeError),
    (lambda m: m.addr(m.ones(2, 3), m.ones(2, 1), m.ones(3)), RuntimeError),
    (lambda m: m.baddbmm(m.ones(2, 3), m.ones(5, 2, 4), m.ones(4, 4, 3)), RuntimeError),
    (lambda m: m.baddbmm(m.ones(2, 3), m.ones(5, 2, 4), m.ones(5, 5, 3)), RuntimeError),
    (lambda m: m.baddbmm(m.ones(2, 3), m.ones(5, 2), m.ones(5, 4, 3)), RuntimeError),
    (lambda m: m.baddbmm(m.ones(2, 3), m.ones(5, 2, 4, dtype=m.int64), m.ones(5, 4, 3)),
     RuntimeError),
    (lambda m: m.addbmm(m.ones(2, 3), m.ones(5, 2, 4), m.ones(4, 4, 3)), RuntimeError),
    (lambda m: m.cross(m.ones(4, 4), m.ones(4, 4)), RuntimeError),
    (lambda m: m.cross(m.ones(3), m.ones(4, 3)), RuntimeError),
    (lambda m: m.linalg.cross(m.ones(4, 2), m.ones(4, 2)), RuntimeError),
    (lambda m: m.linalg.cross(m.ones(3, 4), m.ones(3, 4), dim=1), RuntimeError),
    (lambda m: m.linalg.cross(m.ones(4, 3, dtype=m.int64), m.ones(4, 3)), RuntimeError),
    (lambda m: m.linalg.cross(m.ones(4, 3), m.ones(4, 3), dim=2), IndexError),
    (lambda m: m.linalg.multi_dot([m.ones(3, 4)]), RuntimeError),
    (lambda m: m.linalg.multi_dot([]), RuntimeError),
    (lambda m: m.linalg.multi_dot([m.ones(3, 4), m.ones(2, 4, 5)]), RuntimeError),
    (lambda m: m.linalg.multi_dot([m.ones(3, 4), m.ones(4, 5, dtype=m.float64)]),
     RuntimeError),
    (lambda m: m.linalg.multi_dot([m.ones(3, 4), m.ones(3, 5)]), RuntimeError),
    (lambda m: m.linalg.vecdot(m.ones(2, 3), m.ones(3, dtype=m.float64)), RuntimeError),
    (lambda m: m.linalg.vecdot(m.ones(2, 3, dtype=m.int64), m.ones(3, dtype=m.int64)),
     RuntimeError),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    fn, exc = ERRORS[i]
    if exc is IndexError:  # genesis names the argument in its dimension errors
        for lib in (torch, genesis):
            with pytest.raises(IndexError, match="Dimension out of range"):
                fn(lib)
        return
    same_error(fn, exc)


def test_gradcheck_float64():
    def f64(*shape):
        return genesis.randn(*shape, dtype=genesis.float64, requires_grad=True)
    gc = genesis.autograd.gradcheck
    assert gc(lambda c, a, b: genesis.addmm(c, a, b, beta=0.5, alpha=2),
              [f64(2, 4), f64(2, 3), f64(3, 4)])
    assert gc(lambda a, b: genesis.linalg.cross(a, b), [f64(2, 3), f64(2, 3)])
    assert gc(lambda a, b, c: genesis.linalg.multi_dot([a, b, c]), [f64(3), f64(3, 2), f64(2)])
