"""Stochastic gradient descent, with momentum and Nesterov momentum (PyTorch's ``SGD``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["SGD"]

FUSED_KERNEL = "sgd_step"


class SGD(Optimizer):
    r"""Stochastic gradient descent, step for step as ``torch.optim.SGD``.

    With gradient :math:`g_t` (negated when ``maximize``)::

        g_t <- g_t + weight_decay * p                      if weight_decay != 0
        b_t  = g_t  (t = 1),  momentum * b_{t-1} + (1 - dampening) * g_t  (t > 1)
        g_t <- g_t + momentum * b_t  if nesterov, else b_t     if momentum != 0
        p   <- p - lr * g_t

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``1e-3``).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``momentum_buffer`` (when ``momentum != 0``).

    Example:
        >>> import genesis
        >>> w = genesis.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = genesis.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w.tolist()
        [0.800000011920929, 1.600000023841858]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum} (momentum must be >= 0)")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} "
                             "(weight_decay must be >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        momentum = group["momentum"]
        buffers = [self.state[p].get("momentum_buffer") for p in params] if momentum != 0 \
            else []
        if self._fused_step(group, params, buffers):
            return
        F.sgd(params, [p.grad for p in params], buffers, lr=group["lr"],
              weight_decay=group["weight_decay"], momentum=momentum,
              dampening=group["dampening"], nesterov=group["nesterov"],
              maximize=group["maximize"])
        for p, buf in zip(params, buffers):
            self.state[p]["momentum_buffer"] = buf

    def _fused_step(self, group: dict[str, Any], params: list[Tensor], buffers: list) -> bool:
        """The backend's ``sgd_step`` kernel (no temporaries, all cores), when it has one."""
        kernel = fused_kernel(params, FUSED_KERNEL)
        if kernel is None:
            return False
        momentum = group["momentum"]
        # momentum buffers (unused without momentum): new ones start as a copy of the gradient
        ready = [genesis.zeros_like(p) if b is None else b for p, b in zip(params, buffers)]
        first = [b is None for b in buffers] if momentum != 0 else [False] * len(params)
        done = kernel(params, [p.grad for p in params], ready, first=first,
                      lr=group["lr"], weight_decay=group["weight_decay"], momentum=momentum,
                      dampening=group["dampening"], nesterov=group["nesterov"],
                      maximize=group["maximize"])
        if done is NotImplemented:
            return False
        for p, buf in zip(params, ready):
            self.state[p]["momentum_buffer"] = buf
        return True
