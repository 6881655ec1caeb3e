"""RMSprop (PyTorch's ``RMSprop``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, step for step as ``torch.optim.RMSprop``.

    With gradient :math:`g_t` (negated when ``maximize``)::

        g_t <- g_t + weight_decay * p                       if weight_decay != 0
        v_t  = alpha * v_{t-1} + (1 - alpha) * g_t * g_t
        a_t  = a_{t-1} + (1 - alpha) * (g_t - a_{t-1})        if centered
        d    = sqrt(v_t - a_t * a_t) + eps  if centered, else sqrt(v_t) + eps
        b_t  = momentum * b_{t-1} + g_t / d;  p <- p - lr * b_t     if momentum > 0
        p   <- p - lr * g_t / d                                    otherwise

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``1e-2``).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator (default ``1e-8``).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step`` (float), ``square_avg``, ``momentum_buffer``
    (momentum > 0) and ``grad_avg`` (centered).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps} (eps must be >= 0)")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum} (momentum must be >= 0)")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} "
                             "(weight_decay must be >= 0)")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha} (alpha must be >= 0)")
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered, "maximize": maximize})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        momentum, centered = group["momentum"], group["centered"]
        square_avgs, grad_avgs, buffers = [], [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["square_avg"] = genesis.zeros_like(p)
                if momentum > 0:
                    state["momentum_buffer"] = genesis.zeros_like(p)
                if centered:
                    state["grad_avg"] = genesis.zeros_like(p)
            state["step"] += 1
            square_avgs.append(state["square_avg"])
            if momentum > 0:
                buffers.append(state["momentum_buffer"])
            if centered:
                grad_avgs.append(state["grad_avg"])
        hyper = {"lr": group["lr"], "alpha": group["alpha"], "eps": group["eps"],
                 "weight_decay": group["weight_decay"], "momentum": momentum,
                 "centered": centered, "maximize": group["maximize"]}
        grads = [p.grad for p in params]
        kernel = fused_kernel(params, "rmsprop_step")  # the backend's one-pass step, if any
        if kernel is not None and kernel(params, grads, square_avgs,
                                         grad_avgs if centered else None,
                                         buffers if momentum > 0 else None,
                                         **hyper) is not NotImplemented:
            return
        F.rmsprop(params, grads, square_avgs, grad_avgs, buffers, **hyper)
