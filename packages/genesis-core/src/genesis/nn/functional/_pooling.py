"""Pooling: max / average / power-average pooling over sliding windows, adaptive pooling
over ``output_size`` windows, and ``max_unpool`` (the inverse scatter of max pooling).

Every pooling op is one composite: per spatial dim a host table of the input positions each
output window reads (``(out, K)``, with a validity mask for padding or short windows), the
windows gathered with ``index_select`` into a trailing window dim, then a reduction over it.
Max pooling takes the window ``argmax`` and ``gather``s it, so the gradient reaches the first
maximum of each window only (PyTorch's rule; a NaN in a window wins, the last NaN if several).
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._ops.elementwise import where
from genesis._tensor import Tensor
from genesis.nn.functional._activation import relu
from genesis.nn.functional._checks import check_tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d",
           "max_pool1d", "max_pool2d", "max_unpool1d", "max_unpool2d"]

_WORDS = {1: "one int", 2: "two ints"}


def _tuple(fn: str, name: str, value, n: int) -> tuple:
    """``value`` (an int or a sequence of 1 or ``n`` ints) as ``n`` ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)) and len(value) in (1, n) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value) * (n // len(value))
    raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {_WORDS[n]}, "
                       f"got {value!r}")


def _check_input(fn: str, input, n: int, nonempty: int | None = None) -> tuple:
    """Leading (batch, channel) shape of an ``(n + 1)``-D or ``(n + 2)``-D input whose last
    ``nonempty`` dims (default ``n + 1``; PyTorch's choice varies by op) have elements."""
    check_tensor(fn, "input", input)
    nonempty = n + 1 if nonempty is None else nonempty
    if input.ndim not in (n + 1, n + 2) or any(s == 0 for s in input.shape[-nonempty:]):
        raise RuntimeError(f"{fn}: Expected {n + 1}D or {n + 2}D (batch mode) tensor with "
                           f"optional 0 dim batch size for input, but got: {tuple(input.shape)}")
    return tuple(input.shape[:-n])


def _check_float(fn: str, input: Tensor, int64: bool = False) -> None:
    """Floating inputs only (and int64 where ``int64``, as PyTorch's sliding average)."""
    if not (input.dtype.is_floating_point or (int64 and input.dtype == dt.int64)):
        raise NotImplementedError(f"{fn}: \"{fn}\" not implemented for '{input.dtype}'")


def _out_size(fn: str, input: Tensor, n: int, k: int, s: int, p: int, d: int,
              ceil_mode: bool) -> int:
    """PyTorch's output length: with ``ceil_mode`` the last window must start inside the
    input or the left padding."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    if out <= 0:
        raise RuntimeError(f"{fn}: Given input size: {tuple(input.shape)}. Calculated output "
                           f"size is {out} for kernel_size={k}, stride={s}, padding={p}, "
                           f"dilation={d}. Output size is too small")
    return out


def _sliding_args(fn: str, input, n: int, kernel_size, stride, padding, dilation,
                  ceil_mode: bool) -> list:
    """Per spatial dim ``(positions, valid, include_pad_count)`` tables for sliding windows."""
    k = _tuple(fn, "kernel_size", kernel_size, n)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        _tuple(fn, "stride", stride, n)
    p = _tuple(fn, "padding", padding, n)
    d = _tuple(fn, "dilation", dilation, n)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{fn}: kernel_size={kernel_size!r}, expected values > 0")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{fn}: stride={stride!r}, stride should not be zero or negative")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{fn}: dilation={dilation!r}, dilation should be greater than zero")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{fn}: padding={padding!r}, pad must be non-negative")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise RuntimeError(f"{fn}: pad should be at most half of effective kernel size, but got "
                           f"padding={padding!r} and kernel_size={kernel_size!r}")
    tables = []
    for i in range(n):
        size = input.shape[input.ndim - n + i]
        m = _out_size(fn, input, size, k[i], s[i], p[i], d[i], ceil_mode)
        starts = np.arange(m) * s[i] - p[i]
        pos = starts[:, None] + np.arange(k[i]) * d[i]
        valid = (pos >= 0) & (pos < size)
        include_pad = np.minimum(starts + k[i], size + p[i]) - starts
        tables.append((pos, valid, include_pad))
    return tables


def _adaptive_args(fn: str, input, n: int, output_size) -> list:
    """Per spatial dim ``(positions, valid)``: PyTorch's windows ``[floor(i * n / m),
    ceil((i + 1) * n / m))``; ``None`` in ``output_size`` keeps the input's size."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if len(sizes) != n or not all(v is None or (isinstance(v, int) and not isinstance(v, bool)
                                                and v >= 0) for v in sizes):
        raise RuntimeError(f"{fn}: output_size={output_size!r}, expected {_WORDS[n]} >= 0 "
                           "(or None to keep a dim's size)")
    tables = []
    for i, m in enumerate(sizes):
        size = input.shape[input.ndim - n + i]
        m = size if m is None else m
        j = np.arange(m)
        starts, ends = (j * size) // m, -((-(j + 1) * size) // m)
        width = int((ends - starts).max()) if m else 1
        pos = starts[:, None] + np.arange(width)
        tables.append((pos, pos < ends[:, None], ends - starts))
    return tables


def _windows(input: Tensor, tables: list, fill) -> tuple:
    """``(windows, flat)``: ``input``'s windows as ``(..., out_1[, out_2], K)`` and the flat
    per-plane input index of every slot (host array).

    Invalid slots (padding, the short end of an adaptive window) read the window's first
    valid element for ``fill=None`` (the max is unchanged and an all ``-inf`` window points
    at its first element, as PyTorch's), else hold ``fill``.
    """
    n = len(tables)
    lead, sizes = tuple(input.shape[:-n]), tuple(input.shape[-n:])
    positions = []
    for (pos, valid, *_), size in zip(tables, sizes):
        if fill is None:
            first = np.where(valid.any(1), np.argmax(valid, 1), 0)
            pos = np.where(valid, pos, np.take_along_axis(pos, first[:, None], 1))
        positions.append(np.clip(pos, 0, size - 1))
    out = input
    for i, pos in enumerate(positions):
        dim = input.ndim - n + 2 * i
        out = out.index_select(dim, input.new_tensor(pos.reshape(-1), dtype=dt.int64))
        out = out.reshape(out.shape[:dim] + pos.shape + out.shape[dim + 1:])
    if n == 1:
        (_, mask, *_), = tables
        flat = positions[0]
    else:
        (ph, pw), ((_, vh, *_), (_, vw, *_)) = positions, tables
        b = len(lead)
        out = out.permute(*range(b), b, b + 2, b + 1, b + 3)
        shape = (ph.shape[0], pw.shape[0], ph.shape[1] * pw.shape[1])
        out = out.reshape(lead + shape)
        mask = (vh[:, None, :, None] & vw[None, :, None, :]).reshape(shape)
        flat = (ph[:, None, :, None] * sizes[1] + pw[None, :, None, :]).reshape(shape)
    if fill is not None and not mask.all():
        out = where(input.new_tensor(mask, dtype=dt.bool_), out, fill)
    return out, flat, mask


def _max(fn: str, input: Tensor, tables: list, return_indices: bool):
    floating = input.dtype.is_floating_point
    if input.dtype == dt.bool_ or not (floating or fn == "max_pool2d"):
        raise NotImplementedError(f"{fn}: \"{fn}\" not implemented for '{input.dtype}'")
    win, flat, mask = _windows(input, tables, None)
    if win.numel() == 0:
        idx = zeros(win.shape[:-1] + (1,), dtype=dt.int64, device=input.device)
    else:
        idx = win.argmax(-1, keepdim=True)
        nan = win.isnan() if floating else None
        if nan is not None and bool(nan.any()):  # PyTorch keeps a window's last NaN
            nan = nan & input.new_tensor(mask, dtype=dt.bool_)  # not invalid slots' copies
            last = (win.shape[-1] - 1) - nan.flip(-1).to(dt.int8).argmax(-1, keepdim=True)
            idx = where(nan.any(-1, keepdim=True), last, idx)
    values = win.gather(-1, idx).squeeze(-1)
    if not return_indices:
        return values
    table = input.new_tensor(flat.astype(np.int64), dtype=dt.int64)
    return values, table.expand(*idx.shape[:-1], flat.shape[-1]).gather(-1, idx).squeeze(-1)


def _avg(input: Tensor, tables: list, divisor: np.ndarray) -> Tensor:
    win, _, _ = _windows(input, tables, 0)
    if not input.dtype.is_floating_point:  # int64: PyTorch's C++ division, toward zero
        return win.sum(-1).div(input.new_tensor(divisor.astype(np.int64), dtype=dt.int64),
                               rounding_mode="trunc")
    return win.sum(-1) / input.new_tensor(divisor, dtype=input.dtype)


def _sliding_divisor(tables: list, count_include_pad: bool, divisor_override) -> np.ndarray:
    if divisor_override is not None:
        return np.full([t[0].shape[0] for t in tables], float(divisor_override))
    counts = [t[2] if count_include_pad else t[1].sum(1) for t in tables]
    out = counts[0]
    for c in counts[1:]:
        out = np.multiply.outer(out, c)
    return out.astype(np.float64)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of every ``kernel_size`` window (``dilation`` apart elements, ``stride``
    apart windows, ``padding`` of -inf, at most half the kernel) over the last dim of a
    ``(C, L)`` or ``(N, C, L)`` input; with ``return_indices`` also the position in ``L``."""
    _check_input("max_pool1d", input, 1)
    tables = _sliding_args("max_pool1d", input, 1, kernel_size, stride, padding, dilation,
                           ceil_mode)
    return _max("max_pool1d", input, tables, return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-D max pooling of a ``(C, H, W)`` or ``(N, C, H, W)`` input (see :func:`max_pool1d`);
    ``return_indices`` gives flat ``h * W + w`` positions per plane. Integer inputs work too
    (as in PyTorch, unlike the 1-D and adaptive max pools)."""
    _check_input("max_pool2d", input, 2)
    tables = _sliding_args("max_pool2d", input, 2, kernel_size, stride, padding, dilation,
                           ceil_mode)
    return _max("max_pool2d", input, tables, return_indices)


@autocast_op("avg_pool1d")
def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """The mean of every window over the last dim of a ``(C, L)`` or ``(N, C, L)`` input;
    zero ``padding`` counts in the divisor when ``count_include_pad``."""
    _check_input("avg_pool1d", input, 1)
    _check_float("avg_pool1d", input, int64=True)
    tables = _sliding_args("avg_pool1d", input, 1, kernel_size, stride, padding, 1, ceil_mode)
    return _avg(input, tables, _sliding_divisor(tables, count_include_pad, None))


@autocast_op("avg_pool2d")
def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling of a ``(C, H, W)`` or ``(N, C, H, W)`` input; ``divisor_override``
    replaces the window size as the divisor."""
    _check_input("avg_pool2d", input, 2)
    _check_float("avg_pool2d", input, int64=True)
    if divisor_override is not None and (not isinstance(divisor_override, int)
                                         or divisor_override == 0):
        raise RuntimeError(f"avg_pool2d: divisor_override={divisor_override!r}, divisor must "
                           "be not zero")
    tables = _sliding_args("avg_pool2d", input, 2, kernel_size, stride, padding, 1, ceil_mode)
    return _avg(input, tables, _sliding_divisor(tables, count_include_pad, divisor_override))


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of the last dim into ``output_size`` windows ``[floor(i * L / out),
    ceil((i + 1) * L / out))``; with ``return_indices`` also the positions."""
    _check_input("adaptive_max_pool1d", input, 1)
    tables = _adaptive_args("adaptive_max_pool1d", input, 1, output_size)
    return _max("adaptive_max_pool1d", input, tables, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive max pooling of the last two dims to ``output_size`` (an int or a pair; None
    keeps that dim's size); indices are flat ``h * W + w`` per plane."""
    _check_input("adaptive_max_pool2d", input, 2)
    tables = _adaptive_args("adaptive_max_pool2d", input, 2, output_size)
    return _max("adaptive_max_pool2d", input, tables, return_indices)


@autocast_op("adaptive_avg_pool1d")
def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of the last dim into ``output_size`` adaptive windows."""
    _check_input("adaptive_avg_pool1d", input, 1, 1)
    _check_float("adaptive_avg_pool1d", input)
    tables = _adaptive_args("adaptive_avg_pool1d", input, 1, output_size)
    return _avg(input, tables, tables[0][2].astype(np.float64))


@autocast_op("adaptive_avg_pool2d")
def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling of the last two dims into ``output_size`` adaptive windows."""
    _check_input("adaptive_avg_pool2d", input, 2, 2)
    _check_float("adaptive_avg_pool2d", input)
    tables = _adaptive_args("adaptive_avg_pool2d", input, 2, output_size)
    return _avg(input, tables, np.multiply.outer(tables[0][2], tables[1][2]).astype(np.float64))


def _lp(input: Tensor, norm_type, area: int, pooled, max_pool) -> Tensor:
    if isinstance(norm_type, (int, float)) and abs(norm_type) == float("inf"):
        return max_pool(input.abs()) if norm_type > 0 else -max_pool(-input.abs())
    out = pooled(input.pow(norm_type))
    return (out.sign() * relu(out.abs())).mul(area).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling ``(sum over the window of x ** p) ** (1 / p)``, no padding."""
    return _lp(input, norm_type, kernel_size,
               lambda x: avg_pool1d(x, kernel_size, stride, 0, ceil_mode),
               lambda x: max_pool1d(x, kernel_size, stride, 0, 1, ceil_mode))


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """2-D power-average pooling (see :func:`lp_pool1d`)."""
    kh, kw = _tuple("lp_pool2d", "kernel_size", kernel_size, 2)
    return _lp(input, norm_type, kh * kw,
               lambda x: avg_pool2d(x, kernel_size, stride, 0, ceil_mode),
               lambda x: max_pool2d(x, kernel_size, stride, 0, 1, ceil_mode))


def _unpool(fn: str, input: Tensor, indices: Tensor, n: int, kernel_size, stride, padding,
            output_size) -> Tensor:
    lead = _check_input(fn, input, n, input.ndim - 1)
    check_tensor(fn, "indices", indices)
    if indices.dtype != dt.int64:
        raise RuntimeError(f"{fn}: elements in indices should be type int64 but got: "
                           f"{indices.dtype}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{fn}: Expected shape of indices to be same as that of the input "
                           f"tensor ({tuple(input.shape)}) but got indices tensor with shape: "
                           f"{tuple(indices.shape)}")
    k = _tuple(fn, "kernel_size", kernel_size, n)
    s = k if stride is None else _tuple(fn, "stride", stride, n)
    p = _tuple(fn, "padding", padding, n)
    default = [(input.shape[input.ndim - n + i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(n)]
    if output_size is None:
        size = default
    else:
        given = list(output_size)
        if len(given) == n + 2:
            given = given[2:]
        if len(given) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for d in range(n):
            lo, hi = default[d] - s[d], default[d] + s[d]
            if not lo < given[d] < hi:
                raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                                 f"between {lo} and {hi})")
        size = [int(v) for v in given]
    plane = int(np.prod(size))
    per_plane = int(np.prod(input.shape[input.ndim - n:]))
    flat_idx = indices.reshape(lead + (per_plane,))
    if flat_idx.numel():
        lo, hi = int(flat_idx.min()), int(flat_idx.max())
        if lo < 0 or hi >= plane:
            raise RuntimeError(f"{fn}: Found an invalid max index: {hi if hi >= plane else lo} "
                               f"(output volumes are of size {'x'.join(map(str, size))})")
    out = zeros(lead + (plane,), dtype=input.dtype, device=input.device)
    return out.scatter(-1, flat_idx, input.reshape(lead + (per_plane,))).reshape(lead + tuple(size))


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool1d`: ``input`` written at ``indices`` of a zero
    ``(N, C, L_out)`` output (``L_out = (L - 1) * stride - 2 * padding + kernel_size``)."""
    return _unpool("max_unpool1d", input, indices, 1, kernel_size, stride, padding, output_size)


@autocast_op("max_unpool2d")
def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool2d`: ``input`` written at the flat ``indices`` of
    zero output planes (or ``output_size``, within a stride of the default size)."""
    return _unpool("max_unpool2d", input, indices, 2, kernel_size, stride, padding, output_size)
