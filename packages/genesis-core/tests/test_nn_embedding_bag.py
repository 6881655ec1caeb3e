"""embedding_bag / EmbeddingBag against PyTorch: every mode, offsets (empty bags,
include_last_offset), 2-D input, per_sample_weights, padding_idx, max_norm,
scale_grad_by_freq; values, weight and per-sample-weight gradients, gradcheck, errors."""

import genesis
import numpy as np
import pytest
import torch
from torch_compare import assert_raises_like_torch

F = genesis.nn.functional

# (input, offsets): 1-D with empty bags (middle and last), repeated indices, a 2-D batch
BAGS = [
    (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4])),
    (np.array([0, 2, 2, 7, 1]), np.array([0, 2, 2, 5])),
    (np.array([3]), np.array([0])),
    (np.array([[1, 2, 4], [4, 3, 9], [0, 0, 0]]), None),
    (np.array([[5]]), None),
]


def _run(lib, x, w, offsets, psw, **kw):
    wt = lib.tensor(w, requires_grad=True)
    ps = None if psw is None else lib.tensor(psw, requires_grad=True)
    out = lib.nn.functional.embedding_bag(
        lib.tensor(x), wt, None if offsets is None else lib.tensor(offsets),
        per_sample_weights=ps, **kw)
    up = np.random.default_rng(5).standard_normal(tuple(out.shape))
    (out * lib.tensor(up, dtype=out.dtype)).sum().backward()
    grads = [wt.grad.numpy()] + ([] if ps is None else [ps.grad.numpy()])
    return out.detach().numpy(), grads


def _check(x, offsets, mode, dtype=np.float64, weighted=False, **kw):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 3)).astype(dtype)
    psw = rng.standard_normal(x.shape).astype(dtype) if weighted else None
    out, grads = _run(genesis, x, w, offsets, psw, mode=mode, **kw)
    ref, ref_grads = _run(torch, x, w, offsets, psw, mode=mode, **kw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.dtype == ref.dtype and out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    for g, r in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol)


def _check_scale_grad_by_freq(x, offsets, mode, dtype):
    """PyTorch 2.13's CPU embedding_bag divides by the count of the wrong index when counts
    differ (pytorch/pytorch#190063, fixed upstream by #190264); its CUDA and MPS kernels and
    F.embedding divide each row's gradient by its own frequency, as documented. The
    reference here is that: torch's F.embedding(scale_grad_by_freq=True), reduced per bag."""
    w = np.random.default_rng(0).standard_normal((10, 3)).astype(dtype)
    tw = torch.tensor(w, requires_grad=True)
    rows = torch.nn.functional.embedding(torch.tensor(x.reshape(-1)), tw,
                                         scale_grad_by_freq=True)
    if offsets is None:
        bounds = [(i * x.shape[1], (i + 1) * x.shape[1]) for i in range(x.shape[0])]
    else:
        bounds = list(zip(offsets, list(offsets[1:]) + [len(x)]))
    reduce = torch.sum if mode == "sum" else torch.mean
    ref = torch.stack([reduce(rows[a:b], 0) if b > a else rows.new_zeros(3) for a, b in bounds])
    up = np.random.default_rng(5).standard_normal(tuple(ref.shape))
    (ref * torch.tensor(up, dtype=ref.dtype)).sum().backward()
    out, grads = _run(genesis, x, w, offsets, None, mode=mode, scale_grad_by_freq=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(grads[0], tw.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", range(len(BAGS)))
def test_embedding_bag_matches_torch(case, mode, dtype):
    x, offsets = BAGS[case]
    _check(x, offsets, mode, dtype)
    _check(x, offsets, mode, dtype, padding_idx=2)
    if offsets is not None:
        _check(x, np.append(offsets, len(x)), mode, dtype, include_last_offset=True)
    if mode == "sum":
        _check(x, offsets, mode, dtype, weighted=True)
        _check(x, offsets, mode, dtype, weighted=True, padding_idx=4)
    else:
        _check(x, offsets, mode, dtype, padding_idx=-1)
    if mode != "max":
        _check_scale_grad_by_freq(x, offsets, mode, dtype)


def test_embedding_bag_max_norm_renormalises_rows_like_torch():
    x, offsets = BAGS[0]
    w = np.random.default_rng(1).standard_normal((10, 3)) * 2
    gw, tw = genesis.tensor(w), torch.tensor(w)
    out = F.embedding_bag(genesis.tensor(x), gw, genesis.tensor(offsets), max_norm=1.5)
    ref = torch.nn.functional.embedding_bag(torch.tensor(x), tw, torch.tensor(offsets),
                                            max_norm=1.5)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gw.numpy(), tw.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    rng = np.random.default_rng(2)
    w = genesis.tensor(rng.standard_normal((6, 2)), requires_grad=True)
    x, offsets = genesis.tensor([1, 2, 4, 1, 5, 0]), genesis.tensor([0, 3, 3])
    assert genesis.autograd.gradcheck(lambda t: F.embedding_bag(x, t, offsets, mode=mode), [w])
    if mode == "sum":
        psw = genesis.tensor(rng.standard_normal(6), requires_grad=True)
        assert genesis.autograd.gradcheck(
            lambda t, p: F.embedding_bag(x, t, offsets, mode="sum", per_sample_weights=p),
            [w, psw])


def test_embedding_bag_module_matches_torch():
    torch.manual_seed(0)
    for kw in ({}, {"mode": "max", "padding_idx": 1}, {"mode": "sum", "max_norm": 1.0,
               "norm_type": 3.0, "include_last_offset": True},
               {"padding_idx": -2}):
        ref = torch.nn.EmbeddingBag(7, 3, **kw)
        layer = genesis.nn.EmbeddingBag(7, 3, **kw)
        assert repr(layer) == repr(ref)
        assert list(layer.state_dict()) == list(ref.state_dict()) == ["weight"]
        assert layer.padding_idx == ref.padding_idx
        if ref.padding_idx is not None:
            assert not layer.weight[ref.padding_idx].detach().numpy().any()
        layer.load_state_dict({"weight": genesis.tensor(ref.weight.detach().numpy())})
        x, offsets = np.array([1, 2, 6, 0, 1]), np.array([0, 2, 5])
        out = layer(genesis.tensor(x), genesis.tensor(offsets))
        want = ref(torch.tensor(x), torch.tensor(offsets))
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-6,
                                   atol=1e-6)
        out.sum().backward()
        want.sum().backward()
        np.testing.assert_allclose(layer.weight.grad.numpy(), ref.weight.grad.numpy(),
                                   rtol=1e-6, atol=1e-6)
    weights = genesis.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    bag = genesis.nn.EmbeddingBag.from_pretrained(weights)
    ref = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(weights.numpy()))
    assert not bag.weight.requires_grad and repr(bag) == repr(ref)
    np.testing.assert_allclose(bag(genesis.tensor([[1, 0]])).numpy(),
                               ref(torch.tensor([[1, 0]])).numpy(), rtol=1e-6)
    bag = genesis.nn.EmbeddingBag.from_pretrained(weights, freeze=False, mode="sum")
    per = genesis.tensor([[0.5, 2.0]])
    out = bag(genesis.tensor([[1, 0]]), per_sample_weights=per).detach().numpy()
    np.testing.assert_allclose(out, [[0.5 * 4.0 + 2.0, 0.5 * 5.1 + 2.0 * 2.3, 0.5 * 6.3 + 6.0]],
                               rtol=1e-6)
    assert bag.weight.requires_grad


def test_embedding_bag_errors_like_torch():
    def bag(x, offsets=None, **kw):
        return lambda lib: lib.nn.functional.embedding_bag(
            lib.tensor(x), lib.zeros(5, 2), None if offsets is None else lib.tensor(offsets),
            **kw)

    assert_raises_like_torch(bag([[1, 2]], [0]), "if input is 2D, then offsets has to be None")
    assert_raises_like_torch(bag([1, 2]), "offsets has to be a 1D Tensor but got None")
    assert_raises_like_torch(bag([1, 2], [[0]]), "offsets has to be a 1D Tensor")
    assert_raises_like_torch(bag([[[1, 2]]]), "input has to be 1D or 2D")
    assert_raises_like_torch(bag([1, 2], [0], mode="min"), "mode has to be one of sum, mean")
    assert_raises_like_torch(bag([1, 2], [0], mode="max", scale_grad_by_freq=True),
                             "max mode does not support scaling")
    assert_raises_like_torch(bag([1, 2], [1]), "offsets\\[0\\] has to be 0")
    assert_raises_like_torch(bag([1, 2], [0, 3]), "offsets\\[-1\\] can not be greater")
    assert_raises_like_torch(bag([1, 7], [0]), "Index 1 of input takes value 7")
    assert_raises_like_torch(bag([1, 2], [0], padding_idx=5), "padding_idx must be within")
    assert_raises_like_torch(bag([1.0, 2.0], [0]), "'indices' to have one of")
    assert_raises_like_torch(
        lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.zeros(5, 2),
                                                    lib.tensor([0]), mode="mean",
                                                    per_sample_weights=lib.ones(2)),
        "per_sample_weights is only supported for mode='sum'")
    assert_raises_like_torch(
        lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.zeros(5, 2),
                                                    lib.tensor([0]), mode="sum",
                                                    per_sample_weights=lib.ones(3)),
        "must have the same shape as the input")
    with pytest.raises(RuntimeError, match="non-decreasing"):
        F.embedding_bag(genesis.tensor([1, 2, 3]), genesis.zeros(5, 2),
                        genesis.tensor([0, 2, 1]))
    assert repr(genesis.nn.EmbeddingBag(4, 2, scale_grad_by_freq=True)) == \
        repr(torch.nn.EmbeddingBag(4, 2, scale_grad_by_freq=True))
    assert_raises_like_torch(lambda lib: lib.nn.EmbeddingBag(4, 2, padding_idx=4),
                             "padding_idx must be within num_embeddings")
