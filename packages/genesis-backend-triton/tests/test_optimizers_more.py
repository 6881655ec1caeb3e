"""genesis.optim's Adamax, Adadelta, NAdam, RAdam, Rprop, ASGD and LBFGS on device "cuda".

The optimizers are composites of tensor ops, so they run on every backend: a few
steps on tiny parameters here must give the CPU backend's parameters and state.
"""

import genesis
import genesis.optim as optim
import numpy as np
import pytest

SHAPES = ((3, 2), (4,))
CASES = {
    "Adamax": {"lr": 0.05, "weight_decay": 0.1},
    "Adadelta": {"lr": 0.5, "weight_decay": 0.1, "maximize": True},
    "NAdam": {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True},
    "RAdam": {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1},
    "Rprop": {"lr": 0.05, "etas": (0.4, 1.5), "step_sizes": (0.01, 0.2)},
    "ASGD": {"lr": 0.05, "lambd": 0.1, "t0": 2, "weight_decay": 0.1},
}


def _run(name, kwargs, device, steps=4):
    rng = np.random.default_rng(0)
    params = [genesis.tensor(rng.standard_normal(s), dtype=genesis.float32, device=device,
                             requires_grad=True) for s in SHAPES]
    opt = getattr(optim, name)(params, **kwargs)
    for _ in range(steps):
        for p in params:
            p.grad = genesis.tensor(rng.standard_normal(p.shape), dtype=genesis.float32,
                                    device=device)
        opt.step()
    return params, opt


@pytest.mark.parametrize("name", list(CASES))
def test_matches_cpu_backend(name):
    cuda_params, cuda_opt = _run(name, CASES[name], "cuda")
    cpu_params, cpu_opt = _run(name, CASES[name], "cpu")
    for a, b in zip(cuda_params, cpu_params):
        assert a.device == genesis.device("cuda")
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
        sa, sb = cuda_opt.state[a], cpu_opt.state[b]
        assert set(sa) == set(sb)
        for key, value in sb.items():
            if isinstance(value, genesis.Tensor):
                assert sa[key].device == genesis.device("cuda")
                np.testing.assert_allclose(sa[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6)
            else:
                assert sa[key] == value


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_matches_cpu_backend(line_search_fn):
    target = np.array([1.0, -2.0, 0.5, 3.0])
    found = []
    for device in ("cuda", "cpu"):
        x = genesis.zeros(4, dtype=genesis.float32, device=device, requires_grad=True)
        opt = optim.LBFGS([x], lr=0.5, max_iter=3, history_size=2,
                          line_search_fn=line_search_fn)

        def closure(opt=opt, x=x, device=device):
            opt.zero_grad()
            loss = (((x - genesis.tensor(target, dtype=genesis.float32, device=device)) ** 2)
                    * genesis.tensor([1.0, 2.0, 3.0, 4.0], device=device)).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        found.append(x.detach().numpy())
    np.testing.assert_allclose(found[0], found[1], rtol=1e-5, atol=1e-6)
