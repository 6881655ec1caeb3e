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
from genesis._ops.fused import wrap
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn.functional._linear import linear


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
        outs, self.h_prev, self.c_prev, self.ws = ([None] * len(sizes) for _ in range(4))
        order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
        with no_grad():
            h, c = (h0[:sizes[-1]], c0[:sizes[-1]]) if reverse else (h0, c0)
            done = []
            for t in order:
                bs = sizes[t]
                if bs < h.shape[0]:  # forward: sequences that ended keep their state
                    done.append((h[bs:], c[bs:]))
                    h, c = h[:bs], c[:bs]
                elif bs > h.shape[0]:  # reverse: longer sequences join from their h0/c0
                    h, c = cat([h, h0[h.shape[0]:bs]], 0), cat([c, c0[c.shape[0]:bs]], 0)
                hc, ws = cell(xw[starts[t]:starts[t] + bs], linear(h, w_hh, b_hh), c)
                hc = wrap(hc, (bs, 2 * hidden), xw)
                self.h_prev[t], self.c_prev[t] = h, c
                self.ws[t] = wrap(ws, (bs, 5 * hidden), xw)
                h, c = hc[:, :hidden], hc[:, hidden:]
                outs[t] = h
            done.append((h, c))
            finals = [cat([d[k] for d in reversed(done)], 0) for k in range(2)]
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
        g_out, g_hn, g_cn = g[:rows], g[rows:rows + batch], g[rows + batch:]
        dgates = [None] * len(sizes)
        # (dh0, dc0) row blocks keyed by their first row, filled as sequences start
        initial = [None] * batch
        with no_grad():
            if self.reverse:
                order, dh, dc = range(len(sizes)), g_hn, g_cn
            else:
                order = range(len(sizes) - 1, -1, -1)
                dh, dc = g_hn[:sizes[-1]], g_cn[:sizes[-1]]
            for t in order:
                bs = sizes[t]
                if bs > dh.shape[0]:  # forward: sequences whose last step is t
                    cur = dh.shape[0]
                    dh, dc = cat([dh, g_hn[cur:bs]], 0), cat([dc, g_cn[cur:bs]], 0)
                elif bs < dh.shape[0]:  # reverse: rows [bs:] started at step t - 1
                    initial[bs] = (dh[bs:], dc[bs:])
                    dh, dc = dh[:bs], dc[:bs]
                grad_hc = cat([dh + g_out[starts[t]:starts[t] + bs], dc], 1)
                dg, dc_s = backward_cell(grad_hc, self.c_prev[t], self.ws[t])
                dg = wrap(dg, (bs, 4 * hidden), xw)
                dgates[t] = dg
                dh, dc = dg.matmul(w_hh), wrap(dc_s, (bs, hidden), xw)
            initial[0] = (dh, dc)
            blocks = [blk for blk in initial if blk is not None]
            d_h0 = cat([b[0] for b in blocks], 0) if len(blocks) > 1 else blocks[0][0]
            d_c0 = cat([b[1] for b in blocks], 0) if len(blocks) > 1 else blocks[0][1]
            d_xw = cat(dgates, 0)
            d_w = d_xw.t().matmul(cat(self.h_prev, 0))
            d_b = d_xw.sum(0) if b_hh is not None else None
        return (d_xw, d_h0, d_c0, d_w, d_b) + (None,) * 3


def lstm_layer(xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh: Tensor | None,
               sizes: list, reverse: bool, kernels: tuple) -> tuple:
    """``(out (rows, H), (h_n, c_n))`` of one LSTM direction through :class:`LSTMLayer`;
    ``kernels`` are the backend's ``(lstm_cell, lstm_cell_backward)``."""
    rows, batch = xw.shape[0], h0.shape[0]
    stacked = LSTMLayer.apply(xw, h0, c0, w_hh, b_hh, sizes, reverse, kernels)
    return stacked[:rows], (stacked[rows:rows + batch], stacked[rows + batch:])
