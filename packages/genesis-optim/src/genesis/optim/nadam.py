"""NAdam (PyTorch's ``NAdam``): Adam with Nesterov momentum and a momentum schedule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim._validate import check_betas, check_common
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam, step for step as ``torch.optim.NAdam``.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t`::

        p   <- p * (1 - lr * weight_decay)    if decoupled_weight_decay (NAdamW)
        g_t <- g_t + weight_decay * p         otherwise, if weight_decay != 0
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));   P_t = P_{t-1} * mu_t
        m_t  = m_{t-1} + (1 - beta1) * (g_t - m_{t-1})
        v_t  = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        d    = sqrt(v_t / (1 - beta2^t)) + eps
        p   <- p - lr * (1 - mu_t) / (1 - P_t) * g_t / d
                 - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m_t / d

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``2e-3``).
        betas: ``(beta1, beta2)`` decay rates of the moment averages.
        eps: added to the denominator (default ``1e-8``).
        weight_decay: L2 penalty, or decoupled decay (default 0).
        momentum_decay: the momentum schedule's decay ``psi`` (default ``4e-3``).
        decoupled_weight_decay: decay the parameters directly (NAdamW).
        foreach: accepted for PyTorch compatibility; a no-op (one code path).
        maximize: maximize the objective instead of minimizing it.
        capturable: accepted; a no-op (there are no CUDA graphs to capture).
        differentiable: accepted; a no-op (the step runs under ``no_grad``).

    State per parameter: ``step`` and ``mu_product`` (floats; PyTorch keeps 0-d
    tensors, and ``mu_product`` is rounded to float32 as PyTorch's is),
    ``exp_avg``, ``exp_avg_sq``.
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_common(lr, eps)
        check_betas(betas)
        check_common(lr, weight_decay=weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay} "
                             "(momentum_decay must be >= 0)")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        exp_avgs, exp_avg_sqs, mu_products, steps = [], [], [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["mu_product"] = 1.0
                state["exp_avg"] = genesis.zeros_like(p)
                state["exp_avg_sq"] = genesis.zeros_like(p)
            state["step"] += 1
            steps.append(state["step"])
            mu_products.append(state["mu_product"])
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
        beta1, beta2 = group["betas"]
        F.nadam_mu_products(mu_products, steps, beta1=beta1,
                            momentum_decay=group["momentum_decay"])
        hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                 "weight_decay": group["weight_decay"],
                 "momentum_decay": group["momentum_decay"], "maximize": group["maximize"]}
        grads = [p.grad for p in params]
        decoupled = group["decoupled_weight_decay"]
        kernel = fused_kernel(params, "nadam_step")  # the backend's one-pass step, if any
        if kernel is None or kernel(params, grads, exp_avgs, exp_avg_sqs, steps=steps,
                                    mu_products=mu_products, decoupled=decoupled,
                                    **hyper) is NotImplemented:
            F.nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps,
                    decoupled_weight_decay=decoupled, **hyper)
        for p, mu_product in zip(params, mu_products):
            self.state[p]["mu_product"] = mu_product
