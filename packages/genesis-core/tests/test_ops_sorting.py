"""Sorting and selection against PyTorch: sort/argsort/msort (stable order of ties, NaN last),
topk, kthvalue, median/nanmedian, mode; values, indices and gradients.

Where PyTorch documents the index of tied values (stable sort, mode, cummax) the tests compare
indices on tie-rich inputs. Where it leaves them open (topk, kthvalue), tie-free inputs are
compared fully, and on ties the values are compared with PyTorch while the indices are checked
to point at those values in Genesis's documented order (the earlier index first).
"""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare


def ties(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).integers(-2, 3, shape).astype(dtype)


def distinct(shape, seed=0):
    """Tie-free values (a shuffled range), so every index choice is unique."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.25 - n / 8).reshape(shape)


SORTS = {
    "sort": lambda m, x, d, desc: m.sort(x, dim=d, descending=desc, stable=True),
    "sort_positional": lambda m, x, d, desc: m.sort(x, d, desc),
    "sort_method": lambda m, x, d, desc: x.sort(dim=d, descending=desc, stable=True),
    "sort_stable_kw": lambda m, x, d, desc: m.sort(x, stable=True, dim=d, descending=desc),
    "argsort": lambda m, x, d, desc: m.argsort(x, dim=d, descending=desc, stable=True),
    "argsort_positional": lambda m, x, d, desc: m.argsort(x, d, desc),
    "argsort_method": lambda m, x, d, desc: x.argsort(dim=d, descending=desc, stable=True),
}


@pytest.mark.parametrize("name", sorted(SORTS))
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable_on_ties(name, dim, descending):
    for dtype in (np.float32, np.float64, np.int64):
        compare(lambda m, x: SORTS[name](m, x, dim, descending), arrays=[ties((4, 7, 5), dim % 3,
                                                                               dtype)])


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced", "expanded"])
def test_sort_gradient_and_layouts(descending, layout):
    compare(lambda m, x: m.sort(x, dim=1, descending=descending, stable=True), [(3, 6, 4)],
            layout=layout, dtype="float64")
    compare(lambda m, x: m.sort(x, -1, descending), [(5, 6)], layout=layout)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int8", "uint8", "int16", "int32",
                                   "bool"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_dtypes(dtype, descending):
    compare(lambda m, x: m.sort(x, dim=1, descending=descending, stable=True), [(3, 9)],
            dtype=dtype, low=-3, high=3)
    compare(lambda m, x: m.argsort(x, dim=0, descending=descending, stable=True), [(9, 2)],
            dtype=dtype, low=-3, high=3)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_nan_is_largest_and_stable(descending):
    nan, inf = float("nan"), float("inf")
    x = np.array([[1.0, nan, -inf, 3.0, nan, inf, 1.0, -0.0, 0.0],
                  [nan, nan, 2.0, 2.0, -1.0, nan, 0.0, 0.0, -0.0]])
    compare(lambda m, t: m.sort(t, dim=1, descending=descending, stable=True), arrays=[x])
    compare(lambda m, t: m.sort(t, dim=0, descending=descending, stable=True), arrays=[x])


def test_sort_0d_and_empty():
    compare(lambda m, x: m.sort(x), [()])
    compare(lambda m, x: m.sort(x, 0, True), [()])
    compare(lambda m, x: m.sort(x, 1), [(3, 0)])
    compare(lambda m, x: m.argsort(x, 0), [(0, 2)])


def test_msort():
    compare(lambda m, x: m.msort(x), arrays=[ties((6, 3))])
    compare(lambda m, x: x.msort(), [(5, 4)], layout="transposed")


def test_sort_errors():
    x = genesis.tensor([1.0, 2.0])
    with pytest.raises(IndexError, match="Dimension out of range"):
        genesis.sort(x, 1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        genesis.argsort(x, -2)
    with pytest.raises(TypeError, match="input"):
        genesis.sort([1.0, 2.0])


# -- topk ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("largest", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("k", [0, 1, 3, "all"])
def test_topk_matches_torch_without_ties(largest, dim, k):
    x = distinct((5, 6, 4))
    k = x.shape[dim] if k == "all" else k
    compare(lambda m, t: m.topk(t, k, dim, largest), arrays=[x])
    compare(lambda m, t: t.topk(k, dim=dim, largest=largest, sorted=True), arrays=[x])


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
def test_topk_layouts_and_contiguous_result(layout):
    g, t = compare(lambda m, x: m.topk(x, 2, 1), [(4, 5)], layout=layout)
    assert g.values.is_contiguous() and g.indices.is_contiguous()


def test_topk_unsorted_has_the_same_elements():
    x = distinct((3, 8))
    g = genesis.topk(genesis.tensor(x), 3, sorted=False)
    t = torch.topk(torch.tensor(x), 3, sorted=False)
    np.testing.assert_array_equal(np.sort(g.values.numpy(), 1), np.sort(t.values.numpy(), 1))
    np.testing.assert_array_equal(np.sort(g.indices.numpy(), 1), np.sort(t.indices.numpy(), 1))


def _check_tie_indices(x, values, indices, dim):
    """The indices point at the values, and equal values come in increasing index order."""
    np.testing.assert_array_equal(np.take_along_axis(x, indices, dim), values)
    v, i = np.moveaxis(values, dim, -1), np.moveaxis(indices, dim, -1)
    same = v[..., 1:] == v[..., :-1]
    assert (i[..., 1:][same] > i[..., :-1][same]).all()


@pytest.mark.parametrize("largest", [False, True])
def test_topk_on_ties(largest):
    x = ties((4, 9), seed=3)
    for dim in (0, 1):
        k = 3
        g = genesis.topk(genesis.tensor(x), k, dim, largest)
        t = torch.topk(torch.tensor(x), k, dim, largest)
        np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
        _check_tie_indices(x, g.values.numpy(), g.indices.numpy(), dim)


def test_topk_nan_counts_as_largest():
    x = np.array([[1.0, float("nan"), 0.0, 3.0], [2.0, 1.0, float("nan"), float("nan")]])
    compare(lambda m, t: m.topk(t, 2), arrays=[x], grad=False)
    compare(lambda m, t: m.topk(t, 2, largest=False), arrays=[x], grad=False)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "float16", "bfloat16"])
def test_topk_dtypes_0d_and_empty(dtype):
    compare(lambda m, x: m.topk(x.to(getattr(m, dtype)), 2, 0),
            arrays=[np.arange(15, dtype=np.float64).reshape(5, 3)[::-1].copy()], grad=False)
    compare(lambda m, x: m.topk(x, 1), [()])
    compare(lambda m, x: m.topk(x, 0), [()])
    compare(lambda m, x: m.topk(x, 0), [(2, 0)])
    compare(lambda m, x: m.topk(x, 2, 0), [(3, 0)])


def test_topk_errors():
    for lib in (genesis, torch):
        x = lib.tensor([3.0, 1.0, 2.0])
        for k in (4, -1):
            with pytest.raises(RuntimeError, match="selected index k"):
                lib.topk(x, k)
        with pytest.raises(RuntimeError, match="bool"):
            lib.topk(lib.tensor([True, False]), 1)
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.topk(x, 1, 1)


# -- kthvalue ------------------------------------------------------------------------------------

@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("k", [1, 2, "all"])
def test_kthvalue_matches_torch_without_ties(keepdim, dim, k):
    x = distinct((4, 5, 3), seed=1)
    k = x.shape[dim] if k == "all" else k
    compare(lambda m, t: m.kthvalue(t, k, dim, keepdim), arrays=[x])
    compare(lambda m, t: t.kthvalue(k, dim=dim, keepdim=keepdim), arrays=[x])


def test_kthvalue_on_ties_layouts_and_dtypes():
    x = ties((6, 7), seed=4)
    for k in (1, 3, 6):
        g = genesis.kthvalue(genesis.tensor(x), k, 0)
        t = torch.kthvalue(torch.tensor(x), k, 0)
        np.testing.assert_array_equal(g.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(x[g.indices.numpy(), np.arange(7)], g.values.numpy())
        # the k-th of the stable order: among equal values, the earlier index first
        order = np.argsort(x, 0, kind="stable")
        np.testing.assert_array_equal(g.indices.numpy(), order[k - 1])
    for layout in ("transposed", "sliced", "expanded"):
        compare(lambda m, t: m.kthvalue(t, 2, 1), [(3, 4)], layout=layout)
    for dtype in ("int32", "int64", "float16", "uint8"):
        compare(lambda m, t, dtype=dtype: m.kthvalue(t.to(getattr(m, dtype)), 2, 1),
                arrays=[distinct((3, 4)) * 4 + 10], grad=False)
    compare(lambda m, t: m.kthvalue(t, 1), [()])
    compare(lambda m, t: m.kthvalue(t, 1, 0, True), [()])
    compare(lambda m, t: m.kthvalue(t, 2, 1), [(0, 3)])


def test_kthvalue_errors():
    for lib in (genesis, torch):
        x = lib.tensor([3.0, 1.0, 2.0])
        for k in (0, 4):
            with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k"):
                lib.kthvalue(x, k)
        with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
            lib.kthvalue(lib.zeros(2, 0), 1)
        with pytest.raises(NotImplementedError):
            lib.kthvalue(lib.tensor([True]), 1)


# -- median / nanmedian --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_all_elements_shares_the_gradient_among_ties(name):
    for x in (np.array([1.0, 2.0, 2.0, 3.0]), ties((3, 5), seed=5), distinct((4, 3)),
              np.array([[1.0, 2.0], [2.0, 0.5]])):
        compare(lambda m, t: getattr(m, name)(t), arrays=[x])
        compare(lambda m, t: getattr(t, name)(), arrays=[x])


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_median_along_a_dim(name, keepdim, dim):
    compare(lambda m, t: getattr(m, name)(t, dim, keepdim), arrays=[distinct((4, 5, 6))])
    compare(lambda m, t: getattr(t, name)(dim=dim, keepdim=keepdim), arrays=[distinct((3, 4))])
    # the lower median; on these tie-rich rows PyTorch's indices match the stable order too
    compare(lambda m, t: getattr(m, name)(t, 1, keepdim), arrays=[ties((5, 6), seed=6)])
    compare(lambda m, t: getattr(m, name)(t, 0, keepdim), arrays=[ties((7, 3), seed=7)])


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_with_nan(name):
    nan = float("nan")
    x = np.array([[1.0, nan, 3.0, nan, 0.0], [2.0, 1.0, 5.0, 4.0, 3.0],
                  [4.0, nan, 1.0, 2.0, 2.0], [nan, 2.0, nan, 1.0, nan]])
    compare(lambda m, t: getattr(m, name)(t, 1), arrays=[x])
    compare(lambda m, t: getattr(m, name)(t), arrays=[x])
    compare(lambda m, t: getattr(m, name)(t), arrays=[x[1]])
    # a row of NaNs only: NaN (which of its NaNs PyTorch's index names is left open)
    only = np.full((2, 5), nan)
    g = getattr(genesis, name)(genesis.tensor(only), 1)
    assert np.isnan(g.values.numpy()).all() and (g.indices.numpy() < 5).all()
    assert np.isnan(getattr(genesis, name)(genesis.tensor(only)).item())


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_dtypes_layouts_0d_and_empty(name):
    for dtype in ("int32", "int64", "int8", "float16", "bfloat16"):
        compare(lambda m, t: getattr(m, name)(t), [(3, 5)], dtype=dtype, grad=False)
        compare(lambda m, t, dtype=dtype: getattr(m, name)(t.to(getattr(m, dtype)), 1),
                arrays=[distinct((3, 6)) * 4], grad=False)
    for layout in ("transposed", "sliced", "expanded"):
        compare(lambda m, t: getattr(m, name)(t, 1), [(4, 5)], layout=layout)
        compare(lambda m, t: getattr(m, name)(t), [(4, 5)], layout=layout)
    compare(lambda m, t: getattr(m, name)(t), [()])
    compare(lambda m, t: getattr(m, name)(t, 0), [()])
    compare(lambda m, t: getattr(m, name)(t), [(0,)], grad=False)
    with pytest.raises(RuntimeError, match="empty tensor of dtype genesis.int64 has no median"):
        getattr(genesis, name)(genesis.zeros(0, dtype=genesis.int64))
    compare(lambda m, t: getattr(m, name)(t, 1), [(0, 3)])
    for lib in (genesis, torch):
        with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
            getattr(lib, name)(lib.zeros(0, 3), 0)
        with pytest.raises(NotImplementedError):
            getattr(lib, name)(lib.tensor([True, False]))


# -- mode ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("keepdim", [False, True])
def test_mode_smallest_most_frequent_value_and_its_last_index(keepdim):
    for seed in range(6):
        x = np.random.default_rng(seed).integers(0, 4, (4, 9)).astype(np.float64)
        compare(lambda m, t: m.mode(t, 1, keepdim), arrays=[x])
        compare(lambda m, t: t.mode(0, keepdim=keepdim), arrays=[x])
    compare(lambda m, t: m.mode(t), arrays=[distinct((3, 5))])


def test_mode_dtypes_layouts_0d_and_empty():
    for dtype in ("int32", "int64", "uint8", "bool", "float16", "bfloat16"):
        compare(lambda m, t: m.mode(t, 1), [(3, 8)], dtype=dtype, low=-2, high=2)
    for layout in ("transposed", "sliced", "expanded"):
        compare(lambda m, t: m.mode(t, 1), [(4, 6)], layout=layout)
    compare(lambda m, t: m.mode(t), [()])
    compare(lambda m, t: m.mode(t, 1), [(0, 3)])
    for lib in (genesis, torch):
        with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
            lib.mode(lib.zeros(0, 3), 0)


GRADCHECKS = {
    "sort": lambda x: x.sort(1, descending=True).values,
    "topk": lambda x: x.topk(2, 0).values,
    "kthvalue": lambda x: x.kthvalue(3, 1, keepdim=True).values,
    "median_dim": lambda x: x.median(0).values,
    "median_all": lambda x: x.median(),
    "nanmedian_dim": lambda x: x.nanmedian(1).values,
    "mode": lambda x: x.mode(1).values,
    "msort": lambda x: x.msort(),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck(name):
    x = genesis.tensor(distinct((4, 5), seed=len(name)), dtype=genesis.float64,
                       requires_grad=True)
    assert genesis.autograd.gradcheck(GRADCHECKS[name], [x])
