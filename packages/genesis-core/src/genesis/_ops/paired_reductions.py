"""Reductions that return two results at once: ``var_mean``, ``std_mean`` (one pass for the
mean shared by both) and ``aminmax``."""

from __future__ import annotations

from collections import namedtuple

from genesis._ops.arguments import require_tensor
from genesis._ops.reduction import amax, amin, normalize_dims, variance_and_mean
from genesis._tensor import Tensor, _wrap_dim

__all__ = ["var_mean", "std_mean", "aminmax"]

#: the result of :func:`aminmax` (``torch.return_types.aminmax``)
Aminmax = namedtuple("aminmax", ["min", "max"])


def _mean_of(mean: Tensor, dim, keepdim: bool) -> Tensor:
    """The mean as :func:`genesis.mean` returns it (reduced dims dropped unless keepdim)."""
    if keepdim:
        return mean
    axes = normalize_dims(None if isinstance(dim, bool) else dim, mean.ndim)
    return mean.squeeze(axes) if axes else mean


def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | float | None = None) -> tuple:
    """``(var(input, ...), mean(input, ...))`` over ``dim``: PyTorch's overloads, with
    ``correction`` (default 1) or ``unbiased``; ``var_mean(x, False)`` is the biased
    variance over all dims."""
    require_tensor("var_mean", "input", input)
    variance, mean = variance_and_mean("var_mean", input, dim, unbiased, keepdim, correction)
    return variance, _mean_of(mean, dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | float | None = None) -> tuple:
    """``(std(input, ...), mean(input, ...))`` over ``dim`` (see :func:`var_mean`)."""
    require_tensor("std_mean", "input", input)
    variance, mean = variance_and_mean("std_mean", input, dim, unbiased, keepdim, correction)
    return variance.sqrt(), _mean_of(mean, dim, keepdim)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Aminmax:
    """``(min, max)`` of ``input`` over ``dim`` (an int, or every dim), as a named tuple with
    fields ``min`` and ``max``; ties share the gradient, as in :func:`amin`/:func:`amax`."""
    require_tensor("aminmax", "input", input)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        return Aminmax(amin(input, (), keepdim), amax(input, (), keepdim))
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"aminmax(): Expected reduction dim {d} to have non-zero size; "
                         f"input shape {tuple(input.shape)}")
    return Aminmax(amin(input, d, keepdim), amax(input, d, keepdim))


TENSOR_METHODS = {"aminmax": aminmax}
