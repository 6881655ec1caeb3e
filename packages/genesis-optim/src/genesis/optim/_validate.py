"""Argument checks shared by optimizers, schedules and schedulers.

Every error names the argument, the value received and what was expected.
Imports nothing outside the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(name: str, value: Any, minimum: int = 0) -> int:
    """Return ``value`` if it is an integer ``>= minimum``, else raise ValueError."""
    if not _is_int(value) or value < minimum:
        kind = "a non-negative" if minimum == 0 else f"an integer >= {minimum}, i.e. a"
        raise ValueError(f"{name} must be {kind} integer, got {value!r}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``float(value)`` if it is a finite real number within the bounds."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "-inf" if low is None else f"{low}"
        hi = "inf" if high is None else f"{high}"
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{lo}, {hi}{right}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def per_group(name: str, value: Any, num_groups: int) -> list[Any]:
    """Broadcast a scalar to ``num_groups`` entries or check a list's length."""
    if isinstance(value, (list, tuple)):
        if len(value) != num_groups:
            raise ValueError(
                f"{name} must have one entry per param group ({num_groups}), "
                f"got {len(value)}: {list(value)!r}"
            )
        return list(value)
    return [value] * num_groups


def param_groups(optimizer: Any) -> list[dict[str, Any]]:
    """Return ``optimizer.param_groups``, the only thing schedulers need."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise TypeError(
            f"optimizer must have a 'param_groups' list of dicts, got {type(optimizer).__name__}"
        )
    return groups


def check_positive_lrs(optimizer: Any) -> list[float]:
    """Each group's base LR (``initial_lr`` if set, else ``lr``), checked to be positive."""
    lrs = []
    for i, group in enumerate(param_groups(optimizer)):
        key = "initial_lr" if "initial_lr" in group else "lr"
        lrs.append(
            check_number(f"param_groups[{i}][{key!r}]", group.get(key), low=0.0, low_open=True)
        )
    return lrs


def check_betas(betas: tuple[float, float]) -> None:
    """PyTorch's ``betas`` checks (a pair, each in ``[0, 1)``)."""
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta} "
                             f"(betas[{i}] must be in [0, 1))")


def check_common(lr: float, eps: float | None = None, weight_decay: float | None = None) -> None:
    """PyTorch's checks of ``lr``, ``eps`` and ``weight_decay`` (each must be >= 0)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps} (eps must be >= 0)")
    if weight_decay is not None and not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay} "
                         "(weight_decay must be >= 0)")
