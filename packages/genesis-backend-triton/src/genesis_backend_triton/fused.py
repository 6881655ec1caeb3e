"""Fused kernels for composite ops, registered in ``capabilities.fused``.

Signatures (also documented on :class:`genesis.backends.Capabilities`);
views are genesis tensors or any object with storage/shape/strides/offset/dtype:

* ``softmax(x, dim)``, ``log_softmax(x, dim)`` -> storage (shape and dtype of x);
  ``softmax_backward(y, grad, dim)``, ``log_softmax_backward(y, grad, dim)`` -> storage.
* ``layer_norm(x, weight, bias, eps)`` over the last dim -> ``(y, mean, rstd)``;
  ``layer_norm_backward(grad, x, weight, mean, rstd) -> (dx, dweight, dbias)``
  (``dweight``/``dbias`` None without weight). ``rms_norm(x, weight, eps) -> (y, rstd)``;
  ``rms_norm_backward(grad, x, weight, rstd) -> (dx, dweight)``. mean/rstd hold one
  value per row, float32 (float64 for float64 x).
* ``cross_entropy(logits (N, C), target (N,) int64, ignore_index) -> (loss (N,), lse (N,))``
  with loss 0 at ignored rows; ``cross_entropy_backward(grad (N,), logits, target, lse,
  ignore_index) -> dlogits``.
* ``gelu(x, approximate)`` / ``gelu_backward(grad, x, approximate)`` (``"none"``/``"tanh"``),
  ``silu(x)`` / ``silu_backward(grad, x)`` -> storage.
* ``dropout(x, p, seed, offset) -> (y, mask)``: ``y = x * mask / (1 - p)``, mask bool; the
  Philox stream is the one ``random`` uses for ``(seed, offset)``.
* ``adamw_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, lr, beta1, beta2,
  eps, weight_decay, steps, amsgrad, maximize, decoupled) -> None``, in place, one launch per
  dtype group (:mod:`genesis_backend_triton.adamw`); ``NotImplemented``, touching nothing,
  for non-float dtypes.

Each wrapper makes its inputs contiguous rows (moving ``dim`` last when needed)
and launches one kernel of :mod:`genesis_backend_triton.kernels.fused`.
"""

from __future__ import annotations

from genesis_backend_triton.layout import cdiv, is_contiguous, next_pow2, numel
from genesis_backend_triton.memory import kernel_arg

NAMES = ("softmax", "log_softmax", "softmax_backward", "log_softmax_backward", "layer_norm",
         "layer_norm_backward", "rms_norm", "rms_norm_backward", "cross_entropy",
         "cross_entropy_backward", "gelu", "gelu_backward", "silu", "silu_backward", "dropout",
         "adamw_step")


def table(backend) -> dict:
    """``name -> kernel`` for ``backend``; each imports triton only when first called."""
    def bind(name):
        def kernel(*args, **kwargs):
            return globals()[f"_{name}"](backend, *args, **kwargs)
        kernel.__name__ = name
        kernel.__doc__ = f"Fused Triton ``{name}`` (see genesis_backend_triton.fused)."
        return kernel
    return {name: bind(name) for name in NAMES}


def _genesis_dtype(name: str):
    import genesis
    return getattr(genesis, name)


def _acc(dtype) -> tuple:
    import triton.language as tl
    return (tl.float64, "float64") if dtype.name == "float64" else (tl.float32, "float32")


#: the longest rows a GPU program holds whole in registers, per kernel (longer rows loop
#: over blocks): where ptxas -v (sm_90) reports no spills in 16 or 32 warps (the norm
#: backward, with five row vectors live: 16 bytes at 8192)
ONE_PASS_MAX = {"softmax": 32768, "softmax_backward": 16384, "norm": 16384,
                "norm_backward": 8192}


def _row_launch(be, n: int) -> dict:
    """The default block for rows of ``n``: the whole row up to 4096 (16k interpreted)."""
    if be.rt.interpret:
        block = min(next_pow2(max(n, 1)), 1 << 14)
        return {"BLOCK_N": block, "num_warps": 1}
    block = min(next_pow2(max(n, 1)), 4096)
    return {"BLOCK_N": block, "num_warps": 4 if block <= 1024 else 8 if block <= 2048 else 16}


def _row_configs(be, n: int, name: str) -> list:
    """Candidate blocks for rows of ``n`` in kernel ``name``, the default first. On a GPU,
    rows longer than the default block may also be held whole (one read, not two or three)."""
    configs = [_row_launch(be, n)]
    whole = next_pow2(max(n, 1))
    if not be.rt.interpret and configs[0]["BLOCK_N"] < whole <= ONE_PASS_MAX[name]:
        configs += [{"BLOCK_N": whole, "num_warps": 16}, {"BLOCK_N": whole, "num_warps": 32}]
    return configs


def _launch_rows(be, name: str, kernel, n: int, m: int, args: tuple, key: tuple,
                 **consts) -> None:
    """``kernel`` over ``m`` rows of ``n`` with the tuned block (outputs only: the kernel
    never writes its inputs, so candidates are timed on the real buffers)."""
    def launcher():
        def launch(cfg):
            kernel[(m,)](*args, ONE_PASS=cfg["BLOCK_N"] >= n, **consts, **cfg)
        return launch

    cfg = be.rt.tuner.pick(name, (next_pow2(n),) + key, _row_configs(be, n, name), launcher)
    launcher()(cfg)


def _rows(be, x, dim: int):
    """``x`` with ``dim`` last, contiguous: ``(view, permutation or None)``."""
    dim = dim % max(len(x.shape), 1)
    last = len(x.shape) - 1
    if dim == last or len(x.shape) == 0:
        return (x if is_contiguous(x) else be.contiguous(x)), None
    order = [i for i in range(len(x.shape)) if i != dim] + [dim]
    from genesis_backend_triton.backend import View
    moved = View(x.storage, tuple(x.shape[i] for i in order), tuple(x.strides[i] for i in order),
                 x.offset, x.dtype)
    return be.contiguous(moved), order


def _unrows(be, out, shape: tuple, order):
    """The storage of ``out`` (rows from :func:`_rows`) laid out in ``shape`` again."""
    if order is None:
        return out.storage
    from genesis_backend_triton.backend import View
    inverse = [order.index(i) for i in range(len(shape))]
    back = View(out.storage, shape, tuple(out.strides[i] for i in inverse), 0, out.dtype)
    return be.contiguous(back).storage


def _index64(view) -> bool:
    return numel(view.shape) + view.offset > 2**31 - 1


def _softmax_family(be, x, dim: int, log: bool):
    from genesis_backend_triton.kernels.fused import softmax_kernel
    rows, order = _rows(be, x, dim)
    out = be.new_view(rows.shape, x.dtype)
    n = rows.shape[-1] if rows.shape else 1
    m = numel(rows.shape) // max(n, 1)
    if m and n:
        _launch_rows(be, "softmax", softmax_kernel, n, m, (be.rt.ptr(rows), be.rt.ptr(out), n),
                     (x.dtype.name, log), LOG=log, ACC=_acc(x.dtype)[0], INDEX64=_index64(rows))
    return _unrows(be, out, x.shape, order)


def _softmax(be, x, dim):
    return _softmax_family(be, x, dim, False)


def _log_softmax(be, x, dim):
    return _softmax_family(be, x, dim, True)


def _softmax_backward_family(be, y, grad, dim: int, log: bool):
    from genesis_backend_triton.kernels.fused import softmax_backward_kernel
    ry, order = _rows(be, y, dim)
    rg, _ = _rows(be, grad, dim)
    out = be.new_view(ry.shape, grad.dtype)
    n = ry.shape[-1] if ry.shape else 1
    m = numel(ry.shape) // max(n, 1)
    if m and n:
        _launch_rows(be, "softmax_backward", softmax_backward_kernel, n, m,
                     (be.rt.ptr(ry), be.rt.ptr(rg), be.rt.ptr(out), n), (y.dtype.name, log),
                     LOG=log, ACC=_acc(y.dtype)[0], INDEX64=_index64(ry))
    return _unrows(be, out, y.shape, order)


def _softmax_backward(be, y, grad, dim):
    return _softmax_backward_family(be, y, grad, dim, False)


def _log_softmax_backward(be, y, grad, dim):
    return _softmax_backward_family(be, y, grad, dim, True)


def _norm(be, x, weight, bias, eps: float, rms: bool):
    from genesis_backend_triton.kernels.fused import norm_kernel
    rows, _ = _rows(be, x, -1)
    n = x.shape[-1]
    m = numel(x.shape) // max(n, 1)
    acc, acc_name = _acc(x.dtype)
    y = be.new_view(x.shape, x.dtype)
    mean = be.new_view((m,), _genesis_dtype(acc_name))
    rstd = be.new_view((m,), _genesis_dtype(acc_name))
    w = be.contiguous(weight) if weight is not None and not is_contiguous(weight) else weight
    b = be.contiguous(bias) if bias is not None and not is_contiguous(bias) else bias
    if m and n:
        args = (be.rt.ptr(rows), be.rt.ptr(w if w is not None else rows),
                be.rt.ptr(b if b is not None else rows), be.rt.ptr(y), be.rt.ptr(mean),
                be.rt.ptr(rstd), n, float(eps))
        _launch_rows(be, "norm", norm_kernel, n, m, args, (x.dtype.name, rms), RMS=rms,
                     HAS_W=w is not None, HAS_B=b is not None, ACC=acc, INDEX64=_index64(rows))
    return y, mean, rstd, w


def _layer_norm(be, x, weight, bias, eps):
    y, mean, rstd, _ = _norm(be, x, weight, bias, eps, rms=False)
    return y.storage, mean.storage, rstd.storage


def _rms_norm(be, x, weight, eps):
    y, _, rstd, _ = _norm(be, x, weight, None, eps, rms=True)
    return y.storage, rstd.storage


def _norm_backward_configs(be, n: int) -> list:
    """Candidates for the norm backward, the default first. ``"rows"``: one kernel, whole
    rows, ``ROWS`` rows per program (of ``PROGRAMS`` programs) with partial parameter
    gradients; ``"split"``: dx row by row, then a column-sum kernel over ``g`` and ``x``."""
    default = _row_launch(be, n)
    split = dict(default, PATH="split")
    whole = next_pow2(max(n, 1))
    if be.rt.interpret:
        return [dict(default, PATH="rows", PROGRAMS=4) if default["BLOCK_N"] >= n else split]
    if whole > ONE_PASS_MAX["norm_backward"]:  # five row vectors live in registers
        return [split]
    warps = min(16, max(4, whole // 256))  # <= 8 elements per thread: (almost) no spills
    rows = [{"PATH": "rows", "BLOCK_N": whole, "num_warps": warps, "PROGRAMS": programs}
            for programs in (1024, 256)]
    return rows + [dict(rows[0], num_warps=min(32, 2 * warps)), split]


def _norm_backward(be, grad, x, weight, mean, rstd, rms: bool, has_bias: bool):
    rx, _ = _rows(be, x, -1)
    rg, _ = _rows(be, grad, -1)
    n = x.shape[-1]
    m = numel(x.shape) // max(n, 1)
    acc = _acc(x.dtype)
    w = be.contiguous(weight) if weight is not None and not is_contiguous(weight) else weight
    stats = (_stat_ptr(mean if mean is not None else rstd, acc[1]), _stat_ptr(rstd, acc[1]))
    dx = be.new_view(x.shape, x.dtype)
    has_b = weight is not None and has_bias
    if m == 0 or n == 0:  # no rows: zero parameter gradients
        grads = [be.new_view((n,), weight.dtype) if wanted else None
                 for wanted in (weight is not None, has_b)]
        for gr in grads:
            if gr is not None:
                be.fill_(gr, 0)
        return dx.storage, *(None if gr is None else gr.storage for gr in grads)

    def launcher():
        def launch(cfg):
            path = _norm_backward_rows if cfg["PATH"] == "rows" else _norm_backward_split
            return path(be, cfg, rg, rx, w, stats, dx, m, n, acc, rms, has_b)
        return launch

    key = (next_pow2(n), next_pow2(m), x.dtype.name, rms, w is not None, has_b)
    cfg = be.rt.tuner.pick("norm_backward", key, _norm_backward_configs(be, n), launcher)
    dw, db = launcher()(cfg)
    return dx.storage, dw, db


def _norm_backward_rows(be, cfg, rg, rx, w, stats, dx, m, n, acc, rms, has_b):
    """One pass: dx and per-program partial sums, then the partials summed by columns."""
    from genesis_backend_triton.kernels.fused import norm_backward_rows_kernel
    rows = cdiv(m, cfg["PROGRAMS"])
    programs = cdiv(m, rows)
    parts = [be.new_view((programs, n), _genesis_dtype(acc[1])) if w is not None and k <= has_b
             else None for k in range(2)]
    ptr = [be.rt.ptr(p) if p is not None else be.rt.ptr(dx) for p in parts]
    norm_backward_rows_kernel[(programs,)](
        be.rt.ptr(rg), be.rt.ptr(rx), be.rt.ptr(w if w is not None else rx), *stats,
        be.rt.ptr(dx), *ptr, m, n, rows, RMS=rms, HAS_W=w is not None, HAS_B=has_b, ACC=acc[0],
        BLOCK_N=cfg["BLOCK_N"], INDEX64=_index64(rx), num_warps=cfg["num_warps"])
    return tuple(None if p is None else be.reduce("sum", p, (0,), w.dtype) for p in parts)


def _norm_backward_split(be, cfg, rg, rx, w, stats, dx, m, n, acc, rms, has_b):
    """dx by the row kernel, then ``dw``/``db`` by a column-sum kernel (a second read)."""
    from genesis_backend_triton.kernels.fused import norm_backward_kernel, norm_param_grad_kernel
    norm_backward_kernel[(m,)](
        be.rt.ptr(rg), be.rt.ptr(rx), be.rt.ptr(w if w is not None else rx), *stats,
        be.rt.ptr(dx), n, RMS=rms, HAS_W=w is not None, ACC=acc[0], INDEX64=_index64(rx),
        BLOCK_N=cfg["BLOCK_N"], num_warps=cfg["num_warps"])
    if w is None:
        return None, None
    dw = be.new_view((n,), w.dtype)
    db = be.new_view((n,), w.dtype) if has_b else None
    block_n = min(next_pow2(n), 64)
    block_m = min(next_pow2(m), 1024 if be.rt.interpret else 32)
    norm_param_grad_kernel[(cdiv(n, block_n),)](
        be.rt.ptr(rg), be.rt.ptr(rx), *stats, be.rt.ptr(dw),
        be.rt.ptr(db if db is not None else dw), m, n, RMS=rms, HAS_B=has_b, ACC=acc[0],
        BLOCK_M=block_m, BLOCK_N=block_n, num_warps=4)
    return dw.storage, None if db is None else db.storage


def _layer_norm_backward(be, grad, x, weight, mean, rstd):
    return _norm_backward(be, grad, x, weight, mean, rstd, rms=False, has_bias=True)


def _rms_norm_backward(be, grad, x, weight, rstd):
    dx, dw, _ = _norm_backward(be, grad, x, weight, None, rstd, rms=True, has_bias=False)
    return dx, dw


def _cross_entropy(be, logits, target, ignore_index=-100):
    from genesis_backend_triton.kernels.fused import cross_entropy_kernel
    rows, _ = _rows(be, logits, -1)
    tgt = target if is_contiguous(target) else be.contiguous(target)
    m, n = logits.shape
    acc, acc_name = _acc(logits.dtype)
    loss = be.new_view((m,), logits.dtype)
    lse = be.new_view((m,), _genesis_dtype(acc_name))
    if m:
        cross_entropy_kernel[(m,)](be.rt.ptr(rows), _offset_ptr(be, tgt), be.rt.ptr(loss),
                                   be.rt.ptr(lse), n, int(ignore_index), ACC=acc,
                                   INDEX64=_index64(rows), **_row_launch(be, n))
    return loss.storage, lse.storage


def _cross_entropy_backward(be, grad, logits, target, lse, ignore_index=-100):
    from genesis_backend_triton.kernels.fused import cross_entropy_backward_kernel
    rows, _ = _rows(be, logits, -1)
    tgt = target if is_contiguous(target) else be.contiguous(target)
    m, n = logits.shape
    dlogits = be.new_view(logits.shape, logits.dtype)
    gstride = grad.strides[0] if grad.shape else 0
    if m:
        cross_entropy_backward_kernel[(m,)](
            _offset_ptr(be, grad), be.rt.ptr(rows), _offset_ptr(be, tgt),
            _stat_ptr(lse, _acc(logits.dtype)[1]),
            be.rt.ptr(dlogits), n, gstride, int(ignore_index), ACC=_acc(logits.dtype)[0],
            INDEX64=_index64(rows), **_row_launch(be, n))
    return dlogits.storage


def _stat_ptr(view, acc_name: str):
    """Per-row statistics our forward kernel wrote, read back in the type it wrote them in
    (the core hands them back unread, whatever dtype it labelled them with)."""
    if view.offset:
        raise ValueError(f"fused backward: statistics view has offset {view.offset}, expected 0 "
                         "(pass back what the forward kernel returned)")
    return kernel_arg(view.storage, acc_name)


def _offset_ptr(be, view):
    """``view``'s pointer, its offset folded in (a contiguous copy when it has one)."""
    if view.offset:
        view = be.contiguous(view)
    return be.rt.ptr(view)


def _gelu(be, x, approximate="none"):
    return be.unary("gelu" if approximate == "none" else "gelu_tanh", x, x.dtype)


def _gelu_backward(be, grad, x, approximate="none"):
    op = "gelu_backward" if approximate == "none" else "gelu_tanh_backward"
    return be.binary(op, grad, x, x.dtype)


def _silu(be, x):
    return be.unary("silu", x, x.dtype)


def _silu_backward(be, grad, x):
    return be.binary("silu_backward", grad, x, x.dtype)


def _dropout(be, x, p, seed, offset):
    from genesis_backend_triton.kernels.fused import dropout_kernel
    src = x if is_contiguous(x) and x.offset == 0 else be.contiguous(x)
    n = numel(x.shape)
    y = be.new_view(x.shape, x.dtype)
    keep = be.new_view(x.shape, _genesis_dtype("bool"))
    if n:
        block, warps = be.rt.elementwise_block(n)
        scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
        dropout_kernel[(cdiv(n, block),)](
            be.rt.ptr(src), be.rt.ptr(y), be.rt.ptr(keep), n, float(p), scale,
            int(seed) & 0xFFFF_FFFF_FFFF_FFFF, int(offset), BLOCK=block, num_warps=warps)
    return y.storage, keep.storage


def _adamw_step(be, *args, **kwargs):
    from genesis_backend_triton.adamw import adamw_step
    return adamw_step(be, *args, **kwargs)
