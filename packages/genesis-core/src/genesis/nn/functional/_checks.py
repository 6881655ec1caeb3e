"""Argument checks shared by the functional ops: errors name the argument, value and expectation."""

from __future__ import annotations

from genesis._ops.inplace import _alias, _rebind, _tracked
from genesis._tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def check_tensor(fn: str, name: str, value) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {type(value).__name__}")


def wrap_dim(fn: str, dim, ndim: int, name: str = "dim") -> int:
    n = max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool) or not -n <= dim < n:
        raise IndexError(f"{fn}: {name}={dim!r} is out of range, expected an int in "
                         f"[{-n}, {n - 1}] for a {ndim}-D input")
    return dim + n if dim < 0 else dim


def check_reduction(fn: str, reduction) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction={reduction!r}, expected 'none', 'mean' or 'sum'")


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_probability(fn: str, name: str, p) -> None:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: {name}={p!r}, expected a probability in [0, 1]")


def apply_inplace(input: Tensor, fn) -> Tensor:
    """``input`` overwritten with ``fn(input)``, recorded for autograd when ``input`` is tracked."""
    if _tracked(input):
        return _rebind(input, fn(_alias(input)))
    out = fn(input.detach())
    input.copy_(out)
    return input
