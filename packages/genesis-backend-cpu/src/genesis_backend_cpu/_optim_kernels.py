"""Optimizer steps as compiled one-pass loops, each with its numpy reference beside it.

Each ``_*_kernel`` reads every element of a parameter and its state once, does the
whole update in registers and writes the results back: one pass over memory where
the numpy reference (``_*_block``) makes ten or more. The kernels take flat
C-contiguous arrays of one dtype and their scalars already rounded to that dtype,
so the arithmetic is the dtype's, as in the reference (numpy rounds a Python float
to the array's dtype too), in the same order of operations.
"""

from __future__ import annotations

import functools

import numpy as np

from genesis_backend_cpu._compiled import compiled


@compiled(inline=True)
def l2_grad(gi, pi, weight_decay, maximize):
    """The gradient as the step sees it: negated for ``maximize``, plus ``weight_decay * p``
    (L2 decay, PyTorch's ``g.add(p, alpha=weight_decay)``)."""
    gi = -gi if maximize else gi
    return gi + pi * weight_decay if weight_decay != 0 else gi


@compiled(inline="llvm")  # a tuple: numba's inlining would stop the loops vectorizing
def adam_moments(gi, pi, mi, vi, decay, weight_decay, one_minus_beta1, beta2, one_minus_beta2,
                 maximize, decoupled):
    """The Adam family's first part: weight decay (decoupled: ``p *= decay``, else L2 on the
    gradient), then ``m.lerp_(g, 1 - beta1)`` and ``v.mul_(beta2).addcmul_(g, g, 1 - beta2)``.
    Returns ``(g, p, m, v)``."""
    if decoupled or weight_decay == 0:
        gi = -gi if maximize else gi
        if weight_decay != 0:
            pi = pi * decay
    else:
        gi = l2_grad(gi, pi, weight_decay, maximize)
    mi = mi + (gi - mi) * one_minus_beta1
    return gi, pi, mi, vi * beta2 + gi * one_minus_beta2 * gi


def l2_grad_reference(p, g, a, c, *, weight_decay: float, maximize: bool) -> np.ndarray:
    """numpy :func:`l2_grad`: the (negated for ``maximize``) gradient plus
    ``weight_decay * p``, in scratch ``c`` when it differs from ``g``; ``a``: scratch."""
    if maximize:
        g = np.negative(g, out=c)
    if weight_decay != 0:                          # g = g.add(p, alpha=weight_decay)
        np.multiply(p, weight_decay, out=a)
        g = np.add(g, a, out=c)
    return g


def adam_moments_reference(p, g, m, v, a, c, *, lr: float, beta1: float, beta2: float,
                           weight_decay: float, maximize: bool, decoupled: bool) -> np.ndarray:
    """numpy :func:`adam_moments`, in place on ``p``, ``m``, ``v``; returns the gradient
    used (``c`` when changed); ``a``: scratch."""
    if decoupled and weight_decay != 0:
        p *= 1 - lr * weight_decay
    g = l2_grad_reference(p, g, a, c, weight_decay=0 if decoupled else weight_decay,
                          maximize=maximize)
    np.subtract(g, m, out=a)                      # m.lerp_(g, 1 - beta1)
    a *= 1 - beta1
    m += a
    v *= beta2                                    # v.mul_(beta2).addcmul_(g, g, 1 - beta2)
    np.multiply(g, 1 - beta2, out=a)
    a *= g
    v += a
    return g


# ---------------------------------------------------------------------------- Adam / AdamW


@compiled()
def adam_kernel(p, g, m, v, vmax, decay, weight_decay, one_minus_beta1, beta2,
                 one_minus_beta2, eps_scaled, inv_neg_step, maximize, decoupled, amsgrad,
                 move_params):
    """Adam(W) over flat arrays; ``vmax`` is ``v`` itself unless ``amsgrad``."""
    for i in range(p.size):
        gi, pi, mi, vi = adam_moments(g[i], p[i], m[i], v[i], decay, weight_decay,
                                      one_minus_beta1, beta2, one_minus_beta2, maximize,
                                      decoupled)
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vm = vmax[i]
            if vi > vm or vi != vi:  # np.maximum: NaN wins
                vm = vi
            vmax[i] = vm
            vi = vm
        if move_params:
            pi = pi + mi / ((np.sqrt(vi) + eps_scaled) * inv_neg_step)
        p[i] = pi


@functools.lru_cache(maxsize=64)
def _adam_scalars(dtype: np.dtype, lr: float, beta1: float, beta2: float,
                  weight_decay: float) -> tuple:
    """The step-independent scalars of :func:`adam_kernel` in ``dtype`` (made once, not per
    parameter: a step over many tensors spends its overhead here)."""
    t = dtype.type
    return t(1 - lr * weight_decay), t(weight_decay), t(1 - beta1), t(beta2), t(1 - beta2)


def adam_compiled(p, g, m, v, vmax, *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
                  decoupled, step_size, bias_correction2_sqrt) -> None:
    """Run :func:`adam_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    s = bias_correction2_sqrt
    adam_kernel(p, g, m, v, v if vmax is None else vmax,
                *_adam_scalars(p.dtype, lr, beta1, beta2, weight_decay), t(eps * s),
                t(1 / (-step_size * s)) if step_size != 0 else t(0), maximize, decoupled, amsgrad,
                step_size != 0)


def adam_reference(p, g, m, v, vmax, a, b, c, *, lr, beta1, beta2, eps, weight_decay, amsgrad,
                   maximize, decoupled, step_size, bias_correction2_sqrt) -> None:
    """One Adam(W) step with numpy ufuncs on equal-shaped arrays; ``a``, ``b``, ``c`` are
    scratch.

    PyTorch's single-tensor order of operations (``lerp_``, ``mul_`` then
    ``addcmul_``), except that the denominator is folded into one fewer pass:
    ``p += -step_size * m / (sqrt(v) / s + eps)`` is computed as
    ``p += m / ((sqrt(v) + eps * s) / (-step_size * s))`` with ``s`` the square
    root of the second bias correction (the same value up to rounding).
    """
    g = adam_moments_reference(p, g, m, v, a, c, lr=lr, beta1=beta1, beta2=beta2,
                               weight_decay=weight_decay, maximize=maximize,
                               decoupled=decoupled)
    if amsgrad:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    if step_size == 0:  # lr == 0 (e.g. the first warmup step): moments move, params do not
        return
    np.sqrt(v, out=a)
    a += eps * bias_correction2_sqrt
    a *= 1 / (-step_size * bias_correction2_sqrt)
    np.divide(m, a, out=a)
    p += a


# ----------------------------------------------------------------------------------- SGD


@compiled()
def sgd_kernel(p, g, buf, neg_lr, weight_decay, momentum, one_minus_dampening, first,
                nesterov, maximize):
    """SGD over flat arrays; ``buf`` is ignored when ``momentum == 0``."""
    for i in range(p.size):
        gi = l2_grad(g[i], p[i], weight_decay, maximize)
        if momentum != 0:
            if first:
                b = gi
            elif one_minus_dampening == 1:  # g * 1.0 is g: as the reference, no product
                b = buf[i] * momentum + gi
            else:
                b = buf[i] * momentum + gi * one_minus_dampening
            buf[i] = b
            gi = gi + b * momentum if nesterov else b
        p[i] = p[i] + gi * neg_lr


def sgd_compiled(p, g, buf, *, first, lr, weight_decay, momentum, dampening, nesterov,
                 maximize) -> None:
    """Run :func:`sgd_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    sgd_kernel(p, g, p if buf is None else buf, t(-lr), t(weight_decay), t(momentum),
               t(1 - dampening), first, nesterov, maximize)


def sgd_reference(p, g, buf, a, b, c, *, first, lr, weight_decay, momentum, dampening,
                  nesterov, maximize) -> None:
    """One SGD step with numpy ufuncs in PyTorch's order of operations; a, c: scratch."""
    g = l2_grad_reference(p, g, a, c, weight_decay=weight_decay, maximize=maximize)
    if momentum != 0:
        if first:                                  # buf = g.clone()
            np.copyto(buf, g)
        else:                                      # buf.mul_(momentum).add_(g, 1 - dampening)
            buf *= momentum
            if dampening == 0:  # g * 1.0 is g exactly: one pass less
                buf += g
            else:
                np.multiply(g, 1 - dampening, out=a)
                buf += a
        if nesterov:                               # g = g.add(buf, alpha=momentum)
            np.multiply(buf, momentum, out=a)
            g = np.add(g, a, out=c)
        else:
            g = buf
    np.multiply(g, -lr, out=a)                     # p.add_(g, alpha=-lr)
    p += a


# ------------------------------------------------------------------------------- RMSprop


@compiled()
def rmsprop_kernel(p, g, sq, gavg, buf, neg_lr, alpha, one_minus_alpha, eps, weight_decay,
                    momentum, centered, use_momentum, maximize):
    """RMSprop over flat arrays; ``gavg``/``buf`` are ignored unless centered/momentum."""
    for i in range(p.size):
        gi = l2_grad(g[i], p[i], weight_decay, maximize)
        s = sq[i] * alpha + one_minus_alpha * gi * gi
        sq[i] = s
        if centered:
            ga = gavg[i]
            ga = ga + (gi - ga) * one_minus_alpha
            gavg[i] = ga
            s = s - ga * ga
        avg = np.sqrt(s) + eps
        if use_momentum:
            b = buf[i] * momentum + gi / avg
            buf[i] = b
            p[i] = p[i] + neg_lr * b
        else:
            p[i] = p[i] + neg_lr * gi / avg


def rmsprop_compiled(p, g, sq, gavg, buf, *, lr, alpha, eps, weight_decay, momentum, centered,
                     maximize) -> None:
    """Run :func:`rmsprop_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    rmsprop_kernel(p, g, sq, p if gavg is None else gavg, p if buf is None else buf, t(-lr),
                   t(alpha), t(1 - alpha), t(eps), t(weight_decay), t(momentum), centered,
                   momentum > 0, maximize)


def rmsprop_reference(p, g, sq, gavg, buf, a, b, c, *, lr, alpha, eps, weight_decay, momentum,
                      centered, maximize) -> None:
    """One RMSprop step with numpy ufuncs in PyTorch's order of operations; a-c: scratch."""
    g = l2_grad_reference(p, g, a, c, weight_decay=weight_decay, maximize=maximize)
    sq *= alpha                                    # sq.mul_(alpha).addcmul_(g, g, 1 - alpha)
    np.multiply(g, 1 - alpha, out=a)
    a *= g
    sq += a
    if centered:                                   # gavg.lerp_(g, 1 - alpha)
        np.subtract(g, gavg, out=a)
        a *= 1 - alpha
        gavg += a
        np.multiply(gavg, gavg, out=a)             # avg = (sq - gavg * gavg).sqrt()
        np.subtract(sq, a, out=a)
        np.sqrt(a, out=a)
    else:
        np.sqrt(sq, out=a)
    a += eps
    if momentum > 0:                               # buf.mul_(momentum).addcdiv_(g, avg)
        buf *= momentum
        np.divide(g, a, out=b)
        buf += b
        np.multiply(buf, -lr, out=a)               # p.add_(buf, alpha=-lr)
    else:                                          # p.addcdiv_(g, avg, value=-lr)
        np.multiply(g, -lr, out=b)
        np.divide(b, a, out=a)
    p += a


# ------------------------------------------------------------------------------- Adagrad


@compiled()
def adagrad_kernel(p, g, state_sum, neg_clr, eps, weight_decay, maximize):
    """Adagrad over flat arrays."""
    for i in range(p.size):
        gi = l2_grad(g[i], p[i], weight_decay, maximize)
        s = state_sum[i] + gi * gi
        state_sum[i] = s
        p[i] = p[i] + neg_clr * gi / (np.sqrt(s) + eps)


def adagrad_compiled(p, g, state_sum, *, clr, eps, weight_decay, maximize) -> None:
    """Run :func:`adagrad_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    adagrad_kernel(p, g, state_sum, t(-clr), t(eps), t(weight_decay), maximize)


def adagrad_reference(p, g, state_sum, a, b, c, *, clr, eps, weight_decay, maximize) -> None:
    """One Adagrad step with numpy ufuncs in PyTorch's order of operations; a-c: scratch."""
    g = l2_grad_reference(p, g, a, c, weight_decay=weight_decay, maximize=maximize)
    np.multiply(g, g, out=a)                       # state_sum.addcmul_(g, g, value=1)
    state_sum += a
    np.sqrt(state_sum, out=a)                      # std = state_sum.sqrt().add_(eps)
    a += eps
    np.multiply(g, -clr, out=b)                    # p.addcdiv_(g, std, value=-clr)
    np.divide(b, a, out=a)
    p += a


# -------------------------------------------------------------------------------- Adamax


@compiled()
def adamax_kernel(p, g, m, u, neg_clr, one_minus_beta1, beta2, eps, weight_decay, maximize):
    """Adamax over flat arrays (``u`` the infinity norm)."""
    for i in range(p.size):
        gi = l2_grad(g[i], p[i], weight_decay, maximize)
        mi = m[i]
        mi = mi + (gi - mi) * one_minus_beta1
        m[i] = mi
        ui = u[i] * beta2
        a = (-gi if gi < 0 else gi) + eps
        if a > ui or a != a:  # np.maximum: NaN wins
            ui = a
        u[i] = ui
        p[i] = p[i] + neg_clr * mi / ui


def adamax_compiled(p, g, m, u, *, clr, beta1, beta2, eps, weight_decay, maximize) -> None:
    """Run :func:`adamax_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    adamax_kernel(p, g, m, u, t(-clr), t(1 - beta1), t(beta2), t(eps), t(weight_decay), maximize)


def adamax_reference(p, g, m, u, a, b, c, *, clr, beta1, beta2, eps, weight_decay,
                     maximize) -> None:
    """One Adamax step with numpy ufuncs in PyTorch's order of operations; a-c: scratch."""
    g = l2_grad_reference(p, g, a, c, weight_decay=weight_decay, maximize=maximize)
    np.subtract(g, m, out=a)                       # m.lerp_(g, 1 - beta1)
    a *= 1 - beta1
    m += a
    u *= beta2                                     # u = max(u * beta2, |g| + eps)
    np.abs(g, out=a)
    a += eps
    np.maximum(u, a, out=u)
    np.multiply(m, -clr, out=a)                    # p.addcdiv_(m, u, value=-clr)
    np.divide(a, u, out=a)
    p += a


# ------------------------------------------------------------------------------ Adadelta


@compiled()
def adadelta_kernel(p, g, sq, acc, neg_lr, rho, one_minus_rho, eps, weight_decay, maximize):
    """Adadelta over flat arrays."""
    for i in range(p.size):
        gi = l2_grad(g[i], p[i], weight_decay, maximize)
        s = sq[i] * rho + one_minus_rho * gi * gi
        sq[i] = s
        delta = np.sqrt(acc[i] + eps) / np.sqrt(s + eps) * gi
        acc[i] = acc[i] * rho + one_minus_rho * delta * delta
        p[i] = p[i] + neg_lr * delta


def adadelta_compiled(p, g, sq, acc, *, lr, rho, eps, weight_decay, maximize) -> None:
    """Run :func:`adadelta_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    adadelta_kernel(p, g, sq, acc, t(-lr), t(rho), t(1 - rho), t(eps), t(weight_decay), maximize)


def adadelta_reference(p, g, sq, acc, a, b, c, *, lr, rho, eps, weight_decay,
                       maximize) -> None:
    """One Adadelta step with numpy ufuncs in PyTorch's order of operations; a-c: scratch."""
    g = l2_grad_reference(p, g, a, c, weight_decay=weight_decay, maximize=maximize)
    sq *= rho                                      # sq.mul_(rho).addcmul_(g, g, 1 - rho)
    np.multiply(g, 1 - rho, out=a)
    a *= g
    sq += a
    np.add(sq, eps, out=b)                         # std = (sq + eps).sqrt()
    np.sqrt(b, out=b)
    np.add(acc, eps, out=a)                        # delta = (acc + eps).sqrt() / std * g
    np.sqrt(a, out=a)
    a /= b
    a *= g
    acc *= rho                                     # acc.mul_(rho).addcmul_(d, d, 1 - rho)
    np.multiply(a, 1 - rho, out=b)
    b *= a
    acc += b
    a *= -lr                                       # p.add_(delta, alpha=-lr)
    p += a


# --------------------------------------------------------------------------------- RAdam


@compiled()
def radam_kernel(p, g, m, v, decay, weight_decay, one_minus_beta1, beta2, one_minus_beta2,
                 bias_correction1, lr, bias_correction2_sqrt, eps, rect, rectified, maximize,
                 decoupled):
    """RAdam over flat arrays (``rectified``: ``rho_t > 5``, the adaptive step)."""
    for i in range(p.size):
        gi, pi, mi, vi = adam_moments(g[i], p[i], m[i], v[i], decay, weight_decay,
                                      one_minus_beta1, beta2, one_minus_beta2, maximize,
                                      decoupled)
        m[i] = mi
        v[i] = vi
        step = mi / bias_correction1 * lr
        if rectified:
            step = step * (bias_correction2_sqrt / (np.sqrt(vi) + eps)) * rect
        p[i] = pi - step


def radam_compiled(p, g, m, v, *, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
                   step) -> None:
    """Run :func:`radam_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    rect, rectified = radam_rectification(beta2, step)
    radam_kernel(p, g, m, v, t(1 - lr * weight_decay), t(weight_decay), t(1 - beta1), t(beta2),
                 t(1 - beta2), t(1 - beta1**step), t(lr), t((1 - beta2**step) ** 0.5), t(eps),
                 t(rect), rectified, maximize, decoupled)


def radam_rectification(beta2: float, step: float) -> tuple[float, bool]:
    """RAdam's ``(r_t, rho_t > 5)`` for step ``step`` (``r_t`` is 0 when not rectified)."""
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / (1 - beta2**step)
    if rho_t <= 5.0:
        return 0.0, False
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) \
        ** 0.5, True


def radam_reference(p, g, m, v, a, b, c, *, lr, beta1, beta2, eps, weight_decay, decoupled,
                    maximize, step) -> None:
    """One RAdam step with numpy ufuncs in PyTorch's order of operations; a-c: scratch."""
    g = adam_moments_reference(p, g, m, v, a, c, lr=lr, beta1=beta1, beta2=beta2,
                               weight_decay=weight_decay, maximize=maximize,
                               decoupled=decoupled)
    rect, rectified = radam_rectification(beta2, step)
    np.divide(m, 1 - beta1**step, out=a)           # m / bias_correction1 * lr
    a *= lr
    if rectified:                                  # * (sqrt(bc2) / (sqrt(v) + eps)) * rect
        np.sqrt(v, out=b)
        b += eps
        np.divide((1 - beta2**step) ** 0.5, b, out=b)
        a *= b
        a *= rect
    p -= a


# --------------------------------------------------------------------------------- NAdam


@compiled()
def nadam_kernel(p, g, m, v, decay, weight_decay, one_minus_beta1, beta2, one_minus_beta2,
                 bias_correction2, eps, grad_coef, avg_coef, maximize, decoupled):
    """NAdam over flat arrays: ``p += grad_coef g / d + avg_coef m / d``,
    ``d = sqrt(v / bias_correction2) + eps``."""
    for i in range(p.size):
        gi, pi, mi, vi = adam_moments(g[i], p[i], m[i], v[i], decay, weight_decay,
                                      one_minus_beta1, beta2, one_minus_beta2, maximize,
                                      decoupled)
        m[i] = mi
        v[i] = vi
        d = np.sqrt(vi / bias_correction2) + eps
        pi = pi + grad_coef * gi / d
        p[i] = pi + avg_coef * mi / d


def nadam_coefficients(lr: float, beta1: float, momentum_decay: float, step: float,
                       mu_product: float) -> tuple[float, float]:
    """NAdam's two step sizes (of the gradient and of the first moment), PyTorch's formulas;
    ``mu_product`` already includes this step's ``mu``."""
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    return (-lr * (1.0 - mu) / (1.0 - mu_product),
            (-lr * mu_next) / (1.0 - mu_product * mu_next))


def nadam_compiled(p, g, m, v, *, lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
                   step, grad_coef, avg_coef) -> None:
    """Run :func:`nadam_kernel` on flat arrays with the scalars in their dtype."""
    t = p.dtype.type
    nadam_kernel(p, g, m, v, t(1 - lr * weight_decay), t(weight_decay), t(1 - beta1), t(beta2),
                 t(1 - beta2), t(1 - beta2**step), t(eps), t(grad_coef), t(avg_coef), maximize,
                 decoupled)


def nadam_reference(p, g, m, v, a, b, c, *, lr, beta1, beta2, eps, weight_decay, decoupled,
                    maximize, step, grad_coef, avg_coef) -> None:
    """One NAdam step with numpy ufuncs in PyTorch's order of operations; a-c: scratch."""
    g = adam_moments_reference(p, g, m, v, a, c, lr=lr, beta1=beta1, beta2=beta2,
                               weight_decay=weight_decay, maximize=maximize,
                               decoupled=decoupled)
    np.divide(v, 1 - beta2**step, out=b)           # d = (v / bc2).sqrt() + eps
    np.sqrt(b, out=b)
    b += eps
    np.multiply(g, grad_coef, out=a)               # p.addcdiv_(g, d, value=grad_coef)
    a /= b
    p += a
    np.multiply(m, avg_coef, out=a)                # p.addcdiv_(m, d, value=avg_coef)
    a /= b
    p += a
