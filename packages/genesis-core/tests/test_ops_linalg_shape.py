"""matmul family and joins/splits (cat, stack, split, chunk, unbind) against PyTorch."""

from __future__ import annotations

import genesis
import pytest
import torch
from torch_compare import compare

MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)),
                 ((2, 3, 4), (4, 5)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (2, 4, 5)), ((0, 4), (4, 3)),
                 ((3, 0), (0, 2)), ((2, 3, 4), (2, 4, 5))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    compare(lambda m, a, b: a @ b, shapes)
    compare(lambda m, a, b: m.matmul(a, b), shapes, dtype="float64")


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
def test_matmul_non_contiguous(layout):
    compare(lambda m, a, b: a @ b, [(4, 4), (4, 4)], layout=layout)
    compare(lambda m, a, b: a.matmul(b), [(2, 3, 3), (2, 3, 3)], layout=layout)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int64", "int32"])
def test_matmul_dtypes(dtype):
    compare(lambda m, a, b: a @ b, [(3, 4), (4, 2)], dtype=dtype)


def test_matmul_promotes_mixed_dtypes():
    # Divergence: torch refuses float32 @ float64; genesis promotes like every other binary
    # op (result float64), which loses nothing and keeps matmul consistent with mul.
    with pytest.raises(RuntimeError):
        torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)
    out = genesis.ones(2, 3) @ genesis.ones(3, 2, dtype=genesis.float64)
    assert out.dtype is genesis.float64 and out.tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_mm_bmm():
    compare(lambda m, a, b: m.mm(a, b), [(3, 4), (4, 5)])
    compare(lambda m, a, b: a.mm(b), [(3, 4), (4, 5)], layout="transposed")
    compare(lambda m, a, b: m.bmm(a, b), [(2, 3, 4), (2, 4, 5)])
    with pytest.raises(RuntimeError):
        genesis.mm(genesis.zeros(2, 3, 4), genesis.zeros(4, 5))
    with pytest.raises(RuntimeError):
        genesis.bmm(genesis.zeros(3, 4), genesis.zeros(4, 5))


@pytest.mark.parametrize("shapes", [((3, 4), (5, 6)), ((4,), (3,)), ((), (3,))], ids=str)
def test_matmul_shape_errors(shapes):
    with pytest.raises(RuntimeError):
        torch.zeros(shapes[0]) @ torch.zeros(shapes[1])
    with pytest.raises(RuntimeError):
        genesis.zeros(*shapes[0]) @ genesis.zeros(*shapes[1])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_cat(dim, layout):
    compare(lambda m, a, b, c: m.cat([a, b, c], dim), [(2, 3), (2, 3), (2, 3)], layout=layout)


def test_cat_mixed_sizes_dtypes_and_empty():
    compare(lambda m, a, b: m.cat((a, b), 1), [(2, 3), (2, 1)])
    compare(lambda m, a, b: m.cat([a, b]), [(0, 3), (2, 3)])
    compare(lambda m, a, b: m.cat([a, b]), [(0,), (2, 3)])  # 1-D empty tensors are skipped
    compare(lambda m, a: m.cat([a]), [(2, 3)])
    compare(lambda m, a: m.cat([a.double(), a.half()]), [(2, 3)])
    compare(lambda m, a: m.concat([a, a], dim=-1), [(2,)])
    with pytest.raises(RuntimeError):
        genesis.cat([genesis.zeros(2, 3), genesis.zeros(3, 2)])
    with pytest.raises(RuntimeError):
        genesis.cat([])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    compare(lambda m, a, b: m.stack([a, b], dim), [(2, 3), (2, 3)])
    compare(lambda m, a, b: m.stack((a, b), dim), [(2, 3), (2, 3)], layout="transposed")
    compare(lambda m, a: m.stack([a, a * 2, a], dim=0), [()]) if dim == 0 else None
    with pytest.raises(RuntimeError):
        genesis.stack([genesis.zeros(2), genesis.zeros(3)])


@pytest.mark.parametrize("arg", [1, 2, 3, 5, [1, 4], [2, 0, 3]], ids=str)
@pytest.mark.parametrize("dim", [0, -1])
def test_split(arg, dim):
    compare(lambda m, x: x.split(arg, dim), [(5, 5)])
    compare(lambda m, x: m.split(x, arg, dim=dim), [(5, 5)], layout="transposed")


@pytest.mark.parametrize("chunks", [1, 2, 3, 4, 6, 7])
def test_chunk(chunks):
    compare(lambda m, x: x.chunk(chunks), [(6, 2)])
    compare(lambda m, x: m.chunk(x, chunks, dim=1), [(2, 5)])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim):
    compare(lambda m, x: x.unbind(dim), [(2, 3, 4)])
    compare(lambda m, x: m.unbind(x, dim), [(2, 3, 4)], layout="sliced")


def test_cat_of_one_tensor_is_a_copy():
    x = genesis.zeros(3)
    y = genesis.cat([x])
    y[0] = 1.0
    assert y is not x and x.tolist() == [0.0, 0.0, 0.0]


def test_split_pieces_are_views():
    x = genesis.zeros(4, 3)
    a, b = x.split(2)
    b.fill_(1.0)
    assert x.sum().item() == 6.0
    assert a.stride() == torch.zeros(4, 3).split(2)[0].stride()


def test_split_errors():
    with pytest.raises(RuntimeError):
        genesis.zeros(5).split([2, 2])
    with pytest.raises(RuntimeError):
        genesis.zeros(5).chunk(0)


def test_only_some_pieces_used_in_loss():
    compare(lambda m, x: x.split(2)[1] * 3, [(5, 2)])
    compare(lambda m, x: x.unbind(1)[0].exp(), [(3, 2)])
