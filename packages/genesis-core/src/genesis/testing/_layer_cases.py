"""Kit cases for the layer composites that a backend may fuse: convolution (im2col), its
transpose (col2im), max pooling, training-mode batch norm and the LSTM/GRU recurrences.

Each pairs the Genesis call with a direct float64 numpy reference (loops over windows and
time steps, no lowering), so the forward, the central-difference gradients and, where the
backend declares the fused kernel, the fused-against-composite comparison all check it.
Small odd shapes: the Triton backend runs them under its interpreter.
"""

from __future__ import annotations

import numpy as np

from genesis.testing._cases import Arg, OpCase

_F32_64 = ("float32", "float64")
U = "unit"  # recurrent weights in (-0.9, 0.9): gates away from saturation


def _f():
    import genesis.nn.functional as F

    return F


def _conv2d_ref(x, w, b, stride, padding, dilation=(1, 1)):
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    o, _, kh, kw = w.shape
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    oh = (xp.shape[2] - span[0]) // stride[0] + 1
    ow = (xp.shape[3] - span[1]) // stride[1] + 1
    out = np.zeros((x.shape[0], o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * stride[0]:i * stride[0] + span[0]:dilation[0],
                     j * stride[1]:j * stride[1] + span[1]:dilation[1]]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", win, w)
    return out + b[:, None, None]


def _conv_transpose2d_ref(x, w, b, stride, padding):
    n, _, h, wd = x.shape
    cout, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    full = np.zeros((n, cout, (h - 1) * stride + kh, (wd - 1) * stride + kw))
    for i in range(h):
        for j in range(wd):
            full[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += np.einsum(
                "nc,cokl->nokl", x[:, :, i, j], w)
    out = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
    return out + b[:, None, None]


def _max_pool2d_ref(x, k, s, p):
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    oh, ow = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    return np.stack([np.stack([xp[:, :, i * s:i * s + k, j * s:j * s + k].max((2, 3))
                               for j in range(ow)], -1) for i in range(oh)], -2)


def _batch_norm_ref(x, w, b, eps=1e-5):
    mean = x.mean((0, 2, 3), keepdims=True)
    var = x.var((0, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w[:, None, None] + b[:, None, None]


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _lstm_ref(x, h, c, w_ih, w_hh, b_ih, b_hh):
    h, c, outs = h[0], c[0], []
    for xt in x:
        i, f, g, o = np.split(xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.concatenate(outs + [h, c], 0)


def _gru_ref(x, h, w_ih, w_hh, b_ih, b_hh):
    h, outs = h[0], []
    for xt in x:
        xr, xz, xn = np.split(xt @ w_ih.T + b_ih, 3, axis=1)
        hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        h = n + z * (h - n)
        outs.append(h)
    return np.concatenate(outs + [h], 0)


def _recurrence(mode: str, x, states: tuple, weights: tuple):
    """One unidirectional layer over ``x`` ``(T, B, I)``: its outputs and final states stacked
    along dim 0 (as the references return them)."""
    from genesis._ops.shape import cat
    from genesis.nn.functional._rnn import run_layers

    steps, batch = x.shape[0], x.shape[1]
    out, finals = run_layers(mode, x.reshape(steps * batch, x.shape[2]), [batch] * steps,
                             states, [weights + (None,)], 1, 1, 0.0, False)
    return cat([out] + [f[0] for f in finals], 0)


def layer_cases() -> list:
    """Cases for the fusable layer composites (float32/float64)."""
    t, b, i, hid = 3, 2, 3, 4
    return [
        OpCase("conv2d", lambda x, w, bias: _f().conv2d(x, w, bias, stride=(1, 2), padding=1),
               lambda x, w, bias: _conv2d_ref(x, w, bias, (1, 2), (1, 1)),
               (Arg((2, 3, 5, 6)), Arg((4, 3, 3, 2)), Arg((4,))), dtypes=_F32_64,
               kind="composite", fused="im2col"),
        OpCase("conv2d_same", lambda x, w, bias: _f().conv2d(x, w, bias, padding=(1, 2),
                                                              dilation=(1, 2)),
               lambda x, w, bias: _conv2d_ref(x, w, bias, (1, 1), (1, 2), (1, 2)),
               (Arg((2, 2, 4, 5)), Arg((3, 2, 3, 3)), Arg((3,))), dtypes=_F32_64,
               kind="composite", fused="im2col"),
        OpCase("conv_transpose2d",
               lambda x, w, bias: _f().conv_transpose2d(x, w, bias, stride=2, padding=1),
               lambda x, w, bias: _conv_transpose2d_ref(x, w, bias, 2, 1),
               (Arg((2, 3, 3, 4)), Arg((3, 2, 3, 3)), Arg((2,))), dtypes=_F32_64,
               kind="composite", fused="col2im"),
        OpCase("max_pool2d", lambda x: _f().max_pool2d(x, 3, 2, 1),
               lambda x: _max_pool2d_ref(x, 3, 2, 1), (Arg((2, 3, 7, 6)),), dtypes=_F32_64,
               kind="composite", fused="max_pool2d"),
        OpCase("batch_norm_train",
               lambda x, w, bias: _f().batch_norm(x, None, None, w, bias, training=True),
               _batch_norm_ref, (Arg((4, 3, 2, 3)), Arg((3,)), Arg((3,))), dtypes=_F32_64,
               kind="composite", fused="batch_norm"),
        OpCase("lstm_layer",
               lambda x, h, c, *w: _recurrence("LSTM", x, (h, c), tuple(w)), _lstm_ref,
               (Arg((t, b, i)), Arg((1, b, hid)), Arg((1, b, hid)), Arg((4 * hid, i), U),
                Arg((4 * hid, hid), U), Arg((4 * hid,), U), Arg((4 * hid,), U)), dtypes=_F32_64,
               kind="composite", fused="lstm_cell"),
        OpCase("gru_layer", lambda x, h, *w: _recurrence("GRU", x, (h,), tuple(w)), _gru_ref,
               (Arg((t, b, i)), Arg((1, b, hid)), Arg((3 * hid, i), U), Arg((3 * hid, hid), U),
                Arg((3 * hid,), U), Arg((3 * hid,), U)), dtypes=_F32_64, kind="composite",
               fused="gru_cell"),
    ]
