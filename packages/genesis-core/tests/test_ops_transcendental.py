"""log1p/expm1/erfinv/atan2 (primitives) and the trigonometric/hyperbolic composites, against
PyTorch: values and gradients over each function's domain, strided inputs, edge values, and
integer inputs (promoted to the default float dtype, as in PyTorch)."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, compare

#: function -> the input range its domain allows (gradients finite inside it)
DOMAINS = {
    "log1p": (-0.9, 3.0), "expm1": (-3.0, 3.0), "erfinv": (-0.95, 0.95),
    "tan": (-1.4, 1.4), "atan": (-5.0, 5.0), "asin": (-0.95, 0.95), "acos": (-0.95, 0.95),
    "sinh": (-3.0, 3.0), "cosh": (-3.0, 3.0), "asinh": (-5.0, 5.0), "acosh": (1.05, 5.0),
    "atanh": (-0.95, 0.95),
}


@pytest.mark.parametrize("name", sorted(DOMAINS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_matches_torch(name, dtype):
    low, high = DOMAINS[name]
    compare(lambda lib, x: getattr(lib, name)(x), [(4, 5)], dtype=dtype, low=low, high=high)


@pytest.mark.parametrize("name", sorted(DOMAINS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unary_on_strided_inputs(name, layout):
    low, high = DOMAINS[name]
    compare(lambda lib, x: getattr(lib, name)(x) * 1, [(3, 4)], layout=layout, low=low,
            high=high)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_method_and_half_precision(name):
    low, high = DOMAINS[name]
    compare(lambda lib, x: getattr(x, name)(), [(6,)], dtype="float16", low=low, high=high,
            grad=False)


@pytest.mark.parametrize("name", ["log1p", "expm1", "sinh", "asinh", "atanh", "atan", "tan",
                                  "asin"])
def test_tiny_arguments_keep_full_precision(name):
    x = np.array([1e-12, -3e-9, 1e-6, 0.0, -0.0])
    compare(lambda lib, t: getattr(lib, name)(t), arrays=[x], rtol=1e-14, atol=0)


@pytest.mark.parametrize("name, values", [
    ("expm1", [-800.0, -40.0, 40.0, 800.0]), ("log1p", [-1.0, 1e300, -2.0]),
    ("erfinv", [1.0, -1.0, 1.5, 0.999999]), ("sinh", [-800.0, 50.0, 800.0]),
    ("cosh", [-800.0, 0.0, 50.0]), ("asinh", [1e200, -1e200, 1e10]),
    ("acosh", [1.0, 1e200, 0.5]), ("atanh", [1.0, -1.0, 0.999999])])
def test_edge_values(name, values):
    compare(lambda lib, t: getattr(lib, name)(t), arrays=[np.array(values)], grad=False)


def test_gradients_at_zero_are_finite_and_right():
    compare(lambda lib, t: lib.sinh(t) + lib.asinh(t) + lib.atanh(t) + lib.atan(t) +
            lib.tan(t) + lib.expm1(t) + lib.log1p(t) + lib.erfinv(t),
            arrays=[np.zeros(3)])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_atan2_matches_torch(layout):
    compare(lambda lib, y, x: lib.atan2(y, x), [(3, 4), (3, 4)], layout=layout)


def test_atan2_quadrants_zeros_and_infinities():
    v = np.array([0.0, 1.0, -1.0, 2.5, -3.0, np.inf, -np.inf, 1e-300])
    ys, xs = np.meshgrid(v, v)
    compare(lambda lib, y, x: lib.atan2(y, x), arrays=[ys.ravel(), xs.ravel()], grad=False)


def test_atan2_broadcasts_and_promotes_integers():
    compare(lambda lib, y, x: lib.atan2(y, x), arrays=[np.arange(-3, 3).reshape(2, 3),
                                                      np.array([2, -1, 3])], grad=False)
    compare(lambda lib, y, x: y.atan2(x), [(2, 3), (3,)])
    compare(lambda lib, y, x: lib.arctan2(y, x), [(2, 3), (3,)])


@pytest.mark.parametrize("name", ["log1p", "expm1", "erfinv", "sinh", "atan"])
def test_integer_inputs_give_the_default_float(name):
    x = np.array([0, 1, -1, 2]) if name != "erfinv" else np.array([0, 0, 0])
    compare(lambda lib, t: getattr(lib, name)(t), arrays=[x], grad=False)


def test_in_place_variants():
    compare(lambda lib, x: x.clone().log1p_() + x.clone().expm1_(), [(5,)], low=-0.5, high=1)


def test_aliases_are_the_same_functions():
    for a, b in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                 ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh")]:
        assert getattr(genesis, a) is getattr(genesis, b)
        assert getattr(torch, a) is not None


def test_empty_input():
    compare(lambda lib, x: lib.asinh(x), [(0, 3)])
