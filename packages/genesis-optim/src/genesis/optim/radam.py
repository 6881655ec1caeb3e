"""RAdam (PyTorch's ``RAdam``): Adam with a rectified adaptive learning rate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim._validate import check_betas, check_common
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam, step for step as ``torch.optim.RAdam``.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t`::

        p   <- p * (1 - lr * weight_decay)    if decoupled_weight_decay (RAdamW)
        g_t <- g_t + weight_decay * p         otherwise, if weight_decay != 0
        m_t  = m_{t-1} + (1 - beta1) * (g_t - m_{t-1});  m^ = m_t / (1 - beta1^t)
        v_t  = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        p   <- p - lr * m^ * r_t * sqrt(1 - beta2^t) / (sqrt(v_t) + eps)   if rho_t > 5
        p   <- p - lr * m^                                                  otherwise

    with ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``1e-3``).
        betas: ``(beta1, beta2)`` decay rates of the moment averages.
        eps: added to the denominator (default ``1e-8``).
        weight_decay: L2 penalty, or decoupled decay (default 0).
        decoupled_weight_decay: decay the parameters directly (RAdamW).
        foreach: accepted for PyTorch compatibility; a no-op (one code path).
        maximize: maximize the objective instead of minimizing it.
        capturable: accepted; a no-op (there are no CUDA graphs to capture).
        differentiable: accepted; a no-op (the step runs under ``no_grad``).

    State per parameter: ``step`` (float), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_common(lr, eps)
        check_betas(betas)
        check_common(lr, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize,
                                  "foreach": foreach, "capturable": capturable,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "differentiable": differentiable})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        exp_avgs, exp_avg_sqs, steps = [], [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["exp_avg"] = genesis.zeros_like(p)
                state["exp_avg_sq"] = genesis.zeros_like(p)
            state["step"] += 1
            steps.append(state["step"])
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
        beta1, beta2 = group["betas"]
        hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                 "weight_decay": group["weight_decay"], "maximize": group["maximize"]}
        grads = [p.grad for p in params]
        decoupled = group["decoupled_weight_decay"]
        kernel = fused_kernel(params, "radam_step")  # the backend's one-pass step, if any
        if kernel is not None and kernel(params, grads, exp_avgs, exp_avg_sqs, steps=steps,
                                         decoupled=decoupled, **hyper) is not NotImplemented:
            return
        F.radam(params, grads, exp_avgs, exp_avg_sqs, steps, decoupled_weight_decay=decoupled,
                **hyper)
