"""Fused CPU kernels for hot composites, registered in the backend's capabilities.

``adamw_step`` runs one Adam/AdamW step over many parameters with in-place
numpy ufuncs. Two things make it faster than the composite path's ~15 full
passes over memory: parameters are cut into blocks of :data:`BLOCK` elements,
so the passes of one block after the first touch cache, not DRAM, and only
preallocated scratch (per thread) is written besides the state; and blocks are
spread over a small thread pool (numpy ufuncs release the GIL), so every core
works on the step.
"""

from __future__ import annotations

import threading

import numpy as np

from genesis_backend_cpu import _linalg
from genesis_backend_cpu._activations import (
    gelu,
    gelu_backward,
    gelu_backward_from_output,
    silu,
    silu_backward,
)
from genesis_backend_cpu._batch_norm import batch_norm, batch_norm_backward
from genesis_backend_cpu._conv import col2im, im2col
from genesis_backend_cpu._normalization import (
    layer_norm,
    layer_norm_backward,
    rms_norm,
    rms_norm_backward,
)
from genesis_backend_cpu._pool import max_pool2d, max_pool2d_backward
from genesis_backend_cpu._rnn import gru_cell, gru_cell_backward, lstm_cell, lstm_cell_backward
from genesis_backend_cpu._softmax import (
    log_softmax,
    log_softmax_backward,
    softmax,
    softmax_backward,
)
from genesis_backend_cpu._threads import THREADS, workers
from genesis_backend_cpu._views import arr

#: elements per block: p, g, m, v and two scratch arrays stay in L2/L3 across passes
BLOCK = 1 << 17
#: steps over fewer elements than this run on the calling thread only
SERIAL_BELOW = 1 << 18

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_local = threading.local()


def _scratch(dtype: np.dtype, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three scratch blocks of ``n`` elements owned by the calling thread."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        bufs = _local.bufs = {}
    have = bufs.get(dtype)
    if have is None or have[0].size < n:
        have = bufs[dtype] = tuple(np.empty(max(n, BLOCK), dtype) for _ in range(3))
    return tuple(b[:n] for b in have)


def _adam_block(p, g, m, v, vmax, a, b, c, *, lr, beta1, beta2, eps, weight_decay, amsgrad,
                maximize, decoupled, step_size, bias_correction2_sqrt) -> None:
    """One Adam(W) step on equal-shaped arrays; ``a``, ``b``, ``c`` are scratch.

    PyTorch's single-tensor order of operations (``lerp_``, ``mul_`` then
    ``addcmul_``), except that the denominator is folded into one fewer pass:
    ``p += -step_size * m / (sqrt(v) / s + eps)`` is computed as
    ``p += m / ((sqrt(v) + eps * s) / (-step_size * s))`` with ``s`` the square
    root of the second bias correction (the same value up to rounding).
    """
    if maximize:
        g = np.negative(g, out=c)
    if weight_decay != 0:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            np.multiply(p, weight_decay, out=a)
            g = np.add(g, a, out=c)
    np.subtract(g, m, out=a)                      # m.lerp_(g, 1 - beta1)
    a *= 1 - beta1
    m += a
    v *= beta2                                    # v.mul_(beta2).addcmul_(g, g, 1 - beta2)
    np.multiply(g, 1 - beta2, out=a)
    a *= g
    v += a
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


def _run_blocks(block, jobs, tensors, hyper) -> None:
    for i, start, stop in jobs:
        arrays, consts = tensors[i]
        p = arrays[0]
        a, b, c = _scratch(p.dtype, stop - start)
        views = [x[start:stop] if x is not None else None for x in arrays]
        block(*views, a, b, c, **consts, **hyper)


def _launch(block, jobs, tensors, total: int, hyper) -> None:
    """Run ``block`` over all jobs: on this thread for small steps, else on all threads."""
    if total < SERIAL_BELOW or THREADS == 1:
        _run_blocks(block, jobs, tensors, hyper)
        return
    parts = _split(jobs, total, THREADS)
    futures = [workers().submit(_run_blocks, block, part, tensors, hyper) for part in parts[1:]]
    _run_blocks(block, parts[0], tensors, hyper)
    for f in futures:
        f.result()


def adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, lr: float,
               beta1: float, beta2: float, eps: float, weight_decay: float, steps,
               amsgrad: bool, maximize: bool, decoupled: bool = True):
    """One Adam/AdamW step in place over lists of views (see ``Capabilities.fused``).

    Returns ``NotImplemented`` (touching nothing) unless every array is
    float32 or float64; the caller then takes the composite path.
    """
    n = len(params)
    maxes = max_exp_avg_sqs if amsgrad else [None] * n
    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
             "amsgrad": amsgrad, "maximize": maximize, "decoupled": decoupled}
    tensors, loose, jobs, total = [], [], [], 0
    for i in range(n):
        arrays = [arr(x) for x in (params[i], grads[i], exp_avgs[i], exp_avg_sqs[i])]
        if amsgrad:
            arrays.append(arr(maxes[i]))
        if any(x.dtype not in _FLOATS for x in arrays):
            return NotImplemented
        step = steps[i]
        consts = {"step_size": lr / (1 - beta1**step),
                  "bias_correction2_sqrt": (1 - beta2**step) ** 0.5}
        dtype = arrays[0].dtype
        if all(x.dtype == dtype and x.flags.c_contiguous for x in arrays):
            flat = [x.reshape(-1) for x in arrays] + ([] if amsgrad else [None])
            tensors.append((flat, consts))
            size = flat[0].size
            jobs.extend((len(tensors) - 1, s, min(s + BLOCK, size)) for s in range(0, size, BLOCK))
            total += size
        else:
            loose.append((arrays + ([] if amsgrad else [None]), consts))
    for arrays, consts in loose:  # strided or mixed dtypes: whole arrays, numpy casts
        work = np.result_type(*[x for x in arrays if x is not None])
        a, b, c = (np.empty(arrays[0].shape, work) for _ in range(3))
        _adam_block(*arrays, a, b, c, **consts, **hyper)
    _launch(_adam_block, jobs, tensors, total, hyper)
    return None


def _sgd_block(p, g, buf, a, b, c, *, first, lr, weight_decay, momentum, dampening, nesterov,
               maximize) -> None:
    """One SGD step on equal-shaped arrays in PyTorch's order of operations; a, c: scratch."""
    if maximize:
        g = np.negative(g, out=c)
    if weight_decay != 0:                          # g = g.add(p, alpha=weight_decay)
        np.multiply(p, weight_decay, out=a)
        g = np.add(g, a, out=c)
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


def sgd_step(params, grads, momentum_buffers, *, first, lr: float, weight_decay: float,
             momentum: float, dampening: float, nesterov: bool, maximize: bool):
    """One SGD step in place over lists of views, without temporaries (see ``Capabilities``).

    ``momentum_buffers[i]`` is a view of the buffer (unused when ``momentum == 0``);
    ``first[i]`` says it is uninitialised and takes the gradient. Returns
    ``NotImplemented`` (touching nothing) unless all arrays are contiguous float32/float64
    of one dtype per parameter.
    """
    hyper = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
             "dampening": dampening, "nesterov": nesterov, "maximize": maximize}
    tensors, jobs, total = [], [], 0
    for i in range(len(params)):
        views = [params[i], grads[i]] + ([momentum_buffers[i]] if momentum != 0 else [])
        arrays = [arr(x) for x in views]
        dtype = arrays[0].dtype
        if dtype not in _FLOATS or any(x.dtype != dtype or not x.flags.c_contiguous
                                       for x in arrays):
            return NotImplemented
        flat = [x.reshape(-1) for x in arrays] + ([] if momentum != 0 else [None])
        tensors.append((flat, {"first": bool(first[i])}))
        size = flat[0].size
        jobs.extend((len(tensors) - 1, s, min(s + BLOCK, size)) for s in range(0, size, BLOCK))
        total += size
    _launch(_sgd_block, jobs, tensors, total, hyper)
    return None


def _split(jobs: list, total: int, k: int) -> list[list]:
    """Cut ``jobs`` (in order) into ``k`` runs of about ``total / k`` elements each."""
    parts, current, filled, target = [], [], 0, total / k
    for job in jobs:
        current.append(job)
        filled += job[2] - job[1]
        if filled >= target * (len(parts) + 1) and len(parts) < k - 1:
            parts.append(current)
            current = []
    parts.append(current)
    return parts


KERNELS: dict = {"adamw_step": adamw_step, "sgd_step": sgd_step, "gelu": gelu,
                 "gelu_backward": gelu_backward,
                 "gelu_backward_from_output": gelu_backward_from_output,
                 "layer_norm": layer_norm, "layer_norm_backward": layer_norm_backward,
                 "rms_norm": rms_norm, "rms_norm_backward": rms_norm_backward,
                 "silu": silu, "silu_backward": silu_backward,
                 "softmax": softmax, "softmax_backward": softmax_backward,
                 "log_softmax": log_softmax, "log_softmax_backward": log_softmax_backward,
                 "max_pool2d": max_pool2d, "max_pool2d_backward": max_pool2d_backward,
                 "im2col": im2col, "col2im": col2im, "batch_norm": batch_norm,
                 "batch_norm_backward": batch_norm_backward, "lstm_cell": lstm_cell,
                 "lstm_cell_backward": lstm_cell_backward, "gru_cell": gru_cell,
                 "gru_cell_backward": gru_cell_backward,
                 **_linalg.KERNELS}
