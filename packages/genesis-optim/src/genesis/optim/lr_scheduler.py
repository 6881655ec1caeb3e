"""PyTorch-compatible learning-rate schedulers, every LR in closed form.

``lr[g](t) = base_lrs[g] * factor(t)`` (or the schedule's own formula), with
``t = last_epoch``. The classes keep ``torch.optim.lr_scheduler``'s names,
signatures and LR sequences; each is a thin wrapper that picks a schedule
object from ``genesis.optim._schedules``. They only touch
``optimizer.param_groups``, so they drive ``torch.optim`` optimizers too.

Extras over PyTorch: ``lr_at(step)`` and ``simulate(n)`` preview LRs without
side effects; ``state_dict()`` is plain JSON-able data including the schedule
parameters; ``load_state_dict(sd, horizon=...)`` guards against a changed plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from genesis.optim._base import LastLR, LRScheduler
from genesis.optim._composite import ChainedScheduler, SequentialLR
from genesis.optim._cyclic import CyclicLR, OneCycleLR
from genesis.optim._plateau import ReduceLROnPlateau
from genesis.optim._schedules import (
    ConstantUntil,
    CosineAnnealing,
    CosineWarmRestarts,
    Exponential,
    FactorSchedule,
    Linear,
    MultiStepDecay,
    Polynomial,
    StepDecay,
    UserFactor,
)
from genesis.optim._validate import param_groups

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LastLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]

Factor = Callable[[int], float]


def _as_schedules(
    name: str, fns: Factor | Sequence[Factor], optimizer: Any
) -> list[FactorSchedule]:
    n = len(param_groups(optimizer))
    if isinstance(fns, (list, tuple)):
        if len(fns) != n:
            raise ValueError(
                f"{name} must be one callable or a list of {n} (one per param group), "
                f"got {len(fns)}"
            )
        items = list(fns)
    else:
        items = [fns] * n
    for i, fn in enumerate(items):
        if not callable(fn):
            raise TypeError(f"{name}[{i}] must be callable, got {type(fn).__name__}")
    return [fn if isinstance(fn, FactorSchedule) else UserFactor(fn) for fn in items]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(step)``; one callable or one per param group.

    Use a ``Schedule`` object (e.g. from ``schedule_helpers``) as ``lr_lambda`` and it is
    saved in ``state_dict()``; a plain function or lambda is not (a warning says so).

    Example:
        >>> from types import SimpleNamespace
        >>> opt = SimpleNamespace(param_groups=[{"lr": 0.1}])
        >>> s = LambdaLR(opt, lambda step: 0.5 ** step)
        >>> s.step(); f"{s.get_last_lr():.3f}"
        '0.050'
    """

    def __init__(
        self,
        optimizer: Any,
        lr_lambda: Factor | Sequence[Factor],
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            optimizer, _as_schedules("lr_lambda", lr_lambda, optimizer), last_epoch, verbose
        )

    @property
    def lr_lambdas(self) -> list[Any]:
        """The per-group factor callables."""
        return [s.fn if isinstance(s, UserFactor) else s for s in self._schedules]


@dataclass(frozen=True)
class Product(FactorSchedule):
    """``prod(fn(k) for k in 1..step)``: MultiplicativeLR's recursion in closed form."""

    fn: Any

    def __call__(self, step: float) -> float:
        factor = 1.0
        for k in range(1, int(step) + 1):
            factor *= self.fn(k)
        return factor


class MultiplicativeLR(LRScheduler):
    """``lr(t) = lr(t - 1) * lr_lambda(t)``, i.e. ``base_lr * prod_{k=1..t} lr_lambda(k)``.

    Stepping one at a time costs one call per group; ``lr_at(t)`` costs ``t`` calls.
    """

    def __init__(
        self,
        optimizer: Any,
        lr_lambda: Factor | Sequence[Factor],
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        fns = _as_schedules("lr_lambda", lr_lambda, optimizer)
        self._cache: tuple[float, list[float]] = (0, [1.0] * len(fns))
        super().__init__(optimizer, [Product(f) for f in fns], last_epoch, verbose)

    def _factors(self, step: float) -> list[float]:
        cached_step, cached = self._cache
        if step == cached_step + 1:
            factors = [f * s.fn(step) for f, s in zip(cached, self._schedules)]
        elif step == cached_step:
            factors = cached
        else:
            factors = [s(step) for s in self._schedules]
        self._cache = (step, factors)
        return factors

    def _transform(self, lrs: list[float], step: float) -> list[float]:
        return [b * f for b, f in zip(lrs, self._factors(step))]


def per_group(optimizer: Any, schedule) -> list:
    """The same schedule object for every parameter group of ``optimizer``."""
    return [schedule] * len(param_groups(optimizer))


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (step // step_size)``."""

    def __init__(
        self,
        optimizer: Any,
        step_size: int,
        gamma: float = 0.1,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            optimizer, per_group(optimizer, StepDecay(step_size, gamma)), last_epoch, verbose
        )


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= step)``."""

    def __init__(
        self,
        optimizer: Any,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        schedule = MultiStepDecay(tuple(sorted(milestones)), gamma)
        super().__init__(optimizer, per_group(optimizer, schedule), last_epoch, verbose)


class ConstantLR(LRScheduler):
    """``lr = base_lr * factor`` for ``step < total_iters``, then ``base_lr``."""

    def __init__(
        self,
        optimizer: Any,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            optimizer, per_group(optimizer, ConstantUntil(factor, total_iters)), last_epoch, verbose
        )


class LinearLR(LRScheduler):
    """``lr = base_lr * (start + (end - start) * min(step, total_iters) / total_iters)``.

    Step 0: ``start_factor * base_lr``; from ``total_iters`` on: ``end_factor * base_lr``.
    """

    def __init__(
        self,
        optimizer: Any,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            optimizer,
            per_group(optimizer, Linear(start_factor, end_factor, total_iters)),
            last_epoch,
            verbose,
        )


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** step``."""

    def __init__(
        self, optimizer: Any, gamma: float, last_epoch: int = -1, verbose: bool = False
    ) -> None:
        super().__init__(optimizer, per_group(optimizer, Exponential(gamma)), last_epoch, verbose)


class PolynomialLR(LRScheduler):
    """``lr = base_lr * (1 - min(step, total_iters) / total_iters) ** power``;
    0 from ``total_iters``."""

    def __init__(
        self,
        optimizer: Any,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            optimizer, per_group(optimizer, Polynomial(total_iters, power)), last_epoch, verbose
        )


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2``.

    ``base_lr`` at step 0, ``eta_min`` at ``T_max``; afterwards the cosine keeps
    going (back up to ``base_lr`` at ``2 T_max``), exactly like PyTorch's recursion.
    """

    def __init__(
        self,
        optimizer: Any,
        T_max: int,
        eta_min: float = 0.0,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            optimizer, per_group(optimizer, CosineAnnealing(T_max, eta_min)), last_epoch, verbose
        )


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: cosine from ``base_lr`` to ``eta_min`` over cycles ``T_0, T_0 * T_mult, ...``.

    ``step(epoch)`` accepts fractional epochs (e.g. ``epoch + i / iters``); a
    later ``step()`` continues from there by 1, as in PyTorch.
    """

    def __init__(
        self,
        optimizer: Any,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            optimizer,
            per_group(optimizer, CosineWarmRestarts(T_0, T_mult, eta_min)),
            last_epoch,
            verbose,
        )

    def step(self, epoch: float | None = None, metrics: float | None = None) -> None:
        if epoch is not None and epoch < 0:
            raise ValueError(f"epoch must be non-negative, got {epoch!r}")
        super().step(epoch, metrics)
