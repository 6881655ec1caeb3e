"""ReduceLROnPlateau: the one metric-driven scheduler, kept apart from the schedules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from genesis.optim._base import LastLR, LRScheduler, _check_type
from genesis.optim._validate import (
    check_choice,
    check_int,
    check_number,
    param_groups,
    per_group,
)

_MUTABLE = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "scales", "_last_lr")


class ReduceLROnPlateau(LRScheduler):
    """Multiply the LR by ``factor`` when a metric has stopped improving (PyTorch semantics).

    A metric improves when it beats ``best`` by ``threshold`` (relative: ``best * (1 -
    threshold)`` in ``min`` mode, ``best * (1 + threshold)`` in ``max`` mode; absolute:
    ``best -/+ threshold``). After more than ``patience`` steps without improvement each
    group's LR becomes ``max(lr * factor, min_lr)`` (skipped if the change is ``<= eps``),
    then ``cooldown`` steps are ignored.

    ``step(metrics)`` is required; ``lr_at`` raises TypeError because the LR depends on
    metrics not yet seen: use ``simulate(metrics)``. Inside ``SequentialLR`` or
    ``ChainedScheduler`` it contributes its accumulated reduction as a factor.
    """

    def __init__(
        self,
        optimizer: Any,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
        verbose: bool = False,
    ) -> None:
        groups = param_groups(optimizer)
        self.optimizer = optimizer
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.factor = check_number("factor", factor, low=0.0, high=1.0, high_open=True)
        self.patience = check_int("patience", patience)
        self.threshold = check_number("threshold", threshold, low=0.0)
        self.cooldown = check_int("cooldown", cooldown)
        self.min_lrs = [
            check_number("min_lr", m, low=0.0) for m in per_group("min_lr", min_lr, len(groups))
        ]
        self.eps = check_number("eps", eps, low=0.0)
        self.verbose = verbose
        self.base_lrs = [g.get("initial_lr", g["lr"]) for g in groups]
        self._reset()
        self._last_lr = [float(g["lr"]) for g in groups]

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch: float = 0
        self.scales = [1.0] * len(self.base_lrs)

    @property
    def mode_worse(self) -> float:
        """The starting ``best``: ``inf`` in ``min`` mode, ``-inf`` in ``max`` mode."""
        return math.inf if self.mode == "min" else -math.inf

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.threshold_mode == "rel":
            scale = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            return a < best * scale if self.mode == "min" else a > best * scale
        return a < best - self.threshold if self.mode == "min" else a > best + self.threshold

    def _observe(self, metrics: float, lrs: list[float]) -> list[float]:
        """Record one metric; return ``lrs`` reduced where a reduction is due."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs <= self.patience:
            return list(lrs)
        self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        out = []
        for i, old in enumerate(lrs):
            new = max(old * self.factor, self.min_lrs[i])
            if old - new > self.eps:
                self.scales[i] *= new / old
                if self.verbose:
                    print(
                        f"Epoch {self.last_epoch}: "
                        f"reducing learning rate of group {i} to {new:.4e}."
                    )
                old = new
            out.append(old)
        return out

    def step(self, metrics: float | None = None, epoch: float | None = None) -> None:  # type: ignore[override]
        """Record ``metrics`` (required) and reduce the LRs if the metric plateaued."""
        if metrics is None:
            raise TypeError("ReduceLROnPlateau.step() needs metrics, e.g. scheduler.step(val_loss)")
        groups = self.optimizer.param_groups
        new = self._observe(metrics, [float(g["lr"]) for g in groups])
        if epoch is not None:
            self.last_epoch = epoch
        for group, lr in zip(groups, new):
            group["lr"] = lr
        self._last_lr = new

    def _transform(self, lrs: list[float], step: float) -> list[float]:
        return [b * s for b, s in zip(lrs, self.scales)]

    def lr_at(self, step: float) -> list[float]:
        raise TypeError(
            "ReduceLROnPlateau's LR depends on future metrics, so lr_at() is undefined; "
            "use simulate(metrics) to replay a metric sequence"
        )

    def simulate(self, metrics: Sequence[float]) -> list[list[float]]:  # type: ignore[override]
        """LRs from a fresh start (``base_lrs``) and after each of ``metrics``; no side effects.

        Returns ``len(metrics) + 1`` per-group lists: entry ``i`` is the LR after ``i`` metrics.
        """
        saved = self._snapshot()
        try:
            self._reset()
            lrs = list(self.base_lrs)
            out = [lrs]
            for m in metrics:
                lrs = self._observe(m, lrs)
                out.append(lrs)
            return out
        finally:
            self._restore_snapshot(saved)

    def _advance(self, step: float, metrics: float | None, lrs_in: list[float]) -> None:
        if metrics is None:
            raise TypeError(
                "a scheduler containing ReduceLROnPlateau needs step(metrics=...) "
                "while it is active"
            )
        self._observe(metrics, self._transform(lrs_in, step))

    def _snapshot(self) -> dict[str, Any]:
        return {
            k: list(v) if isinstance(v, list) else v
            for k, v in ((k, getattr(self, k)) for k in _MUTABLE)
        }

    def horizon(self) -> list[dict[str, Any]]:
        return [{} for _ in self.base_lrs]

    def get_last_lr(self) -> LastLR:
        return LastLR(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Plain data; an infinite ``best`` (nothing seen yet) is stored as None."""
        return {
            "type": type(self).__name__,
            "mode": self.mode,
            "factor": self.factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_lrs": list(self.min_lrs),
            "eps": self.eps,
            "best": self.best if math.isfinite(self.best) else None,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "scales": list(self.scales),
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state_dict: dict[str, Any], horizon: str = "error") -> None:
        """Restore ``state_dict()`` and write its last LRs into the optimizer."""
        _check_type(self, state_dict)
        for key in (
            "mode",
            "factor",
            "patience",
            "threshold",
            "threshold_mode",
            "cooldown",
            "eps",
            "num_bad_epochs",
            "cooldown_counter",
            "last_epoch",
        ):
            setattr(self, key, state_dict[key])
        self.min_lrs = list(state_dict["min_lrs"])
        self.base_lrs = list(state_dict.get("base_lrs", self.base_lrs))
        self.scales = list(state_dict.get("scales", [1.0] * len(self.base_lrs)))
        best = state_dict["best"]
        self.best = self.mode_worse if best is None else best
        self._last_lr = list(state_dict["last_lr"])
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(best={self.best}, num_bad_epochs={self.num_bad_epochs}, "
            f"lrs={self._last_lr})"
        )
