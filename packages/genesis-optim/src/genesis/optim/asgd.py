"""ASGD (PyTorch's ``ASGD``): averaged stochastic gradient descent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim._validate import check_common
from genesis.optim.optimizer import Optimizer

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD, step for step as ``torch.optim.ASGD``.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t`::

        g_t <- g_t + weight_decay * p                       if weight_decay != 0
        p   <- p * (1 - lambd * eta_{t-1}) - eta_{t-1} * g_t         (eta_0 = lr)
        ax  <- ax + mu_{t-1} * (p - ax)     (ax <- p while mu = 1)   (mu_0 = 1)
        eta_t = lr / (1 + lambd * lr * t)^alpha;   mu_t = 1 / max(1, t - t0)

    ``ax`` is the running average of the parameters (averaging starts at step ``t0``).

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``1e-2``).
        lambd: decay term (default ``1e-4``).
        alpha: power of the eta update (default 0.75).
        t0: step at which averaging starts (default ``1e6``).
        weight_decay: L2 penalty (default 0).
        foreach: accepted for PyTorch compatibility; a no-op (one code path).
        maximize: maximize the objective instead of minimizing it.
        differentiable: accepted; a no-op (the step runs under ``no_grad``).
        capturable: accepted; a no-op (there are no CUDA graphs to capture).

    State per parameter: ``step``, ``eta`` and ``mu`` (floats; PyTorch keeps
    0-d tensors, and ``eta``/``mu`` are rounded to float32 as PyTorch's are), ``ax``.
    """

    _scalar_state = ("step", "eta", "mu")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_common(lr, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        axs, mus, etas, steps = [], [], [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["eta"] = F.scalar_state(group["lr"])
                state["mu"] = 1.0
                state["ax"] = genesis.zeros_like(p)
            state["step"] += 1
            steps.append(state["step"])
            axs.append(state["ax"])
            mus.append(state["mu"])
            etas.append(state["eta"])
        F.asgd(params, [p.grad for p in params], axs, mus, etas, steps, lr=group["lr"],
               lambd=group["lambd"], alpha=group["alpha"], t0=group["t0"],
               weight_decay=group["weight_decay"], maximize=group["maximize"])
        for p, mu, eta in zip(params, mus, etas):
            self.state[p]["mu"] = mu
            self.state[p]["eta"] = eta
