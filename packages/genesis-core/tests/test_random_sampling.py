"""Random sampling (normal, bernoulli, poisson, multinomial and the in-place fills) against
PyTorch and against the distributions themselves.

PyTorch's random stream differs from Genesis's, so values are never compared: shapes, dtypes,
autograd flags and errors are compared with torch on the same calls, and the samples are
checked against the exact distributions with fixed seeds (means within 5 standard errors,
chi-square goodness of fit at about 5 sigma), tolerances derived from the sample sizes.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import genesis
import numpy as np
import pytest
import torch
from torch_compare import dtype_name

# -- statistics helpers --------------------------------------------------------------------------


def chi2_limit(df: int, sigmas: float = 5.0) -> float:
    """The upper ``sigmas`` quantile of chi-square with ``df`` degrees of freedom
    (Wilson-Hilferty)."""
    h = 2.0 / (9.0 * df)
    return df * (1.0 - h + sigmas * math.sqrt(h)) ** 3


def pool(observed, expected, least: float = 5.0) -> tuple:
    """Merge neighbouring bins until each expects at least ``least`` counts."""
    obs, exp, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, expected):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= least:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e or acc_o:
        obs[-1] += acc_o
        exp[-1] += acc_e
    return np.array(obs), np.array(exp)


def chi2_fits(observed, probabilities) -> tuple:
    """``(statistic, limit)`` of a chi-square test of bin counts against bin probabilities
    (which sum to 1: the last bin takes any tail)."""
    observed = np.asarray(observed, dtype=np.float64)
    n = observed.sum()
    obs, exp = pool(observed, np.asarray(probabilities, dtype=np.float64) * n)
    stat = float(((obs - exp) ** 2 / exp).sum())
    return stat, chi2_limit(len(obs) - 1)


def assert_fits(observed, probabilities) -> None:
    stat, limit = chi2_fits(observed, probabilities)
    assert stat < limit, f"chi-square {stat:.1f} >= {limit:.1f}"


def assert_mean(samples: np.ndarray, mean: float, std: float) -> None:
    """The sample mean lies within 5 standard errors of ``mean``."""
    se = std / math.sqrt(samples.size)
    assert abs(samples.mean() - mean) < 5 * se + 1e-12, (samples.mean(), mean, se)


def assert_quantiles(samples: np.ndarray, inverse_cdf, bins: int = 20) -> None:
    """Chi-square over ``bins`` bins of equal probability of a continuous distribution."""
    edges = [inverse_cdf(i / bins) for i in range(1, bins)]
    counts = np.bincount(np.searchsorted(edges, samples, side="right"), minlength=bins)
    assert_fits(counts, [1 / bins] * bins)


def counts_of(samples: np.ndarray, n_bins: int) -> np.ndarray:
    """Counts of the integer samples 0..n_bins-2, the last bin all larger ones."""
    return np.bincount(np.minimum(samples.astype(np.int64), n_bins - 1), minlength=n_bins)


def poisson_pmf(rate: float, n_bins: int) -> list:
    """P(k) for k < n_bins - 1, the tail P(k >= n_bins - 1) last."""
    if rate == 0:
        return [1.0] + [0.0] * (n_bins - 1)
    p = [math.exp(k * math.log(rate) - rate - math.lgamma(k + 1)) for k in range(n_bins - 1)]
    return p + [max(0.0, 1.0 - math.fsum(p))]


def test_the_chi_square_check_has_power():
    """The goodness-of-fit check used below rejects a slightly wrong distribution."""
    genesis.manual_seed(1)
    x = genesis.poisson(genesis.full((20000,), 3.0)).numpy()
    assert_fits(counts_of(x, 16), poisson_pmf(3.0, 16))
    stat, limit = chi2_fits(counts_of(x, 16), poisson_pmf(3.3, 16))
    assert stat > limit


# -- shapes, dtypes, autograd flags and errors against torch -----------------------------------

def _rg(lib, *shape, dtype=None):
    return lib.ones(*shape, dtype=dtype, requires_grad=True)


SHAPE_CASES = {
    "normal(t, t)": lambda lib: lib.normal(lib.zeros(3), lib.ones(3)),
    "normal(t, t) broadcast": lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(3)),
    "normal(t, t) transposed": lambda lib: lib.normal(lib.zeros(2, 3).t(), lib.ones(3, 1)),
    "normal(t64, t32)": lambda lib: lib.normal(lib.zeros(3, dtype=lib.float64), lib.ones(3)),
    "normal(t32, t64)": lambda lib: lib.normal(lib.zeros(3), lib.ones(3, dtype=lib.float64)),
    "normal(t, int t)": lambda lib: lib.normal(lib.zeros(3), lib.ones(3, dtype=lib.int64)),
    "normal(t16, f)": lambda lib: lib.normal(lib.zeros(2, 2, dtype=lib.float16), 2.0),
    "normal(bf16)": lambda lib: lib.normal(lib.zeros(4, dtype=lib.bfloat16)),
    "normal(f, t64)": lambda lib: lib.normal(1.0, lib.ones(3, dtype=lib.float64)),
    "normal(t, t) 0-dim": lambda lib: lib.normal(lib.zeros(()), lib.ones(())),
    "normal(t, t) 0-size": lambda lib: lib.normal(lib.zeros(0, 3), lib.ones(3)),
    "normal(t, t) expanded": lambda lib: lib.normal(lib.zeros(1, 3).expand(4, 3), 1.0),
    "normal(t, 0)": lambda lib: lib.normal(lib.zeros(3), 0.0),
    "normal(f, f, size)": lambda lib: lib.normal(0.0, 1.0, (2, 3)),
    "normal(int, int, list)": lambda lib: lib.normal(0, 1, [4]),
    "normal(f, f, ())": lambda lib: lib.normal(0.0, 1.0, ()),
    "normal(f, f, size, f64)": lambda lib: lib.normal(1.0, 2.0, (2,), dtype=lib.float64),
    "normal(f, f, size, grad)": lambda lib: lib.normal(0.0, 1.0, (2,), requires_grad=True),
    "normal(f, f, size, cpu)": lambda lib: lib.normal(0.0, 1.0, size=(2,), device="cpu"),
    "normal keywords": lambda lib: lib.normal(std=lib.ones(3), mean=0.5),
    "normal(rg t, rg t)": lambda lib: lib.normal(_rg(lib, 3), _rg(lib, 3)),
    "normal(rg t, f)": lambda lib: lib.normal(_rg(lib, 2, 3), 1.0),
    "normal(f, rg t)": lambda lib: lib.normal(0.0, _rg(lib, 3)),
    "bernoulli(p)": lambda lib: lib.bernoulli(lib.full((2, 3), 0.5)),
    "bernoulli(p f64)": lambda lib: lib.bernoulli(lib.full((3,), 0.5, dtype=lib.float64)),
    "bernoulli(p f16)": lambda lib: lib.bernoulli(lib.full((3,), 0.5, dtype=lib.float16)),
    "bernoulli(p transposed)": lambda lib: lib.bernoulli(lib.full((2, 3), 0.5).t()),
    "bernoulli(0-size)": lambda lib: lib.bernoulli(lib.zeros(0, 2)),
    "bernoulli(rg p)": lambda lib: lib.bernoulli(lib.full((3,), 0.5, requires_grad=True)),
    "bernoulli(t, 0.3)": lambda lib: lib.bernoulli(lib.zeros(3), 0.3),
    "bernoulli(t, p=0.3)": lambda lib: lib.bernoulli(lib.zeros(2, 2), p=0.3),
    "bernoulli(int t, 0.3)": lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.int64), 0.3),
    "bernoulli(bool t, 0.3)": lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.bool), 0.3),
    "Tensor.bernoulli()": lambda lib: lib.full((3,), 0.3).bernoulli(),
    "Tensor.bernoulli(0.3)": lambda lib: lib.zeros(3).bernoulli(0.3),
    "bernoulli_(0.3)": lambda lib: lib.zeros(2, 3).bernoulli_(0.3),
    "bernoulli_() int": lambda lib: lib.zeros(3, dtype=lib.int64).bernoulli_(),
    "bernoulli_(0.5) bool": lambda lib: lib.zeros(3, dtype=lib.bool).bernoulli_(0.5),
    "bernoulli_(t) broadcast": lambda lib: lib.zeros(2, 3).bernoulli_(lib.full((3,), 0.5)),
    "bernoulli_(t f64) int": lambda lib: lib.zeros(3, dtype=lib.int32).bernoulli_(
        lib.full((3,), 0.5, dtype=lib.float64)),
    "poisson": lambda lib: lib.poisson(lib.full((2, 3), 2.0)),
    "poisson f64": lambda lib: lib.poisson(lib.full((3,), 20.0, dtype=lib.float64)),
    "poisson f16": lambda lib: lib.poisson(lib.full((3,), 2.0, dtype=lib.float16)),
    "poisson bf16": lambda lib: lib.poisson(lib.full((3,), 20.0, dtype=lib.bfloat16)),
    "poisson 0-dim": lambda lib: lib.poisson(lib.tensor(3.0)),
    "poisson 0-size": lambda lib: lib.poisson(lib.zeros(2, 0)),
    "poisson transposed": lambda lib: lib.poisson(lib.full((2, 3), 12.0).t()),
    "poisson rg": lambda lib: lib.poisson(lib.full((3,), 2.0, requires_grad=True)),
    "poisson generator": lambda lib: lib.poisson(lib.ones(3), lib.Generator()),
    "multinomial 1-D": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0, 3.0]), 2),
    "multinomial 2-D": lambda lib: lib.multinomial(lib.ones(4, 3), 3),
    "multinomial replacement": lambda lib: lib.multinomial(lib.ones(3), 7, True),
    "multinomial 2-D replacement": lambda lib: lib.multinomial(lib.ones(2, 3), 5, replacement=True),
    "multinomial f64": lambda lib: lib.multinomial(lib.ones(3, dtype=lib.float64), 1),
    "multinomial f16": lambda lib: lib.multinomial(lib.ones(2, 3, dtype=lib.float16), 2),
    "multinomial 0 rows": lambda lib: lib.multinomial(lib.zeros(0, 3), 2),
    "multinomial 0 rows repl": lambda lib: lib.multinomial(lib.zeros(0, 3), 4, True),
    "multinomial expanded": lambda lib: lib.multinomial(lib.ones(1, 5).expand(3, 5), 2),
    "multinomial transposed": lambda lib: lib.multinomial(lib.ones(4, 3).t(), 6, True),
    "multinomial one category": lambda lib: lib.multinomial(lib.ones(1), 3, True),
    "multinomial rg": lambda lib: lib.multinomial(lib.ones(3, requires_grad=True), 2),
    "multinomial few positive": lambda lib: lib.multinomial(lib.tensor([1.0, 0.0, 0.0]), 3),
    "Tensor.multinomial": lambda lib: lib.ones(2, 3).multinomial(2, replacement=True),
    "exponential_": lambda lib: lib.zeros(2, 3).exponential_(),
    "exponential_ 0-size": lambda lib: lib.zeros(0, 3).exponential_(),
    "cauchy_ 0-size": lambda lib: lib.zeros(2, 0).cauchy_(),
    "random_ 0-size": lambda lib: lib.zeros(0, dtype=lib.int64).random_(),
    "exponential_ f16": lambda lib: lib.zeros(3, dtype=lib.float16).exponential_(2.0),
    "exponential_ inf": lambda lib: lib.zeros(3).exponential_(math.inf),
    "geometric_": lambda lib: lib.zeros(3).geometric_(0.5),
    "geometric_ int": lambda lib: lib.zeros(3, dtype=lib.int64).geometric_(0.5),
    "geometric_ int32": lambda lib: lib.zeros(3, dtype=lib.int32).geometric_(p=0.2),
    "log_normal_": lambda lib: lib.zeros(3, dtype=lib.float64).log_normal_(),
    "cauchy_": lambda lib: lib.zeros(3).cauchy_(1.0, 2.0),
    "random_": lambda lib: lib.zeros(3).random_(),
    "random_ int8": lambda lib: lib.zeros(3, dtype=lib.int8).random_(),
    "random_ bool": lambda lib: lib.zeros(3, dtype=lib.bool).random_(),
    "random_(to)": lambda lib: lib.zeros(3, dtype=lib.int16).random_(5),
    "random_(from, to)": lambda lib: lib.zeros(3).random_(-3, 3),
    "random_(to=)": lambda lib: lib.zeros(3).random_(to=3),
    "random_(from, None)": lambda lib: lib.zeros(3, dtype=lib.uint8).random_(2, None),
    "random_(0, 2) bool": lambda lib: lib.zeros(3, dtype=lib.bool).random_(0, 2),
    "rand_like generator": lambda lib: lib.rand_like(lib.zeros(2, 3), generator=lib.Generator()),
    "randn_like generator": lambda lib: lib.randn_like(lib.zeros(2, dtype=lib.float64),
                                                       generator=lib.Generator()),
    "randint_like generator": lambda lib: lib.randint_like(lib.zeros(2), 5,
                                                           generator=lib.Generator()),
}


@pytest.mark.parametrize("case", SHAPE_CASES, ids=str)
def test_shape_dtype_device_and_grad_flag_match_torch(case):
    fn = SHAPE_CASES[case]
    g, t = fn(genesis), fn(torch)
    assert g.shape == tuple(t.shape)
    assert dtype_name(g.dtype) == dtype_name(t.dtype)
    assert g.device.type == t.device.type
    assert g.requires_grad == t.requires_grad


def _zeros(lib, *shape, **kw):
    return lib.zeros(*shape, **kw)


ERROR_CASES = {
    "normal(f, f) without size": lambda lib: lib.normal(0.0, 1.0),
    "normal size int": lambda lib: lib.normal(0.0, 1.0, size=3),
    "normal(f, t, size)": lambda lib: lib.normal(0.0, lib.ones(3), size=(3,)),
    "normal(t, f, dtype)": lambda lib: lib.normal(lib.zeros(3), 1.0, dtype=lib.float64),
    "normal(t, t, size)": lambda lib: lib.normal(lib.zeros(3), lib.ones(3), size=(3,)),
    "normal negative std": lambda lib: lib.normal(lib.zeros(3), -1.0),
    "normal NaN std": lambda lib: lib.normal(lib.zeros(3), math.nan),
    "normal negative std size": lambda lib: lib.normal(0.0, -1.0, (2,)),
    "normal negative std tensor": lambda lib: lib.normal(lib.zeros(3), lib.tensor([1.0, -1, 1])),
    "normal NaN std tensor": lambda lib: lib.normal(lib.zeros(3), lib.tensor([1.0, math.nan, 1])),
    "normal mismatched shapes": lambda lib: lib.normal(lib.zeros(3), lib.ones(4)),
    "normal int mean": lambda lib: lib.normal(lib.zeros(3, dtype=lib.int64), lib.ones(3)),
    "normal bool mean": lambda lib: lib.normal(lib.zeros(3, dtype=lib.bool), 1.0),
    "normal(f, int std)": lambda lib: lib.normal(0.0, lib.ones(3, dtype=lib.int64)),
    "normal int dtype": lambda lib: lib.normal(0.0, 1.0, (2,), dtype=lib.int64),
    "bernoulli int": lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.int64)),
    "bernoulli bool": lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.bool)),
    "bernoulli p > 1": lambda lib: lib.bernoulli(lib.full((3,), 1.5)),
    "bernoulli p < 0": lambda lib: lib.bernoulli(lib.full((3,), -0.5)),
    "bernoulli p NaN": lambda lib: lib.bernoulli(lib.full((3,), math.nan)),
    "bernoulli scalar p > 1": lambda lib: lib.bernoulli(lib.zeros(3), 1.5),
    "bernoulli tensor p": lambda lib: lib.bernoulli(lib.zeros(3), lib.full((3,), 0.5)),
    "bernoulli_ scalar p > 1": lambda lib: lib.zeros(3).bernoulli_(1.5),
    "bernoulli_ scalar p < 0": lambda lib: lib.zeros(3).bernoulli_(-0.1),
    "bernoulli_ tensor p > 1": lambda lib: lib.zeros(3).bernoulli_(lib.full((3,), 1.5)),
    "bernoulli_ int p": lambda lib: lib.zeros(3).bernoulli_(lib.ones(3, dtype=lib.int64)),
    "bernoulli_ p too big": lambda lib: lib.zeros(3).bernoulli_(lib.full((2, 3), 0.5)),
    "bernoulli_ leaf": lambda lib: _rg(lib, 3).bernoulli_(0.5),
    "poisson negative": lambda lib: lib.poisson(lib.full((3,), -2.0)),
    "poisson NaN": lambda lib: lib.poisson(lib.full((3,), math.nan)),
    "poisson int": lambda lib: lib.poisson(lib.full((3,), 2)),
    "multinomial too many": lambda lib: lib.multinomial(lib.ones(3), 4),
    "multinomial negative": lambda lib: lib.multinomial(lib.tensor([1.0, -1.0]), 1),
    "multinomial inf": lambda lib: lib.multinomial(lib.tensor([1.0, math.inf]), 1),
    "multinomial NaN": lambda lib: lib.multinomial(lib.tensor([1.0, math.nan]), 1),
    "multinomial NaN replacement": lambda lib: lib.multinomial(lib.tensor([1.0, math.nan]), 3,
                                                              True),
    "multinomial zero row": lambda lib: lib.multinomial(lib.zeros(3), 1),
    "multinomial zero row 2-D": lambda lib: lib.multinomial(lib.tensor([[1.0, 1], [0, 0]]), 1),
    "multinomial zero row replacement": lambda lib: lib.multinomial(lib.zeros(2, 3), 4, True),
    "multinomial 0 samples": lambda lib: lib.multinomial(lib.ones(3), 0),
    "multinomial negative samples": lambda lib: lib.multinomial(lib.ones(3), -1, True),
    "multinomial float samples": lambda lib: lib.multinomial(lib.ones(3), 2.0),
    "multinomial bool samples": lambda lib: lib.multinomial(lib.ones(3), True),
    "multinomial 3-D": lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    "multinomial 0-D": lambda lib: lib.multinomial(lib.tensor(1.0), 1),
    "multinomial int": lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    "multinomial bool": lambda lib: lib.multinomial(lib.tensor([True, False]), 1),
    "multinomial no categories": lambda lib: lib.multinomial(lib.zeros(0), 1),
    "multinomial no categories repl": lambda lib: lib.multinomial(lib.zeros(0), 3, True),
    "multinomial 2-D no categories": lambda lib: lib.multinomial(lib.zeros(2, 0), 3, True),
    "exponential_ 0": lambda lib: lib.zeros(3).exponential_(0),
    "exponential_ negative": lambda lib: lib.zeros(3).exponential_(-1.0),
    "exponential_ NaN": lambda lib: lib.zeros(3).exponential_(math.nan),
    "exponential_ int": lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(),
    "exponential_ leaf": lambda lib: _rg(lib, 3).exponential_(),
    "geometric_ 0": lambda lib: lib.zeros(3).geometric_(0),
    "geometric_ 1": lambda lib: lib.zeros(3).geometric_(1),
    "geometric_ 1.5": lambda lib: lib.zeros(3).geometric_(1.5),
    "geometric_ NaN": lambda lib: lib.zeros(3).geometric_(math.nan),
    "geometric_ no p": lambda lib: lib.zeros(3).geometric_(),
    "geometric_ bool": lambda lib: lib.zeros(3, dtype=lib.bool).geometric_(0.5),
    "log_normal_ std 0": lambda lib: lib.zeros(3).log_normal_(1, 0),
    "log_normal_ std < 0": lambda lib: lib.zeros(3).log_normal_(1, -1),
    "log_normal_ int": lambda lib: lib.zeros(3, dtype=lib.int64).log_normal_(),
    "cauchy_ sigma 0": lambda lib: lib.zeros(3).cauchy_(0, 0),
    "cauchy_ sigma < 0": lambda lib: lib.zeros(3).cauchy_(0, -1),
    "cauchy_ int": lambda lib: lib.zeros(3, dtype=lib.int64).cauchy_(),
    "random_ from > to": lambda lib: lib.zeros(3).random_(5, 2),
    "random_ from == to": lambda lib: lib.zeros(3).random_(5, 5),
    "random_ to 0": lambda lib: lib.zeros(3).random_(0),
    "random_ to out of int8": lambda lib: lib.zeros(3, dtype=lib.int8).random_(0, 300),
    "random_ from out of int8": lambda lib: lib.zeros(3, dtype=lib.int8).random_(-200, 3),
    "random_ to out of float16": lambda lib: lib.zeros(3, dtype=lib.float16).random_(0, 2 ** 30),
    "random_ to out of bool": lambda lib: lib.zeros(3, dtype=lib.bool).random_(0, 3),
    "random_ from out of uint8": lambda lib: lib.zeros(3, dtype=lib.uint8).random_(-1, None),
    "random_ float bounds": lambda lib: lib.zeros(3).random_(0.5, 3),
    "random_ leaf": lambda lib: _rg(lib, 3).random_(),
    "rand int dtype": lambda lib: lib.rand(3, dtype=lib.int64),
    "randn int dtype": lambda lib: lib.randn(3, dtype=lib.int32),
    "rand_like int": lambda lib: lib.rand_like(lib.zeros(3, dtype=lib.int64)),
    "randn_like int": lambda lib: lib.randn_like(lib.zeros(3, dtype=lib.int64)),
}


@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_errors_match_torch(case):
    fn = ERROR_CASES[case]
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(genesis)
    assert type(got.value) is type(expected.value), (got.value, expected.value)


def test_random_beyond_exact_float_integers_warns_like_torch():
    with pytest.warns(UserWarning):
        torch.zeros(3).random_(2 ** 25)
    with pytest.warns(UserWarning):
        genesis.zeros(3).random_(2 ** 25)


# -- gradients and in-place semantics ------------------------------------------------------------

GRAD_CASES = {
    "normal(t, t)": lambda lib, a, b: lib.normal(a, b),
    "normal(t, f)": lambda lib, a, b: lib.normal(a, 2.0) + b,
    "normal(f, t)": lambda lib, a, b: lib.normal(1.0, b) + a,
    "poisson": lambda lib, a, b: lib.poisson(b) + a,
    "bernoulli": lambda lib, a, b: lib.bernoulli(b / 4) + a,
    "bernoulli_ of a graph tensor": lambda lib, a, b: (a * b).bernoulli_(b / 4),
    "exponential_ of a graph tensor": lambda lib, a, b: (a * b).exponential_() + b,
    "random_ of a graph tensor": lambda lib, a, b: (a * 2).random_(0, 5) + b,
}


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_samples_are_recorded_with_zero_gradient_as_in_torch(case):
    fn = GRAD_CASES[case]
    grads = {}
    for lib in (genesis, torch):
        a = lib.tensor([[0.5, 1.0, 2.0]], requires_grad=True)
        b = lib.tensor([[1.0], [2.0]], requires_grad=True)
        out = fn(lib, a, b)
        assert out.requires_grad
        out.sum().backward()
        grads[lib] = [np.asarray(x.grad.tolist()) for x in (a, b)]
    for g, t in zip(grads[genesis], grads[torch]):
        np.testing.assert_array_equal(g, t)


@pytest.mark.parametrize("method, args", [("exponential_", ()), ("geometric_", (0.3,)),
                                          ("log_normal_", ()), ("cauchy_", ()),
                                          ("random_", (0, 9)), ("bernoulli_", (0.5,))])
def test_in_place_fills_write_through_views_and_return_self(method, args):
    base = genesis.full((4, 6), -7.0)
    view = base[1:3].t()  # strided: the middle two rows, transposed
    assert getattr(view, method)(*args) is view
    got = base.numpy()
    assert (got[[0, 3]] == -7).all() and (got[1:3] != -7).all()
    np.testing.assert_array_equal(view.numpy(), got[1:3].T)
    with genesis.no_grad():  # a leaf that requires grad is fine without grad mode, as in torch
        leaf = genesis.zeros(5, requires_grad=True)
        getattr(leaf, method)(*args)
    assert leaf.requires_grad and leaf.is_leaf and (leaf.detach().numpy() != 0).any()


# -- reproducibility -----------------------------------------------------------------------------

DRAWS = {
    "normal(t, t)": lambda g: genesis.normal(genesis.zeros(5), genesis.ones(5), generator=g),
    "normal(f, f, size)": lambda g: genesis.normal(0.0, 1.0, (5,), generator=g),
    "bernoulli": lambda g: genesis.bernoulli(genesis.full((20,), 0.5), generator=g),
    "bernoulli(t, p)": lambda g: genesis.bernoulli(genesis.zeros(20), 0.5, generator=g),
    "bernoulli_(t)": lambda g: genesis.zeros(20).bernoulli_(genesis.full((20,), 0.5),
                                                            generator=g),
    "poisson": lambda g: genesis.poisson(genesis.tensor([0.5, 3.0, 10.0, 80.0, 1e4] * 4), g),
    "multinomial": lambda g: genesis.multinomial(genesis.ones(3, 8), 5, generator=g),
    "multinomial replacement": lambda g: genesis.multinomial(genesis.ones(3, 8), 20, True,
                                                             generator=g),
    "exponential_": lambda g: genesis.zeros(6).exponential_(generator=g),
    "geometric_": lambda g: genesis.zeros(6).geometric_(0.2, generator=g),
    "log_normal_": lambda g: genesis.zeros(6).log_normal_(generator=g),
    "cauchy_": lambda g: genesis.zeros(6).cauchy_(generator=g),
    "random_": lambda g: genesis.zeros(6, dtype=genesis.int64).random_(generator=g),
    "rand_like": lambda g: genesis.rand_like(genesis.zeros(6), generator=g),
    "randn_like": lambda g: genesis.randn_like(genesis.zeros(6), generator=g),
    "randint_like": lambda g: genesis.randint_like(genesis.zeros(6), 1000, generator=g),
}


@pytest.mark.parametrize("case", DRAWS, ids=str)
def test_draws_reproduce_under_seeds_states_and_generators(case):
    draw = DRAWS[case]
    genesis.manual_seed(42)
    first, second = draw(None).tolist(), draw(None).tolist()
    assert first != second  # the stream moves on
    genesis.manual_seed(42)
    assert draw(None).tolist() == first
    state = genesis.get_rng_state()
    assert draw(None).tolist() == second
    genesis.set_rng_state(state)
    assert draw(None).tolist() == second
    # an explicit generator is its own stream and leaves the default one alone
    before = genesis.get_rng_state().tolist()
    gen = genesis.Generator().manual_seed(42)
    assert draw(gen).tolist() == first
    assert genesis.get_rng_state().tolist() == before
    assert draw(genesis.Generator().manual_seed(43)).tolist() != first


# -- the distributions ---------------------------------------------------------------------------

def test_normal_tensor_mean_and_std_per_element():
    genesis.manual_seed(3)
    mean = genesis.tensor([-3.0, 0.0, 2.0, 5.0, 1.0])
    std = genesis.tensor([0.5, 1.0, 2.0, 3.0, 0.0], dtype=genesis.float64)
    n = 20000
    x = genesis.normal(mean.expand(n, 5), std).numpy()
    assert x.dtype == np.float32
    for j, (m, s) in enumerate(zip(mean.tolist(), std.tolist())):
        if s == 0:
            assert (x[:, j] == m).all()
            continue
        assert_mean(x[:, j], m, s)
        assert abs(x[:, j].var() - s * s) < 5 * s * s * math.sqrt(2 / (n - 1))
        assert_quantiles(x[:, j], NormalDist(m, s).inv_cdf)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_normal_scalar_forms(dtype):
    genesis.manual_seed(4)
    n = 20000
    d = getattr(genesis, dtype)
    x = genesis.normal(genesis.full((n,), 1.5, dtype=d), 2.0).float().numpy()
    assert_mean(x, 1.5, 2.0)
    y = genesis.normal(-1.0, genesis.full((n,), 0.5, dtype=d)).float().numpy()
    assert_mean(y, -1.0, 0.5)
    z = genesis.normal(3.0, 0.25, (n,), dtype=d)
    assert z.dtype is d
    assert_mean(z.float().numpy(), 3.0, 0.25)
    if dtype in ("float32", "float64"):
        assert_quantiles(x, NormalDist(1.5, 2.0).inv_cdf)
        assert_quantiles(y, NormalDist(-1.0, 0.5).inv_cdf)
        assert_quantiles(z.numpy(), NormalDist(3.0, 0.25).inv_cdf)


def test_bernoulli_frequencies_per_element():
    genesis.manual_seed(5)
    p = genesis.linspace(0, 1, 11)
    n = 20000
    for x in (genesis.bernoulli(p.expand(n, 11)), genesis.zeros(n, 11).bernoulli_(p),
              genesis.zeros(n, 11, dtype=genesis.int64).bernoulli_(p.double()),
              genesis.zeros(11, n, dtype=genesis.bool).t().bernoulli_(p)):
        a = x.double().numpy()
        assert set(np.unique(a)) <= {0.0, 1.0}
        for j, pj in enumerate(p.tolist()):
            if pj in (0.0, 1.0):
                assert (a[:, j] == pj).all()
            else:
                assert_mean(a[:, j], pj, math.sqrt(pj * (1 - pj)))


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16"])
def test_bernoulli_scalar_p(dtype):
    genesis.manual_seed(6)
    n = 40000
    d = getattr(genesis, dtype)
    for x in (genesis.bernoulli(genesis.zeros(n, dtype=d), 0.3),
              genesis.zeros(n, dtype=d).bernoulli_(0.3)):
        assert x.dtype is d
        a = x.double().numpy()
        assert set(np.unique(a)) <= {0.0, 1.0}
        assert_mean(a, 0.3, math.sqrt(0.21))
    assert genesis.ones(10).bernoulli_(0.0).sum().item() == 0
    assert genesis.zeros(10).bernoulli_(1.0).sum().item() == 10


@pytest.mark.parametrize("rate", [0.0, 0.5, 3.0, 9.9, 10.0, 50.0, 1000.0])
def test_poisson_goodness_of_fit(rate):
    genesis.manual_seed(7)
    n = 20000
    x = genesis.poisson(genesis.full((n,), rate, dtype=genesis.float64)).numpy()
    assert (x == np.round(x)).all() and (x >= 0).all()
    if rate == 0:
        assert (x == 0).all()
        return
    n_bins = int(rate + 12 * math.sqrt(rate) + 15)
    assert_fits(counts_of(x, n_bins), poisson_pmf(rate, n_bins))
    assert_mean(x, rate, math.sqrt(rate))


def test_poisson_mixed_rates_in_one_tensor():
    """Small and large rates side by side (the two algorithms, each on its own elements),
    in a strided float32 tensor."""
    genesis.manual_seed(8)
    rates = genesis.tensor([0.0, 0.5, 3.0, 9.9, 10.0, 50.0, 1000.0, 1e7])
    n = 20000
    x = genesis.poisson(rates.expand(n, 8).t()).t().numpy()
    assert x.dtype == np.float32
    for j, r in enumerate(rates.tolist()):
        assert_mean(x[:, j].astype(np.float64), r, math.sqrt(r))
    assert (x[:, 0] == 0).all()


def test_poisson_huge_and_infinite_rates():
    genesis.manual_seed(9)
    x = genesis.poisson(genesis.full((4000,), 1e10, dtype=genesis.float64)).numpy()
    assert_mean(x, 1e10, 1e5)
    assert abs(x.std() / 1e5 - 1) < 5 * math.sqrt(1 / (2 * 3999))
    assert genesis.poisson(genesis.tensor([math.inf, 1.0]))[0].item() == math.inf


def test_poisson_log_factorial_table_and_series_agree_with_lgamma():
    from genesis._ops.sampling_discrete import _log_factorial
    k = np.arange(0, 2000, dtype=np.float64)
    got = _log_factorial(genesis.tensor(k)).numpy()
    want = np.array([math.lgamma(v + 1) for v in k])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_multinomial_with_replacement_frequencies():
    genesis.manual_seed(10)
    w = genesis.tensor([[0.0, 1.0, 2.0, 3.0, 0.0, 4.0], [5.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
    n = 20000
    x = genesis.multinomial(w, n, replacement=True).numpy()
    assert x.shape == (2, n) and x.dtype == np.int64
    for row, weights in zip(x, w.tolist()):
        probs = np.array(weights) / sum(weights)
        counts = np.bincount(row, minlength=6)
        assert (counts[probs == 0] == 0).all()
        assert_fits(counts[probs > 0], probs[probs > 0])


def test_multinomial_never_draws_zero_weights_among_many():
    """The running sum repeats its value exactly at every zero weight (block boundaries of the
    sum included), so the inverse CDF never lands on one."""
    genesis.manual_seed(11)
    w = np.zeros(1000)
    w[[0, 31, 32, 500, 999]] = [1e-30, 1.0, 1e-8, 3.0, 2.0]
    x = genesis.multinomial(genesis.tensor(w), 50000, True).numpy()
    assert set(np.unique(x)) <= {0, 31, 32, 500, 999}
    counts = np.bincount(x, minlength=1000)[[31, 500, 999]]
    assert_fits(counts, np.array([1.0, 3.0, 2.0]) / 6)


def test_multinomial_one_sample_frequencies():
    genesis.manual_seed(12)
    w = genesis.tensor([0.1, 0.0, 0.5, 0.2, 1.2])
    n = 20000
    for replacement in (False, True):
        x = genesis.multinomial(w.expand(n, 5), 1, replacement).numpy().reshape(-1)
        probs = np.array(w.tolist()) / sum(w.tolist())
        counts = np.bincount(x, minlength=5)
        assert counts[1] == 0
        assert_fits(counts[probs > 0], probs[probs > 0])


def test_multinomial_without_replacement_is_sequential_drawing():
    """A row never repeats a category, and the first two draws follow the sequential-draw
    probabilities ``w_i / W * w_j / (W - w_i)``."""
    genesis.manual_seed(13)
    w = [1.0, 2.0, 0.0, 3.0, 4.0]
    n = 30000
    x = genesis.multinomial(genesis.tensor(w).expand(n, 5), 2).numpy()
    assert (x[:, 0] != x[:, 1]).all()
    total = sum(w)
    cells = [(i, j) for i in range(5) for j in range(5) if i != j and w[i] and w[j]]
    probs = [w[i] / total * w[j] / (total - w[i]) for i, j in cells]
    pairs = {c: 0 for c in cells}
    for i, j in x.tolist():
        pairs[(i, j)] += 1  # a zero weight among the first two draws raises KeyError
    assert_fits([pairs[c] for c in cells], probs)


def test_multinomial_without_replacement_drains_rows():
    genesis.manual_seed(14)
    w = genesis.tensor([[0.0, 3.0, 0.0, 1.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0]],
                       dtype=genesis.float16)
    for _ in range(20):
        x = genesis.multinomial(w, 5).numpy()
        assert (np.sort(x, axis=1) == np.arange(5)).all()  # permutations
        assert set(x[0, :3]) == {1, 3, 4}  # positive weights before zero ones
    # unnormalised huge weights: float32 would overflow their sum
    y = genesis.multinomial(genesis.tensor([3e38, 3e38, 3e38]), 3).numpy()
    assert sorted(y.tolist()) == [0, 1, 2]


def _fill_samples(method: str, *args, n: int = 20000, dtype=genesis.float32):
    genesis.manual_seed(15)
    return getattr(genesis.zeros(n, dtype=dtype), method)(*args)


@pytest.mark.parametrize("dtype", [genesis.float32, genesis.float64, genesis.float16])
def test_exponential_(dtype):
    x = _fill_samples("exponential_", 2.5, dtype=dtype).double().numpy()
    assert (x >= 0).all()
    assert_mean(x, 0.4, 0.4)
    if dtype is not genesis.float16:
        assert_quantiles(x, lambda q: -math.log1p(-q) / 2.5)


@pytest.mark.parametrize("dtype", [genesis.float32, genesis.int64, genesis.int32])
@pytest.mark.parametrize("p", [0.05, 0.3, 0.9])
def test_geometric_(dtype, p):
    x = _fill_samples("geometric_", p, dtype=dtype).numpy()
    assert x.min() >= 1 and (x == np.round(x)).all()
    n_bins = int(30 / p)
    probs = [0.0] + [(1 - p) ** (k - 1) * p for k in range(1, n_bins - 1)]
    probs.append(1 - math.fsum(probs))
    assert_fits(counts_of(x, n_bins), probs)


def test_log_normal_():
    x = _fill_samples("log_normal_", 0.5, 0.75, dtype=genesis.float64).numpy()
    assert (x > 0).all()
    assert_quantiles(np.log(x), NormalDist(0.5, 0.75).inv_cdf)
    y = _fill_samples("log_normal_").numpy()  # torch's defaults: mean 1, std 2
    assert_quantiles(np.log(y.astype(np.float64)), NormalDist(1.0, 2.0).inv_cdf)


def test_cauchy_():
    for median, sigma in ((0.0, 1.0), (-2.0, 0.5)):
        x = _fill_samples("cauchy_", median, sigma, dtype=genesis.float64).numpy()
        assert_quantiles(x, lambda q, m=median, s=sigma: m + s * math.tan(math.pi * (q - 0.5)))


@pytest.mark.parametrize("dtype, low, high", [
    ("float32", -3, 4), ("int64", 0, 10), ("int8", -128, -120), ("uint8", 250, 256),
    ("bool", 0, 2), ("float16", 2000, 2049), ("bfloat16", 250, 257)])
def test_random_between(dtype, low, high):
    x = _fill_samples("random_", low, high, dtype=getattr(genesis, dtype))
    a = x.to(genesis.float64).numpy().astype(np.int64)
    assert a.min() >= low and a.max() < high
    counts = np.bincount(a - low, minlength=high - low)
    assert_fits(counts, [1 / (high - low)] * (high - low))


@pytest.mark.parametrize("dtype, top", [("float32", 2 ** 24), ("float16", 2 ** 11),
                                        ("bfloat16", 2 ** 8), ("float64", 2 ** 53),
                                        ("int8", 127), ("uint8", 255), ("int16", 2 ** 15 - 1),
                                        ("int32", 2 ** 31 - 1), ("int64", 2 ** 63 - 1)])
def test_random_default_range_is_torchs(dtype, top):
    """``random_()`` draws from [0, top] with torch's top per dtype; ``random_(from, None)``
    from [from, top]."""
    x = _fill_samples("random_", dtype=getattr(genesis, dtype)).tolist()
    assert min(x) >= 0 and max(x) <= top
    assert max(x) > top * 0.99 and min(x) < top * 0.01
    t = torch.zeros(20000, dtype=getattr(torch, dtype)).random_().tolist()
    assert max(t) <= top and max(t) > top * 0.99
    y = _fill_samples("random_", top - 5, None, dtype=getattr(genesis, dtype)).tolist()
    assert set(y) == set(range(top - 5, top + 1))


def test_rand_like_and_randn_like_draw_from_the_given_generator():
    g = genesis.Generator().manual_seed(3)
    a = genesis.rand_like(genesis.zeros(4, 3), generator=g)
    assert a.tolist() == genesis.rand(4, 3, generator=genesis.Generator().manual_seed(3)).tolist()
    b = genesis.randn_like(genesis.zeros(5, dtype=genesis.float64), generator=g)
    assert b.dtype is genesis.float64
