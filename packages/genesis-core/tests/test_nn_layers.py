"""genesis.nn layers against torch.nn with the same weights: forward and backward, both
float32 and float64; BatchNorm1d running statistics, Dropout modes, Embedding padding, losses."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from genesis import nn

TOL = {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-12)}


def _copy_weights(g: nn.Module, t: torch.nn.Module, dtype: str) -> None:
    t.to(getattr(torch, dtype))
    g.to(getattr(genesis, dtype))
    state = {k: genesis.tensor(v.detach().numpy()) for k, v in t.state_dict().items()}
    g.load_state_dict(state)


def _run(g, t, x: np.ndarray, dtype: str):
    """Forward the same input through both, backward a random projection, compare all."""
    rtol, atol = TOL[dtype]
    xg = genesis.tensor(x.astype(dtype), requires_grad=True)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    yg, yt = g(xg), t(xt)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    (yg * genesis.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=rtol * 10, atol=atol * 10)
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=rtol * 10,
                                   atol=atol * 10, err_msg=name)
    return yg, yt


LAYERS = {
    "mlp": (lambda lib: lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.ReLU(), lib.nn.Linear(5, 3),
                                          lib.nn.Tanh()), (4, 6)),
    "linear_nobias_3d": (lambda lib: lib.nn.Linear(6, 2, bias=False), (2, 3, 6)),
    "gelu": (lambda lib: lib.nn.GELU(), (3, 4)),
    "gelu_tanh": (lambda lib: lib.nn.GELU(approximate="tanh"), (3, 4)),
    "silu": (lambda lib: lib.nn.SiLU(), (3, 4)),
    "sigmoid": (lambda lib: lib.nn.Sigmoid(), (3, 4)),
    "leaky": (lambda lib: lib.nn.LeakyReLU(0.1), (3, 4)),
    "softmax": (lambda lib: lib.nn.Softmax(dim=1), (3, 4)),
    "log_softmax": (lambda lib: lib.nn.LogSoftmax(dim=-1), (3, 4)),
    "layer_norm": (lambda lib: lib.nn.LayerNorm(4), (3, 4)),
    "layer_norm_2d": (lambda lib: lib.nn.LayerNorm((3, 4)), (2, 3, 4)),
    "layer_norm_nobias": (lambda lib: lib.nn.LayerNorm(4, bias=False), (3, 4)),
    "layer_norm_noaffine": (lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False), (3, 4)),
    "rms_norm": (lambda lib: lib.nn.RMSNorm(4), (3, 4)),
    "rms_norm_eps": (lambda lib: lib.nn.RMSNorm([2, 4], eps=1e-3), (3, 2, 4)),
    "batch_norm_2d": (lambda lib: lib.nn.BatchNorm1d(4), (6, 4)),
    "batch_norm_3d": (lambda lib: lib.nn.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    "batch_norm_noaffine": (lambda lib: lib.nn.BatchNorm1d(3, affine=False), (5, 3)),
    "batch_norm_nostats": (lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False), (5, 3)),
    "flatten": (lambda lib: lib.nn.Flatten(), (2, 3, 4)),
    "unflatten": (lambda lib: lib.nn.Unflatten(1, (2, -1)), (3, 6)),
    "identity": (lambda lib: lib.nn.Identity(), (3, 2)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_torch(name, dtype):
    make, shape = LAYERS[name]
    g, t = make(genesis), make(torch)
    _copy_weights(g, t, dtype)
    x = np.random.default_rng(0).standard_normal(shape)
    _run(g, t, x, dtype)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_stats_and_eval(momentum):
    g, t = nn.BatchNorm1d(3, momentum=momentum), torch.nn.BatchNorm1d(3, momentum=momentum)
    rng = np.random.default_rng(0)
    for step in range(3):
        x = rng.standard_normal((5, 3, 2)) * (step + 1) + step
        g(genesis.tensor(x, dtype=genesis.float32))
        t(torch.tensor(x, dtype=torch.float32))
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(g, name).numpy(), getattr(t, name).numpy(),
                                   rtol=1e-5, atol=1e-6)
    assert g.num_batches_tracked.item() == t.num_batches_tracked.item() == 3
    g.eval()
    t.eval()
    x = rng.standard_normal((4, 3, 2)).astype(np.float32)
    np.testing.assert_allclose(g(genesis.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="expected 2D or 3D input \\(got 4D input\\)"):
        nn.BatchNorm1d(3)(genesis.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(genesis.randn(1, 3))


def test_dropout_train_eval_and_seed():
    d = nn.Dropout(0.5)
    x = genesis.ones(1000)
    genesis.manual_seed(1)
    a = d(x).numpy()
    genesis.manual_seed(1)
    np.testing.assert_array_equal(a, d(x).numpy())
    assert set(np.unique(a)) == {0.0, 2.0}
    d.eval()
    assert d(x) is x
    assert repr(d) == repr(torch.nn.Dropout(0.5))


def test_embedding_padding_idx_and_grad():
    g = nn.Embedding(6, 3, padding_idx=2)
    assert not g.weight.detach().numpy()[2].any()
    t = torch.nn.Embedding(6, 3, padding_idx=2)
    t.load_state_dict({"weight": torch.tensor(g.weight.detach().numpy())})
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    yg, yt = g(genesis.tensor(idx)), t(torch.tensor(idx))
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy())
    w = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    (yg * genesis.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6)
    assert not g.weight.grad.numpy()[2].any()


def test_embedding_init_and_from_pretrained():
    e = nn.Embedding(200, 50)
    w = e.weight.detach().numpy()
    assert abs(w.mean()) < 0.03 and abs(w.std() - 1) < 0.03
    pre = nn.Embedding.from_pretrained(genesis.ones(3, 2))
    assert not pre.weight.requires_grad and pre.num_embeddings == 3
    with pytest.raises(ValueError, match="padding_idx=7"):
        nn.Embedding(5, 2, padding_idx=7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_layers_match_torch(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(dtype)
    tgt = np.array([0, 3, 1, -100, 2, 2])
    w = rng.uniform(0.5, 2, 4).astype(dtype)
    y = rng.random((6, 4)).astype(dtype)
    cases = [
        (lambda lib: lib.nn.CrossEntropyLoss(weight=lib.tensor(w), label_smoothing=0.1), tgt),
        (lambda lib: lib.nn.CrossEntropyLoss(reduction="sum"), tgt),
        (lambda lib: lib.nn.NLLLoss(weight=lib.tensor(w)), tgt),
        (lambda lib: lib.nn.MSELoss(), y),
        (lambda lib: lib.nn.L1Loss(reduction="none"), y),
        (lambda lib: lib.nn.SmoothL1Loss(beta=0.5), y),
        (lambda lib: lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor(w)), y),
    ]
    rtol, atol = TOL[dtype]
    for make, target in cases:
        outs = {}
        for lib in (genesis, torch):
            xi = lib.tensor(x, requires_grad=True)
            loss = make(lib)(xi, lib.tensor(target))
            loss.sum().backward()
            outs[lib.__name__] = (loss.detach().numpy(), xi.grad.numpy())
        for a, b in zip(outs["genesis"], outs["torch"]):
            np.testing.assert_allclose(a, b, rtol=rtol * 10, atol=atol * 10)
    p = 1 / (1 + np.exp(-x))
    lg = nn.BCELoss()(genesis.tensor(p), genesis.tensor(y))
    lt = torch.nn.BCELoss()(torch.tensor(p), torch.tensor(y))
    np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-6)


def test_mlp_training_steps_match_torch():
    """A few SGD steps of an MLP with cross entropy: same weights, same trajectory."""
    gm = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    tm = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    _copy_weights(gm, tm, "float64")
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.standard_normal((32, 8)), rng.integers(0, 4, 32)
        lg = nn.functional.cross_entropy(gm(genesis.tensor(x)), genesis.tensor(y))
        lt = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
        gm.zero_grad()
        tm.zero_grad()
        lg.backward()
        lt.backward()
        with genesis.no_grad():
            for p in gm.parameters():
                p.sub_(p.grad * 0.1)
        with torch.no_grad():
            for p in tm.parameters():
                p.sub_(p.grad * 0.1)
        np.testing.assert_allclose(lg.item(), lt.item(), rtol=1e-10)
    for (n, p), q in zip(gm.named_parameters(), tm.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-9, err_msg=n)
