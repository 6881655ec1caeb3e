"""Factor schedules behind the ``get_*_schedule`` helpers (transformers' formulas).

Each is a frozen dataclass ``step -> factor`` (``lr = base_lr * factor``); the
helper module wraps them in ``LambdaLR``. ``w`` is ``num_warmup_steps``, ``T``
``num_training_steps``; warmup is ``step / max(1, w)`` as in transformers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from genesis.optim._schedules import FactorSchedule
from genesis.optim._validate import check_choice, check_int, check_number


def _warmup(step: float, num_warmup_steps: int) -> float:
    return step / max(1.0, num_warmup_steps)


def _check_warmup_and_training(num_warmup_steps: int, num_training_steps: int) -> None:
    check_int("num_warmup_steps", num_warmup_steps)
    check_int("num_training_steps", num_training_steps)
    if num_warmup_steps > num_training_steps:
        raise ValueError(
            f"num_warmup_steps must be <= num_training_steps ({num_training_steps}), "
            f"got {num_warmup_steps}"
        )


@dataclass(frozen=True)
class ConstantWithWarmup(FactorSchedule):
    """``step / w`` during warmup, then 1."""

    num_warmup_steps: int
    horizon_fields = ("num_warmup_steps",)
    end_field = "num_warmup_steps"

    def __post_init__(self) -> None:
        check_int("num_warmup_steps", self.num_warmup_steps)

    def __call__(self, step: float) -> float:
        if step < self.num_warmup_steps:
            return _warmup(step, self.num_warmup_steps)
        return 1.0


def _progress(step: float, warmup: int, total: int) -> float:
    """Fraction of the post-warmup phase done at ``step`` (transformers' formula)."""
    return (step - warmup) / max(1.0, total - warmup)


@dataclass(frozen=True)
class _WarmupThenDecay(FactorSchedule):
    """Linear warmup over ``w`` steps, then :meth:`decay` until ``T`` (and after)."""

    num_warmup_steps: int
    num_training_steps: int
    horizon_fields = ("num_warmup_steps", "num_training_steps")
    end_field = "num_training_steps"

    def __post_init__(self) -> None:
        _check_warmup_and_training(self.num_warmup_steps, self.num_training_steps)

    def __call__(self, step: float) -> float:
        if step < self.num_warmup_steps:
            return _warmup(step, self.num_warmup_steps)
        return self.decay(step)  # each subclass defines decay(step)


@dataclass(frozen=True)
class LinearWithWarmup(_WarmupThenDecay):
    """Warmup, then ``max(0, (T - step) / max(1, T - w))``."""

    def decay(self, step: float) -> float:
        remaining = self.num_training_steps - step
        return max(0.0, remaining / max(1.0, self.num_training_steps - self.num_warmup_steps))


@dataclass(frozen=True)
class CosineWithWarmup(_WarmupThenDecay):
    """Warmup, then ``max(0, (1 + cos(2 pi num_cycles p)) / 2)``,
    ``p = (step - w) / max(1, T - w)``."""

    num_cycles: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("num_cycles", self.num_cycles, low=0.0)

    def decay(self, step: float) -> float:
        progress = _progress(step, self.num_warmup_steps, self.num_training_steps)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(self.num_cycles) * 2.0 * progress)))


@dataclass(frozen=True)
class CosineHardRestartsWithWarmup(_WarmupThenDecay):
    """Warmup, then ``num_cycles`` half-cosines from 1 to 0, each restarting at 1; 0 after ``T``."""

    num_cycles: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("num_cycles", self.num_cycles, low=0.0)

    def decay(self, step: float) -> float:
        progress = _progress(step, self.num_warmup_steps, self.num_training_steps)
        if progress >= 1.0:
            return 0.0
        return max(
            0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(self.num_cycles) * progress) % 1.0)))
        )


@dataclass(frozen=True)
class PolynomialDecayWithWarmup(_WarmupThenDecay):
    """Warmup, then
    ``((lr_init - lr_end) * (1 - (step - w) / (T - w)) ** power + lr_end) / lr_init``.

    ``lr_end / lr_init`` after ``T``. ``lr_init`` is the LR the factor is relative to.
    """

    lr_init: float
    lr_end: float = 1e-7
    power: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("lr_init", self.lr_init, low=0.0, low_open=True)
        check_number("lr_end", self.lr_end, low=0.0)
        check_number("power", self.power)
        if not self.lr_init > self.lr_end:
            raise ValueError(
                f"lr_end must be smaller than the initial lr ({self.lr_init}), got {self.lr_end}"
            )

    def decay(self, step: float) -> float:
        if step > self.num_training_steps:
            return self.lr_end / self.lr_init
        decay_steps = self.num_training_steps - self.num_warmup_steps
        pct_remaining = 1 - (step - self.num_warmup_steps) / decay_steps if decay_steps else 0.0
        decay = (self.lr_init - self.lr_end) * pct_remaining**self.power + self.lr_end
        return decay / self.lr_init


@dataclass(frozen=True)
class InverseSqrt(FactorSchedule):
    """Warmup, then ``1 / sqrt((step + timescale - w) / timescale)``."""

    num_warmup_steps: int
    timescale: int
    horizon_fields = ("num_warmup_steps", "timescale")

    def __post_init__(self) -> None:
        check_int("num_warmup_steps", self.num_warmup_steps)
        check_int("timescale", self.timescale, 1)

    def __call__(self, step: float) -> float:
        if step < self.num_warmup_steps:
            return _warmup(step, self.num_warmup_steps)
        shift = self.timescale - self.num_warmup_steps
        return 1.0 / math.sqrt((step + shift) / self.timescale)


@dataclass(frozen=True)
class WarmupStableDecay(FactorSchedule):
    """WSD: warmup from ``min_lr_ratio`` to 1, hold 1, decay back to ``min_lr_ratio``.

    Warmup shapes (``p = step / max(1, w)``): linear ``p``, cosine ``(1 - cos(pi p)) / 2``,
    ``1-sqrt`` ``1 - sqrt(1 - p)``; decay shapes (``p`` through the decay phase): linear
    ``1 - p``, cosine ``(1 + cos(2 pi num_cycles p)) / 2``, ``1-sqrt`` ``1 - sqrt(p)``;
    each mapped to ``f * (1 - min_lr_ratio) + min_lr_ratio``. ``min_lr_ratio`` afterwards.
    """

    num_warmup_steps: int
    num_stable_steps: int
    num_decay_steps: int
    warmup_type: str = "linear"
    decay_type: str = "cosine"
    min_lr_ratio: float = 0.0
    num_cycles: float = 0.5
    horizon_fields = ("num_warmup_steps", "num_stable_steps", "num_decay_steps")

    def __post_init__(self) -> None:
        check_int("num_warmup_steps", self.num_warmup_steps)
        check_int("num_stable_steps", self.num_stable_steps)
        check_int("num_decay_steps", self.num_decay_steps)
        check_choice("warmup_type", self.warmup_type, ("linear", "cosine", "1-sqrt"))
        check_choice("decay_type", self.decay_type, ("linear", "cosine", "1-sqrt"))
        check_number("min_lr_ratio", self.min_lr_ratio, low=0.0, high=1.0)

    @property
    def end(self) -> float | None:
        return self.num_warmup_steps + self.num_stable_steps + self.num_decay_steps

    def __call__(self, step: float) -> float:
        warm, stable = self.num_warmup_steps, self.num_warmup_steps + self.num_stable_steps
        if step < warm:
            p = _warmup(step, warm)
            if self.warmup_type == "linear":
                f = p
            elif self.warmup_type == "cosine":
                f = 0.5 * (1.0 - math.cos(math.pi * p))
            else:
                f = 1.0 - math.sqrt(1.0 - p)
        elif step < stable:
            return 1.0
        elif step < stable + self.num_decay_steps:
            p = (step - stable) / max(1.0, self.num_decay_steps)
            if self.decay_type == "linear":
                f = 1.0 - p
            elif self.decay_type == "cosine":
                f = 0.5 * (1.0 + math.cos(math.pi * float(self.num_cycles) * 2.0 * p))
            else:
                f = 1.0 - math.sqrt(p)
        else:
            return self.min_lr_ratio
        return max(0.0, f * (1.0 - self.min_lr_ratio) + self.min_lr_ratio)


@dataclass(frozen=True)
class Noam(FactorSchedule):
    """``d_model ** -0.5 * min(s ** -0.5, s * warmup_steps ** -1.5)`` with ``s = max(step, 1)``.

    Step 0 is evaluated as step 1 (as the Annotated Transformer does) instead of
    dividing by zero, so the first update already uses a small non-zero LR.
    """

    d_model: int
    warmup_steps: int
    horizon_fields = ("warmup_steps",)

    def __post_init__(self) -> None:
        check_int("d_model", self.d_model, 1)
        check_int("warmup_steps", self.warmup_steps, 1)

    def __call__(self, step: float) -> float:
        s = max(step, 1)
        return self.d_model**-0.5 * min(s**-0.5, s * self.warmup_steps**-1.5)


@dataclass(frozen=True)
class PolynomialDecay(FactorSchedule):
    """Warmup ``step / w``, then
    ``end + (1 - end) * (1 - min(step - w, T - w) / (T - w)) ** power``.

    ``end`` is ``end_factor``; 0 at step 0 (1 if ``w == 0``), 1 at ``w``, ``end_factor`` from ``T``.
    """

    num_training_steps: int
    power: float = 1.0
    end_factor: float = 0.0
    num_warmup_steps: int = 0
    horizon_fields = ("num_warmup_steps", "num_training_steps")
    end_field = "num_training_steps"

    def __post_init__(self) -> None:
        check_int("num_training_steps", self.num_training_steps, 1)
        _check_warmup_and_training(self.num_warmup_steps, self.num_training_steps)
        check_number("power", self.power, low=0.0, low_open=True)
        check_number("end_factor", self.end_factor, low=0.0, high=1.0)

    def __call__(self, step: float) -> float:
        w = self.num_warmup_steps
        if step < w:
            return step / w
        span = self.num_training_steps - w
        remaining = 1.0 - min(step - w, span) / span if span else 0.0
        return self.end_factor + (1.0 - self.end_factor) * remaining**self.power


@dataclass(frozen=True)
class CosineRestarts(FactorSchedule):
    """Warmup ``step / w``, then SGDR: with ``t = step - w``, cycle ``k`` lasts
    ``T_k = cycle_steps * cycle_mult ** k`` steps and follows
    ``min_factor + (cycle_decay ** k - min_factor) * (1 + cos(pi * t_k / T_k)) / 2``
    (``t_k``: the step within cycle ``k``). 1 at the start of the first cycle.
    """

    cycle_steps: int
    cycle_mult: int = 1
    min_factor: float = 0.0
    cycle_decay: float = 1.0
    num_warmup_steps: int = 0
    horizon_fields = ("num_warmup_steps", "cycle_steps", "cycle_mult")

    def __post_init__(self) -> None:
        check_int("cycle_steps", self.cycle_steps, 1)
        check_int("cycle_mult", self.cycle_mult, 1)
        check_number("min_factor", self.min_factor, low=0.0, high=1.0)
        check_number("cycle_decay", self.cycle_decay, low=0.0, high=1.0, low_open=True)
        check_int("num_warmup_steps", self.num_warmup_steps)

    def __call__(self, step: float) -> float:
        if step < self.num_warmup_steps:
            return step / self.num_warmup_steps
        t = step - self.num_warmup_steps
        if self.cycle_mult == 1:
            k, start, length = (
                int(t // self.cycle_steps),
                (t // self.cycle_steps) * self.cycle_steps,
                self.cycle_steps,
            )
        else:
            k, start, length = 0, 0, self.cycle_steps
            while t >= start + length:
                k, start, length = k + 1, start + length, length * self.cycle_mult
        peak = self.cycle_decay**k
        cosine = (1.0 + math.cos(math.pi * (t - start) / length)) / 2.0
        return self.min_factor + (peak - self.min_factor) * cosine
