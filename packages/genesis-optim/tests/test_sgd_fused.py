"""The CPU backend's fused ``sgd_step`` and the composite tensor-op path agree, and both
match torch.optim.SGD over 10 steps (options grid, float32)."""

import itertools

import genesis
import genesis.optim as optim
import numpy as np
import pytest
import torch
from genesis.testing import composite_only

OPTIONS = [dict(momentum=m, dampening=d, nesterov=n, weight_decay=w, maximize=x)
           for m, d, n, w, x in itertools.product((0.0, 0.9), (0.0, 0.2), (False, True),
                                                  (0.0, 0.01), (False, True))
           if not (n and (m == 0 or d != 0))]


def run(lib, options, steps=10):
    rng = np.random.default_rng(0)
    shapes = [(300, 700), (700,), (5, 3)]  # the first is large enough for the threaded path
    if lib == "torch":
        params = [torch.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]
        opt = torch.optim.SGD(params, lr=0.05, **options)
    else:
        params = [genesis.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]
        opt = optim.SGD(params, lr=0.05, **options)
    for step in range(steps):
        g = np.random.default_rng(100 + step)
        for p in params:
            grad = g.standard_normal(p.shape).astype(np.float32)
            p.grad = torch.tensor(grad) if lib == "torch" else genesis.tensor(grad)
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("options", OPTIONS,
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_fused_and_composite_sgd_match_torch(options):
    assert "sgd_step" in genesis.device("cpu").backend.capabilities.fused
    fused = run("genesis", options)
    with composite_only("cpu"):
        composite = run("genesis", options)
    reference = run("torch", options)
    for f, c, r in zip(fused, composite, reference):
        np.testing.assert_allclose(f, c, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(f, r, rtol=1e-5, atol=1e-6)
