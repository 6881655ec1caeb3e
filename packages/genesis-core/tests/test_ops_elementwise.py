"""Elementwise ops and Python operators against PyTorch: values, dtypes, gradients, layouts."""

from __future__ import annotations

import pytest
from torch_compare import FLOAT_DTYPES, LAYOUTS, compare

UNARY = {
    "neg": (lambda m, x: -x, -2, 2),
    "abs": (lambda m, x: m.abs(x), -2, 2),
    "exp": (lambda m, x: m.exp(x), -2, 2),
    "log": (lambda m, x: m.log(x), 0.1, 3),
    "sqrt": (lambda m, x: m.sqrt(x), 0.1, 3),
    "rsqrt": (lambda m, x: m.rsqrt(x), 0.1, 3),
    "sin": (lambda m, x: m.sin(x), -3, 3),
    "cos": (lambda m, x: m.cos(x), -3, 3),
    "tanh": (lambda m, x: m.tanh(x), -3, 3),
    "sigmoid": (lambda m, x: m.sigmoid(x), -4, 4),
    "relu": (lambda m, x: m.relu(x), -2, 2),
    "erf": (lambda m, x: m.erf(x), -2, 2),
    "sign": (lambda m, x: m.sign(x), -2, 2),
    "square": (lambda m, x: m.square(x), -2, 2),
    "pow_scalar": (lambda m, x: x ** 3, -2, 2),
    "pow_frac": (lambda m, x: x ** 0.5, 0.1, 3),
    "rpow": (lambda m, x: 2 ** x, -2, 2),
    "rsub": (lambda m, x: 2 - x, -2, 2),
    "rdiv": (lambda m, x: 2 / x, 0.5, 3),
    "radd": (lambda m, x: 1.5 + x, -2, 2),
    "rmul": (lambda m, x: 3 * x, -2, 2),
    "clamp": (lambda m, x: m.clamp(x, -0.5, 0.7), -2, 2),
    "clamp_min": (lambda m, x: x.clamp(min=0.1), -2, 2),
    "clamp_max": (lambda m, x: x.clamp(max=0.1), -2, 2),
    "pos": (lambda m, x: +x, -2, 2),
}

BINARY = {
    "add": lambda m, x, y: x + y,
    "sub": lambda m, x, y: x - y,
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / y,
    "add_alpha": lambda m, x, y: m.add(x, y, alpha=2),
    "sub_alpha": lambda m, x, y: m.sub(x, y, alpha=0.5),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "minimum": lambda m, x, y: m.minimum(x, y),
    "max_binary": lambda m, x, y: m.max(x, y),
    "min_binary": lambda m, x, y: m.min(x, y),
    "where": lambda m, x, y: m.where(x > y, x, y),
    "clamp_tensor": lambda m, x, y: m.clamp(x, min=y),
}

BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)),
                    ((5,), ()), ((0, 3), (3,)), ((1,), (2, 1))]


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unary(name, layout):
    fn, low, high = UNARY[name]
    compare(fn, [(3, 4)], layout=layout, low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (0,), (1, 1), (2, 0, 3)])
def test_unary_edge_shapes(name, shape):
    fn, low, high = UNARY[name]
    compare(fn, [shape], low=low, high=high)


@pytest.mark.parametrize("name", ["neg", "abs", "exp", "log", "sqrt", "sin", "tanh", "sigmoid",
                                  "relu", "rdiv", "pow_scalar"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unary_float_dtypes(name, dtype):
    fn, low, high = UNARY[name]
    compare(fn, [(4, 5)], dtype=dtype, low=low, high=high)


@pytest.mark.parametrize("name", ["neg", "abs", "sign", "relu", "square", "rsub", "rmul", "radd",
                                  "clamp_min"])
@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64"])
def test_unary_integer_dtypes(name, dtype):
    fn, low, high = UNARY[name]
    compare(fn, [(3, 4)], dtype=dtype, low=low, high=high)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "sigmoid", "tanh", "rdiv"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_unary_integer_promotes_to_float(name, dtype):
    fn, _, _ = UNARY[name]
    compare(fn, [(3, 4)], dtype=dtype, low=1, high=5)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_broadcast(name, shapes):
    low = 0.5 if name == "div" else -2
    compare(BINARY[name], shapes, low=low, high=2)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_binary_layouts(name, layout):
    compare(BINARY[name], [(3, 4), (3, 4)], layout=layout, low=0.5 if name == "div" else -2)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binary_float_dtypes(name, dtype):
    compare(BINARY[name], [(4, 5), (5,)], dtype=dtype, low=0.5, high=2)


def test_maximum_minimum_ties_split_gradient():
    a = [[1.0, 2.0, 3.0]]
    import numpy as np
    compare(lambda m, x, y: m.maximum(x, y) * 3, arrays=[np.array(a), np.array([[1.0, 0.0, 3.0]])])
    compare(lambda m, x, y: m.minimum(x, y), arrays=[np.array(a), np.array([[1.0, 5.0, 3.0]])])


def test_clamp_gradient_at_bounds():
    import numpy as np
    x = np.array([-1.0, -0.5, 0.0, 0.7, 1.0])
    compare(lambda m, x: m.clamp(x, -0.5, 0.7), arrays=[x])


def test_relu_gradient_at_zero():
    import numpy as np
    compare(lambda m, x: m.relu(x), arrays=[np.array([-1.0, 0.0, 2.0])])


def test_pow_tensor_exponent_gradients():
    compare(lambda m, x, y: x ** y, [(3, 4), (3, 4)], low=0.5, high=2)
    compare(lambda m, x, y: m.pow(x, y), [(3, 4), (4,)], low=0.5, high=2)


def test_pow_zero_base_gradient():
    import numpy as np
    compare(lambda m, x: x ** 2, arrays=[np.array([0.0, 1.0, -2.0])])
    compare(lambda m, x, y: x ** y, arrays=[np.array([0.0, 2.0]), np.array([2.0, 0.0])])


INT_OPERATORS = {
    "floordiv": lambda m, x, y: x // y,
    "mod": lambda m, x, y: x % y,
    "floor_divide": lambda m, x, y: m.floor_divide(x, y) if hasattr(m, "floor_divide")
    else x.floor_divide(y),
    "div_trunc": lambda m, x, y: m.div(x, y, rounding_mode="trunc"),
    "div_floor": lambda m, x, y: m.div(x, y, rounding_mode="floor"),
    "truediv": lambda m, x, y: x / y,
    "add": lambda m, x, y: x + y,
    "mul": lambda m, x, y: x * y,
    "sub": lambda m, x, y: x - y,
}


@pytest.mark.parametrize("name", sorted(INT_OPERATORS))
@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64"])
def test_integer_style_operators(name, dtype):
    import numpy as np
    x = np.array([[-7, -3, 0, 3, 7], [5, -5, 9, -9, 1]]).astype(dtype)
    y = np.array([[2, 2, 3, -2, -3], [3, 3, -4, -4, 1]]).astype(dtype)
    compare(INT_OPERATORS[name], arrays=[x, y], grad=False)


@pytest.mark.parametrize("scalar", [3, -2, 2.5])
@pytest.mark.parametrize("op", ["floordiv", "mod", "rfloordiv", "rmod"])
def test_floordiv_mod_scalars(op, scalar):
    import numpy as np
    x = np.array([-7.0, -3.0, 1.0, 3.0, 7.5])
    fns = {"floordiv": lambda m, x: x // scalar, "mod": lambda m, x: x % scalar,
           "rfloordiv": lambda m, x: scalar // x, "rmod": lambda m, x: scalar % x}
    compare(fns[op], arrays=[x], grad=False)


COMPARISONS = {
    "eq": lambda m, x, y: x == y, "ne": lambda m, x, y: x != y, "lt": lambda m, x, y: x < y,
    "le": lambda m, x, y: x <= y, "gt": lambda m, x, y: x > y, "ge": lambda m, x, y: x >= y,
    "eq_fn": lambda m, x, y: m.eq(x, y), "ge_fn": lambda m, x, y: m.ge(x, y),
    "logical_and": lambda m, x, y: m.logical_and(x, y),
    "logical_or": lambda m, x, y: m.logical_or(x, y),
    "logical_xor": lambda m, x, y: m.logical_xor(x, y),
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
def test_comparisons(name, dtype):
    compare(COMPARISONS[name], [(3, 4), (4,)], dtype=dtype, low=-1, high=1, grad=False)


@pytest.mark.parametrize("name", ["eq", "lt", "ge"])
@pytest.mark.parametrize("scalar", [0, 0.5, True])
def test_comparisons_with_scalars(name, scalar):
    compare(lambda m, x: COMPARISONS[name](m, x, scalar), [(2, 3)], grad=False)
    compare(lambda m, x: COMPARISONS[name](m, scalar, x), [(2, 3)], grad=False)


@pytest.mark.parametrize("op", ["and", "or", "xor", "invert", "logical_not"])
def test_bool_operators(op):
    fns = {"and": lambda m, x, y: x & y, "or": lambda m, x, y: x | y,
           "xor": lambda m, x, y: x ^ y, "invert": lambda m, x, y: ~x,
           "logical_not": lambda m, x, y: m.logical_not(x)}
    compare(fns[op], [(3, 4), (3, 4)], dtype="bool", grad=False)


def test_logical_not_of_numbers():
    compare(lambda m, x: m.logical_not(x), [(3, 4)], dtype="float32", low=-1, high=1, grad=False)
    compare(lambda m, x: m.logical_not(x), [(3, 4)], dtype="int64", grad=False)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_where_broadcast_and_scalars(layout):
    compare(lambda m, x, y: m.where(x > 0, x, 0.0), [(3, 4), (3, 4)], layout=layout)
    compare(lambda m, x, y: m.where(x > 0, 1.0, y), [(3, 4), (3, 4)], layout=layout)
    compare(lambda m, x, y: m.where(x > 0, x, y[:1]), [(3, 4), (3, 4)], layout=layout)
    compare(lambda m, x, y: x.where(y > 0, 2.0), [(3, 4), (3, 4)], layout=layout)


def test_where_mixed_dtypes():
    import numpy as np
    c = np.array([True, False, True])
    compare(lambda m, c, a, b: m.where(c, a, b),
            arrays=[c, np.array([1, 2, 3]), np.array([0.5, 1.5, 2.5], dtype=np.float32)])
    compare(lambda m, c, a: m.where(c, a, 2.5), arrays=[c, np.array([1, 2, 3])])


def test_chained_expression_gradients():
    compare(lambda m, x, y: (m.exp(x) * y - x / (y * y + 1)).tanh() + m.sigmoid(x * 2) ** 2,
            [(4, 5), (5,)])


def test_same_tensor_used_twice():
    compare(lambda m, x: x * x + x, [(3,)])
    compare(lambda m, x: x.sin() * x.cos() / (1 + x * x), [(2, 3)], layout="expanded")
