"""``get_*_schedule`` helpers with transformers' signatures and formulas.

Each returns a ``LambdaLR`` whose ``lr_lambda`` is a schedule object (a frozen
dataclass), not a closure, so its parameters travel in ``state_dict()`` and a
resumed run continues exactly. ``w`` = ``num_warmup_steps``, ``T`` =
``num_training_steps``, ``lr = base_lr * factor(step)``.

All helpers check their arguments (step counts are non-negative integers,
``w <= T``, every param group's LR is positive) and raise ValueError naming the
argument, its value and what was expected.
"""

from __future__ import annotations

import warnings
from typing import Any

from genesis.optim._schedules import Constant, StepDecay, WithWarmup
from genesis.optim._validate import check_int, check_positive_lrs
from genesis.optim._warmup_schedules import (
    ConstantWithWarmup,
    CosineHardRestartsWithWarmup,
    CosineRestarts,
    CosineWithWarmup,
    InverseSqrt,
    LinearWithWarmup,
    Noam,
    PolynomialDecay,
    PolynomialDecayWithWarmup,
    WarmupStableDecay,
)
from genesis.optim.lr_scheduler import LambdaLR

__all__ = [
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_restarts_schedule",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule",
    "get_polynomial_decay_schedule_with_warmup",
    "get_step_decay_schedule",
    "get_transformer_schedule",
    "get_wsd_schedule",
]


def _lambda_lr(optimizer: Any, schedule: Any, last_epoch: int) -> LambdaLR:
    check_positive_lrs(optimizer)
    check_int("last_epoch", last_epoch + 1)
    return LambdaLR(optimizer, schedule, last_epoch)


def get_constant_schedule(optimizer: Any, last_epoch: int = -1) -> LambdaLR:
    """Factor 1 at every step: the optimizer's LR, unchanged."""
    return _lambda_lr(optimizer, Constant(1.0), last_epoch)


def get_constant_schedule_with_warmup(
    optimizer: Any, num_warmup_steps: int, last_epoch: int = -1
) -> LambdaLR:
    """``step / max(1, w)`` for ``step < w``, then 1. Step 0: 0; from step ``w``: ``base_lr``."""
    return _lambda_lr(optimizer, ConstantWithWarmup(num_warmup_steps), last_epoch)


def get_linear_schedule_with_warmup(
    optimizer: Any, num_warmup_steps: int, num_training_steps: int, last_epoch: int = -1
) -> LambdaLR:
    """Warmup, then ``max(0, (T - step) / max(1, T - w))``.

    Step 0: 0 (``base_lr`` if ``w == 0``); step ``w``: ``base_lr``; step ``T``: 0.
    """
    return _lambda_lr(optimizer, LinearWithWarmup(num_warmup_steps, num_training_steps), last_epoch)


def get_cosine_schedule_with_warmup(
    optimizer: Any,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> LambdaLR:
    """Warmup, then ``max(0, (1 + cos(2 pi num_cycles p)) / 2)``
    with ``p = (step - w) / max(1, T - w)``.

    Step 0: 0; step ``w``: ``base_lr``; step ``T``: 0 for the default ``num_cycles=0.5``.
    """
    return _lambda_lr(
        optimizer, CosineWithWarmup(num_warmup_steps, num_training_steps, num_cycles), last_epoch
    )


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer: Any,
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: int = 1,
    last_epoch: int = -1,
) -> LambdaLR:
    """Warmup, then ``num_cycles`` half cosines ``(1 + cos(pi ((num_cycles p) mod 1))) / 2``;
    0 from ``T``.

    Step 0: 0; step ``w``: ``base_lr``; step ``T``: 0.
    """
    schedule = CosineHardRestartsWithWarmup(num_warmup_steps, num_training_steps, num_cycles)
    return _lambda_lr(optimizer, schedule, last_epoch)


def get_polynomial_decay_schedule_with_warmup(
    optimizer: Any,
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    last_epoch: int = -1,
) -> LambdaLR:
    """Warmup, then ``lr = (lr_init - lr_end) * (1 - (step - w) / (T - w)) ** power + lr_end``.

    ``lr_init`` is each group's own initial LR (transformers takes
    ``optimizer.defaults["lr"]`` for all groups: the same for one group or equal
    LRs), so every group ends at ``lr_end``. Step 0: 0; step ``w``: ``lr_init``;
    from step ``T``: ``lr_end``. ``lr_end`` must be below every group's LR.
    """
    lrs = check_positive_lrs(optimizer)
    inits = [g.get("initial_lr", lr) for g, lr in zip(optimizer.param_groups, lrs)]
    schedules = [
        PolynomialDecayWithWarmup(num_warmup_steps, num_training_steps, lr, lr_end, power)
        for lr in inits
    ]
    return _lambda_lr(optimizer, schedules, last_epoch)


def get_inverse_sqrt_schedule(
    optimizer: Any, num_warmup_steps: int, timescale: int | None = None, last_epoch: int = -1
) -> LambdaLR:
    """Warmup, then ``1 / sqrt((step + timescale - w) / timescale)``.

    ``timescale`` defaults to ``w`` (10 000 if ``w == 0``). Step 0: 0; step ``w``: ``base_lr``;
    it then decays like ``1 / sqrt(step)`` forever.
    """
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    return _lambda_lr(optimizer, InverseSqrt(num_warmup_steps, timescale), last_epoch)


def get_wsd_schedule(
    optimizer: Any,
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> LambdaLR:
    """Warmup-stable-decay: ``min_lr_ratio -> 1`` over ``w``, 1 for the stable steps, back to
    ``min_lr_ratio`` over ``num_decay_steps`` (shapes in ``WarmupStableDecay``).

    ``num_stable_steps`` defaults to ``T - w - num_decay_steps``; if both are given it wins
    (with a warning, as in transformers). Step 0: ``min_lr_ratio``; step ``w``: 1;
    end: ``min_lr_ratio``.
    """
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError(
            "get_wsd_schedule needs num_training_steps or num_stable_steps; got neither"
        )
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn(
            "Both num_training_steps and num_stable_steps are given; num_stable_steps is used.",
            stacklevel=2,
        )
    if num_stable_steps is None:
        check_int("num_training_steps", num_training_steps)
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
        if num_stable_steps < 0:
            raise ValueError(
                f"num_training_steps must be >= num_warmup_steps + num_decay_steps "
                f"({num_warmup_steps + num_decay_steps}), got {num_training_steps}"
            )
    schedule = WarmupStableDecay(
        num_warmup_steps,
        num_stable_steps,
        num_decay_steps,
        warmup_type,
        decay_type,
        min_lr_ratio,
        num_cycles,
    )
    return _lambda_lr(optimizer, schedule, last_epoch)


def get_transformer_schedule(
    optimizer: Any, d_model: int, warmup_steps: int, last_epoch: int = -1
) -> LambdaLR:
    """The Noam schedule of "Attention Is All You Need":
    ``d_model ** -0.5 * min(step ** -0.5, step * warmup_steps ** -1.5)``.

    Step 0 is computed as step 1 (as the Annotated Transformer does), avoiding ``0 ** -0.5``.
    Peak ``d_model ** -0.5 * warmup_steps ** -0.5`` at ``warmup_steps``, then ``~ step ** -0.5``.
    Usually paired with an optimizer LR of 1.0 (the factor is the LR).
    """
    return _lambda_lr(optimizer, Noam(d_model, warmup_steps), last_epoch)


def get_step_decay_schedule(
    optimizer: Any,
    step_size: int,
    gamma: float = 0.1,
    num_warmup_steps: int = 0,
    last_epoch: int = -1,
) -> LambdaLR:
    """Warmup ``step / w``, then ``gamma ** ((step - w) // step_size)``.

    Step 0: 0 (``base_lr`` if ``w == 0``); step ``w``: ``base_lr``; multiplied by ``gamma``
    every ``step_size`` steps after that.
    """
    schedule = WithWarmup(StepDecay(step_size, gamma), num_warmup_steps)
    return _lambda_lr(optimizer, schedule, last_epoch)


def get_polynomial_decay_schedule(
    optimizer: Any,
    num_training_steps: int,
    power: float = 1.0,
    end_factor: float = 0.0,
    num_warmup_steps: int = 0,
    last_epoch: int = -1,
) -> LambdaLR:
    """Warmup, then ``end_factor + (1 - end_factor) * (1 - (step - w) / (T - w)) ** power``.

    Step 0: 0 (``base_lr`` if ``w == 0``); step ``w``: ``base_lr``;
    from ``T``: ``end_factor * base_lr``.
    """
    schedule = PolynomialDecay(num_training_steps, power, end_factor, num_warmup_steps)
    return _lambda_lr(optimizer, schedule, last_epoch)


def get_cosine_restarts_schedule(
    optimizer: Any,
    cycle_steps: int,
    cycle_mult: int = 1,
    min_factor: float = 0.0,
    cycle_decay: float = 1.0,
    num_warmup_steps: int = 0,
    last_epoch: int = -1,
) -> LambdaLR:
    """Warmup, then SGDR cycles: cycle ``k`` lasts ``cycle_steps * cycle_mult ** k`` steps and goes
    from ``cycle_decay ** k`` to ``min_factor`` along ``(1 + cos(pi t / T_k)) / 2``.

    Step 0: 0 (``base_lr`` if ``w == 0``); step ``w``: ``base_lr``; restarts at each cycle start.
    """
    schedule = CosineRestarts(cycle_steps, cycle_mult, min_factor, cycle_decay, num_warmup_steps)
    return _lambda_lr(optimizer, schedule, last_epoch)
