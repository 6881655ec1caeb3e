"""Row reductions over a 2-d strided view ``(M, N)``: sum/prod/max/min and argmax/argmin.

The backend permutes the reduced axes last and collapses them, so any
reduction is ``M`` rows of ``N`` elements at ``x + row*sm + col*sn``. Each
program reduces ``BLOCK_M`` rows, looping over columns with a per-lane
accumulator of type ``ACC`` (float32 for half types), then combines the
lanes. When there are few rows and many columns, ``program_id(1)`` splits
each row into ``chunk``-sized parts written as partials and reduced again.
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl


@triton.jit
def _add(a, b):
    return a + b


@triton.jit
def _mul(a, b):
    return a * b


@triton.jit
def _max(a, b):
    if a.dtype.is_floating():
        r = tl.maximum(a, b, propagate_nan=tl.PropagateNan.ALL)
    else:
        r = tl.maximum(a, b)
    return r


@triton.jit
def _min(a, b):
    if a.dtype.is_floating():
        r = tl.minimum(a, b, propagate_nan=tl.PropagateNan.ALL)
    else:
        r = tl.minimum(a, b)
    return r


@triton.jit
def _combine(a, b, OP: tl.constexpr):
    if OP == "sum":
        r = a + b
    elif OP == "prod":
        r = a * b
    elif OP == "max":
        r = _max(a, b)
    else:
        tl.static_assert(OP == "min", "unknown reduce op")
        r = _min(a, b)
    return r


@triton.jit
def reduce_kernel(x, out, x_off, M, N, sm, sn, chunk, n_splits,
                  OP: tl.constexpr, IDENT: tl.constexpr, ACC: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, INDEX64: tl.constexpr):
    pid = tl.program_id(0)
    split = tl.program_id(1)
    if INDEX64:
        pid = pid.to(tl.int64)
        split = split.to(tl.int64)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    rmask = rows < M
    lo = split * chunk
    hi = tl.minimum(lo + chunk, N)
    acc = tl.full([BLOCK_M, BLOCK_N], IDENT, ACC)
    base = x + x_off + rows[:, None] * sm
    for start in range(lo, hi, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        m = rmask[:, None] & (cols[None, :] < hi)
        v = tl.where(m, tl.load(base + cols[None, :] * sn, mask=m).to(ACC), IDENT)
        acc = _combine(acc, v, OP)
    if OP == "sum":
        r = tl.reduce(acc, 1, _add)
    elif OP == "prod":
        r = tl.reduce(acc, 1, _mul)
    elif OP == "max":
        r = tl.reduce(acc, 1, _max)
    else:
        r = tl.reduce(acc, 1, _min)
    tl.store(out + rows * n_splits + split, r.to(out.dtype.element_ty), mask=rmask)


@triton.jit
def arg_reduce_kernel(x, out, x_off, M, N, sm, sn,
                      OP: tl.constexpr, IDENT: tl.constexpr, ACC: tl.constexpr,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, INDEX64: tl.constexpr):
    pid = tl.program_id(0)
    if INDEX64:
        pid = pid.to(tl.int64)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    rmask = rows < M
    best = tl.full([BLOCK_M, BLOCK_N], IDENT, ACC)
    best_i = tl.zeros([BLOCK_M, BLOCK_N], tl.int64)
    base = x + x_off + rows[:, None] * sm
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        m = rmask[:, None] & (cols[None, :] < N)
        v = tl.where(m, tl.load(base + cols[None, :] * sn, mask=m).to(ACC), IDENT)
        if OP == "argmax":
            better = v > best
        else:
            tl.static_assert(OP == "argmin", "unknown arg-reduce op")
            better = v < best
        better = (better | ((v != v) & (best == best))) & m
        best = tl.where(better, v, best)
        best_i = tl.where(better, cols[None, :].to(tl.int64) + best_i * 0, best_i)
    is_nan = best != best
    any_nan = tl.max(is_nan.to(tl.int32), 1)
    clean = tl.where(is_nan, IDENT, best)
    if OP == "argmax":
        target = tl.max(clean, 1)
    else:
        target = tl.min(clean, 1)
    hit = tl.where(any_nan[:, None] > 0, is_nan, clean == target[:, None])
    idx = tl.min(tl.where(hit, best_i, N), 1)
    tl.store(out + rows, idx, mask=rmask)
