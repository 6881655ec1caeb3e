"""Fused kernels for composites: softmax, norms, cross entropy, dropout, AdamW.

Row kernels take contiguous ``(M, N)`` rows, one program per row, computing
in ``ACC`` (float32, or float64 for float64 inputs). With ``ONE_PASS`` the
whole row fits one ``BLOCK_N`` block and is read once; otherwise they loop
over the row in ``BLOCK_N`` pieces, reading it two or three times. Softmax
and cross entropy then use the online log-sum-exp: a running max and a sum
rescaled whenever the max grows. The norm backward also has a whole-row
kernel that takes several rows per program and sums the parameter gradients
of its rows on the way (no second pass over the gradient and the input).
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl

from genesis_backend_triton.kernels.opmath import cast


@triton.jit
def _row(N, INDEX64: tl.constexpr):
    row = tl.program_id(0)
    if INDEX64:
        row = row.to(tl.int64)
    return row, row * N


@triton.jit
def _load(ptr, mask, other, ACC: tl.constexpr):
    """``ptr[mask]`` as ``ACC``, ``other`` elsewhere (converting before filling: the
    interpreter keeps bfloat16 as raw bits, so ``tl.load(other=)`` would write bits)."""
    return tl.where(mask, tl.load(ptr, mask=mask).to(ACC), other)


@triton.jit
def _online_lse(x, base, N, ACC: tl.constexpr, BLOCK_N: tl.constexpr):
    """``(max, sum of exp(x - max))`` of one row."""
    m_i = tl.full([BLOCK_N], float("-inf"), ACC)
    s_i = tl.zeros([BLOCK_N], ACC)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        v = _load(x + base + cols, cols < N, float("-inf"), ACC)
        m_new = tl.maximum(m_i, v)
        safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        s_i = s_i * tl.exp(m_i - safe) + tl.exp(v - safe)
        m_i = m_new
    m = tl.max(m_i, 0)
    safe_m = tl.where(m == float("-inf"), 0.0, m)
    s = tl.sum(s_i * tl.exp(m_i - safe_m), 0)
    return m, s


@triton.jit
def softmax_kernel(x, y, N, LOG: tl.constexpr, ACC: tl.constexpr, BLOCK_N: tl.constexpr,
                   INDEX64: tl.constexpr, ONE_PASS: tl.constexpr):
    row, base = _row(N, INDEX64)
    if ONE_PASS:  # the row fits one block: read it once and keep it in registers
        cols = tl.arange(0, BLOCK_N)
        mask = cols < N
        v = _load(x + base + cols, mask, float("-inf"), ACC)
        m = tl.max(v, 0)
        e = tl.exp(v - m)
        s = tl.sum(e, 0)
        if LOG:
            r = v - m - tl.log(s)
        else:
            r = e / s
        tl.store(y + base + cols, r.to(y.dtype.element_ty), mask=mask)
    else:
        m, s = _online_lse(x, base, N, ACC, BLOCK_N)
        log_s = tl.log(s)
        for start in range(0, N, BLOCK_N):
            cols = start + tl.arange(0, BLOCK_N)
            mask = cols < N
            v = _load(x + base + cols, mask, 0.0, ACC)
            if LOG:
                r = v - m - log_s
            else:
                r = tl.exp(v - m) / s
            tl.store(y + base + cols, r.to(y.dtype.element_ty), mask=mask)


@triton.jit
def _softmax_grad(vy, vg, total, LOG: tl.constexpr):
    if LOG:
        r = vg - tl.exp(vy) * total
    else:
        r = vy * (vg - total)
    return r


@triton.jit
def softmax_backward_kernel(y, g, dx, N, LOG: tl.constexpr, ACC: tl.constexpr,
                            BLOCK_N: tl.constexpr, INDEX64: tl.constexpr, ONE_PASS: tl.constexpr):
    row, base = _row(N, INDEX64)
    if ONE_PASS:
        cols = tl.arange(0, BLOCK_N)
        mask = cols < N
        vg = _load(g + base + cols, mask, 0.0, ACC)
        vy = _load(y + base + cols, mask, 0.0, ACC)
        if LOG:
            total = tl.sum(vg, 0)
        else:
            total = tl.sum(vg * vy, 0)
        r = _softmax_grad(vy, vg, total, LOG)
        tl.store(dx + base + cols, r.to(dx.dtype.element_ty), mask=mask)
    else:
        acc = tl.zeros([BLOCK_N], ACC)
        for start in range(0, N, BLOCK_N):
            cols = start + tl.arange(0, BLOCK_N)
            mask = cols < N
            vg = _load(g + base + cols, mask, 0.0, ACC)
            if LOG:
                acc += vg
            else:
                acc += vg * _load(y + base + cols, mask, 0.0, ACC)
        total = tl.sum(acc, 0)
        for start in range(0, N, BLOCK_N):
            cols = start + tl.arange(0, BLOCK_N)
            mask = cols < N
            vg = _load(g + base + cols, mask, 0.0, ACC)
            vy = _load(y + base + cols, mask, 0.0, ACC)
            r = _softmax_grad(vy, vg, total, LOG)
            tl.store(dx + base + cols, r.to(dx.dtype.element_ty), mask=mask)


@triton.jit
def _affine(r, w, b, cols, mask, HAS_W: tl.constexpr, HAS_B: tl.constexpr, ACC: tl.constexpr):
    if HAS_W:
        r = r * _load(w + cols, mask, 0.0, ACC)
    if HAS_B:
        r = r + _load(b + cols, mask, 0.0, ACC)
    return r


@triton.jit
def norm_kernel(x, w, b, y, mean_out, rstd_out, N, eps, RMS: tl.constexpr,
                HAS_W: tl.constexpr, HAS_B: tl.constexpr, ACC: tl.constexpr,
                BLOCK_N: tl.constexpr, INDEX64: tl.constexpr, ONE_PASS: tl.constexpr):
    """LayerNorm (``RMS=False``) or RMSNorm of one row; saves mean and 1/std."""
    row, base = _row(N, INDEX64)
    mean = 0.0
    if ONE_PASS:  # the row fits one block: read it once
        cols = tl.arange(0, BLOCK_N)
        mask = cols < N
        v = _load(x + base + cols, mask, 0.0, ACC)
        if not RMS:
            mean = tl.sum(v, 0) / N
        d = tl.where(mask, v - mean, 0.0)
        rstd = 1.0 / tl.sqrt(tl.sum(d * d, 0) / N + eps)
        r = _affine(d * rstd, w, b, cols, mask, HAS_W, HAS_B, ACC)
        tl.store(y + base + cols, r.to(y.dtype.element_ty), mask=mask)
    else:
        if not RMS:
            acc = tl.zeros([BLOCK_N], ACC)
            for start in range(0, N, BLOCK_N):
                cols = start + tl.arange(0, BLOCK_N)
                acc += _load(x + base + cols, cols < N, 0.0, ACC)
            mean = tl.sum(acc, 0) / N
        acc2 = tl.zeros([BLOCK_N], ACC)
        for start in range(0, N, BLOCK_N):
            cols = start + tl.arange(0, BLOCK_N)
            mask = cols < N
            d = tl.where(mask, _load(x + base + cols, mask, 0.0, ACC) - mean, 0.0)
            acc2 += d * d
        rstd = 1.0 / tl.sqrt(tl.sum(acc2, 0) / N + eps)
        for start in range(0, N, BLOCK_N):
            cols = start + tl.arange(0, BLOCK_N)
            mask = cols < N
            r = (_load(x + base + cols, mask, 0.0, ACC) - mean) * rstd
            r = _affine(r, w, b, cols, mask, HAS_W, HAS_B, ACC)
            tl.store(y + base + cols, r.to(y.dtype.element_ty), mask=mask)
    if not RMS:
        tl.store(mean_out + row, mean.to(mean_out.dtype.element_ty))
    tl.store(rstd_out + row, rstd.to(rstd_out.dtype.element_ty))


@triton.jit
def _norm_stats(mean_in, rstd_in, row, RMS: tl.constexpr, ACC: tl.constexpr):
    """The row's saved mean (0 for RMSNorm) and 1/std."""
    mean = 0.0
    if not RMS:
        mean = tl.load(mean_in + row).to(ACC)
    return mean, tl.load(rstd_in + row).to(ACC)


@triton.jit
def _weighted(gv, w, cols, mask, HAS_W: tl.constexpr, ACC: tl.constexpr):
    """The incoming gradient times the norm's weight, if it has one."""
    if HAS_W:
        gv = gv * _load(w + cols, mask, 0.0, ACC)
    return gv


@triton.jit
def _norm_dx(wg, xhat, c1, c2, rstd, RMS: tl.constexpr):
    """``rstd * (wg - xhat * c1 - c2)`` with ``c1 = mean(wg * xhat)``, ``c2 = mean(wg)``
    (no ``c2`` term for RMSNorm)."""
    if RMS:
        r = (wg - xhat * c1) * rstd
    else:
        r = (wg - xhat * c1 - c2) * rstd
    return r


@triton.jit
def norm_backward_kernel(g, x, w, mean_in, rstd_in, dx, N, RMS: tl.constexpr,
                         HAS_W: tl.constexpr, ACC: tl.constexpr, BLOCK_N: tl.constexpr,
                         INDEX64: tl.constexpr):
    """dx of LayerNorm/RMSNorm: ``rstd * (wg - xhat * mean(wg * xhat) - mean(wg))``."""
    row, base = _row(N, INDEX64)
    mean, rstd = _norm_stats(mean_in, rstd_in, row, RMS, ACC)
    a1 = tl.zeros([BLOCK_N], ACC)
    a2 = tl.zeros([BLOCK_N], ACC)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = cols < N
        xhat = (_load(x + base + cols, mask, 0.0, ACC) - mean) * rstd
        wg = _weighted(_load(g + base + cols, mask, 0.0, ACC), w, cols, mask, HAS_W, ACC)
        a1 += tl.where(mask, xhat * wg, 0.0)
        a2 += wg
    c1 = tl.sum(a1, 0) / N
    c2 = tl.sum(a2, 0) / N
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = cols < N
        xhat = (_load(x + base + cols, mask, 0.0, ACC) - mean) * rstd
        wg = _weighted(_load(g + base + cols, mask, 0.0, ACC), w, cols, mask, HAS_W, ACC)
        r = _norm_dx(wg, xhat, c1, c2, rstd, RMS)
        tl.store(dx + base + cols, r.to(dx.dtype.element_ty), mask=mask)


@triton.jit
def norm_backward_rows_kernel(g, x, w, mean_in, rstd_in, dx, dw_part, db_part, M, N, ROWS,
                              RMS: tl.constexpr, HAS_W: tl.constexpr, HAS_B: tl.constexpr,
                              ACC: tl.constexpr, BLOCK_N: tl.constexpr, INDEX64: tl.constexpr):
    """dx of ``ROWS`` whole rows per program (each read once), and the program's partial
    column sums ``g * xhat`` / ``g`` in row ``program`` of ``dw_part`` / ``db_part``: the
    parameter gradients cost no second pass over ``g`` and ``x``."""
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    aw = tl.zeros([BLOCK_N], ACC)
    ab = tl.zeros([BLOCK_N], ACC)
    for i in range(ROWS):
        row = pid * ROWS + i
        if INDEX64:
            row = row.to(tl.int64)
        m = cols < tl.where(row < M, N, 0)  # no columns for rows past the end
        # rows past the end read a real row's statistics, unused
        mean, rstd = _norm_stats(mean_in, rstd_in, tl.minimum(row, M - 1), RMS, ACC)
        vg = _load(g + row * N + cols, m, 0.0, ACC)
        xhat = tl.where(m, (_load(x + row * N + cols, m, 0.0, ACC) - mean) * rstd, 0.0)
        # w is reloaded per row (a cache hit): one row vector fewer in registers
        wg = _weighted(vg, w, cols, mask, HAS_W, ACC)
        c2 = 0.0
        if not RMS:
            c2 = tl.sum(wg, 0) / N
        r = _norm_dx(wg, xhat, tl.sum(xhat * wg, 0) / N, c2, rstd, RMS)
        tl.store(dx + row * N + cols, r.to(dx.dtype.element_ty), mask=m)
        aw += vg * xhat
        ab += vg
    if HAS_W:
        tl.store(dw_part + pid * N + cols, aw, mask=mask)
    if HAS_B:
        tl.store(db_part + pid * N + cols, ab, mask=mask)


@triton.jit
def norm_param_grad_kernel(g, x, mean_in, rstd_in, dw, db, M, N, RMS: tl.constexpr,
                           HAS_B: tl.constexpr, ACC: tl.constexpr, BLOCK_M: tl.constexpr,
                           BLOCK_N: tl.constexpr):
    """Column sums ``dw = sum(g * xhat)``, ``db = sum(g)`` over all rows, per column block."""
    cols = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    cmask = cols < N
    aw = tl.zeros([BLOCK_M, BLOCK_N], ACC)
    ab = tl.zeros([BLOCK_M, BLOCK_N], ACC)
    for start in range(0, M, BLOCK_M):
        rows = start + tl.arange(0, BLOCK_M)
        rmask = rows < M
        mask = rmask[:, None] & cmask[None, :]
        offs = rows[:, None].to(tl.int64) * N + cols[None, :]
        vg = _load(g + offs, mask, 0.0, ACC)
        vx = _load(x + offs, mask, 0.0, ACC)
        rstd = _load(rstd_in + rows, rmask, 0.0, ACC)
        if RMS:
            xhat = vx * rstd[:, None]
        else:
            mean = _load(mean_in + rows, rmask, 0.0, ACC)
            xhat = (vx - mean[:, None]) * rstd[:, None]
        aw += vg * xhat
        ab += vg
    tl.store(dw + cols, tl.sum(aw, 0).to(dw.dtype.element_ty), mask=cmask)
    if HAS_B:
        tl.store(db + cols, tl.sum(ab, 0).to(db.dtype.element_ty), mask=cmask)


@triton.jit
def cross_entropy_kernel(logits, target, loss, lse_out, N, ignore_index, ACC: tl.constexpr,
                         BLOCK_N: tl.constexpr, INDEX64: tl.constexpr):
    """Per-row ``logsumexp(x) - x[target]`` (0 where ``target == ignore_index``)."""
    row, base = _row(N, INDEX64)
    m, s = _online_lse(logits, base, N, ACC, BLOCK_N)
    lse = m + tl.log(s)
    t = tl.load(target + row)
    valid = t != ignore_index
    xt = tl.load(logits + base + tl.where(valid, t, 0)).to(ACC)
    tl.store(lse_out + row, lse.to(lse_out.dtype.element_ty))
    tl.store(loss + row, tl.where(valid, lse - xt, 0.0).to(loss.dtype.element_ty))


@triton.jit
def cross_entropy_backward_kernel(grad, logits, target, lse_in, dlogits, N, grad_stride,
                                  ignore_index, ACC: tl.constexpr, BLOCK_N: tl.constexpr,
                                  INDEX64: tl.constexpr):
    """``(softmax(x) - onehot(target)) * grad[row]``; zero rows where the target is ignored."""
    row, base = _row(N, INDEX64)
    t = tl.load(target + row)
    scale = tl.load(grad + row * grad_stride).to(ACC)
    scale = tl.where(t != ignore_index, scale, 0.0)
    lse = tl.load(lse_in + row).to(ACC)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        mask = cols < N
        v = _load(logits + base + cols, mask, 0.0, ACC)
        p = tl.exp(v - lse) - tl.where(cols == t, 1.0, 0.0)
        tl.store(dlogits + base + cols, (p * scale).to(dlogits.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["seed", "base"])
def dropout_kernel(x, y, keep, n, p, scale, seed, base, BLOCK: tl.constexpr):
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = i < n
    kept = tl.rand(seed, base + i) >= p
    v = tl.load(x + i, mask=mask).to(tl.float32)
    r = tl.where(kept, v * scale, 0.0)
    tl.store(y + i, r.to(y.dtype.element_ty), mask=mask)
    tl.store(keep + i, kept, mask=mask)


@triton.jit
def _adam_block(param, grad, exp_avg, exp_avg_sq, max_sq, i, n, lr, beta1, beta2, eps,
                weight_decay, step_size, bc2_sqrt, MASKED: tl.constexpr, AMSGRAD: tl.constexpr,
                MAXIMIZE: tl.constexpr, DECOUPLED: tl.constexpr, CT: tl.constexpr):
    """The update of elements ``i`` (bounds-checked against ``n`` only when ``MASKED``:
    full blocks load and store unmasked, which lets the compiler vectorise)."""
    mask = i < n if MASKED else None
    p = cast(tl.load(param + i, mask=mask), CT)
    g = cast(tl.load(grad + i, mask=mask), CT)
    if MAXIMIZE:
        g = -g
    if DECOUPLED:
        p = p * (1.0 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = cast(tl.load(exp_avg + i, mask=mask), CT)
    v = cast(tl.load(exp_avg_sq + i, mask=mask), CT)
    m = m + (g - m) * (1.0 - beta1)
    v = v * beta2 + (1.0 - beta2) * g * g
    if AMSGRAD:
        vmax = tl.maximum(cast(tl.load(max_sq + i, mask=mask), CT), v)
        tl.store(max_sq + i, cast(vmax, max_sq.dtype.element_ty), mask=mask)
        denom = tl.sqrt(vmax) / bc2_sqrt + eps
    else:
        denom = tl.sqrt(v) / bc2_sqrt + eps
    p = p - step_size * m / denom
    tl.store(param + i, cast(p, param.dtype.element_ty), mask=mask)
    tl.store(exp_avg + i, cast(m, exp_avg.dtype.element_ty), mask=mask)
    tl.store(exp_avg_sq + i, cast(v, exp_avg_sq.dtype.element_ty), mask=mask)


@triton.jit
def adamw_kernel(table, steps, n_tensors, lr, beta1, beta2, eps, weight_decay, step_size,
                 bc2_sqrt, D0: tl.constexpr, D1: tl.constexpr, D2: tl.constexpr,
                 D3: tl.constexpr, D4: tl.constexpr, AMSGRAD: tl.constexpr,
                 MAXIMIZE: tl.constexpr, DECOUPLED: tl.constexpr, PER_TENSOR_STEP: tl.constexpr,
                 ALIGNED: tl.constexpr, CT: tl.constexpr, BLOCK: tl.constexpr):
    """One Adam/AdamW step (PyTorch's formula) over many tensors in one launch, in place.

    ``table`` (int64): five rows of ``n_tensors`` addresses (param, grad, exp_avg,
    exp_avg_sq, max_exp_avg_sq; element types ``D0``..``D4``), one row of sizes, then
    ``(tensor, first element)`` for each program. ``steps`` (float64) holds
    ``(step_size, bc2_sqrt)`` per tensor when ``PER_TENSOR_STEP``.
    """
    b = tl.program_id(0)
    t = tl.load(table + 6 * n_tensors + 2 * b)
    start = tl.load(table + 6 * n_tensors + 2 * b + 1)
    n = tl.load(table + 5 * n_tensors + t)
    param = tl.load(table + t).to(tl.pointer_type(D0))
    grad = tl.load(table + n_tensors + t).to(tl.pointer_type(D1))
    exp_avg = tl.load(table + 2 * n_tensors + t).to(tl.pointer_type(D2))
    exp_avg_sq = tl.load(table + 3 * n_tensors + t).to(tl.pointer_type(D3))
    max_sq = tl.load(table + 4 * n_tensors + t).to(tl.pointer_type(D4))
    if ALIGNED:  # every address 16-byte aligned: lets the compiler vectorise
        param = tl.multiple_of(param, 16)
        grad = tl.multiple_of(grad, 16)
        exp_avg = tl.multiple_of(exp_avg, 16)
        exp_avg_sq = tl.multiple_of(exp_avg_sq, 16)
        max_sq = tl.multiple_of(max_sq, 16)
        start = tl.multiple_of(start, BLOCK)
    if PER_TENSOR_STEP:
        step_size = cast(tl.load(steps + 2 * t), CT)
        bc2_sqrt = cast(tl.load(steps + 2 * t + 1), CT)
    i = start + tl.arange(0, BLOCK)
    if start + BLOCK <= n:
        _adam_block(param, grad, exp_avg, exp_avg_sq, max_sq, i, n, lr, beta1, beta2, eps,
                    weight_decay, step_size, bc2_sqrt, False, AMSGRAD, MAXIMIZE, DECOUPLED, CT)
    else:
        _adam_block(param, grad, exp_avg, exp_avg_sq, max_sq, i, n, lr, beta1, beta2, eps,
                    weight_decay, step_size, bc2_sqrt, True, AMSGRAD, MAXIMIZE, DECOUPLED, CT)
