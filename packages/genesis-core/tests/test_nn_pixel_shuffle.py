"""pixel_shuffle, pixel_unshuffle and channel_shuffle (functional and modules) against
PyTorch: values and gradients on odd shapes, strided inputs and integer dtypes, round trips,
gradcheck and PyTorch's errors."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from genesis import nn
from torch_compare import assert_raises_like_torch, compare

CASES = {
    "shuffle_r2": (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), (2, 8, 3, 2)),
    "shuffle_r3_unbatched": (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 3), (9, 1, 2)),
    "shuffle_r1": (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 1), (2, 3, 2, 2)),
    "shuffle_5d": (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), (2, 1, 4, 2, 3)),
    "unshuffle_r2": (lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), (2, 3, 4, 6)),
    "unshuffle_r3_unbatched": (lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 3),
                               (1, 3, 6)),
    "unshuffle_5d": (lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), (3, 1, 2, 2, 4)),
    "channel_g2": (lambda lib, x: lib.nn.functional.channel_shuffle(x, 2), (2, 6, 3)),
    "channel_g_all": (lambda lib, x: lib.nn.functional.channel_shuffle(x, 5), (2, 5, 2, 2)),
    "channel_g1": (lambda lib, x: lib.nn.functional.channel_shuffle(x, 1), (1, 4, 3)),
    "channel_unbatched": (lambda lib, x: lib.nn.functional.channel_shuffle(x, 3), (4, 6, 2)),
    "channel_5d": (lambda lib, x: lib.nn.functional.channel_shuffle(x, 3), (2, 6, 1, 2, 2)),
    "module_shuffle": (lambda lib, x: lib.nn.PixelShuffle(2)(x), (1, 4, 2, 3)),
    "module_unshuffle": (lambda lib, x: lib.nn.PixelUnshuffle(2)(x), (1, 2, 2, 4)),
    "module_channel": (lambda lib, x: lib.nn.ChannelShuffle(2)(x), (3, 4, 2)),
}


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_with_gradient(name, dtype, layout):
    fn, shape = CASES[name]
    compare(fn, [shape], dtype=dtype, layout=layout)


@pytest.mark.parametrize("name", sorted(CASES))
def test_integer_dtypes_match_torch(name):
    fn, shape = CASES[name]
    compare(fn, [shape], dtype="int64", grad=False)


@pytest.mark.parametrize("r, shape", [(2, (2, 3, 4, 6)), (3, (5, 3, 3)), (1, (2, 2, 2))])
def test_unshuffle_inverts_shuffle(r, shape):
    x = genesis.randn(*shape)
    y = nn.functional.pixel_shuffle(nn.functional.pixel_unshuffle(x, r), r)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    z = nn.functional.channel_shuffle(nn.functional.channel_shuffle(x, shape[1]), 1)
    np.testing.assert_array_equal(z.numpy(), x.numpy())


@pytest.mark.parametrize("name", ["shuffle_r2", "unshuffle_r2", "channel_g2"])
def test_gradcheck(name):
    fn, shape = CASES[name]
    x = genesis.randn(*shape, dtype=genesis.float64, requires_grad=True)
    assert genesis.autograd.gradcheck(lambda x: fn(genesis, x), (x,))


def test_module_reprs_match_torch():
    for cls, arg in (("PixelShuffle", 2), ("PixelUnshuffle", 3), ("ChannelShuffle", 4)):
        assert repr(getattr(nn, cls)(arg)) == repr(getattr(torch.nn, cls)(arg))


ERRORS = [
    (lambda lib: lib.nn.functional.pixel_shuffle(lib.zeros(5, 2, 2), 2),
     r"input.size\(-3\)=5 is not divisible by 4"),
    (lambda lib: lib.nn.functional.pixel_shuffle(lib.zeros(2, 2), 2), "at least 3 dimensions"),
    (lambda lib: lib.nn.functional.pixel_shuffle(lib.zeros(4, 2, 2), 0),
     "positive upscale_factor, but got 0"),
    (lambda lib: lib.nn.functional.pixel_shuffle(lib.zeros(4, 2, 2), 1.5), "must be int"),
    (lambda lib: lib.nn.functional.pixel_unshuffle(lib.zeros(1, 3, 4), 2),
     r"height to be divisible by downscale_factor, but input.size\(-2\)=3"),
    (lambda lib: lib.nn.functional.pixel_unshuffle(lib.zeros(1, 4, 3), 2),
     r"width to be divisible by downscale_factor, but input.size\(-1\)=3"),
    (lambda lib: lib.nn.functional.pixel_unshuffle(lib.zeros(1, 4, 4), -1),
     "positive downscale_factor, but got -1"),
    (lambda lib: lib.nn.functional.pixel_unshuffle(lib.zeros(4, 4), 2), "at least 3 dimensions"),
    (lambda lib: lib.nn.functional.channel_shuffle(lib.zeros(2, 6, 3), 4),
     "Got 6 channels and 4 groups"),
    (lambda lib: lib.nn.functional.channel_shuffle(lib.zeros(2, 6, 3), 0),
     "groups to divide channels in must be positive"),
    (lambda lib: lib.nn.functional.channel_shuffle(lib.zeros(2, 6), 2), "> 2 dims"),
    (lambda lib: lib.nn.ChannelShuffle(4)(lib.zeros(2, 6, 3)), "divisible by groups"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_like_torch(i):
    call, match = ERRORS[i]
    assert_raises_like_torch(call, match)
