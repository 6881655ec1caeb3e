"""The parity workload: the same genesis ops on fixed inputs, in whichever mode is active.

``python parity_script.py out.npz`` with ``TRITON_INTERPRET=1`` writes the
interpreter's results; ``test_gpu.py`` runs ``outputs()`` on the GPU, runs
this script in the interpreter of the same triton, and compares the two
within ``allowed_difference`` (the rounding-error bound of each computation).
``float64_reference`` gives the exact answers, so a failure says which side
is off.
"""

import os
import subprocess
import sys
from pathlib import Path

import genesis
import genesis.nn.functional as F
import numpy as np

#: results that involve no rounding (or the same rounding on both sides): equal bit for bit
EXACT = ("add_strided", "amax_cols", "argmax", "gather", "rand")
#: unit roundoff of float32 and one unit in the last place, relative, of the half types
U32 = 2.0**-24
ULP = {"float16": 2.0**-10, "bfloat16": 2.0**-7}


def inputs() -> dict:
    """Seeded float32 inputs and integer targets."""
    rng = np.random.default_rng(0)
    return {"x": rng.standard_normal((33, 130)).astype(np.float32),
            "w": rng.standard_normal((130, 70)).astype(np.float32),
            "target": rng.integers(0, 130, 33)}


def outputs() -> dict:
    """Results of a fixed mix of primitives and fused ops on the seeded inputs."""
    data = inputs()
    t = genesis.tensor(data["x"], device="cuda")
    tw = genesis.tensor(data["w"], device="cuda")
    target = genesis.tensor(data["target"], device="cuda")
    genesis.manual_seed(11)
    return {
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


def _half(a: np.ndarray, name: str) -> np.ndarray:
    import ml_dtypes
    dtype = np.float16 if name == "float16" else ml_dtypes.bfloat16
    return a.astype(dtype).astype(np.float64)


def _log_softmax(a: np.ndarray, axis: int) -> np.ndarray:
    shifted = a - a.max(axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis, keepdims=True))


def float64_reference() -> dict:
    """The exact answers (numpy float64) for every output that is not random."""
    data = inputs()
    x, w = data["x"].astype(np.float64), data["w"].astype(np.float64)
    target = data["target"]
    ls = _log_softmax(x, 1)
    mean = x.mean(1, keepdims=True)
    return {
        "add_strided": x.T[::2] + 1.5,
        "exp_bf16": np.exp(_half(x, "bfloat16")),
        "tanh_f64": np.tanh(x),
        "pow": np.abs(x) ** np.float64(np.float32(1.7)),
        "sum_rows": x.sum(1),
        "amax_cols": x.max(0),
        "argmax": x.argmax(1),
        "matmul_f32": x @ w,
        "matmul_f16": _half(x, "float16") @ _half(w, "float16"),
        "matmul_bf16": _half(x, "bfloat16") @ _half(w, "bfloat16"),
        "softmax": np.exp(ls),
        "log_softmax_dim0": _log_softmax(x, 0),
        "layer_norm": (x - mean) / np.sqrt(((x - mean) ** 2).mean(1, keepdims=True) + 1e-5),
        "cross_entropy": -ls[np.arange(len(target)), target].mean(),
        "gather": np.take_along_axis(x, target[:, None], 1),
    }


def allowed_difference(name: str, reference: np.ndarray) -> np.ndarray:
    """How far the GPU may be from the interpreter for output ``name``, elementwise.

    Sums and matmuls may add in another order: the classic bound ``n u sum|terms|``
    (``u`` float32's unit roundoff), plus one ulp of a half-precision result that the
    two orders may round to neighbouring values. Elementwise float32 functions may use
    the GPU's approximate exp/log (a few ulps); float64 ones are correctly rounded to
    about 1e-15 on both sides.
    """
    data = inputs()
    x, w = np.abs(data["x"].astype(np.float64)), np.abs(data["w"].astype(np.float64))
    ref = np.abs(reference.astype(np.float64))
    if name in EXACT:
        return np.zeros_like(ref)
    if name == "sum_rows":
        return x.shape[1] * U32 * x.sum(1)
    if name.startswith("matmul"):
        bound = w.shape[0] * U32 * (x @ w)
        half = {"matmul_f16": "float16", "matmul_bf16": "bfloat16"}.get(name)
        return bound + (ULP[half] * ref if half else 0)
    if name == "exp_bf16":
        return ULP["bfloat16"] * ref
    if name == "tanh_f64":
        return 1e-12 * (1 + ref)
    if name in ("pow", "randn"):  # float64 inside, one float32 rounding at the end
        return 4 * U32 * (1 + ref)
    return 1e-6 + 1e-5 * ref  # softmax, log_softmax, layer_norm, cross_entropy


def interpreter_outputs(path: Path) -> dict:
    """:func:`outputs` computed by this triton's interpreter, in a fresh process."""
    env = dict(os.environ, TRITON_INTERPRET="1")
    env.pop("GENESIS_TRITON_GPU", None)
    subprocess.run([sys.executable, __file__, str(path)], env=env, check=True)
    with np.load(path) as saved:
        return dict(saved)


def report(gpu: dict, interpreted: dict) -> list:
    """One line per output whose GPU and interpreter results differ by more than allowed,
    with each side's distance from the float64 answer (where there is one)."""
    truth = float64_reference()
    lines = []
    for name in sorted(gpu):
        g, i = gpu[name].astype(np.float64), interpreted[name].astype(np.float64)
        if g.shape != i.shape:
            lines.append(f"{name}: gpu shape {g.shape}, interpreter shape {i.shape}")
            continue
        excess = np.abs(g - i) - allowed_difference(name, interpreted[name])
        if (excess <= 0).all():
            continue
        at = np.unravel_index(np.argmax(excess), excess.shape)
        line = (f"{name}: |gpu - interpreter| exceeds the bound by {excess.max():.3g} at {at}: "
                f"gpu {g[at]!r}, interpreter {i[at]!r}")
        if name in truth:
            exact = np.asarray(truth[name], np.float64)
            line += (f", float64 {exact[at]!r}; max error vs float64: gpu "
                     f"{np.abs(g - exact).max():.3g}, interpreter {np.abs(i - exact).max():.3g}")
        lines.append(line)
    return lines


if __name__ == "__main__":
    np.savez(sys.argv[1], **outputs())
