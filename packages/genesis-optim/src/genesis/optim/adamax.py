"""Adamax (PyTorch's ``Adamax``): Adam with the infinity norm of past gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim._validate import check_betas, check_common
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax, step for step as ``torch.optim.Adamax``.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t`::

        g_t <- g_t + weight_decay * p                       if weight_decay != 0
        m_t  = m_{t-1} + (1 - beta1) * (g_t - m_{t-1})          (lerp)
        u_t  = max(beta2 * u_{t-1}, |g_t| + eps)
        p   <- p - lr / (1 - beta1^t) * m_t / u_t

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``2e-3``).
        betas: ``(beta1, beta2)`` decay rates of the moment and of the infinity norm.
        eps: added to ``|g_t|`` for stability (default ``1e-8``).
        weight_decay: L2 penalty (default 0).
        foreach: accepted for PyTorch compatibility; a no-op (one code path).
        maximize: maximize the objective instead of minimizing it.
        differentiable: accepted; a no-op (the step runs under ``no_grad``).
        capturable: accepted; a no-op (there are no CUDA graphs to capture).

    State per parameter: ``step`` (float), ``exp_avg``, ``exp_inf``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_common(lr, eps)
        check_betas(betas)
        check_common(lr, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        exp_avgs, exp_infs, steps = [], [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["exp_avg"] = genesis.zeros_like(p)
                state["exp_inf"] = genesis.zeros_like(p)
            state["step"] += 1
            steps.append(state["step"])
            exp_avgs.append(state["exp_avg"])
            exp_infs.append(state["exp_inf"])
        beta1, beta2 = group["betas"]
        hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                 "weight_decay": group["weight_decay"], "maximize": group["maximize"]}
        grads = [p.grad for p in params]
        kernel = fused_kernel(params, "adamax_step")  # the backend's one-pass step, if any
        if kernel is not None and kernel(params, grads, exp_avgs, exp_infs, steps=steps,
                                         **hyper) is not NotImplemented:
            return
        F.adamax(params, grads, exp_avgs, exp_infs, steps, **hyper)
