"""The optimizers' math: pure update functions over lists of tensors (composite path).

Each function updates ``params`` and its state tensors in place, in the order
of operations of PyTorch's ``_single_tensor_*`` functions, with genesis
tensor ops only, so it runs on every backend. Callers run it under
:func:`genesis.no_grad`. A backend's fused kernel may replace a function
(``"adamw_step"`` replaces :func:`adam`); the class code stays the same.
"""

from __future__ import annotations

from genesis import Tensor

__all__ = ["adagrad", "adam", "rmsprop", "sgd"]


def _decayed_grad(grad: Tensor, param: Tensor, maximize: bool, weight_decay: float) -> Tensor:
    """The gradient to step along: negated to maximize, plus L2 weight decay (coupled)."""
    grad = -grad if maximize else grad
    return grad.add(param, alpha=weight_decay) if weight_decay != 0 else grad


def sgd(params: list[Tensor], grads: list[Tensor], momentum_buffers: list[Tensor | None], *,
        lr: float, weight_decay: float, momentum: float, dampening: float, nesterov: bool,
        maximize: bool) -> None:
    """SGD; ``momentum_buffers[i]`` is created (a copy of the first gradient) when ``None``."""
    for i, param in enumerate(params):
        grad = _decayed_grad(grads[i], param, maximize, weight_decay)
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = momentum_buffers[i] = grad.detach().clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            grad = grad.add(buf, alpha=momentum) if nesterov else buf
        param.add_(grad, alpha=-lr)


def adam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
         exp_avg_sqs: list[Tensor], max_exp_avg_sqs: list[Tensor] | None, steps: list[float], *,
         lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
         maximize: bool, decoupled_weight_decay: bool) -> None:
    """Adam / AdamW; ``steps[i]`` is parameter ``i``'s step count, already incremented."""
    for i, param in enumerate(params):
        grad = -grads[i] if maximize else grads[i]
        exp_avg, exp_avg_sq = exp_avgs[i], exp_avg_sqs[i]
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        # states may be kept in another dtype than the gradient (dtype_policy); lerp_ wants one
        exp_avg.lerp_(grad if grad.dtype is exp_avg.dtype else grad.to(exp_avg.dtype), 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step = steps[i]
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        if amsgrad:
            max_exp_avg_sqs[i].maximum_(exp_avg_sq)
            denom = max_exp_avg_sqs[i].sqrt()
        else:
            denom = exp_avg_sq.sqrt()
        denom.div_(bias_correction2**0.5).add_(eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)


def rmsprop(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor],
            grad_avgs: list[Tensor] | None, momentum_buffers: list[Tensor] | None, *, lr: float,
            alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool,
            maximize: bool) -> None:
    """RMSprop (``grad_avgs`` when centered, ``momentum_buffers`` when momentum > 0)."""
    for i, param in enumerate(params):
        grad = _decayed_grad(grads[i], param, maximize, weight_decay)
        square_avg = square_avgs[i]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            grad_avg = grad_avgs[i]
            grad_avg.lerp_(grad if grad.dtype is grad_avg.dtype else grad.to(grad_avg.dtype),
                           1 - alpha)
            avg = (square_avg - grad_avg * grad_avg).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg.add_(eps)
        if momentum > 0:
            buf = momentum_buffers[i]
            buf.mul_(momentum).addcdiv_(grad, avg)
            param.add_(buf, alpha=-lr)
        else:
            param.addcdiv_(grad, avg, value=-lr)


def adagrad(params: list[Tensor], grads: list[Tensor], state_sums: list[Tensor],
            steps: list[float], *, lr: float, lr_decay: float, weight_decay: float, eps: float,
            maximize: bool) -> None:
    """Adagrad; ``steps[i]`` is parameter ``i``'s step count, already incremented."""
    for i, param in enumerate(params):
        grad = _decayed_grad(grads[i], param, maximize, weight_decay)
        clr = lr / (1 + (steps[i] - 1) * lr_decay)
        state_sums[i].addcmul_(grad, grad, value=1)
        std = state_sums[i].sqrt().add_(eps)
        param.addcdiv_(grad, std, value=-clr)
