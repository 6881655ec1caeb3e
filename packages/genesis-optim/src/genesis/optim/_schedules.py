"""Schedules: small frozen dataclasses mapping a step to a learning rate.

A schedule is data, not a closure: its type name and fields are its whole
state, so ``to_dict()`` / ``schedule_from_dict()`` round-trip it through a
checkpoint as plain JSON. Most schedules are *factor* schedules: callables
``step -> factor`` with ``lr = base_lr * factor(step)`` (PyTorch's meaning),
so they also work as ``LambdaLR``'s ``lr_lambda``. A few torch schedules hold
absolute values (``eta_min``); they implement ``lr(base_lr, step)`` directly.

Horizon: ``horizon()`` lists the fields that are step counts (warmup,
``T_max``, milestones, ...) and ``end`` is the step where the schedule ends,
if it does. Schedulers use them to guard resumed runs against a changed plan.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from genesis.optim._validate import check_choice, check_int, check_number

_REGISTRY: dict[str, type[Schedule]] = {}


@dataclass(frozen=True)
class Schedule:
    """Base class: ``lr(base_lr, step)`` plus plain-data (de)serialisation."""

    horizon_fields: ClassVar[tuple[str, ...]] = ()
    end_field: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):  # shared private bases are not loadable types
            _REGISTRY[cls.__name__] = cls

    def lr(self, base_lr: float, step: float) -> float:
        """The learning rate at ``step`` for a group whose base LR is ``base_lr``."""
        raise NotImplementedError

    def horizon(self) -> dict[str, Any]:
        """The step-count parameters of this schedule, as plain data."""
        return {name: _plain(getattr(self, name)) for name in self.horizon_fields}

    @property
    def end(self) -> float | None:
        """The step at which the schedule reaches its final value (None: never)."""
        return None if self.end_field is None else getattr(self, self.end_field)

    def to_dict(self) -> dict[str, Any] | None:
        """``{"type": name, **fields}`` as plain data, or None if a field is a function."""
        out: dict[str, Any] = {"type": type(self).__name__}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Schedule):
                value = value.to_dict()
                if value is None:
                    return None
            elif callable(value):
                return None
            out[f.name] = _plain(value)
        return out


class FactorSchedule(Schedule):
    """A schedule that is a multiplier of the base LR: ``lr = base_lr * self(step)``."""

    def __call__(self, step: float) -> float:
        raise NotImplementedError

    def lr(self, base_lr: float, step: float) -> float:
        return base_lr * self(step)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def schedule_from_dict(data: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from ``to_dict()`` output; only registered types load."""
    kwargs = dict(data)
    name = kwargs.pop("type", None)
    cls = _REGISTRY.get(name)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"schedule type must be one of {sorted(_REGISTRY)}, got {name!r}")
    for key, value in kwargs.items():
        if isinstance(value, dict) and "type" in value:
            kwargs[key] = schedule_from_dict(value)
        elif isinstance(value, list):
            kwargs[key] = tuple(value)
    return cls(**kwargs)


@dataclass(frozen=True)
class UserFactor(FactorSchedule):
    """Wraps a user function ``step -> factor``; it cannot be saved (``to_dict`` is None)."""

    fn: Any

    def __call__(self, step: float) -> float:
        return self.fn(step)


@dataclass(frozen=True)
class Constant(FactorSchedule):
    """``factor`` at every step."""

    factor: float = 1.0

    def __call__(self, step: float) -> float:
        return self.factor


@dataclass(frozen=True)
class ConstantUntil(FactorSchedule):
    """``factor`` for ``step < total_iters``, then 1 (torch ``ConstantLR``)."""

    factor: float = 1.0 / 3
    total_iters: int = 5
    horizon_fields = ("total_iters",)
    end_field = "total_iters"

    def __post_init__(self) -> None:
        check_number("factor", self.factor, low=0.0, high=1.0)
        check_int("total_iters", self.total_iters)

    def __call__(self, step: float) -> float:
        return self.factor if step < self.total_iters else 1.0


@dataclass(frozen=True)
class Linear(FactorSchedule):
    """``start + (end - start) * min(step, total_iters) / total_iters`` (torch ``LinearLR``)."""

    start_factor: float = 1.0 / 3
    end_factor: float = 1.0
    total_iters: int = 5
    horizon_fields = ("total_iters",)
    end_field = "total_iters"

    def __post_init__(self) -> None:
        check_number("start_factor", self.start_factor, low=0.0, high=1.0, low_open=True)
        check_number("end_factor", self.end_factor, low=0.0, high=1.0)
        check_int("total_iters", self.total_iters, 1)

    def __call__(self, step: float) -> float:
        progress = min(step, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * progress


@dataclass(frozen=True)
class StepDecay(FactorSchedule):
    """``gamma ** (step // step_size)`` (torch ``StepLR``)."""

    step_size: int
    gamma: float = 0.1
    horizon_fields = ("step_size",)

    def __post_init__(self) -> None:
        check_int("step_size", self.step_size, 1)
        check_number("gamma", self.gamma)

    def __call__(self, step: float) -> float:
        return self.gamma ** (step // self.step_size)


@dataclass(frozen=True)
class MultiStepDecay(FactorSchedule):
    """``gamma ** (number of milestones <= step)`` (torch ``MultiStepLR``)."""

    milestones: tuple[int, ...]
    gamma: float = 0.1
    horizon_fields = ("milestones",)

    def __post_init__(self) -> None:
        for m in self.milestones:
            check_int("milestones", m)
        if list(self.milestones) != sorted(self.milestones):
            raise ValueError(
                f"milestones must be sorted increasingly, got {list(self.milestones)!r}"
            )
        check_number("gamma", self.gamma)

    @property
    def end(self) -> float | None:
        return self.milestones[-1] if self.milestones else None

    def __call__(self, step: float) -> float:
        return self.gamma ** bisect_right(self.milestones, step)


@dataclass(frozen=True)
class Exponential(FactorSchedule):
    """``gamma ** step`` (torch ``ExponentialLR``)."""

    gamma: float

    def __post_init__(self) -> None:
        check_number("gamma", self.gamma)

    def __call__(self, step: float) -> float:
        return self.gamma**step


@dataclass(frozen=True)
class Polynomial(FactorSchedule):
    """``(1 - min(step, total_iters) / total_iters) ** power`` (torch ``PolynomialLR``)."""

    total_iters: int = 5
    power: float = 1.0
    horizon_fields = ("total_iters",)
    end_field = "total_iters"

    def __post_init__(self) -> None:
        check_int("total_iters", self.total_iters, 1)
        check_number("power", self.power)

    def __call__(self, step: float) -> float:
        return (1.0 - min(step, self.total_iters) / self.total_iters) ** self.power


@dataclass(frozen=True)
class CosineAnnealing(Schedule):
    """``eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2``.

    torch ``CosineAnnealingLR``; past ``T_max`` the cosine continues (period ``2 T_max``).
    """

    T_max: int
    eta_min: float = 0.0
    horizon_fields = ("T_max",)
    end_field = "T_max"

    def __post_init__(self) -> None:
        check_int("T_max", self.T_max, 1)
        check_number("eta_min", self.eta_min)

    def lr(self, base_lr: float, step: float) -> float:
        cosine = (1.0 + math.cos(math.pi * step / self.T_max)) / 2.0
        return self.eta_min + (base_lr - self.eta_min) * cosine


@dataclass(frozen=True)
class CosineWarmRestarts(Schedule):
    """SGDR: cosine from ``base_lr`` to ``eta_min`` over cycles ``T_0, T_0*T_mult, ...``.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2`` where
    ``T_cur`` is the (possibly fractional) step within the current cycle of length ``T_i``.
    """

    T_0: int
    T_mult: int = 1
    eta_min: float = 0.0
    horizon_fields = ("T_0", "T_mult")

    def __post_init__(self) -> None:
        check_int("T_0", self.T_0, 1)
        check_int("T_mult", self.T_mult, 1)
        check_number("eta_min", self.eta_min)

    def position(self, step: float) -> tuple[float, float]:
        """``(T_cur, T_i)`` for ``step``: the step inside its cycle and the cycle length."""
        if self.T_mult == 1:
            return step % self.T_0, float(self.T_0)
        start, length = 0, self.T_0
        while step >= start + length:
            start, length = start + length, length * self.T_mult
        return step - start, float(length)

    def lr(self, base_lr: float, step: float) -> float:
        t_cur, t_i = self.position(step)
        return (
            self.eta_min + (base_lr - self.eta_min) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0
        )


@dataclass(frozen=True)
class WithWarmup(FactorSchedule):
    """Linear warmup ``step / num_warmup_steps`` then ``inner(step - num_warmup_steps)``."""

    inner: FactorSchedule
    num_warmup_steps: int = 0

    def __post_init__(self) -> None:
        check_int("num_warmup_steps", self.num_warmup_steps)

    def horizon(self) -> dict[str, Any]:
        return {"num_warmup_steps": self.num_warmup_steps, "inner": self.inner.horizon()}

    @property
    def end(self) -> float | None:
        inner_end = self.inner.end
        return None if inner_end is None else inner_end + self.num_warmup_steps

    def __call__(self, step: float) -> float:
        if step < self.num_warmup_steps:
            return step / self.num_warmup_steps
        return self.inner(step - self.num_warmup_steps)


@dataclass(frozen=True)
class Rescaled(Schedule):
    """``inner`` with its remaining steps after ``start`` stretched from ``old_end`` to ``new_end``.

    ``lr(s) = inner.lr(start + (s - start) * (old_end - start) / (new_end - start))`` for
    ``s >= start`` and ``inner.lr(s)`` before: no jump at ``start``, the final value at ``new_end``.
    """

    inner: Schedule
    start: float
    old_end: float
    new_end: float

    def __post_init__(self) -> None:
        if not (self.old_end > self.start and self.new_end > self.start):
            raise ValueError(
                f"cannot rescale a schedule at step {self.start}: both horizons must lie ahead, "
                f"got saved end {self.old_end!r} and new end {self.new_end!r}"
            )

    def horizon(self) -> dict[str, Any]:
        h = self.inner.horizon()
        key = self.inner.end_field
        if key is not None and key in h:
            h[key] = self.new_end
        return h

    @property
    def end(self) -> float | None:
        return self.new_end

    def inner_step(self, step: float) -> float:
        """The step of ``inner`` that ``step`` maps to."""
        if step <= self.start:
            return step
        ratio = (self.old_end - self.start) / (self.new_end - self.start)
        return self.start + (step - self.start) * ratio

    def lr(self, base_lr: float, step: float) -> float:
        return self.inner.lr(base_lr, self.inner_step(step))


def anneal(start: float, end: float, pct: float, strategy: str) -> float:
    """Go from ``start`` (pct 0) to ``end`` (pct 1) along a half cosine or a line."""
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


@dataclass(frozen=True)
class OneCycle(FactorSchedule):
    """The 1cycle policy (torch ``OneCycleLR``) as a factor of ``initial_lr = max_lr / div_factor``.

    Two phases: ``1 -> div_factor`` until step ``pct_start * total_steps - 1``, then
    ``div_factor -> 1 / final_div_factor`` at ``total_steps - 1``. With ``three_phase``:
    ``1 -> div_factor -> 1`` symmetric, then ``1 -> 1 / final_div_factor``.
    """

    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    horizon_fields = ("total_steps",)
    end_field = "total_steps"

    def __post_init__(self) -> None:
        check_int("total_steps", self.total_steps, 1)
        check_number("pct_start", self.pct_start, low=0.0, high=1.0)
        check_choice("anneal_strategy", self.anneal_strategy, ("cos", "linear"))
        check_number("div_factor", self.div_factor, low=0.0, low_open=True)
        check_number("final_div_factor", self.final_div_factor, low=0.0, low_open=True)

    def phase(self, step: float) -> tuple[int, float]:
        """``(phase index, fraction of that phase done)`` at ``step``."""
        if step > self.total_steps:
            raise ValueError(
                f"step must be <= total_steps ({self.total_steps}) for OneCycle, got {step!r}"
            )
        up = float(self.pct_start * self.total_steps) - 1
        ends = [up, float(2 * self.pct_start * self.total_steps) - 2] if self.three_phase else [up]
        ends.append(self.total_steps - 1)
        start = 0.0
        for i, end in enumerate(ends):
            if step <= end or i == len(ends) - 1:
                return i, (step - start) / (end - start)
            start = end
        raise AssertionError("unreachable")

    def interpolate(self, points: list[tuple[float, float]], step: float) -> float:
        """Anneal between the ``(start, end)`` pair of the phase that ``step`` is in."""
        i, pct = self.phase(step)
        return anneal(points[i][0], points[i][1], pct, self.anneal_strategy)

    def momentum(self, base_momentum: float, max_momentum: float, step: float) -> float:
        """Momentum at ``step``: ``max -> base`` while the LR rises, back to ``max`` after."""
        points = [(max_momentum, base_momentum), (base_momentum, max_momentum)]
        if self.three_phase:
            points.append((max_momentum, max_momentum))
        return self.interpolate(points, step)

    def __call__(self, step: float) -> float:
        low = 1.0 / self.final_div_factor
        if self.three_phase:
            points = [(1.0, self.div_factor), (self.div_factor, 1.0), (1.0, low)]
        else:
            points = [(1.0, self.div_factor), (self.div_factor, low)]
        return self.interpolate(points, step)


@dataclass(frozen=True)
class Cyclic(Schedule):
    """Cyclical LR (torch ``CyclicLR``): triangle waves from ``base_lr`` up to ``max_lr``.

    ``lr = base_lr + (max_lr - base_lr) * height(step) * scale(cycle or step)`` with
    ``height`` rising over ``step_size_up`` steps and falling over ``step_size_down``.
    Modes: ``triangular`` (scale 1), ``triangular2`` (halved each cycle),
    ``exp_range`` (``gamma ** step``); or a custom ``scale_fn``.
    """

    max_lr: float
    step_size_up: int = 2000
    step_size_down: int | None = None
    mode: str = "triangular"
    gamma: float = 1.0
    scale_fn: Any = None
    scale_mode: str = "cycle"
    horizon_fields = ("step_size_up", "step_size_down")

    def __post_init__(self) -> None:
        check_number("max_lr", self.max_lr, low=0.0)
        check_int("step_size_up", self.step_size_up, 1)
        if self.step_size_down is not None:
            check_int("step_size_down", self.step_size_down, 1)
        if self.scale_fn is None:
            check_choice("mode", self.mode, ("triangular", "triangular2", "exp_range"))
        check_choice("scale_mode", self.scale_mode, ("cycle", "iterations"))

    def _scale(self, x: float) -> float:
        if self.scale_fn is not None:
            return self.scale_fn(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        if self.mode == "exp_range":
            return self.gamma**x
        return 1.0

    def height(self, step: float) -> float:
        """The scaled fraction of ``max - base`` reached at ``step`` (0 at the base)."""
        up = float(self.step_size_up)
        total = up + float(self.step_size_down if self.step_size_down is not None else up)
        ratio = up / total
        cycle = math.floor(1 + step / total)
        x = 1.0 + step / total - cycle
        fraction = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        mode = (
            self.scale_mode
            if self.scale_fn is not None
            else ("iterations" if self.mode == "exp_range" else "cycle")
        )
        return fraction * self._scale(cycle if mode == "cycle" else step)

    def lr(self, base_lr: float, step: float) -> float:
        return base_lr + (self.max_lr - base_lr) * self.height(step)
