"""pad in every mode and embedding's scale_grad_by_freq, against PyTorch (values and grads)."""

import genesis
import numpy as np
import pytest
import torch

F = genesis.nn.functional
CASES = [((2, 3, 5), (2, 1)), ((1, 2, 4, 5), (1, 2, 3, 1)), ((2, 3, 4), (0, 3)),
         ((2, 2, 3, 4), (1, 1, 2, 0))]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", CASES)
def test_pad_modes_match_torch(mode, shape, pad):
    a = np.random.default_rng(0).standard_normal(shape)
    g, t = genesis.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = F.pad(g, pad, mode=mode), torch.nn.functional.pad(t, pad, mode=mode)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    w = np.random.default_rng(1).standard_normal(ref.shape)
    (out * genesis.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_pad_refuses_bad_arguments():
    x = genesis.zeros(2, 3)
    with pytest.raises(NotImplementedError, match="mode='wrap'"):  # PyTorch's types
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(RuntimeError, match="size 3"):
        F.pad(x, (3, 0), mode="reflect")  # reflect needs amounts below the size
    with pytest.raises(RuntimeError, match="value=1.0"):
        F.pad(x, (1, 1), mode="replicate", value=1.0)


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_scale_grad_by_freq_matches_torch(padding_idx):
    idx = np.array([[1, 2, 1], [4, 1, 0]])
    w = np.random.default_rng(2).standard_normal((6, 3))
    up = np.random.default_rng(3).standard_normal((2, 3, 3))
    gw, tw = genesis.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.embedding(genesis.tensor(idx), gw, padding_idx=padding_idx,
                scale_grad_by_freq=True).backward(genesis.tensor(up))
    torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=padding_idx,
                                  scale_grad_by_freq=True).backward(torch.tensor(up))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    layer = genesis.nn.Embedding(6, 3, scale_grad_by_freq=True)
    layer(genesis.tensor(idx)).sum().backward()
    assert layer.weight.grad[1].tolist() == pytest.approx([1.0] * 3)  # 3 lookups, scaled by 1/3


def test_embedding_sparse_gradients_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="sparse=True"):
        F.embedding(genesis.tensor([0]), genesis.zeros(2, 2), sparse=True)
