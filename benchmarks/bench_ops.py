"""Single ops: GELU forward + backward (elementwise chains) and a float32 matmul (the BLAS
libraries themselves, for reading the matmul-bound rows)."""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import genesis.nn.functional as gF
import numpy as np
import torch
from _harness import Case, Contest

TITLE = "Single ops"


def gelu(n: int, approximate: str) -> Contest:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    grad = rng.standard_normal(n).astype(np.float32)

    def side(lib, function):
        inputs, upstream = lib.tensor(x, requires_grad=True), lib.tensor(grad)

        def call():
            inputs.grad = None
            out = function(inputs, approximate=approximate)
            out.backward(upstream)
            return out, inputs.grad

        return call

    return Contest(genesis=side(genesis, gF.gelu),
                   torch={"": side(torch, torch.nn.functional.gelu)})


def matmul(n: int) -> Contest:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, n, n)).astype(np.float32)
    ga, gb, ta, tb = genesis.tensor(a), genesis.tensor(b), torch.tensor(a), torch.tensor(b)
    return Contest(genesis=lambda: genesis.matmul(ga, gb), torch={"": lambda: torch.matmul(ta, tb)})


def cases(smoke: bool) -> list[Case]:
    n = 1024 if smoke else 4 * 2**20
    side = 32 if smoke else 2048
    return [
        Case("GELU (erf) forward + backward, 4M float32", lambda: gelu(n, "none"), 1.0),
        Case("GELU (tanh) forward + backward, 4M float32", lambda: gelu(n, "tanh")),
        Case("matmul 2048×2048 @ 2048×2048 float32", lambda: matmul(side), None,
             "the BLAS libraries: numpy's sgemm (OpenBLAS) against torch's (MKL)"),
    ]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
