"""Transformer layers on "cuda" (the interpreter here, a GPU where present) agree with the CPU
backend: outputs, input and parameter gradients of tiny configurations, with masks, padding
(including a batch row whose keys are all padded) and the eval paths."""

import copy

import genesis
import genesis.nn as nn
import numpy as np
import pytest


def run(model, inputs, kwargs, device):
    m = copy.deepcopy(model).to(device)
    xs = [genesis.tensor(a, device=device, requires_grad=m.training) for a in inputs]
    kw = {k: genesis.tensor(v, device=device) for k, v in kwargs.items()}
    with genesis.set_grad_enabled(m.training):  # eval without autograd: PyTorch's fast path
        out = m(*xs, **kw)
    w = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    if m.training:
        (out * genesis.tensor(w, device=device)).sum().backward()
    return (out.detach().numpy(), [x.grad.numpy() for x in xs if x.grad is not None],
            [p.grad.numpy() for p in m.parameters() if p.grad is not None])


def check(model, inputs, kwargs):
    out_c, gx_c, gp_c = run(model, inputs, kwargs, "cpu")
    out_g, gx_g, gp_g = run(model, inputs, kwargs, "cuda")
    np.testing.assert_allclose(out_g, out_c, rtol=1e-4, atol=1e-5, equal_nan=True)
    assert len(gx_g) == len(gx_c) and len(gp_g) == len(gp_c)
    for a, b in zip(gx_g + gp_g, gx_c + gp_c):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def padding():
    p = np.zeros((2, 3), bool)
    p[0, 2] = True
    p[1, :] = True  # every key of batch row 1 is padded
    return p


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_on_cuda_matches_cpu(norm_first):
    genesis.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=norm_first)
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    check(layer, [x], {"src_key_padding_mask": padding()})
    out_c = run(layer.eval(), [x], {"src_key_padding_mask": padding()}, "cpu")[0]
    assert np.isnan(out_c[1]).all() and np.isfinite(out_c[0]).all()  # as PyTorch
    check(layer, [x], {"src_key_padding_mask": padding()})


def test_transformer_on_cuda_matches_cpu():
    genesis.manual_seed(0)
    model = nn.Transformer(4, 2, 1, 1, 6, dropout=0.0)
    rng = np.random.default_rng(0)
    src = rng.standard_normal((3, 2, 4)).astype(np.float32)
    tgt = rng.standard_normal((2, 2, 4)).astype(np.float32)
    mask = nn.Transformer.generate_square_subsequent_mask(2).numpy()
    check(model, [src, tgt], {"tgt_mask": mask, "memory_key_padding_mask": padding()})
