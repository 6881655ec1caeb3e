"""The fused optimizer steps (``adamw_step``, ``sgd_step``, ``rmsprop_step``,
``adagrad_step``, ``adamax_step``, ``adadelta_step``, ``radam_step``, ``nadam_step``): one
call over all parameters of a group.

A parameter whose arrays are C-contiguous and of one dtype runs the compiled one-pass
kernel of :mod:`genesis_backend_cpu._optim_kernels` (all parameters cut into one equal span
per thread when the step is large); without numba it runs the numpy reference in blocks of
:data:`BLOCK` elements (the passes of one block after the first touch cache, not DRAM)
spread over the worker threads. Strided parameters and mixed
dtypes run the numpy reference on whole arrays (numpy casts).
"""

from __future__ import annotations

import threading

import numpy as np

from genesis_backend_cpu import _optim_kernels as K
from genesis_backend_cpu._threads import PARALLEL_MIN, THREADS, workers
from genesis_backend_cpu._views import arr

#: elements per block of the numpy reference: a block's arrays and scratch stay in cache
BLOCK = 1 << 17

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


def _run_blocks(reference, jobs, tensors, hyper) -> None:
    for i, start, stop in jobs:
        arrays, consts = tensors[i]
        a, b, c = _scratch(arrays[0].dtype, stop - start)
        views = [x[start:stop] if x is not None else None for x in arrays]
        reference(*views, a, b, c, **consts, **hyper)


def _reference_blocks(reference, tensors: list, hyper: dict) -> None:
    """The numpy reference over flat tensors, block by block, on all threads when large."""
    jobs, total = [], 0
    for i, (arrays, _) in enumerate(tensors):
        size = arrays[0].size
        jobs.extend((i, s, min(s + BLOCK, size)) for s in range(0, size, BLOCK))
        total += size
    if total < PARALLEL_MIN or THREADS == 1:
        _run_blocks(reference, jobs, tensors, hyper)
        return
    parts = _split(jobs, total, THREADS)
    futures = [workers().submit(_run_blocks, reference, part, tensors, hyper)
               for part in parts[1:]]
    _run_blocks(reference, parts[0], tensors, hyper)
    for f in futures:
        f.result()


def _gather(groups: list[list], consts: list[dict]) -> tuple | None:
    """Arrays per parameter (``None`` kept for absent states), split into flat (contiguous,
    one dtype: 1-D views) and loose; None when any array is not float32/float64."""
    flat, loose = [], []
    for views, const in zip(groups, consts):
        arrays = [arr(v) if v is not None else None for v in views]
        present = [a for a in arrays if a is not None]
        if any(a.dtype not in _FLOATS for a in present):
            return None
        dtype = present[0].dtype
        if all(a.dtype == dtype and a.flags.c_contiguous for a in present):
            flat.append(([a.reshape(-1) if a is not None else None for a in arrays], const))
        else:
            loose.append((arrays, const))
    return flat, loose


def _serial_steps(compiled_step, jobs: list, tensors: list, hyper: dict) -> None:
    """The compiled step of each job ``(tensor, start, stop)`` on the calling thread."""
    for i, start, stop in jobs:
        arrays, const = tensors[i]
        views = [x[start:stop] if x is not None else None for x in arrays]
        compiled_step(*views, **const, **hyper)


def _even_spans(sizes: list[int], parts: int) -> list[list]:
    """The concatenation of tensors of ``sizes`` elements cut into ``parts`` equal spans, each
    a list of jobs ``(tensor, start, stop)``."""
    total = sum(sizes)
    bounds = [total * k // parts for k in range(parts + 1)]
    spans: list[list] = [[] for _ in range(parts)]
    first = 0
    for i, size in enumerate(sizes):
        for k in range(parts):
            lo, hi = max(first, bounds[k]), min(first + size, bounds[k + 1])
            if lo < hi:
                spans[k].append((i, lo - first, hi - first))
        first += size
    return spans


def _compiled_all(compiled_step, flat: list, hyper: dict) -> None:
    """The compiled step of every flat tensor: all of them, as if concatenated, cut into one
    equal span per thread and handed off once (every optimizer's update is elementwise, so a
    piece of a tensor is a step of its own). A parallel loop per large tensor paid a hand-off
    each: the wide MLP's SGD step took 2.15 ms that way, 1.57 ms in one hand-off."""
    sizes = [arrays[0].size for arrays, _ in flat]
    if sum(sizes) < PARALLEL_MIN or THREADS == 1:
        _serial_steps(compiled_step, [(i, 0, n) for i, n in enumerate(sizes)], flat, hyper)
        return
    spans = _even_spans(sizes, THREADS)
    futures = [workers().submit(_serial_steps, compiled_step, span, flat, hyper)
               for span in spans[1:]]
    _serial_steps(compiled_step, spans[0], flat, hyper)
    for f in futures:
        f.result()


def _run(kernel, compiled_step, reference, groups: list[list], consts: list[dict],
         hyper: dict):
    """One step of every parameter: ``compiled_step`` (which runs ``kernel``) or, without
    numba or for a small step, the blocked reference for flat ones; the whole-array
    reference for loose ones.
    NotImplemented, touching nothing, for dtypes other than float32/float64."""
    gathered = _gather(groups, consts)
    if gathered is None:
        return NotImplemented
    flat, loose = gathered
    if kernel.wanted(sum(arrays[0].size for arrays, _ in flat)):
        _compiled_all(compiled_step, flat, hyper)
    else:
        _reference_blocks(reference, flat, hyper)
    for arrays, const in loose:
        work = np.result_type(*[x for x in arrays if x is not None])
        a, b, c = (np.empty(arrays[0].shape, work) for _ in range(3))
        reference(*arrays, a, b, c, **const, **hyper)
    return None


def adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, lr: float,
               beta1: float, beta2: float, eps: float, weight_decay: float, steps,
               amsgrad: bool, maximize: bool, decoupled: bool = True):
    """One Adam/AdamW step in place over lists of views (see ``Capabilities.fused``).

    Returns ``NotImplemented`` (touching nothing) unless every array is
    float32 or float64; the caller then takes the composite path.
    """
    n = len(params)
    maxes = max_exp_avg_sqs if amsgrad else [None] * n
    groups = [[params[i], grads[i], exp_avgs[i], exp_avg_sqs[i], maxes[i]] for i in range(n)]
    consts = [{"step_size": lr / (1 - beta1**step),
               "bias_correction2_sqrt": (1 - beta2**step) ** 0.5} for step in steps]
    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
             "amsgrad": amsgrad, "maximize": maximize, "decoupled": decoupled}
    return _run(K.adam_kernel, K.adam_compiled, K.adam_reference, groups, consts, hyper)


def sgd_step(params, grads, momentum_buffers, *, first, lr: float, weight_decay: float,
             momentum: float, dampening: float, nesterov: bool, maximize: bool):
    """One SGD step in place over lists of views (see ``Capabilities.fused``).

    ``momentum_buffers[i]`` is a view of the buffer (unused when ``momentum == 0``);
    ``first[i]`` says it is uninitialised and takes the gradient. Returns
    ``NotImplemented`` (touching nothing) unless all arrays are float32/float64.
    """
    groups = [[params[i], grads[i], momentum_buffers[i] if momentum != 0 else None]
              for i in range(len(params))]
    consts = [{"first": bool(f)} for f in first]
    hyper = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
             "dampening": dampening, "nesterov": nesterov, "maximize": maximize}
    return _run(K.sgd_kernel, K.sgd_compiled, K.sgd_reference, groups, consts, hyper)


def rmsprop_step(params, grads, square_avgs, grad_avgs, momentum_buffers, *, lr: float,
                 alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool,
                 maximize: bool):
    """One RMSprop step in place over lists of views (see ``Capabilities.fused``).

    ``grad_avgs`` is ``None`` unless ``centered``, ``momentum_buffers`` ``None`` unless
    ``momentum > 0``. Returns ``NotImplemented`` (touching nothing) unless all arrays
    are float32/float64.
    """
    n = len(params)
    gavgs = grad_avgs if centered else [None] * n
    bufs = momentum_buffers if momentum > 0 else [None] * n
    groups = [[params[i], grads[i], square_avgs[i], gavgs[i], bufs[i]] for i in range(n)]
    hyper = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
             "momentum": momentum, "centered": centered, "maximize": maximize}
    return _run(K.rmsprop_kernel, K.rmsprop_compiled, K.rmsprop_reference, groups, [{}] * n,
                hyper)


def adagrad_step(params, grads, state_sums, *, lr: float, lr_decay: float, weight_decay: float,
                 eps: float, steps, maximize: bool):
    """One Adagrad step in place over lists of views (see ``Capabilities.fused``);
    ``steps[i]`` is parameter ``i``'s step count, already incremented. Returns
    ``NotImplemented`` (touching nothing) unless all arrays are float32/float64."""
    groups = [[params[i], grads[i], state_sums[i]] for i in range(len(params))]
    consts = [{"clr": lr / (1 + (step - 1) * lr_decay)} for step in steps]
    hyper = {"eps": eps, "weight_decay": weight_decay, "maximize": maximize}
    return _run(K.adagrad_kernel, K.adagrad_compiled, K.adagrad_reference, groups, consts,
                hyper)


def adamax_step(params, grads, exp_avgs, exp_infs, *, lr: float, beta1: float, beta2: float,
                eps: float, weight_decay: float, steps, maximize: bool):
    """One Adamax step in place over lists of views (see ``Capabilities.fused``); ``steps[i]``
    already incremented. ``NotImplemented`` (touching nothing) unless float32/float64."""
    groups = [[params[i], grads[i], exp_avgs[i], exp_infs[i]] for i in range(len(params))]
    consts = [{"clr": lr / (1 - beta1**step)} for step in steps]
    hyper = {"beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
             "maximize": maximize}
    return _run(K.adamax_kernel, K.adamax_compiled, K.adamax_reference, groups, consts, hyper)


def adadelta_step(params, grads, square_avgs, acc_deltas, *, lr: float, rho: float, eps: float,
                  weight_decay: float, maximize: bool):
    """One Adadelta step in place over lists of views (see ``Capabilities.fused``).
    ``NotImplemented`` (touching nothing) unless float32/float64."""
    n = len(params)
    groups = [[params[i], grads[i], square_avgs[i], acc_deltas[i]] for i in range(n)]
    hyper = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
             "maximize": maximize}
    return _run(K.adadelta_kernel, K.adadelta_compiled, K.adadelta_reference, groups,
                [{}] * n, hyper)


def radam_step(params, grads, exp_avgs, exp_avg_sqs, *, lr: float, beta1: float, beta2: float,
               eps: float, weight_decay: float, decoupled: bool, steps, maximize: bool):
    """One RAdam step in place over lists of views (see ``Capabilities.fused``); ``steps[i]``
    already incremented. ``NotImplemented`` (touching nothing) unless float32/float64."""
    groups = [[params[i], grads[i], exp_avgs[i], exp_avg_sqs[i]] for i in range(len(params))]
    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
             "weight_decay": weight_decay, "decoupled": decoupled, "maximize": maximize}
    return _run(K.radam_kernel, K.radam_compiled, K.radam_reference, groups,
                [{"step": step} for step in steps], hyper)


def nadam_step(params, grads, exp_avgs, exp_avg_sqs, *, lr: float, beta1: float, beta2: float,
               eps: float, weight_decay: float, momentum_decay: float, decoupled: bool, steps,
               mu_products, maximize: bool):
    """One NAdam step in place over lists of views (see ``Capabilities.fused``); ``steps[i]``
    already incremented, ``mu_products[i]`` already including this step's momentum.
    ``NotImplemented`` (touching nothing) unless float32/float64."""
    groups = [[params[i], grads[i], exp_avgs[i], exp_avg_sqs[i]] for i in range(len(params))]
    consts = []
    for step, mu_product in zip(steps, mu_products):
        grad_coef, avg_coef = K.nadam_coefficients(lr, beta1, momentum_decay, step, mu_product)
        consts.append({"step": step, "grad_coef": grad_coef, "avg_coef": avg_coef})
    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
             "weight_decay": weight_decay, "decoupled": decoupled, "maximize": maximize}
    return _run(K.nadam_kernel, K.nadam_compiled, K.nadam_reference, groups, consts, hyper)


KERNELS = {"adamw_step": adamw_step, "sgd_step": sgd_step, "rmsprop_step": rmsprop_step,
           "adagrad_step": adagrad_step, "adamax_step": adamax_step,
           "adadelta_step": adadelta_step, "radam_step": radam_step, "nadam_step": nadam_step}
