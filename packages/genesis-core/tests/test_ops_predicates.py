"""Predicates against PyTorch: isnan/isinf/isfinite/isposinf/isneginf/signbit, isclose,
allclose, equal, isin, count_nonzero and nan_to_num (values, dtypes, layouts, errors)."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from torch_compare import FLOAT_DTYPES, LAYOUTS, assert_close, compare, make_pair

SPECIAL = np.array([[0.0, -0.0, 1.5, -2.0], [math.inf, -math.inf, math.nan, 3e38]])

VALUE_TESTS = {
    "isnan": lambda m, x: m.isnan(x),
    "isinf": lambda m, x: m.isinf(x),
    "isposinf": lambda m, x: m.isposinf(x),
    "isneginf": lambda m, x: m.isneginf(x),
    "isfinite": lambda m, x: m.isfinite(x),
    "signbit": lambda m, x: m.signbit(x),
    "isnan_method": lambda m, x: x.isnan(),
    "isinf_method": lambda m, x: x.isinf(),
    "isfinite_method": lambda m, x: x.isfinite(),
    "isposinf_method": lambda m, x: x.isposinf(),
    "isneginf_method": lambda m, x: x.isneginf(),
    "signbit_method": lambda m, x: x.signbit(),
}


@pytest.mark.parametrize("name", sorted(VALUE_TESTS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_value_tests_on_special_values(name, dtype):
    compare(VALUE_TESTS[name], arrays=[SPECIAL.astype("float64")], grad=False)
    g, t = make_pair(SPECIAL, dtype)
    assert_close(VALUE_TESTS[name](genesis, g), VALUE_TESTS[name](torch, t))


@pytest.mark.parametrize("name", sorted(VALUE_TESTS))
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64", "bool"])
def test_value_tests_on_integers(name, dtype):
    compare(VALUE_TESTS[name], [(3, 4)], dtype=dtype, grad=False)


@pytest.mark.parametrize("name", sorted(VALUE_TESTS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_value_tests_layouts(name, layout):
    compare(VALUE_TESTS[name], [(3, 4)], layout=layout)


@pytest.mark.parametrize("name", sorted(VALUE_TESTS))
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_value_tests_edge_shapes(name, shape):
    compare(VALUE_TESTS[name], [shape])


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "signbit"])
def test_value_tests_need_a_tensor(name):
    with pytest.raises(TypeError):
        getattr(torch, name)(1.0)
    with pytest.raises(TypeError, match="must be Tensor"):
        getattr(genesis, name)(1.0)


# -- isclose / allclose / equal ------------------------------------------------------------------

CLOSE_A = np.array([1.0, 1.0, math.inf, math.inf, math.nan, 0.0, 1e-9, 100.0, -math.inf])
CLOSE_B = np.array([1.0 + 1e-6, 1.1, math.inf, -math.inf, math.nan, 1e-8, 0.0, 100.001,
                    -math.inf])

CLOSENESS = {
    "isclose": lambda m, x, y: m.isclose(x, y),
    "isclose_nan": lambda m, x, y: m.isclose(x, y, equal_nan=True),
    "isclose_tol": lambda m, x, y: m.isclose(x, y, rtol=1e-3, atol=1e-2),
    "isclose_zero_tol": lambda m, x, y: m.isclose(x, y, rtol=0, atol=0),
    "isclose_method": lambda m, x, y: x.isclose(y, 0.2),
    "allclose": lambda m, x, y: m.allclose(x, y),
    "allclose_nan": lambda m, x, y: m.allclose(x, y, equal_nan=True),
    "allclose_method": lambda m, x, y: x.allclose(y, rtol=0.5, atol=1.0),
    "allclose_prefix": lambda m, x, y: m.allclose(x[:2], y[:2], rtol=0.2),
    "equal": lambda m, x, y: m.equal(x, y),
    "equal_self": lambda m, x, y: m.equal(x[:4], x[:4]),
    "equal_method": lambda m, x, y: x[:2].equal(x[:2]),
}


@pytest.mark.parametrize("name", sorted(CLOSENESS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_closeness_special_values(name, dtype):
    ga, ta = make_pair(CLOSE_A, dtype)
    gb, tb = make_pair(CLOSE_B, dtype)
    expected, got = CLOSENESS[name](torch, ta, tb), CLOSENESS[name](genesis, ga, gb)
    if isinstance(expected, bool):
        assert type(got) is bool and got == expected
    else:
        assert_close(got, expected)


@pytest.mark.parametrize("name", sorted(CLOSENESS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_closeness_layouts(name, layout):
    compare(lambda m, x, y: CLOSENESS[name](m, x.reshape(-1), y.reshape(-1)),
            [(3, 4), (3, 4)], layout=layout, grad=False)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("name", ["isclose", "isclose_tol", "allclose", "equal",
                                  "isclose_zero_tol"])
def test_closeness_integers(name, dtype):
    compare(CLOSENESS[name], [(6,), (6,)], dtype=dtype, grad=False)
    compare(lambda m, x: CLOSENESS[name](m, x, x), [(6,)], dtype=dtype, grad=False)


def test_isclose_integer_tolerances_in_float():
    x, y = np.array([1, 2, 3, 100]), np.array([2, 2, 5, 103])
    compare(lambda m, a, b: m.isclose(a, b, rtol=0.3, atol=0.5), arrays=[x, y], grad=False)
    compare(lambda m, a, b: m.isclose(a, b, atol=1.0, rtol=0), arrays=[x, y], grad=False)


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((2, 1), (1, 3)), ((), (3,)), ((0, 2), (2,))],
                         ids=str)
def test_isclose_allclose_broadcast(shapes):
    compare(lambda m, x, y: m.isclose(x, y, rtol=0.5), shapes, grad=False)
    compare(lambda m, x, y: m.allclose(x, y, atol=5.0), shapes, grad=False)


def test_equal_shapes_and_dtypes():
    compare(lambda m, x, y: m.equal(x, y), arrays=[np.ones(3), np.ones(2)])  # shape mismatch
    compare(lambda m, x, y: m.equal(x[:1], x[:1].expand(3)), arrays=[np.ones(3), np.ones(2)])
    compare(lambda m, x, y: m.equal(x, y), arrays=[np.arange(3), np.arange(3.0)])  # int/float
    compare(lambda m, x, y: m.equal(x, y.float()), arrays=[np.arange(3.0), np.arange(3.0)])
    compare(lambda m, x, y: m.equal(x, y), arrays=[np.zeros((0, 2)), np.zeros((0, 2))])
    compare(lambda m, x, y: m.equal(x, y), arrays=[np.array([math.nan]), np.array([math.nan])])


def test_closeness_errors():
    g, t = make_pair(np.ones(3), "float32")
    g64, t64 = make_pair(np.ones(3), "float64")
    for lib, a, b in ((torch, t, t64), (genesis, g, g64)):
        with pytest.raises(RuntimeError, match="did not match"):
            lib.isclose(a, b)
        with pytest.raises(RuntimeError, match="did not match"):
            lib.allclose(a, b)
        with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero"):
            lib.isclose(a, a, rtol=-1)
        with pytest.raises(RuntimeError, match="atol must be greater than or equal to zero"):
            lib.allclose(a, a, atol=-1)
        for fn in (lib.isclose, lib.allclose, lib.equal):
            with pytest.raises(TypeError):
                fn(a, 1.0)


# -- isin ---------------------------------------------------------------------------------------

ISIN = {
    "plain": lambda m, x, y: m.isin(x, y),
    "invert": lambda m, x, y: m.isin(x, y, invert=True),
    "unique": lambda m, x, y: m.isin(x, y, assume_unique=True),
    "2d_tests": lambda m, x, y: m.isin(x, y.reshape(2, -1)),
    "scalar_elements": lambda m, x, y: m.isin(3, y),
    "scalar_tests": lambda m, x, y: m.isin(x, 2),
    "scalar_tests_invert": lambda m, x, y: m.isin(x, -1, invert=True),
}


@pytest.mark.parametrize("name", sorted(ISIN))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32", "float64"])
def test_isin(name, dtype):
    compare(ISIN[name], [(3, 4), (6,)], dtype=dtype, low=-3, high=4, grad=False)


@pytest.mark.parametrize("name", ["plain", "invert"])
@pytest.mark.parametrize("shapes", [((0,), (4,)), ((3,), (0,)), ((), (4,)), ((2, 0), (0,))],
                         ids=str)
def test_isin_edge_shapes(name, shapes):
    compare(ISIN[name], shapes, dtype="int64", grad=False)


def test_isin_promotes_and_nan_is_never_in():
    compare(lambda m, x, y: m.isin(x, y), arrays=[np.array([1.0, 2.5, 3.0]), np.array([3, 1])])
    compare(lambda m, x, y: m.isin(x, y), arrays=[np.array([1.0, math.nan]),
                                                   np.array([math.nan, 1.0])])
    compare(lambda m, x, y: m.isin(x, y), arrays=[np.arange(6.0), np.arange(6.0)])


def test_isin_in_blocks(monkeypatch):
    from genesis._ops import predicates
    monkeypatch.setattr(predicates, "_ISIN_BLOCK", 8)  # 4 tests: blocks of 2 elements
    compare(lambda m, x, y: m.isin(x, y), [(3, 5), (4,)], dtype="int64", low=-3, high=3)


def test_isin_errors():
    g, t = make_pair(np.array([True, False]), "bool")
    for lib, x in ((torch, t), (genesis, g)):
        with pytest.raises(RuntimeError):
            lib.isin(x, x)
        with pytest.raises(TypeError):
            lib.isin(2, 2)
        with pytest.raises(TypeError):
            lib.isin(x.long(), [1, 2])


# -- count_nonzero ------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1), (), (1,)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8", "bool"])
def test_count_nonzero(dim, dtype):
    compare(lambda m, x: m.count_nonzero(x.round() if x.is_floating_point() else x, dim=dim),
            [(3, 4)], dtype=dtype, low=-1, high=1, grad=False)
    compare(lambda m, x: (x.round() if x.is_floating_point() else x).count_nonzero(dim),
            [(3, 4)], dtype=dtype, low=-1, high=1, grad=False, layout="transposed")


def test_count_nonzero_special_and_empty():
    compare(lambda m, x: m.count_nonzero(x), arrays=[SPECIAL])
    compare(lambda m, x: m.count_nonzero(x, 1), arrays=[np.zeros((2, 0))])
    compare(lambda m, x: m.count_nonzero(x), arrays=[np.array(0.0)])


def test_count_nonzero_errors():
    g, t = make_pair(np.ones((2, 3)), "float32")
    for lib, x in ((torch, t), (genesis, g)):
        with pytest.raises(RuntimeError, match="appears multiple times"):
            lib.count_nonzero(x, dim=(0, 0))
        with pytest.raises(IndexError):
            lib.count_nonzero(x, dim=2)


# -- nan_to_num ---------------------------------------------------------------------------------

NAN_TO_NUM = {
    "default": lambda m, x: m.nan_to_num(x),
    "values": lambda m, x: m.nan_to_num(x, nan=1.5, posinf=100.0, neginf=-7.0),
    "positional": lambda m, x: m.nan_to_num(x, 2.0, 3.0),
    "method": lambda m, x: x.nan_to_num(neginf=0.0),
    "big_posinf": lambda m, x: m.nan_to_num(x, posinf=1e10),
}


@pytest.mark.parametrize("name", sorted(NAN_TO_NUM))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_to_num_values_and_gradient(name, dtype):
    compare(lambda m, x: NAN_TO_NUM[name](m, x.to(getattr(m, dtype))),
            arrays=[SPECIAL.astype("float64")])


@pytest.mark.parametrize("name", sorted(NAN_TO_NUM))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_nan_to_num_layouts(name, layout):
    compare(NAN_TO_NUM[name], [(3, 4)], layout=layout)


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_nan_to_num_integers_copy(dtype):
    def fn(m, x):
        out = m.nan_to_num(x, nan=2.5)
        assert out is not x
        return out
    compare(fn, [(2, 3)], dtype=dtype)


def test_nan_to_num_inplace():
    def fn(m, x):
        y = x * 2
        out = y.nan_to_num_(nan=1.0, posinf=2.0)
        assert out is y
        return y
    compare(fn, arrays=[SPECIAL])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        genesis.ones(2, requires_grad=True).nan_to_num_()
