"""Recurrent layers on "cuda" (the interpreter here, a GPU where present) agree with the CPU
backend: a packed bidirectional LSTM with projections, a 2-layer GRU and the cells, outputs
and every gradient, tiny shapes."""

import copy

import genesis
import genesis.nn as nn
import numpy as np
from genesis.nn.utils import rnn as U


def run(module, make_input, device):
    m = copy.deepcopy(module).to(device)
    x = genesis.tensor(np.random.default_rng(0).standard_normal((3, 2, 2)).astype(np.float32),
                       device=device, requires_grad=True)
    out = m(make_input(x))
    flat = [out[0].data if isinstance(out[0], U.PackedSequence) else out[0]]
    flat += list(out[1]) if isinstance(out[1], tuple) else [out[1]]
    loss = sum((t * t).sum() for t in flat)
    loss.backward()
    return [t.detach().numpy() for t in flat] + [x.grad.numpy()] + \
        [p.grad.numpy() for p in m.parameters()]


def assert_same(module, make_input):
    for a, b in zip(run(module, make_input, "cuda"), run(module, make_input, "cpu"),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_packed_bidirectional_lstm_with_projection():
    genesis.manual_seed(0)
    lstm = nn.LSTM(2, 3, bidirectional=True, proj_size=2, batch_first=True)
    assert_same(lstm, lambda x: U.pack_padded_sequence(x, [1, 2, 2], batch_first=True,
                                                       enforce_sorted=False))


def test_two_layer_gru_and_rnn():
    genesis.manual_seed(1)
    assert_same(nn.GRU(2, 3, num_layers=2), lambda x: x)
    assert_same(nn.RNN(2, 3, nonlinearity="relu", bidirectional=True), lambda x: x)


def test_cells():
    genesis.manual_seed(2)
    for cell in (nn.RNNCell(2, 3), nn.GRUCell(2, 3)):
        assert_same(cell, lambda x: x[0])

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(2, 3)

        def forward(self, x):
            return self.cell(x[0])

    assert_same(Wrap(), lambda x: x)
