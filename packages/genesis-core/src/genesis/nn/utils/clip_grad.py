"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_`` (PyTorch's semantics)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from genesis._autograd.grad_mode import no_grad
from genesis._dtype import float32
from genesis._ops.creation import tensor as _tensor
from genesis._ops.shape import stack
from genesis._tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def _norm(g: Tensor, norm_type: float) -> Tensor:
    if norm_type == math.inf:
        return g.abs().amax() if g.numel() else g.new_zeros(())
    if norm_type == 2.0:
        return (g * g).sum().sqrt()
    if norm_type == 1.0:
        return g.abs().sum()
    return (g.abs() ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale gradients in place so their joint ``norm_type``-norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated; gradients are
    multiplied by ``min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm
    (before clipping) as a 0-d tensor.
    """
    norm_type = float(norm_type)
    if not isinstance(max_norm, (int, float, Tensor)) or isinstance(max_norm, bool):
        raise TypeError(f"clip_grad_norm_: max_norm={max_norm!r}, expected a number")
    grads = _grads(parameters)
    if not grads:
        return _tensor(0.0)
    with no_grad():
        dtype = grads[0].dtype
        if norm_type == 2.0:  # the sum of all squares: the per-gradient roots and squares
            # of the norm of norms cancel (up to rounding), and cost 2 ops per gradient;
            # half types square and sum in float32, as PyTorch's norm accumulates them
            wide = [g.float() if g.dtype.itemsize < 4 else g for g in grads]
            work = float32 if dtype.itemsize < 4 else dtype
            total = stack([(w * w).sum().to(work) for w in wide]).sum().sqrt().to(dtype)
        else:
            norms = stack([_norm(g.detach(), norm_type).to(dtype) for g in grads])
            total = norms.amax() if norm_type == math.inf else _norm(norms, norm_type)
        if error_if_nonfinite and not math.isfinite(float(total.item())):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To disable "
                               "this error and scale the gradients by the non-finite norm "
                               "anyway, set `error_if_nonfinite=False`")
        coef = (float(max_norm) / (total + 1e-6)).clamp(max=1.0)
        if coef.device.type == "cpu" and coef.item() == 1.0:
            return total  # multiplying by 1 changes nothing (reading it back costs no sync)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    if not isinstance(clip_value, (int, float)) or isinstance(clip_value, bool):
        raise TypeError(f"clip_grad_value_: clip_value={clip_value!r}, expected a number")
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
