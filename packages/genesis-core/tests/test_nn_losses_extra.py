"""kl_div, huber, margin ranking, triplet margin, cosine embedding, Poisson and Gaussian NLL
losses and their layers against PyTorch: every reduction, contiguous / strided / broadcast
inputs, 0-size inputs, values and gradients of every input, legacy arguments and errors."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, assert_raises_like_torch, compare

FLOATS = ("float32", "float64")
REDUCTIONS = ("none", "mean", "sum")
TOL = {"rtol": 1e-5, "atol": 1e-6, "grad_rtol": 1e-5, "grad_atol": 1e-6}

pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss",
                                        "ignore:size_average and reduce args")


def F(lib):
    return lib.nn.functional


def _prob(t):
    """A positive target from a uniform input (same transform in both libraries)."""
    return t.abs() + 0.05


def _sign(t):
    return t.sign()


LOSSES = {
    "kl_div": (lambda lib, x, t, r: F(lib).kl_div(x, _prob(t), reduction=r), 2),
    "kl_div_log_target": (lambda lib, x, t, r: F(lib).kl_div(x, t, reduction=r, log_target=True),
                          2),
    "huber": (lambda lib, x, t, r: F(lib).huber_loss(x, t, reduction=r), 2),
    "huber_delta": (lambda lib, x, t, r: F(lib).huber_loss(x, t, reduction=r, delta=0.4), 2),
    "huber_weight": (lambda lib, x, t, w, r: F(lib).huber_loss(x, t, r, 1.5, weight=w), 3),
    "margin_ranking": (lambda lib, a, b, t, r: F(lib).margin_ranking_loss(a, b, _sign(t),
                                                                          reduction=r), 3),
    "margin_ranking_margin": (lambda lib, a, b, t, r: F(lib).margin_ranking_loss(
        a, b, _sign(t), margin=0.5, reduction=r), 3),
    "triplet": (lambda lib, a, p, n, r: F(lib).triplet_margin_loss(a, p, n, reduction=r), 3),
    "triplet_p1_swap": (lambda lib, a, p, n, r: F(lib).triplet_margin_loss(
        a, p, n, margin=2.0, p=1, swap=True, reduction=r), 3),
    "triplet_p3_eps": (lambda lib, a, p, n, r: F(lib).triplet_margin_loss(
        a, p, n, p=3, eps=1e-3, reduction=r), 3),
    "cosine_embedding": (lambda lib, a, b, t, r: F(lib).cosine_embedding_loss(
        a, b, _sign(t[..., 0]), reduction=r), 3),
    "cosine_embedding_margin": (lambda lib, a, b, t, r: F(lib).cosine_embedding_loss(
        a, b, _sign(t[..., 0]), margin=0.3, reduction=r), 3),
    "poisson": (lambda lib, x, t, r: F(lib).poisson_nll_loss(x, _prob(t) * 3, reduction=r), 2),
    "poisson_full": (lambda lib, x, t, r: F(lib).poisson_nll_loss(x, _prob(t) * 3, full=True,
                                                                  reduction=r), 2),
    "poisson_rate": (lambda lib, x, t, r: F(lib).poisson_nll_loss(_prob(x), _prob(t) * 3,
                                                                  log_input=False, reduction=r), 2),
    "poisson_rate_full": (lambda lib, x, t, r: F(lib).poisson_nll_loss(
        _prob(x), _prob(t) * 3, log_input=False, full=True, eps=1e-3, reduction=r), 2),
    "gaussian": (lambda lib, x, t, v, r: F(lib).gaussian_nll_loss(x, t, _prob(v), reduction=r),
                 3),
    "gaussian_full": (lambda lib, x, t, v, r: F(lib).gaussian_nll_loss(
        x, t, _prob(v), full=True, reduction=r), 3),
    "gaussian_clamped_var": (lambda lib, x, t, v, r: F(lib).gaussian_nll_loss(
        x, t, v.abs() * 1e-3, eps=5e-4, reduction=r), 3),
}


def _bind(name: str, reduction: str):
    fn, n = LOSSES[name]
    if n == 2:
        return lambda lib, a, b: fn(lib, a, b, reduction)
    return lambda lib, a, b, c: fn(lib, a, b, c, reduction)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_matches_torch(name, reduction, dtype, layout):
    compare(_bind(name, reduction), [(5, 4)] * LOSSES[name][1], dtype=dtype, layout=layout,
            **TOL)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("shape", [(0, 4), (3, 0), (1, 1)])
def test_loss_edge_shapes(name, reduction, shape):
    if name.startswith("cosine_embedding") and shape[1] == 0:
        shape = (0, 3)  # the target takes column 0
    compare(_bind(name, reduction), [shape] * LOSSES[name][1], dtype="float64")


# -- kl_div ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (6,), (), (0, 3)])
def test_kl_div_reductions_and_shapes(shape, reduction, log_target):
    def fn(lib, x, t):
        target = t if log_target else _prob(t)
        return F(lib).kl_div(x, target, reduction=reduction, log_target=log_target)
    compare(fn, [shape, shape], dtype="float64")


@pytest.mark.parametrize("reduction", ["none", "batchmean"])
def test_kl_div_broadcasts_and_counts_zero_targets_as_zero(reduction):
    compare(lambda lib, x, t: F(lib).kl_div(x, _prob(t), reduction=reduction), [(3, 4), (4,)],
            dtype="float64")
    x = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    t = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    compare(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction), arrays=[x, t],
            grad=[True, False])  # torch's target gradient at 0 is nan


def test_kl_div_mean_warns_like_torch():
    x, t = genesis.randn(2, 3), genesis.rand(2, 3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F(genesis).kl_div(x, t)


@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True),
                                                 (False, True)])
def test_legacy_reduction_arguments(size_average, reduce):
    compare(lambda lib, x, t: F(lib).kl_div(x, _prob(t), size_average, reduce), [(3, 4)] * 2,
            dtype="float64")
    compare(lambda lib, a, b, t: F(lib).margin_ranking_loss(a, b, _sign(t), 0.1, size_average,
                                                            reduce), [(5,)] * 3, dtype="float64")
    compare(lambda lib, x, t: F(lib).poisson_nll_loss(x, _prob(t), size_average=size_average,
                                                      reduce=reduce), [(3, 4)] * 2,
            dtype="float64")


# -- huber ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("delta", [0.1, 1.0, 3.0])
def test_huber_gradient_at_the_switch_and_zero(delta):
    x = np.array([0.0, delta, -delta, 2 * delta, -0.5 * delta, 1e-9])
    compare(lambda lib, x, t: F(lib).huber_loss(x, t, "none", delta), arrays=[x, np.zeros(6)])
    compare(lambda lib, x, t: F(lib).huber_loss(x, t, delta=delta), arrays=[x, x[::-1].copy()])


@pytest.mark.filterwarnings("ignore:Using a target size")
def test_huber_broadcasting_warns_like_torch():
    compare(lambda lib, x, t: F(lib).huber_loss(x, t), [(3, 4), (4,)], dtype="float64")
    with pytest.warns(UserWarning, match=r"Using a target size \(\[4\]\) that is different to "
                                         r"the input size \(\[3, 4\]\)"):
        F(genesis).huber_loss(genesis.ones(3, 4), genesis.ones(4))


def test_huber_loss_equals_smooth_l1_times_delta_at_delta_one():
    x, t = genesis.randn(5, 3), genesis.randn(5, 3)
    np.testing.assert_allclose(F(genesis).huber_loss(x, t).item(),
                               F(genesis).smooth_l1_loss(x, t).item(), rtol=1e-6)


# -- margin ranking, triplet, cosine embedding ----------------------------------------------------

@pytest.mark.parametrize("shapes", [[(5,), (5,), (5,)], [(5,), (1,), (5,)],
                                    [(2, 3), (2, 3), (1, 3)], [(), (), ()]])
def test_margin_ranking_broadcasting(shapes):
    compare(lambda lib, a, b, t: F(lib).margin_ranking_loss(a, b, _sign(t), 0.2, reduction="none"),
            shapes, dtype="float64")


def test_margin_ranking_integer_target():
    compare(lambda lib, a, b, t: F(lib).margin_ranking_loss(a, b, t, 0.1),
            arrays=[np.linspace(-1, 1, 6), np.linspace(1, -1, 6), np.array([1, -1, 1, 1, -1, -1])])


@pytest.mark.parametrize("p", [1, 1.5, 2, 3, math.inf])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("shapes", [[(4, 3)] * 3, [(3,)] * 3, [(2, 4, 3)] * 3,
                                    [(4, 3), (1, 3), (4, 3)]])
def test_triplet_margin_loss_norms_and_shapes(p, swap, shapes):
    compare(lambda lib, a, po, n: F(lib).triplet_margin_loss(a, po, n, 0.7, p, swap=swap,
                                                             reduction="none"),
            shapes, dtype="float64")


def test_triplet_swap_picks_the_closer_negative_and_ties_share_the_gradient():
    a = np.array([[0.0, 0.0], [1.0, 1.0]])
    po = np.array([[3.0, 0.0], [1.0, 2.0]])
    n = np.array([[3.0, 0.0], [1.0, 1.5]])  # row 0: d(a, n) == d(p, n)? no: d(p, n) = 0
    compare(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, 5.0, swap=True,
                                                            reduction="none"),
            arrays=[a, po, n])
    same = np.array([[1.0, 2.0], [0.5, -1.0]])
    compare(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, 1.0, swap=True),
            arrays=[same, same + 1, same + 1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target", [[1, -1, 1, -1], [1, 1, 1, 1], [-1, -1, -1, -1],
                                    [1, 0, 2, -1]])
def test_cosine_embedding_targets(target, reduction):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    b[1] = a[1] * 2  # cos == 1
    compare(lambda lib, a, b, t: F(lib).cosine_embedding_loss(a, b, t, -0.2, reduction=reduction),
            arrays=[a, b, np.array(target, dtype=np.float64)])
    compare(lambda lib, a, b, t: F(lib).cosine_embedding_loss(a, b, t, 0.1, reduction=reduction),
            arrays=[a, b, np.array(target)])


def test_cosine_embedding_one_pair_and_zero_vectors():
    for t in (1.0, -1.0):
        compare(lambda lib, a, b, t: F(lib).cosine_embedding_loss(a, b, t),
                arrays=[np.array([1.0, 2.0, -1.0]), np.array([0.5, -2.0, 3.0]), np.array(t)])
    compare(lambda lib, a, b, t: F(lib).cosine_embedding_loss(a, b, t),
            arrays=[np.zeros((2, 3)), np.ones((2, 3)), np.array([1.0, -1.0])])


# -- Poisson and Gaussian NLL ----------------------------------------------------------------------

@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_full_stirling_term_only_above_one(log_input):
    x = np.array([0.5, -1.0, 2.0, 0.1, 1.0])
    t = np.array([0.0, 1.0, 1.5, 4.0, 7.0])
    compare(lambda lib, x, t: F(lib).poisson_nll_loss(x if log_input else x.abs(), t,
                                                      log_input=log_input, full=True,
                                                      reduction="none"),
            arrays=[x, t], grad=[True, False])  # torch's target gradient at 0 is nan
    compare(lambda lib, x, t: F(lib).poisson_nll_loss(x, t, full=True), arrays=[x, t + 0.5])


def test_poisson_broadcasts_and_takes_integer_inputs():
    compare(lambda lib, x, t: F(lib).poisson_nll_loss(x, _prob(t), reduction="none"),
            [(3, 4), (4,)], dtype="float64")
    compare(lambda lib, x, t: F(lib).poisson_nll_loss(x, t),
            arrays=[np.array([1, 2, 0]), np.array([0, 3, 1])])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
def test_gaussian_nll_var_shapes(var_shape, full, reduction):
    compare(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, _prob(v), full,
                                                          reduction=reduction),
            [(4, 3), (4, 3), var_shape], dtype="float64")


@pytest.mark.parametrize("var", [0.5, 2.0, 0.0, 1e-9])
def test_gaussian_nll_float_var(var):
    compare(lambda lib, x, t: F(lib).gaussian_nll_loss(x, t, var, reduction="none"),
            [(3, 4), (3, 4)], dtype="float64")


def test_gaussian_nll_clamped_var_keeps_its_gradient():
    """PyTorch clamps var to eps in place under no_grad: the clamped entries still get the
    gradient of the clamped value, here checked against torch."""
    v = np.array([1e-9, 0.0, 0.3, 1e-7, 2.0])
    x = np.array([0.1, -0.2, 0.3, 0.0, 1.0])
    compare(lambda lib, x, t, v: F(lib).gaussian_nll_loss(x, t, v, eps=1e-6, reduction="none"),
            arrays=[x, np.zeros(5), v])


# -- errors ----------------------------------------------------------------------------------------

def _calls(lib, **kw):
    x, y, t = lib.ones(2, 3), lib.zeros(2, 3), lib.ones(2)
    return {
        "kl_div": lambda: F(lib).kl_div(x, y, **kw),
        "huber_loss": lambda: F(lib).huber_loss(x, y, **kw),
        "margin_ranking_loss": lambda: F(lib).margin_ranking_loss(x, y, y, **kw),
        "triplet_margin_loss": lambda: F(lib).triplet_margin_loss(x, y, y, **kw),
        "cosine_embedding_loss": lambda: F(lib).cosine_embedding_loss(x, y, t, **kw),
        "poisson_nll_loss": lambda: F(lib).poisson_nll_loss(x, y, **kw),
        "gaussian_nll_loss": lambda: F(lib).gaussian_nll_loss(x, y, x, **kw),
    }


@pytest.mark.parametrize("name", sorted(_calls(genesis)))
def test_bad_reduction_is_refused_like_torch(name):
    assert_raises_like_torch(lambda lib: _calls(lib, reduction="bogus")[name](),
                             f"{name}: reduction='bogus', expected 'none', ")


def test_loss_argument_errors_match_torch():
    r = lambda lib, *s: lib.ones(*s)  # noqa: E731
    assert_raises_like_torch(lambda lib: F(lib).kl_div(lib.tensor([1, 2]), lib.tensor([1, 2]),
                                                       reduction="sum"),
                             "kl_div: input has dtype .*int64, expected a floating point")
    assert_raises_like_torch(lambda lib: F(lib).huber_loss(r(lib, 3), r(lib, 3), delta=0),
                             "delta=0, expected a positive number")
    assert_raises_like_torch(lambda lib: F(lib).huber_loss(r(lib, 2, 3), r(lib, 2, 3),
                                                           weight=r(lib, 3)),
                             r"weight of shape \[3\], expected the input's shape \[2, 3\]")
    assert_raises_like_torch(lambda lib: F(lib).huber_loss(lib.tensor([1, 2]), lib.tensor([1, 5])),
                             "huber_loss: input .*int64.* expected floating point dtypes")
    assert_raises_like_torch(lambda lib: F(lib).margin_ranking_loss(r(lib, 3), r(lib, 3),
                                                                    r(lib, 1, 3)),
                             r"same number of dims, got input1 \[3\], input2 \[3\], target")
    assert_raises_like_torch(lambda lib: F(lib).triplet_margin_loss(r(lib, 2, 3), r(lib, 2, 3),
                                                                    r(lib, 2, 3), margin=0),
                             "margin=0, expected a number greater than 0")
    assert_raises_like_torch(lambda lib: F(lib).triplet_margin_loss(r(lib, 2, 3), r(lib, 2, 3),
                                                                    r(lib, 3)),
                             "anchor 2D, positive 2D, and negative 1D inputs")
    assert_raises_like_torch(lambda lib: F(lib).cosine_embedding_loss(r(lib, 2, 3), r(lib, 2, 3),
                                                                      r(lib, 2, 1)),
                             r"target of shape \[2, 1\], expected a 0-D or 1-D target")
    assert_raises_like_torch(lambda lib: F(lib).cosine_embedding_loss(r(lib, 3), r(lib, 3),
                                                                      r(lib, 3)),
                             r"a 1-D target expects 2-D inputs, but found inputs with sizes \[3\]")
    assert_raises_like_torch(lambda lib: F(lib).gaussian_nll_loss(r(lib, 3), r(lib, 3), -1.0),
                             "var=-1.0 is negative")
    assert_raises_like_torch(lambda lib: F(lib).gaussian_nll_loss(r(lib, 3), r(lib, 3),
                                                                  lib.tensor([1.0, -1.0, 1.0])),
                             "var has negative entries")
    assert_raises_like_torch(lambda lib: F(lib).gaussian_nll_loss(r(lib, 2, 3), r(lib, 2, 3),
                                                                  r(lib, 3)),
                             r"var of shape \[3\] is of incorrect size")
    assert_raises_like_torch(lambda lib: F(lib).gaussian_nll_loss(r(lib, 2, 3), r(lib, 2, 3),
                                                                  r(lib, 1, 1)),
                             r"var of shape \[1, 1\] is of incorrect size")


# -- finite differences ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(n for n in LOSSES if n != "gaussian_clamped_var"))
def test_gradcheck(name):
    """(A clamped var's gradient is PyTorch's pass-through, not the derivative: left out.)"""
    rng = np.random.default_rng(5)
    inputs = [genesis.tensor(rng.uniform(-2, 2, (3, 4)), requires_grad=True)
              for _ in range(LOSSES[name][1])]
    assert genesis.autograd.gradcheck(lambda *xs: _bind(name, "sum")(genesis, *xs), inputs)


# -- layers ----------------------------------------------------------------------------------------

LAYERS = {
    "HuberLoss": (lambda lib: lib.nn.HuberLoss(reduction="sum", delta=0.5), 2, None),
    "SmoothL1Loss": (lambda lib: lib.nn.SmoothL1Loss(beta=0.5), 2, None),
    "KLDivLoss": (lambda lib: lib.nn.KLDivLoss(reduction="batchmean"), 2, _prob),
    "KLDivLoss_log_target": (lambda lib: lib.nn.KLDivLoss(reduction="sum", log_target=True), 2,
                             None),
    "MarginRankingLoss": (lambda lib: lib.nn.MarginRankingLoss(0.3), 3, _sign),
    "TripletMarginLoss": (lambda lib: lib.nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True), 3,
                          None),
    "CosineEmbeddingLoss": (lambda lib: lib.nn.CosineEmbeddingLoss(0.1, reduction="none"), 3,
                            lambda t: _sign(t[:, 0])),
    "PoissonNLLLoss": (lambda lib: lib.nn.PoissonNLLLoss(full=True), 2, lambda t: _prob(t) * 3),
    "PoissonNLLLoss_rate": (lambda lib: lib.nn.PoissonNLLLoss(log_input=False, eps=1e-4), 2,
                            _prob),
    "GaussianNLLLoss": (lambda lib: lib.nn.GaussianNLLLoss(full=True, eps=1e-3), 3, _prob),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_loss_layer_matches_torch(name):
    make, n, last = LAYERS[name]

    def fn(lib, *xs):
        xs = list(xs)
        if last is not None:
            xs[-1] = last(xs[-1])
        if name == "PoissonNLLLoss_rate":
            xs[0] = _prob(xs[0])
        return make(lib)(*xs)
    compare(fn, [(4, 3)] * n, dtype="float64")
    assert repr(make(genesis)) == repr(make(torch))


def test_loss_layer_arguments():
    m = genesis.nn.KLDivLoss(reduction="batchmean", log_target=True)
    assert (m.reduction, m.log_target) == ("batchmean", True)
    assert genesis.nn.KLDivLoss(size_average=False).reduction == "sum"
    assert genesis.nn.HuberLoss().delta == 1.0
    m = genesis.nn.GaussianNLLLoss()
    assert (m.full, m.eps, m.reduction) == (False, 1e-6, "mean")
    with pytest.raises(TypeError):
        genesis.nn.GaussianNLLLoss(True)  # keyword-only, as in PyTorch
    with pytest.raises(ValueError, match="KLDivLoss: reduction='bogus'"):
        genesis.nn.KLDivLoss(reduction="bogus")
    with pytest.raises(ValueError, match="HuberLoss: reduction='batchmean'"):
        genesis.nn.HuberLoss(reduction="batchmean")
    for lib in (torch, genesis):
        with pytest.raises(ValueError, match="margin"):
            lib.nn.TripletMarginLoss(margin=-1.0)
