"""Row kernels of softmax, log_softmax and LayerNorm (forward and backward), compiled: each
row is read from memory once and its reductions and elementwise work done while it is in
cache, rows spread over all cores. Inputs are C-contiguous (rows, n) matrices of float32 or
float64. The numpy references are in :mod:`genesis_backend_cpu._softmax` and
:mod:`genesis_backend_cpu._normalization`.

Every kernel takes ``one`` (1 in the rows' dtype) and the LayerNorm ones ``nf`` (the row
length in it), so that constants, and with them the arithmetic, stay in that dtype (numba
would widen a Python literal or an integer to float64).
The row sums may be reassociated (``fastmath={"reassoc"}``) so that they vectorize with
several partial sums, as numpy's pairwise sums do; nothing else is.
"""

from __future__ import annotations

import numpy as np

from genesis_backend_cpu._act_kernels import exp32
from genesis_backend_cpu._compiled import REASSOC, compiled, prange


@compiled(inline=True)
def _row_max(x, r, n, lowest):
    """The row's maximum, NaN skipped (as ``np.fmax``); ``lowest`` (-inf) for a row of NaN
    or -inf."""
    m = lowest
    for j in range(n):
        v = x[r, j]
        if v > m:
            m = v
    return m


@compiled(inline=True)
def _exp(v, f32):
    """``exp`` in the value's precision (the vectorizable float32 one when ``f32``)."""
    return exp32(v) if f32 else np.exp(v)


@compiled(parallel=True, fastmath=REASSOC)
def softmax_rows(x, out, log, one, lowest):
    """``out = softmax(x)`` (or ``log_softmax`` when ``log``) along the rows."""
    rows, n = x.shape
    f32 = x.itemsize == 4
    for r in prange(rows):
        m = _row_max(x, r, n, lowest)
        s = one - one
        for j in range(n):
            e = _exp(x[r, j] - m, f32)
            if not log:
                out[r, j] = e
            s += e
        if log:
            lse = np.log(s)
            for j in range(n):
                out[r, j] = x[r, j] - m - lse
        else:
            for j in range(n):
                out[r, j] = out[r, j] / s


@compiled(parallel=True, fastmath=REASSOC)
def softmax_backward_rows(y, g, out, log, one):
    """``out = y * (g - sum(g * y))`` (softmax), or ``g - exp(y) * sum(g)`` (log_softmax)."""
    rows, n = y.shape
    f32 = y.itemsize == 4
    for r in prange(rows):
        s = one - one
        if log:
            for j in range(n):
                s += g[r, j]
            for j in range(n):
                out[r, j] = g[r, j] - _exp(y[r, j], f32) * s
        else:
            for j in range(n):
                s += g[r, j] * y[r, j]
            for j in range(n):
                out[r, j] = (g[r, j] - s) * y[r, j]


@compiled(parallel=True, fastmath=REASSOC)
def layer_norm_rows(x, w, b, y, mean, rstd, eps, affine_w, affine_b, one, nf):
    """LayerNorm along the rows; ``mean``/``rstd`` get one value per row (``w``/``b`` are
    read only when ``affine_w``/``affine_b``; ``eps`` in the rows' dtype)."""
    rows, n = x.shape
    for r in prange(rows):
        s = one - one
        for j in range(n):
            s += x[r, j]
        mu = s / nf
        q = one - one
        for j in range(n):
            d = x[r, j] - mu
            q += d * d
        rs = one / np.sqrt(q / nf + eps)
        mean[r] = mu
        rstd[r] = rs
        for j in range(n):
            v = (x[r, j] - mu) * rs
            if affine_w:
                v = v * w[j]
            if affine_b:
                v = v + b[j]
            y[r, j] = v


@compiled(parallel=True, fastmath=REASSOC)
def layer_norm_backward_rows(g, x, w, mean, rstd, dx, dw_parts, db_parts, affine_w, one, nf):
    """LayerNorm's backward along the rows: ``dx = rstd * (gw - mean(gw) - xhat
    mean(gw xhat))`` with ``gw = g * w``; and per chunk ``k`` of rows (as many chunks as
    ``dw_parts`` has rows) the column sums ``dw_parts[k] = sum g xhat``, ``db_parts[k] =
    sum g``, for the caller to add up."""
    rows, n = x.shape
    chunks = dw_parts.shape[0]
    for k in prange(chunks):
        for j in range(n):
            dw_parts[k, j] = 0
            db_parts[k, j] = 0
        for r in range(rows * k // chunks, rows * (k + 1) // chunks):
            mu, rs = mean[r], rstd[r]
            c1 = one - one
            c2 = one - one
            for j in range(n):
                gv = g[r, j]
                xhat = (x[r, j] - mu) * rs
                dw_parts[k, j] += gv * xhat
                db_parts[k, j] += gv
                gw = gv * w[j] if affine_w else gv
                c1 += gw
                c2 += gw * xhat
            c1 = c1 / nf
            c2 = c2 / nf
            for j in range(n):
                gw = g[r, j] * w[j] if affine_w else g[r, j]
                dx[r, j] = (gw - c1 - (x[r, j] - mu) * rs * c2) * rs


@compiled(parallel=True, fastmath=REASSOC)
def rms_norm_rows(x, w, y, rstd, eps, affine_w, one, nf):
    """RMSNorm along the rows: ``y = x * rstd * w``, ``rstd = 1 / sqrt(mean(x^2) + eps)``."""
    rows, n = x.shape
    for r in prange(rows):
        q = one - one
        for j in range(n):
            q += x[r, j] * x[r, j]
        rs = one / np.sqrt(q / nf + eps)
        rstd[r] = rs
        for j in range(n):
            y[r, j] = x[r, j] * rs * w[j] if affine_w else x[r, j] * rs


@compiled(parallel=True, fastmath=REASSOC)
def rms_norm_backward_rows(g, x, w, rstd, dx, dw_parts, affine_w, one, nf):
    """RMSNorm's backward along the rows: ``dx = rstd * (gw - xhat mean(gw xhat))``, ``gw =
    g * w``, ``xhat = x * rstd``; per chunk ``k`` of rows ``dw_parts[k] = sum g xhat``."""
    rows, n = x.shape
    chunks = dw_parts.shape[0]
    for k in prange(chunks):
        for j in range(n):
            dw_parts[k, j] = 0
        for r in range(rows * k // chunks, rows * (k + 1) // chunks):
            rs = rstd[r]
            c = one - one
            for j in range(n):
                xhat = x[r, j] * rs
                gv = g[r, j]
                dw_parts[k, j] += gv * xhat
                gw = gv * w[j] if affine_w else gv
                c += gw * xhat
            c = c / nf
            for j in range(n):
                gw = g[r, j] * w[j] if affine_w else g[r, j]
                dx[r, j] = (gw - x[r, j] * rs * c) * rs


@compiled(parallel=True, fastmath=REASSOC)
def cross_entropy_rows(x, target, ignore_index, loss, lse, one, lowest):
    """Per row ``lse = logsumexp(x)`` and ``loss = lse - x[target]`` (0 where the target is
    ``ignore_index``; the caller checks the other targets are in range)."""
    rows, n = x.shape
    f32 = x.itemsize == 4
    for r in prange(rows):
        m = _row_max(x, r, n, lowest)
        s = one - one
        for j in range(n):
            s += _exp(x[r, j] - m, f32)
        v = np.log(s) + m
        lse[r] = v
        t = target[r]
        loss[r] = one - one if t == ignore_index else v - x[r, t]


@compiled(parallel=True)
def cross_entropy_backward_rows(g, x, target, ignore_index, lse, dx, one):
    """``dx = g * (softmax(x) - onehot(target))`` per row, ``softmax = exp(x - lse)``; rows
    whose target is ``ignore_index`` get 0."""
    rows, n = x.shape
    f32 = x.itemsize == 4
    for r in prange(rows):
        t = target[r]
        if t == ignore_index:
            for j in range(n):
                dx[r, j] = one - one
            continue
        gr, v = g[r], lse[r]
        for j in range(n):
            dx[r, j] = gr * _exp(x[r, j] - v, f32)
        dx[r, t] = gr * (_exp(x[r, t] - v, f32) - one)
