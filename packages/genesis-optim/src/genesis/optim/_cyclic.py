"""CyclicLR and OneCycleLR: schedules that also cycle momentum (or Adam's beta1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genesis.optim._base import LRScheduler
from genesis.optim._schedules import Cyclic, OneCycle, Rescaled
from genesis.optim._validate import check_int, check_number, param_groups, per_group


def _setup_momentum(scheduler: Any, groups: list[dict[str, Any]], cycle_momentum: bool,
                    base_momentum: Any, max_momentum: Any, last_epoch: int) -> None:
    """The per-group momentum bounds of a cyclic scheduler (and, starting fresh, the groups'
    ``base_momentum``/``max_momentum``); every group needs ``momentum`` or ``betas``."""
    n = len(groups)
    scheduler.cycle_momentum = cycle_momentum
    scheduler.base_momentums = per_group("base_momentum", base_momentum, n)
    scheduler.max_momentums = per_group("max_momentum", max_momentum, n)
    if not cycle_momentum:
        return
    for i, group in enumerate(groups):
        if "momentum" not in group and "betas" not in group:
            raise ValueError(
                f"cycle_momentum=True needs 'momentum' or 'betas' in every param group; "
                f"param_groups[{i}] has neither (keys {sorted(k for k in group if k != 'params')})"
            )
    if last_epoch == -1:
        for group, b, m in zip(groups, scheduler.base_momentums, scheduler.max_momentums):
            group["base_momentum"], group["max_momentum"] = b, m


class CyclicLR(LRScheduler):
    """Cyclical learning rate (Smith 2017), PyTorch's ``CyclicLR``.

    ``lr = base_lr + (max_lr - base_lr) * h(step) * scale``: ``h`` rises from 0 to 1 over
    ``step_size_up`` steps and back over ``step_size_down`` (default: the same).
    ``scale`` is 1 (``triangular``), ``1 / 2 ** (cycle - 1)`` (``triangular2``),
    ``gamma ** step`` (``exp_range``) or ``scale_fn(cycle or step)`` per ``scale_mode``.
    Step 0: ``base_lr``; step ``step_size_up``: ``max_lr``. With ``cycle_momentum``,
    momentum (or beta1) moves inversely between ``max_momentum`` and ``base_momentum``.
    A custom ``scale_fn`` is a function and is not saved in ``state_dict()``.
    """

    _extra_state = ("cycle_momentum", "base_momentums", "max_momentums")

    def __init__(
        self,
        optimizer: Any,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        groups = param_groups(optimizer)
        n = len(groups)
        base_lrs = per_group("base_lr", base_lr, n)
        for i, b in enumerate(base_lrs):
            check_number(f"base_lr[{i}]", b, low=0.0)
        for group, b in zip(groups, base_lrs):
            if last_epoch == -1:
                group["lr"] = b
            group["initial_lr"] = b
        max_lrs = per_group("max_lr", max_lr, n)
        schedules = [
            Cyclic(m, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
            for m in max_lrs
        ]
        _setup_momentum(self, groups, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, schedules, last_epoch, verbose)

    def momentum_at(self, step: float) -> list[float] | None:
        """``max_momentum - (max_momentum - base_momentum) * h(step) * scale`` per group."""
        if not self.cycle_momentum:
            return None
        return [
            top - (top - base) * s.height(step)
            for s, base, top in zip(self._schedules, self.base_momentums, self.max_momentums)
        ]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2018), PyTorch's ``OneCycleLR``.

    ``initial_lr = max_lr / div_factor`` at step 0, annealed (``cos`` or ``linear``)
    up to ``max_lr`` at step ``pct_start * total_steps - 1``, then down to
    ``initial_lr / final_div_factor`` at step ``total_steps - 1``. With
    ``three_phase`` it returns to ``initial_lr`` symmetrically before the final
    decay. Momentum (or beta1) goes the opposite way between ``max_momentum`` and
    ``base_momentum``. Give ``total_steps`` or ``epochs`` and ``steps_per_epoch``;
    stepping past ``total_steps`` raises ValueError.
    """

    _extra_state = ("cycle_momentum", "base_momentums", "max_momentums")

    def __init__(
        self,
        optimizer: Any,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        groups = param_groups(optimizer)
        n = len(groups)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(
                    "OneCycleLR needs total_steps, or epochs and steps_per_epoch; got none"
                )
            total_steps = check_int("epochs", epochs, 1) * check_int(
                "steps_per_epoch", steps_per_epoch, 1
            )
        schedule = OneCycle(
            total_steps, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase
        )
        self.total_steps = total_steps
        max_lrs = per_group("max_lr", max_lr, n)
        for i, m in enumerate(max_lrs):
            check_number(f"max_lr[{i}]", m, low=0.0, low_open=True)
        if last_epoch == -1:
            for group, m in zip(groups, max_lrs):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor
        _setup_momentum(self, groups, cycle_momentum, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, [schedule] * n, last_epoch, verbose)

    def momentum_at(self, step: float) -> list[float] | None:
        """Per-group momentum at ``step`` (None without ``cycle_momentum``)."""
        if not self.cycle_momentum:
            return None
        out = []
        for s, base, top in zip(self._schedules, self.base_momentums, self.max_momentums):
            at = step
            if isinstance(s, Rescaled):
                s, at = s.inner, s.inner_step(step)
            out.append(s.momentum(base, top, at))
        return out
