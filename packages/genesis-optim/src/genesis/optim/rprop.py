"""Rprop (PyTorch's ``Rprop``): resilient backpropagation, sign-based per-element steps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim._validate import check_common
from genesis.optim.optimizer import Optimizer

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Rprop, step for step as ``torch.optim.Rprop``.

    With gradient :math:`g_t` (negated when ``maximize``), elementwise::

        s = sign(g_t * g_{t-1})
        eta_t = etaplus if s > 0, etaminus if s < 0, else 1
        step_t = clamp(step_{t-1} * eta_t, step_size_min, step_size_max)   (step_0 = lr)
        g_t <- 0 where s < 0
        p   <- p - sign(g_t) * step_t;   g_{t-1} <- g_t

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: the initial step size (default ``1e-2``).
        etas: ``(etaminus, etaplus)``, with ``0 < etaminus < 1 < etaplus``
            (default ``(0.5, 1.2)``).
        step_sizes: ``(step_size_min, step_size_max)`` (default ``(1e-6, 50)``).
        capturable: accepted; a no-op (there are no CUDA graphs to capture).
        foreach: accepted for PyTorch compatibility; a no-op (one code path).
        maximize: maximize the objective instead of minimizing it.
        differentiable: accepted; a no-op (the step runs under ``no_grad``).

    State per parameter: ``step`` (float), ``prev`` (the last gradient used),
    ``step_size``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_common(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]} (expected "
                             "0 < etaminus < 1 < etaplus)")
        super().__init__(params, {"lr": lr, "etas": etas, "step_sizes": step_sizes,
                                  "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "capturable": capturable})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        prevs, step_sizes = [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["prev"] = genesis.zeros_like(p)
                state["step_size"] = genesis.full_like(p.grad, group["lr"])
            state["step"] += 1
            prevs.append(state["prev"])
            step_sizes.append(state["step_size"])
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        F.rprop(params, [p.grad for p in params], prevs, step_sizes,
                step_size_min=step_size_min, step_size_max=step_size_max, etaminus=etaminus,
                etaplus=etaplus, maximize=group["maximize"])
