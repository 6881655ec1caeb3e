"""F.pad on 1- to 6-D inputs in every mode against PyTorch: padding (and cropping with
negative amounts) of 1, 2 or 3 trailing dims, values and gradients, float32/float64, and
PyTorch's exception type wherever PyTorch refuses (unsupported rank/size combinations of the
non-constant modes, amounts too large, odd or too long pad tuples)."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare

MODES = ("constant", "reflect", "replicate", "circular")
SHAPES = [(3,), (2, 3), (2, 3, 4), (1, 2, 3, 4), (2, 1, 3, 3, 4), (1, 1, 2, 2, 3, 3),
          (2, 1, 3), (1, 2, 1, 4)]
PADS = [(1, 1), (1, 2, 0, 1), (1, 0, 2, 1, 1, 1), (1, 1, 1, 1, 1, 1, 1, 1), (2, 2, 2, 2),
        (0, 0, 1, 1, 2, 2), (1,), (-1, 2), (-2, -1), (-1, -2, 1, 0), (3, 0), (0, 4), (-4, 0),
        (1, -1, -1, 1, 2, 0), (2, -1, 0, 2, -1, 1)]


def _outcome(lib, x: np.ndarray, pad, mode, dtype):
    t = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
    try:
        return t, lib.nn.functional.pad(t, pad, mode=mode)
    except Exception as e:  # noqa: BLE001 - the exception type is what is compared
        return t, e


def _torch_is_defined(shape, pad, mode) -> bool:
    """PyTorch's circular mode returns uninitialised memory when negative amounts leave
    nothing to wrap around (e.g. (2, -3) on a dim of 3); genesis raises there instead."""
    if mode != "circular" or len(pad) // 2 > len(shape):
        return True
    for i in range(len(pad) // 2):
        n, left, right = shape[len(shape) - 1 - i], pad[2 * i], pad[2 * i + 1]
        if n + min(left, 0) + min(right, 0) <= 0 and max(left, right) > 0:
            return False
    return True


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", MODES)
def test_pad_matches_torch_over_ranks_and_amounts(mode, dtype):
    checked = 0
    for shape in SHAPES:
        x = np.random.default_rng(len(shape)).standard_normal(shape)
        for pad in PADS:
            if not _torch_is_defined(shape, pad, mode):
                continue
            tg, g = _outcome(genesis, x, pad, mode, dtype)
            tt, t = _outcome(torch, x, pad, mode, dtype)
            what = f"{mode} {shape} {pad}"
            if isinstance(t, Exception):
                assert isinstance(g, type(t)), f"{what}: {g!r}, torch raised {t!r}"
                continue
            if isinstance(g, RuntimeError) and t.numel() == 0 and mode != "constant":
                continue  # PyTorch refuses some empty outputs and returns others; genesis refuses
            assert not isinstance(g, Exception), f"{what}: {g!r}"
            assert tuple(g.shape) == tuple(t.shape), what
            np.testing.assert_array_equal(g.detach().numpy(), t.detach().numpy(), what)
            if t.numel():
                w = np.random.default_rng(1).standard_normal(tuple(t.shape))
                (g * genesis.tensor(w, dtype=g.dtype)).sum().backward()
                (t * torch.tensor(w, dtype=t.dtype)).sum().backward()
                np.testing.assert_allclose(tg.grad.numpy(), tt.grad.numpy(), rtol=1e-6,
                                           atol=1e-6, err_msg=what)
                checked += 1
    assert checked > 15


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [((2, 3, 4, 5), (1, 2, 3, 0)),
                                        ((1, 2, 3, 4, 5), (1, 0, 2, 1, 2, 2)),
                                        ((2, 3, 4, 5), (2, 1, 0, 3, 1, 1)),
                                        ((3, 2, 4), (1, 1))])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_pad_4d_5d_strided_inputs_match_torch(mode, shape, pad, layout):
    compare(lambda lib, x: lib.nn.functional.pad(x, pad, mode=mode), [shape], layout=layout)


def test_pad_constant_value_and_zero_value_in_other_modes_like_torch():
    compare(lambda lib, x: lib.nn.functional.pad(x, (1, 2, 0, 1, 2, 0), value=-3.5),
            [(2, 1, 2, 3, 2)])
    compare(lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect", value=0.0),
            [(1, 2, 3, 3)])


def test_pad_gradcheck_5d():
    x = genesis.randn(1, 2, 2, 3, 3, dtype=genesis.float64, requires_grad=True)
    for mode in ("reflect", "replicate", "circular"):
        assert genesis.autograd.gradcheck(
            lambda x, mode=mode: genesis.nn.functional.pad(x, (1, 2, 2, 0, 1, 1), mode=mode),
            (x,))


def test_circular_crop_that_leaves_nothing_to_wrap_raises():
    with pytest.raises(RuntimeError, match="too small"):
        genesis.nn.functional.pad(genesis.zeros(2, 1, 3), (2, -3), mode="circular")
