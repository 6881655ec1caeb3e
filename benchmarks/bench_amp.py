"""Mixed precision on the CPU: a training step in float32 and the same step under
``autocast("cpu")`` (bfloat16) with a ``GradScaler``, Genesis against PyTorch's CPU autocast.

The nets are bench_layer_steps.py's (same source text for both libraries, PyTorch's initial
weights copied into Genesis), optimized by AdamW, PyTorch's fused one. On the CPU Genesis
computes bfloat16 matmuls and convolutions in float32 and rounds the result (numpy has no
half-precision BLAS); PyTorch's bfloat16 CPU kernels are far slower than its float32 ones at
these sizes, which are kept small so this module runs in well under a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import numpy as np
import torch
from _harness import Case, Contest
from _twins import STEP_TOL, amp_step, copy_weights, training_optimizers
from bench_layer_steps import mnist_net, transformer_encoder

# bfloat16 keeps 8 significant bits: measured on these nets, either library's autocast
# gradients are up to ~9% (L2, first conv) from the float32 ones, and Genesis's up to ~7%
# from PyTorch's. The check also compares the logits' dtype, so a step that did not autocast
# fails although its gradients would pass this tolerance.
AMP_TOL = 0.15

TITLE = "Mixed precision: float32 and autocast (bfloat16) training steps"


def amp_contest(build, inputs: np.ndarray, amp: bool) -> Contest:
    target = np.random.default_rng(1).integers(0, 10, inputs.shape[0])
    torch.manual_seed(0)
    t_model, g_model = build(torch), build(genesis)
    copy_weights(t_model, g_model, genesis)
    g_opt, t_opt, label = training_optimizers("AdamW", g_model.parameters(),
                                              t_model.parameters(), lr=1e-3)
    g_model.eval(), t_model.eval()  # dropout masks are random: check without them
    return Contest(
        genesis=amp_step(genesis, g_model, g_opt, genesis.tensor(inputs),
                         genesis.tensor(target), amp),
        torch={label: amp_step(torch, t_model, t_opt, torch.tensor(inputs),
                               torch.tensor(target), amp)},
        tol=AMP_TOL if amp else STEP_TOL,
        after_check=lambda: (g_model.train(), t_model.train()))


def cases(smoke: bool) -> list[Case]:
    images = (2 if smoke else 32, 1, 28, 28)
    ids = (2, 5) if smoke else (16, 32)

    def image_input():
        return np.random.default_rng(0).standard_normal(images).astype(np.float32)

    def id_input():
        return np.random.default_rng(0).integers(0, 1000, ids)

    # the float32 rows are the baseline the autocast rows are read against (no target of
    # their own: bench_layer_steps sets those); PyTorch's CPU autocast is the one to beat
    modes = ((False, "float32", None, "baseline for the autocast row"),
             (True, "autocast bfloat16 + GradScaler", 1.0, ""))
    return [
        Case(f"{net} step, {mode} ({size}, AdamW)",
             lambda build=build, make=make, amp=amp: amp_contest(build, make(), amp),
             target, note)
        for net, build, make, size in (
            ("MNIST example net", mnist_net, image_input, "batch 32"),
            ("2 × TransformerEncoderLayer(128, 4, 512)", transformer_encoder, id_input,
             "16×32 ids"))
        for amp, mode, target, note in modes]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
