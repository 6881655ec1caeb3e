"""One direction of an LSTM layer as a single autograd node, over the backend's fused cells.

Step by step, the composite records the cell's nodes, the recurrent matmul's and a slice of
the input projection per step; a slice's backward writes a zero gradient the size of the
whole projection, so T steps cost T full-size zero fills and adds (O(T^2) memory traffic).
This node runs the recurrence without recording (``"lstm_cell"`` per step) and its backward
runs it in reverse (``"lstm_cell_backward"`` and one ``(B, 4H) @ (4H, H)`` matmul per step),
writing each step's gate gradient into one ``(rows, 4H)`` buffer: the projection's gradient,
from which ``W_hh``'s and ``b_hh``'s come as one matmul and one sum over all steps.

Packed batches follow the composite's rules (sequences sorted longest first: the forward
direction drops ended sequences, keeping their last state as final; the reverse direction
starts each sequence at its last step from its initial state). Its backward is not itself
differentiable, as PyTorch's cuDNN LSTM's is not: ``create_graph`` through it raises, naming
the composite path as the way to differentiate twice.
"""

from __future__ import annotations

from genesis._autograd.function import Function
from genesis._autograd.grad_mode import _State, no_grad
from genesis._ops.elementwise import binary_raw
from genesis._ops.fused import wrap
from genesis._ops.linalg import matmul_raw
from genesis._ops.shape import cat, transpose_raw
from genesis._tensor import Tensor, _empty_raw, _view


def _rows(t: Tensor, start: int, stop: int) -> Tensor:
    """Rows ``start:stop`` of a 2-D tensor as a raw view (no autograd node, no parsing)."""
    return _view(t, (stop - start, t.shape[1]), t.strides, t.offset + start * t.strides[0])


def _cols(t: Tensor, start: int, stop: int) -> Tensor:
    """Columns ``start:stop`` of a 2-D tensor as a raw view."""
    return _view(t, (t.shape[0], stop - start), t.strides, t.offset + start * t.strides[1])


def _stack_rows(parts: list) -> Tensor:
    return parts[0] if len(parts) == 1 else cat(parts, 0)


class LSTMLayer(Function):
    """``(xw (rows, 4H), h0 (B, H), c0 (B, H), w_hh, b_hh | None)`` -> ``[out (rows, H); h_n
    (B, H); c_n (B, H)]`` stacked along dim 0 (one output; callers slice it)."""

    saves = (3,)  # w_hh; the states it reads back are its own

    def forward(self, xw, h0, c0, w_hh, b_hh, sizes, reverse, kernels):
        self.args = (xw, h0, c0, w_hh, b_hh)
        self.sizes, self.reverse, self.kernels = sizes, reverse, kernels
        starts = [0]
        for s in sizes[:-1]:
            starts.append(starts[-1] + s)
        self.starts = starts
        cell = kernels[0]
        hidden = h0.shape[1]
        w_t = transpose_raw(w_hh, 0, 1)
        outs, self.h_prev, self.c_prev, self.ws = ([None] * len(sizes) for _ in range(4))
        order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
        with no_grad():
            h, c = (_rows(h0, 0, sizes[-1]), _rows(c0, 0, sizes[-1])) if reverse else (h0, c0)
            done = []
            for t in order:
                bs, cur = sizes[t], h.shape[0]
                if bs < cur:  # forward: sequences that ended keep their state
                    done.append((_rows(h, bs, cur), _rows(c, bs, cur)))
                    h, c = _rows(h, 0, bs), _rows(c, 0, bs)
                elif bs > cur:  # reverse: longer sequences join from their h0/c0
                    h = cat([h, _rows(h0, cur, bs)], 0)
                    c = cat([c, _rows(c0, cur, bs)], 0)
                hw = matmul_raw(h, w_t)
                if b_hh is not None:
                    binary_raw("add", hw, b_hh, out=hw)
                hc, ws = cell(_rows(xw, starts[t], starts[t] + bs), hw, c)
                hc = wrap(hc, (bs, 2 * hidden), xw)
                self.h_prev[t], self.c_prev[t] = h, c
                self.ws[t] = wrap(ws, (bs, 5 * hidden), xw)
                h, c = _cols(hc, 0, hidden), _cols(hc, hidden, 2 * hidden)
                outs[t] = h
            done.append((h, c))
            finals = [_stack_rows([d[k] for d in reversed(done)]) for k in range(2)]
            return cat(outs + finals, 0)

    def backward(self, g):
        if _State.enabled:
            raise RuntimeError(
                "LSTM: double backward (create_graph=True) through the backend's fused LSTM "
                "layer is not supported (as for PyTorch's cuDNN LSTM); run the layer under "
                "genesis.testing.composite_only(device) to differentiate it twice")
        xw, h0, c0, w_hh, b_hh = self.args
        sizes, starts, hidden = self.sizes, self.starts, h0.shape[1]
        rows, batch = xw.shape[0], h0.shape[0]
        backward_cell = self.kernels[1]
        g_out, g_hn = _rows(g, 0, rows), _rows(g, rows, rows + batch)
        g_cn = _rows(g, rows + batch, rows + 2 * batch)
        # the gate gradients of all steps, written step by step: the projection's gradient
        d_xw = _empty_raw((rows, 4 * hidden), g.dtype, g.device)
        # (dh0, dc0) row blocks keyed by their first row, filled as sequences start
        initial = [None] * batch
        with no_grad():
            if self.reverse:
                order, dh, dc = range(len(sizes)), g_hn, g_cn
            else:
                order = range(len(sizes) - 1, -1, -1)
                dh, dc = _rows(g_hn, 0, sizes[-1]), _rows(g_cn, 0, sizes[-1])
            for t in order:
                bs, cur = sizes[t], dh.shape[0]
                if bs > cur:  # forward: sequences whose last step is t
                    dh = cat([dh, _rows(g_hn, cur, bs)], 0)
                    dc = cat([dc, _rows(g_cn, cur, bs)], 0)
                elif bs < cur:  # reverse: rows [bs:] started at step t - 1
                    initial[bs] = (_rows(dh, bs, cur), _rows(dc, bs, cur))
                    dh, dc = _rows(dh, 0, bs), _rows(dc, 0, bs)
                grad_hc = _empty_raw((bs, 2 * hidden), g.dtype, g.device)
                binary_raw("add", dh, _rows(g_out, starts[t], starts[t] + bs),
                           out=_cols(grad_hc, 0, hidden))
                g._backend.copy_(_cols(grad_hc, hidden, 2 * hidden), dc)
                dg, dc_s = backward_cell(grad_hc, self.c_prev[t], self.ws[t])
                dg = wrap(dg, (bs, 4 * hidden), g)
                g._backend.copy_(_rows(d_xw, starts[t], starts[t] + bs), dg)
                dh, dc = matmul_raw(dg, w_hh), wrap(dc_s, (bs, hidden), g)
            initial[0] = (dh, dc)
            blocks = [blk for blk in initial if blk is not None]
            d_h0 = _stack_rows([b[0] for b in blocks])
            d_c0 = _stack_rows([b[1] for b in blocks])
            d_w = matmul_raw(transpose_raw(d_xw, 0, 1), cat(self.h_prev, 0))
            d_b = d_xw.sum(0) if b_hh is not None else None
        return (d_xw, d_h0, d_c0, d_w, d_b) + (None,) * 3


def lstm_layer(xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh: Tensor | None,
               sizes: list, reverse: bool, kernels: tuple) -> tuple:
    """``(out (rows, H), (h_n, c_n))`` of one LSTM direction through :class:`LSTMLayer`;
    ``kernels`` are the backend's ``(lstm_cell, lstm_cell_backward)``."""
    rows, batch = xw.shape[0], h0.shape[0]
    stacked = LSTMLayer.apply(xw, h0, c0, w_hh, b_hh, sizes, reverse, kernels)
    return stacked[:rows], (stacked[rows:rows + batch], stacked[rows + batch:])
