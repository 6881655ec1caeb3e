"""var_mean, std_mean and aminmax against PyTorch (overloads, dims, keepdim, correction,
dtypes, layouts, gradients, empty inputs, errors)."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from torch_compare import FLOAT_DTYPES, LAYOUTS, compare, make_pair

MOMENTS = {
    "var_mean": lambda m, x: m.var_mean(x),
    "std_mean": lambda m, x: m.std_mean(x),
    "var_mean_dim": lambda m, x: m.var_mean(x, 1),
    "std_mean_dim_neg": lambda m, x: m.std_mean(x, -1),
    "var_mean_dims": lambda m, x: m.var_mean(x, (0, 1), keepdim=True),
    "std_mean_keepdim": lambda m, x: m.std_mean(x, dim=0, keepdim=True),
    "var_mean_correction0": lambda m, x: m.var_mean(x, 1, correction=0),
    "std_mean_correction2": lambda m, x: m.std_mean(x, dim=0, correction=2),
    "var_mean_correction_float": lambda m, x: m.var_mean(x, correction=0.5),
    "var_mean_unbiased_positional": lambda m, x: m.var_mean(x, False),
    "std_mean_unbiased_positional": lambda m, x: m.std_mean(x, True),
    "var_mean_all_positional": lambda m, x: m.var_mean(x, 1, False, True),
    "std_mean_unbiased_keyword": lambda m, x: m.std_mean(x, dim=(1,), unbiased=False),
    "var_mean_empty_dims": lambda m, x: m.var_mean(x, ()),
}


@pytest.mark.parametrize("name", sorted(MOMENTS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_moments(name, layout):
    out, _ = compare(MOMENTS[name], [(3, 4)], layout=layout, grad=_gradient_comparable(
        name, layout))
    assert type(out) is tuple and len(out) == 2


def _gradient_comparable(name: str, layout: str = "contiguous") -> bool:
    """torch's backward of ``var(x, ())`` treats ``()`` as no dims (inf gradients) while its
    forward reduces all dims; and over rows made equal by expanding, the standard deviation is
    0, whose gradient (inf in torch) depends on rounding noise of the mean."""
    return name != "var_mean_empty_dims" and not (layout == "expanded" and "std" in name)


@pytest.mark.parametrize("name", sorted(MOMENTS))
@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_moments_dtypes(name, dtype):
    compare(MOMENTS[name], [(3, 4)], dtype=dtype, grad=_gradient_comparable(name))


@pytest.mark.parametrize("name", ["var_mean", "std_mean", "var_mean_dim", "std_mean_keepdim",
                                  "var_mean_correction0"])
@pytest.mark.parametrize("shape", [(0, 4), (1, 4), (3, 1)])
def test_moments_degenerate_sizes(name, shape):
    compare(MOMENTS[name], [shape], grad=shape[0] > 0 and shape[1] > 1)


def test_moments_match_var_std_and_mean():
    for dim, keepdim in ((None, False), (0, True), ((0, 1), False)):
        for fn, single in ((genesis.var_mean, genesis.var), (genesis.std_mean, genesis.std)):
            x = genesis.randn(3, 4, dtype=genesis.float64)
            a, b = fn(x, dim, keepdim=keepdim)
            assert np.allclose(a.numpy(), single(x, dim, keepdim=keepdim).numpy())
            assert np.allclose(b.numpy(), x.mean(dim if dim is not None else (),
                                                 keepdim=keepdim).numpy())


def test_var_std_take_unbiased_in_the_dim_position():
    compare(lambda m, x: (m.var(x, False), m.std(x, True), x.var(False)), [(3, 4)])


def test_moments_errors():
    gi, ti = make_pair(np.arange(6).reshape(2, 3), "int64")
    gb, tb = make_pair(np.ones(3, bool), "bool")
    for lib, i, b in ((torch, ti, tb), (genesis, gi, gb)):
        for fn in (lib.var_mean, lib.std_mean):
            with pytest.raises(RuntimeError, match="only support floating point"):
                fn(i)
            with pytest.raises(RuntimeError, match="only support floating point"):
                fn(b)
            with pytest.raises(IndexError):
                fn(i.double(), 2)
        with pytest.raises(RuntimeError, match="only support floating point"):
            lib.var(i)
        with pytest.raises(RuntimeError, match="only support floating point"):
            lib.std(i)
    with pytest.raises(ValueError, match="unbiased or correction"):
        genesis.var_mean(gi.double(), 1, True, correction=1)


# -- aminmax ------------------------------------------------------------------------------------

AMINMAX = {
    "all": lambda m, x: m.aminmax(x),
    "all_keepdim": lambda m, x: m.aminmax(x, keepdim=True),
    "dim0": lambda m, x: m.aminmax(x, dim=0),
    "dim_neg_keepdim": lambda m, x: m.aminmax(x, dim=-1, keepdim=True),
    "method": lambda m, x: x.aminmax(dim=1),
    "fields": lambda m, x: (m.aminmax(x).max, m.aminmax(x, dim=0).min),
}


@pytest.mark.parametrize("name", sorted(AMINMAX))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_aminmax(name, layout):
    compare(AMINMAX[name], [(3, 4)], layout=layout)


@pytest.mark.parametrize("name", sorted(AMINMAX))
@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, "int8", "uint8", "int64", "bool"])
def test_aminmax_dtypes(name, dtype):
    compare(AMINMAX[name], [(3, 4)], dtype=dtype)


def test_aminmax_ties_share_gradient_and_nan():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    for name in sorted(AMINMAX):
        compare(AMINMAX[name], arrays=[x])
    compare(lambda m, x: m.aminmax(x, dim=1), arrays=[np.array([[1.0, math.nan], [2.0, 3.0]])],
            grad=False)


def test_aminmax_result_type():
    out = genesis.aminmax(genesis.tensor([1.0, 5.0]))
    assert type(out).__name__ == type(torch.aminmax(torch.tensor([1.0]))).__name__ == "aminmax"
    low, high = out
    assert (low.item(), high.item()) == (out.min.item(), out.max.item()) == (1.0, 5.0)


def test_aminmax_of_0d_and_empty():
    compare(lambda m, x: m.aminmax(x, dim=0), [()])
    compare(lambda m, x: m.aminmax(x, keepdim=True), [()])
    compare(lambda m, x: m.aminmax(x, dim=0), arrays=[np.zeros((2, 0))])
    g, t = make_pair(np.zeros((2, 0)), "float32")
    for lib, x in ((torch, t), (genesis, g)):
        with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty"):
            lib.aminmax(x)
        with pytest.raises(IndexError, match="to have non-zero size"):
            lib.aminmax(x, dim=1)
        with pytest.raises(TypeError):
            lib.aminmax(x, 0)
        with pytest.raises(TypeError):
            lib.aminmax(x, dim=(0, 1))
        with pytest.raises(IndexError):
            lib.aminmax(x, dim=2)
