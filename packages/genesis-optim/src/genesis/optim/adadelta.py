"""Adadelta (PyTorch's ``Adadelta``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim._validate import check_common
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, step for step as ``torch.optim.Adadelta``.

    With gradient :math:`g_t` (negated when ``maximize``)::

        g_t <- g_t + weight_decay * p                       if weight_decay != 0
        v_t  = rho * v_{t-1} + (1 - rho) * g_t * g_t
        d_t  = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t  = rho * u_{t-1} + (1 - rho) * d_t * d_t
        p   <- p - lr * d_t

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: coefficient of the delta (default 1.0).
        rho: decay rate of the running averages, in ``[0, 1]`` (default 0.9).
        eps: added inside the square roots (default ``1e-6``).
        weight_decay: L2 penalty (default 0).
        foreach: accepted for PyTorch compatibility; a no-op (one code path).
        capturable: accepted; a no-op (there are no CUDA graphs to capture).
        maximize: maximize the objective instead of minimizing it.
        differentiable: accepted; a no-op (the step runs under ``no_grad``).

    State per parameter: ``step`` (float), ``square_avg``, ``acc_delta``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_common(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (rho must be in [0, 1])")
        check_common(lr, eps, weight_decay)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize,
                                  "capturable": capturable, "foreach": foreach,
                                  "differentiable": differentiable})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        square_avgs, acc_deltas = [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["square_avg"] = genesis.zeros_like(p)
                state["acc_delta"] = genesis.zeros_like(p)
            state["step"] += 1
            square_avgs.append(state["square_avg"])
            acc_deltas.append(state["acc_delta"])
        hyper = {"lr": group["lr"], "rho": group["rho"], "eps": group["eps"],
                 "weight_decay": group["weight_decay"], "maximize": group["maximize"]}
        grads = [p.grad for p in params]
        kernel = fused_kernel(params, "adadelta_step")  # the backend's one-pass step, if any
        if kernel is not None and kernel(params, grads, square_avgs, acc_deltas,
                                         **hyper) is not NotImplemented:
            return
        F.adadelta(params, grads, square_avgs, acc_deltas, **hyper)
