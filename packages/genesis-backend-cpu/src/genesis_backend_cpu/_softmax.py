"""Fused softmax / log_softmax and their backward: the compiled row kernels of
:mod:`genesis_backend_cpu._row_kernels`, or (numba unavailable) the numpy references below,
row blocks in cache on all threads.

Registered as ``"softmax"``, ``"log_softmax"``, ``"softmax_backward"`` and
``"log_softmax_backward"``. Any ``dim`` works: it is moved last (a copy when
needed) and the result moved back.
"""

from __future__ import annotations

import numpy as np

from genesis_backend_cpu import _row_kernels as K
from genesis_backend_cpu._compiled import launch
from genesis_backend_cpu._threads import row_spans, run_spans
from genesis_backend_cpu._views import arr

_WORK = (np.dtype(np.float32), np.dtype(np.float64))


def _as_rows(a: np.ndarray, dim: int) -> tuple[np.ndarray, tuple]:
    """``a`` with ``dim`` last as a C-contiguous (rows, n) matrix, and the moved shape."""
    moved = np.moveaxis(a, dim, -1) if a.ndim else a.reshape(1)
    if moved.dtype not in _WORK:
        moved = moved.astype(np.float32)
    moved = np.ascontiguousarray(moved)
    return moved.reshape(-1, moved.shape[-1] if moved.ndim else 1), moved.shape


def _back(rows: np.ndarray, moved_shape: tuple, a: np.ndarray, dim: int) -> np.ndarray:
    out = rows.reshape(moved_shape)
    if a.ndim:
        out = np.moveaxis(out, -1, dim)
    return np.ascontiguousarray(out, dtype=a.dtype).reshape(a.shape)


def _rowwise(x, dim: int, body, log: bool) -> np.ndarray:
    a = arr(x)
    m, shape = _as_rows(a, dim)
    out = np.empty_like(m)
    if K.softmax_rows.wanted(m.size):
        t = m.dtype.type
        launch(K.softmax_rows, m.size, m, out, log, t(1), t(-np.inf))
    else:
        run_spans(row_spans(*m.shape), lambda r0, r1: body(m[r0:r1], out[r0:r1]))
    return _back(out, shape, a, dim)


def _row_max(x: np.ndarray) -> np.ndarray:
    """Row maxima as a column. ``fmax`` skips NaN (a NaN still makes the whole row NaN
    through the sum, as in PyTorch) and reduces short rows ~1.5x faster than ``max``."""
    return np.fmax.reduce(x, axis=1, keepdims=True)


def _softmax_rows(x: np.ndarray, out: np.ndarray) -> None:
    np.subtract(x, _row_max(x), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)


def _log_softmax_rows(x: np.ndarray, out: np.ndarray) -> None:
    np.subtract(x, _row_max(x), out=out)
    lse = np.log(np.exp(out).sum(axis=1, keepdims=True))
    out -= lse


def softmax(x, dim: int) -> np.ndarray:
    with np.errstate(all="ignore"):  # all -inf rows give nan, as in PyTorch
        return _rowwise(x, dim, _softmax_rows, log=False)


def log_softmax(x, dim: int) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _rowwise(x, dim, _log_softmax_rows, log=True)


def _backward(y, g, dim: int, rows_fn, log: bool) -> np.ndarray:
    ya, ga = arr(y), arr(g)
    ym, shape = _as_rows(ya, dim)
    gm, _ = _as_rows(ga, dim)
    out = np.empty_like(ym)
    if ym.dtype == gm.dtype and K.softmax_backward_rows.wanted(ym.size):
        launch(K.softmax_backward_rows, ym.size, ym, gm, out, log, ym.dtype.type(1))
        return _back(out, shape, ya, dim)
    run_spans(row_spans(*ym.shape), lambda r0, r1: rows_fn(ym[r0:r1], gm[r0:r1], out[r0:r1]))
    return _back(out, shape, ya, dim)


def _softmax_backward_rows(y, g, out) -> None:  # y * (g - sum(g * y))
    np.multiply(g, y, out=out)
    s = out.sum(axis=1, keepdims=True)
    np.subtract(g, s, out=out)
    out *= y


def _log_softmax_backward_rows(y, g, out) -> None:  # g - exp(y) * sum(g)
    np.exp(y, out=out)
    out *= g.sum(axis=1, keepdims=True)
    np.subtract(g, out, out=out)


def softmax_backward(y, g, dim: int) -> np.ndarray:
    return _backward(y, g, dim, _softmax_backward_rows, log=False)


def log_softmax_backward(y, g, dim: int) -> np.ndarray:
    return _backward(y, g, dim, _log_softmax_backward_rows, log=True)
