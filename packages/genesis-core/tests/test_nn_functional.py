"""genesis.nn.functional against torch.nn.functional: forward and backward, float32/float64,
non-contiguous inputs and edge shapes; finite-difference gradcheck for every op."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare

FLOATS = ("float32", "float64")
LAYOUTS = ("contiguous", "transposed", "sliced", "expanded")
TOL = {"rtol": 1e-5, "atol": 1e-5, "grad_rtol": 1e-4, "grad_atol": 1e-5}


def F(lib):
    return lib.nn.functional


UNARY = {
    "relu": lambda lib, x: F(lib).relu(x),
    "leaky_relu": lambda lib, x: F(lib).leaky_relu(x, 0.2),
    "gelu": lambda lib, x: F(lib).gelu(x),
    "gelu_tanh": lambda lib, x: F(lib).gelu(x, approximate="tanh"),
    "silu": lambda lib, x: F(lib).silu(x),
    "sigmoid": lambda lib, x: F(lib).sigmoid(x),
    "tanh": lambda lib, x: F(lib).tanh(x),
    "softmax_last": lambda lib, x: F(lib).softmax(x, -1),
    "softmax_0": lambda lib, x: F(lib).softmax(x, 0),
    "log_softmax_last": lambda lib, x: F(lib).log_softmax(x, -1),
    "log_softmax_0": lambda lib, x: F(lib).log_softmax(x, dim=0),
    "layer_norm_noaffine": lambda lib, x: F(lib).layer_norm(x, x.shape[-1:]),
    "rms_norm_noaffine": lambda lib, x: F(lib).rms_norm(x, x.shape[-1:]),
    "normalize": lambda lib, x: F(lib).normalize(x, dim=-1),
    "pad": lambda lib, x: F(lib).pad(x, (1, 2, 0, 1), value=0.5),
    "pad_crop": lambda lib, x: F(lib).pad(x, (-1, 1)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_torch(name, dtype, layout):
    compare(UNARY[name], [(3, 4, 5)], dtype=dtype, layout=layout, low=-3, high=3, **TOL)


@pytest.mark.parametrize("name,shape", [(n, s) for n in sorted(UNARY)
                                        for s in [(1, 1), (1, 7), (6, 1)]
                                        if not (n == "pad_crop" and s[-1] < 2)])  # crop needs 2
def test_unary_ops_edge_shapes(name, shape):
    compare(UNARY[name], [shape], dtype="float64")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_linear_matches_torch(dtype, layout):
    compare(lambda lib, x, w, b: F(lib).linear(x, w, b), [(5, 4), (3, 4), (3,)], dtype=dtype,
            layout=layout, **TOL)


@pytest.mark.parametrize("xshape", [(4,), (2, 3, 4), (0, 4), (1, 4)])
def test_linear_shapes(xshape):
    compare(lambda lib, x, w, b: F(lib).linear(x, w, b), [xshape, (3, 4), (3,)],
            dtype="float64")
    compare(lambda lib, x, w: F(lib).linear(x, w), [xshape, (3, 4)], dtype="float64")


def test_linear_backward_uses_no_weight_copy():
    x = genesis.randn(4, 3, requires_grad=True)
    w = genesis.randn(2, 3, requires_grad=True)
    y = genesis.nn.functional.linear(x, w)
    assert y.grad_fn.name == "LinearBackward"


def test_linear_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="input.shape\\[-1\\] == 4"):
        genesis.nn.functional.linear(genesis.randn(2, 3), genesis.randn(5, 4))
    with pytest.raises(RuntimeError, match="same dtype"):
        genesis.nn.functional.linear(genesis.randn(2, 4, dtype=genesis.float64),
                                     genesis.randn(5, 4))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 8)])
def test_layer_norm_affine_matches_torch(dtype, layout, shape):
    compare(lambda lib, x, w, b: F(lib).layer_norm(x, x.shape[-1:], w, b, 1e-5),
            [shape, shape[-1:], shape[-1:]], dtype=dtype, layout=layout, **TOL)


def test_layer_norm_over_two_dims():
    compare(lambda lib, x, w, b: F(lib).layer_norm(x, (3, 4), w, b),
            [(2, 3, 4), (3, 4), (3, 4)], dtype="float64")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm_matches_torch(dtype, eps):
    compare(lambda lib, x, w: F(lib).rms_norm(x, (6,), w, eps), [(4, 6), (6,)], dtype=dtype,
            **TOL)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_training_matches_torch(dtype, shape):
    c = shape[1]
    rm_g, rv_g = genesis.zeros(c, dtype=genesis.float64), genesis.ones(c, dtype=genesis.float64)
    rm_t, rv_t = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)

    def fn(lib, x, w, b):
        rm, rv = (rm_g, rv_g) if lib is genesis else (rm_t, rv_t)
        return F(lib).batch_norm(x, rm.to(x.dtype), rv.to(x.dtype), w, b, True, 0.3)
    compare(fn, [shape, (c,), (c,)], dtype=dtype, **TOL)


def test_batch_norm_running_stats_update():
    x = np.random.default_rng(0).standard_normal((8, 3, 2))
    rm_g, rv_g = genesis.zeros(3, dtype=genesis.float64), genesis.ones(3, dtype=genesis.float64)
    rm_t, rv_t = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    genesis.nn.functional.batch_norm(genesis.tensor(x), rm_g, rv_g, training=True, momentum=0.2)
    torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=True, momentum=0.2)
    np.testing.assert_allclose(rm_g.numpy(), rm_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv_g.numpy(), rv_t.numpy(), rtol=1e-12)
    compare(lambda lib, x: F(lib).batch_norm(x, (rm_g if lib is genesis else rm_t),
                                             (rv_g if lib is genesis else rv_t)),
            [(5, 3)], dtype="float64")


# -- losses ----------------------------------------------------------------------------------

def _targets(shape, c, rng, ignore=False):
    t = rng.integers(0, c, shape)
    if ignore:
        t.flat[::3] = -100
    return t.astype(np.int64)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_matches_torch(dtype, reduction, smoothing, weighted, ignore):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5)).astype(dtype)
    w = rng.uniform(0.5, 2.0, 5).astype(dtype)
    t = _targets((7,), 5, rng, ignore)

    def fn(lib, x, t):
        return F(lib).cross_entropy(x, t, weight=lib.tensor(w) if weighted else None,
                                    reduction=reduction, label_smoothing=smoothing)
    compare(fn, arrays=[x, t], **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_spatial_and_1d(reduction, smoothing):
    rng = np.random.default_rng(2)
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction,
                                                   label_smoothing=smoothing),
            arrays=[rng.standard_normal((2, 4, 3, 2)), _targets((2, 3, 2), 4, rng, True)])
    compare(lambda lib, x, t: F(lib).cross_entropy(x, t, reduction=reduction),
            arrays=[rng.standard_normal(4), np.array(2, dtype=np.int64)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(reduction, smoothing, weighted):
    rng = np.random.default_rng(3)
    p = rng.random((6, 4))
    p /= p.sum(1, keepdims=True)

    w = rng.uniform(0.5, 2, 4)

    def fn(lib, x, t):
        return F(lib).cross_entropy(x, t, weight=lib.tensor(w) if weighted else None,
                                    reduction=reduction, label_smoothing=smoothing)
    compare(fn, arrays=[rng.standard_normal((6, 4)), p])


def test_cross_entropy_non_contiguous_logits():
    compare(lambda lib, x: F(lib).cross_entropy(x.t(), lib.tensor([0, 2, 1, 1])), [(3, 4)],
            dtype="float64")


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = genesis.randn(3, 4)
    t = genesis.tensor([-100, -100, -100])
    assert np.isnan(genesis.nn.functional.cross_entropy(x, t).item())


def test_cross_entropy_bad_target_raises():
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        genesis.nn.functional.cross_entropy(genesis.randn(2, 4), genesis.tensor([0, 7]))
    with pytest.raises(ValueError, match="expected target of shape \\[2\\]"):
        genesis.nn.functional.cross_entropy(genesis.randn(2, 4), genesis.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction='avg'"):
        genesis.nn.functional.cross_entropy(genesis.randn(2, 4), genesis.tensor([0, 1]),
                                            reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(reduction, weighted):
    rng = np.random.default_rng(4)

    w = rng.uniform(0.5, 2, 3)

    def fn(lib, x, t):
        return F(lib).nll_loss(F(lib).log_softmax(x, 1), t,
                               weight=lib.tensor(w) if weighted else None, reduction=reduction)
    compare(fn, arrays=[rng.standard_normal((6, 3)), _targets((6,), 3, rng, True)])
    compare(fn, arrays=[rng.standard_normal((2, 3, 4)), _targets((2, 4), 3, rng)])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_regression_losses(dtype, reduction, name):
    compare(lambda lib, x, y: getattr(F(lib), name)(x, y, reduction=reduction),
            [(4, 5), (4, 5)], dtype=dtype, layout="transposed", **TOL)


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0])
def test_smooth_l1_beta(beta):
    compare(lambda lib, x, y: F(lib).smooth_l1_loss(x, y, beta=beta), [(3, 4), (3, 4)],
            dtype="float64")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_pos", [False, True])
@pytest.mark.parametrize("with_weight", [False, True])
def test_bce_with_logits(reduction, with_pos, with_weight):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)) * 30  # large logits: the stable form must not overflow

    pw, w = rng.uniform(0.5, 3, 3), rng.random((4, 3))

    def fn(lib, x, t):
        return F(lib).binary_cross_entropy_with_logits(
            x, t, weight=lib.tensor(w) if with_weight else None, reduction=reduction,
            pos_weight=lib.tensor(pw) if with_pos else None)
    compare(fn, arrays=[x, rng.random((4, 3))])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(reduction):
    rng = np.random.default_rng(6)
    w = rng.random((5, 2))
    compare(lambda lib, x, t: F(lib).binary_cross_entropy(x, t, lib.tensor(w),
                                                          reduction=reduction),
            arrays=[rng.uniform(0.05, 0.95, (5, 2)), rng.random((5, 2))])


def test_bce_rejects_out_of_range_input():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        genesis.nn.functional.binary_cross_entropy(genesis.tensor([1.5]), genesis.tensor([1.0]))


# -- embedding, dropout, one_hot ------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_matches_torch(padding_idx):
    rng = np.random.default_rng(7)
    idx = np.array([[0, 1, 4], [1, 1, 2]], dtype=np.int64)
    compare(lambda lib, w, i: F(lib).embedding(i, w, padding_idx=padding_idx),
            arrays=[rng.standard_normal((5, 3)), idx])


def test_embedding_max_norm_renormalises_rows():
    rng = np.random.default_rng(8)
    w = rng.standard_normal((5, 3)) * 3
    wg, wt = genesis.tensor(w), torch.tensor(w)
    idx = np.array([0, 2, 2])
    out_g = genesis.nn.functional.embedding(genesis.tensor(idx), wg, max_norm=1.0)
    out_t = torch.nn.functional.embedding(torch.tensor(idx), wt, max_norm=1.0)
    np.testing.assert_allclose(out_g.numpy(), out_t.numpy(), rtol=1e-6)
    np.testing.assert_allclose(wg.numpy(), wt.numpy(), rtol=1e-6)


def test_embedding_index_out_of_range():
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        genesis.nn.functional.embedding(genesis.tensor([5]), genesis.randn(5, 2))


def test_one_hot_matches_torch():
    t = np.array([[0, 2], [1, 3]])
    g = genesis.nn.functional.one_hot(genesis.tensor(t))
    ref = torch.nn.functional.one_hot(torch.tensor(t))
    assert g.dtype is genesis.int64
    np.testing.assert_array_equal(g.numpy(), ref.numpy())
    np.testing.assert_array_equal(genesis.nn.functional.one_hot(genesis.tensor(t), 6).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(t), 6).numpy())


def test_dropout_statistics_scaling_and_eval():
    x = genesis.ones(200, 100, requires_grad=True)
    y = genesis.nn.functional.dropout(x, 0.3)
    kept = (y.detach() != 0).to(genesis.float64).mean().item()
    assert abs(kept - 0.7) < 0.02
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert genesis.nn.functional.dropout(x, 0.3, training=False) is x
    assert (genesis.nn.functional.dropout(x, 1.0).detach() == 0).all()


def test_dropout_reproducible_with_manual_seed():
    x = genesis.ones(50)
    genesis.manual_seed(3)
    a = genesis.nn.functional.dropout(x, 0.5).numpy()
    b = genesis.nn.functional.dropout(x, 0.5).numpy()
    genesis.manual_seed(3)
    np.testing.assert_array_equal(a, genesis.nn.functional.dropout(x, 0.5).numpy())
    assert (a != b).any()


def test_dropout_rejects_bad_p():
    with pytest.raises(ValueError, match="p=1.5"):
        genesis.nn.functional.dropout(genesis.ones(2), 1.5)


# -- inplace variants --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["relu", "leaky_relu", "silu"])
def test_inplace_activation_on_non_leaf(name):
    def fn(lib, x):
        y = x * 1
        return getattr(F(lib), name)(y, inplace=True) * 2
    compare(fn, [(3, 4)], dtype="float64")


def test_inplace_dropout_on_non_leaf():
    x = genesis.ones(10, requires_grad=True)
    y = x * 1
    out = genesis.nn.functional.dropout(y, 0.5, inplace=True)
    assert out is y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


# -- gradcheck (float64 finite differences) for every differentiable op ---------------------

def _p(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return genesis.tensor(rng.standard_normal(shape), dtype=genesis.float64, requires_grad=True)


GRADCHECK = {
    "linear": (lambda x, w, b: genesis.nn.functional.linear(x, w, b), (_p, (3, 4), (2, 4), (2,))),
    "linear_3d": (lambda x, w: genesis.nn.functional.linear(x, w), (_p, (2, 2, 3), (2, 3))),
    "relu": (lambda x: genesis.nn.functional.relu(x), (_p, (3, 4))),
    "leaky_relu": (lambda x: genesis.nn.functional.leaky_relu(x, 0.1), (_p, (3, 4))),
    "gelu": (lambda x: genesis.nn.functional.gelu(x), (_p, (3, 4))),
    "gelu_tanh": (lambda x: genesis.nn.functional.gelu(x, approximate="tanh"), (_p, (3, 4))),
    "silu": (lambda x: genesis.nn.functional.silu(x), (_p, (3, 4))),
    "sigmoid": (lambda x: genesis.nn.functional.sigmoid(x), (_p, (3, 4))),
    "tanh": (lambda x: genesis.nn.functional.tanh(x), (_p, (3, 4))),
    "softmax": (lambda x: genesis.nn.functional.softmax(x, 1), (_p, (3, 4))),
    "log_softmax": (lambda x: genesis.nn.functional.log_softmax(x, 0), (_p, (3, 4))),
    "layer_norm": (lambda x, w, b: genesis.nn.functional.layer_norm(x, (4,), w, b),
                   (_p, (3, 4), (4,), (4,))),
    "rms_norm": (lambda x, w: genesis.nn.functional.rms_norm(x, (4,), w), (_p, (3, 4), (4,))),
    "batch_norm": (lambda x, w, b: genesis.nn.functional.batch_norm(x, None, None, w, b, True),
                   (_p, (4, 3), (3,), (3,))),
    "normalize": (lambda x: genesis.nn.functional.normalize(x), (_p, (3, 4))),
    "pad": (lambda x: genesis.nn.functional.pad(x, (1, 1)), (_p, (2, 3))),
    "mse_loss": (lambda x, y: genesis.nn.functional.mse_loss(x, y), (_p, (3, 4), (3, 4))),
    "l1_loss": (lambda x, y: genesis.nn.functional.l1_loss(x, y), (_p, (3, 4), (3, 4))),
    "smooth_l1_loss": (lambda x, y: genesis.nn.functional.smooth_l1_loss(x, y, beta=0.5),
                       (_p, (3, 4), (3, 4))),
    "bce_with_logits": (lambda x, pw: genesis.nn.functional.binary_cross_entropy_with_logits(
        x, genesis.tensor([[0.0, 1.0, 0.3]] * 2, dtype=genesis.float64), pos_weight=pw),
        (_p, (2, 3), (3,))),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    fn, (make, *shapes) = GRADCHECK[name]
    inputs = [make(*s, seed=i) for i, s in enumerate(shapes)]
    assert genesis.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_cross_entropy(smoothing, reduction):
    t = genesis.tensor([0, 2, -100, 1])
    w = genesis.tensor([0.5, 1.0, 2.0], dtype=genesis.float64)
    assert genesis.autograd.gradcheck(
        lambda x: genesis.nn.functional.cross_entropy(x, t, w, reduction=reduction,
                                                      label_smoothing=smoothing), [_p(4, 3)])
    assert genesis.autograd.gradcheck(
        lambda x: genesis.nn.functional.nll_loss(x, t, w, reduction=reduction), [_p(4, 3)])


def test_gradcheck_bce_and_embedding():
    rng = np.random.default_rng(9)
    x = genesis.tensor(rng.uniform(0.1, 0.9, (2, 3)), requires_grad=True)
    t = genesis.tensor(rng.random((2, 3)))
    assert genesis.autograd.gradcheck(
        lambda x: genesis.nn.functional.binary_cross_entropy(x, t), [x])
    idx = genesis.tensor([[0, 2], [2, 1]])
    assert genesis.autograd.gradcheck(
        lambda w: genesis.nn.functional.embedding(idx, w), [_p(3, 2)])


def test_double_backward_through_softmax_and_cross_entropy():
    for fn in (lambda lib, x: F(lib).softmax(x, 1),
               lambda lib, x: F(lib).log_softmax(x, 1),
               lambda lib, x: F(lib).cross_entropy(x, lib.tensor([0, 2, 1])),
               lambda lib, x: F(lib).layer_norm(x, (4,)),
               lambda lib, x: F(lib).gelu(x)):
        res = {}
        for lib in (genesis, torch):
            x = lib.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
            y = fn(lib, x)
            (g,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
            (gg,) = lib.autograd.grad((g * g).sum(), [x])
            res[lib.__name__] = gg.detach().numpy()
        np.testing.assert_allclose(res["genesis"], res["torch"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_rows_with_inf_and_nan_match_torch(name, dtype):
    """A NaN or +inf anywhere makes the row NaN; an all -inf row is NaN; -inf entries are 0
    (softmax) or -inf (log_softmax); short and long rows take the same path."""
    inf, nan = np.inf, np.nan
    rows = np.array([[inf, 1, 2, 3], [nan, 1, 0, 2], [-inf, -inf, -inf, -inf],
                     [-inf, 0, 1, -inf], [1, 2, 3, 4]], dtype=dtype)
    for x in (rows, np.tile(rows, (1, 40))):
        got = getattr(genesis.nn.functional, name)(genesis.tensor(x), -1).numpy()
        want = getattr(torch, name)(torch.tensor(x), -1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize("write", [None, "mul_", "column"])
def test_gelu_backward_reads_the_cdf_off_an_unchanged_output(monkeypatch, write):
    """With the output untouched the backend's "gelu_backward_from_output" runs (no erf
    recomputed); written in place after the forward, the output is not used (PyTorch saves
    only the input, so both programs must run)."""
    fused = genesis.device("cpu").backend.capabilities.fused
    assert "gelu_backward_from_output" in fused  # the CPU backend declares it
    calls = []
    for name in ("gelu_backward_from_output", "gelu_backward"):
        monkeypatch.setitem(fused, name, lambda *a, _k=fused[name], _n=name, **kw: (
            calls.append(_n), _k(*a, **kw))[1])
    rng = np.random.default_rng(3)
    xs, ws = rng.standard_normal((64, 40)) * 3, rng.standard_normal((40, 8))
    grads = []
    for lib in (genesis, torch):
        x = lib.tensor(xs.astype(np.float32), requires_grad=True)
        w = lib.tensor(ws.astype(np.float32), requires_grad=True)
        y = lib.nn.functional.gelu(x * 1.5)
        if write == "mul_":
            y.mul_(2)
        elif write == "column":
            y[:, 3].add_(1)
        (y @ w).sum().backward()
        grads.append((x.grad.numpy(), w.grad.numpy()))
    for g, t in zip(*grads):
        np.testing.assert_allclose(g, t, rtol=1e-4, atol=1e-5)
    assert calls == (["gelu_backward_from_output"] if write is None else ["gelu_backward"])
