"""Adagrad (PyTorch's ``Adagrad``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, step for step as ``torch.optim.Adagrad``.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t`::

        g_t <- g_t + weight_decay * p                       if weight_decay != 0
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s_t  = s_{t-1} + g_t * g_t          (s_0 = initial_accumulator_value)
        p   <- p - lr_t * g_t / (sqrt(s_t) + eps)

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``1e-2``).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: added to the denominator (default ``1e-10``).
        maximize: maximize the objective instead of minimizing it.

    State per parameter, created at construction like PyTorch (and at the first
    step for groups added later): ``step`` (float) and ``sum``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay} (lr_decay must be >= 0)")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} "
                             "(weight_decay must be >= 0)")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value} (initial_accumulator_value must be "
                             ">= 0)")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps} (eps must be >= 0)")
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "maximize": maximize})
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> None:
        state = self.state[p]
        state["step"] = 0.0
        state["sum"] = genesis.full_like(p, group["initial_accumulator_value"])

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        state_sums, steps = [], []
        for p in params:
            state = self.state[p]
            if not state:
                self._init_state(p, group)
            state["step"] += 1
            steps.append(state["step"])
            state_sums.append(state["sum"])
        hyper = {"lr": group["lr"], "lr_decay": group["lr_decay"],
                 "weight_decay": group["weight_decay"], "eps": group["eps"],
                 "maximize": group["maximize"]}
        grads = [p.grad for p in params]
        kernel = fused_kernel(params, "adagrad_step")  # the backend's one-pass step, if any
        if kernel is not None and kernel(params, grads, state_sums, steps=steps,
                                         **hyper) is not NotImplemented:
            return
        F.adagrad(params, grads, state_sums, steps, **hyper)
