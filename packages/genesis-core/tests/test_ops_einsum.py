"""einsum and tensordot against PyTorch: equations, ellipsis, implicit output, broadcasting,
diagonals, dtypes, layouts, empty operands and the error messages."""

from __future__ import annotations

import genesis
import pytest
import torch
from torch_compare import compare

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,jk", [(2, 1), (3, 4)]),        # a size-1 contracted subscript broadcasts
    ("ij,jk", [(2, 3), (1, 4)]),
    ("i,i", [(3,), (1,)]),
    ("...ij,...jk", [(2, 1, 2, 3), (5, 3, 4)]),
    ("...ij,...jk->...ik", [(3, 2, 3), (3, 3, 4)]),
    ("i...->...", [(3, 4)]),
    ("...->", [(3, 4)]),
    ("i...,j...", [(3, 4, 5), (2, 5)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("bii->b", [(2, 3, 3)]),
    ("ijk,ikl,lm->jm", [(2, 3, 4), (2, 4, 5), (5, 3)]),
    ("ba,Ab", [(2, 3), (4, 2)]),        # implicit output: uppercase sorts first
    ("i j , j k -> i k", [(2, 3), (3, 4)]),
    ("", [()]),
    (",->", [(), ()]),
    ("i,->i", [(3,), ()]),
    ("ij,kl->ijkl", [(2, 3), (2, 2)]),
]


@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_einsum_matches_torch(equation, shapes, dtype):
    compare(lambda m, *xs: m.einsum(equation, *xs), shapes, dtype=dtype)


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
@pytest.mark.parametrize("equation,shapes", [("ij,jk->ik", [(3, 3), (3, 4)]),
                                             ("ii->i", [(3, 3)]),
                                             ("bij,bkj->bik", [(2, 3, 4), (2, 5, 4)])])
def test_einsum_strided_inputs(equation, shapes, layout):
    compare(lambda m, *xs: m.einsum(equation, *xs), shapes, layout=layout)


def test_einsum_operand_list_and_sublist_forms():
    compare(lambda m, a, b: m.einsum("ij,jk->ik", [a, b]), [(2, 3), (3, 4)])
    compare(lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]), [(2, 3), (3, 4)])
    compare(lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2]), [(2, 3), (3, 4)])
    compare(lambda m, a, b: m.einsum(a, [Ellipsis, 1], b, [1, 27]), [(5, 2, 3), (3, 4)])


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "bfloat16"])
@pytest.mark.parametrize("equation,shapes", [("ij,jk->ik", [(2, 3), (3, 4)]),
                                             ("ij->i", [(2, 3)]),
                                             ("ii->i", [(3, 3)]),
                                             ("i,i->i", [(3,), (3,)])])
def test_einsum_dtypes(equation, shapes, dtype):
    compare(lambda m, *xs: m.einsum(equation, *xs), shapes, dtype=dtype)


def test_einsum_bool_elementwise_and_its_contraction_error():
    compare(lambda m, a, b: m.einsum("i,i->i", a, b), [(3,), (3,)], dtype="bool")
    compare(lambda m, a: m.einsum("ij->", a), [(2, 3)], dtype="bool")
    for lib in (torch, genesis):
        with pytest.raises(NotImplementedError, match="bmm"):
            lib.einsum("ij,jk", lib.ones(2, 3, dtype=lib.bool), lib.ones(3, 2, dtype=lib.bool))


@pytest.mark.parametrize("equation,shapes", [("ij,jk->ik", [(0, 3), (3, 4)]),
                                             ("ij,jk->ik", [(2, 0), (0, 4)]),
                                             ("bij,bjk->bik", [(0, 2, 3), (0, 3, 2)]),
                                             ("ij->j", [(0, 3)])])
def test_einsum_empty(equation, shapes):
    compare(lambda m, *xs: m.einsum(equation, *xs), shapes)


ERRORS = [
    ("ij,jk", [(2, 3), (2, 4)]),
    ("ii", [(2, 3)]),
    ("ij", [(2, 3, 4)]),
    ("ij->jj", [(2, 3)]),
    ("ij->k", [(2, 3)]),
    ("ij,jk", [(2, 3)]),
    ("i,j", [(3,), (2,), (2,)]),
    ("i1", [(2, 3)]),
    ("i..,j", [(3, 4), (2,)]),
    ("i......", [(3, 4)]),
    ("ijk...", [(3, 4)]),
    ("ij,jk", [(2, 3), (3, 4, 5)]),
]


@pytest.mark.parametrize("equation,shapes", ERRORS, ids=[e for e, _ in ERRORS])
def test_einsum_errors_match_torch(equation, shapes):
    messages = []
    for lib in (torch, genesis):
        with pytest.raises(RuntimeError) as info:
            lib.einsum(equation, *[lib.ones(*s) for s in shapes])
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_einsum_dtype_mismatch_and_bad_arguments():
    for lib in (torch, genesis):
        with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
            lib.einsum("ij,jk", lib.ones(2, 3), lib.ones(3, 4, dtype=lib.float64))
        with pytest.raises(TypeError):
            lib.einsum("i", 3)
        with pytest.raises(ValueError, match=r"valid range \[0, 52\)"):
            lib.einsum(lib.ones(2, 3), [0, 60])


def test_einsum_gradient_gradcheck():
    a = genesis.randn(2, 3, 3, dtype=genesis.float64, requires_grad=True)
    b = genesis.randn(3, 4, dtype=genesis.float64, requires_grad=True)
    assert genesis.autograd.gradcheck(lambda x, y: genesis.einsum("bii,ij->bj", x, y), [a, b])


# -- tensordot -------------------------------------------------------------------------------

@pytest.mark.parametrize("dims,shapes", [
    (2, [(2, 3, 4), (3, 4, 5)]),
    (1, [(2, 3, 4), (4, 5)]),
    (0, [(2, 3), (4,)]),
    (([1, 2], [0, 1]), [(2, 3, 4), (3, 4, 5)]),
    (([1], [0]), [(2, 3, 4), (3, 5)]),
    ([[2, 0], [1, 2]], [(4, 3, 2), (3, 2, 4)]),
    (([-1], [1]), [(2, 3, 4), (3, 4, 5)]),
], ids=str)
def test_tensordot_matches_torch(dims, shapes):
    compare(lambda m, a, b: m.tensordot(a, b, dims=dims), shapes)


def test_tensordot_tensor_dims_layouts_dtypes_and_broadcast():
    compare(lambda m, a, b: m.tensordot(a, b, dims=m.tensor(2)), [(2, 3, 4), (3, 4, 5)])
    compare(lambda m, a, b: m.tensordot(a, b, dims=m.tensor([[1, 2], [0, 1]])),
            [(2, 3, 4), (3, 4, 5)])
    compare(lambda m, a, b: m.tensordot(a, b), [(3, 3, 3), (3, 3, 3)], layout="transposed")
    compare(lambda m, a, b: m.tensordot(a, b, dims=1), [(2, 3), (3, 4)], dtype="int64")
    compare(lambda m, a, b: m.tensordot(a, b, dims=([1, 2], [0, 1])), [(2, 3, 1), (3, 4, 5)])
    compare(lambda m, a, b: m.tensordot(a, b, dims=1), [(3,), (3,)])
    compare(lambda m, a, b: m.tensordot(a, b, dims=1), [(2, 0), (0, 3)])


@pytest.mark.parametrize("dims,shapes,exc", [
    (-1, [(2, 3, 4), (3, 4, 5)], RuntimeError),
    (4, [(2, 3, 4), (3, 4, 5)], RuntimeError),
    (([1, 2], [0]), [(2, 3, 4), (3, 4, 5)], RuntimeError),
    (([1], [1]), [(2, 3, 4), (3, 4, 5)], RuntimeError),
    (([1, 1], [0, 0]), [(2, 3, 4), (3, 4, 5)], RuntimeError),
    (([5], [0]), [(2, 3, 4), (3, 4, 5)], IndexError),
    ("a", [(2, 3, 4), (3, 4, 5)], RuntimeError),
    ((1, 0), [(2, 3, 4), (3, 4, 5)], TypeError),
], ids=str)
def test_tensordot_errors(dims, shapes, exc):
    for lib in (torch, genesis):
        with pytest.raises(exc):
            lib.tensordot(lib.ones(*shapes[0]), lib.ones(*shapes[1]), dims=dims)
    for lib in (torch, genesis):
        with pytest.raises(RuntimeError, match="same dtype"):
            lib.tensordot(lib.ones(2, 3), lib.ones(3, 2, dtype=lib.float64), dims=1)
