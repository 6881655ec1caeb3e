"""Structure ops against PyTorch: diagonals and triangles, flips/rolls/rotations, unfold,
movedim, broadcasting helpers, meshgrid, view_as/reshape_as, logspace."""

from __future__ import annotations

import warnings

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, compare, make_pair

DTYPES = ["float32", "float64", "int64", "int32", "bool"]


def _raises(fn, error):
    """Both libraries raise ``error`` (fn gets the library module)."""
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error):
        fn(genesis)


# -- tril / triu ----------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3, 7])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 2), (2, 3, 4), (0, 3), (2, 0, 3)])
def test_tril_triu(shape, k):
    compare(lambda m, x: m.tril(x, k), [shape])
    compare(lambda m, x: x.triu(k), [shape], dtype="float64")
    compare(lambda m, x: m.triu(x, diagonal=k), [shape])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_tril_triu_layouts_and_dtypes(layout, dtype):
    compare(lambda m, x: m.tril(x, -1), [(3, 4, 5)], layout=layout, dtype=dtype)
    compare(lambda m, x: x.triu(1), [(3, 4, 5)], layout=layout, dtype=dtype)


def test_tril_triu_errors():
    _raises(lambda m: m.tril(m.ones(3)), RuntimeError)
    _raises(lambda m: m.triu(m.ones(())), RuntimeError)
    _raises(lambda m: m.tril(m.ones(2, 2), 1.5), TypeError)


# -- diagonal / diag / diag_embed / trace ---------------------------------------------------------

@pytest.mark.parametrize("args", [(0, 0, 1), (1, 0, 1), (-1, 0, 1), (2, 1, 2), (-2, 2, 0),
                                  (0, -1, -3), (5, 0, 1), (-5, 1, 2), (1, 2, 1)], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_diagonal(args, layout):
    off, d1, d2 = args
    compare(lambda m, x: m.diagonal(x, off, d1, d2), [(3, 4, 5)], layout=layout)
    compare(lambda m, x: x.diagonal(offset=off, dim1=d1, dim2=d2) * 2, [(3, 4, 5)],
            layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_diagonal_dtypes_and_empty(dtype):
    compare(lambda m, x: x.diagonal(), [(4, 3)], dtype=dtype)
    compare(lambda m, x: x.diagonal(1, -1, -2), [(2, 0, 3)], dtype=dtype)


def test_diagonal_is_a_strided_view():
    g, t = make_pair(np.arange(20.0).reshape(4, 5), "float32")
    for off in (-2, 0, 3, 9):
        vg, vt = g.diagonal(off), t.diagonal(off)
        assert vg.stride() == vt.stride() and vg.shape == tuple(vt.shape)
        if vt.numel():
            assert vg.storage_offset() == vt.storage_offset()
    g.diagonal(1).fill_(-1)
    t.diagonal(1).fill_(-1)
    assert g.tolist() == t.tolist()


def test_diagonal_gradient_through_view_chain_and_expanded_input():
    compare(lambda m, x: x.t().diagonal(1).sum() + x.diagonal(-1).prod(), [(4, 4)])
    compare(lambda m, x: x.expand(3, 4, 4).diagonal(0, 1, 2), [(1, 4, 4)])
    compare(lambda m, x: x.diagonal(dim1=-1, dim2=0), [(3, 3)], layout="expanded")


def test_diagonal_errors():
    _raises(lambda m: m.diagonal(m.ones(2, 3), 0, 1, 1), RuntimeError)
    _raises(lambda m: m.diagonal(m.ones(2, 3), 0, 0, 2), IndexError)
    _raises(lambda m: m.diagonal(m.ones(())), IndexError)
    _raises(lambda m: m.ones(2, 3).diagonal(-1, 1, -1), RuntimeError)


@pytest.mark.parametrize("k", [0, 1, -2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_diag(k, dtype):
    compare(lambda m, x: m.diag(x, k), [(4,)], dtype=dtype)
    compare(lambda m, x: x.diag(k), [(3, 5)], dtype=dtype)
    compare(lambda m, x: m.diag(x, diagonal=k), [(4, 4)], dtype=dtype, layout="transposed")
    compare(lambda m, x: m.diag(x, k), [(0,)], dtype=dtype)


def test_diag_of_matrix_is_a_copy_and_errors():
    g = genesis.ones(3, 3)
    genesis.diag(g).fill_(5)
    assert g.sum().item() == 9
    _raises(lambda m: m.diag(m.ones(2, 2, 2)), RuntimeError)
    _raises(lambda m: m.diag(m.ones(())), RuntimeError)


@pytest.mark.parametrize("args", [(0, -2, -1), (1, -2, -1), (-2, -1, -2), (0, 0, 2), (2, 1, 0),
                                  (-1, 2, 1), (0, 0, -1)], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_diag_embed(args, layout):
    off, d1, d2 = args
    compare(lambda m, x: m.diag_embed(x, off, d1, d2), [(2, 3)], layout=layout)
    compare(lambda m, x: x.diag_embed(offset=off, dim1=d1, dim2=d2), [(2, 1, 3)], dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_diag_embed_dtypes_and_empty(dtype):
    compare(lambda m, x: m.diag_embed(x, 1), [(2, 3)], dtype=dtype)
    compare(lambda m, x: m.diag_embed(x), [(2, 0)], dtype=dtype)


def test_diag_embed_errors():
    _raises(lambda m: m.diag_embed(m.ones(3), 0, 0, 0), RuntimeError)
    _raises(lambda m: m.diag_embed(m.ones(3), 0, 0, 2), IndexError)
    _raises(lambda m: m.diag_embed(m.ones(())), IndexError)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 1), (0, 3)])
def test_trace(shape, dtype):
    compare(lambda m, x: m.trace(x), [shape], dtype=dtype)
    compare(lambda m, x: x.trace(), [shape], dtype=dtype, layout="transposed")


def test_trace_errors():
    _raises(lambda m: m.trace(m.ones(3)), RuntimeError)
    _raises(lambda m: m.trace(m.ones(2, 2, 2)), RuntimeError)
    _raises(lambda m: m.trace(m.ones(2, 2, dtype=m.bool)), RuntimeError)


# -- flip / fliplr / flipud / roll / rot90 --------------------------------------------------------

@pytest.mark.parametrize("dims", [(0,), (1,), (-1,), (0, 2), (2, 0, 1), ()], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_flip(dims, layout):
    compare(lambda m, x: m.flip(x, dims), [(3, 4, 5)], layout=layout)
    compare(lambda m, x: x.flip(dims), [(3, 4, 5)], layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_flip_dtypes_shapes_and_method_forms(dtype):
    compare(lambda m, x: x.flip(0, 1), [(3, 2)], dtype=dtype)
    compare(lambda m, x: x.flip([1]), [(3, 2)], dtype=dtype)
    compare(lambda m, x: m.flip(x, (0,)), [(0, 2)], dtype=dtype)
    compare(lambda m, x: m.flip(x, ()), [()], dtype=dtype)
    compare(lambda m, x: m.flip(x, (0,)), [(1, 3)], dtype=dtype)
    compare(lambda m, x: m.fliplr(x), [(3, 4)], dtype=dtype)
    compare(lambda m, x: x.flipud(), [(3, 4)], dtype=dtype, layout="transposed")


def test_flip_returns_a_copy():
    g = genesis.ones(3)
    genesis.flip(g, ()).fill_(0)
    genesis.flip(genesis.ones(1), (0,)).fill_(0)
    assert g.sum().item() == 3


def test_flip_errors():
    _raises(lambda m: m.flip(m.ones(2, 3), (0, 0)), RuntimeError)
    _raises(lambda m: m.flip(m.ones(2, 3), (0, -2)), RuntimeError)
    _raises(lambda m: m.flip(m.ones(2, 3), (2,)), IndexError)
    _raises(lambda m: m.flip(m.ones(2, 3), 0), TypeError)
    _raises(lambda m: m.ones(2, 3).flip(), TypeError)
    _raises(lambda m: m.flip(m.ones(()), (3,)), IndexError)
    _raises(lambda m: m.fliplr(m.ones(3)), RuntimeError)
    _raises(lambda m: m.flipud(m.ones(())), RuntimeError)


@pytest.mark.parametrize("shifts,dims", [(1, None), (-3, None), (13, None), (1, 0), (-1, 1),
                                         (7, -1), ((1, 2), (0, 1)), ((2, -1, 5), (1, 0, 2)),
                                         ((1, 1), (0, 0)), (0, 1), ([4], [2])], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_roll(shifts, dims, layout):
    compare(lambda m, x: m.roll(x, shifts, dims), [(2, 3, 4)], layout=layout)
    compare(lambda m, x: x.roll(shifts, dims=dims), [(2, 3, 4)], layout=layout, dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_roll_dtypes_and_edge_shapes(dtype):
    compare(lambda m, x: m.roll(x, 2, 1), [(3, 5)], dtype=dtype)
    compare(lambda m, x: m.roll(x, 1, 0), [(0, 3)], dtype=dtype)
    compare(lambda m, x: m.roll(x, 2), [()], dtype=dtype)
    compare(lambda m, x: m.roll(x, 1), [(0,)], dtype=dtype)


def test_roll_errors():
    _raises(lambda m: m.roll(m.ones(2, 3), (1, 2)), RuntimeError)
    _raises(lambda m: m.roll(m.ones(2, 3), 1, (0, 1)), RuntimeError)
    _raises(lambda m: m.roll(m.ones(2, 3), (), ()), RuntimeError)
    _raises(lambda m: m.roll(m.ones(2, 3), 1, 5), IndexError)
    _raises(lambda m: m.roll(m.ones(()), 1, 0), IndexError)
    _raises(lambda m: m.roll(m.ones(3), 1.5, 0), TypeError)


@pytest.mark.parametrize("k", [-5, -1, 0, 1, 2, 3, 4, 6])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, 1)], ids=str)
def test_rot90(k, dims):
    compare(lambda m, x: m.rot90(x, k, dims), [(2, 3, 4)])
    compare(lambda m, x: x.rot90(k, dims), [(2, 3, 4)], layout="sliced", dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_rot90_dtypes_and_defaults(dtype):
    compare(lambda m, x: m.rot90(x), [(2, 3)], dtype=dtype)
    compare(lambda m, x: x.rot90(), [(0, 3)], dtype=dtype, layout="transposed")


def test_rot90_errors():
    _raises(lambda m: m.rot90(m.ones(2, 3), 1, [0]), RuntimeError)
    _raises(lambda m: m.rot90(m.ones(2, 3), 1, [0, 0]), RuntimeError)
    _raises(lambda m: m.rot90(m.ones(2, 3), 1, [0, 5]), IndexError)
    _raises(lambda m: m.rot90(m.ones(3)), RuntimeError)
    _raises(lambda m: m.rot90(m.ones(2, 2), 1.5), TypeError)


# -- movedim / unflatten / broadcast_to / broadcast_tensors / view_as / reshape_as ----------------

@pytest.mark.parametrize("src,dst", [(0, 2), (-1, 0), (1, 1), ((0, 1), (2, 0)), ([2, 0], [0, 1]),
                                     ((0, 1, 2), (1, 2, 0)), ((), ())], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_movedim(src, dst, layout):
    compare(lambda m, x: m.movedim(x, src, dst), [(2, 3, 4)], layout=layout)
    compare(lambda m, x: x.moveaxis(src, dst), [(2, 3, 4)], layout=layout, dtype="int64")
    compare(lambda m, x: m.moveaxis(x, src, dst) * 2, [(2, 3, 4)], dtype="float64")


def test_movedim_is_a_view_with_torch_strides():
    g, t = make_pair(np.zeros((2, 3, 4)), "float32")
    vg, vt = genesis.movedim(g, (0, 1), (2, 0)), torch.movedim(t, (0, 1), (2, 0))
    assert vg.stride() == vt.stride()
    vg.fill_(1)
    assert g.sum().item() == 24


def test_movedim_errors():
    _raises(lambda m: m.movedim(m.ones(2, 3), 0, 5), IndexError)
    _raises(lambda m: m.movedim(m.ones(2, 3), (0, 1), (1,)), RuntimeError)
    _raises(lambda m: m.movedim(m.ones(2, 3), (0, 0), (1, 0)), RuntimeError)
    _raises(lambda m: m.movedim(m.ones(2, 3), (0, 1), (1, 1)), RuntimeError)


@pytest.mark.parametrize("dim,sizes", [(1, (2, 2)), (-1, (5, 1)), (0, (-1, 1)), (1, (2, -1)),
                                       (2, [1, 5]), (0, (3,))], ids=str)
def test_unflatten(dim, sizes):
    compare(lambda m, x: m.unflatten(x, dim, sizes), [(3, 4, 5)])
    compare(lambda m, x: x.unflatten(dim, sizes), [(3, 4, 5)], layout="transposed")


def test_unflatten_errors():
    _raises(lambda m: m.unflatten(m.ones(2, 3), 1, (2, 2)), RuntimeError)
    _raises(lambda m: m.unflatten(m.ones(2, 3), 1, ()), RuntimeError)
    _raises(lambda m: m.unflatten(m.ones(2, 3), 2, (3, 1)), IndexError)


@pytest.mark.parametrize("size", [(2, 3, 4), (3, 4), (3, -1), (5, -1, 4), (0, 3, 4)], ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "sliced"])
def test_broadcast_to(size, layout):
    compare(lambda m, x: m.broadcast_to(x, size), [(3, 1)], layout=layout)
    compare(lambda m, x: x.broadcast_to(size), [(1, 4)], dtype="int32", layout=layout)


def test_broadcast_to_errors():
    _raises(lambda m: m.broadcast_to(m.ones(2, 3), (-1, 2, 3)), RuntimeError)
    _raises(lambda m: m.broadcast_to(m.ones(2, 3), (3, 3)), RuntimeError)
    _raises(lambda m: m.broadcast_to(m.ones(2, 3), (3,)), RuntimeError)


@pytest.mark.parametrize("shapes", [[(2, 3), (3,), ()], [(1, 4), (3, 1)], [(2, 0), (1,)],
                                    [(5,)], []], ids=str)
def test_broadcast_tensors(shapes):
    compare(lambda m, *xs: m.broadcast_tensors(*xs), shapes)
    compare(lambda m, *xs: [t * 2 for t in m.broadcast_tensors(*xs)], shapes, dtype="float64")


def test_broadcast_tensors_mixed_dtypes_and_error():
    arrays = [np.ones((2, 1), dtype=np.float32), np.arange(3), np.array(True)]
    compare(lambda m, *xs: m.broadcast_tensors(*xs), arrays=arrays)
    _raises(lambda m: m.broadcast_tensors(m.ones(2, 3), m.ones(2)), RuntimeError)


def test_view_as_reshape_as():
    compare(lambda m, x, o: x.view_as(o), [(2, 6), (3, 4)])
    compare(lambda m, x, o: x.reshape_as(o), [(2, 6), (4, 3)], layout="transposed")
    compare(lambda m, x, o: x.reshape_as(o), [(3,), (1, 3)], dtype="int64")
    _raises(lambda m: m.ones(2, 3).t().view_as(m.ones(6)), RuntimeError)
    _raises(lambda m: m.ones(2, 3).view_as(m.ones(5)), RuntimeError)


# -- meshgrid -------------------------------------------------------------------------------------

@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("shapes", [[(2,), (3,)], [(2,), (), (4,)], [(3,)], [(0,), (2,)],
                                    [(2,), (3,), (1,), (2,)]], ids=str)
def test_meshgrid(indexing, shapes):
    compare(lambda m, *xs: m.meshgrid(*xs, indexing=indexing), shapes)
    compare(lambda m, *xs: m.meshgrid(list(xs), indexing=indexing), shapes, dtype="int64")
    out_g, out_t = compare(lambda m, *xs: m.meshgrid(*xs, indexing=indexing), shapes,
                           dtype="float64", layout="sliced")
    for a, b in zip(out_g, out_t):
        if b.numel():
            assert a.stride() == b.stride()


def test_meshgrid_default_indexing_warns_like_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        genesis.meshgrid(genesis.ones(2), indexing="ij")  # no warning when indexing is given
    with pytest.warns(UserWarning, match="indexing"):
        grids = genesis.meshgrid(genesis.arange(2), genesis.arange(3))
    with pytest.warns(UserWarning):
        expected = torch.meshgrid(torch.arange(2), torch.arange(3))
    assert [g.tolist() for g in grids] == [e.tolist() for e in expected]


def test_meshgrid_errors():
    _raises(lambda m: m.meshgrid(m.ones(2), m.ones(2, 2), indexing="ij"), RuntimeError)
    _raises(lambda m: m.meshgrid(m.ones(2), m.arange(3), indexing="ij"), RuntimeError)
    _raises(lambda m: m.meshgrid(m.ones(2), indexing="ji"), RuntimeError)
    _raises(lambda m: m.meshgrid(indexing="ij"), RuntimeError)


# -- unfold ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dim,size,step", [(0, 2, 1), (1, 3, 2), (-1, 2, 3), (2, 5, 1),
                                           (2, 1, 1), (1, 4, 4), (2, 0, 2), (0, 3, 5)], ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unfold(dim, size, step, layout):
    compare(lambda m, x: x.unfold(dim, size, step), [(3, 4, 5)], layout=layout)
    compare(lambda m, x: x.unfold(dim, size, step) * 2, [(3, 4, 5)], layout=layout,
            dtype="float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_unfold_dtypes_and_edge_shapes(dtype):
    compare(lambda m, x: x.unfold(0, 2, 1), [(5,)], dtype=dtype)
    compare(lambda m, x: x.unfold(0, 1, 1), [()], dtype=dtype)
    compare(lambda m, x: x.unfold(0, 0, 1), [()], dtype=dtype)
    compare(lambda m, x: x.unfold(1, 2, 1), [(0, 3)], dtype=dtype)


def test_unfold_is_a_strided_view_and_chains():
    g, t = make_pair(np.arange(24.0).reshape(4, 6), "float32")
    vg, vt = g.unfold(1, 3, 2), t.unfold(1, 3, 2)
    assert vg.stride() == vt.stride() and vg.storage_offset() == vt.storage_offset()
    vg[0, 0].fill_(-1)
    vt[0, 0].fill_(-1)
    assert g.tolist() == t.tolist()
    compare(lambda m, x: x.unfold(0, 2, 1).unfold(1, 2, 2).sum(-1), [(4, 6)])


def test_unfold_errors():
    _raises(lambda m: m.ones(2, 3).unfold(1, 4, 1), RuntimeError)
    _raises(lambda m: m.ones(2, 3).unfold(1, 2, 0), RuntimeError)
    _raises(lambda m: m.ones(2, 3).unfold(1, -1, 1), RuntimeError)
    _raises(lambda m: m.ones(2, 3).unfold(2, 1, 1), IndexError)
    _raises(lambda m: m.ones(()).unfold(0, 2, 1), RuntimeError)


# -- logspace -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(0, 2, 3), (-1, 2, 5), (2, -2, 4), (0, 1, 1), (0, 1, 0),
                                  (0.5, 3.5, 7)], ids=str)
@pytest.mark.parametrize("base", [10.0, 2, 0.5])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", None])
def test_logspace(args, base, dtype):
    kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    expected = torch.logspace(*args, base=base, **kw)
    kw = {} if dtype is None else {"dtype": getattr(genesis, dtype)}
    out = genesis.logspace(*args, base=base, **kw)
    assert out.dtype.name == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_logspace_tensor_ends_requires_grad_and_errors():
    expected = torch.logspace(torch.tensor(0.0), torch.tensor(2.0), 3, base=2)
    out = genesis.logspace(genesis.tensor(0.0), genesis.tensor(2.0), 3, base=2,
                           requires_grad=True)
    assert out.tolist() == expected.tolist() and out.requires_grad
    _raises(lambda m: m.logspace(0, 1, -1), RuntimeError)
