"""scaled_dot_product_attention and MultiheadAttention against PyTorch, forward and backward."""

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
import numpy as np
import pytest
import torch


def pair(shape, seed, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return genesis.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float", "causal_rect"])
def test_sdpa_matches_torch(mask):
    L, S = (4, 6) if mask == "causal_rect" else (5, 5)
    (q, tq), (k, tk), (v, tv) = pair((2, 3, L, 8), 0), pair((2, 3, S, 8), 1), pair((2, 3, S, 4), 2)
    kwargs, tkwargs = {}, {}
    if mask in ("causal", "causal_rect"):
        kwargs = tkwargs = {"is_causal": True}
    elif mask == "bool":
        m = np.random.default_rng(3).random((L, S)) < 0.7
        m[:, 0] = True  # every query sees at least one key
        kwargs, tkwargs = {"attn_mask": genesis.tensor(m)}, {"attn_mask": torch.tensor(m)}
    elif mask == "float":
        m = np.random.default_rng(3).standard_normal((1, 3, L, S))
        kwargs, tkwargs = {"attn_mask": genesis.tensor(m)}, {"attn_mask": torch.tensor(m)}
    out = F.scaled_dot_product_attention(q, k, v, scale=0.3, **kwargs)
    ref = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, scale=0.3, **tkwargs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(9).standard_normal(out.shape)
    (out * genesis.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for g, t in ((q, tq), (k, tk), (v, tv)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_sdpa_gradcheck_and_dropout_statistics():
    q, k, v = (genesis.randn(1, 3, 4, dtype=genesis.float64, requires_grad=True)
               for _ in range(3))
    assert genesis.autograd.gradcheck(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), [q, k, v])
    genesis.manual_seed(0)
    ones = genesis.ones(1, 64, 64)
    out = F.scaled_dot_product_attention(ones, ones, ones, dropout_p=0.25)
    assert abs(out.mean().item() - 1.0) < 0.05  # inverted dropout keeps the expectation
    with pytest.raises(RuntimeError, match="not both"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=genesis.ones(3, 3, dtype=genesis.bool),
                                       is_causal=True)


def copy_mha(g: nn.MultiheadAttention, t: torch.nn.MultiheadAttention) -> None:
    with torch.no_grad():
        t.in_proj_weight.copy_(torch.tensor(g.in_proj_weight.detach().numpy()))
        t.in_proj_bias.copy_(torch.tensor(g.in_proj_bias.detach().numpy()))
        t.out_proj.weight.copy_(torch.tensor(g.out_proj.weight.detach().numpy()))
        t.out_proj.bias.copy_(torch.tensor(np.random.default_rng(5).standard_normal(8)))
    with genesis.no_grad():
        g.out_proj.bias.copy_(genesis.tensor(t.out_proj.bias.detach().numpy()))


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "both"])
def test_multihead_attention_matches_torch(batch_first, masks):
    genesis.manual_seed(0)
    g = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=genesis.float64)
    t = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=torch.float64)
    copy_mha(g, t)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    (x, tx) = pair(shape, 1)
    kw, tkw = {}, {}
    if masks in ("causal", "both"):
        m = np.triu(np.ones((5, 5), bool), 1)
        kw["attn_mask"], tkw["attn_mask"] = genesis.tensor(m), torch.tensor(m)
    if masks in ("padding", "both"):
        p = np.zeros((3, 5), bool)
        p[1, 3:] = True
        kw["key_padding_mask"], tkw["key_padding_mask"] = genesis.tensor(p), torch.tensor(p)
    out, w = g(x, x, x, **kw)
    ref, tw = t(tx, tx, tx, **tkw)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(g.in_proj_weight.grad.numpy(), t.in_proj_weight.grad.numpy(),
                               rtol=1e-9, atol=1e-11)
    out2, none = g(x, x, x, need_weights=False, **kw)
    assert none is None
    np.testing.assert_allclose(out2.detach().numpy(), out.detach().numpy(), rtol=1e-12)


def test_multihead_attention_init_and_errors():
    m = nn.MultiheadAttention(16, 4)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    bound = (6 / (16 + 48)) ** 0.5  # xavier_uniform on (3E, E)
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound
    assert not m.in_proj_bias.detach().numpy().any()
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)  # PyTorch's exception type


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_query_gives_zero_like_torch(kind):
    """PyTorch's SDPA returns 0 (and no gradient) for a query whose keys are all masked."""
    (q, tq), (k, tk), (v, tv) = pair((2, 4, 3), 0), pair((2, 5, 3), 1), pair((2, 5, 3), 2)
    keep = np.random.default_rng(3).random((2, 4, 5)) < 0.6
    keep[:, :, 0] = True
    keep[0, 1] = False
    keep[1, 3] = False
    m = keep if kind == "bool" else np.where(keep, 0.0, -np.inf)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=genesis.tensor(m))
    ref = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(m))
    assert not ref[0, 1].any()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    w = np.random.default_rng(9).standard_normal(out.shape)
    (out * genesis.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for g, t in ((q, tq), (k, tk), (v, tv)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", ["float_padding", "3d_float", "causal_hint", "all_padded"])
def test_multihead_attention_masks_like_torch(need_weights, masks):
    """Float key_padding_mask, (N*H, L, S) masks, the is_causal hint (which replaces the mask
    only without padding and weights), and a batch row with every key padded (NaN weights and
    output with need_weights, a zero attention output without, as PyTorch)."""
    g = nn.MultiheadAttention(8, 2, dtype=genesis.float64)
    t = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64)
    copy_mha(g, t)
    (x, tx) = pair((5, 3, 8), 1)
    (mem, tmem) = pair((4, 3, 8), 4)
    kw = {}
    rng = np.random.default_rng(6)
    if masks == "float_padding":
        kw["key_padding_mask"] = np.where(rng.random((3, 4)) < 0.3, -np.inf, rng.random((3, 4)))
        kw["key_padding_mask"][:, 0] = 0.0
    elif masks == "3d_float":
        kw["attn_mask"] = rng.standard_normal((6, 5, 4))
    elif masks == "causal_hint":  # a wrong hint: PyTorch trusts it without padding/weights
        kw["attn_mask"] = np.zeros((5, 4))
        kw["is_causal"] = True
    else:
        p = np.zeros((3, 4), bool)
        p[1] = True
        kw["key_padding_mask"] = p
    gkw = {k: genesis.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    out, w = g(x, mem, mem, need_weights=need_weights, **gkw)
    ref, tw = t(tx, tmem, tmem, need_weights=need_weights, **tkw)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-12, equal_nan=True)
    assert (w is None) == (tw is None)
    if tw is not None:
        np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-10,
                                   atol=1e-12, equal_nan=True)
    if np.isnan(ref.detach().numpy()).any():
        return
    gw = np.random.default_rng(9).standard_normal(out.shape)
    (out * genesis.tensor(gw)).sum().backward()
    (ref * torch.tensor(gw)).sum().backward()
    for a, b in ((x, tx), (mem, tmem), (g.in_proj_weight, t.in_proj_weight),
                 (g.out_proj.bias, t.out_proj.bias)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("self_attention", [True, False])
def test_multihead_attention_eval_fast_path_nan_like_torch(batch_first, grad, kind,
                                                           self_attention):
    """A batch row whose keys are all padded: PyTorch's inference fast path (eval, no grad,
    batch_first self-attention, bool masks) gives NaN even without weights; its other paths a
    zero attention output."""
    g = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=genesis.float64).eval()
    t = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first,
                                    dtype=torch.float64).eval()
    copy_mha(g, t)
    shape = (3, 4, 8) if batch_first else (4, 3, 8)
    (x, tx), (m, tm) = pair(shape, 1), pair(shape, 2)
    p = np.zeros((3, 4), bool)
    p[1] = True
    p[2, 3] = True
    p = p if kind == "bool" else np.where(p, -np.inf, 0.0)
    kv, tkv = (x, tx) if self_attention else (m, tm)
    with genesis.set_grad_enabled(grad), torch.set_grad_enabled(grad):
        out = g(x, kv, kv, key_padding_mask=genesis.tensor(p), need_weights=False)[0]
        ref = t(tx, tkv, tkv, key_padding_mask=torch.tensor(p), need_weights=False)[0]
    nan = batch_first and not grad and kind == "bool" and self_attention
    assert np.isnan(ref.detach().numpy()).any() == nan
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("inputs", ["self", "key_is_value", "distinct"])
@pytest.mark.parametrize("bias", [True, False])
def test_multihead_attention_packed_and_separate_projections(inputs, bias):
    """One packed in-projection when query/key/value are the same tensor (or key is value),
    three otherwise: the same values and gradients as torch either way."""
    g = nn.MultiheadAttention(8, 2, bias=bias, dtype=genesis.float64)
    t = torch.nn.MultiheadAttention(8, 2, bias=bias, dtype=torch.float64)
    rng = np.random.default_rng(0)
    for gp, tp in zip(g.parameters(), t.parameters()):
        a = rng.standard_normal(tuple(gp.shape))
        with genesis.no_grad():
            gp.copy_(genesis.tensor(a))
        with torch.no_grad():
            tp.copy_(torch.tensor(a))
    (q, tq), (k, tk), (v, tv) = pair((4, 2, 8), 1), pair((3, 2, 8), 2), pair((3, 2, 8), 3)
    args, targs = {"self": ((q, q, q), (tq, tq, tq)), "key_is_value": ((q, k, k), (tq, tk, tk)),
                   "distinct": ((q, k, v), (tq, tk, tv))}[inputs]
    out, ref = g(*args, need_weights=False)[0], t(*targs, need_weights=False)[0]
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    w = np.random.default_rng(9).standard_normal(out.shape)
    (out * genesis.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    leaves = [(a, b) for a, b in ((q, tq), (k, tk), (v, tv)) if b.grad is not None]
    leaves += list(zip(g.parameters(), t.parameters()))
    for a, b in leaves:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)
