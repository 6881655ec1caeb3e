"""Elementwise composites against PyTorch: lerp, hypot, logaddexp(2), copysign, xlogy,
reciprocal, log2/log10/exp2, float_power, clamp with tensor bounds and clamp_min/clamp_max
(values, dtypes, broadcasting, layouts, gradients, in-place variants, errors)."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from torch_compare import FLOAT_DTYPES, LAYOUTS, assert_close, compare, make_pair

BINARY = {
    "lerp_scalar_small": (lambda m, x, y: m.lerp(x, y, 0.3), -2, 2),
    "lerp_scalar_large": (lambda m, x, y: m.lerp(x, y, 0.8), -2, 2),
    "lerp_scalar_one": (lambda m, x, y: m.lerp(x, y, 1), -2, 2),
    "lerp_tensor": (lambda m, x, y: m.lerp(x, y, (x - y).abs() / 2), -2, 2),
    "lerp_method": (lambda m, x, y: x.lerp(y, -0.6), -2, 2),
    "hypot": (lambda m, x, y: m.hypot(x, y), -3, 3),
    "hypot_method": (lambda m, x, y: x.hypot(y), -3, 3),
    "logaddexp": (lambda m, x, y: m.logaddexp(x, y), -5, 5),
    "logaddexp_method": (lambda m, x, y: x.logaddexp(y), -5, 5),
    "logaddexp2": (lambda m, x, y: m.logaddexp2(x, y), -5, 5),
    "logaddexp2_method": (lambda m, x, y: x.logaddexp2(y), -5, 5),
    "copysign": (lambda m, x, y: m.copysign(x, y), -2, 2),
    "copysign_method": (lambda m, x, y: x.copysign(y), -2, 2),
    "xlogy": (lambda m, x, y: m.xlogy(x, y.abs()), -2, 2),
    "xlogy_method": (lambda m, x, y: x.xlogy(y.abs()), -2, 2),
    "float_power": (lambda m, x, y: m.float_power(x.abs(), y), 0.2, 2),
    "float_power_method": (lambda m, x, y: x.abs().float_power(y), 0.2, 2),
    "clamp_tensors": (lambda m, x, y: m.clamp(x, y - 0.5, y + 0.5), -2, 2),
    "clamp_min_tensor": (lambda m, x, y: m.clamp_min(x, y), -2, 2),
    "clamp_max_tensor": (lambda m, x, y: m.clamp_max(x, y), -2, 2),
    "clamp_min_method": (lambda m, x, y: x.clamp_min(y), -2, 2),
    "clamp_max_method": (lambda m, x, y: x.clamp_max(y), -2, 2),
    "clip_tensors": (lambda m, x, y: m.clip(x, min=y, max=y.abs()), -2, 2),
}
UNARY = {
    "reciprocal": (lambda m, x: m.reciprocal(x), 0.3, 3),
    "reciprocal_neg": (lambda m, x: x.reciprocal(), -3, -0.3),
    "log2": (lambda m, x: m.log2(x), 0.1, 5),
    "log2_method": (lambda m, x: x.log2(), 0.1, 5),
    "log10": (lambda m, x: m.log10(x), 0.1, 50),
    "log10_method": (lambda m, x: x.log10(), 0.1, 50),
    "exp2": (lambda m, x: m.exp2(x), -5, 5),
    "exp2_method": (lambda m, x: x.exp2(), -5, 5),
    "float_power_scalar": (lambda m, x: m.float_power(x, 3), -2, 2),
    "float_power_scalar_base": (lambda m, x: m.float_power(2, x), -2, 2),
    "xlogy_scalar_x": (lambda m, x: m.xlogy(2, x), 0.1, 3),
    "xlogy_scalar_y": (lambda m, x: m.xlogy(x, 3), -2, 2),
    "copysign_scalar": (lambda m, x: m.copysign(x, -1), -2, 2),
    "copysign_negative_zero": (lambda m, x: m.copysign(x, -0.0), -2, 2),
    "clamp_min_scalar": (lambda m, x: m.clamp_min(x, 0.25), -2, 2),
    "clamp_max_scalar": (lambda m, x: x.clamp_max(-0.25), -2, 2),
    "lerp_0d_weight": (lambda m, x: m.lerp(x, x * 2, m.tensor(0.7, dtype=m.float64)), -2, 2),
}
BROADCAST_SHAPES = [((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5,), ()),
                    ((0, 3), (3,)), ((1,), (2, 1))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_binary_layouts_and_gradients(name, layout):
    fn, low, high = BINARY[name]
    compare(fn, [(3, 4), (3, 4)], layout=layout, low=low, high=high)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_broadcast(name, shapes):
    fn, low, high = BINARY[name]
    compare(fn, shapes, low=low, high=high)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binary_float_dtypes(name, dtype):
    fn, low, high = BINARY[name]
    compare(fn, [(4, 5), (5,)], dtype=dtype, low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unary_layouts_and_gradients(name, layout):
    fn, low, high = UNARY[name]
    compare(fn, [(3, 4)], layout=layout, low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_unary_edge_shapes(name, shape):
    fn, low, high = UNARY[name]
    compare(fn, [shape], low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_unary_float_dtypes(name, dtype):
    fn, low, high = UNARY[name]
    compare(fn, [(4, 5)], dtype=dtype, low=low, high=high)


INTEGER_INPUTS = {
    "reciprocal": lambda m, x: m.reciprocal(x),
    "log2": lambda m, x: m.log2(x),
    "log10": lambda m, x: m.log10(x),
    "exp2": lambda m, x: m.exp2(x),
    "float_power": lambda m, x: m.float_power(x, 2),
    "float_power_tensors": lambda m, x: m.float_power(x, x),
    "xlogy": lambda m, x: m.xlogy(x, x),
    "xlogy_scalar": lambda m, x: m.xlogy(x, 2),
    "copysign": lambda m, x: m.copysign(x, x.long() - 3),
    "copysign_scalar": lambda m, x: m.copysign(x, -1),
    "clamp_min_float": lambda m, x: m.clamp_min(x, 0.5),
    "clamp_max_int": lambda m, x: m.clamp_max(x, 2),
    "clamp_float_tensor": lambda m, x: m.clamp(x, min=x.float() / 2),
}


@pytest.mark.parametrize("name", sorted(INTEGER_INPUTS))
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64", "bool"])
def test_integer_and_bool_inputs(name, dtype):
    compare(INTEGER_INPUTS[name], [(3, 4)], dtype=dtype)


def test_mixed_float_dtypes_promote():
    f32, f64 = np.linspace(-2, 2, 6).astype("float32"), np.linspace(0.5, 3, 6)
    for fn in (lambda m, x, y: m.hypot(x, y), lambda m, x, y: m.logaddexp(x, y),
               lambda m, x, y: m.logaddexp2(x, y), lambda m, x, y: m.copysign(x, y),
               lambda m, x, y: m.xlogy(x, y), lambda m, x, y: m.float_power(x, y),
               lambda m, x, y: m.clamp(x, min=y)):
        compare(fn, arrays=[f32, f64])


# -- exactness and special values ------------------------------------------------------------------

SPECIAL_A = np.array([0.0, -0.0, math.inf, -math.inf, math.inf, -math.inf, math.nan, 1e30, 3.0,
                      0.0, 1.0, 2.0, -1e-30, 0.0])
SPECIAL_B = np.array([0.0, 0.0, math.inf, -math.inf, -math.inf, 1.0, 1.0, 1e30, 4.0, math.nan,
                      math.nan, -30.0, -1.0, -1.0])


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "logaddexp2", "copysign", "xlogy",
                                  "float_power"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_values(name, dtype):
    g, t = make_pair(SPECIAL_A, dtype)
    gb, tb = make_pair(SPECIAL_B, dtype)
    got, expected = getattr(genesis, name)(g, gb), getattr(torch, name)(t, tb)
    assert_close(got, expected)
    finite = np.isfinite(expected.numpy())
    assert (np.signbit(got.numpy())[finite] == np.signbit(expected.numpy())[finite]).all()


def test_copysign_reads_negative_zero():
    compare(lambda m, x, y: m.copysign(x, y), arrays=[np.array([1.0, 2.0, -3.0, 0.0, -0.0]),
                                                       np.array([-0.0, 0.0, 0.0, -0.0, 1.0])])
    g, t = make_pair(np.array([0.0, -0.0, 2.0]), "float32")
    assert (np.signbit(genesis.copysign(g, -1).numpy()) ==
            np.signbit(torch.copysign(t, -1).numpy())).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logs_of_exact_powers_are_exact(dtype):
    g, t = make_pair(2.0 ** np.arange(-30, 31), dtype)
    assert_close(genesis.log2(g), torch.log2(t), rtol=0, atol=0)
    g, t = make_pair(10.0 ** np.arange(-7, 8), dtype)
    assert_close(genesis.log10(g), torch.log10(t), rtol=0, atol=0)
    g, t = make_pair(np.arange(-20, 21), dtype)
    assert_close(genesis.exp2(g), torch.exp2(t), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["log2", "log10", "exp2", "reciprocal"])
def test_logs_special_values(name):
    x = np.array([0.0, -0.0, -1.0, math.inf, math.nan, 1e-300])
    compare(lambda m, v: getattr(m, name)(v), arrays=[x], grad=False)


def test_hypot_gradient_and_large_values():
    compare(lambda m, x, y: m.hypot(x, y), arrays=[np.array([3.0, 0.0, 1e200, -1e-200]),
                                                    np.array([4.0, 0.0, 1e200, 1e-200])])
    compare(lambda m, x, y: m.hypot(x, y), arrays=[np.array([3e38, -2e38], "float32"),
                                                    np.array([3e38, 1.0], "float32")])


def test_logaddexp_accuracy_far_apart():
    x, y = np.array([0.0, 0.0, -100.0, 1e4]), np.array([-30.0, -60.0, -100.0, 1e4 - 40])
    for dtype in ("float32", "float64"):
        g, t = make_pair(x, dtype)
        gy, ty = make_pair(y, dtype)
        for name in ("logaddexp", "logaddexp2"):
            assert_close(getattr(genesis, name)(g, gy), getattr(torch, name)(t, ty),
                         rtol=2e-7 if dtype == "float64" else 2e-6, atol=0)


def test_xlogy_gradients_at_zero_and_nan():
    compare(lambda m, x, y: m.xlogy(x, y), arrays=[np.array([0.0, 0.0, 2.0, 0.0, 1.5]),
                                                    np.array([math.nan, 0.0, 3.0, 1.0, 0.5])])


def test_lerp_weight_one_gives_end_exactly():
    x = np.array([1e4, -3.3, 0.1, 7.0])
    y = np.array([1e-8, 2.2, -0.7, 7.5])
    for dtype in ("float32", "float64", "float16"):
        g, t = make_pair(x, dtype)
        gy, ty = make_pair(y, dtype)
        for w in (1.0, 0.5, 0.49, 0.75):
            assert_close(genesis.lerp(g, gy, w), torch.lerp(t, ty, w))
        assert_close(genesis.lerp(g, gy, 1.0), gy, rtol=0, atol=0)


# -- clamp with tensor bounds ----------------------------------------------------------------------

CLAMP_X = np.array([0.5, 1.5, -1.0, 1.0, 0.0, 2.0, math.nan])
CLAMP_LO = np.array([0.0, 0.0, 0.0, 1.0, 0.0, 3.0, 0.0])
CLAMP_HI = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0])


def test_clamp_tensor_bounds_gradients_at_ties_and_crossed_bounds():
    compare(lambda m, x, lo, hi: m.clamp(x, lo, hi), arrays=[CLAMP_X, CLAMP_LO, CLAMP_HI])
    compare(lambda m, x, lo, hi: m.clamp(x, hi, lo), arrays=[CLAMP_X, CLAMP_LO, CLAMP_HI])
    compare(lambda m, x, lo, hi: m.clamp(x, min=lo), arrays=[CLAMP_X, CLAMP_LO, CLAMP_HI])
    compare(lambda m, x, lo, hi: m.clamp(x, max=hi), arrays=[CLAMP_X, CLAMP_LO, CLAMP_HI])


def test_clamp_tensor_bounds_gradients_on_a_grid_of_ties():
    grid = np.array([-1.0, 0.0, 1.0])
    x, lo, hi = (a.reshape(-1) for a in np.meshgrid(grid, grid, grid, indexing="ij"))
    compare(lambda m, x, lo, hi: m.clamp(x, lo, hi), arrays=[x, lo, hi])
    compare(lambda m, x, lo, hi: m.clamp(x, min=lo, max=lo.abs()), arrays=[x, lo, hi])


def test_clamp_bounds_broadcast_beyond_input():
    compare(lambda m, x, lo: m.clamp(x, min=lo), [(4,), (3, 4)])
    compare(lambda m, x, lo, hi: m.clamp(x, lo, hi), [(3,), (2, 1), (2, 3)])
    compare(lambda m, x, lo: m.clamp(x, min=lo, max=lo + 1), [(2, 1), (3,)])


def test_clamp_promotes_to_bounds():
    compare(lambda m, x: m.clamp(x, min=0.5), [(3, 4)], dtype="int64")
    compare(lambda m, x, y: m.clamp(x, min=y), arrays=[np.arange(4), np.linspace(0, 3, 4)])
    compare(lambda m, x, y: m.clamp(x, min=y), arrays=[np.linspace(0, 3, 4).astype("float32"),
                                                        np.linspace(1, 2, 4)])
    compare(lambda m, x: m.clamp(x, min=math.nan), [(3,)])


def test_clamp_errors():
    for lib in (torch, genesis):
        x = lib.ones(3)
        with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'|at least one"):
            lib.clamp(x)
        with pytest.raises(TypeError):
            lib.clamp_min(x, None)
        with pytest.raises(TypeError):
            lib.clamp_max(x, None)
        with pytest.raises(RuntimeError, match="broadcast shape"):
            x[:1].clone().clamp_(min=x)
        with pytest.raises(RuntimeError):
            x.clone().clamp_()


# -- in-place variants -----------------------------------------------------------------------------

INPLACE = {
    "hypot_": lambda x, y: x.hypot_(y),
    "copysign_": lambda x, y: x.copysign_(y),
    "copysign_scalar": lambda x, y: x.copysign_(-0.0),
    "xlogy_": lambda x, y: x.xlogy_(y.abs() + 0.1),
    "reciprocal_": lambda x, y: x.reciprocal_(),
    "log2_": lambda x, y: x.abs_().log2_(),
    "log10_": lambda x, y: x.abs_().log10_(),
    "exp2_": lambda x, y: x.exp2_(),
    "clamp_min_": lambda x, y: x.clamp_min_(y),
    "clamp_max_": lambda x, y: x.clamp_max_(0.2),
    "clamp_tensor_": lambda x, y: x.clamp_(y - 0.1, y + 0.1),
    "lerp_": lambda x, y: x.lerp_(y, 0.3),
    "lerp_large": lambda x, y: x.lerp_(y, 0.9),
    "lerp_tensor": lambda x, y: x.lerp_(y, y.abs()),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_variants(name):
    def graph(m, x, y):
        z = x * 1.5
        out = INPLACE[name](z, y)
        assert out is z
        return z * x

    def through_view(m, x, y):
        z = x.detach().clone()
        with m.no_grad():
            out = INPLACE[name](z[1:], y[1:].detach())
        assert out.shape == (2, 4)
        return z
    compare(graph, [(3, 4), (4,)], low=0.3, high=2)
    compare(graph, [(3, 4), (4,)], low=-2, high=-0.3)
    compare(through_view, [(3, 4), (3, 4)], low=0.3, high=2, layout="transposed")
    compare(lambda m, x, y: INPLACE[name](x * 1, y), [(3, 4), (3, 4)], dtype="float64",
            low=0.3, high=2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        INPLACE[name](genesis.ones(3, 4, requires_grad=True), genesis.ones(4))


def test_inplace_float_results_refuse_integer_tensors():
    for lib in (torch, genesis):
        i = lib.tensor([1, 2, 3])
        for fn in (lambda x: x.clone().reciprocal_(), lambda x: x.clone().copysign_(x),
                   lambda x: x.clone().xlogy_(2), lambda x: x.clone().log2_(),
                   lambda x: x.clone().exp2_()):
            with pytest.raises(RuntimeError, match="can't be cast"):
                fn(i)
        with pytest.raises(RuntimeError):
            lib.ones(3).float_power_(2)
    compare(lambda m, x: x.clone().float_power_(2), [(3,)], dtype="float64")


# -- errors ----------------------------------------------------------------------------------------

def test_errors_match_torch():
    f, f64, i = (lambda lib: lib.ones(3)), (lambda lib: lib.ones(3, dtype=lib.float64)), \
        (lambda lib: lib.ones(3, dtype=lib.int64))
    for lib in (torch, genesis):
        with pytest.raises(RuntimeError, match="expected dtype"):
            lib.lerp(f(lib), f64(lib), 0.5)
        with pytest.raises(RuntimeError, match="expected dtype"):
            lib.lerp(f(lib), f(lib), f64(lib))
        with pytest.raises(NotImplementedError):
            lib.lerp(i(lib), i(lib), 0.5)
        for name in ("hypot", "logaddexp", "logaddexp2"):
            with pytest.raises(NotImplementedError):
                getattr(lib, name)(i(lib), i(lib))
            with pytest.raises(TypeError):
                getattr(lib, name)(f(lib), 2.0)
        with pytest.raises(TypeError):
            lib.xlogy(2, 3)
        with pytest.raises(TypeError):
            lib.copysign(1.0, f(lib))
        for name in ("reciprocal", "log2", "log10", "exp2"):
            with pytest.raises(TypeError):
                getattr(lib, name)(2.0)


def test_writing_a_saved_input_in_place_is_detected():
    for lib in (torch, genesis):
        x = lib.ones(3, requires_grad=True)
        z = x * 2
        w = z * z  # saves z
        z.fmod_(0.7)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            w.sum().backward()
        x2 = x * 1
        h = lib.hypot(x2, lib.ones(3))  # saves x2
        x2.ceil_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.sum().backward()
