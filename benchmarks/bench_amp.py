"""Mixed precision on the CPU: a training step in float32 and under ``autocast("cpu")``
(bfloat16) with a ``GradScaler``, Genesis next to PyTorch, in one process.

The nets are bench_layer_steps.py's (same source for both libraries, PyTorch's initial
weights copied into Genesis), the two libraries alternating round by round. On the CPU
Genesis computes bfloat16 matmuls in float32 and rounds (numpy has no half-precision BLAS),
so its autocast step is expected to be slower than its float32 step: what matters here is
that it is correct (tests/test_autocast_table.py) and how much it costs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _harness import median_pair, print_table  # noqa: E402
from bench_layer_steps import mnist_net, transformer_encoder  # noqa: E402


def step_pair(build, make_input, amp: bool):
    rng = np.random.default_rng(0)
    x = make_input(rng)
    y = rng.integers(0, 10, x.shape[0])
    t_model, g_model = build(torch), build(genesis)
    g_model.load_state_dict({k: genesis.tensor(v.detach().numpy())
                             for k, v in t_model.state_dict().items()})

    def run(lib, model, inputs, target):
        opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
        scaler = lib.amp.GradScaler("cpu", enabled=amp)

        def step():
            with lib.autocast("cpu", enabled=amp):
                loss = lib.nn.functional.cross_entropy(model(inputs), target)
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return step

    return (run(genesis, g_model, genesis.tensor(x), genesis.tensor(y)),
            run(torch, t_model, torch.tensor(x), torch.tensor(y)))


CASES = [
    ("MNIST net step (64)", mnist_net,
     lambda rng: rng.standard_normal((64, 1, 28, 28)).astype(np.float32)),
    ("2-layer Transformer enc. step (32x64)", transformer_encoder,
     lambda rng: rng.integers(0, 1000, (32, 64))),
]


def main() -> None:
    rows = []
    for name, build, make_input in CASES:
        for amp in (False, True):
            g, t = median_pair(*step_pair(build, make_input, amp), rounds=7)
            rows.append((f"{name}, {'autocast' if amp else 'float32'}", g, t, "s"))
    print_table("Genesis vs PyTorch: float32 and autocast training steps (CPU)", rows)


if __name__ == "__main__":
    main()
