"""Kit checks for the declared fused kernels that are not a composite's forward/backward pair:
the optimizer steps (AdamW, SGD, RMSprop, Adagrad, Adamax, Adadelta, RAdam, NAdam, each
against a float64 numpy step of PyTorch's formula), dropout (mask statistics and the exact
``x * mask / (1 - p)`` relation, forward and backward) and the linear-algebra factorizations
(through ``genesis.linalg``, against ``numpy.linalg`` in float64; factors that are unique
only up to signs are checked by what defines them).

:func:`uncovered_fused` names any kernel of ``protocol.FUSED_OPS`` the kit has no check for.
"""

from __future__ import annotations

import numpy as np

import genesis
import genesis.nn.functional as F
from genesis.backends import protocol
from genesis.testing._suite import ConformanceSkip, _backend, _rng

SHAPES = ((3, 4), (7,), (2, 2, 3))
#: step number of each parameter (a fused step receives them already incremented)
STEPS = (1.0, 4.0, 2.0)


def _kernel(device: str, name: str):
    kernel = _backend(device).capabilities.fused.get(name)
    if kernel is None:
        raise ConformanceSkip(f"backend {device!r} provides no fused kernel {name!r}")
    return kernel


def _state(device: str, name: str, dtype: str, extra: int) -> tuple:
    """float64 host arrays (params, grads, then ``extra`` state buffers) and device copies."""
    rng = _rng("fused", name, dtype)
    scales = (1.0, 1.0, 0.1, 0.01, 0.01)  # params, grads, first/second moments, their max
    host = [[rng.standard_normal(s) * scales[k] for s in SHAPES] for k in range(2 + extra)]
    for k in range(3, 2 + extra):  # second moments are non-negative
        host[k] = [np.abs(a) for a in host[k]]
    npd = genesis._tensor.numpy_dtype(genesis._dtype.dtype_from_name(dtype))
    host = [[a.astype(npd).astype(np.float64) for a in group] for group in host]
    dev = [[genesis.tensor(a, dtype=genesis._dtype.dtype_from_name(dtype), device=device)
            for a in group] for group in host]
    return host, dev


def _declined(done, name: str, dtype: str) -> None:
    if done is NotImplemented:
        raise ConformanceSkip(f"{name} declines dtype {dtype}")


def _expect(name: str, i: int, names: tuple, want, got) -> None:
    """Each state tensor of parameter ``i`` (``got``) equals its float64 reference."""
    for what, w, t in zip(names, want, got):
        np.testing.assert_allclose(t.numpy().astype(np.float64), w, rtol=2e-5, atol=1e-6,
                                   err_msg=f"{name} {what} [{i}]")


def _adam_moments(p, g, m, v, *, lr, beta1, beta2, weight_decay, decoupled, maximize):
    """The Adam family's weight decay and moments, float64: ``(g, p, m, v)`` after them."""
    g = -g if maximize else g
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    return g, p, m + (g - m) * (1 - beta1), v * beta2 + g * g * (1 - beta2)


def _adam_reference(p, g, m, v, vmax, step, *, lr, beta1, beta2, eps, weight_decay, amsgrad,
                    maximize, decoupled):
    g, p, m, v = _adam_moments(p, g, m, v, lr=lr, beta1=beta1, beta2=beta2,
                               weight_decay=weight_decay, decoupled=decoupled, maximize=maximize)
    bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
    if amsgrad:
        vmax = np.maximum(vmax, v)
    denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(bc2) + eps
    return p - lr / bc1 * m / denom, m, v, vmax


ADAM_SETTINGS = (
    dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, amsgrad=False,
         maximize=False, decoupled=True),
    dict(lr=3e-3, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.05, amsgrad=True,
         maximize=True, decoupled=False),
)


def check_fused_adamw_step(device: str, dtype: str = "float32") -> None:
    """``adamw_step`` moves params and both moments (and the AMSGrad max) as PyTorch's Adam(W)
    step does, in place, for parameters of different shapes and step counts."""
    kernel = _kernel(device, "adamw_step")
    for hyper in ADAM_SETTINGS:
        (p, g, m, v, vmax), (dp, dg, dm, dv, dvmax) = _state(device, "adamw", dtype, 3)
        done = kernel(dp, dg, dm, dv, dvmax if hyper["amsgrad"] else None, steps=list(STEPS),
                      **hyper)
        _declined(done, "adamw_step", dtype)
        for i, step in enumerate(STEPS):
            want = _adam_reference(p[i], g[i], m[i], v[i], vmax[i], step, **hyper)
            got = (dp[i], dm[i], dv[i], dvmax[i])
            for what, w, t in zip(("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), want,
                                  got):
                if what == "max_exp_avg_sq" and not hyper["amsgrad"]:
                    continue
                np.testing.assert_allclose(t.numpy().astype(np.float64), w, rtol=2e-5,
                                           atol=1e-6, err_msg=f"adamw_step {what} [{i}]")


def _sgd_reference(p, g, buf, first, *, lr, weight_decay, momentum, dampening, nesterov,
                   maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    if momentum:
        buf = g.copy() if first else buf * momentum + g * (1 - dampening)
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


SGD_SETTINGS = (
    dict(lr=0.1, weight_decay=0.01, momentum=0.9, dampening=0.0, nesterov=True,
         maximize=False),
    dict(lr=0.05, weight_decay=0.0, momentum=0.5, dampening=0.1, nesterov=False,
         maximize=True),
    dict(lr=0.2, weight_decay=0.1, momentum=0.0, dampening=0.0, nesterov=False,
         maximize=False),
)


def check_fused_sgd_step(device: str, dtype: str = "float32") -> None:
    """``sgd_step`` moves params and momentum buffers as PyTorch's SGD step does, with new
    buffers (``first``) taking the gradient."""
    kernel = _kernel(device, "sgd_step")
    first = [True, False, False]
    for hyper in SGD_SETTINGS:
        (p, g, buf), (dp, dg, dbuf) = _state(device, "sgd", dtype, 1)
        done = kernel(dp, dg, dbuf, first=list(first), **hyper)
        _declined(done, "sgd_step", dtype)
        for i in range(len(SHAPES)):
            want_p, want_buf = _sgd_reference(p[i], g[i], buf[i], first[i], **hyper)
            np.testing.assert_allclose(dp[i].numpy().astype(np.float64), want_p, rtol=2e-5,
                                       atol=1e-6, err_msg=f"sgd_step param [{i}]")
            if hyper["momentum"]:
                np.testing.assert_allclose(dbuf[i].numpy().astype(np.float64), want_buf,
                                           rtol=2e-5, atol=1e-6,
                                           err_msg=f"sgd_step momentum buffer [{i}]")


def _rmsprop_reference(p, g, sq, gavg, buf, *, lr, alpha, eps, weight_decay, momentum,
                       centered, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    sq = sq * alpha + (1 - alpha) * g * g
    if centered:
        gavg = gavg + (g - gavg) * (1 - alpha)
        avg = np.sqrt(sq - gavg * gavg) + eps
    else:
        avg = np.sqrt(sq) + eps
    if momentum > 0:
        buf = buf * momentum + g / avg
        return p - lr * buf, sq, gavg, buf
    return p - lr * g / avg, sq, gavg, buf


RMSPROP_SETTINGS = (
    dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
         maximize=False),
    dict(lr=3e-3, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True,
         maximize=True),
)


def check_fused_rmsprop_step(device: str, dtype: str = "float32") -> None:
    """``rmsprop_step`` moves params, the square average and (centered) gradient average and
    (momentum) buffer as PyTorch's RMSprop step does, in place."""
    kernel = _kernel(device, "rmsprop_step")
    for hyper in RMSPROP_SETTINGS:
        # gradient averages ~1e-2 (the last group) keep the centered variance positive
        (p, g, buf, sq, gavg), (dp, dg, dbuf, dsq, dgavg) = _state(device, "rmsprop", dtype, 3)
        done = kernel(dp, dg, dsq, dgavg if hyper["centered"] else None,
                      dbuf if hyper["momentum"] > 0 else None, **hyper)
        _declined(done, "rmsprop_step", dtype)
        for i in range(len(SHAPES)):
            want = _rmsprop_reference(p[i], g[i], sq[i], gavg[i], buf[i], **hyper)
            got = (dp[i], dsq[i], dgavg[i], dbuf[i])
            for what, w, t in zip(("param", "square_avg", "grad_avg", "momentum_buffer"), want,
                                  got):
                if (what == "grad_avg" and not hyper["centered"]) or (
                        what == "momentum_buffer" and not hyper["momentum"]):
                    continue
                np.testing.assert_allclose(t.numpy().astype(np.float64), w, rtol=2e-5,
                                           atol=1e-6, err_msg=f"rmsprop_step {what} [{i}]")


def _adagrad_reference(p, g, state_sum, step, *, lr, lr_decay, weight_decay, eps, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum = state_sum + g * g
    return p - clr * g / (np.sqrt(state_sum) + eps), state_sum


ADAGRAD_SETTINGS = (
    dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False),
    dict(lr=5e-2, lr_decay=0.1, weight_decay=0.1, eps=1e-6, maximize=True),
)


def check_fused_adagrad_step(device: str, dtype: str = "float32") -> None:
    """``adagrad_step`` moves params and the squared-gradient sum as PyTorch's Adagrad step
    does, in place, with the learning rate decayed by each parameter's step count."""
    kernel = _kernel(device, "adagrad_step")
    for hyper in ADAGRAD_SETTINGS:
        (p, g, _, s), (dp, dg, _, ds) = _state(device, "adagrad", dtype, 2)
        done = kernel(dp, dg, ds, steps=list(STEPS), **hyper)
        _declined(done, "adagrad_step", dtype)
        for i, step in enumerate(STEPS):
            want_p, want_s = _adagrad_reference(p[i], g[i], s[i], step, **hyper)
            np.testing.assert_allclose(dp[i].numpy().astype(np.float64), want_p, rtol=2e-5,
                                       atol=1e-6, err_msg=f"adagrad_step param [{i}]")
            np.testing.assert_allclose(ds[i].numpy().astype(np.float64), want_s, rtol=2e-5,
                                       atol=1e-6, err_msg=f"adagrad_step state_sum [{i}]")


def _adamax_reference(p, g, m, u, step, *, lr, beta1, beta2, eps, weight_decay, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    m = m + (g - m) * (1 - beta1)
    u = np.maximum(u * beta2, np.abs(g) + eps)
    return p - lr / (1 - beta1**step) * m / u, m, u


ADAMAX_SETTINGS = (
    dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, maximize=False),
    dict(lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1, maximize=True),
)


def check_fused_adamax_step(device: str, dtype: str = "float32") -> None:
    """``adamax_step`` moves params, the first moment and the infinity norm as PyTorch's
    Adamax step does, in place."""
    kernel = _kernel(device, "adamax_step")
    for hyper in ADAMAX_SETTINGS:
        (p, g, m, u), (dp, dg, dm, du) = _state(device, "adamax", dtype, 2)
        done = kernel(dp, dg, dm, du, steps=list(STEPS), **hyper)
        _declined(done, "adamax_step", dtype)
        for i, step in enumerate(STEPS):
            want = _adamax_reference(p[i], g[i], m[i], u[i], step, **hyper)
            _expect("adamax_step", i, ("param", "exp_avg", "exp_inf"), want, (dp[i], dm[i], du[i]))


def _adadelta_reference(p, g, sq, acc, *, lr, rho, eps, weight_decay, maximize):
    g = -g if maximize else g
    g = g + weight_decay * p
    sq = sq * rho + (1 - rho) * g * g
    delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
    acc = acc * rho + (1 - rho) * delta * delta
    return p - lr * delta, sq, acc


ADADELTA_SETTINGS = (
    dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
    dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True),
)


def check_fused_adadelta_step(device: str, dtype: str = "float32") -> None:
    """``adadelta_step`` moves params and both running averages as PyTorch's Adadelta step
    does, in place."""
    kernel = _kernel(device, "adadelta_step")
    for hyper in ADADELTA_SETTINGS:
        (p, g, _, sq, acc), (dp, dg, _, dsq, dacc) = _state(device, "adadelta", dtype, 3)
        done = kernel(dp, dg, dsq, dacc, **hyper)
        _declined(done, "adadelta_step", dtype)
        for i in range(len(SHAPES)):
            want = _adadelta_reference(p[i], g[i], sq[i], acc[i], **hyper)
            _expect("adadelta_step", i, ("param", "square_avg", "acc_delta"), want,
                    (dp[i], dsq[i], dacc[i]))


def _radam_reference(p, g, m, v, step, *, lr, beta1, beta2, eps, weight_decay, decoupled,
                     maximize):
    g, p, m, v = _adam_moments(p, g, m, v, lr=lr, beta1=beta1, beta2=beta2,
                               weight_decay=weight_decay, decoupled=decoupled, maximize=maximize)
    bc1, bc2 = 1 - beta1**step, 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2**step / bc2
    if rho_t <= 5:
        return p - lr * m / bc1, m, v
    rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return p - lr * m / bc1 * rect * np.sqrt(bc2) / (np.sqrt(v) + eps), m, v


RADAM_SETTINGS = (  # beta2 0.9: steps 1 and 2 take the plain step, step 7 the rectified one
    dict(lr=1e-2, beta1=0.9, beta2=0.9, eps=1e-8, weight_decay=0.1, decoupled=True,
         maximize=False),
    dict(lr=3e-3, beta1=0.8, beta2=0.9, eps=1e-6, weight_decay=0.05, decoupled=False,
         maximize=True),
)


def check_fused_radam_step(device: str, dtype: str = "float32") -> None:
    """``radam_step`` moves params and both moments as PyTorch's RAdam step does, in place,
    before (``rho_t <= 5``) and after the rectification starts."""
    kernel = _kernel(device, "radam_step")
    steps = (1.0, 7.0, 2.0)
    for hyper in RADAM_SETTINGS:
        (p, g, m, v), (dp, dg, dm, dv) = _state(device, "radam", dtype, 2)
        done = kernel(dp, dg, dm, dv, steps=list(steps), **hyper)
        _declined(done, "radam_step", dtype)
        for i, step in enumerate(steps):
            want = _radam_reference(p[i], g[i], m[i], v[i], step, **hyper)
            _expect("radam_step", i, ("param", "exp_avg", "exp_avg_sq"), want,
                    (dp[i], dm[i], dv[i]))


def _nadam_reference(p, g, m, v, step, mu_product, *, lr, beta1, beta2, eps, weight_decay,
                     momentum_decay, decoupled, maximize):
    g, p, m, v = _adam_moments(p, g, m, v, lr=lr, beta1=beta1, beta2=beta2,
                               weight_decay=weight_decay, decoupled=decoupled, maximize=maximize)
    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    d = np.sqrt(v / (1 - beta2**step)) + eps
    p = p - lr * (1 - mu) / (1 - mu_product) * g / d
    return p - lr * mu_next / (1 - mu_product * mu_next) * m / d, m, v


NADAM_SETTINGS = (
    dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, momentum_decay=4e-3,
         decoupled=True, maximize=False),
    dict(lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.05, momentum_decay=1e-2,
         decoupled=False, maximize=True),
)


def check_fused_nadam_step(device: str, dtype: str = "float32") -> None:
    """``nadam_step`` moves params and both moments as PyTorch's NAdam step does, in place,
    given each parameter's product of momenta so far (this step's included)."""
    kernel = _kernel(device, "nadam_step")
    mu_products = [0.45, 0.2, 0.3]
    for hyper in NADAM_SETTINGS:
        (p, g, m, v), (dp, dg, dm, dv) = _state(device, "nadam", dtype, 2)
        done = kernel(dp, dg, dm, dv, steps=list(STEPS), mu_products=list(mu_products),
                      **hyper)
        _declined(done, "nadam_step", dtype)
        for i, step in enumerate(STEPS):
            want = _nadam_reference(p[i], g[i], m[i], v[i], step, mu_products[i], **hyper)
            _expect("nadam_step", i, ("param", "exp_avg", "exp_avg_sq"), want,
                    (dp[i], dm[i], dv[i]))


def check_fused_dropout(device: str) -> None:
    """``dropout``: the kept fraction is ``1 - p`` (within 5 standard errors), survivors are
    scaled by ``1 / (1 - p)``, the gradient goes through the same mask, and a seed repeats."""
    _kernel(device, "dropout")
    p, n = 0.3, 1 << 14
    x = genesis.tensor(np.linspace(0.5, 1.5, n), dtype=genesis.float32, device=device)
    x.requires_grad_(True)
    genesis.manual_seed(7)
    y = F.dropout(x, p)
    y.backward(genesis.ones_like(y) * 2)
    hx, hy, hg = (t.detach().numpy().astype(np.float64) for t in (x, y, x.grad))
    kept = hy != 0
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n), f"kept {kept.mean()}"
    np.testing.assert_allclose(hy[kept], hx[kept] / (1 - p), rtol=1e-6)
    np.testing.assert_allclose(hg, np.where(kept, 2 / (1 - p), 0.0), rtol=1e-6)
    genesis.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x.detach(), p).numpy(), hy.astype(np.float32))


def _matrices(device: str, name: str, shape: tuple, kind: str = "general") -> tuple:
    """A well-conditioned float64 batch (symmetric positive-definite for ``kind="spd"``) on
    the host and the device."""
    rng = _rng("linalg", name, shape)
    a = rng.standard_normal(shape)
    if kind == "spd":
        a = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    elif shape[-1] == shape[-2]:
        a = a + shape[-1] * np.eye(shape[-1])
    return a, genesis.tensor(a, dtype=genesis.float64, device=device)


def _close(got, want, what: str) -> None:
    np.testing.assert_allclose(np.asarray(got.numpy(), np.float64), want, rtol=1e-9,
                               atol=1e-10, err_msg=what)


def _require_float64(device: str) -> None:
    if "float64" not in _backend(device).capabilities.dtypes:
        raise ConformanceSkip(f"backend {device!r} does not declare float64")


def check_fused_linalg(device: str, name: str) -> None:
    """One factorization kernel, through its public op, on a batch of 4x4 (and 5x3) matrices."""
    _kernel(device, name)
    _require_float64(device)
    la = genesis.linalg
    if name == "linalg_solve":
        a, ga = _matrices(device, name, (2, 4, 4))
        b, gb = _matrices(device, name + "b", (2, 4, 3))
        _close(la.solve(ga, gb), np.linalg.solve(a, b), "linalg.solve")
        _close(la.inv(ga), np.linalg.inv(a), "linalg.inv")
    elif name == "linalg_slogdet":
        a, ga = _matrices(device, name, (3, 4, 4))
        a[1] = -a[1]  # a negative determinant too
        ga = genesis.tensor(a, dtype=genesis.float64, device=device)
        sign, logabs = np.linalg.slogdet(a)
        got = la.slogdet(ga)
        _close(got.sign, sign, "slogdet sign")
        _close(got.logabsdet, logabs, "slogdet logabsdet")
    elif name == "linalg_cholesky":
        a, ga = _matrices(device, name, (2, 4, 4), "spd")
        _close(la.cholesky(ga), np.linalg.cholesky(a), "linalg.cholesky")
    elif name == "linalg_qr":
        a, ga = _matrices(device, name, (2, 5, 3))
        q, r = la.qr(ga)
        want_r = np.linalg.qr(a)[1]
        signs = np.sign(np.diagonal(want_r, axis1=-2, axis2=-1))[..., :, None]
        got_signs = np.sign(np.diagonal(r.numpy(), axis1=-2, axis2=-1))[..., :, None]
        _close(r * genesis.tensor(got_signs * signs, device=device), want_r, "qr R (signs)")
        _close(q @ r, a, "qr: Q R = A")
        _close(q.mT @ q, np.broadcast_to(np.eye(3), (2, 3, 3)), "qr: Q^T Q = I")
    elif name == "linalg_eigh":
        a, ga = _matrices(device, name, (2, 4, 4), "spd")
        values, vectors = la.eigh(ga)
        _close(values, np.linalg.eigvalsh(a), "eigh eigenvalues")
        _close(vectors @ (values.unsqueeze(-1) * vectors.mT), a, "eigh: V diag(w) V^T = A")
    else:
        a, ga = _matrices(device, name, (2, 5, 3))
        u, s, vh = la.svd(ga, full_matrices=False)
        _close(s, np.linalg.svd(a, compute_uv=False), "svd singular values")
        _close(u @ (s.unsqueeze(-1) * vh), a, "svd: U diag(S) Vh = A")
        _close(la.svdvals(ga), np.linalg.svd(a, compute_uv=False), "svdvals")


LINALG_KERNELS = ("linalg_solve", "linalg_slogdet", "linalg_cholesky", "linalg_qr",
                  "linalg_eigh", "linalg_svd")

#: fused kernel -> its kit check; composite kernels are checked by cases with ``fused=``
STEP_CHECKS = {"adamw_step": check_fused_adamw_step, "sgd_step": check_fused_sgd_step,
               "rmsprop_step": check_fused_rmsprop_step,
               "adagrad_step": check_fused_adagrad_step,
               "adamax_step": check_fused_adamax_step,
               "adadelta_step": check_fused_adadelta_step,
               "radam_step": check_fused_radam_step, "nadam_step": check_fused_nadam_step,
               "dropout": check_fused_dropout,
               **{k: (lambda device, k=k: check_fused_linalg(device, k)) for k in LINALG_KERNELS}}


def uncovered_fused(cases: list) -> list:
    """Kernels of ``protocol.FUSED_OPS`` without a kit check (a backward kernel counts as
    covered by its forward's case, whose check runs the backward too)."""
    covered = {c.fused for c in cases if c.fused} | set(STEP_CHECKS)
    return [name for name in protocol.FUSED_OPS
            if name not in covered and name.split("_backward")[0] not in covered]
