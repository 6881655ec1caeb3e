"""The parity workload: the same genesis ops on fixed inputs, on whichever mode is active.

``python parity_script.py out.npz`` with ``TRITON_INTERPRET=1`` writes the
interpreter's results; ``test_gpu.py`` runs ``outputs()`` on the GPU and
compares. ``data/parity_interpreter.npz`` holds this script's interpreter
results (triton 3.9), used where the local triton's interpreter cannot run it
(triton 3.6's interpreter fails on loops with runtime bounds under numpy 2.x).
Regenerate it with ``TRITON_INTERPRET=1 python parity_script.py data/parity_interpreter.npz``.
"""

import sys

import genesis
import genesis.nn.functional as F
import numpy as np


def outputs():
    """Results of a fixed mix of primitives and fused ops on seeded inputs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((33, 130)).astype(np.float32)
    w = rng.standard_normal((130, 70)).astype(np.float32)
    t = genesis.tensor(x, device="cuda")
    tw = genesis.tensor(w, device="cuda")
    target = genesis.tensor(rng.integers(0, 130, 33), device="cuda")
    genesis.manual_seed(11)
    out = {
        "add_strided": (t.t()[::2] + 1.5).numpy(),
        "exp_bf16": t.to(genesis.bfloat16).exp().to(genesis.float32).numpy(),
        "tanh_f64": t.to(genesis.float64).tanh().numpy(),
        "pow": (t.abs() ** 1.7).numpy(),
        "sum_rows": t.sum(1).numpy(),
        "amax_cols": t.amax(0).numpy(),
        "argmax": t.argmax(1).numpy(),
        "matmul_f32": (t @ tw).numpy(),
        "matmul_f16": (t.half() @ tw.half()).float().numpy(),
        "matmul_bf16": (t.to(genesis.bfloat16) @ tw.to(genesis.bfloat16)).float().numpy(),
        "softmax": F.softmax(t, -1).numpy(),
        "log_softmax_dim0": F.log_softmax(t, 0).numpy(),
        "layer_norm": F.layer_norm(t, (130,)).numpy(),
        "cross_entropy": F.cross_entropy(t, target).numpy(),
        "gather": genesis.gather(t, 1, target[:, None]).numpy(),
        "rand": genesis.rand(1000, device="cuda").numpy(),
        "randn": genesis.randn(1000, device="cuda").numpy(),
    }
    return out

if __name__ == "__main__":
    np.savez(sys.argv[1], **outputs())
