"""Adam and AdamW (PyTorch's ``Adam`` / ``AdamW``), with the backend's fused step when present."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import genesis
from genesis import Tensor
from genesis.optim import _functional as F
from genesis.optim.optimizer import Optimizer, fused_kernel

__all__ = ["Adam", "AdamW"]

FUSED_KERNEL = "adamw_step"


class Adam(Optimizer):
    r"""Adam, step for step as ``torch.optim.Adam``.

    With gradient :math:`g_t` (negated when ``maximize``) and step :math:`t`::

        p   <- p * (1 - lr * weight_decay)        if decoupled_weight_decay (AdamW)
        g_t <- g_t + weight_decay * p             otherwise, if weight_decay != 0
        m_t  = m_{t-1} + (1 - beta1) * (g_t - m_{t-1})          (lerp)
        v_t  = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        v^   = max(v^_{t-1}, v_t) if amsgrad else v_t
        p   <- p - lr / (1 - beta1^t) * m_t / (sqrt(v^) / sqrt(1 - beta2^t) + eps)

    Args:
        params: tensors, ``(name, tensor)`` pairs or param-group dicts.
        lr: learning rate (default ``1e-3``).
        betas: ``(beta1, beta2)`` decay rates of the moment averages.
        eps: added to the denominator for stability (default ``1e-8``).
        weight_decay: L2 penalty, or decoupled decay with
            ``decoupled_weight_decay=True`` (default 0).
        amsgrad: use the running maximum of the second moment (AMSGrad).
        maximize: maximize the objective instead of minimizing it.
        fused: ``None`` (default) uses the device backend's fused ``"adamw_step"``
            kernel when every parameter of a group is on one device whose backend
            has it, else the composite tensor-op path; ``True`` requires the
            kernel; ``False`` always takes the composite path.
        decoupled_weight_decay: apply weight decay to the parameters directly
            (AdamW) instead of adding it to the gradient.

    State per parameter: ``step`` (float), ``exp_avg``, ``exp_avg_sq`` and,
    with amsgrad, ``max_exp_avg_sq``.

    Example:
        >>> import genesis
        >>> w = genesis.tensor([1.0, -1.0], requires_grad=True)
        >>> opt = genesis.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> [round(x, 4) for x in w.tolist()]
        [0.9, -0.9]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (lr must be >= 0)")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps} (eps must be >= 0)")
        if len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} "
                                 f"(betas[{i}] must be in [0, 1))")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} "
                             "(weight_decay must be >= 0)")
        if fused not in (None, True, False):
            raise ValueError(f"Invalid fused value: {fused!r} (expected None, True or False)")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize, "fused": fused,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        amsgrad = group["amsgrad"]
        exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], []
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = 0.0
                state["exp_avg"] = genesis.zeros_like(p)
                state["exp_avg_sq"] = genesis.zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = genesis.zeros_like(p)
            elif amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = genesis.zeros_like(p)
            state["step"] += 1
            steps.append(state["step"])
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if amsgrad:
                max_exp_avg_sqs.append(state["max_exp_avg_sq"])
        beta1, beta2 = group["betas"]
        hyper = {"lr": group["lr"], "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                 "weight_decay": group["weight_decay"], "amsgrad": amsgrad,
                 "maximize": group["maximize"]}
        grads = [p.grad for p in params]
        maxes = max_exp_avg_sqs if amsgrad else None
        decoupled = group["decoupled_weight_decay"]
        kernel = _fused_kernel(params, group["fused"])
        if kernel is not None:
            done = kernel(params, grads, exp_avgs, exp_avg_sqs, maxes, steps=steps,
                          decoupled=decoupled, **hyper)
            if done is not NotImplemented:
                return
            if group["fused"]:
                raise RuntimeError(f"fused=True: the {FUSED_KERNEL!r} kernel of device "
                                   f"{params[0].device} does not handle dtype "
                                   f"{params[0].dtype} (or a mix of dtypes)")
        F.adam(params, grads, exp_avgs, exp_avg_sqs, maxes, steps,
               decoupled_weight_decay=decoupled, **hyper)


class AdamW(Adam):
    r"""Adam with decoupled weight decay, step for step as ``torch.optim.AdamW``.

    The update of :class:`Adam` with ``decoupled_weight_decay=True``: the
    parameters shrink by ``p <- p * (1 - lr * weight_decay)`` before the Adam
    step, and the gradient is left alone. Default ``weight_decay`` is ``1e-2``.
    Other arguments as :class:`Adam`.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         fused=fused, decoupled_weight_decay=True)


def _fused_kernel(params: list[Tensor], fused: bool | None) -> Callable | None:
    """The backend's ``adamw_step`` kernel if all ``params`` share one device that has it."""
    return fused_kernel(params, FUSED_KERNEL, fused)
