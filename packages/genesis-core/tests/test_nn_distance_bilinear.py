"""pairwise_distance, cosine_similarity, normalize, one_hot and bilinear (functions and layers)
against PyTorch: norms, broadcasting, strided and 0-size inputs, zero vectors, gradients,
dtypes and errors."""

from __future__ import annotations

import math

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, assert_raises_like_torch, compare

FLOATS = ("float32", "float64")
TOL = {"rtol": 1e-5, "atol": 1e-6, "grad_rtol": 1e-5, "grad_atol": 1e-6}
NORMS = (2, 1, 3, 1.5, 0.5, math.inf, -math.inf, 0, -1.5)


def F(lib):
    return lib.nn.functional


# -- pairwise_distance -----------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", NORMS)
def test_pairwise_distance_norms(p, dtype, layout):
    compare(lambda lib, a, b: F(lib).pairwise_distance(a, b, p), [(5, 4), (5, 4)], dtype=dtype,
            layout=layout, **TOL)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shapes", [[(5, 4), (4,)], [(2, 1, 4), (3, 4)], [(4,), (4,)], [(), ()],
                                    [(0, 3), (0, 3)], [(2, 0), (2, 0)], [(0, 3), (3,)]])
def test_pairwise_distance_shapes(shapes, keepdim):
    compare(lambda lib, a, b: F(lib).pairwise_distance(a, b, eps=1e-4, keepdim=keepdim), shapes,
            dtype="float64")


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf])
def test_pairwise_distance_of_equal_vectors_has_a_finite_gradient(p):
    """``eps=0`` makes some differences exactly 0: PyTorch's norm gradient is 0 there."""
    a = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    b = np.array([[1.0, 2.0, 3.0], [0.5, 1.0, 2.0]])
    compare(lambda lib, a, b: F(lib).pairwise_distance(a, b, p, eps=0.0), arrays=[a, b])


def test_pairwise_distance_integer_inputs_and_errors():
    compare(lambda lib, a, b: F(lib).pairwise_distance(a, b),
            arrays=[np.array([[1, 2], [3, 4]]), np.array([[0, 2], [1, 1]])])
    assert_raises_like_torch(lambda lib: F(lib).pairwise_distance(lib.ones(2, 3), lib.ones(2, 4)),
                             "cannot be broadcast together")
    with pytest.raises(TypeError, match="pairwise_distance: x2 must be a Tensor"):
        F(genesis).pairwise_distance(genesis.ones(2), [1.0, 2.0])


# -- cosine_similarity -----------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cosine_similarity_matches_torch(dim, dtype, layout):
    compare(lambda lib, a, b: F(lib).cosine_similarity(a, b, dim), [(4, 3, 5), (4, 3, 5)],
            dtype=dtype, layout=layout, **TOL)


@pytest.mark.parametrize("shapes,dim", [([(2, 1, 4), (3, 4)], -1), ([(5, 4), (4,)], 1),
                                        ([(4,), (4,)], 0), ([(), ()], 0), ([(0, 3), (0, 3)], 1),
                                        ([(3, 0), (3, 0)], 1), ([(0, 3), (0, 3)], 0)])
def test_cosine_similarity_shapes(shapes, dim):
    compare(lambda lib, a, b: F(lib).cosine_similarity(a, b, dim), shapes, dtype="float64")


@pytest.mark.parametrize("eps", [1e-8, 0.5, 3.0])
def test_cosine_similarity_small_norms_clamp_without_cutting_the_gradient(eps):
    a = np.array([[1e-3, 2e-3, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 2.0], [0.3, -0.1, 0.2]])
    b = np.array([[1.0, -1.0, 0.5], [1.0, 1.0, 1.0], [1e-9, 0.0, 0.0], [0.2, 0.4, -0.1]])
    compare(lambda lib, a, b: F(lib).cosine_similarity(a, b, eps=eps), arrays=[a, b])


def test_cosine_similarity_dtypes_and_errors():
    compare(lambda lib, a, b: F(lib).cosine_similarity(a, b, 0),
            arrays=[np.array([1, 2, 3]), np.array([0.5, -1.0, 2.0])])
    compare(lambda lib, a, b: F(lib).cosine_similarity(a, b),
            arrays=[np.ones((2, 3), np.float32), np.ones((2, 3))])
    assert_raises_like_torch(lambda lib: F(lib).cosine_similarity(lib.tensor([1, 2]),
                                                                  lib.tensor([3, 4]), 0),
                             "common dtype .*int64, expected a floating point one")
    assert_raises_like_torch(lambda lib: F(lib).cosine_similarity(lib.ones(2, 3), lib.ones(2, 3),
                                                                  dim=2), "dim=2 is out of range")
    assert_raises_like_torch(lambda lib: F(lib).cosine_similarity(lib.ones(2, 3),
                                                                  lib.ones(4, 3)),
                             "cannot be broadcast together")


@pytest.mark.parametrize("layer,kwargs", [
    ("PairwiseDistance", {}), ("PairwiseDistance", {"p": 1.0, "eps": 0.0, "keepdim": True}),
    ("PairwiseDistance", {"p": math.inf}), ("CosineSimilarity", {}),
    ("CosineSimilarity", {"dim": 0, "eps": 0.1})])
def test_distance_layers_match_torch(layer, kwargs):
    compare(lambda lib, a, b: getattr(lib.nn, layer)(**kwargs)(a, b), [(4, 3), (4, 3)],
            dtype="float64")
    assert repr(getattr(genesis.nn, layer)(**kwargs)) == repr(getattr(torch.nn, layer)(**kwargs))
    assert genesis.nn.PairwiseDistance(p=3.0).norm == torch.nn.PairwiseDistance(p=3.0).norm


# -- normalize -------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("p", NORMS)
def test_normalize_norms(p, layout):
    compare(lambda lib, x: F(lib).normalize(x, p, dim=-1), [(4, 5)], dtype="float64",
            layout=layout)


@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((2, 3, 4), 0), ((5,), 0), ((), 0),
                                       ((0, 3), 1), ((3, 0), 1)])
def test_normalize_shapes(shape, dim):
    compare(lambda lib, x: F(lib).normalize(x, dim=dim), [shape], dtype="float32")


def test_normalize_zero_vectors_eps_and_out():
    x = np.array([[0.0, 0.0, 0.0], [1e-13, 0.0, -1e-13], [3.0, 4.0, 0.0]])
    compare(lambda lib, x: F(lib).normalize(x, eps=1e-12), arrays=[x])
    compare(lambda lib, x: F(lib).normalize(x, 1, eps=0.5), arrays=[x])
    out_g, out_t = genesis.empty(3, 3, dtype=genesis.float64), torch.empty(3, 3,
                                                                           dtype=torch.float64)
    r = F(genesis).normalize(genesis.tensor(x), out=out_g)
    F(torch).normalize(torch.tensor(x), out=out_t)
    assert r is out_g
    np.testing.assert_allclose(out_g.numpy(), out_t.numpy(), rtol=1e-12)
    assert_raises_like_torch(lambda lib: F(lib).normalize(lib.tensor([1, 2]), dim=0),
                             "normalize: input has dtype .*int64, expected a floating point")


# -- one_hot ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,num_classes", [
    (s, n) for s in [(6,), (2, 3), (), (0,), (2, 0, 3)] for n in (-1, 5, 9)
    if n != -1 or 0 not in s])  # nothing to infer the class count from: test_one_hot_errors
def test_one_hot_matches_torch(shape, num_classes):
    idx = np.random.default_rng(0).integers(0, 5, shape)
    g, _ = compare(lambda lib, i: F(lib).one_hot(i, num_classes), arrays=[idx])
    assert g.dtype is genesis.int64


def test_one_hot_strided_indices():
    idx = np.array([[0, 3, 1], [2, 2, 0]])
    for view in (lambda t: t.t(), lambda t: t[:, ::2], lambda t: t[:1].expand(4, 3)):
        g = F(genesis).one_hot(view(genesis.tensor(idx)), 4)
        t = F(torch).one_hot(view(torch.tensor(idx)), 4)
        np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_one_hot_errors():
    def call(values, n=-1, dtype="int64"):
        return lambda lib: F(lib).one_hot(lib.tensor(values, dtype=getattr(lib, dtype)), n)
    assert_raises_like_torch(call([1.0], dtype="float32"), "LongTensor, got .*float32")
    assert_raises_like_torch(call([1], dtype="int32"), "LongTensor, got .*int32")
    assert_raises_like_torch(call([-1, 2]), "class values must be non-negative, got -1")
    assert_raises_like_torch(call([3, 1], 2), "smaller than num_classes=2, got 3")
    assert_raises_like_torch(call([], -1), "can not infer total number of classes")
    assert_raises_like_torch(call([1], -2), "num_classes=-2, expected -1")


# -- bilinear --------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_matches_torch(bias, dtype, layout):
    shapes = [(5, 3), (5, 4), (6, 3, 4)] + ([(6,)] if bias else [])
    compare(lambda lib, *a: F(lib).bilinear(*a), shapes, dtype=dtype, layout=layout, **TOL)


@pytest.mark.parametrize("lead", [(), (7,), (2, 3), (0,), (2, 0)])
def test_bilinear_leading_shapes(lead):
    compare(lambda lib, a, b, w, c: F(lib).bilinear(a, b, w, c),
            [lead + (3,), lead + (2,), (4, 3, 2), (4,)], dtype="float64")


def test_bilinear_errors_match_torch():
    def call(s1, s2, sw, sb=None, d2="float32"):
        return lambda lib: F(lib).bilinear(lib.ones(s1), lib.ones(s2, dtype=getattr(lib, d2)),
                                           lib.ones(sw), None if sb is None else lib.ones(sb))
    assert_raises_like_torch(call((2, 3), (2, 4, 1), (5, 3, 4)),
                             "input dimensions do not match: got 2 and 3")
    assert_raises_like_torch(call((2, 3), (3, 4), (5, 3, 4)),
                             "batch dimensions do not match at dim 0: got 2 and 3")
    assert_raises_like_torch(call((2, 2), (2, 4), (5, 3, 4)),
                             "input1 size does not match weight size: got 2 but expected 3")
    assert_raises_like_torch(call((2, 3), (2, 2), (5, 3, 4)),
                             "input2 size does not match weight size: got 2 but expected 4")
    assert_raises_like_torch(call((2, 3), (2, 4), (5, 3, 4), (2,)),
                             r"bias of shape \[2\] does not match weight size: expected \[5\]")
    assert_raises_like_torch(call((2, 3), (2, 4), (5, 3, 4), d2="float64"),
                             "same dtype, got input1: .*float32, input2: .*float64")
    assert_raises_like_torch(call((), (), (5, 1, 1)), "0-D")
    with pytest.raises(RuntimeError, match=r"weight of shape \[3, 4\], expected 3-D"):
        F(genesis).bilinear(genesis.ones(2, 3), genesis.ones(2, 4), genesis.ones(3, 4))


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_layer_shapes_init_and_gradients(bias):
    g = genesis.nn.Bilinear(20, 30, 40, bias=bias, dtype=genesis.float64)
    t = torch.nn.Bilinear(20, 30, 40, bias=bias, dtype=torch.float64)
    assert repr(g) == repr(t)
    assert [(n, p.shape) for n, p in g.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    bound = 1 / math.sqrt(20)  # PyTorch's init: U(-1/sqrt(in1), 1/sqrt(in1)) for both
    w = g.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.02)
    if bias:
        assert np.abs(g.bias.detach().numpy()).max() <= bound
    g.load_state_dict({k: genesis.tensor(v.numpy()) for k, v in t.state_dict().items()})
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((6, 20)), rng.standard_normal((6, 30))
    ga, gb = genesis.tensor(x1, requires_grad=True), genesis.tensor(x2, requires_grad=True)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    yg, yt = g(ga, gb), t(ta, tb)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    yg.sum().backward()
    yt.sum().backward()
    for a, b in [(ga.grad, ta.grad), (gb.grad, tb.grad), (g.weight.grad, t.weight.grad)] + \
            ([(g.bias.grad, t.bias.grad)] if bias else []):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


def _leaf(rng, *shape):
    return genesis.tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("norm", [2, 1.5, 3, math.inf])
def test_gradcheck_norms(norm):
    rng = np.random.default_rng(6)
    assert genesis.autograd.gradcheck(lambda a, b: F(genesis).pairwise_distance(a, b, norm),
                                      [_leaf(rng, 3, 4), _leaf(rng, 3, 4)])
    assert genesis.autograd.gradcheck(lambda a: F(genesis).normalize(a, norm), [_leaf(rng, 3, 4)])


def test_gradcheck_cosine_similarity_and_bilinear():
    rng = np.random.default_rng(7)

    def p(*shape):
        return _leaf(rng, *shape)
    assert genesis.autograd.gradcheck(lambda a, b: F(genesis).cosine_similarity(a, b),
                                      [p(3, 4), p(3, 4)])
    assert genesis.autograd.gradcheck(lambda a, b, w, c: F(genesis).bilinear(a, b, w, c),
                                      [p(2, 3), p(2, 4), p(5, 3, 4), p(5)])
