"""unique, unique_consecutive, searchsorted, bucketize and bincount against PyTorch."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare


def small_ints(shape, seed=0, high=4, dtype=np.int64):
    return np.random.default_rng(seed).integers(0, high, shape).astype(dtype)


UNIQUE_FLAGS = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("inverse,counts", UNIQUE_FLAGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, bool])
def test_unique_flat(inverse, counts, dtype):
    x = small_ints((4, 6), seed=1).astype(dtype)
    compare(lambda m, t: m.unique(t, return_inverse=inverse, return_counts=counts), arrays=[x],
            grad=False)
    compare(lambda m, t: t.unique(False, inverse, counts), arrays=[x], grad=False)
    compare(lambda m, t: m.unique_consecutive(t, return_inverse=inverse, return_counts=counts),
            arrays=[x], grad=False)
    compare(lambda m, t: t.unique_consecutive(return_inverse=inverse, return_counts=counts),
            arrays=[x[0]], grad=False)


@pytest.mark.parametrize("inverse,counts", UNIQUE_FLAGS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_slices_along_dim(inverse, counts, dim):
    x = small_ints((6, 5, 3), seed=2, high=2)
    x[3] = x[1]  # repeated slices along 0
    x[:, 4] = x[:, 0]  # and along 1
    x[:, :, 2] = x[:, :, 0]  # and along -1
    compare(lambda m, t: m.unique(t, dim=dim, return_inverse=inverse, return_counts=counts),
            arrays=[x])
    compare(lambda m, t: m.unique_consecutive(t, return_inverse=inverse, return_counts=counts,
                                              dim=dim), arrays=[x])
    rows = small_ints((9, 3), seed=3, high=2).astype(np.float32)
    compare(lambda m, t: m.unique(t, return_inverse=inverse, return_counts=counts, dim=0),
            arrays=[rows], grad=False)


def test_unique_consecutive_runs():
    x = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    compare(lambda m, t: m.unique_consecutive(t, return_inverse=True, return_counts=True),
            arrays=[x])
    rows = np.array([[1, 2], [1, 2], [0, 5], [1, 2]])
    compare(lambda m, t: m.unique_consecutive(t, return_inverse=True, return_counts=True,
                                              dim=0), arrays=[rows])


def test_unique_nan_values_are_distinct():
    nan = float("nan")
    x = np.array([nan, 1.0, nan, 1.0, -0.0, 0.0])
    compare(lambda m, t: m.unique(t, return_counts=True), arrays=[x], grad=False)
    compare(lambda m, t: m.unique_consecutive(t, return_counts=True), arrays=[x], grad=False)


def test_unique_0d_empty_and_layouts():
    compare(lambda m, t: m.unique(t, return_inverse=True, return_counts=True), [()], grad=False)
    compare(lambda m, t: m.unique_consecutive(t, return_inverse=True, return_counts=True), [()],
            grad=False)
    compare(lambda m, t: m.unique(t, return_inverse=True, return_counts=True), [(0, 3)],
            grad=False)
    compare(lambda m, t: m.unique(t, dim=0), [(0, 3)], grad=False)
    compare(lambda m, t: m.unique(t, dim=1, return_inverse=True, return_counts=True), [(3, 0)],
            grad=False)
    for layout in ("transposed", "sliced", "expanded"):
        compare(lambda m, t: m.unique(t, return_inverse=True), [(3, 4)], dtype="int64",
                layout=layout, low=0, high=3)
        compare(lambda m, t: m.unique(t, dim=1, return_counts=True), [(3, 4)], dtype="int64",
                layout=layout, low=0, high=2)


def test_unique_errors():
    for lib in (genesis, torch):
        with pytest.raises(RuntimeError, match="0 sized dimensions"):
            lib.unique(lib.zeros(3, 0), dim=0)
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.unique(lib.tensor([1.0, 2.0]), dim=2)
        with pytest.raises(IndexError):
            lib.unique(lib.tensor(3.0), dim=0)
    with pytest.raises(TypeError, match="input"):
        genesis.unique([1, 2])


# -- searchsorted / bucketize --------------------------------------------------------------------

BOUNDARIES = np.array([-1.0, 0.0, 0.0, 0.5, 2.0, 2.0, 2.0, 3.0])
VALUES = np.array([[-2.0, -1.0, 0.0, 0.25], [2.0, 3.0, 5.0, float("nan")]])


@pytest.mark.parametrize("side", [dict(), dict(right=True), dict(side="left"),
                                  dict(side="right"), dict(right=False, side="right")])
def test_searchsorted_1d(side):
    compare(lambda m, s, v: m.searchsorted(s, v, **side), arrays=[BOUNDARIES, VALUES])
    compare(lambda m, s, v: m.searchsorted(s, v, out_int32=True, **side),
            arrays=[BOUNDARIES, VALUES])
    compare(lambda m, s: m.searchsorted(s, 2.0, **side), arrays=[BOUNDARIES])
    compare(lambda m, s: m.searchsorted(s, 2, **side), arrays=[BOUNDARIES.astype(np.int64)])
    compare(lambda m, s, v: m.searchsorted(s, v, **side), arrays=[BOUNDARIES, np.array(0.5)])


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_batched_and_sorter(right):
    rng = np.random.default_rng(4)
    seq = np.sort(rng.integers(-3, 4, (2, 3, 6)), -1).astype(np.float64)
    vals = rng.integers(-4, 5, (2, 3, 5)).astype(np.float64)
    compare(lambda m, s, v: m.searchsorted(s, v, right=right), arrays=[seq, vals])
    unsorted = rng.permutation(BOUNDARIES)
    sorter = np.argsort(unsorted, kind="stable")
    compare(lambda m, s, v, o: m.searchsorted(s, v, right=right, sorter=o),
            arrays=[unsorted, VALUES, sorter])
    compare(lambda m, s, v: m.searchsorted(s, v, right=right),  # int boundaries, float values
            arrays=[BOUNDARIES.astype(np.int64), VALUES[:, :3]])
    compare(lambda m, s, v: m.searchsorted(s, v, right=right), arrays=[seq[0, 0], vals[:, :0]])
    compare(lambda m, s, v: m.searchsorted(s, v, right=right),
            arrays=[BOUNDARIES[:0], VALUES])


def test_searchsorted_errors():
    for lib in (genesis, torch):
        s = lib.tensor([1.0, 2.0])
        with pytest.raises(RuntimeError, match="positive dimension"):
            lib.searchsorted(lib.tensor(1.0), s)
        with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
            lib.searchsorted(s, s, side="left", right=True)
        with pytest.raises(RuntimeError, match="side"):
            lib.searchsorted(s, s, side="middle")
        with pytest.raises(RuntimeError, match="first N-1 dimensions"):
            lib.searchsorted(lib.tensor([[1.0, 2.0]]), s)
        with pytest.raises(RuntimeError, match="scalar only when boundaries tensor dimension "
                                               "is 1"):
            lib.searchsorted(lib.tensor([[1.0, 2.0]]), 2.0)
        with pytest.raises(RuntimeError, match="sorter must be a tensor of long dtype"):
            lib.searchsorted(s, s, sorter=lib.tensor([0.0, 1.0]))
        with pytest.raises(RuntimeError, match="boundary and sorter must have the same size"):
            lib.searchsorted(s, s, sorter=lib.tensor([0]))


@pytest.mark.parametrize("right", [False, True])
def test_bucketize(right):
    compare(lambda m, v, b: m.bucketize(v, b, right=right), arrays=[VALUES, BOUNDARIES])
    compare(lambda m, v, b: m.bucketize(v, b, right=right, out_int32=True),
            arrays=[VALUES.T.copy(), BOUNDARIES])
    compare(lambda m, b: m.bucketize(2.0, b, right=right), arrays=[BOUNDARIES])
    compare(lambda m, v, b: m.bucketize(v, b, right=right),
            arrays=[small_ints((3, 4), high=6), np.array([1, 3, 3, 4])])
    for lib in (genesis, torch):
        with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension"):
            lib.bucketize(lib.tensor([1.0]), lib.tensor([[1.0]]))


# -- bincount ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.int8, np.int16])
def test_bincount(dtype):
    x = small_ints((12,), seed=5, high=6, dtype=dtype)
    compare(lambda m, t: m.bincount(t), arrays=[x])
    compare(lambda m, t: t.bincount(minlength=10), arrays=[x])
    compare(lambda m, t: m.bincount(t, minlength=3), arrays=[x])
    compare(lambda m, t: m.bincount(t), arrays=[x[:0]])
    compare(lambda m, t: m.bincount(t, minlength=4), arrays=[x[:0]])


@pytest.mark.parametrize("wdtype", ["float32", "float64", "float16", "int32", "int64"])
def test_bincount_weights_sum_in_torchs_dtype(wdtype):
    x = small_ints((10,), seed=6, high=5)
    w = np.random.default_rng(7).uniform(-2, 2, 10)
    w = w.round() if wdtype.startswith("int") else w
    compare(lambda m, t, v: m.bincount(t, v.to(getattr(m, wdtype)), minlength=7),
            arrays=[x, w], grad=False, rtol=1e-3 if wdtype == "float16" else None)


def test_bincount_weights_gradient_is_a_gather():
    x = small_ints((10,), seed=8, high=5)
    w = genesis.tensor(np.linspace(-1, 1, 10), requires_grad=True)
    counts = genesis.bincount(genesis.tensor(x), w)
    upstream = np.arange(counts.shape[0], dtype=np.float64)
    (counts * genesis.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), upstream[x])


def test_bincount_errors():
    for lib in (genesis, torch):
        with pytest.raises(RuntimeError, match="1-d non-negative integral inputs"):
            lib.bincount(lib.tensor([-1, 2]))
        with pytest.raises(RuntimeError, match="1-d non-negative integral inputs"):
            lib.bincount(lib.tensor([[1, 2]]))
        with pytest.raises(NotImplementedError):
            lib.bincount(lib.tensor([1.0, 2.0]))
        with pytest.raises(NotImplementedError):
            lib.bincount(lib.tensor([True]))
        with pytest.raises(RuntimeError, match="minlength should be >= 0"):
            lib.bincount(lib.tensor([1, 2]), minlength=-1)
        with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length"):
            lib.bincount(lib.tensor([1, 2]), weights=lib.tensor([1.0]))
