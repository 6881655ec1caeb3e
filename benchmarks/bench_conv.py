"""Convolution forward, and forward + backward: the MNIST example net's second layer
(batch 64, 32 -> 64 channels, 3x3, 26x26 input), a depthwise 3x3 layer and a stride-2
transposed convolution."""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import genesis.nn.functional as gF
import numpy as np
import torch
from _harness import Case, Contest

TITLE = "Convolutions"


def conv(fn: str, x_shape: tuple, w_shape: tuple, backward: bool, kwargs: dict) -> Contest:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) * 0.1).astype(np.float32)
    channels = w_shape[1] * kwargs.get("groups", 1) if "transpose" in fn else w_shape[0]
    b = rng.standard_normal(channels).astype(np.float32)
    out_shape = getattr(torch.nn.functional, fn)(*map(torch.from_numpy, (x, w, b)),
                                                 **kwargs).shape
    grad = rng.standard_normal(tuple(out_shape)).astype(np.float32)

    def side(lib, function):
        inputs = [lib.tensor(a, requires_grad=backward) for a in (x, w, b)]
        upstream = lib.tensor(grad)

        def call():
            out = function(*inputs, **kwargs)
            if not backward:
                return out
            for t in inputs:
                t.grad = None
            out.backward(upstream)
            return out, [t.grad for t in inputs]

        return call

    return Contest(genesis=side(genesis, getattr(gF, fn)),
                   torch={"": side(torch, getattr(torch.nn.functional, fn))})


def cases(smoke: bool) -> list[Case]:
    batch, side = (2, 6) if smoke else (None, None)

    def shape(n, c, s):
        return (batch or n, c, side or s, side or s)

    layers = [
        ("conv2d 64×32×26×26, 64×32×3×3", "conv2d", shape(64, 32, 26), (64, 32, 3, 3), {}),
        ("conv2d depthwise 32×64×16×16, 3×3 pad 1", "conv2d", shape(32, 64, 16), (64, 1, 3, 3),
         {"groups": 64, "padding": 1}),
        ("conv_transpose2d 32×32×14×14, stride 2", "conv_transpose2d", shape(32, 32, 14),
         (32, 16, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ]
    return [Case(f"{name} {'fwd+bwd' if backward else 'fwd'}",
                 lambda fn=fn, xs=xs, ws=ws, kw=kw, backward=backward:
                 conv(fn, xs, ws, backward, kw))
            for name, fn, xs, ws, kw in layers for backward in (False, True)]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
