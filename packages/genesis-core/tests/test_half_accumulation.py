"""Half-precision reductions accumulate in float32 and round once, as PyTorch does.

Each case reduces the same float16/bfloat16 values in Genesis and in PyTorch and measures
both results' largest error against the exact (float64) reduction of those values: Genesis
must be within about twice PyTorch's error, not within a hard-coded number.
"""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch

SHAPE = (4096, 512)
REDUCTIONS = {
    "sum_dim0": (lambda x: x.sum(0), lambda a: a.sum(0)),
    "sum_dim1": (lambda x: x.sum(1), lambda a: a.sum(1)),
    "sum_all": (lambda x: x.sum(), lambda a: a.sum()),
    "mean_dim0": (lambda x: x.mean(0), lambda a: a.mean(0)),
    "mean_dim1": (lambda x: x.mean(1), lambda a: a.mean(1)),
    "mean_all": (lambda x: x.mean(), lambda a: a.mean()),
    "var_dim0": (lambda x: x.var(0), lambda a: a.var(0, ddof=1)),
    "var_dim1_biased": (lambda x: x.var(1, correction=0), lambda a: a.var(1)),
    "std_dim0": (lambda x: x.std(0), lambda a: a.std(0, ddof=1)),
    "std_all": (lambda x: x.std(), lambda a: a.std(ddof=1)),
}
# (mean, spread) of the inputs: centred, and offset (a large mean: cancellation in var/std,
# stalled half accumulation in sums)
INPUTS = {"centred": (0.0, 1.0), "offset": (3.0, 0.5)}
# the offset inputs' full sum (~6.3e6) is past float16's range (inf in both libraries)
CASES = [(dtype, inputs, name) for dtype in ("float16", "bfloat16") for inputs in sorted(INPUTS)
         for name in sorted(REDUCTIONS)
         if (dtype, inputs, name) != ("float16", "offset", "sum_all")]


def _half_input(dtype: str, loc: float, scale: float) -> torch.Tensor:
    rng = np.random.default_rng(9)
    return torch.from_numpy(rng.normal(loc, scale, SHAPE)).to(getattr(torch, dtype))


def _max_error(got: np.ndarray, exact: np.ndarray) -> float:
    return float(np.max(np.abs(got.astype(np.float64) - exact)))


@pytest.mark.parametrize(("dtype", "inputs", "name"), CASES)
def test_half_reduction_error_is_torch_level(dtype, inputs, name):
    fn, ref = REDUCTIONS[name]
    tx = _half_input(dtype, *INPUTS[inputs])
    values = tx.double().numpy()  # the half values exactly
    gx = genesis.tensor(tx.float().numpy()).to(getattr(genesis, dtype))
    exact = ref(values)
    got = fn(gx)
    assert got.dtype is getattr(genesis, dtype)
    genesis_err = _max_error(got.to(genesis.float64).numpy(), exact)
    torch_err = _max_error(fn(tx).double().numpy(), exact)
    scale = float(np.max(np.abs(exact)))
    assert genesis_err <= 2 * torch_err + 1e-6 * scale, (genesis_err, torch_err)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_prod_rounds_once(dtype):
    tx = _half_input(dtype, 1.0, 0.05)[:64, :32]
    gx = genesis.tensor(tx.float().numpy()).to(getattr(genesis, dtype))
    exact = tx.double().numpy().prod(0)
    genesis_err = _max_error(gx.prod(0).to(genesis.float64).numpy(), exact)
    torch_err = _max_error(tx.prod(0).double().numpy(), exact)
    assert genesis_err <= 2 * torch_err + 1e-6 * float(np.max(np.abs(exact)))


def test_half_sum_past_the_range_is_inf_without_a_warning():
    x = genesis.full((4, 40000), 2.0, dtype=genesis.float16)
    with np.errstate(all="raise"):
        assert x.sum().item() == float("inf")
    assert x.sum(1).numpy().tolist() == [float("inf")] * 4


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["mean_dim0", "var_dim1_biased", "std_dim0"])
def test_half_reduction_gradients_match_torch(dtype, name):
    fn = REDUCTIONS[name][0]
    rng = np.random.default_rng(3)
    tx = torch.from_numpy(rng.normal(1.0, 1.0, (16, 8))).to(getattr(torch, dtype))
    g = torch.from_numpy(rng.standard_normal(8 if name != "var_dim1_biased" else 16))
    tx.requires_grad_(True)
    gx = genesis.tensor(tx.detach().float().numpy()).to(getattr(genesis, dtype))
    gx.requires_grad_(True)
    (fn(tx).double() * g).sum().backward()
    (fn(gx).to(genesis.float64) * genesis.tensor(g.numpy())).sum().backward()
    assert gx.grad.dtype is getattr(genesis, dtype)
    tol = 1e-2 if dtype == "float16" else 4e-2
    np.testing.assert_allclose(gx.grad.to(genesis.float64).numpy(),
                               tx.grad.double().numpy(), rtol=tol, atol=tol)
