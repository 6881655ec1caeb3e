"""The fused ``adamw_step``: every parameter of a call in one kernel launch per dtype group.

Parameters are grouped by the dtypes of their five tensors (param, grad,
exp_avg, exp_avg_sq, max_exp_avg_sq) and by 16-byte alignment. Each group gets
an int64 table on the device -- the tensors' addresses, sizes, and the
``(tensor, first element)`` of every program -- cached while the same tensors
come back step after step, so a step costs one launch per group instead of one
per parameter (the launch overhead dominated with many parameters).
Non-contiguous tensors are stepped in contiguous copies written back after.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from genesis_backend_triton.layout import cdiv, is_contiguous, next_pow2, numel
from genesis_backend_triton.memory import kernel_arg

DTYPES = ("float32", "float64", "float16", "bfloat16")
CONFIGS = [{"BLOCK": 1024, "num_warps": 4}, {"BLOCK": 2048, "num_warps": 8},
           {"BLOCK": 4096, "num_warps": 8}, {"BLOCK": 512, "num_warps": 4}]
TABLES_KEPT = 16


def adamw_step(be, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, lr, beta1, beta2,
               eps, weight_decay, steps, amsgrad, maximize, decoupled=True):
    """See :class:`genesis.backends.Capabilities` (``"adamw_step"``)."""
    rows = []
    for i, p in enumerate(params):
        row = [p, grads[i], exp_avgs[i], exp_avg_sqs[i],
               max_exp_avg_sqs[i] if amsgrad else exp_avg_sqs[i]]
        if any(v.dtype.name not in DTYPES for v in row):
            return NotImplemented
        rows.append(row)
    groups: dict = {}
    write_back = []
    for row, step in zip(rows, steps):
        if numel(row[0].shape) == 0:
            continue
        work = [v if is_contiguous(v) else be.contiguous(v) for v in row]
        write_back += [(live, done) for k, (live, done) in enumerate(zip(row, work))
                       if live is not done and k != 1]
        addresses = [v.storage.ptr + v.offset * v.dtype.itemsize for v in work]
        key = (tuple(v.dtype.name for v in work), all(a % 16 == 0 for a in addresses))
        step = float(step.item() if hasattr(step, "item") else step)
        groups.setdefault(key, []).append((work, addresses, step))
    hyper = dict(lr=float(lr), beta1=float(beta1), beta2=float(beta2), eps=float(eps),
                 weight_decay=float(weight_decay), amsgrad=bool(amsgrad),
                 maximize=bool(maximize), decoupled=bool(decoupled))
    for (names, aligned), members in groups.items():
        _launch_group(be, names, aligned, members, hyper)
    for live, done in write_back:
        be.copy_(live, done)
    return None


def _launch_group(be, names: tuple, aligned: bool, members: list, hyper: dict) -> None:
    import triton.language as tl

    from genesis_backend_triton.kernels.fused import adamw_kernel
    from genesis_backend_triton.runtime import TL_DTYPES
    consts = {f"D{k}": TL_DTYPES[name] for k, name in enumerate(names)}
    consts.update(AMSGRAD=hyper["amsgrad"], MAXIMIZE=hyper["maximize"],
                  DECOUPLED=hyper["decoupled"], ALIGNED=aligned,
                  CT=tl.float64 if "float64" in names else tl.float32)
    sizes = [numel(work[0].shape) for work, _, _ in members]
    cfg = _config(be, members[sizes.index(max(sizes))][0], consts, hyper)
    table, programs = _table(be, [a for _, a, _ in members], sizes, cfg["BLOCK"])
    step_values = {s for _, _, s in members}
    scalars = [hyper[k] for k in ("lr", "beta1", "beta2", "eps", "weight_decay")]
    if len(step_values) == 1:
        step_size, bc2_sqrt = _bias_terms(step_values.pop(), hyper)
        steps_arg, per_tensor = table, False
    else:
        terms = np.array([_bias_terms(s, hyper) for _, _, s in members], np.float64)
        steps_arg = kernel_arg(be.rt.memory.alloc(terms.nbytes), "float64")
        be.rt.memory.upload(steps_arg.storage, 0, terms.reshape(-1))
        step_size, bc2_sqrt, per_tensor = 1.0, 1.0, True
    adamw_kernel[(programs,)](table, steps_arg, len(members), *scalars, step_size, bc2_sqrt,
                              PER_TENSOR_STEP=per_tensor, **consts, **cfg)


def _bias_terms(step: float, hyper: dict) -> tuple:
    """``(lr / (1 - beta1^step), sqrt(1 - beta2^step))``."""
    return (hyper["lr"] / (1.0 - hyper["beta1"] ** step),
            math.sqrt(1.0 - hyper["beta2"] ** step))


def _table(be, addresses: list, sizes: list, block: int) -> tuple:
    """The device table for these tensors (cached by address, size and block)."""
    cache = be.__dict__.setdefault("_adamw_tables", OrderedDict())
    key = (tuple(map(tuple, addresses)), tuple(sizes), block)
    hit = cache.get(key)
    if hit is not None:
        cache.move_to_end(key)
        return hit
    counts = np.array([cdiv(n, block) for n in sizes], np.int64)
    owner = np.repeat(np.arange(len(sizes), dtype=np.int64), counts)
    first = (np.arange(int(counts.sum()), dtype=np.int64)
             - np.repeat(np.cumsum(counts) - counts, counts)) * block
    host = np.concatenate([np.array(addresses, np.int64).T.reshape(-1),
                           np.array(sizes, np.int64), np.stack([owner, first], 1).reshape(-1)])
    storage = be.rt.memory.alloc(host.nbytes)
    be.rt.memory.upload(storage, 0, host)
    cache[key] = hit = (kernel_arg(storage, "int64"), len(owner))
    if len(cache) > TABLES_KEPT:
        cache.popitem(last=False)
    return hit


def _config(be, work: list, consts: dict, hyper: dict) -> dict:
    """The tuned block, timed on scratch copies of the largest tensor (the step is in place)."""
    from genesis_backend_triton.kernels.fused import adamw_kernel
    n = numel(work[0].shape)
    configs = CONFIGS
    if be.rt.interpret:
        configs = [{"BLOCK": min(next_pow2(n), 1 << 14), "num_warps": 1}] + configs
    key = (next_pow2(n),) + tuple(str(consts[f"D{k}"]) for k in range(5)) + \
        (consts["AMSGRAD"], consts["ALIGNED"])

    def launcher():
        scratch = [be.contiguous(v) for v in work]
        addresses = [v.storage.ptr for v in scratch]

        def launch(cfg):
            table, programs = _table(be, [addresses], [n], cfg["BLOCK"])
            adamw_kernel[(programs,)](table, table, 1, 1e-3, 0.9, 0.999, 1e-8, 1e-2, 1e-3, 1.0,
                                      PER_TENSOR_STEP=False, **consts, **cfg)
            return scratch  # the closure owns the copies: the table's addresses stay ours
        return launch

    return be.rt.tuner.pick("adamw_step", key, configs, launcher)
