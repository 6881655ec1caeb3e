"""Repeats, stacks and splits against PyTorch: repeat, tile, repeat_interleave, the *stack
joins, atleast_*d, tensor_split, and the existing split/chunk/narrow/unbind edge cases."""

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


# -- repeat / tile --------------------------------------------------------------------------------

@pytest.mark.parametrize("repeats", [(2, 3), (1, 1), (3, 1, 2), (2, 0), (0, 1, 1), [2, 2]],
                         ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_repeat(repeats, layout):
    compare(lambda m, x: x.repeat(*repeats), [(2, 3)], layout=layout)
    compare(lambda m, x: x.repeat(repeats), [(2, 3)], layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_dtypes_and_edge_shapes(dtype):
    compare(lambda m, x: x.repeat(2, 2), [(3,)], dtype=dtype)
    compare(lambda m, x: x.repeat(3), [()], dtype=dtype)
    compare(lambda m, x: x.repeat(()), [()], dtype=dtype)
    compare(lambda m, x: x.repeat(2, 1), [(0, 2)], dtype=dtype)


def test_repeat_copies_and_errors():
    g = genesis.ones(2)
    g.repeat(1).fill_(0)
    genesis.ones(1).repeat(3).fill_(0)
    assert g.sum().item() == 2
    _raises(lambda m: m.ones(2, 3).repeat(2), RuntimeError)
    _raises(lambda m: m.ones(2, 3).repeat(2, -1), RuntimeError)
    _raises(lambda m: m.ones(2).repeat(), TypeError)
    _raises(lambda m: m.ones(()).repeat(), TypeError)


@pytest.mark.parametrize("dims", [(2,), (2, 3), (1, 2, 2), (), (0,)], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tile(dims, layout):
    compare(lambda m, x: m.tile(x, dims), [(2, 3)], layout=layout)
    compare(lambda m, x: x.tile(dims), [(2, 3)], layout=layout, dtype="int32")
    if dims:
        compare(lambda m, x: x.tile(*dims), [(2, 3)], dtype="float64")


def test_tile_errors():
    _raises(lambda m: m.tile(m.ones(2, 3), (-1,)), RuntimeError)
    _raises(lambda m: m.ones(2, 3).tile(), TypeError)


# -- repeat_interleave ----------------------------------------------------------------------------

@pytest.mark.parametrize("repeats", [2, 0, 1, np.array(3), np.array([2]),
                                     np.array([1, 0, 3]), np.array([0, 0, 0])], ids=repr)
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_repeat_interleave(repeats, dim, layout):
    def fn(m, x):
        r = m.tensor(repeats) if isinstance(repeats, np.ndarray) else repeats
        if isinstance(repeats, np.ndarray) and repeats.size == 3 and dim is None:
            return m.repeat_interleave(x.reshape(-1)[:3], r)
        return m.repeat_interleave(x, r, dim=dim)
    compare(fn, [(3, 3)], layout=layout)
    compare(lambda m, x: fn(m, x).float(), [(3, 3)], layout=layout, dtype="int64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_interleave_dtypes_and_shapes(dtype):
    compare(lambda m, x: x.repeat_interleave(2), [()], dtype=dtype)
    compare(lambda m, x: x.repeat_interleave(m.tensor([1, 2], dtype=m.int32), dim=1), [(3, 2)],
            dtype=dtype)
    compare(lambda m, x: x.repeat_interleave(3, dim=0), [(0, 2)], dtype=dtype)


def test_repeat_interleave_counts_only_and_output_size():
    compare(lambda m, r: m.repeat_interleave(r), arrays=[np.array([1, 0, 3, 2])])
    compare(lambda m, r: m.repeat_interleave(r), arrays=[np.zeros(0, dtype=np.int64)])
    compare(lambda m, x: m.repeat_interleave(x, m.tensor([1, 2]), dim=0, output_size=3),
            [(2, 3)])
    compare(lambda m, x: m.repeat_interleave(x, 2, dim=1, output_size=6), [(2, 3)])


def test_repeat_interleave_is_a_copy():
    g = genesis.ones(3)
    g.repeat_interleave(1).fill_(0)
    assert g.sum().item() == 3


def test_repeat_interleave_errors():
    x = lambda m: m.ones(2, 3)  # noqa: E731
    _raises(lambda m: m.repeat_interleave(m.tensor(2)), RuntimeError)
    _raises(lambda m: x(m).repeat_interleave(m.tensor([1, 2, 3]), dim=0), RuntimeError)
    _raises(lambda m: x(m).repeat_interleave(m.tensor([1, -2]), dim=0), RuntimeError)
    _raises(lambda m: x(m).repeat_interleave(-1, dim=0), RuntimeError)
    _raises(lambda m: x(m).repeat_interleave(m.tensor([1.0, 2.0]), dim=0), NotImplementedError)
    _raises(lambda m: x(m).repeat_interleave(m.tensor([[1, 2]]), dim=0), RuntimeError)
    _raises(lambda m: x(m).repeat_interleave(m.tensor([1, 2]), dim=0, output_size=4),
            RuntimeError)
    _raises(lambda m: x(m).repeat_interleave(2, dim=0, output_size=5), RuntimeError)
    _raises(lambda m: x(m).repeat_interleave(2, dim=2), IndexError)


# -- stacks and atleast ---------------------------------------------------------------------------

STACK_CASES = [[(3,), (2,)], [(), (2,), ()], [(2, 3), (2, 1)], [(2, 1, 2), (2, 3, 2)],
               [(0,), (3,)], [(4,)]]


@pytest.mark.parametrize("shapes", STACK_CASES, ids=str)
def test_hstack(shapes):
    compare(lambda m, *xs: m.hstack(xs), shapes)
    compare(lambda m, *xs: m.hstack(list(xs)), shapes, dtype="bool")


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(), ()], [(2, 3), (1, 3)],
                                    [(1, 2, 2), (3, 2, 2)], [(0, 3), (3,)], [(2,)]], ids=str)
def test_vstack_row_stack(shapes):
    compare(lambda m, *xs: m.vstack(xs), shapes)
    compare(lambda m, *xs: m.row_stack(xs), shapes, dtype="int64")


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(), ()], [(2, 3), (2, 3)],
                                    [(2, 3, 1), (2, 3, 2)], [(1, 2, 2, 2), (1, 2, 1, 2)]], ids=str)
def test_dstack(shapes):
    compare(lambda m, *xs: m.dstack(xs), shapes)
    compare(lambda m, *xs: m.dstack(xs), shapes, dtype="int32", layout="expanded")


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(), ()], [(2,), (2, 3)], [(2, 1, 2), (2, 3, 2)],
                                    [(0,), (0, 2)]], ids=str)
def test_column_stack(shapes):
    compare(lambda m, *xs: m.column_stack(xs), shapes)
    compare(lambda m, *xs: m.column_stack(xs), shapes, dtype="float64", layout="sliced")


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack"])
def test_stacks_promote_dtypes_and_keep_gradients_on_strided_inputs(name):
    arrays = [np.array([1, 2], dtype=np.int64), np.array([0.5, 1.5], dtype=np.float32)]
    compare(lambda m, a, b: getattr(m, name)([a, b]), arrays=arrays)
    compare(lambda m, a, b: getattr(m, name)([a, b]), [(3, 2), (3, 2)], layout="transposed")


@pytest.mark.parametrize("name", ["hstack", "vstack", "dstack", "column_stack"])
def test_stack_errors(name):
    _raises(lambda m: getattr(m, name)([]), RuntimeError)
    _raises(lambda m: getattr(m, name)(m.ones(2, 2)), TypeError)
    _raises(lambda m: m.hstack([m.ones(2, 2), m.ones(3, 2)]), RuntimeError)
    _raises(lambda m: m.vstack([m.ones(2), m.ones(3)]), RuntimeError)


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4), (0,)], ids=str)
def test_atleast(name, shape):
    compare(lambda m, x: getattr(m, name)(x), [shape])
    compare(lambda m, x, y: getattr(m, name)(x, y), [shape, (2,)], dtype="int64")
    compare(lambda m, x, y: getattr(m, name)([x, y]), [shape, ()])


def test_atleast_returns_views():
    g = genesis.zeros(3)
    genesis.atleast_3d(g).fill_(1)
    assert g.sum().item() == 3


# -- tensor_split ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [1, 2, 3, 5, 7, [2], [1, 3], (3, 1), [-2, 10], [0, 0, 5], [],
                                  np.array(3), np.array([1, 4])], ids=repr)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tensor_split(spec, dim, layout):
    def fn(m, x):
        s = m.tensor(spec) if isinstance(spec, np.ndarray) else spec
        return m.tensor_split(x, s, dim)
    compare(fn, [(5, 6)], layout=layout)
    compare(lambda m, x: [p * 1 for p in fn(m, x)], [(5, 6)], dtype="int32")


def test_tensor_split_method_views_and_empty():
    compare(lambda m, x: x.tensor_split(3, dim=1), [(2, 0)])
    g, t = make_pair(np.arange(10.0), "float32")
    for pg, pt in zip(g.tensor_split([3, 7]), t.tensor_split([3, 7])):
        assert pg.stride() == pt.stride() and pg.storage_offset() == pt.storage_offset()
    g.tensor_split(2)[1].fill_(0)
    assert g.sum().item() == 10


def test_tensor_split_errors():
    _raises(lambda m: m.tensor_split(m.arange(5), 0), RuntimeError)
    _raises(lambda m: m.tensor_split(m.arange(5), m.tensor([1.0, 3.0])), RuntimeError)
    _raises(lambda m: m.tensor_split(m.arange(5), m.tensor([[1, 3]])), RuntimeError)
    _raises(lambda m: m.tensor_split(m.tensor(1.0), 2), RuntimeError)
    _raises(lambda m: m.tensor_split(m.arange(5), 2, 1), IndexError)
    _raises(lambda m: m.tensor_split(m.arange(5), 2.0), TypeError)


# -- existing joins: split, chunk, narrow, unbind -------------------------------------------------

@pytest.mark.parametrize("chunks", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("n", [0, 1, 5, 6])
def test_chunk_uneven_and_empty(chunks, n):
    compare(lambda m, x: x.chunk(chunks), [(n, 2)])
    compare(lambda m, x: m.chunk(x, chunks, dim=-1), [(2, n)], dtype="int64", layout="transposed")


def test_split_chunk_unbind_narrow_errors():
    _raises(lambda m: m.split(m.arange(5), 0), RuntimeError)
    _raises(lambda m: m.split(m.arange(5), -1), RuntimeError)
    _raises(lambda m: m.split(m.arange(5), [3, -1, 3]), RuntimeError)
    _raises(lambda m: m.split(m.tensor(1), 1), RuntimeError)
    _raises(lambda m: m.chunk(m.tensor(1), 1), RuntimeError)
    _raises(lambda m: m.chunk(m.arange(5), -1), RuntimeError)
    _raises(lambda m: m.chunk(m.arange(5), 2.0), TypeError)
    _raises(lambda m: m.unbind(m.tensor(1)), IndexError)
    _raises(lambda m: m.narrow(m.arange(5), 0, 4, 2), RuntimeError)
    _raises(lambda m: m.narrow(m.arange(5), 0, 6, 0), IndexError)
    _raises(lambda m: m.narrow(m.arange(5), 0, -6, 0), IndexError)
    _raises(lambda m: m.narrow(m.arange(5), 0, 0, -1), RuntimeError)
    _raises(lambda m: m.narrow(m.tensor(1), 0, 0, 1), RuntimeError)
    _raises(lambda m: m.narrow(m.arange(5), 0, m.tensor([1]), 2), RuntimeError)
    _raises(lambda m: m.narrow(m.arange(5), 0, m.tensor(1.0), 2), RuntimeError)


@pytest.mark.parametrize("start", [0, 2, -3, 5, np.array(1), np.array(-2)], ids=repr)
def test_narrow_starts_including_tensor_start(start):
    def fn(m, x):
        s = m.tensor(start) if isinstance(start, np.ndarray) else start
        length = 0 if start == 5 else 2
        return m.narrow(x, 0, s, length), x.narrow(1, s, length)
    compare(fn, [(5, 5)])
    compare(fn, [(5, 5)], layout="expanded")
    compare(fn, [(5, 5)], dtype="bool", layout="transposed")


def test_split_sections_with_zero_sizes_and_empty_dim():
    compare(lambda m, x: m.split(x, [0, 3, 0, 2]), [(5, 2)])
    compare(lambda m, x: m.split(x, 0), [(0, 2)])
    compare(lambda m, x: m.split(x, 2, dim=1), [(3, 0)])
    compare(lambda m, x: x.unbind(1), [(2, 0)])
