"""Fused cross entropy of (N, C) logits and (N,) class indices (``"cross_entropy"`` and
``"cross_entropy_backward"``, see ``Capabilities`` in genesis-core): the compiled row kernels
of :mod:`genesis_backend_cpu._row_kernels`, or the numpy references below. Reduction,
class weights and label smoothing stay in the core.
"""

from __future__ import annotations

import numpy as np

from genesis_backend_cpu import _row_kernels as K
from genesis_backend_cpu._compiled import launch
from genesis_backend_cpu._views import arr

_WORK = (np.dtype(np.float32), np.dtype(np.float64))


def _logits(x) -> np.ndarray:
    a = arr(x)
    return np.ascontiguousarray(a if a.dtype in _WORK else a.astype(np.float32))


def _targets(target, classes: int, ignore_index: int) -> np.ndarray:
    """The targets as contiguous int64; IndexError naming one out of ``[0, classes)``."""
    t = np.ascontiguousarray(arr(target), dtype=np.int64)
    bad = ((t < 0) | (t >= classes)) & (t != ignore_index)
    if bad.any():
        raise IndexError(f"cross_entropy: target {int(t[bad][0])} is out of bounds for "
                         f"{classes} classes (expected 0 <= target < {classes} or "
                         f"ignore_index={ignore_index})")
    return t


def cross_entropy(logits, target, ignore_index: int):
    """``(loss (N,), lse (N,))``: ``loss = logsumexp(x) - x[target]``, 0 where ignored."""
    x = _logits(logits)
    rows, classes = x.shape
    t = _targets(target, classes, ignore_index)
    loss, lse = np.empty(rows, x.dtype), np.empty(rows, x.dtype)
    if K.cross_entropy_rows.wanted(x.size):
        d = x.dtype.type
        launch(K.cross_entropy_rows, x.size, x, t, ignore_index, loss, lse, d(1), d(-np.inf))
    elif x.size:
        with np.errstate(all="ignore"):
            m = np.fmax.reduce(x, axis=1, keepdims=True)
            np.log(np.exp(x - m).sum(axis=1), out=lse)
            lse += m[:, 0]
            kept = t != ignore_index
            np.subtract(lse, x[np.arange(rows), np.where(kept, t, 0)], out=loss)
            loss[~kept] = 0
    return loss.astype(arr(logits).dtype, copy=False), lse


def cross_entropy_backward(grad, logits, target, lse, ignore_index: int):
    """``dlogits = grad[:, None] * (softmax(x) - onehot(target))``, 0 rows where ignored."""
    x = _logits(logits)
    rows, classes = x.shape
    t = np.ascontiguousarray(arr(target), dtype=np.int64)
    g = np.ascontiguousarray(arr(grad), dtype=x.dtype)
    v = np.ascontiguousarray(arr(lse), dtype=x.dtype)
    dx = np.empty_like(x)
    if K.cross_entropy_backward_rows.wanted(x.size):
        launch(K.cross_entropy_backward_rows, x.size, g, x, t, ignore_index, v, dx,
               x.dtype.type(1))
    elif x.size:
        with np.errstate(all="ignore"):
            np.subtract(x, v[:, None], out=dx)
            np.exp(dx, out=dx)
            kept = t != ignore_index
            dx[np.arange(rows)[kept], t[kept]] -= 1
            dx *= np.where(kept, g, 0)[:, None]
    return dx.astype(arr(logits).dtype, copy=False)
