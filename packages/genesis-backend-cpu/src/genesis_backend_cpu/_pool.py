"""Fused 2-D max pooling, forward (values and argmax indices) and backward (gradient scatter).

The composite gathers every window into a trailing dim (``index_select`` copies), takes the
argmax and gathers again; its backward scatter-adds through ``np.add.at``/``reduceat``. A
compiled loop reads each window in place and writes the maximum and its flat ``h * W + w``
index in one pass, one plane per task on every core (a loop without bounds checks when every
window lies inside the input); the backward adds each gradient at its index, plane by plane
(no two tasks write the same plane, so no races).

PyTorch's rules: padding is skipped (never -inf slots), the first maximum wins a tie, a NaN
wins its window (the last NaN if several), and an all ``-inf`` window points at its first
element inside the input. The numpy references (used without numba, and for dtypes the
compiled loops do not take) follow the same rules.
"""

from __future__ import annotations

import numpy as np

from genesis_backend_cpu._compiled import compiled, launch, prange
from genesis_backend_cpu._views import arr

_COMPILED = (np.dtype(np.float32), np.dtype(np.float64))


@compiled(parallel=True)
def _max_pool2d_loop(x, kh, kw, sh, sw, ph, pw, dh, dw, out, idx):
    planes, height, width = x.shape
    oh_n, ow_n = out.shape[1], out.shape[2]
    for p in prange(planes):
        for oh in range(oh_n):
            h0 = oh * sh - ph
            for ow in range(ow_n):
                w0 = ow * sw - pw
                best = x[p, 0, 0]
                where = -1
                for i in range(kh):
                    h = h0 + i * dh
                    if h < 0 or h >= height:
                        continue
                    for j in range(kw):
                        w = w0 + j * dw
                        if w < 0 or w >= width:
                            continue
                        v = x[p, h, w]
                        if where < 0 or v > best or v != v:
                            best = v
                            where = h * width + w
                if where < 0:  # no slot inside (a dilated window over padding): PyTorch
                    best = -np.inf  # gives -inf at its first slot past the top-left corner
                    hi = h0 + ((dh - 1 - h0) // dh) * dh if h0 < 0 else h0
                    wi = w0 + ((dw - 1 - w0) // dw) * dw if w0 < 0 else w0
                    where = hi * width + wi
                out[p, oh, ow] = best
                idx[p, oh, ow] = where


@compiled(inline=True)
def _interior_plane(x, p, kh, kw, sh, sw, dh, dw, out, idx):
    """Plane ``p`` when every window lies inside the input: no bounds checks, and the first
    slot starts the search (same ties and NaN rule as the general loop)."""
    width = x.shape[2]
    for oh in range(out.shape[1]):
        h0 = oh * sh
        for ow in range(out.shape[2]):
            w0 = ow * sw
            best = x[p, h0, w0]
            where = h0 * width + w0
            for i in range(kh):
                for j in range(kw):
                    h = h0 + i * dh
                    w = w0 + j * dw
                    v = x[p, h, w]
                    if v > best or v != v:
                        best = v
                        where = h * width + w
            out[p, oh, ow] = best
            idx[p, oh, ow] = where


@compiled(parallel=True)
def _max_pool2d_interior_loop(x, kh, kw, sh, sw, dh, dw, out, idx):
    # The 2x2 and 3x3 windows inline the helper with the kernel size as a constant: the
    # unrolled window then compiles to branch-free selects (random data mispredicts the
    # general loop's branches; 0.75 ms against 7.2 ms for the MNIST net's pooling)
    for p in prange(x.shape[0]):
        if kh == 2 and kw == 2:
            _interior_plane(x, p, 2, 2, sh, sw, dh, dw, out, idx)
        elif kh == 3 and kw == 3:
            _interior_plane(x, p, 3, 3, sh, sw, dh, dw, out, idx)
        else:
            _interior_plane(x, p, kh, kw, sh, sw, dh, dw, out, idx)


@compiled(parallel=True)
def _max_pool2d_backward_loop(g, idx, dx):
    planes, n = g.shape
    plane = dx.shape[1]
    for p in prange(planes):
        for k in range(plane):
            dx[p, k] = 0
        for k in range(n):
            q = idx[p, k]
            if 0 <= q < plane:  # PyTorch's index of a window with no slot inside may not be
                dx[p, q] += g[p, k]


def _positions(size: int, out: int, k: int, s: int, p: int, d: int) -> tuple:
    """``(out, k)`` input positions of every window slot (clipped), which are inside, and
    each window's first slot at or past 0 (PyTorch's index for a window with none inside)."""
    starts = np.arange(out) * s - p
    pos = starts[:, None] + np.arange(k) * d
    first = np.where(starts < 0, starts + (d - 1 - starts) // d * d, starts)
    return np.clip(pos, 0, size - 1), (pos >= 0) & (pos < size), first


def max_pool2d_reference(x: np.ndarray, kernel, stride, padding, dilation, out_size) -> tuple:
    """numpy max pooling of ``(P, H, W)`` planes: ``(values, int64 indices)``, ``(P, oh, ow)``."""
    planes, height, width = x.shape
    hpos, hin, hfirst = _positions(height, out_size[0], kernel[0], stride[0], padding[0],
                                   dilation[0])
    wpos, win_, wfirst = _positions(width, out_size[1], kernel[1], stride[1], padding[1],
                                    dilation[1])
    shape = (planes, out_size[0], out_size[1], kernel[0] * kernel[1])
    win = x[:, hpos[:, None, :, None], wpos[None, :, None, :]].reshape(shape)
    inside = (hin[:, None, :, None] & win_[None, :, None, :]).reshape(shape[1:])
    flat = (hpos[:, None, :, None] * width + wpos[None, :, None, :]).reshape(shape[1:])
    lowest = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
    scored = np.where(inside, win, lowest)
    slot = np.argmax(scored, -1)
    at_floor = np.take_along_axis(scored, slot[..., None], -1)[..., 0] == lowest
    slot = np.where(at_floor, np.argmax(inside, -1), slot)  # first slot inside the input
    if x.dtype.kind not in "iu":
        nan = np.isnan(win) & inside
        last_nan = (shape[-1] - 1) - np.argmax(nan[..., ::-1], -1)
        slot = np.where(nan.any(-1), last_nan, slot)
    values = np.take_along_axis(win, slot[..., None], -1)[..., 0]
    indices = np.take_along_axis(np.broadcast_to(flat, shape), slot[..., None], -1)[..., 0]
    empty = ~inside.any(-1)  # no slot inside (a dilated window over padding)
    if empty.any():
        values = np.where(empty, lowest, values).astype(x.dtype)
        indices = np.where(empty, hfirst[:, None] * width + wfirst[None, :], indices)
    return np.ascontiguousarray(values), indices.astype(np.int64)


def max_pool2d_backward_reference(g: np.ndarray, idx: np.ndarray, plane: int) -> np.ndarray:
    """numpy gradient scatter: ``(P, L)`` gradients added at ``(P, L)`` flat indices of
    ``(P, plane)`` zeros, with one ``bincount`` over all planes (not ``np.add.at``)."""
    planes = g.shape[0]
    inside = (idx >= 0) & (idx < plane)  # see the compiled loop
    where = (idx + np.arange(planes)[:, None] * plane)[inside]
    summed = np.bincount(where, weights=g[inside], minlength=planes * plane)
    return summed.reshape(planes, plane).astype(g.dtype)


def max_pool2d(x, kernel_size, stride, padding, dilation, output_size) -> tuple:
    """The ``"max_pool2d"`` fused kernel (see ``Capabilities.fused``)."""
    a = arr(x)
    n, c, height, width = a.shape
    planes = a.reshape(n * c, height, width)
    geometry = (kernel_size, stride, padding, dilation)
    if a.dtype in _COMPILED and _max_pool2d_loop.available():
        out = np.empty((n * c, *output_size), a.dtype)
        idx = np.empty((n * c, *output_size), np.int64)
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geometry
        if ph == pw == 0 and (output_size[0] - 1) * sh + dh * (kh - 1) < height and \
                (output_size[1] - 1) * sw + dw * (kw - 1) < width:
            launch(_max_pool2d_interior_loop, a.size, planes, kh, kw, sh, sw, dh, dw, out, idx)
        else:
            launch(_max_pool2d_loop, a.size, planes, kh, kw, sh, sw, ph, pw, dh, dw, out,
                   idx)
    else:
        out, idx = max_pool2d_reference(planes, *geometry, output_size)
    shape = (n, c, *output_size)
    return out.reshape(shape), idx.reshape(shape)


def max_pool2d_backward(grad, indices, input_size) -> np.ndarray:
    """The ``"max_pool2d_backward"`` fused kernel (see ``Capabilities.fused``)."""
    g, idx = arr(grad), arr(indices)
    n, c = g.shape[:2]
    plane = input_size[0] * input_size[1]
    g2 = g.reshape(n * c, -1)
    idx2 = idx.reshape(n * c, -1)
    if g.dtype in _COMPILED and _max_pool2d_backward_loop.available():
        dx = np.empty((n * c, plane), g.dtype)
        launch(_max_pool2d_backward_loop, dx.size, g2, idx2, dx)
    else:
        dx = max_pool2d_backward_reference(g2, idx2, plane)
    return dx.reshape(n, c, *input_size)
