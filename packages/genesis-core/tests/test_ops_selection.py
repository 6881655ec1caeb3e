"""Selection by index against PyTorch: index_add/index_copy/index_fill (and in place),
scatter_reduce with its gradients, take_along_dim, masked_select, argwhere, nonzero and the
one-argument where."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, compare, make_pair

DTYPES = ["float32", "float64", "int64", "int32", "bool"]


def _raises(fn, error):
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error):
        fn(genesis)


def _t(m, values, dtype=None):
    return m.tensor(values) if dtype is None else m.tensor(values, dtype=getattr(m, dtype))


# -- index_add / index_copy / index_fill ----------------------------------------------------------

INDEX_CASES = [(0, [0, 2, 2, 1]), (1, [3, 0]), (-1, [1]), (0, []), (1, [0, 1, 2, 3, 3, 3])]


@pytest.mark.parametrize("dim,index", INDEX_CASES, ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_add(dim, index, layout):
    def src_shape(dim):
        shape = [3, 4]
        shape[dim] = len(index)
        return tuple(shape)
    compare(lambda m, x, s: m.index_add(x, dim, _t(m, index, "int64"), s),
            [(3, 4), src_shape(dim)], layout=layout)
    compare(lambda m, x, s: x.index_add(dim, _t(m, index, "int32"), s, alpha=-2.5),
            [(3, 4), src_shape(dim)], layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8"])
def test_index_add_dtypes_alpha_and_0d(dtype):
    compare(lambda m, x, s: x.index_add(0, m.tensor([1, 0, 1]), s, alpha=2), [(2, 3), (3, 3)],
            dtype=dtype)
    compare(lambda m, x, s: x.index_add(0, m.tensor([0]), s), [(), ()], dtype=dtype)
    compare(lambda m, x, s: x.index_add(0, m.tensor(0), s), [(), ()], dtype=dtype)


def test_index_add_bool():
    compare(lambda m, x, s: x.index_add(0, m.tensor([1, 1]), s), [(3,), (2,)], dtype="bool")


@pytest.mark.parametrize("dim,index", [(0, [2, 0]), (1, [3, 0, 1]), (-1, []), (0, [1])],
                         ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_copy(dim, index, layout):
    shape = [3, 4]
    shape[dim] = len(index)
    compare(lambda m, x, s: m.index_copy(x, dim, _t(m, index, "int64"), s),
            [(3, 4), tuple(shape)], layout=layout)
    compare(lambda m, x, s: x.index_copy(dim, _t(m, index, "int64"), s),
            [(3, 4), tuple(shape)], layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_copy_dtypes_and_scalar_source(dtype):
    compare(lambda m, x, s: x.index_copy(1, m.tensor([2, 0]), s), [(2, 3), (2, 2)], dtype=dtype)
    compare(lambda m, x, s: x.index_copy(0, m.tensor(1), s), [(3,), ()], dtype=dtype)
    compare(lambda m, x, s: x.index_copy(0, m.tensor([0]), s), [(), ()], dtype=dtype)


@pytest.mark.parametrize("value", [2.5, -1, "tensor", "tensor_grad"])
@pytest.mark.parametrize("dim,index", [(0, [2, 0]), (1, [-1, 0, 0]), (-1, []), (0, 1)],
                         ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_fill(value, dim, index, layout):
    if value == "tensor":
        compare(lambda m, x: m.index_fill(x, dim, _t(m, index, "int64"), m.tensor(3.0)),
                [(3, 4)], layout=layout)
    elif value == "tensor_grad":  # torch's backward for the value fails on negative indices
        positive = [i % 4 for i in index] if isinstance(index, list) else index
        compare(lambda m, x, v: x.index_fill(dim, _t(m, positive, "int64"), v), [(3, 4), ()],
                layout=layout)
    else:
        compare(lambda m, x: x.index_fill(dim, _t(m, index, "int64"), value), [(3, 4)],
                layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_fill_dtypes_and_0d(dtype):
    compare(lambda m, x: x.index_fill(1, m.tensor([0, 2]), 1), [(2, 3)], dtype=dtype)
    compare(lambda m, x: x.index_fill(0, m.tensor([0]), 0), [()], dtype=dtype)
    compare(lambda m, x: x.index_fill(0, m.tensor([1]), 2.7), [(3,)], dtype=dtype)


def test_index_ops_errors():
    x = lambda m: m.zeros(3, 2)  # noqa: E731
    i = lambda m, v: m.tensor(v)  # noqa: E731
    _raises(lambda m: x(m).index_add(0, i(m, [0, -1]), m.ones(2, 2)), RuntimeError)
    _raises(lambda m: x(m).index_add(0, i(m, [0, 3]), m.ones(2, 2)), RuntimeError)
    _raises(lambda m: x(m).index_add(0, i(m, [0.0, 1.0]), m.ones(2, 2)), RuntimeError)
    _raises(lambda m: x(m).index_add(0, i(m, [[0, 1]]), m.ones(2, 2)), IndexError)
    _raises(lambda m: x(m).index_add(0, i(m, [0, 1]), m.ones(2, 2, dtype=m.float64)),
            RuntimeError)
    _raises(lambda m: x(m).index_add(0, i(m, [0, 1]), m.ones(2, 3)), RuntimeError)
    _raises(lambda m: x(m).index_add(0, i(m, [0, 1]), m.ones(3, 2)), RuntimeError)
    _raises(lambda m: m.zeros(3).index_add(0, i(m, 1), m.tensor(5.0)), RuntimeError)
    _raises(lambda m: x(m).index_add(2, i(m, [0]), m.ones(1, 2)), IndexError)
    _raises(lambda m: x(m).index_copy(0, i(m, [0, -1]), m.ones(2, 2)), IndexError)
    _raises(lambda m: x(m).index_copy(0, i(m, [0, 1]).int(), m.ones(2, 2)), RuntimeError)
    _raises(lambda m: x(m).index_copy(0, i(m, [0, 1]), m.ones(2, 2).double()), RuntimeError)
    _raises(lambda m: x(m).index_copy(0, i(m, [0, 1]), m.ones(2, 3)), RuntimeError)
    _raises(lambda m: x(m).index_copy(0, i(m, [[0, 1]]), m.ones(2, 2)), IndexError)
    _raises(lambda m: x(m).index_fill(0, i(m, [0, 3]), 5), IndexError)
    _raises(lambda m: x(m).index_fill(0, i(m, [0, -4]), 5), IndexError)
    _raises(lambda m: x(m).index_fill(1, i(m, [0, 1]).int(), 5), IndexError)
    _raises(lambda m: x(m).index_fill(1, i(m, [True]), 5), IndexError)
    _raises(lambda m: x(m).index_fill(1, i(m, [[1]]), 5), RuntimeError)
    _raises(lambda m: x(m).index_fill(1, i(m, [1]), m.tensor([2.0])), RuntimeError)


@pytest.mark.parametrize("op", ["index_add_", "index_copy_", "index_fill_"])
def test_index_ops_in_place(op):
    args = {"index_add_": lambda m, s: (0, m.tensor([2, 0]), s),
            "index_copy_": lambda m, s: (0, m.tensor([2, 0]), s),
            "index_fill_": lambda m, s: (1, m.tensor([1, -1]), -3.0)}[op]

    def plain(m, x, s):
        y = x.clone()
        out = getattr(y, op)(*args(m, s))
        assert out is y
        return y
    compare(plain, [(3, 4), (2, 4)], grad=False)
    compare(plain, [(3, 4), (2, 4)], grad=False, dtype="int64")

    def in_graph(m, x, s):
        y = x * 2
        getattr(y, op)(*args(m, s))
        return y
    compare(in_graph, [(3, 4), (2, 4)])

    def view_of_base(m, x, s):
        y = x * 1
        getattr(y[:, :], op)(*args(m, s))
        return y
    compare(view_of_base, [(3, 4), (2, 4)], layout="transposed")

    def no_grad_on_leaf(m, x, s):
        y = x.detach().clone().requires_grad_(True)
        with m.no_grad():
            getattr(y, op)(*args(m, s))
        return y.detach()
    compare(no_grad_on_leaf, [(3, 4), (2, 4)])
    leaf = genesis.zeros(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(leaf, op)(*args(genesis, genesis.ones(2, 4)))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_index_ops_in_place_on_strided_views_write_the_base(dtype):
    def fn(m, x, s):
        base = x.clone()
        view = base.t()  # (4, 3), strided
        view.index_add_(0, m.tensor([3, 0, 3]), s, alpha=2)
        view.index_copy_(1, m.tensor([2]), view[:, :1] * 0 + 7)
        view.index_fill_(1, m.tensor([0]), -1)
        return base
    compare(fn, [(3, 4), (3, 3)], grad=False, dtype=dtype)


def test_index_fill_in_place_0d_and_tensor_value():
    def fn(m, x):
        y = x.clone()
        y.index_fill_(0, m.tensor([0]), m.tensor(4.0))
        return y
    compare(fn, [()], grad=False)
    compare(fn, [(2,)], grad=False)


# -- scatter_reduce -------------------------------------------------------------------------------

REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_scatter_reduce(reduce, include_self, dim, layout):
    shape = (4, 3) if dim == 0 else (3, 4)
    index = np.random.default_rng(1).integers(0, 3, shape)

    def fn(m, x, s):
        return m.scatter_reduce(x, dim, m.tensor(index), s, reduce, include_self=include_self)
    compare(fn, [(3, 3), shape], layout=layout)
    compare(lambda m, x, s: fn(m, x, s) * 1, [(3, 3), shape], layout=layout, dtype="float64")


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradients_with_ties_and_zeros(reduce, include_self):
    """Ties between src elements and self (amax/amin) and zeros (prod) exercise the
    gradient rules; values drawn from a few integers make ties common."""
    rng = np.random.default_rng(3)
    x = rng.integers(-1, 2, (3, 4)).astype(np.float64)
    s = rng.integers(-1, 2, (5, 4)).astype(np.float64)
    index = rng.integers(0, 3, (5, 4))
    if not include_self:
        # torch's amax/amin backward still counts self among the ties when self is left out
        # but equals the result; Genesis shares among the values that took part. Values of
        # self apart from src's keep the comparison on the cases where both agree.
        x = x + 10

    def fn(m, x, s):
        return x.scatter_reduce(0, m.tensor(index), s, reduce, include_self=include_self)
    compare(fn, arrays=[x, s], grad=True)


@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_extremes_without_self_share_among_the_src_ties(reduce):
    """With include_self=False the result's gradient is shared among the tied src elements
    only: equal to torch's when self is pushed out of reach (-inf/+inf) and included."""
    rng = np.random.default_rng(5)
    x = rng.integers(-1, 2, (3, 4)).astype(np.float64)
    s = rng.integers(-1, 2, (6, 4)).astype(np.float64)
    index = rng.integers(0, 3, (6, 4))
    hit = np.zeros_like(x, dtype=bool)
    np.put_along_axis(hit, index, True, axis=0)
    far = -np.inf if reduce == "amax" else np.inf

    def fn(m, x, s):
        if m is torch:
            x = torch.where(torch.from_numpy(hit), far, x)
            return x.scatter_reduce(0, torch.from_numpy(index), s, reduce)
        return x.scatter_reduce(0, m.tensor(index), s, reduce, include_self=False)
    compare(fn, arrays=[x, s], grad=True)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float16", "bool"])
def test_scatter_reduce_dtypes(reduce, dtype, include_self):
    if reduce == "mean" and dtype == "bool":
        with pytest.raises(NotImplementedError):
            genesis.ones(2, dtype=genesis.bool).scatter_reduce(
                0, genesis.tensor([0, 0]), genesis.ones(2, dtype=genesis.bool), "mean")
        return
    index = np.array([[0, 2], [0, 0], [1, 2]])
    compare(lambda m, x, s: x.scatter_reduce(1, m.tensor(index), s, reduce,
                                             include_self=include_self),
            [(3, 3), (3, 2)], dtype=dtype, low=-3, high=3)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_smaller_index_empty_index_and_0d(reduce):
    index = np.array([[0, 1], [1, 1]])

    def cut(m, s):  # torch's backward refuses a src larger than the index: cut it there
        return s[:2, :2] if m is torch else s
    compare(lambda m, x, s: x.scatter_reduce(0, m.tensor(index), cut(m, s), reduce),
            [(3, 3), (4, 4)])
    compare(lambda m, x, s: x.scatter_reduce(1, m.tensor(index), cut(m, s), reduce,
                                             include_self=False), [(2, 3), (3, 2)])
    compare(lambda m, x, s: x.scatter_reduce(0, m.zeros(0, 3, dtype=m.int64), s, reduce),
            [(2, 3), (0, 3)])
    compare(lambda m, x, s: x.scatter_reduce(0, m.tensor(0), s, reduce, include_self=False),
            [(), ()])
    compare(lambda m, x, s: m.scatter_reduce(x, 0, m.tensor([0, 0]).int(), s, reduce),
            [(), (2,)])


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_non_finite_values(reduce, include_self):
    x = np.array([-np.inf, 1.0, np.nan, 3.0])
    s = np.array([-np.inf, np.nan, 2.0, np.inf, 5.0])
    index = np.array([0, 1, 1, 2, 0])
    compare(lambda m, x, s: x.scatter_reduce(0, m.tensor(index), s, reduce,
                                             include_self=include_self),
            arrays=[x, s], grad=False)


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_in_place(include_self):
    index = np.array([[0, 1, 0], [1, 1, 0]])

    def fn(m, x, s):
        y = x * 2
        out = y.scatter_reduce_(1, m.tensor(index), s, "amax", include_self=include_self)
        assert out is y
        return y
    compare(fn, [(2, 3), (2, 3)])
    with pytest.raises(RuntimeError, match="leaf"):
        genesis.zeros(2, 3, requires_grad=True).scatter_reduce_(
            1, genesis.tensor(index), genesis.ones(2, 3), "sum")


def test_scatter_reduce_errors():
    x = lambda m: m.ones(3)  # noqa: E731
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0]), m.ones(1), "foo"), RuntimeError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0.0]), m.ones(1), "sum"), RuntimeError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0]), m.ones(1).long(), "sum"),
            RuntimeError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0, 5]), m.ones(2), "sum"), RuntimeError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0, -1]), m.ones(2), "amax"),
            RuntimeError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0, 1]), m.ones(1), "sum"), RuntimeError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([[0]]), m.ones(1), "sum"), RuntimeError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0]), m.ones(1, 1), "sum"), RuntimeError)
    _raises(lambda m: m.zeros(2, 2).scatter_reduce(0, m.tensor([[0, 1, 1]]), m.ones(3, 3),
                                                   "prod"), RuntimeError)
    _raises(lambda m: m.zeros(2, 3).scatter_reduce(3, m.tensor([[0]]), m.ones(2, 3), "sum"),
            IndexError)
    _raises(lambda m: x(m).scatter_reduce(0, m.tensor([0]), 5.0, "sum"), TypeError)


# -- take_along_dim -------------------------------------------------------------------------------

@pytest.mark.parametrize("dim,index", [(1, [[0], [2], [1]]), (0, [[0, 2, 1, 2]]),
                                       (-1, [[-1, 0], [2, -3], [1, 1]]), (1, [[5], [-7], [100]]),
                                       (None, [11, 0, 10, 3]), (None, [[1, 2], [3, 4]]),
                                       (0, [[0], [1]]), (1, np.zeros((3, 0), dtype=np.int64))],
                         ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_take_along_dim(dim, index, layout):
    def fn(m, x):
        if m is torch and dim is None:
            x = x.contiguous()  # torch flattens with view(), which refuses some strided inputs
        return m.take_along_dim(x, m.tensor(np.array(index)), dim)
    compare(fn, [(3, 4)], layout=layout)
    compare(fn, [(3, 4)], layout=layout, dtype="int32")
    compare(lambda m, x: x.contiguous().take_along_dim(m.tensor(np.array(index)), dim=dim),
            [(3, 4)], dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_take_along_dim_broadcasting_and_dtypes(dtype):
    compare(lambda m, x: m.take_along_dim(x, m.zeros(1, 4, dtype=m.int64), 0), [(2, 1)],
            dtype=dtype)
    compare(lambda m, x: m.take_along_dim(x, m.tensor([[[1]], [[0]]]), 2), [(1, 3, 2)],
            dtype=dtype)
    compare(lambda m, x, i: m.take_along_dim(x, i, 1),
            arrays=[np.arange(6.0).reshape(2, 3), np.array([[2, 0], [1, 1]])])
    compare(lambda m, x: m.take_along_dim(x, m.tensor([0, 0])), [()], dtype=dtype)


def test_take_along_dim_with_argmax_like_torch_docs():
    compare(lambda m, x: m.take_along_dim(x, x.argmax(1, keepdim=True), 1), [(4, 5)])
    compare(lambda m, x: m.take_along_dim(x, x.argmin(0, keepdim=True), 0), [(4, 5)],
            dtype="float64", layout="transposed")


def test_take_along_dim_errors():
    x = lambda m: m.ones(2, 3)  # noqa: E731
    _raises(lambda m: m.take_along_dim(x(m), m.tensor([[0], [1]]).int(), 1), RuntimeError)
    _raises(lambda m: m.take_along_dim(x(m), m.tensor([0, 1]), 1), RuntimeError)
    _raises(lambda m: m.take_along_dim(x(m), m.tensor([[[1]]]), 1), RuntimeError)
    _raises(lambda m: m.take_along_dim(x(m), m.tensor([[0, 2]]), 2), IndexError)
    _raises(lambda m: m.take_along_dim(x(m), m.zeros(3, 1, dtype=m.int64), 1), RuntimeError)
    _raises(lambda m: m.take_along_dim(m.tensor(5.0), m.tensor(0), 0), IndexError)
    _raises(lambda m: m.take_along_dim(x(m), m.tensor([0, -1])), RuntimeError)
    _raises(lambda m: m.take_along_dim(x(m), m.tensor([6])), RuntimeError)


# -- masked_select, argwhere, nonzero, where(condition) -------------------------------------------

@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1), (1, 1), (2, 3, 4), ()], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_masked_select(mask_shape, layout):
    mask = np.random.default_rng(2).random(mask_shape) < 0.5
    compare(lambda m, x: m.masked_select(x, m.tensor(mask)), [(3, 4)], layout=layout)
    compare(lambda m, x: x.masked_select(m.tensor(mask)), [(3, 4)], layout=layout,
            dtype="int64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_select_dtypes_and_edges(dtype):
    compare(lambda m, x: m.masked_select(x, x != 0), [(3, 4)], dtype=dtype)
    compare(lambda m, x: m.masked_select(x, m.tensor(True)), [()], dtype=dtype)
    compare(lambda m, x: m.masked_select(x, m.ones(1, 3, dtype=m.bool)), [(0, 3)], dtype=dtype)
    compare(lambda m, x: m.masked_select(x, m.zeros(2, dtype=m.bool)), [(3, 2)], dtype=dtype)


def test_masked_select_errors():
    _raises(lambda m: m.masked_select(m.ones(3), m.tensor([1, 0, 1])), RuntimeError)
    _raises(lambda m: m.masked_select(m.ones(3), m.tensor([1, 0, 1]).byte()), RuntimeError)
    _raises(lambda m: m.masked_select(m.ones(3), m.tensor([True, False])), RuntimeError)


@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (0, 3), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_argwhere_nonzero_and_where_one_argument(shape, dtype):
    a = np.random.default_rng(4).integers(-1, 2, shape).astype(dtype)
    compare(lambda m, x: m.argwhere(x), arrays=[a])
    compare(lambda m, x: x.argwhere(), arrays=[a])
    compare(lambda m, x: m.nonzero(x), arrays=[a])
    compare(lambda m, x: x.nonzero(as_tuple=True), arrays=[a])
    compare(lambda m, x: m.where(x), arrays=[a])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_argwhere_and_where_on_strided_inputs(layout):
    compare(lambda m, x: m.argwhere(x > 0), [(3, 4)], layout=layout)
    compare(lambda m, x: m.where(x > 0), [(3, 4)], layout=layout)


def test_where_three_arguments_unchanged_and_bad_arity():
    compare(lambda m, c, x, y: m.where(c > 0, x, y), [(3, 1), (3, 4), (4,)])
    compare(lambda m, c, x: m.where(c > 0, x, 0.5), [(3, 4), (3, 4)])
    _raises(lambda m: m.where(m.ones(2) > 0, m.ones(2)), TypeError)
    with pytest.raises(TypeError):
        genesis.where(genesis.ones(2) > 0, other=genesis.ones(2))


def test_masked_select_gradient_reaches_repeated_broadcast_elements():
    g, t = make_pair(np.array([1.0, 2.0, 3.0]), "float32", requires_grad=True)
    mg = genesis.tensor([[True, False, True], [True, True, False]])
    mt = torch.tensor([[True, False, True], [True, True, False]])
    genesis.masked_select(g, mg).sum().backward()
    torch.masked_select(t, mt).sum().backward()
    assert g.grad.tolist() == t.grad.tolist()
