"""Inclusive scans along rows of a 2-d strided view ``(M, N)``: cumsum, cumprod, cummax,
cummin, logcumsumexp.

The backend moves the scanned axis last (as for reductions), so a scan is ``M`` rows of ``N``
elements at ``x + row*sm + col*sn``. Each program scans ``BLOCK_M`` rows in ``BLOCK_N``-wide
chunks (``tl.cumsum``/``tl.cumprod``, ``tl.associative_scan`` with a max/min/log-add-exp
combine) and carries each row's running value into the next chunk, so rows of any length
work. Triton's interpreter runs the custom combines one element at a time: keep rows short
there. Results are written contiguous, ``(M, N)`` row-major, in ``ACC``
(float32 for half types) and converted to the output's dtype on store.
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl

from genesis_backend_triton.kernels.reduction import _max, _min


@triton.jit
def _log1p(e):
    """``log(1 + e)`` for ``0 <= e <= 1``, accurate also for tiny ``e`` (Goldberg's trick:
    the rounding of ``1 + e`` cancels in ``e / (u - 1)``)."""
    u = 1.0 + e
    return tl.where(u == 1.0, e, tl.log(u) * (e / tl.where(u == 1.0, 1.0, u - 1.0)))


@triton.jit
def _logaddexp(a, b):
    """``log(exp(a) + exp(b))`` without overflow; ``-inf`` is the identity, NaN propagates."""
    hi = _max(a, b)
    lo = _min(a, b)
    return tl.where(hi == lo, hi + 0.6931471805599453, hi + _log1p(tl.exp(lo - hi)))


@triton.jit
def scan_kernel(x, out, x_off, M, N, sm, sn,
                OP: tl.constexpr, IDENT: tl.constexpr, ACC: tl.constexpr,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, INDEX64: tl.constexpr):
    pid = tl.program_id(0)
    if INDEX64:
        pid = pid.to(tl.int64)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    rmask = rows < M
    base = x + x_off + rows[:, None] * sm
    carry = tl.full([BLOCK_M], IDENT, ACC)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        m = rmask[:, None] & (cols[None, :] < N)
        v = tl.where(m, tl.load(base + cols[None, :] * sn, mask=m).to(ACC), IDENT)
        if OP == "cumsum":
            r = tl.cumsum(v, 1) + carry[:, None]
        elif OP == "cumprod":
            r = tl.cumprod(v, 1) * carry[:, None]
        elif OP == "cummax":
            r = _max(tl.associative_scan(v, 1, _max), carry[:, None])
        elif OP == "cummin":
            r = _min(tl.associative_scan(v, 1, _min), carry[:, None])
        else:
            tl.static_assert(OP == "logcumsumexp", "unknown scan op")
            r = _logaddexp(tl.associative_scan(v, 1, _logaddexp), carry[:, None])
        tl.store(out + rows[:, None] * N + cols[None, :], r.to(out.dtype.element_ty), mask=m)
        # the chunk's last column (masked columns hold the identity, so it is the row's value)
        carry = tl.sum(tl.where(cols[None, :] == start + BLOCK_N - 1, r, 0), 1).to(ACC)
