"""Transformer, its encoder/decoder stacks and layers against PyTorch 2.13: forward, input and
parameter gradients with weights copied from the genesis module into a torch module of the same
config, every flag (batch_first, norm_first, activation, bias, masks, causal hints), the eval
"fast path" results PyTorch gives for padding, parameter names, initialisation and errors."""

import warnings

import genesis
import genesis.nn as nn
import numpy as np
import pytest
import torch
from torch_compare import assert_raises_like_torch, dtype_name

E, H, FF = 8, 2, 12  # d_model, nhead, dim_feedforward


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's intra-op threads make these tiny shapes ~10x slower on a shared 2-core box."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def lib_dtype(lib, dtype: str):
    return getattr(lib, dtype)


def build(lib, cls: str, *args, dtype: str = "float64", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TransformerEncoder's enable_nested_tensor notice
        m = getattr(lib.nn, cls)(*args, **kwargs)
    return m.to(lib_dtype(lib, dtype)) if lib is torch else m.to(dtype=lib_dtype(lib, dtype))


def copy_weights(g, t, seed: int = 0) -> None:
    """Random values in every genesis parameter, copied into torch's parameter of that name."""
    gp, tp = dict(g.named_parameters()), dict(t.named_parameters())
    assert list(gp) == list(tp)
    rng = np.random.default_rng(seed)
    for name, p in gp.items():
        a = rng.standard_normal(tuple(p.shape)) * 0.5
        with genesis.no_grad():
            p.copy_(genesis.tensor(a, dtype=p.dtype))
        with torch.no_grad():
            tp[name].copy_(torch.tensor(a, dtype=tp[name].dtype))


def pair(a: np.ndarray, dtype: str = "float64", grad: bool = True):
    g = genesis.tensor(a, dtype=lib_dtype(genesis, dtype))
    t = torch.tensor(a, dtype=lib_dtype(torch, dtype))
    if grad:
        g.requires_grad_(True)
        t.requires_grad_(True)
    return g, t


def mask_pair(a: np.ndarray | None, dtype: str = "float64"):
    if a is None:
        return None, None
    if a.dtype == bool:
        return genesis.tensor(a), torch.tensor(a)
    return pair(a, dtype, grad=False)


TOL = {"float64": (1e-9, 1e-10), "float32": (2e-4, 2e-5)}


def check(g, t, g_out, t_out, leaves, dtype: str = "float64", seed: int = 7) -> None:
    """Outputs equal (NaNs where torch has them); then the same random projection
    back-propagated: input and parameter gradients equal."""
    rtol, atol = TOL[dtype]
    go, to = g_out.detach().numpy(), t_out.detach().numpy()
    assert go.shape == to.shape
    np.testing.assert_allclose(go, to, rtol=rtol, atol=atol, equal_nan=True)
    if np.isnan(to).any() or not t_out.requires_grad:
        return
    w = np.random.default_rng(seed).standard_normal(to.shape)
    (g_out * genesis.tensor(w, dtype=g_out.dtype)).sum().backward()
    (t_out * torch.tensor(w, dtype=t_out.dtype)).sum().backward()
    for i, (gl, tl) in enumerate(leaves):
        np.testing.assert_allclose(gl.grad.numpy(), tl.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"grad of input {i}")
    tp = dict(t.named_parameters())
    for name, p in g.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"grad of {name}")


def seq(batch_first: bool, n: int, s: int, seed: int) -> np.ndarray:
    shape = (n, s, E) if batch_first else (s, n, E)
    return np.random.default_rng(seed).standard_normal(shape)


def attn_mask(kind: str, L: int, S: int, dtype: str = "float64"):
    rng = np.random.default_rng(11)
    if kind == "bool":
        m = rng.random((L, S)) < 0.4
        m[:, 0] = False  # every query keeps a key
        return m
    if kind == "float":
        return (rng.standard_normal((L, S))).astype(dtype)
    if kind == "causal":
        return np.triu(np.full((L, S), -np.inf), 1).astype(dtype)
    if kind == "3d":
        return rng.standard_normal((3 * H, L, S)).astype(dtype)
    return None


def padding(kind: str, n: int, S: int, dtype: str = "float64"):
    if kind == "none":
        return None
    p = np.zeros((n, S), bool)
    p[0, S - 2:] = True
    p[2, 1] = True  # not left-aligned
    return p if kind == "bool" else np.where(p, -np.inf, 0.0).astype(dtype)


ACTIVATIONS = ["relu", "gelu", "callable"]


def activation(lib, kind: str):
    return lib.nn.functional.silu if kind == "callable" else kind


# -- encoder layer -----------------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("masks", ["none", "bool", "float", "causal_hint", "3d", "pad_bool",
                                   "pad_float", "both"])
def test_encoder_layer_matches_torch(batch_first, norm_first, act, masks):
    g, t = (build(lib, "TransformerEncoderLayer", E, H, FF, dropout=0.0,
                  activation=activation(lib, act), batch_first=batch_first,
                  norm_first=norm_first) for lib in (genesis, torch))
    copy_weights(g, t)
    S = 5
    (x, tx) = pair(seq(batch_first, 3, S, 1))
    am = {"bool": "bool", "float": "float", "causal_hint": "causal", "3d": "3d",
          "both": "bool"}.get(masks)
    m, tm = mask_pair(attn_mask(am, S, S) if am else None)
    pk = {"pad_bool": "bool", "pad_float": "float", "both": "bool"}.get(masks, "none")
    p, tp = mask_pair(padding(pk, 3, S))
    hint = masks == "causal_hint"
    out = g(x, src_mask=m, src_key_padding_mask=p, is_causal=hint)
    ref = t(tx, src_mask=tm, src_key_padding_mask=tp, is_causal=hint)
    check(g, t, out, ref, [(x, tx)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (4, 1), (1, 3), None])  # (S, N); None: unbatched
def test_encoder_layer_odd_shapes_bias_and_eps(dtype, shape):
    g, t = (build(lib, "TransformerEncoderLayer", E, 4, 3, dropout=0.0, bias=False,
                  layer_norm_eps=1e-3, dtype=dtype) for lib in (genesis, torch))
    copy_weights(g, t)
    assert g.self_attn.in_proj_bias is None and g.norm1.bias is None
    a = np.random.default_rng(2).standard_normal((3, E) if shape is None else (*shape, E))
    (x, tx) = pair(a, dtype)
    S = a.shape[0]
    pk = np.zeros(S if shape is None else (shape[1], S), bool)
    pk[..., -1] = S > 1
    (p, tp) = mask_pair(pk)
    check(g, t, g(x, src_key_padding_mask=p), t(tx, src_key_padding_mask=tp), [(x, tx)],
          dtype=dtype)


def test_encoder_layer_activation_modules_are_submodules():
    for lib in (genesis, torch):
        layer = lib.nn.TransformerEncoderLayer(E, H, FF, activation=lib.nn.GELU())
        assert layer.activation_relu_or_gelu == 2
        assert "activation" in dict(layer.named_modules()) or "activation" in dict(
            layer.named_children())
    g = nn.TransformerEncoderLayer(E, H, FF, activation="gelu")
    t = torch.nn.TransformerEncoderLayer(E, H, FF, activation="gelu")
    assert g.activation_relu_or_gelu == t.activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(E, H, FF, activation=lambda v: v
                                      ).activation_relu_or_gelu == 0


# -- padding rows where every key is masked ----------------------------------------------------

def fully_padded(n: int = 2, S: int = 4) -> np.ndarray:
    p = np.zeros((n, S), bool)
    p[0, 2:] = True
    p[1, :] = True  # batch row 1 attends to nothing
    return p


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_fully_padded_row_training_path_is_finite_like_torch(batch_first, norm_first):
    """PyTorch's SDPA gives a zero attention output (and no gradient) for such a query."""
    g, t = (build(lib, "TransformerEncoderLayer", E, H, FF, dropout=0.0,
                  batch_first=batch_first, norm_first=norm_first) for lib in (genesis, torch))
    copy_weights(g, t)
    (x, tx) = pair(seq(batch_first, 2, 4, 3))
    p, tp = mask_pair(fully_padded())
    out, ref = g(x, src_key_padding_mask=p), t(tx, src_key_padding_mask=tp)
    assert np.isfinite(ref.detach().numpy()).all()
    check(g, t, out, ref, [(x, tx)])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("grad", [False, True])
def test_fully_padded_row_eval(batch_first, grad):
    """In eval mode without autograd PyTorch's batch_first fast path gives NaN for a query
    with no keys; with autograd (or batch_first=False) it stays finite."""
    g, t = (build(lib, "TransformerEncoderLayer", E, H, FF, batch_first=batch_first).eval()
            for lib in (genesis, torch))
    copy_weights(g, t)
    (x, tx) = pair(seq(batch_first, 2, 4, 3), grad=grad)
    p, tp = mask_pair(fully_padded())
    with genesis.set_grad_enabled(grad), torch.set_grad_enabled(grad):
        out, ref = g(x, src_key_padding_mask=p), t(tx, src_key_padding_mask=tp)
    assert np.isnan(ref.detach().numpy()).any() == (batch_first and not grad)
    check(g, t, out, ref, [(x, tx)] if grad else [])
    with genesis.no_grad(), torch.no_grad():  # the same through a 2-D src_mask
        m = np.zeros((4, 4))
        m[1] = -np.inf
        gm, tm = mask_pair(m)
        check(g, t, g(x, src_mask=gm), t(tx, src_mask=tm), [])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_decoder_layer_eval_fully_padded_target_like_torch(batch_first, kind):
    """The decoder's self-attention takes PyTorch's MultiheadAttention fast path in eval mode
    without autograd (bool masks, batch_first): NaN for a target row with no keys."""
    g, t = (build(lib, "TransformerDecoderLayer", E, H, FF, batch_first=batch_first).eval()
            for lib in (genesis, torch))
    copy_weights(g, t)
    (y, ty), (mem, tmem) = pair(seq(batch_first, 2, 4, 1)), pair(seq(batch_first, 2, 3, 2))
    p = fully_padded()
    gp, tp = mask_pair(p if kind == "bool" else np.where(p, -np.inf, 0.0))
    with genesis.no_grad(), torch.no_grad():
        out = g(y, mem, tgt_key_padding_mask=gp)
        ref = t(ty, tmem, tgt_key_padding_mask=tp)
    assert np.isnan(ref.numpy()).any() == (batch_first and kind == "bool")
    check(g, t, out, ref, [])


@pytest.mark.parametrize("padding_kind", ["left_aligned", "not_aligned", "float"])
@pytest.mark.parametrize("grad", [False, True])
def test_encoder_nested_tensor_path_zeroes_padding_like_torch(padding_kind, grad):
    g, t = (build(lib, "TransformerEncoder",
                  lib.nn.TransformerEncoderLayer(E, H, FF, batch_first=True), 2,
                  norm=lib.nn.LayerNorm(E)).eval() for lib in (genesis, torch))
    copy_weights(g, t)
    assert g.use_nested_tensor and t.use_nested_tensor
    (x, tx) = pair(seq(True, 3, 4, 5), grad=grad)
    p = np.zeros((3, 4), bool)
    p[0, 2:] = True
    p[1, :] = True
    if padding_kind == "not_aligned":
        p[2, 1] = True
    pm = np.where(p, -np.inf, 0.0) if padding_kind == "float" else p
    gp, tp = mask_pair(pm)
    with genesis.set_grad_enabled(grad), torch.set_grad_enabled(grad):
        out, ref = g(x, src_key_padding_mask=gp), t(tx, src_key_padding_mask=tp)
    check(g, t, out, ref, [(x, tx)] if grad else [])


# -- encoder and decoder stacks ----------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "causal_detected", "causal_hint", "pad", "both"])
def test_encoder_stack_matches_torch(batch_first, norm_first, masks):
    g, t = (build(lib, "TransformerEncoder",
                  lib.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=batch_first,
                                                 norm_first=norm_first),
                  2, norm=lib.nn.LayerNorm(E), enable_nested_tensor=False)
            for lib in (genesis, torch))
    copy_weights(g, t)
    assert [n for n, _ in g.named_parameters()][:2] == ["layers.0.self_attn.in_proj_weight",
                                                         "layers.0.self_attn.in_proj_bias"]
    (x, tx) = pair(seq(batch_first, 3, 5, 1))
    causal = masks in ("causal_detected", "causal_hint", "both")
    m, tm = mask_pair(nn.Transformer.generate_square_subsequent_mask(
        5, dtype=genesis.float64).numpy() if causal else None)
    p, tp = mask_pair(padding("bool" if masks in ("pad", "both") else "none", 3, 5))
    hint = True if masks == "causal_hint" else None
    out = g(x, mask=m, src_key_padding_mask=p, is_causal=hint)
    ref = t(tx, mask=tm, src_key_padding_mask=tp, is_causal=hint)
    check(g, t, out, ref, [(x, tx)])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("masks", ["none", "tgt_causal", "tgt_bool_hint", "memory", "pads",
                                   "all_float", "memory_causal_hint"])
def test_decoder_layer_matches_torch(batch_first, norm_first, act, masks):
    g, t = (build(lib, "TransformerDecoderLayer", E, H, FF, dropout=0.0,
                  activation=activation(lib, act), batch_first=batch_first,
                  norm_first=norm_first) for lib in (genesis, torch))
    copy_weights(g, t)
    T, S = 4, 6
    (y, ty), (mem, tmem) = pair(seq(batch_first, 3, T, 1)), pair(seq(batch_first, 3, S, 2))
    kw = {}
    if masks in ("tgt_causal", "tgt_bool_hint"):
        c = np.triu(np.ones((T, T), bool), 1)
        kw["tgt_mask"] = c if masks == "tgt_bool_hint" else np.where(c, -np.inf, 0.0)
        kw["tgt_is_causal"] = masks == "tgt_bool_hint"
    if masks in ("memory", "all_float"):
        kw["memory_mask"] = attn_mask("bool" if masks == "memory" else "float", T, S)
    if masks in ("pads", "all_float"):
        kw["tgt_key_padding_mask"] = padding("bool" if masks == "pads" else "float", 3, T)
        kw["memory_key_padding_mask"] = padding("bool" if masks == "pads" else "float", 3, S)
    if masks == "all_float":
        kw["tgt_mask"] = attn_mask("float", T, T)
    if masks == "memory_causal_hint":
        kw["memory_mask"] = np.triu(np.full((T, S), -np.inf), 1)
        kw["memory_is_causal"] = True
    gkw = {k: mask_pair(v)[0] if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: mask_pair(v)[1] if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    check(g, t, g(y, mem, **gkw), t(ty, tmem, **tkw), [(y, ty), (mem, tmem)])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("detect", [None, True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_decoder_stack_matches_torch(batch_first, detect, dtype):
    g, t = (build(lib, "TransformerDecoder",
                  lib.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, batch_first=batch_first),
                  2, norm=lib.nn.LayerNorm(E), dtype=dtype) for lib in (genesis, torch))
    copy_weights(g, t)
    (y, ty), (mem, tmem) = (pair(seq(batch_first, 2, 3, 1), dtype),
                            pair(seq(batch_first, 2, 5, 2), dtype))
    m, tm = mask_pair(torch.nn.Transformer.generate_square_subsequent_mask(3).numpy(), dtype)
    p, tp = mask_pair(fully_padded(2, 5))  # a batch row with all memory padded
    out = g(y, mem, tgt_mask=m, memory_key_padding_mask=p, tgt_is_causal=detect)
    ref = t(ty, tmem, tgt_mask=tm, memory_key_padding_mask=tp, tgt_is_causal=detect)
    assert out.dtype is getattr(genesis, dtype)
    check(g, t, out, ref, [(y, ty), (mem, tmem)], dtype=dtype)


def test_factory_kwargs():
    m = nn.Transformer(E, H, 1, 1, FF, dtype=genesis.float64, device="cpu")
    assert {p.dtype for p in m.parameters()} == {genesis.float64}
    assert {p.device.type for p in m.parameters()} == {"cpu"}
    mask = nn.Transformer.generate_square_subsequent_mask(3, device="cpu", dtype=genesis.float64)
    assert mask.dtype is genesis.float64


# -- the full Transformer ----------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("masks", ["none", "all_bool", "all_float", "unbatched"])
def test_transformer_matches_torch(batch_first, norm_first, bias, masks):
    g, t = (build(lib, "Transformer", E, H, 2, 1, FF, dropout=0.0, activation="gelu",
                  layer_norm_eps=1e-4, batch_first=batch_first, norm_first=norm_first,
                  bias=bias) for lib in (genesis, torch))
    copy_weights(g, t)
    S, T, N = 5, 3, 3
    if masks == "unbatched":
        rng = np.random.default_rng(4)
        (src, ts), (tgt, tt) = pair(rng.standard_normal((S, E))), pair(rng.standard_normal(
            (T, E)))
    else:
        (src, ts), (tgt, tt) = pair(seq(batch_first, N, S, 1)), pair(seq(batch_first, N, T, 2))
    kw = {}
    if masks in ("all_bool", "all_float"):
        kind = "bool" if masks == "all_bool" else "float"
        kw = {"src_mask": attn_mask(kind, S, S), "tgt_mask": attn_mask(kind, T, T),
              "memory_mask": attn_mask(kind, T, S),
              "src_key_padding_mask": padding(kind, N, S),
              "tgt_key_padding_mask": padding(kind, N, T),
              "memory_key_padding_mask": padding(kind, N, S)}
    if masks == "unbatched":
        kw = {"tgt_mask": np.triu(np.full((T, T), -np.inf), 1),
              "src_key_padding_mask": np.array([False] * (S - 1) + [True])}
    gkw = {k: mask_pair(v)[0] for k, v in kw.items()}
    tkw = {k: mask_pair(v)[1] for k, v in kw.items()}
    check(g, t, g(src, tgt, **gkw), t(ts, tt, **tkw), [(src, ts), (tgt, tt)])


def test_transformer_float32_train_mode_and_state_dict_from_torch():
    t = torch.nn.Transformer(E, H, 1, 2, FF, dropout=0.0)
    g = nn.Transformer(E, H, 1, 2, FF, dropout=0.0)
    assert list(g.state_dict()) == list(t.state_dict())
    g.load_state_dict({k: genesis.tensor(v.numpy()) for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    (src, ts), (tgt, tt) = pair(rng.standard_normal((4, 2, E)), "float32"), pair(
        rng.standard_normal((3, 2, E)), "float32")
    m = nn.Transformer.generate_square_subsequent_mask(3)
    tm = torch.nn.Transformer.generate_square_subsequent_mask(3)
    check(g, t, g(src, tgt, tgt_mask=m), t(ts, tt, tgt_mask=tm), [(src, ts), (tgt, tt)],
          dtype="float32")


def test_custom_encoder_and_decoder():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF, dropout=0.0), 1,
                                enable_nested_tensor=False)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, FF, dropout=0.0), 1)
    g = nn.Transformer(E, H, custom_encoder=enc, custom_decoder=dec)
    assert g.encoder is enc and g.decoder is dec
    t = torch.nn.Transformer(E, H, custom_encoder=torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0), 1, enable_nested_tensor=False),
        custom_decoder=torch.nn.TransformerDecoder(
            torch.nn.TransformerDecoderLayer(E, H, FF, dropout=0.0), 1))
    g, t = g.to(dtype=genesis.float64), t.double()
    copy_weights(g, t)
    (src, ts), (tgt, tt) = pair(seq(False, 2, 3, 1)), pair(seq(False, 2, 2, 2))
    check(g, t, g(src, tgt), t(ts, tt), [(src, ts), (tgt, tt)])


# -- masks, init, names, dropout, gradcheck, errors --------------------------------------------

@pytest.mark.parametrize("sz", [1, 4])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_generate_square_subsequent_mask(sz, dtype):
    g = nn.Transformer.generate_square_subsequent_mask(sz, dtype=dtype and genesis.float64)
    t = torch.nn.Transformer.generate_square_subsequent_mask(sz, dtype=dtype and torch.float64)
    assert dtype_name(g.dtype) == dtype_name(t.dtype)
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_parameter_names_and_init_like_torch():
    g, t = nn.Transformer(16, 4, 2, 2, 24), torch.nn.Transformer(16, 4, 2, 2, 24)
    gp, tp = dict(g.named_parameters()), dict(t.named_parameters())
    assert list(gp) == list(tp)
    assert "encoder.norm.weight" in gp and "decoder.layers.1.multihead_attn.out_proj.bias" in gp
    for name, p in gp.items():
        assert tuple(p.shape) == tuple(tp[name].shape), name
        a = p.detach().numpy()
        if p.ndim > 1:  # xavier_uniform_ over every matrix
            fan_out, fan_in = p.shape
            bound = (6 / (fan_in + fan_out)) ** 0.5
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound, name
        elif name.endswith(("in_proj_bias", "out_proj.bias")) or "norm" in name and (
                name.endswith("bias")):
            assert not a.any(), name
        elif "norm" in name:
            assert (a == 1).all(), name
        else:  # Linear biases keep Linear's init
            bound = 1 / tp[name.replace("bias", "weight")].shape[1] ** 0.5
            assert np.abs(a).max() <= bound and a.any(), name
    names = [n for n, _ in nn.TransformerDecoderLayer(E, H).named_modules()]
    assert names == [n for n, _ in torch.nn.TransformerDecoderLayer(E, H).named_modules()]


def test_dropout_in_training_mode():
    m = nn.TransformerEncoderLayer(E, H, FF, dropout=0.5)
    x = genesis.randn(4, 2, E)
    genesis.manual_seed(1)
    a = m(x)
    genesis.manual_seed(1)
    b = m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.eval()
    c = m(x)
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())
    np.testing.assert_array_equal(c.detach().numpy(), m(x).detach().numpy())


def test_gradcheck_encoder_and_decoder_layers():
    enc = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu",
                                     norm_first=True).to(dtype=genesis.float64)
    dec = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0).to(dtype=genesis.float64)
    x = genesis.randn(3, 1, 4, dtype=genesis.float64, requires_grad=True)
    mem = genesis.randn(2, 1, 4, dtype=genesis.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=genesis.float64)
    assert genesis.autograd.gradcheck(lambda a: enc(a, src_mask=mask), [x])
    assert genesis.autograd.gradcheck(lambda a, b: dec(a, b, tgt_mask=mask), [x, mem])


def test_nested_tensor_warning_and_attributes():
    for lib in (genesis, torch):
        with pytest.warns(UserWarning, match="batch_first was not True"):
            enc = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(E, H), 2)
        assert enc.enable_nested_tensor and not enc.use_nested_tensor and enc.num_layers == 2
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            enc = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(E, H), 1,
                                            enable_nested_tensor=False)
        assert not enc.use_nested_tensor


def test_errors_like_torch():
    assert_raises_like_torch(lambda lib: lib.nn.TransformerEncoderLayer(E, H, activation="tanh"),
                             "activation should be relu/gelu, not tanh")
    assert_raises_like_torch(lambda lib: lib.nn.TransformerDecoderLayer(E, 3),
                             "embed_dim must be divisible by num_heads")

    def run(lib, fn):
        lib.manual_seed(0)
        return fn(lib, lib.nn.Transformer(E, H, 1, 1, FF))

    assert_raises_like_torch(lambda lib: run(lib, lambda lib, m: m(
        lib.zeros(3, 2, E), lib.zeros(3, 1, E))), "batch number of src and tgt")
    assert_raises_like_torch(lambda lib: run(lib, lambda lib, m: m(
        lib.zeros(3, 2, E), lib.zeros(3, 2, E + 1))), "feature number")
    layer = {lib: lib.nn.TransformerEncoderLayer(E, H, FF) for lib in (genesis, torch)}
    x = {lib: lib.zeros(3, 2, E) for lib in (genesis, torch)}
    assert_raises_like_torch(lambda lib: layer[lib](x[lib], is_causal=True),
                             "Need attn_mask if specifying the is_causal hint")
    assert_raises_like_torch(lambda lib: layer[lib](x[lib], src_mask=lib.zeros(3, 3,
                                                    dtype=lib.int64)),
                             "only bool and floating types of src_mask")
    assert_raises_like_torch(lambda lib: layer[lib](x[lib], src_mask=lib.zeros(3, 4)),
                             r"2D attn_mask is \(3, 4\), but should be \(3, 3\)")
    assert_raises_like_torch(lambda lib: layer[lib](x[lib], src_mask=lib.zeros(2, 3, 3)),
                             "3D attn_mask")
    assert_raises_like_torch(lambda lib: layer[lib](
        x[lib], src_key_padding_mask=lib.zeros(2, 4, dtype=lib.bool)),
        "key_padded_mask.shape\\[1\\] to be 3")
    with pytest.warns(UserWarning, match="mismatched src_key_padding_mask and src_mask"):
        layer[genesis](x[genesis], src_mask=genesis.zeros(3, 3),
                       src_key_padding_mask=genesis.zeros(2, 3, dtype=genesis.bool))


@pytest.mark.parametrize("norm_first", [False, True])
def test_dropout_one_drops_every_branch_like_torch(norm_first):
    """dropout=1.0 is allowed (as torch): every residual branch is zero, deterministically."""
    g, t = (build(lib, "TransformerDecoderLayer", E, H, FF, dropout=1.0, norm_first=norm_first)
            for lib in (genesis, torch))
    copy_weights(g, t)
    (y, ty), (mem, tmem) = pair(seq(False, 2, 3, 1)), pair(seq(False, 2, 4, 2))
    check(g, t, g(y, mem), t(ty, tmem), [(y, ty), (mem, tmem)])
    q = genesis.ones(1, 2, 4)
    assert not genesis.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=1.0
                                                                  ).numpy().any()
