"""Optimizer and scheduler steps: genesis.optim against torch.optim's fastest CPU option.

An optimizer row times Genesis's default against each of PyTorch's ways to run the same
optimizer -- its default (a per-tensor loop on CPU), ``foreach=True`` and ``fused=True``
-- each on its own copy of the same parameters and gradients; the fastest wins and is named.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import genesis
import genesis.optim
import numpy as np
import torch
from _harness import Case, Contest
from _twins import optimizer_options

TITLE = "Optimizer and scheduler steps"
MLP_SHAPES = [(2048, 784), (2048,), (2048, 2048), (2048,), (10, 2048), (10,)]


def optimizer_step(shapes: list[tuple], name: str, hyper: dict) -> Contest:
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]

    def stepper(lib, optimizer, **options):
        params = [lib.tensor(v, requires_grad=True) for v in values]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g)
        opt = optimizer(params, **hyper, **options)

        def step():
            opt.step()
            return params

        return step

    return Contest(
        genesis=stepper(genesis, getattr(genesis.optim, name)),
        torch={label: stepper(torch, getattr(torch.optim, name), **options)
               for label, options in optimizer_options(name).items()},
        tol=1e-5)


def lambda_factor(epoch: int) -> float:
    return 0.95**epoch


def cosine_with_warmup(warmup: int, total: int):
    """transformers' get_cosine_schedule_with_warmup factor, for torch's LambdaLR."""
    def factor(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))

    return factor


def scheduler_step(genesis_schedule, torch_factor) -> Contest:
    g_opt = genesis.optim.SGD([genesis.zeros(1, requires_grad=True)], lr=0.1)
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    g_sched = genesis_schedule(g_opt)
    t_sched = torch.optim.lr_scheduler.LambdaLR(t_opt, torch_factor)
    t_opt.step()  # no gradients, a no-op; keeps torch from warning about the step order

    def g_step():
        g_sched.step()
        return g_sched.get_last_lr()

    def t_step():
        t_sched.step()
        return t_sched.get_last_lr()

    return Contest(genesis=g_step, torch={"": t_step}, tol=1e-6)


def cases(smoke: bool) -> list[Case]:
    flat = [(1000,)] * 5 if smoke else [(200_000,)] * 50
    mlp = [(16, 8), (16,), (4, 16), (4,)] if smoke else MLP_SHAPES
    warmup, total = 100, 10**9
    return [
        Case("AdamW step, 10M params in 50 tensors",
             lambda: optimizer_step(flat, "AdamW", {"lr": 1e-3}), 1.0),
        Case("AdamW step, wide MLP's 5.8M params (784-2048-2048-10)",
             lambda: optimizer_step(mlp, "AdamW", {"lr": 1e-3}), 1.0),
        Case("SGD momentum step, wide MLP's 5.8M params",
             lambda: optimizer_step(mlp, "SGD", {"lr": 1e-3, "momentum": 0.9}), 1.0),
        Case("scheduler.step(), LambdaLR",
             lambda: scheduler_step(lambda o: genesis.optim.LambdaLR(o, lambda_factor),
                                    lambda_factor), 1.0),
        Case("scheduler.step(), cosine with warmup (torch: LambdaLR of the same formula)",
             lambda: scheduler_step(
                 lambda o: genesis.optim.get_cosine_schedule_with_warmup(o, warmup, total),
                 cosine_with_warmup(warmup, total)), 1.0),
    ]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
