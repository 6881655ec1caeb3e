"""The CPU backend's fused ``adamw_step`` kernel: dispatch, agreement with the composite path
and torch (compiled and numpy-reference kernels, serial and parallel), blocks and threads,
strided and mixed-dtype inputs, fallback."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from genesis.optim import Adam, AdamW
from genesis_backend_cpu import _compiled, _optim_steps, fused

TOL = {genesis.float32: {"rtol": 2e-5, "atol": 2e-6}, genesis.float64: {"rtol": 1e-12,
                                                                        "atol": 1e-13}}
TORCH = {genesis.float32: torch.float32, genesis.float64: torch.float64}


def _run_three(shapes, dtype, cls_name, kwargs, steps=6, seed=0):
    """Params after ``steps`` steps of the fused path, the composite path and torch."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]
    out = {}
    for path in ("fused", "composite"):
        params = [genesis.tensor(a, dtype=dtype, requires_grad=True) for a in init]
        opt = {"Adam": Adam, "AdamW": AdamW}[cls_name](params, fused=path == "fused", **kwargs)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = genesis.tensor(g, dtype=dtype)
            opt.step()
        out[path] = [p.detach().numpy() for p in params]
    params = [torch.tensor(a, dtype=TORCH[dtype], requires_grad=True) for a in init]
    opt = getattr(torch.optim, cls_name)(params, **kwargs)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = torch.tensor(g, dtype=TORCH[dtype])
        opt.step()
    out["torch"] = [p.detach().numpy() for p in params]
    return out


def test_kernel_is_registered_on_the_cpu_backend():
    assert genesis.device("cpu").backend.capabilities.fused["adamw_step"] is \
        _optim_steps.adamw_step


@pytest.fixture(params=["compiled", "numpy"])
def kernel_path(request, monkeypatch):
    """Run the compiled kernels or (``GENESIS_CPU_COMPILED=0``) the numpy references, with
    thresholds low enough that the parallel kernels and the blocked thread pool run."""
    monkeypatch.setattr(_compiled, "ENABLED", request.param == "compiled")
    monkeypatch.setattr(_compiled, "COMPILED_MIN", 0)  # the small test tensors too
    monkeypatch.setattr(_optim_steps, "BLOCK", 1000)  # many blocks, uneven last block
    monkeypatch.setattr(_optim_steps, "PARALLEL_MIN", 2000)
    return request.param


@pytest.mark.parametrize("dtype", [genesis.float32, genesis.float64])
@pytest.mark.parametrize("cls_name", ["Adam", "AdamW"])
@pytest.mark.parametrize("kwargs", [{}, {"amsgrad": True}, {"weight_decay": 0.1},
                                    {"weight_decay": 0.1, "maximize": True, "amsgrad": True}],
                         ids=["plain", "amsgrad", "wd", "wd-maximize-amsgrad"])
def test_fused_matches_composite_and_torch_across_blocks_and_threads(dtype, cls_name, kwargs,
                                                                     kernel_path):
    out = _run_three([(37, 101), (3000,), (5,)], dtype, cls_name, {"lr": 0.01, **kwargs})
    for a, b, c in zip(out["fused"], out["composite"], out["torch"]):
        np.testing.assert_allclose(a, c, **TOL[dtype])
        np.testing.assert_allclose(a, b, **TOL[dtype])


def test_adam_uses_the_kernel_automatically_and_not_when_disabled(monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return _optim_steps.adamw_step(*args, **kwargs)

    monkeypatch.setitem(fused.KERNELS, "adamw_step", spy)
    w = genesis.randn(4, 3, requires_grad=True)
    w.grad = genesis.ones_like(w)
    AdamW([w]).step()
    assert len(calls) == 1 and calls[0]["decoupled"] is True and calls[0]["steps"] == [1.0]
    Adam([w], fused=False).step()
    assert len(calls) == 1


def test_strided_and_mixed_dtype_inputs_take_the_whole_array_path(kernel_path):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((6, 4)).astype(np.float32)
    grad = rng.standard_normal((4, 6)).astype(np.float32)
    results = []
    for fused_flag in (True, False):
        p = genesis.tensor(base, requires_grad=True)
        opt = AdamW([p], lr=0.1, fused=fused_flag)
        opt.state[p].update(step=0.0, exp_avg=genesis.zeros(4, 6, dtype=genesis.float64).t(),
                            exp_avg_sq=genesis.zeros(6, 4, dtype=genesis.float64))
        for _ in range(3):
            p.grad = genesis.tensor(grad).t()  # non-contiguous gradient
            opt.step()
        assert opt.state[p]["exp_avg"].dtype is genesis.float64
        results.append(p.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)


def test_unsupported_dtype_falls_back_to_the_composite_path():
    w = genesis.randn(8, dtype=genesis.bfloat16, requires_grad=True)
    w.grad = genesis.ones_like(w)
    assert _optim_steps.adamw_step([w], [w.grad], [genesis.zeros_like(w)], [genesis.zeros_like(w)],
                            None, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0,
                            steps=[1.0], amsgrad=False, maximize=False) is NotImplemented
    before = w.detach().float().numpy()
    AdamW([w], lr=0.1).step()
    assert not np.array_equal(w.detach().float().numpy(), before)
    with pytest.raises(RuntimeError, match="fused=True.*bfloat16"):
        AdamW([w], lr=0.1, fused=True).step()


def test_split_balances_elements():
    jobs = [(0, s, min(s + 10, 95)) for s in range(0, 95, 10)] + [(1, 0, 5)]
    parts = _optim_steps._split(jobs, 100, 2)
    assert [job for part in parts for job in part] == jobs
    sizes = [sum(stop - start for _, start, stop in part) for part in parts]
    assert len(parts) == 2 and abs(sizes[0] - sizes[1]) <= 10
