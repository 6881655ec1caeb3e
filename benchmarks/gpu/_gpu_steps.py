"""Training-step rows of the GPU benchmark: an MLP in float32 and under autocast, and
Example 2's transformer. Both libraries start from the same weights (PyTorch's initial ones
copied into Genesis, as the CPU benchmarks do with ``_twins.copy_weights``); the first step
of each side is the check, later steps are timed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import genesis.nn as gnn
import genesis.optim
import numpy as np
import torch
from _gpu_bench import Bench
from _twins import (  # benchmarks/ (on the path: bench_triton.py)
    amp_step,
    copy_weights,
    cross_entropy,
    training_optimizers,
    training_step,
)

# a float32 step with IEEE matmuls on both sides: the loss and gradients agree to ~1e-6; the
# first Adam update is ~lr * sign(grad), compared in L2 so a sign flip of a gradient near 0
# (one element among millions) does not count
LOSS_TOL, GRAD_TOL, UPDATE_TOL = 1e-4, 1e-3, 1e-2
# under autocast each side rounds matmuls to 8 (bfloat16) or 11 (float16) bits: the issue's
# loose loss tolerance, and bench_amp.py's measured bound for gradients (L2)
AMP_LOSS_TOL, AMP_GRAD_TOL = 2e-2, 0.15


def mlp(nn, width: int, depth: int):
    mods = []
    for _ in range(depth):
        mods += [nn.Linear(width, width), nn.GELU()]
    return nn.Sequential(*mods, nn.Linear(width, 10))


def twin_mlps(b: Bench, width: int, depth: int):
    """(Genesis MLP on "cuda", the PyTorch one on the torch device), same weights."""
    torch.manual_seed(0)
    t_model, g_model = mlp(torch.nn, width, depth), mlp(gnn, width, depth)
    copy_weights(t_model, g_model, genesis)
    return g_model.to("cuda"), t_model.to(b.torch_device)


def batch(b: Bench, size: int, width: int):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((size, width)).astype(np.float32)
    y = rng.integers(0, 10, size)
    return (genesis.tensor(x, device="cuda"), genesis.tensor(y, device="cuda"),
            torch.tensor(x, device=b.torch_device), torch.tensor(y, device=b.torch_device))


def sizes(b: Bench) -> tuple[int, int, int]:
    """(batch, width, depth) of the MLP rows."""
    return (16, 32, 2) if b.smoke else (8192, 2048, 4)


def bench_mlp(b: Bench) -> None:
    size, width, depth = sizes(b)
    g_model, t_model = twin_mlps(b, width, depth)
    opt = genesis.optim.AdamW(g_model.parameters(), lr=1e-4, fused=True)
    t_opt = torch.optim.AdamW(t_model.parameters(), lr=1e-4, fused=True)
    x, y, tx, ty = batch(b, size, width)
    g_step = training_step(genesis, g_model, opt, x, y, cross_entropy, None)
    t_step = training_step(torch, t_model, t_opt, tx, ty, cross_entropy, None)

    w0, t_w0 = g_model[0].weight.detach().clone(), t_model[0].weight.detach().clone()
    (g_loss, g_grads), (t_loss, t_grads) = g_step(), t_step()
    b.check("mlp loss", g_loss.item(), t_loss.item(), LOSS_TOL)
    b.check("mlp first-layer grad", g_grads["0.weight"], t_grads["0.weight"], GRAD_TOL)
    b.check("mlp first-layer update", g_model[0].weight.detach() - w0,
            t_model[0].weight.detach() - t_w0, UPDATE_TOL, "l2")
    b.row("mlp", f"train step b{size} {depth}x{width} GELU float32, AdamW", g_step, t_step,
          1 if b.smoke else 5, work=6 * size * (depth * width * width + width * 10),
          unit="TFLOP/s")


def bench_amp(b: Bench) -> None:
    """bfloat16 autocast (no scaler, as bfloat16 needs none), and float16 autocast with a
    GradScaler; PyTorch's torch.autocast and torch.amp.GradScaler on the other side."""
    size, width, depth = sizes(b)
    x, y, tx, ty = batch(b, size, width)
    for name, scaled in (("bfloat16", False), ("float16", True)):
        g_model, t_model = twin_mlps(b, width, depth)
        opt = genesis.optim.AdamW(g_model.parameters(), lr=1e-4, fused=True)
        t_opt = torch.optim.AdamW(t_model.parameters(), lr=1e-4, fused=True)
        g_step = amp_step(genesis, g_model, opt, x, y, True, "cuda", getattr(genesis, name),
                          scaled)
        t_step = amp_step(torch, t_model, t_opt, tx, ty, True, b.torch_device,
                          getattr(torch, name), scaled)
        (g_loss, g_dtype, g_grads), (t_loss, t_dtype, t_grads) = g_step(), t_step()
        b.check_equal(f"amp {name} logits dtype", (g_dtype, t_dtype), (name, name))
        b.check(f"amp {name} loss", g_loss.item(), t_loss.item(), AMP_LOSS_TOL)
        # after scaler.step the gradients are unscaled in place on both sides
        b.check(f"amp {name} first-layer grad", g_grads["0.weight"], t_grads["0.weight"],
                AMP_GRAD_TOL, "l2")
        label = "autocast bfloat16" if not scaled else "autocast float16 + GradScaler"
        b.row("amp", f"train step b{size} {depth}x{width} GELU, {label}, AdamW", g_step,
              t_step, 1 if b.smoke else 5,
              work=6 * size * (depth * width * width + width * 10), unit="TFLOP/s")
        del g_model, t_model, opt, t_opt


def bench_transformer(b: Bench) -> None:
    """Example 2's model and step (AdamW with its betas, eps and weight decay, clipping at 1)
    at its default size, as in bench_core.py's CPU row; report only."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    from bench_core import TorchCharTransformer
    from train_charlm import CharTransformer

    batch_size, block, vocab = (2, 8, 20) if b.smoke else (32, 64, 96)
    size = ({"d_model": 16, "n_heads": 2, "n_layers": 1} if b.smoke
            else {"d_model": 128, "n_heads": 4, "n_layers": 2})
    genesis.manual_seed(0)
    g_model = CharTransformer(vocab, block, dropout=0.0, **size)
    t_model = TorchCharTransformer(vocab, block, **size)
    copy_weights(g_model, t_model, torch)
    g_model, t_model = g_model.to("cuda"), t_model.to(b.torch_device)
    hyper = {"lr": 1e-3, "betas": (0.9, 0.98), "eps": 1e-9, "weight_decay": 0.01}
    g_opt, t_opt, _ = training_optimizers("AdamW", g_model.parameters(), t_model.parameters(),
                                          **hyper)
    rng = np.random.default_rng(0)
    ids, target = (rng.integers(0, vocab, (batch_size, block)) for _ in range(2))
    g_step = training_step(genesis, g_model, g_opt, genesis.tensor(ids, device="cuda"),
                           genesis.tensor(target, device="cuda"), cross_entropy, 1.0)
    t_step = training_step(torch, t_model, t_opt, torch.tensor(ids, device=b.torch_device),
                           torch.tensor(target, device=b.torch_device), cross_entropy, 1.0)
    (g_loss, g_grads), (t_loss, t_grads) = g_step(), t_step()
    b.check("transformer loss", g_loss.item(), t_loss.item(), LOSS_TOL)
    for name in ("tok.weight", "blocks.0.attn.qkv.weight", "head.weight"):
        b.check(f"transformer grad {name}", g_grads[name], t_grads[name], GRAD_TOL, "l2")
    d, layers = size["d_model"], size["n_layers"]
    b.row("transformer", f"Example 2 step, {batch_size}x{block} tokens, d_model {d}, "
          f"{layers} layers, AdamW + clipping, float32", g_step, t_step, 1 if b.smoke else 10)
