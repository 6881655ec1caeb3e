"""``F.unfold`` / ``F.fold`` and ``nn.Unfold`` / ``nn.Fold`` against torch: values and
gradients on odd shapes, float64 gradcheck, and torch's errors."""

import genesis
import numpy as np
import pytest
import torch
from torch_compare import assert_raises_like_torch, compare

# (input shape, kernel_size, dilation, padding, stride)
UNFOLD_CASES = [
    ((2, 3, 5, 6), (2, 3), (2, 1), (1, 2), (1, 2)),
    ((1, 1, 4, 4), 2, 1, 0, 1),
    ((2, 2, 3, 3), 4, 1, 1, 1),          # kernel > input, padding makes it fit
    ((1, 2, 7, 5), (3, 2), 1, 0, (3, 4)),  # stride > kernel
    ((2, 3, 1, 6), (1, 3), (1, 2), 0, 1),  # one-row image
    ((3, 4, 5), 3, 1, 1, 2),             # unbatched
    ((0, 2, 4, 4), 2, 1, 0, 1),          # empty batch
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,k,d,p,s", UNFOLD_CASES)
def test_unfold_matches_torch(shape, k, d, p, s, dtype):
    compare(lambda lib, x: lib.nn.functional.unfold(x, k, dilation=d, padding=p, stride=s),
            [shape], dtype=dtype)


def test_unfold_strided_input():
    compare(lambda lib, x: lib.nn.functional.unfold(x, (2, 2), padding=1, stride=2),
            [(2, 3, 4, 5)], layout="transposed")


def _blocks(shape, k, d, p, s):
    """The ``(N, C * K, L)`` shape fold reads for an image of ``shape``."""
    return tuple(torch.nn.functional.unfold(torch.zeros(shape), k, d, p, s).shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,k,d,p,s", UNFOLD_CASES)
def test_fold_matches_torch(shape, k, d, p, s, dtype):
    size = shape[-2:]
    compare(lambda lib, x: lib.nn.functional.fold(x, size, k, dilation=d, padding=p, stride=s),
            [_blocks(shape, k, d, p, s)], dtype=dtype)


def test_modules_match_torch():
    def both(lib, x):
        cols = lib.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(x)
        return cols, lib.nn.Fold((4, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(cols)
    compare(both, [(2, 3, 4, 6)])
    assert repr(genesis.nn.Unfold(2)) == repr(torch.nn.Unfold(2))
    assert repr(genesis.nn.Fold((3, 3), 2)) == repr(torch.nn.Fold((3, 3), 2))


def test_fold_is_unfold_adjoint():
    # <unfold(x), c> == <x, fold(c)>: the pair are each other's transpose
    rng = np.random.default_rng(1)
    x = genesis.tensor(rng.standard_normal((2, 3, 5, 4)))
    c = genesis.tensor(rng.standard_normal(_blocks((2, 3, 5, 4), (3, 2), (1, 2), 1, (2, 1))))
    F = genesis.nn.functional
    lhs = (F.unfold(x, (3, 2), (1, 2), 1, (2, 1)) * c).sum().item()
    rhs = (x * F.fold(c, (5, 4), (3, 2), (1, 2), 1, (2, 1))).sum().item()
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_gradcheck():
    rng = np.random.default_rng(2)
    F = genesis.nn.functional
    x = genesis.tensor(rng.standard_normal((1, 2, 4, 3)), requires_grad=True)
    assert genesis.autograd.gradcheck(lambda t: F.unfold(t, 2, dilation=(1, 2), padding=1,
                                                         stride=(2, 1)), [x])
    c = genesis.tensor(rng.standard_normal(_blocks((1, 2, 4, 3), 2, 1, 1, 2)),
                       requires_grad=True)
    assert genesis.autograd.gradcheck(lambda t: F.fold(t, (4, 3), 2, padding=1, stride=2), [c])


def test_second_order_matches_torch():
    # the gradient (col2im of the columns) is itself differentiable, and so on
    def grad_of(lib, x):
        y = lib.nn.functional.unfold(x, 2, padding=1, stride=(1, 2)) ** 3
        return lib.autograd.grad(y.sum(), x, create_graph=True)[0]
    compare(grad_of, [(1, 2, 4, 3)], dtype="float64")


@pytest.mark.parametrize("call,match", [
    (lambda lib: lib.nn.functional.unfold(lib.zeros(1, 2, 3, 3), 4), "sliding blocks"),
    (lambda lib: lib.nn.functional.unfold(lib.zeros(2, 3), 2), "out of range"),
    (lambda lib: lib.nn.functional.unfold(lib.zeros(1, 2, 3, 4, 5), 2), "Expected 3D or 4D"),
    (lambda lib: lib.nn.functional.fold(lib.zeros(1, 2, 3, 4), (3, 3), 2), "Expected 2D or 3D"),
    (lambda lib: lib.nn.functional.unfold(lib.zeros(1, 2, 3, 3), (2, 2, 2)),
     "kernel_size equals to 2"),
    (lambda lib: lib.nn.functional.unfold(lib.zeros(1, 2, 3, 3), 0), "kernel size should be"),
    (lambda lib: lib.nn.functional.unfold(lib.zeros(1, 2, 3, 3), 2, stride=0),
     "stride should be greater than zero"),
    (lambda lib: lib.nn.functional.unfold(lib.zeros(1, 2, 3, 3), 2, padding=-1),
     "padding should be non-negative"),
    (lambda lib: lib.nn.functional.fold(lib.zeros(1, 5, 4), (3, 3), 2), "divisible by the "),
    (lambda lib: lib.nn.functional.fold(lib.zeros(1, 8, 5), (3, 3), 2),
     r"sliding blocks 2 \* 2 = 4, but got input.size\(2\)=5"),
])
def test_errors_like_torch(call, match):
    assert_raises_like_torch(call, match)
