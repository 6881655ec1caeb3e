"""RNN/LSTM/GRU, their cells and nn.utils.rnn against PyTorch: weights copied from torch
modules of the same config, outputs, final states and every gradient compared."""

import itertools
import warnings

import genesis
import genesis.nn as nn
import numpy as np
import pytest
import torch
from genesis.nn.utils import rnn as U
from torch.nn.utils import rnn as TU
from torch_compare import assert_raises_like_torch

MODES = {"rnn_tanh": ("RNN", {"nonlinearity": "tanh"}),
         "rnn_relu": ("RNN", {"nonlinearity": "relu"}), "lstm": ("LSTM", {}),
         "lstm_proj": ("LSTM", {"proj_size": 2}), "gru": ("GRU", {})}
TOL = {"float64": (1e-10, 1e-12), "float32": (2e-5, 2e-6)}


def make(mode, dtype="float64", **kwargs):
    """A genesis module and a torch module of the same config sharing torch's weights."""
    cls, extra = MODES[mode]
    t = getattr(torch.nn, cls)(**extra, **kwargs).to(getattr(torch, dtype))
    g = getattr(nn, cls)(**extra, **kwargs, dtype=getattr(genesis, dtype))
    assert [(n, tuple(p.shape)) for n, p in g.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    g.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return g, t


def pair(shape, seed, dtype="float64"):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return genesis.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def flat(out):
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in flat(o)]
    return [out]


def check(g_out, t_out, g_leaves, t_leaves, dtype="float64"):
    """Outputs equal; then the gradients of a random weighting of every output equal."""
    rtol, atol = TOL[dtype]
    go, to = flat(g_out), flat(t_out)
    assert len(go) == len(to)
    loss_g, loss_t = 0, 0
    for i, (a, b) in enumerate(zip(go, to)):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
        w = np.random.default_rng(100 + i).standard_normal(tuple(b.shape)).astype(dtype)
        loss_g = loss_g + (a * genesis.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_g.backward()
    loss_t.backward()
    for a, b in zip(g_leaves, t_leaves):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol * 10, atol=atol * 10)


def params(g, t):
    return list(g.parameters()), list(t.parameters())


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("num_layers,bidirectional,batch_first",
                         list(itertools.product([1, 2], [False, True], [False, True])))
def test_recurrent_module_matches_torch(mode, num_layers, bidirectional, batch_first):
    g, t = make(mode, input_size=3, hidden_size=4, num_layers=num_layers,
                bidirectional=bidirectional, batch_first=batch_first)
    T, B = 4, 3
    x, tx = pair((B, T, 3) if batch_first else (T, B, 3), 0)
    D = 2 if bidirectional else 1
    h_out = 2 if mode == "lstm_proj" else 4
    h0, th0 = pair((num_layers * D, B, h_out), 1)
    if mode.startswith("lstm"):
        c0, tc0 = pair((num_layers * D, B, 4), 2)
        gh, th, leaves, tleaves = (h0, c0), (th0, tc0), [x, h0, c0], [tx, th0, tc0]
    else:
        gh, th, leaves, tleaves = h0, th0, [x, h0], [tx, th0]
    gp, tp = params(g, t)
    check(g(x, gh), t(tx, th), leaves + gp, tleaves + tp)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_default_state_no_bias_and_length_one(mode, dtype):
    for T, bias in ((1, False), (5, True)):
        g, t = make(mode, dtype, input_size=2, hidden_size=3, num_layers=2, bias=bias,
                    bidirectional=True)
        x, tx = pair((T, 2, 2), T, dtype)
        gp, tp = params(g, t)
        check(g(x), t(tx), [x] + gp, [tx] + tp, dtype)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input(mode):
    g, t = make(mode, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    x, tx = pair((5, 3), 0)
    h_out = 2 if mode == "lstm_proj" else 4
    h0, th0 = pair((4, h_out), 1)
    gp, tp = params(g, t)
    if mode.startswith("lstm"):
        c0, tc0 = pair((4, 4), 2)
        check(g(x, (h0, c0)), t(tx, (th0, tc0)), [x, h0, c0] + gp, [tx, th0, tc0] + tp)
    else:
        check(g(x, h0), t(tx, th0), [x, h0] + gp, [tx, th0] + tp)
    g2, t2 = make(mode, input_size=3, hidden_size=4)
    x, tx = pair((1, 3), 3)
    check(g2(x), t2(tx), [x], [tx])


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 2, 4, 1], False), ([3, 3, 3], False),
                                                    ([4, 3, 3, 1], True), ([1, 1], False)])
def test_packed_input(mode, lengths, enforce_sorted):
    g, t = make(mode, input_size=3, hidden_size=4, num_layers=2, bidirectional=True,
                batch_first=True)
    B, T = len(lengths), max(lengths)
    x, tx = pair((B, T, 3), 0)
    h_out = 2 if mode == "lstm_proj" else 4
    h0, th0 = pair((4, B, h_out), 1)
    glen, tlen = (lengths, lengths) if enforce_sorted else \
        (genesis.tensor(lengths), torch.tensor(lengths))  # a list or an int64 tensor
    packed = U.pack_padded_sequence(x, glen, batch_first=True, enforce_sorted=enforce_sorted)
    tpacked = TU.pack_padded_sequence(tx, tlen, batch_first=True, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), tpacked.batch_sizes.numpy())
    for a, b in ((packed.sorted_indices, tpacked.sorted_indices),
                 (packed.unsorted_indices, tpacked.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    if mode.startswith("lstm"):
        c0, tc0 = pair((4, B, 4), 2)
        out, state = g(packed, (h0, c0))
        tout, tstate = t(tpacked, (th0, tc0))
        leaves, tleaves = [x, h0, c0], [tx, th0, tc0]
    else:
        out, state = g(packed, h0)
        tout, tstate = t(tpacked, th0)
        leaves, tleaves = [x, h0], [tx, th0]
    assert isinstance(out, U.PackedSequence) and out.sorted_indices is packed.sorted_indices
    padded, lens = U.pad_packed_sequence(out, batch_first=True, padding_value=-1.0,
                                         total_length=T + 1)
    tpadded, tlens = TU.pad_packed_sequence(tout, batch_first=True, padding_value=-1.0,
                                            total_length=T + 1)
    np.testing.assert_array_equal(lens.numpy(), tlens.numpy())
    gp, tp = params(g, t)
    check((out.data, padded, state), (tout.data, tpadded, tstate), leaves + gp, tleaves + tp)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cells_match_torch(cls, bias, dtype):
    kwargs = {"nonlinearity": "relu"} if cls == "RNNCell" and bias else {}
    t = getattr(torch.nn, cls)(3, 4, bias=bias, **kwargs).to(getattr(torch, dtype))
    g = getattr(nn, cls)(3, 4, bias=bias, **kwargs, dtype=getattr(genesis, dtype))
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    g.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    gp, tp = params(g, t)
    for batch in ((2,), ()):
        x, tx = pair(batch + (3,), 0, dtype)
        h, th = pair(batch + (4,), 1, dtype)
        if cls == "LSTMCell":
            c, tc = pair(batch + (4,), 2, dtype)
            check(g(x, (h, c)), t(tx, (th, tc)), [x, h, c] + gp, [tx, th, tc] + tp, dtype)
        else:
            check(g(x, h), t(tx, th), [x, h] + gp, [tx, th] + tp, dtype)
        for p in gp + tp:
            p.grad = None
        x, tx = pair(batch + (3,), 3, dtype)
        check(g(x), t(tx), [x] + gp, [tx] + tp, dtype)
        for p in gp + tp:
            p.grad = None


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradcheck(cls):
    cell = getattr(nn, cls)(2, 3, dtype=genesis.float64)
    x = genesis.randn(2, 2, dtype=genesis.float64, requires_grad=True)
    h = genesis.randn(2, 3, dtype=genesis.float64, requires_grad=True)
    c = genesis.randn(2, 3, dtype=genesis.float64, requires_grad=True)
    if cls == "LSTMCell":
        def fn(a, b, d, *ws):
            h2, c2 = cell(a, (b, d))
            return genesis.cat([h2, c2], 1)
    else:
        def fn(a, b, d, *ws):
            return cell(a, b)
    assert genesis.autograd.gradcheck(fn, [x, h, c] + list(cell.parameters()))


def test_gru_sequence_gradcheck():
    gru = nn.GRU(2, 2, num_layers=2, bidirectional=True, dtype=genesis.float64)
    x = genesis.randn(3, 2, 2, dtype=genesis.float64, requires_grad=True)
    assert genesis.autograd.gradcheck(lambda a, *ws: gru(a)[0], [x] + list(gru.parameters()))


def test_init_range_and_flatten_parameters():
    genesis.manual_seed(0)
    m = nn.LSTM(5, 16, num_layers=2, proj_size=3, bidirectional=True)
    assert m.flatten_parameters() is None
    bound = 1 / 16 ** 0.5
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.mean()) < 0.02
    assert [len(w) for w in m.all_weights] == [5] * 4
    for cell in (nn.RNNCell(3, 25), nn.GRUCell(3, 25), nn.LSTMCell(3, 25)):
        v = np.concatenate([p.detach().numpy().ravel() for p in cell.parameters()])
        assert v.min() >= -0.2 and v.max() <= 0.2 and v.max() > 0.18
    assert repr(nn.GRU(3, 4, 2, batch_first=True)) == repr(torch.nn.GRU(3, 4, 2,
                                                                         batch_first=True))


def test_dropout_between_layers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, t = make("lstm", input_size=3, hidden_size=4, num_layers=2, dropout=1.0)
    x, tx = pair((4, 2, 3), 0)
    g.train()
    t.train()
    gp, tp = params(g, t)
    check(g(x), t(tx), [x] + gp[4:], [tx] + tp[4:])  # layer 2 sees zeros in both
    g2, t2 = make("gru", input_size=3, hidden_size=4, num_layers=2, dropout=0.5)
    g2.eval()
    t2.eval()
    check(g2(x), t2(tx), [], [])
    g2.train()
    genesis.manual_seed(0)
    a = g2(x)[0].detach().numpy()
    assert not np.allclose(a, g2.eval()(x)[0].detach().numpy())


def test_pad_sequence_and_unpad():
    seqs = [pair((n, 2), n) for n in (3, 1, 4)]
    for batch_first, side in itertools.product([False, True], ["right", "left"]):
        out = U.pad_sequence([s[0] for s in seqs], batch_first, 7.0, side)
        ref = TU.pad_sequence([s[1] for s in seqs], batch_first, 7.0, side)
        check(out, ref, [s[0] for s in seqs], [s[1] for s in seqs])
        for s in seqs:
            s[0].grad = s[1].grad = None
    padded, tpadded = pair((4, 3, 2), 9)
    for batch_first in (False, True):  # torch transposes its input in place: pass a copy
        g_in, t_in = (padded.transpose(0, 1), tpadded.transpose(0, 1)) if batch_first else \
            (padded * 1, tpadded * 1)
        parts = U.unpad_sequence(g_in, genesis.tensor([3, 1, 2]), batch_first)
        tparts = TU.unpad_sequence(t_in, torch.tensor([3, 1, 2]), batch_first)
        check(parts, tparts, [padded], [tpadded])
        padded.grad = tpadded.grad = None


def test_pack_sequence_and_unpack():
    seqs = [pair((n, 2), n) for n in (2, 4, 1)]
    packed = U.pack_sequence([s[0] for s in seqs], enforce_sorted=False)
    tpacked = TU.pack_sequence([s[1] for s in seqs], enforce_sorted=False)
    assert isinstance(packed, tuple) and packed._fields == tpacked._fields
    parts = U.unpack_sequence(packed)
    tparts = TU.unpack_sequence(tpacked)
    check([packed.data] + parts, [tpacked.data] + tparts, [s[0] for s in seqs],
          [s[1] for s in seqs])
    again = packed.to(dtype=genesis.float32)
    assert again.data.dtype == genesis.float32 and again.batch_sizes is packed.batch_sizes
    assert packed.double() is packed and packed.cpu() is packed
    assert not packed.is_cuda and packed.half().data.dtype == genesis.float16


def test_errors_match_torch():
    cases = [
        (lambda m: m.nn.LSTM(3, 4)(m.randn(2, 3, 3, 3)), "Expected input to be 2D or 3D"),
        (lambda m: m.nn.LSTM(3, 4)(m.randn(2, 3, 5)), "input.size\\(-1\\) must be equal"),
        (lambda m: m.nn.LSTM(3, 4, 2)(m.randn(2, 3, 3), (m.randn(2, 3, 4), m.randn(1, 3, 4))),
         "Expected hidden\\[1\\] size"),
        (lambda m: m.nn.GRU(3, 4)(m.randn(2, 3, 3), m.randn(2, 3, 4)), "Expected hidden size"),
        (lambda m: m.nn.GRU(3, 4)(m.randn(2, 3), m.randn(1, 3, 4)), "should also be 2-D"),
        (lambda m: m.nn.GRU(3, 4)(m.randn(2, 3, 3), m.randn(1, 4)), "should also be 3-D"),
        (lambda m: m.nn.RNN(3, 4, nonlinearity="gelu"), "Unknown nonlinearity 'gelu'"),
        (lambda m: m.nn.RNN(3, 4, proj_size=2), "only supported for LSTM"),
        (lambda m: m.nn.LSTM(3, 4, proj_size=4), "has to be smaller than hidden_size"),
        (lambda m: m.nn.LSTM(3, 4, proj_size=-1), "positive integer or zero"),
        (lambda m: m.nn.LSTM(3, 0), "hidden_size must be greater than zero"),
        (lambda m: m.nn.LSTM(3, 2.0), "hidden_size should be of type int"),
        (lambda m: m.nn.LSTM(3, 2, num_layers=0), "num_layers must be greater than zero"),
        (lambda m: m.nn.LSTM(3, 2, dropout=1.5), "dropout should be a number in range"),
        (lambda m: m.nn.LSTMCell(3, 4)(m.randn(2, 2, 3)), "Expected input to be 1D or 2D"),
        (lambda m: m.nn.LSTMCell(3, 4)(m.randn(2, 5)), "inconsistent input_size"),
        (lambda m: m.nn.LSTMCell(3, 4)(m.randn(2, 3), (m.randn(3, 4), m.randn(3, 4))),
         "doesn't match hidden0 batch size"),
        (lambda m: m.nn.GRUCell(3, 4)(m.randn(2, 3), m.randn(2, 5)), "inconsistent hidden_size"),
        (lambda m: m.nn.RNNCell(3, 4, nonlinearity="x")(m.randn(2, 3)), "Unknown nonlinearity"),
        (lambda m: utils(m).pack_padded_sequence(m.randn(3, 2), [2, 3]), "sorted in decreasing"),
        (lambda m: utils(m).pack_padded_sequence(m.randn(3, 2), [2, 0]), "greater than 0"),
        (lambda m: utils(m).pack_padded_sequence(m.randn(3, 2), [2, 2, 1]), "batch_size=2"),
        (lambda m: utils(m).pad_packed_sequence(
            utils(m).pack_padded_sequence(m.randn(3, 2), [3, 2]), total_length=2),
         "total_length=2"),
        (lambda m: utils(m).pad_sequence([m.randn(3)], padding_side="middle"), "left or right"),
        (lambda m: utils(m).unpad_sequence(m.randn(3, 2), m.tensor([1])), "shorter"),
    ]
    for fn, match in cases:
        assert_raises_like_torch(fn, match)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)


def utils(lib):
    return TU if lib is torch else U


def test_long_sequence_backward_is_not_recursive():
    """600 steps make a graph deeper than Python's default recursion limit of 1000 frames."""
    g, t = make("rnn_tanh", input_size=2, hidden_size=2)
    x, tx = pair((600, 1, 2), 0)
    x, tx = x * 0.1, tx * 0.1
    gp, tp = params(g, t)
    check(g(x), t(tx), gp, tp)
