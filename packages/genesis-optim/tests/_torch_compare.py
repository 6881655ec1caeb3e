"""One helper comparing a genesis scheduler with torch's, step by step, on real SGD/Adam."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

LRS = (0.1, 0.05, 0.3)


def make_optimizer(kind: str = "sgd", lrs: tuple[float, ...] = LRS) -> torch.optim.Optimizer:
    """A torch optimizer with one param group per LR in ``lrs``."""
    groups = [{"params": [torch.nn.Parameter(torch.ones(2))], "lr": lr} for lr in lrs]
    if kind == "adam":
        return torch.optim.Adam(groups, lr=lrs[0])
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-17)


def assert_same_lrs(
    make_torch: Callable[[torch.optim.Optimizer], Any],
    make_ours: Callable[[torch.optim.Optimizer], Any],
    steps: int,
    *,
    kind: str = "sgd",
    lrs: tuple[float, ...] = LRS,
    epochs: list[float] | None = None,
    momentum: bool = False,
    rel: float = 1e-12,
) -> list[list[float]]:
    """Step both schedulers ``steps`` times (or through ``epochs``); LRs must agree each step.

    Returns our per-step LRs (step 0 included).
    """
    opt_t, opt_g = make_optimizer(kind, lrs), make_optimizer(kind, lrs)
    sched_t, sched_g = make_torch(opt_t), make_ours(opt_g)
    seen = []
    schedule = epochs if epochs is not None else [None] * steps
    for i, epoch in enumerate([None, *schedule]):
        if i:
            opt_t.step()
            opt_g.step()
            if epoch is None:
                sched_t.step()
                sched_g.step()
            else:
                sched_t.step(epoch)
                sched_g.step(epoch)
        want = [g["lr"] for g in opt_t.param_groups]
        got = [g["lr"] for g in opt_g.param_groups]
        assert all(close(w, g, rel) for w, g in zip(want, got)), (i, want, got)
        assert list(sched_g.get_last_lr()) == got
        if momentum:
            key = "betas" if kind == "adam" else "momentum"
            for gt, gg in zip(opt_t.param_groups, opt_g.param_groups):
                w = gt[key][0] if kind == "adam" else gt[key]
                g = gg[key][0] if kind == "adam" else gg[key]
                assert close(w, g, rel), (i, key, w, g)
        seen.append(got)
    return seen
