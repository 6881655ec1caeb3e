"""Optimizer and scheduler step time: genesis.optim vs torch.optim, side by side in one process.

Run (the OPENBLAS_* variables set on this machine slow numpy down; unset them for benchmarks):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_optim.py [--repeats 7]

Cases: an AdamW step over 50 float32 tensors of 200k elements (10M parameters) and over the
parameters of an MLP 784-2048-2048-10 (5.8M); an SGD-momentum step over the MLP; one
``scheduler.step()`` of genesis ``LambdaLR`` and ``get_cosine_schedule_with_warmup`` vs torch
``LambdaLR``. Each repetition times every contender in turn (interleaved, so machine noise
hits all alike); a repetition's time is the median of ``--steps`` steps, and the printed value
the median over repetitions. torch is timed with foreach=False and foreach=True; the ratio is
Genesis / the faster torch (< 1: Genesis faster).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

import genesis
import genesis.optim
import numpy as np
import torch

MLP = [(2048, 784), (2048,), (2048, 2048), (2048,), (10, 2048), (10,)]
FLAT = [(200_000,)] * 50


def _median_of_steps(step: Callable[[], object], steps: int) -> float:
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _interleaved(contenders: dict[str, Callable[[], object]], repeats: int,
                 steps: int) -> dict[str, float]:
    for step in contenders.values():
        step()  # warm up: state allocation, thread pool, caches
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, step in contenders.items():
            runs[name].append(_median_of_steps(step, steps))
    return {name: statistics.median(ts) for name, ts in runs.items()}


def _params(shapes: list[tuple]) -> tuple[list, list]:
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    gp = [genesis.tensor(a, requires_grad=True) for a in init]
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    for g, t, grad in zip(gp, tp, grads):
        g.grad = genesis.tensor(grad)
        t.grad = torch.tensor(grad)
    return gp, tp


def bench_optimizer(label: str, shapes: list[tuple], name: str, kwargs: dict, repeats: int,
                    steps: int) -> None:
    gp, tp = _params(shapes)
    contenders = {
        "genesis": getattr(genesis.optim, name)(gp, **kwargs).step,
        "torch foreach=False": getattr(torch.optim, name)(tp, foreach=False, **kwargs).step,
        "torch foreach=True": getattr(torch.optim, name)(tp, foreach=True, **kwargs).step,
    }
    ms = {k: v * 1e3 for k, v in _interleaved(contenders, repeats, steps).items()}
    best = min(ms["torch foreach=False"], ms["torch foreach=True"])
    n = sum(math.prod(s) for s in shapes)
    print(f"{label} ({n / 1e6:.1f}M params, {len(shapes)} tensors)")
    for k, v in ms.items():
        print(f"  {k:<22}{v:9.2f} ms")
    print(f"  ratio genesis / best torch: {ms['genesis'] / best:.2f}")


def bench_schedulers(repeats: int, steps: int) -> None:
    gopt = genesis.optim.SGD([genesis.zeros(1, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    glambda = genesis.optim.LambdaLR(gopt, lambda e: 0.95**e)
    gcos = genesis.optim.get_cosine_schedule_with_warmup(gopt, 100, 10**9)
    tlambda = torch.optim.lr_scheduler.LambdaLR(topt, lambda e: 0.95**e)
    topt.step()  # no gradients, a no-op; keeps torch from warning about the step order
    contenders = {"genesis LambdaLR": glambda.step, "genesis cosine+warmup": gcos.step,
                  "torch LambdaLR": tlambda.step}
    us = {k: v * 1e6 for k, v in _interleaved(contenders, repeats, steps).items()}
    print("scheduler.step()")
    for k, v in us.items():
        print(f"  {k:<22}{v:9.2f} us   ratio vs torch LambdaLR: {v / us['torch LambdaLR']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5, help="steps timed per repetition")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads")
    bench_optimizer("AdamW, 50 x 200k", FLAT, "AdamW", {"lr": 1e-3}, args.repeats, args.steps)
    bench_optimizer("AdamW, MLP 784-2048-2048-10", MLP, "AdamW", {"lr": 1e-3}, args.repeats,
                    args.steps)
    bench_optimizer("SGD momentum, MLP 784-2048-2048-10", MLP, "SGD",
                    {"lr": 1e-3, "momentum": 0.9}, args.repeats, args.steps)
    bench_schedulers(args.repeats, 200)


if __name__ == "__main__":
    main()
