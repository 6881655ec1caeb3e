"""Run a genesis optimizer and its torch.optim twin on identical params and gradients."""

from __future__ import annotations

import genesis
import genesis.optim
import numpy as np
import torch

DTYPES = {"float32": (genesis.float32, torch.float32), "float64": (genesis.float64, torch.float64)}
TOL = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-13}}
SHAPES = ((5, 4), (7,), (3, 2, 2))


def assert_matches_torch(name: str, kwargs: dict, dtype: str, *, steps: int = 25,
                         genesis_kwargs: dict | None = None, seed: int = 0) -> None:
    """``steps`` steps of ``genesis.optim.<name>`` vs ``torch.optim.<name>``: params and state."""
    gdt, tdt = DTYPES[dtype]
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    gp = [genesis.tensor(a, dtype=gdt, requires_grad=True) for a in init]
    tp = [torch.tensor(a, dtype=tdt, requires_grad=True) for a in init]
    gopt = getattr(genesis.optim, name)(gp, **kwargs, **(genesis_kwargs or {}))
    topt = getattr(torch.optim, name)(tp, **kwargs)
    for _ in range(steps):
        grads = [rng.standard_normal(s) for s in SHAPES]
        for p, g in zip(gp, grads):
            p.grad = genesis.tensor(g, dtype=gdt)
        for p, g in zip(tp, grads):
            p.grad = torch.tensor(g, dtype=tdt)
        gopt.step()
        topt.step()
        for a, b in zip(gp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL[dtype])
    for a, b in zip(gp, tp):
        gs, ts = gopt.state[a], topt.state[b]
        assert set(gs) == set(ts), (sorted(gs), sorted(ts))
        for key, value in ts.items():
            if key == "step" or not isinstance(gs[key], genesis.Tensor):
                # scalar state (step, NAdam's mu_product, ASGD's eta/mu): a float here
                assert gs[key] == float(value), (key, gs[key], float(value))
            elif value is not None:
                assert gs[key].dtype is gdt
                np.testing.assert_allclose(gs[key].numpy(), value.numpy(), **TOL[dtype])
