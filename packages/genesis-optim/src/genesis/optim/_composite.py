"""SequentialLR and ChainedScheduler: schedulers made of schedulers.

``SequentialLR`` runs its schedulers one after another, each seeing the step
relative to the milestone where it starts (optax's ``join_schedules``; the
active one is found by bisect). ``ChainedScheduler`` feeds each scheduler's LR
into the next as that one's base LR: for multiplicative schedules the product
of their factors, as PyTorch's chained ``step()`` calls give.

Both forward ``step(metrics=...)``, so a ``ReduceLROnPlateau`` may be a piece:
its accumulated reduction then scales the LR it is fed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from genesis.optim._base import LRScheduler, _check_type
from genesis.optim._plateau import ReduceLROnPlateau
from genesis.optim._validate import check_choice, check_int, param_groups


class _Composite(LRScheduler):
    """Shared bookkeeping: nested schedulers, plateau-aware previews, state dicts."""

    _schedulers: list[LRScheduler]

    def _check(self, optimizer: Any, schedulers: Sequence[LRScheduler]) -> None:
        if len(schedulers) < 1:
            raise ValueError(
                f"{type(self).__name__} needs at least one scheduler in schedulers, got 0"
            )
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"schedulers[{i}] must be an LRScheduler, got {type(s).__name__}")
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"schedulers[{i}] ({type(s).__name__}) drives another optimizer "
                    f"than {type(self).__name__}"
                )

    def _start(self, optimizer: Any, last_epoch: int, verbose: bool) -> None:
        self.optimizer = optimizer
        self.verbose = verbose
        self.base_lrs = list(self._schedulers[0].base_lrs)
        self.last_epoch = last_epoch + 1
        self._apply(self.last_epoch)

    def _tree(self) -> list[LRScheduler]:
        return [self] + [t for s in self._schedulers for t in s._tree()]

    def _has_plateau(self) -> bool:
        return any(isinstance(s, ReduceLROnPlateau) for s in self._tree())

    def lr_at(self, step: float) -> list[float]:
        """Per-group LRs at ``step``; TypeError if a ReduceLROnPlateau is nested (use simulate)."""
        if self._has_plateau():
            raise TypeError(
                f"{type(self).__name__} contains ReduceLROnPlateau, whose LR depends on future "
                "metrics; use simulate(num_steps, metrics=...)"
            )
        return self._lrs(step)

    def momentum_at(self, step: float) -> list[float] | None:
        return None

    def simulate(self, num_steps: int, metrics: Sequence[float] | None = None) -> list[list[float]]:
        """LRs of steps ``0..num_steps-1``, side-effect free.

        With a nested ReduceLROnPlateau, ``metrics[t - 1]`` is the metric passed to the
        step that reaches step ``t`` (so ``num_steps - 1`` metrics are needed), replayed
        from a fresh plateau state.
        """
        check_int("num_steps", num_steps)
        if not self._has_plateau():
            return [self._lrs(t) for t in range(num_steps)]
        if metrics is None or len(metrics) < num_steps - 1:
            got = None if metrics is None else len(metrics)
            raise ValueError(
                f"metrics must hold num_steps - 1 = {num_steps - 1} values "
                f"for a scheduler with ReduceLROnPlateau, got {got}"
            )
        saved = [(s, s._snapshot()) for s in self._tree()]
        try:
            for s in self._tree():
                if isinstance(s, ReduceLROnPlateau):
                    s._reset()
            out = [self._lrs(0)]
            for t in range(1, num_steps):
                self._advance_top(t, metrics[t - 1])
                out.append(self._lrs(t))
            return out
        finally:
            for s, snap in saved:
                s._restore_snapshot(snap)

    def horizon(self) -> list[dict[str, Any]]:
        return [h for s in self._schedulers for h in s.horizon()]

    def state_dict(self) -> dict[str, Any]:
        """Own counters plus every nested scheduler's ``state_dict()``."""
        return {
            "type": type(self).__name__,
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
            **self._own_state(),
            "schedulers": [s.state_dict() for s in self._schedulers],
        }

    def _own_state(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state_dict: dict[str, Any], horizon: str = "error") -> None:
        """Restore own state and each nested scheduler's with the same ``horizon`` policy."""
        check_choice("horizon", horizon, ("error", "saved", "rescale"))
        _check_type(self, state_dict)
        saved = state_dict["schedulers"]
        if len(saved) != len(self._schedulers):
            raise ValueError(
                f"state_dict has {len(saved)} schedulers, "
                f"this {type(self).__name__} has {len(self._schedulers)}"
            )
        self._load_own(state_dict, horizon)
        for s, sd in zip(self._schedulers, saved):
            s.load_state_dict(sd, horizon=horizon)
        self.last_epoch = state_dict["last_epoch"]
        self.base_lrs = list(state_dict["base_lrs"])
        self._apply(self.last_epoch, quiet=True)

    def _load_own(self, state_dict: dict[str, Any], horizon: str) -> None:
        pass


class SequentialLR(_Composite):
    """Run ``schedulers[i]`` from ``milestones[i - 1]`` on, each restarted at its step 0.

    ``lr(t) = schedulers[i].lr_at(t - milestones[i - 1])`` with ``i`` the number of
    milestones ``<= t``. E.g. ``[LinearLR(warmup), CosineAnnealingLR(T_max=T - w)]`` with
    ``milestones=[w]``.
    """

    def __init__(
        self,
        optimizer: Any,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        param_groups(optimizer)
        self._check(optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"milestones must have len(schedulers) - 1 = {len(schedulers) - 1} entries, "
                f"got {len(milestones)}: {list(milestones)!r}"
            )
        for m in milestones:
            check_int("milestones", m)
        if list(milestones) != sorted(milestones):
            raise ValueError(f"milestones must be sorted increasingly, got {list(milestones)!r}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        for group in optimizer.param_groups:
            group["lr"] = group.get("initial_lr", group["lr"])
        self._start(optimizer, last_epoch, verbose)

    @property
    def milestones(self) -> list[int]:
        """Steps at which the next scheduler takes over."""
        return list(self._milestones)

    def _locate(self, step: float) -> tuple[LRScheduler, float]:
        i = bisect_right(self._milestones, step)
        return self._schedulers[i], step - (self._milestones[i - 1] if i else 0)

    def _lrs(self, step: float) -> list[float]:
        sub, local = self._locate(step)
        return sub._lrs(local)

    def _transform(self, lrs: list[float], step: float) -> list[float]:
        sub, local = self._locate(step)
        return sub._transform(lrs, local)

    def momentum_at(self, step: float) -> list[float] | None:
        sub, local = self._locate(step)
        return sub.momentum_at(local)

    def _advance(self, step: float, metrics: float | None, lrs_in: list[float]) -> None:
        self.last_epoch = step
        sub, local = self._locate(step)
        sub._advance(local, metrics, lrs_in)

    def _advance_top(self, step: float, metrics: float | None) -> None:
        self.last_epoch = step
        sub, local = self._locate(step)
        sub._advance_top(local, metrics)

    def horizon(self) -> list[dict[str, Any]]:
        return [{"milestones": list(self._milestones)}, *super().horizon()]

    def _own_state(self) -> dict[str, Any]:
        return {"milestones": list(self._milestones)}

    def _load_own(self, state_dict: dict[str, Any], horizon: str) -> None:
        saved = list(state_dict["milestones"])
        if saved != self._milestones and horizon != "saved":
            raise ValueError(
                f"saved milestones {saved} differ from this SequentialLR's {self._milestones}; "
                "pass horizon='saved' to keep the saved milestones"
            )
        self._milestones = saved


class ChainedScheduler(_Composite):
    """Apply every scheduler at each step, each one's LR becoming the next one's base LR.

    For factor schedules: ``lr(t) = base_lr * prod_i factor_i(t)``. ``optimizer`` is
    optional (taken from the first scheduler), as in PyTorch.
    """

    def __init__(
        self, schedulers: Sequence[LRScheduler], optimizer: Any | None = None, verbose: bool = False
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler needs at least one scheduler in schedulers, got 0")
        optimizer = optimizer if optimizer is not None else schedulers[0].optimizer
        self._check(optimizer, schedulers)
        self._schedulers = list(schedulers)
        self._start(optimizer, -1, verbose)

    def _lrs(self, step: float) -> list[float]:
        first, *rest = self._schedulers
        lrs = first._lrs(step)
        for s in rest:
            lrs = s._transform(lrs, step)
        return lrs

    def _transform(self, lrs: list[float], step: float) -> list[float]:
        for s in self._schedulers:
            lrs = s._transform(lrs, step)
        return lrs

    def momentum_at(self, step: float) -> list[float] | None:
        found = None
        for s in self._schedulers:
            found = s.momentum_at(step) or found
        return found

    def _advance(self, step: float, metrics: float | None, lrs_in: list[float]) -> None:
        self.last_epoch = step
        for s in self._schedulers:
            s._advance(step, metrics, lrs_in)
            lrs_in = s._transform(lrs_in, step)

    def _advance_top(self, step: float, metrics: float | None) -> None:
        self.last_epoch = step
        first, *rest = self._schedulers
        first._advance_top(step, metrics)
        lrs = first._lrs(step)
        for s in rest:
            s._advance(step, metrics, lrs)
            lrs = s._transform(lrs, step)
