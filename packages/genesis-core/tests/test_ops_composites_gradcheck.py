"""Finite-difference gradchecks (float64) of the differentiable composites of issue 9:
roundings and remainders, pointwise composites, paired reductions, nan_to_num."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
from genesis.autograd import gradcheck


def _weighted(pair):
    """One output from a pair of results (gradcheck checks a single output)."""
    return pair[0] + 2 * pair[1]


# name -> (fn, input shapes, (low, high)); inputs are float64 and require grad. Ranges keep
# the inputs away from kinks (integers for roundings, quotient steps for remainders).
OPS = {
    "frac": (lambda x: x.frac() * x, [(2, 3)], (0.1, 0.9)),
    "round_times_x": (lambda x: genesis.round(x * 3) * x, [(2, 3)], (0.2, 0.3)),
    "ceil_plus_x": (lambda x: x.ceil() + x, [(2, 3)], (0.1, 0.9)),
    "fmod": (lambda x, y: genesis.fmod(x, y), [(2, 3), (3,)], (1.1, 1.9)),
    "fmod_negative": (lambda x, y: genesis.fmod(-x * 2, y), [(2, 3), (2, 3)], (1.1, 1.4)),
    "remainder": (lambda x, y: genesis.remainder(-x, y), [(2, 3), (3,)], (1.1, 1.9)),
    "lerp_scalar": (lambda x, y: genesis.lerp(x, y, 0.7), [(2, 3), (3,)], (-1, 1)),
    "lerp_tensor": (lambda x, y, w: genesis.lerp(x, y, w), [(2, 3), (2, 3), (3,)], (0.1, 0.9)),
    "hypot": (lambda x, y: genesis.hypot(x, y), [(2, 3), (3,)], (0.2, 2)),
    "logaddexp": (lambda x, y: genesis.logaddexp(x, y), [(2, 3), (2, 3)], (-3, 3)),
    "logaddexp2": (lambda x, y: genesis.logaddexp2(x, y), [(2, 3), (3,)], (-3, 3)),
    "copysign": (lambda x, y: genesis.copysign(x, y - 1), [(2, 3), (2, 3)], (0.2, 1.8)),
    "xlogy": (lambda x, y: genesis.xlogy(x, y), [(2, 3), (2, 3)], (0.2, 2)),
    "xlogy_scalar": (lambda y: genesis.xlogy(1.5, y), [(2, 3)], (0.2, 2)),
    "reciprocal": (lambda x: genesis.reciprocal(x), [(2, 3)], (0.5, 2)),
    "log2": (lambda x: genesis.log2(x), [(2, 3)], (0.5, 2)),
    "log10": (lambda x: x.log10(), [(2, 3)], (0.5, 2)),
    "exp2": (lambda x: x.exp2(), [(2, 3)], (-1, 1)),
    "float_power": (lambda x, y: genesis.float_power(x, y), [(2, 3), (3,)], (0.5, 2)),
    "clamp_tensor_bounds": (lambda x, lo, hi: genesis.clamp(x, lo - 1, hi + 1),
                            [(2, 3), (3,), (2, 3)], (-2, 2)),
    "clamp_min": (lambda x, y: genesis.clamp_min(x, y), [(2, 3), (3,)], (-1, 1)),
    "var_mean": (lambda x: _weighted(genesis.var_mean(x, 1)), [(3, 4)], (-1, 1)),
    "std_mean": (lambda x: _weighted(genesis.std_mean(x, 0, keepdim=True, correction=0)),
                 [(3, 4)], (-1, 1)),
    "aminmax": (lambda x: _weighted(genesis.aminmax(x, dim=1)), [(3, 4)], (-1, 1)),
    "nan_to_num": (lambda x: genesis.nan_to_num(x.log(), nan=2.0), [(2, 3)], (-1, 1)),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name):
    fn, shapes, (low, high) = OPS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    inputs = [genesis.tensor(rng.uniform(low, high, s), dtype=genesis.float64,
                             requires_grad=True) for s in shapes]
    assert gradcheck(fn, inputs)
