"""Genesis vs PyTorch (CPU) in one process: MLP training steps and the eager-dispatch loop.

Ratio = Genesis time / PyTorch time (below 1.0: Genesis is faster).
Run with ``nox -s bench`` (which unsets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

import genesis
import genesis.nn as gnn
import genesis.nn.functional as gF

sys.path.insert(0, str(Path(__file__).parent))
from _harness import median_seconds, print_table  # noqa: E402


def mlp_step_pair(sizes: tuple, batch: int = 128, lr: float = 0.01):
    """One SGD training step (forward, cross-entropy, backward, update) in each library."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)

    def layers(lib):
        mods = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(lib.Linear(a, b))
            if i < len(sizes) - 2:
                mods.append(lib.ReLU())
        return lib.Sequential(*mods)

    gmodel, tmodel = layers(gnn), layers(torch.nn)
    gx, gy = genesis.tensor(x), genesis.tensor(y)
    tx, ty = torch.tensor(x), torch.tensor(y)
    gparams, tparams = list(gmodel.parameters()), list(tmodel.parameters())

    def g_step():
        loss = gF.cross_entropy(gmodel(gx), gy)
        for p in gparams:
            p.grad = None
        loss.backward()
        with genesis.no_grad():
            for p in gparams:
                p.sub_(p.grad, alpha=lr)

    def t_step():
        loss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
        for p in tparams:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in tparams:
                p.sub_(p.grad, alpha=lr)

    return g_step, t_step


def eager_pair():
    a = genesis.randn(16, 16, requires_grad=True)
    b = genesis.randn(16, 16, requires_grad=True)
    ta = torch.randn(16, 16, requires_grad=True)
    tb = torch.randn(16, 16, requires_grad=True)
    return (lambda: (a * b).sum().backward()), (lambda: (ta * tb).sum().backward())


def main() -> None:
    rows = []
    for name, (g, t) in [
        ("MLP step 784-2048-2048-10, batch 128, SGD", mlp_step_pair((784, 2048, 2048, 10))),
        ("MLP step 784-256-10, batch 128, SGD", mlp_step_pair((784, 256, 10))),
        ("eager (a*b).sum().backward() 16x16", eager_pair()),
    ]:
        tg = median_seconds(g, repeats=9)
        tt = median_seconds(t, repeats=9)
        rows.append((name, tg, tt, "s"))
    print_table("Genesis vs PyTorch: training-step medians", rows)


if __name__ == "__main__":
    main()
