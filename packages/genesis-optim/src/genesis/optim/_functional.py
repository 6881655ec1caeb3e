"""The optimizers' math: pure update functions over lists of tensors (composite path).

Each function updates ``params`` and its state tensors in place, in the order
of operations of PyTorch's ``_single_tensor_*`` functions, with genesis
tensor ops only, so it runs on every backend. Callers run it under
:func:`genesis.no_grad`. A backend's fused kernel may replace a function
(``"adamw_step"`` replaces :func:`adam`, likewise ``"sgd_step"``, ``"rmsprop_step"``,
``"adagrad_step"``, ``"adamax_step"``, ``"adadelta_step"``, ``"radam_step"``,
``"nadam_step"``); the class code stays the same.
"""

from __future__ import annotations

import struct

import genesis
from genesis import Tensor

__all__ = ["adadelta", "adagrad", "adam", "adamax", "asgd", "nadam", "nadam_momentum",
           "nadam_mu_products", "radam", "rmsprop", "rprop", "scalar_state", "sgd"]


def scalar_state(value: float) -> float:
    """``value`` rounded as PyTorch stores a scalar state (a 0-d tensor of the default dtype).

    PyTorch keeps ``mu_product`` (NAdam) and ``eta``/``mu`` (ASGD) as 0-d float32
    tensors (float64 when that is the default dtype); the rounding feeds back
    into the next steps, so matching PyTorch step for step means rounding alike.
    """
    if genesis.get_default_dtype() is genesis.float64:
        return float(value)
    return struct.unpack("f", struct.pack("f", value))[0]


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


def adamax(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
           exp_infs: list[Tensor], steps: list[float], *, lr: float, beta1: float, beta2: float,
           eps: float, weight_decay: float, maximize: bool) -> None:
    """Adamax; ``steps[i]`` is parameter ``i``'s step count, already incremented."""
    for i, param in enumerate(params):
        grad = _decayed_grad(grads[i], param, maximize, weight_decay)
        exp_avg, exp_inf = exp_avgs[i], exp_infs[i]
        exp_avg.lerp_(grad if grad.dtype is exp_avg.dtype else grad.to(exp_avg.dtype), 1 - beta1)
        exp_inf.mul_(beta2).maximum_(grad.abs().add_(eps))
        clr = lr / (1 - beta1 ** steps[i])
        param.addcdiv_(exp_avg, exp_inf, value=-clr)


def adadelta(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor],
             acc_deltas: list[Tensor], *, lr: float, rho: float, eps: float,
             weight_decay: float, maximize: bool) -> None:
    """Adadelta."""
    for i, param in enumerate(params):
        grad = _decayed_grad(grads[i], param, maximize, weight_decay)
        square_avg, acc_delta = square_avgs[i], acc_deltas[i]
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-lr)


def _weight_decayed(grad: Tensor, param: Tensor, lr: float, weight_decay: float,
                    decoupled: bool) -> Tensor:
    """Apply decoupled decay to ``param`` in place, or return the L2-decayed gradient."""
    if weight_decay != 0:
        if decoupled:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    return grad


def nadam_momentum(beta1: float, momentum_decay: float, step: float) -> float:
    """NAdam's momentum coefficient ``mu_t`` for step ``step``."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


def nadam_mu_products(mu_products: list[float], steps: list[float], *, beta1: float,
                      momentum_decay: float) -> None:
    """Advance NAdam's ``mu_products[i]`` (in the list) by this step's ``mu``, rounded as
    PyTorch keeps it; done before the step, whichever path (fused or composite) runs it."""
    for i, step in enumerate(steps):
        mu = nadam_momentum(beta1, momentum_decay, step)
        mu_products[i] = scalar_state(mu_products[i] * scalar_state(mu))


def nadam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
          exp_avg_sqs: list[Tensor], mu_products: list[float], steps: list[float], *, lr: float,
          beta1: float, beta2: float, eps: float, weight_decay: float, momentum_decay: float,
          decoupled_weight_decay: bool, maximize: bool) -> None:
    """NAdam; ``mu_products[i]`` already includes this step (:func:`nadam_mu_products`)."""
    for i, param in enumerate(params):
        grad = -grads[i] if maximize else grads[i]
        exp_avg, exp_avg_sq, step = exp_avgs[i], exp_avg_sqs[i], steps[i]
        bias_correction2 = 1 - beta2**step
        grad = _weight_decayed(grad, param, lr, weight_decay, decoupled_weight_decay)
        mu = nadam_momentum(beta1, momentum_decay, step)
        mu_next = nadam_momentum(beta1, momentum_decay, step + 1)
        mu_product = mu_products[i]
        exp_avg.lerp_(grad if grad.dtype is exp_avg.dtype else grad.to(exp_avg.dtype), 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)
        mu_product_next = mu_product * mu_next
        param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
        param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))


def radam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
          exp_avg_sqs: list[Tensor], steps: list[float], *, lr: float, beta1: float,
          beta2: float, eps: float, weight_decay: float, decoupled_weight_decay: bool,
          maximize: bool) -> None:
    """RAdam: Adam with the variance rectification term once ``rho_t > 5``."""
    for i, param in enumerate(params):
        grad = -grads[i] if maximize else grads[i]
        exp_avg, exp_avg_sq, step = exp_avgs[i], exp_avg_sqs[i], steps[i]
        grad = _weight_decayed(grad, param, lr, weight_decay, decoupled_weight_decay)
        exp_avg.lerp_(grad if grad.dtype is exp_avg.dtype else grad.to(exp_avg.dtype), 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = (bias_correction2**0.5) / exp_avg_sq.sqrt().add_(eps)
            param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
        else:
            param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)


def rprop(params: list[Tensor], grads: list[Tensor], prevs: list[Tensor],
          step_sizes: list[Tensor], *, step_size_min: float, step_size_max: float,
          etaminus: float, etaplus: float, maximize: bool) -> None:
    """Rprop: per-element step sizes grown or shrunk by the sign agreement of gradients."""
    for i, param in enumerate(params):
        grad = -grads[i] if maximize else grads[i]
        prev, step_size = prevs[i], step_sizes[i]
        sign = grad.mul(prev).sign()
        shrink = sign.lt(0)  # PyTorch's sign.eq(etaminus) (0 < etaminus < 1 < etaplus)
        factor = genesis.ones_like(sign).masked_fill_(sign.gt(0), etaplus)
        step_size.mul_(factor.masked_fill_(shrink, etaminus)).clamp_(step_size_min,
                                                                     step_size_max)
        grad = grad.masked_fill(shrink, 0)
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)


def asgd(params: list[Tensor], grads: list[Tensor], axs: list[Tensor], mus: list[float],
         etas: list[float], steps: list[float], *, lr: float, lambd: float, alpha: float,
         t0: float, weight_decay: float, maximize: bool) -> None:
    """ASGD; ``etas[i]`` and ``mus[i]`` are updated in the lists (rounded as PyTorch's)."""
    for i, param in enumerate(params):
        grad = _decayed_grad(grads[i], param, maximize, weight_decay)
        ax, eta, mu, step = axs[i], etas[i], mus[i], steps[i]
        param.mul_(1 - lambd * eta)
        param.add_(grad, alpha=-eta)
        if mu != 1:
            ax.add_(param.sub(ax).mul_(mu))
        else:
            ax.copy_(param)
        etas[i] = scalar_state(lr / ((1 + lambd * lr * step) ** alpha))
        mus[i] = scalar_state(1 / max(1, step - t0))
