"""Fused LayerNorm and RMSNorm forward and backward over the last dimension
(``"layer_norm"``, ``"layer_norm_backward"``, ``"rms_norm"``, ``"rms_norm_backward"``, see
``Capabilities`` in genesis-core).

The composite path runs ~8 array-wide passes forward and ~14 backward with a temporary
for each. The compiled row kernels of :mod:`genesis_backend_cpu._row_kernels` read each
row once; the numpy reference below (numba unavailable) keeps each block of rows in cache
and spreads the blocks over the worker threads.
"""

from __future__ import annotations

import numpy as np

from genesis_backend_cpu import _row_kernels as K
from genesis_backend_cpu._compiled import launch
from genesis_backend_cpu._threads import THREADS, row_spans, run_spans
from genesis_backend_cpu._views import arr


def _rows(a: np.ndarray) -> np.ndarray:
    """The input as a C-contiguous (rows, features) matrix (float32 work for half types)."""
    m = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
    if m.dtype not in (np.float32, np.float64):
        m = m.astype(np.float32)
    return np.ascontiguousarray(m)


def _vector(v: np.ndarray | None, m: np.ndarray) -> np.ndarray:
    """A weight or bias as the compiled kernels take it: contiguous 1-D, or a stand-in row of
    ``m`` when absent (unread: the kernel's flag says so)."""
    return m[0] if v is None else np.ascontiguousarray(v).reshape(-1)


def layer_norm(x, weight, bias, eps: float):
    """``(y, mean, rstd)`` storages; mean and rstd have shape ``x.shape[:-1] + (1,)``."""
    a = arr(x)
    m = _rows(a)
    rows, cols = m.shape
    w = arr(weight).astype(m.dtype, copy=False) if weight is not None else None
    b = arr(bias).astype(m.dtype, copy=False) if bias is not None else None
    y = np.empty_like(m)
    mean = np.empty((rows, 1), m.dtype)
    rstd = np.empty((rows, 1), m.dtype)
    if K.layer_norm_rows.wanted(m.size):
        t = m.dtype.type
        launch(K.layer_norm_rows, m.size, m, _vector(w, m), _vector(b, m), y, mean.reshape(-1),
               rstd.reshape(-1), t(eps), w is not None, b is not None, t(1), t(cols))
    else:
        _layer_norm_reference(m, w, b, y, mean, rstd, eps)
    dtype = a.dtype
    kept = a.shape[:-1] + (1,)
    return (y.reshape(a.shape).astype(dtype, copy=False), mean.reshape(kept).astype(dtype,
            copy=False), rstd.reshape(kept).astype(dtype, copy=False))


def _layer_norm_reference(m, w, b, y, mean, rstd, eps: float) -> None:
    """The numpy LayerNorm forward of a (rows, cols) matrix, in row blocks on all threads."""
    rows, cols = m.shape

    def body(r0: int, r1: int) -> None:
        xb, yb, mb, rb = m[r0:r1], y[r0:r1], mean[r0:r1], rstd[r0:r1]
        np.add.reduce(xb, axis=1, keepdims=True, out=mb)
        mb /= cols
        np.subtract(xb, mb, out=yb)
        sq = yb * yb
        np.add.reduce(sq, axis=1, keepdims=True, out=rb)
        rb /= cols
        rb += eps
        np.sqrt(rb, out=rb)
        np.reciprocal(rb, out=rb)
        yb *= rb
        if w is not None:
            yb *= w
        if b is not None:
            yb += b

    run_spans(row_spans(rows, cols), body)


def layer_norm_backward(grad, x, weight, mean, rstd):
    """``(dx, dweight | None, dbias | None)`` storages for :func:`layer_norm`."""
    a = arr(x)
    m, g = _rows(a), _rows(arr(grad))
    rows, cols = m.shape
    mu = np.ascontiguousarray(arr(mean).reshape(rows, 1), dtype=m.dtype)
    rs = np.ascontiguousarray(arr(rstd).reshape(rows, 1), dtype=m.dtype)
    w = arr(weight).astype(m.dtype, copy=False) if weight is not None else None
    dx = np.empty_like(m)
    dtype = a.dtype
    if K.layer_norm_backward_rows.wanted(m.size):
        t = m.dtype.type
        chunks = min(rows, 4 * THREADS)  # partial column sums: a (chunks, cols) block each
        dw_parts, db_parts = np.empty((chunks, cols), m.dtype), np.empty((chunks, cols), m.dtype)
        launch(K.layer_norm_backward_rows, m.size, g, m, _vector(w, m), mu.reshape(-1),
               rs.reshape(-1), dx, dw_parts, db_parts, w is not None, t(1), t(cols))
        dw, dbias = dw_parts.sum(axis=0), db_parts.sum(axis=0)
        return (dx.reshape(a.shape).astype(dtype, copy=False),
                dw.astype(dtype) if w is not None else None, dbias.astype(dtype))

    def body(r0: int, r1: int):
        xb, gb, db = m[r0:r1], g[r0:r1], dx[r0:r1]
        xhat = xb - mu[r0:r1]
        xhat *= rs[r0:r1]
        dw_part = np.add.reduce(gb * xhat, axis=0) if w is not None else None
        db_part = np.add.reduce(gb, axis=0)
        gw = gb * w if w is not None else gb.copy()
        c1 = np.add.reduce(gw, axis=1, keepdims=True)
        c1 /= cols
        c2 = np.add.reduce(gw * xhat, axis=1, keepdims=True)
        c2 /= cols
        np.subtract(gw, c1, out=db)
        xhat *= c2
        db -= xhat
        db *= rs[r0:r1]
        return dw_part, db_part

    parts = run_spans(row_spans(rows, cols), body)
    dw = np.add.reduce([p[0] for p in parts]).astype(dtype) if w is not None else None
    dbias = np.add.reduce([p[1] for p in parts]).astype(dtype)
    return dx.reshape(a.shape).astype(dtype, copy=False), dw, dbias


def rms_norm(x, weight, eps: float):
    """``(y, rstd)`` storages of RMSNorm over the last dimension; rstd ``x.shape[:-1] + (1,)``."""
    a = arr(x)
    m = _rows(a)
    rows, cols = m.shape
    w = arr(weight).astype(m.dtype, copy=False) if weight is not None else None
    y = np.empty_like(m)
    rstd = np.empty((rows, 1), m.dtype)
    if K.rms_norm_rows.wanted(m.size):
        t = m.dtype.type
        launch(K.rms_norm_rows, m.size, m, _vector(w, m), y, rstd.reshape(-1), t(eps),
               w is not None, t(1), t(cols))
    else:
        def body(r0: int, r1: int) -> None:
            xb, yb, rb = m[r0:r1], y[r0:r1], rstd[r0:r1]
            np.multiply(xb, xb, out=yb)
            np.add.reduce(yb, axis=1, keepdims=True, out=rb)
            rb /= cols
            rb += eps
            np.sqrt(rb, out=rb)
            np.reciprocal(rb, out=rb)
            np.multiply(xb, rb, out=yb)
            if w is not None:
                yb *= w
        run_spans(row_spans(rows, cols), body)
    kept = a.shape[:-1] + (1,)
    return (y.reshape(a.shape).astype(a.dtype, copy=False),
            rstd.reshape(kept).astype(a.dtype, copy=False))


def rms_norm_backward(grad, x, weight, rstd):
    """``(dx, dweight | None)`` storages for :func:`rms_norm`."""
    a = arr(x)
    m, g = _rows(a), _rows(arr(grad))
    rows, cols = m.shape
    rs = np.ascontiguousarray(arr(rstd).reshape(rows, 1), dtype=m.dtype)
    w = arr(weight).astype(m.dtype, copy=False) if weight is not None else None
    dx = np.empty_like(m)
    if K.rms_norm_backward_rows.wanted(m.size):
        t = m.dtype.type
        chunks = min(rows, 4 * THREADS)
        dw_parts = np.empty((chunks, cols), m.dtype)
        launch(K.rms_norm_backward_rows, m.size, g, m, _vector(w, m), rs.reshape(-1), dx,
               dw_parts, w is not None, t(1), t(cols))
        dw = dw_parts.sum(axis=0)
    else:
        def body(r0: int, r1: int):
            xb, gb, db = m[r0:r1], g[r0:r1], dx[r0:r1]
            xhat = xb * rs[r0:r1]
            dw_part = np.add.reduce(gb * xhat, axis=0)
            gw = gb * w if w is not None else gb
            c = np.add.reduce(gw * xhat, axis=1, keepdims=True)
            c /= cols
            xhat *= c
            np.subtract(gw, xhat, out=db)
            db *= rs[r0:r1]
            return dw_part
        dw = np.add.reduce(run_spans(row_spans(rows, cols), body))
    return (dx.reshape(a.shape).astype(a.dtype, copy=False),
            dw.astype(a.dtype) if w is not None else None)
