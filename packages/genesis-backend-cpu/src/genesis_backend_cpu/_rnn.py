"""Fused LSTM and GRU cells: the gate arithmetic after the two matmuls, forward and backward,
in one pass over the ``(B, H)`` state.

One LSTM step of the composite is ~12 autograd nodes (the gate add, four chunks, three
sigmoids, two tanhs, three products, a sum) and twice as many numpy passes backward, each on
a small ``(B, H)`` array where Python and dispatch overhead dominate. The forward kernel takes
the two projections ``xw`` (``x W_ih^T + b_ih``) and ``hw`` (``h W_hh^T + b_hh``), adds them,
applies the gates and writes the new state together with the activated gates (the workspace
its backward reads); the backward kernel turns the state's gradient into the gates' gradient.

The float32 LSTM forward is a compiled loop over each row, one short loop per gate block and
per state update, with the vectorizable ``exp``/``tanh`` of :mod:`._act_kernels` (one loop over
all five gates compiled scalar: 400 us on a 32x256 step, against 170 us for numpy ufuncs in
place and 80 us split). Other dtypes, and the GRU forward, are numpy ufuncs writing in place
into the workspace. The backwards are arithmetic only: one compiled pass each, on the calling
thread (a step's ``(B, H)`` state is too small to pay for waking other cores), beside their
numpy references.
"""

from __future__ import annotations

import numpy as np

from genesis_backend_cpu._act_kernels import exp32, tanh32
from genesis_backend_cpu._compiled import compiled
from genesis_backend_cpu._views import arr

_COMPILED = (np.dtype(np.float32), np.dtype(np.float64))
_F = np.float32


@compiled(inline=True)
def _sigmoid32(u):
    return _F(1) / (_F(1) + exp32(-u))


@compiled()
def _lstm_forward_loop32(xw, hw, c, hc, ws):
    rows, hidden = c.shape
    for b in range(rows):
        x, h, w, out = xw[b], hw[b], ws[b], hc[b]
        for j in range(2 * hidden):  # i, f
            w[j] = _sigmoid32(x[j] + h[j])
        for j in range(2 * hidden, 3 * hidden):  # g
            w[j] = tanh32(x[j] + h[j])
        for j in range(3 * hidden, 4 * hidden):  # o
            w[j] = _sigmoid32(x[j] + h[j])
        i, f, g = w[:hidden], w[hidden:2 * hidden], w[2 * hidden:3 * hidden]
        o, t = w[3 * hidden:4 * hidden], w[4 * hidden:]
        cb, h2, c2 = c[b], out[:hidden], out[hidden:]
        for j in range(hidden):
            c2[j] = f[j] * cb[j] + i[j] * g[j]
        for j in range(hidden):
            t[j] = tanh32(c2[j])
        for j in range(hidden):
            h2[j] = o[j] * t[j]


@compiled()
def _lstm_backward_loop(grad, c, ws, dgates, dc):
    rows, hidden = c.shape
    for b in range(rows):
        for j in range(hidden):
            i = ws[b, j]
            f = ws[b, hidden + j]
            g = ws[b, 2 * hidden + j]
            o = ws[b, 3 * hidden + j]
            t = ws[b, 4 * hidden + j]
            dh = grad[b, j]
            dc2 = grad[b, hidden + j] + dh * o * (1 - t * t)
            dgates[b, j] = dc2 * g * i * (1 - i)
            dgates[b, hidden + j] = dc2 * c[b, j] * f * (1 - f)
            dgates[b, 2 * hidden + j] = dc2 * i * (1 - g * g)
            dgates[b, 3 * hidden + j] = dh * t * o * (1 - o)
            dc[b, j] = dc2 * f


@compiled()
def _gru_backward_loop(grad, h, ws, dxw, dhw, dh):
    rows, hidden = h.shape
    for b in range(rows):
        for j in range(hidden):
            r = ws[b, j]
            z = ws[b, hidden + j]
            n = ws[b, 2 * hidden + j]
            hn = ws[b, 3 * hidden + j]
            d = grad[b, j]
            dn = d * (1 - z) * (1 - n * n)
            dr = dn * hn * r * (1 - r)
            dz = d * (h[b, j] - n) * z * (1 - z)
            dxw[b, j] = dr
            dxw[b, hidden + j] = dz
            dxw[b, 2 * hidden + j] = dn
            dhw[b, j] = dr
            dhw[b, hidden + j] = dz
            dhw[b, 2 * hidden + j] = dn * r
            dh[b, j] = d * z


def _sigmoid_(x: np.ndarray) -> None:
    """``x = 1 / (1 + exp(-x))`` in place (the composite's formula)."""
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1
    np.reciprocal(x, out=x)


def lstm_cell_forward(xw: np.ndarray, hw: np.ndarray, c: np.ndarray) -> tuple:
    """LSTM gates: ``([h' | c'] (B, 2H), [i | f | g | o | tanh(c')] (B, 5H))``."""
    rows, hidden = c.shape
    dtype = np.result_type(xw, hw, c)
    ws = np.empty((rows, 5 * hidden), dtype)
    hc = np.empty((rows, 2 * hidden), dtype)
    gates = ws[:, :4 * hidden]
    np.add(xw, hw, out=gates)
    _sigmoid_(ws[:, :2 * hidden])
    _sigmoid_(ws[:, 3 * hidden:4 * hidden])
    i, f, g, o, t = (ws[:, k * hidden:(k + 1) * hidden] for k in range(5))
    np.tanh(g, out=g)
    c2 = hc[:, hidden:]
    np.multiply(f, c, out=c2)
    np.multiply(i, g, out=t)
    c2 += t
    np.tanh(c2, out=t)
    np.multiply(o, t, out=hc[:, :hidden])
    return hc, ws


def lstm_cell_backward_reference(grad: np.ndarray, c: np.ndarray, ws: np.ndarray) -> tuple:
    """numpy LSTM gate gradients: ``(dgates (B, 4H), dc (B, H))``."""
    i, f, g, o, t = np.split(ws, 5, axis=1)
    dh, dc_out = np.split(grad, 2, axis=1)
    dc2 = dc_out + dh * o * (1 - t * t)
    dgates = np.concatenate([dc2 * g * i * (1 - i), dc2 * c * f * (1 - f),
                             dc2 * i * (1 - g * g), dh * t * o * (1 - o)], 1)
    return dgates, dc2 * f


def gru_cell_forward(xw: np.ndarray, hw: np.ndarray, h: np.ndarray) -> tuple:
    """GRU gates: ``(h' (B, H), [r | z | n | hn] (B, 4H))``."""
    rows, hidden = h.shape
    dtype = np.result_type(xw, hw, h)
    ws = np.empty((rows, 4 * hidden), dtype)
    out = np.empty((rows, hidden), dtype)
    np.add(xw[:, :2 * hidden], hw[:, :2 * hidden], out=ws[:, :2 * hidden])
    _sigmoid_(ws[:, :2 * hidden])
    r, z, n, hn = (ws[:, k * hidden:(k + 1) * hidden] for k in range(4))
    hn[...] = hw[:, 2 * hidden:]
    np.multiply(r, hn, out=n)
    n += xw[:, 2 * hidden:]
    np.tanh(n, out=n)
    np.subtract(h, n, out=out)
    out *= z
    out += n
    return out, ws


def gru_cell_backward_reference(grad: np.ndarray, h: np.ndarray, ws: np.ndarray) -> tuple:
    """numpy GRU gate gradients: ``(dxw (B, 3H), dhw (B, 3H), dh (B, H))``."""
    r, z, n, hn = np.split(ws, 4, axis=1)
    dn = grad * (1 - z) * (1 - n * n)
    dr = dn * hn * r * (1 - r)
    dz = grad * (h - n) * z * (1 - z)
    return np.concatenate([dr, dz, dn], 1), np.concatenate([dr, dz, dn * r], 1), grad * z


def _compiled_ok(kernel, *arrays) -> bool:
    dtype = arrays[0].dtype
    return dtype in _COMPILED and all(a.dtype == dtype for a in arrays) and kernel.available()


def lstm_cell(xw, hw, c) -> tuple:
    """The ``"lstm_cell"`` fused kernel (see ``Capabilities.fused``)."""
    x, h, s = arr(xw), arr(hw), arr(c)
    if x.dtype != np.float32 or not _compiled_ok(_lstm_forward_loop32, x, h, s):
        return lstm_cell_forward(x, h, s)
    rows, hidden = s.shape
    hc, ws = np.empty((rows, 2 * hidden), np.float32), np.empty((rows, 5 * hidden), np.float32)
    _lstm_forward_loop32(x, h, s, hc, ws)
    return hc, ws


def lstm_cell_backward(grad, c, workspace) -> tuple:
    """The ``"lstm_cell_backward"`` fused kernel (see ``Capabilities.fused``)."""
    g, s, ws = arr(grad), arr(c), arr(workspace)
    if not _compiled_ok(_lstm_backward_loop, g, s, ws):
        return lstm_cell_backward_reference(g, s, ws)
    rows, hidden = s.shape
    dgates, dc = np.empty((rows, 4 * hidden), g.dtype), np.empty((rows, hidden), g.dtype)
    _lstm_backward_loop(g, s, ws, dgates, dc)
    return dgates, dc


def gru_cell(xw, hw, h) -> tuple:
    """The ``"gru_cell"`` fused kernel (see ``Capabilities.fused``)."""
    return gru_cell_forward(arr(xw), arr(hw), arr(h))


def gru_cell_backward(grad, h, workspace) -> tuple:
    """The ``"gru_cell_backward"`` fused kernel (see ``Capabilities.fused``)."""
    g, s, ws = arr(grad), arr(h), arr(workspace)
    if not _compiled_ok(_gru_backward_loop, g, s, ws):
        return gru_cell_backward_reference(g, s, ws)
    rows, hidden = s.shape
    dxw, dhw = (np.empty((rows, 3 * hidden), g.dtype) for _ in range(2))
    dh = np.empty((rows, hidden), g.dtype)
    _gru_backward_loop(g, s, ws, dxw, dhw, dh)
    return dxw, dhw, dh
