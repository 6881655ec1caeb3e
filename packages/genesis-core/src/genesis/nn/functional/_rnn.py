"""The recurrences behind ``nn.RNN``/``LSTM``/``GRU`` and their cells, composed from core ops.

A layer's input is always held in the packed layout: ``data`` ``(sum(batch_sizes), F)`` with
step ``t`` the rows of its ``batch_sizes[t]`` active sequences (sorted longest first), so a
padded ``(T, B, F)`` input is the special case ``batch_sizes = [B] * T``. The input projection
``x @ W_ih.T + b_ih`` of every step is one matmul; each step then adds ``h @ W_hh.T + b_hh``.
Sequences that end drop out of the batch (their state is kept as the final state), so
``h_n`` is taken at each sequence's true last step. Python loops over the steps: the autograd
engine is iterative, so long sequences do not hit recursion limits.

The LSTM and GRU cells' gate arithmetic after the two matmuls runs as one node through the
backend's ``"lstm_cell"``/``"gru_cell"`` fused kernels when it declares them (an LSTM step's
``h'`` and ``c'`` are two halves of that node's ``(B, 2H)`` output). With the backward kernel
too, an LSTM layer without projection runs each direction as one node
(:mod:`genesis.nn.functional._lstm_layer`).
"""

from __future__ import annotations

from genesis._autograd.function import Function
from genesis._autograd.grad_mode import _State
from genesis._ops.fused import fused_kernel, wrap
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn.functional._dropout import dropout
from genesis.nn.functional._linear import linear
from genesis.nn.functional._lstm_layer import lstm_layer


def rnn_tanh_cell(xw: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None, w_hr=None):
    """One Elman step with tanh: ``h' = tanh(xw + h @ W_hh.T + b_hh)``."""
    return ((xw + linear(state[0], w_hh, b_hh)).tanh(),)


def rnn_relu_cell(xw: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None, w_hr=None):
    """One Elman step with ReLU: ``h' = relu(xw + h @ W_hh.T + b_hh)``."""
    return ((xw + linear(state[0], w_hh, b_hh)).relu(),)


class _FusedCell(Function):
    """The output of a fused cell kernel over ``(xw, hw, state)``; backward runs the
    backward kernel (``backward_name``) when declared and grad mode is off, else the
    closed-form gradients with the gates recomputed from the inputs (differentiable)."""

    saves = (0, 1, 2)
    backward_name = ""

    def forward(self, xw, hw, state, out, workspace):
        self.xw, self.hw, self.state, self.workspace = xw, hw, state, workspace
        return out

    def backward(self, g):
        kernel = None if _State.enabled else fused_kernel(self.backward_name, g)
        grads = self._kernel_grads(kernel, g) if kernel is not None else self._grads(g)
        return tuple(d if need else None
                     for d, need in zip(grads, self.needs_input_grad)) + (None, None)


class _LSTMCellFused(_FusedCell):
    backward_name = "lstm_cell_backward"

    def _kernel_grads(self, kernel, g):
        dgates, dc = kernel(g, self.state, self.workspace)
        dgates = wrap(dgates, self.xw.shape, g)
        return dgates, dgates, wrap(dc, self.state.shape, g)

    def _grads(self, g):
        c = self.state
        i, f, gg, o = (self.xw + self.hw).chunk(4, 1)
        i, f, gg, o = i.sigmoid(), f.sigmoid(), gg.tanh(), o.sigmoid()
        t = (f * c + i * gg).tanh()
        dh, dc_out = g.chunk(2, 1)
        dc2 = dc_out + dh * o * (1 - t * t)
        dgates = cat([dc2 * gg * i * (1 - i), dc2 * c * f * (1 - f), dc2 * i * (1 - gg * gg),
                      dh * t * o * (1 - o)], 1)
        return dgates, dgates, dc2 * f


class _GRUCellFused(_FusedCell):
    backward_name = "gru_cell_backward"

    def _kernel_grads(self, kernel, g):
        dxw, dhw, dh = kernel(g, self.state, self.workspace)
        return (wrap(dxw, self.xw.shape, g), wrap(dhw, self.hw.shape, g),
                wrap(dh, self.state.shape, g))

    def _grads(self, g):
        h = self.state
        xr, xz, xn = self.xw.chunk(3, 1)
        hr, hz, hn = self.hw.chunk(3, 1)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        dn = g * (1 - z) * (1 - n * n)
        dr = dn * hn * r * (1 - r)
        dz = g * (h - n) * z * (1 - z)
        return cat([dr, dz, dn], 1), cat([dr, dz, dn * r], 1), g * z


def lstm_cell(xw: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None = None):
    """One LSTM step, gates in PyTorch's order (input, forget, cell, output); ``h'`` is
    projected by ``W_hr`` when given."""
    h, c = state
    hw = linear(h, w_hh, b_hh)
    kernel = xw.dtype.is_floating_point and fused_kernel("lstm_cell", xw)
    if kernel:
        rows, hidden = c.shape
        hc, workspace = kernel(xw, hw, c)
        hc = _LSTMCellFused.apply(xw, hw, c, wrap(hc, (rows, 2 * hidden), xw),
                                  wrap(workspace, (rows, 5 * hidden), xw))
        h, c = hc[:, :hidden], hc[:, hidden:]
    else:
        i, f, g, o = (xw + hw).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = linear(h, w_hr)
    return h, c


def gru_cell(xw: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None, w_hr=None):
    """One GRU step, gates in PyTorch's order (reset, update, new); the reset gate scales
    ``W_hn h + b_hn``: ``n = tanh(x_n + r * (W_hn h + b_hn))``, ``h' = n + z * (h - n)``."""
    h = state[0]
    hw = linear(h, w_hh, b_hh)
    kernel = xw.dtype.is_floating_point and fused_kernel("gru_cell", xw)
    if not kernel:
        xr, xz, xn = xw.chunk(3, 1)
        hr, hz, hn = hw.chunk(3, 1)
        r = (xr + hr).sigmoid()
        z = (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        return (n + z * (h - n),)
    out, workspace = kernel(xw, hw, h)
    rows, hidden = h.shape
    return (_GRUCellFused.apply(xw, hw, h, wrap(out, h.shape, xw),
                                wrap(workspace, (rows, 4 * hidden), xw)),)


CELLS = {"RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell, "LSTM": lstm_cell,
         "GRU": gru_cell}


def _direction(steps: list, sizes: list, state0: tuple, cell, weights: tuple, reverse: bool):
    """Run one direction over the per-step projected inputs; returns (outputs, final state).

    ``state0`` holds the full-batch initial states; a step with ``sizes[t]`` rows updates
    the first ``sizes[t]`` sequences (the longest ones)."""
    w_hh, b_hh, w_hr = weights
    outs = [None] * len(steps)
    if not reverse:
        state, done = state0, []
        for t, xw in enumerate(steps):
            bs = sizes[t]
            if bs < state[0].shape[0]:  # sequences that ended: their state is final
                done.append(tuple(s[bs:] for s in state))
                state = tuple(s[:bs] for s in state)
            state = cell(xw, state, w_hh, b_hh, w_hr)
            outs[t] = state[0]
        done.append(state)
        final = tuple(cat([d[k] for d in reversed(done)], 0) if len(done) > 1 else state[k]
                      for k in range(len(state)))
        return outs, final
    cur = sizes[-1]
    state = tuple(s[:cur] for s in state0)
    for t in range(len(steps) - 1, -1, -1):
        bs = sizes[t]
        if bs > cur:  # longer sequences join with their initial state
            state = tuple(cat([s, s0[cur:bs]], 0) for s, s0 in zip(state, state0))
            cur = bs
        state = cell(steps[t], state, w_hh, b_hh, w_hr)
        outs[t] = state[0]
    return outs, state


def run_layers(mode: str, data: Tensor, sizes: list, hx: tuple, layer_weights: list,
               num_layers: int, num_directions: int, dropout_p: float, training: bool):
    """All layers over packed ``data``; ``hx`` holds ``(num_layers * D, B, H)`` initial
    states (h, and c for an LSTM). ``layer_weights[l * D + d]`` is ``(w_ih, w_hh, b_ih,
    b_hh, w_hr)``. Returns the last layer's packed output and the final states stacked."""
    cell = CELLS[mode]
    finals = [[] for _ in hx]
    for layer in range(num_layers):
        if layer > 0 and dropout_p > 0 and training:
            data = dropout(data, dropout_p, True)
        dir_outs = []
        for d in range(num_directions):
            k = layer * num_directions + d
            w_ih, w_hh, b_ih, b_hh, w_hr = layer_weights[k]
            projected = linear(data, w_ih, b_ih)
            kernels = _lstm_kernels(mode, projected, w_hr)
            if kernels:
                out, final = lstm_layer(projected, hx[0][k], hx[1][k], w_hh, b_hh, sizes, d == 1,
                                        kernels)
                dir_outs.append(out)
            else:
                outs, final = _direction(list(projected.split(sizes, 0)), sizes,
                                         tuple(s[k] for s in hx), cell, (w_hh, b_hh, w_hr),
                                         reverse=d == 1)
                dir_outs.append(cat(outs, 0))
            for i, f in enumerate(final):
                finals[i].append(f)
        data = dir_outs[0] if num_directions == 1 else cat(dir_outs, 1)
    return data, tuple(_stack0(f) for f in finals)


def _lstm_kernels(mode: str, projected: Tensor, w_hr) -> tuple | None:
    """The backend's ``(lstm_cell, lstm_cell_backward)`` for an LSTM layer without projection
    on a floating input, when it declares both; else None (run the per-step composite)."""
    if mode != "LSTM" or w_hr is not None or not projected.dtype.is_floating_point:
        return None
    kernels = (fused_kernel("lstm_cell", projected), fused_kernel("lstm_cell_backward", projected))
    return kernels if None not in kernels else None


def _stack0(tensors: list) -> Tensor:
    return cat([t.unsqueeze(0) for t in tensors], 0)
