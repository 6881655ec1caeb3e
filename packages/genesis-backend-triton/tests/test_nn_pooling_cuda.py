"""Pooling layers on "cuda" (the interpreter here, a GPU where present) agree with the CPU
backend: outputs, indices and input gradients (tiny shapes)."""

import genesis
import genesis.nn.functional as F
import numpy as np
import pytest

CASES = [
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)),
    ("max_pool1d", lambda x: F.max_pool1d(x[0], 2, return_indices=True)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                          count_include_pad=False)),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3))),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 2), return_indices=True)),
    ("lp_pool2d", lambda x: F.lp_pool2d(x, 2, 2)),
    ("max_unpool2d", lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2)),
]


def _run(fn, array, device):
    x = genesis.tensor(array, device=device, requires_grad=True)
    out = fn(x)
    outs = out if isinstance(out, tuple) else (out,)
    weights = np.random.default_rng(1).normal(size=outs[0].shape).astype(np.float32)
    (outs[0] * genesis.tensor(weights, device=device)).sum().backward()
    return [o.detach().numpy() for o in outs] + [x.grad.numpy()]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_pooling_on_cuda_matches_cpu(name, fn):
    array = np.random.default_rng(0).normal(size=(1, 2, 5, 4)).astype(np.float32)
    for got, want in zip(_run(fn, array, "cuda"), _run(fn, array, "cpu"), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
