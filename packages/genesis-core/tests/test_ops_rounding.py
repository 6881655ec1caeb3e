"""Roundings (floor, ceil, trunc, fix, round, frac) and division remainders (fmod, remainder,
floor_divide) against PyTorch: values incl. ties, -0.0, large and special values, dtypes,
layouts, gradients, in-place variants and errors."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from torch_compare import FLOAT_DTYPES, LAYOUTS, assert_close, compare, make_pair

TIES = np.array([-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997, -0.49999997, -0.3,
                 -0.0, 0.0, 1e-30, -1e-30, 2.0 ** 23 + 1, 2.0 ** 24 + 2, 8388609.0, 1e30,
                 -4503599627370497.0, 4503599627370496.5, math.inf, -math.inf, math.nan])

ROUNDINGS = {
    "floor": lambda m, x: m.floor(x),
    "ceil": lambda m, x: m.ceil(x),
    "trunc": lambda m, x: m.trunc(x),
    "fix": lambda m, x: m.fix(x),
    "round": lambda m, x: m.round(x),
    "frac": lambda m, x: m.frac(x),
    "floor_method": lambda m, x: x.floor(),
    "ceil_method": lambda m, x: x.ceil(),
    "trunc_method": lambda m, x: x.trunc(),
    "fix_method": lambda m, x: x.fix(),
    "round_method": lambda m, x: x.round(),
    "frac_method": lambda m, x: x.frac(),
}
INTEGRAL = ["floor", "ceil", "trunc", "fix", "round", "floor_method", "round_method"]


def _signbits(t) -> np.ndarray:
    """The sign bits of a genesis or torch tensor (-0.0 included)."""
    return np.signbit(t.detach().double().numpy())


@pytest.mark.parametrize("name", sorted(ROUNDINGS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_roundings_special_values(name, dtype):
    g, t = make_pair(TIES, dtype)
    gout, tout = ROUNDINGS[name](genesis, g), ROUNDINGS[name](torch, t)
    assert_close(gout, tout, rtol=0, atol=0)
    finite = np.isfinite(tout.double().numpy())  # the sign of zeros (-0.3 rounds to -0.0)
    assert (_signbits(gout)[finite] == _signbits(tout)[finite]).all()


@pytest.mark.parametrize("name", sorted(ROUNDINGS))
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_roundings_half_types(name, dtype):
    compare(ROUNDINGS[name], [(4, 6)], dtype=dtype, low=-8, high=8)
    compare(ROUNDINGS[name], arrays=[np.arange(-6, 6) + 0.5], grad=False)
    g, t = make_pair(np.arange(-6, 6) + 0.5, dtype)
    assert_close(ROUNDINGS[name](genesis, g), ROUNDINGS[name](torch, t), rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(ROUNDINGS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_roundings_layouts_and_gradient(name, layout):
    compare(ROUNDINGS[name], [(3, 4)], layout=layout, low=-5, high=5)


@pytest.mark.parametrize("name", sorted(ROUNDINGS))
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_roundings_edge_shapes(name, shape):
    compare(ROUNDINGS[name], [shape], low=-5, high=5)


@pytest.mark.parametrize("name", INTEGRAL)
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
def test_integer_roundings_are_unchanged_copies(name, dtype):
    def fn(m, x):
        out = ROUNDINGS[name](m, x)
        assert out is not x
        return out
    compare(fn, [(3, 4)], dtype=dtype)


@pytest.mark.parametrize("name", sorted(ROUNDINGS))
def test_rounding_errors(name):
    gb, tb = make_pair(np.array([True, False]), "bool")
    with pytest.raises(NotImplementedError):
        ROUNDINGS[name](torch, tb)
    with pytest.raises(NotImplementedError, match="bool"):
        ROUNDINGS[name](genesis, gb)
    with pytest.raises(TypeError):
        getattr(genesis, name.removesuffix("_method"))(1.5)


def test_frac_of_integers_raises():
    for lib in (torch, genesis):
        with pytest.raises(NotImplementedError):
            lib.frac(lib.tensor([1, 2]))


ROUND_DECIMALS = [-3, -1, 1, 2, 3, 5]


@pytest.mark.parametrize("decimals", ROUND_DECIMALS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_round_decimals(decimals, dtype):
    values = np.array([1.2345, 2.675, 125.0, 135.0, -0.125, 0.0625, -15.5, 1234.5678, 25.0,
                       -35.0, 0.005, 1e-4])
    g, t = make_pair(values, dtype)
    assert_close(genesis.round(g, decimals=decimals), torch.round(t, decimals=decimals))
    compare(lambda m, x: m.round(x, decimals=decimals), [(3, 4)], dtype=dtype, low=-50, high=50)
    compare(lambda m, x: x.round(decimals=decimals), [(3, 4)], layout="transposed")


def test_round_decimals_errors():
    gi, ti = make_pair(np.array([15, 25]), "int64")
    for lib, x in ((torch, ti), (genesis, gi)):
        with pytest.raises(NotImplementedError):
            lib.round(x, decimals=1)
        with pytest.raises(TypeError):
            lib.round(x.float(), 1)  # decimals is keyword-only
    with pytest.raises(TypeError, match="decimals"):
        genesis.round(genesis.ones(2), decimals=1.5)


INPLACE_ROUNDINGS = {
    "floor_": lambda x: x.floor_(),
    "ceil_": lambda x: x.ceil_(),
    "trunc_": lambda x: x.trunc_(),
    "fix_": lambda x: x.fix_(),
    "round_": lambda x: x.round_(),
    "round_decimals": lambda x: x.round_(decimals=1),
    "frac_": lambda x: x.frac_(),
}


@pytest.mark.parametrize("name", sorted(INPLACE_ROUNDINGS))
def test_inplace_roundings(name):
    def graph(m, x):
        y = x * 3
        out = INPLACE_ROUNDINGS[name](y)
        assert out is y
        return y * x

    def no_grad(m, x):
        y = x.detach().clone()
        with m.no_grad():
            INPLACE_ROUNDINGS[name](y[:, 1:])  # through a view: the base sees the write
        return y
    compare(graph, [(3, 4)])
    compare(no_grad, [(3, 4)], layout="transposed")
    with pytest.raises(RuntimeError, match="leaf Variable"):
        INPLACE_ROUNDINGS[name](genesis.ones(2, requires_grad=True))


def test_inplace_rounding_of_integers():
    compare(lambda m, x: x.clone().ceil_(), [(2, 3)], dtype="int32")
    for lib in (torch, genesis):
        with pytest.raises(NotImplementedError):
            lib.tensor([1, 2]).frac_()


# -- fmod / remainder / floor_divide ------------------------------------------------------------

#: torch's floor_divide has no derivative (backward raises): compared without gradients
NO_DERIVATIVE = ("floor_divide", "floordiv_operator", "floor_divide_", "ifloordiv")
DIVISIONS = {
    "fmod": lambda m, x, y: m.fmod(x, y),
    "remainder": lambda m, x, y: m.remainder(x, y),
    "fmod_method": lambda m, x, y: x.fmod(y),
    "remainder_method": lambda m, x, y: x.remainder(y),
    "mod_operator": lambda m, x, y: x % y,
}
INT_DIVISIONS = {**DIVISIONS, "floor_divide": lambda m, x, y: m.floor_divide(x, y),
                 "floordiv_operator": lambda m, x, y: x // y}

NUMERATORS = np.array([-7.0, 7.0, -7.0, 7.0, 5.5, -5.5, -4.0, 4.0, 0.0, -0.0, 1e10, -1e10,
                       3.0, 1e-30, 1.0, -1.0, math.inf, 1.0, 1.0, -1.0, math.nan, 2.0, 0.0])
DENOMINATORS = np.array([2.0, -2.0, -2.0, 2.0, 2.0, 2.0, 2.0, -2.0, 3.0, 3.0, 3.1, 3.1,
                         0.1, 7.0, 0.0, 0.0, 1.0, math.inf, -math.inf, math.inf, 1.0, math.nan,
                         -1.0])


@pytest.mark.parametrize("name", sorted(DIVISIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_remainders_exact_special_values(name, dtype):
    g, t = make_pair(NUMERATORS, dtype)
    gd, td = make_pair(DENOMINATORS, dtype)
    gout, tout = DIVISIONS[name](genesis, g, gd), DIVISIONS[name](torch, t, td)
    assert_close(gout, tout, rtol=0, atol=0)  # exact, as C's fmod is
    finite = np.isfinite(tout.numpy())
    assert (_signbits(gout)[finite] == _signbits(tout)[finite]).all()


@pytest.mark.parametrize("name", ["fmod", "remainder"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_remainders_exact_for_large_quotients(name, dtype):
    rng = np.random.default_rng(0)
    big = rng.uniform(-1, 1, 200) * 10.0 ** rng.integers(0, 7 if dtype == "float64" else 14,
                                                         200)
    small = rng.uniform(0.01, 3, 200) * rng.choice([-1, 1], 200)
    g, t = make_pair(big, dtype)
    gd, td = make_pair(small, dtype)
    assert_close(getattr(genesis, name)(g, gd), getattr(torch, name)(t, td), rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(INT_DIVISIONS))
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64"])
def test_integer_divisions(name, dtype):
    rng = np.random.default_rng(1)
    low = 0 if dtype == "uint8" else -20
    x = rng.integers(low, 20, (3, 8)).astype(dtype)
    y = rng.integers(1, 6, (8,)).astype(dtype)
    if dtype != "uint8":
        y = y * np.where(np.arange(8) % 2, 1, -1).astype(dtype)
    compare(INT_DIVISIONS[name], arrays=[x, y])


@pytest.mark.parametrize("name", sorted(INT_DIVISIONS))
@pytest.mark.parametrize("scalar", [3, -2, 2.5, -0.75])
def test_divisions_by_scalars(name, scalar):
    compare(lambda m, x: INT_DIVISIONS[name](m, x, scalar), [(3, 4)], low=-5, high=5,
            grad=name not in NO_DERIVATIVE)
    compare(lambda m, x: INT_DIVISIONS[name](m, x, scalar), [(3, 4)], dtype="int64")


@pytest.mark.parametrize("scalar", [7, -7, 2.5])
def test_remainder_of_a_number(scalar):
    # torch has no derivative for remainder(Scalar, Tensor): values only
    compare(lambda m, x: m.remainder(scalar, x), [(3, 4)], low=0.5, high=3, grad=False)
    compare(lambda m, x: scalar % x, [(3, 4)], low=-3, high=-0.5, grad=False)
    compare(lambda m, x: scalar // x, [(3, 4)], low=0.5, high=3, grad=False)
    compare(lambda m, x: m.remainder(scalar, x + (x == 0)), [(3, 4)], dtype="int64")


@pytest.mark.parametrize("name", sorted(DIVISIONS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_remainders_layouts_and_gradients(name, layout):
    compare(DIVISIONS[name], [(3, 4), (3, 4)], layout=layout, low=0.3, high=4)
    compare(lambda m, x, y: DIVISIONS[name](m, x, -y), [(3, 4), (3, 4)], layout=layout,
            low=0.3, high=4)


@pytest.mark.parametrize("name", sorted(DIVISIONS))
@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((2, 1), (1, 3)), ((), (2, 3)), ((0, 3), (3,))],
                         ids=str)
def test_remainders_broadcast(name, shapes):
    compare(lambda m, x, y: DIVISIONS[name](m, x * 5, y + 2.5), shapes, low=-2, high=2)


@pytest.mark.parametrize("name", sorted(INT_DIVISIONS))
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_divisions_half_types(name, dtype):
    compare(INT_DIVISIONS[name], [(3, 4), (4,)], dtype=dtype, low=0.5, high=4,
            grad=name not in NO_DERIVATIVE)


@pytest.mark.parametrize("fn", [lambda m, x, y: m.floor_divide(x, y), lambda m, x, y: x // y,
                                lambda m, x, y: m.remainder(2.5, y)])
def test_backward_without_derivative_raises(fn):
    for lib in (torch, genesis):
        x, y = lib.ones(3, requires_grad=True), lib.ones(3, requires_grad=True) * 3
        out = fn(lib, x, y)
        assert out.requires_grad
        with pytest.raises(RuntimeError, match="derivative for .* is not implemented"):
            out.sum().backward()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_floor_divide_of_the_exact_quotient(dtype):
    x = np.array([1.0, -1.0, 5.0, 0.0, -0.0, 7.0, -7.0, 0.3, 1e10, math.inf, 1.0, math.nan])
    y = np.array([0.1, 0.1, -0.0, -1.0, 3.0, 0.7, 0.7, 0.1, 3.1, 2.0, math.inf, 1.0])
    g, t = make_pair(x, dtype)
    gy, ty = make_pair(y, dtype)
    for fn in (lambda m, a, b: m.floor_divide(a, b), lambda m, a, b: a // b):
        gout, tout = fn(genesis, g, gy), fn(torch, t, ty)
        assert_close(gout, tout, rtol=0, atol=0)
        assert (_signbits(gout)[np.isfinite(tout.numpy())] ==
                _signbits(tout)[np.isfinite(tout.numpy())]).all()


def test_augmented_assignment_writes_in_place():
    g, t = genesis.arange(-5.0, 5.0), torch.arange(-5.0, 5.0)
    g_alias, t_alias = g, t
    g[2:] %= 3  # through a view: the base sees the write
    t[2:] %= 3
    g //= -2
    t //= -2
    assert g is g_alias and t is t_alias
    assert g.tolist() == t.tolist()


def test_division_promotion():
    compare(lambda m, x, y: m.fmod(x, y), arrays=[np.arange(-4, 4), np.array(1.5)])
    compare(lambda m, x, y: m.remainder(x, y), arrays=[np.arange(-4, 4),
                                                        np.array([2.5], "float32")])
    compare(lambda m, x, y: m.fmod(x, y), arrays=[np.arange(-4.0, 4.0, dtype="float32"),
                                                   np.arange(1.0, 9.0)])


def test_division_errors():
    gi, ti = make_pair(np.array([1, -2, 3]), "int64")
    gb, tb = make_pair(np.array([True, False]), "bool")
    for lib, i, b in ((torch, ti, tb), (genesis, gi, gb)):
        for fn in (lib.fmod, lib.remainder):
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                fn(i, 0)
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                fn(i, lib.tensor([1, 0, 1]))
            with pytest.raises(NotImplementedError):
                fn(b, b)
        with pytest.raises(TypeError):
            lib.fmod(3, i)
        with pytest.raises(TypeError):
            lib.remainder(3, 2)
        with pytest.raises(RuntimeError, match="can't be cast"):
            i.clone().fmod_(1.5)
    compare(lambda m, x: m.fmod(x, 0.0), [(3,)])
    compare(lambda m, x: m.remainder(x, 0.0), [(3,)])


INPLACE_DIVISIONS = {
    "fmod_": lambda x, y: x.fmod_(y),
    "remainder_": lambda x, y: x.remainder_(y),
    "fmod_scalar": lambda x, y: x.fmod_(0.7),
    "floor_divide_": lambda x, y: x.floor_divide_(y),
    "imod": lambda x, y: x.__imod__(y),
    "ifloordiv": lambda x, y: x.__ifloordiv__(y),
}


@pytest.mark.parametrize("name", sorted(INPLACE_DIVISIONS))
def test_inplace_divisions(name):
    def graph(m, x, y):
        z = x * 3
        out = INPLACE_DIVISIONS[name](z, y)
        assert out is z
        return z * x

    def no_grad(m, x, y):
        z = x.detach().clone()
        with m.no_grad():
            INPLACE_DIVISIONS[name](z, y.detach())
        return z
    if name not in NO_DERIVATIVE:
        compare(graph, [(3, 4), (4,)], low=0.5, high=3)
    compare(no_grad, [(3, 4), (3, 4)], low=0.5, high=3)
    if name == "fmod_scalar":  # a float result cannot go into an int tensor (see errors)
        return
    compare(lambda m, x, y: INPLACE_DIVISIONS[name](x.clone(), y.abs() + 1), [(3, 4), (4,)],
            dtype="int64")
    for lib in (torch, genesis):
        with pytest.raises(RuntimeError, match="broadcast shape"):
            INPLACE_DIVISIONS[name](lib.ones(3), lib.ones(2, 3))
