"""LR range test (Smith 2017, fastai's ``lr_find``) over any ``param_groups`` optimizer.

The test trains with an LR growing exponentially from ``start_lr`` to ``end_lr``,
records the loss of each step, smooths it with a bias-corrected exponential
moving average, stops when the smoothed loss exceeds ``diverge_threshold`` times
the best one (or is not finite) and suggests the LR where the smoothed loss
falls fastest against ``log(lr)``.

It needs only ``optimizer.param_groups`` and a ``train_step()`` that runs one
training step (forward, backward, ``optimizer.step()``) and returns the loss as
a float. The optimizer's LRs are restored afterwards; the model's weights are
not (they were trained): save and reload them around the test if needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from genesis.optim._validate import check_int, check_number, param_groups

__all__ = ["LRRangeTestResult", "lr_range_test"]


@dataclass(frozen=True)
class LRRangeTestResult:
    """What the range test saw: per step the LR, the raw loss and the smoothed loss."""

    lrs: list[float]
    losses: list[float]
    smoothed_losses: list[float]
    suggestion: float | None
    diverged: bool


def lr_range_test(
    optimizer: Any,
    train_step: Callable[[], float],
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    diverge_threshold: float = 4.0,
) -> LRRangeTestResult:
    """Sweep ``lr_i = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))`` over every group.

    Args:
        optimizer: anything with ``param_groups``.
        train_step: runs one training step at the current LR and returns its loss.
        start_lr, end_lr: the sweep's first and last LR (``0 < start_lr < end_lr``).
        num_steps: number of training steps (>= 2).
        smoothing: EMA factor ``beta``: ``avg = beta * avg + (1 - beta) * loss``,
            reported as ``avg / (1 - beta ** (i + 1))``.
        diverge_threshold: stop once the smoothed loss exceeds this multiple of the best.

    Returns:
        The LRs tried, raw and smoothed losses, whether the loss diverged, and the
        suggested LR (steepest descent of the smoothed loss in ``log(lr)``; None with
        fewer than 3 points).
    """
    groups = param_groups(optimizer)
    check_number("start_lr", start_lr, low=0.0, low_open=True)
    check_number("end_lr", end_lr, low=start_lr, low_open=True)
    check_int("num_steps", num_steps, 2)
    check_number("smoothing", smoothing, low=0.0, high=1.0, high_open=True)
    check_number("diverge_threshold", diverge_threshold, low=1.0, low_open=True)
    saved = [g["lr"] for g in groups]
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    avg, best, diverged = 0.0, math.inf, False
    try:
        for i in range(num_steps):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
            for g in groups:
                g["lr"] = lr
            loss = float(train_step())
            avg = smoothing * avg + (1 - smoothing) * loss
            value = avg / (1 - smoothing ** (i + 1))
            lrs.append(lr)
            losses.append(loss)
            smoothed.append(value)
            best = min(best, value)
            if not math.isfinite(value) or value > diverge_threshold * best:
                diverged = True
                break
    finally:
        for g, lr in zip(groups, saved):
            g["lr"] = lr
    return LRRangeTestResult(lrs, losses, smoothed, _steepest(lrs, smoothed), diverged)


def _steepest(lrs: list[float], smoothed: list[float]) -> float | None:
    """The LR at the most negative central-difference slope of ``smoothed`` in ``log(lr)``."""
    points = [(lr, s) for lr, s in zip(lrs, smoothed) if math.isfinite(s)]
    if len(points) < 3:
        return None
    slopes = [
        (
            (points[i + 1][1] - points[i - 1][1]) / math.log(points[i + 1][0] / points[i - 1][0]),
            points[i][0],
        )
        for i in range(1, len(points) - 1)
    ]
    return min(slopes)[1]
