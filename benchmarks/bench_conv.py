"""Genesis vs PyTorch (CPU) in one process: convolution forward and forward + backward.

The MNIST example net's second layer (batch 64, 32 -> 64 channels, 3x3, 26x26 input), a
depthwise 3x3 layer and a stride-2 transposed convolution. The two libraries alternate round
by round (``median_pair``), so both see the same load on a shared machine.
Ratio = Genesis time / PyTorch time (below 1.0: Genesis is faster). Run with ``nox -s bench``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import genesis.nn.functional as gF
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _harness import median_pair, print_table  # noqa: E402


def conv_pair(fn: str, x_shape, w_shape, backward: bool, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) * 0.1).astype(np.float32)
    b = rng.standard_normal(w_shape[1] * kwargs.get("groups", 1) if "transpose" in fn
                            else w_shape[0]).astype(np.float32)
    tf, gf = getattr(torch.nn.functional, fn), getattr(gF, fn)
    out_shape = tuple(tf(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                         **kwargs).shape)
    grad = rng.standard_normal(out_shape).astype(np.float32)
    gx, gw, gb = (genesis.tensor(a, requires_grad=backward) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=backward) for a in (x, w, b))
    ggrad, tgrad = genesis.tensor(grad), torch.tensor(grad)

    def g_run():
        y = gf(gx, gw, gb, **kwargs)
        if backward:
            for p in (gx, gw, gb):
                p.grad = None
            y.backward(ggrad)

    def t_run():
        y = tf(tx, tw, tb, **kwargs)
        if backward:
            for p in (tx, tw, tb):
                p.grad = None
            y.backward(tgrad)

    return g_run, t_run


CASES = [
    ("conv2d 64x32x26x26, 64x32x3x3", "conv2d", (64, 32, 26, 26), (64, 32, 3, 3), {}),
    ("conv2d depthwise 32x64x16x16, 3x3 pad 1", "conv2d", (32, 64, 16, 16), (64, 1, 3, 3),
     {"groups": 64, "padding": 1}),
    ("conv_transpose2d 32x32x14x14, stride 2", "conv_transpose2d", (32, 32, 14, 14),
     (32, 16, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
]


def main() -> None:
    rows = []
    for name, fn, xs, ws, kw in CASES:
        for backward in (False, True):
            g, t = median_pair(*conv_pair(fn, xs, ws, backward, **kw), rounds=9)
            rows.append((f"{name} {'fwd+bwd' if backward else 'fwd'}", g, t, "s"))
    print_table("Genesis vs PyTorch: convolution medians", rows)


if __name__ == "__main__":
    main()
