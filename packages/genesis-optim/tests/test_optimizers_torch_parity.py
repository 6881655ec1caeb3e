"""Adamax, Adadelta, NAdam, RAdam, Rprop and ASGD match torch.optim step for step.

Every option combination runs 25 steps beside its torch.optim twin (parameters and
every state entry compared); state dicts cross between the two libraries (torch's
exported to numpy and loaded here, ours loaded into torch) and resume exactly.
"""

from __future__ import annotations

import itertools

import genesis
import genesis.optim as optim
import numpy as np
import pytest
import torch
from _optim_compare import DTYPES as DTYPE_PAIRS
from _optim_compare import SHAPES, TOL, assert_matches_torch

DTYPES = ("float32", "float64")


def _grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


def _ids(cases):
    return ["-".join(f"{k}={v}" for k, v in c.items()) for c in cases]


CASES = {
    "Adamax": _grid(lr=(0.01,), betas=((0.9, 0.999), (0.8, 0.95)), weight_decay=(0, 0.1),
                    maximize=(False, True)),
    "Adadelta": _grid(lr=(1.0, 0.5), rho=(0.9, 0.5), weight_decay=(0, 0.1),
                      maximize=(False, True)),
    "NAdam": _grid(lr=(0.01,), betas=((0.9, 0.999), (0.8, 0.95)), weight_decay=(0, 0.1),
                   momentum_decay=(4e-3, 0.05), decoupled_weight_decay=(False, True),
                   maximize=(False, True)),
    # beta2=0.6: rho_t > 5 from step 1 on is never reached, the un-rectified branch runs
    "RAdam": _grid(lr=(0.01,), betas=((0.9, 0.999), (0.8, 0.95), (0.9, 0.6)),
                   weight_decay=(0, 0.1), decoupled_weight_decay=(False, True),
                   maximize=(False, True)),
    "Rprop": _grid(lr=(0.01, 0.3), etas=((0.5, 1.2), (0.3, 1.7)),
                   step_sizes=((1e-6, 50), (0.02, 0.5)), maximize=(False, True)),
    # t0=5: averaging (mu < 1) starts within the 25 steps
    "ASGD": _grid(lr=(0.01, 0.1), lambd=(1e-4, 0.1), alpha=(0.75, 0.5), t0=(1e6, 5),
                  weight_decay=(0, 0.1), maximize=(False, True)),
}
PARAMS = [(name, case) for name, cases in CASES.items() for case in cases]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "case"), PARAMS,
                         ids=[f"{n}-{i}" for n, c in PARAMS for i in _ids([c])])
def test_matches_torch(name, case, dtype):
    assert_matches_torch(name, case, dtype)


@pytest.mark.parametrize("name", list(CASES))
def test_defaults_match_torch(name):
    assert_matches_torch(name, {}, "float32")


NOOP_KWARGS = {"foreach": True, "capturable": True, "differentiable": True}


@pytest.mark.parametrize("name", list(CASES))
def test_torch_only_keywords_accepted_and_kept_in_groups(name):
    case = {**CASES[name][-1], "foreach": False}
    assert_matches_torch(name, case, "float32", genesis_kwargs={
        k: v for k, v in NOOP_KWARGS.items() if k != "foreach"}, steps=5)
    p = genesis.zeros(2, requires_grad=True)
    t = torch.zeros(2, requires_grad=True)
    group = getattr(optim, name)([p]).param_groups[0]
    tgroup = getattr(torch.optim, name)([t]).param_groups[0]
    assert set(group) == set(tgroup)
    assert {k: v for k, v in group.items() if k != "params"} == \
        {k: v for k, v in tgroup.items() if k != "params"}


# -- state dicts across libraries ---------------------------------------------------------

def _to_genesis(obj, dtype):
    if isinstance(obj, torch.Tensor):
        arr = obj.detach().numpy()
        return genesis.tensor(arr, dtype=dtype if arr.ndim else None)
    if isinstance(obj, dict):
        return {k: _to_genesis(v, dtype) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_genesis(v, dtype) for v in obj]
    return obj


def _to_torch(obj, scalar_keys, key=None):
    if isinstance(obj, genesis.Tensor):
        return torch.from_numpy(obj.numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_torch(v, scalar_keys, k) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_torch(v, scalar_keys) for v in obj]
    if key in scalar_keys and isinstance(obj, float):
        return torch.tensor(obj, dtype=torch.float32)
    return obj


def _pair(name, case, dtype, rng):
    gdt, tdt = DTYPE_PAIRS[dtype]
    init = [rng.standard_normal(s) for s in SHAPES]
    gp = [genesis.tensor(a, dtype=gdt, requires_grad=True) for a in init]
    tp = [torch.tensor(a, dtype=tdt, requires_grad=True) for a in init]
    return gp, tp, getattr(optim, name)(gp, **case), getattr(torch.optim, name)(tp, **case)


def _steps(rng, gp, tp, gopt, topt, n):
    gdt, tdt = gp[0].dtype, tp[0].dtype
    for _ in range(n):
        grads = [rng.standard_normal(s) for s in SHAPES]
        for p, g in zip(gp, grads):
            p.grad = genesis.tensor(g, dtype=gdt)
        for p, g in zip(tp, grads):
            p.grad = torch.tensor(g, dtype=tdt)
        gopt.step()
        topt.step()


def _assert_same(gp, tp, gopt, topt, dtype, exact_scalars=True):
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL[dtype])
        gs, ts = gopt.state[a], topt.state[b]
        assert set(gs) == set(ts)
        for key, value in ts.items():
            if isinstance(gs[key], genesis.Tensor):
                np.testing.assert_allclose(gs[key].numpy(), value.numpy(), **TOL[dtype])
            elif exact_scalars:
                assert gs[key] == float(value), key
            else:
                np.testing.assert_allclose(gs[key], float(value), rtol=1e-6, err_msg=key)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_torch_state_dict_loads_and_resumes(name, dtype):
    """torch trains 10 steps; its state dict, exported to numpy, resumes here exactly."""
    case = CASES[name][-1]
    rng = np.random.default_rng(3)
    gp, tp, gopt, topt = _pair(name, case, dtype, rng)
    for _ in range(10):  # torch alone
        for p in tp:
            p.grad = torch.tensor(rng.standard_normal(p.shape), dtype=p.dtype)
        topt.step()
    with genesis.no_grad():
        for a, b in zip(gp, tp):
            a.copy_(genesis.tensor(b.detach().numpy()))
    fresh = getattr(optim, name)(gp, lr=123.0)
    fresh.load_state_dict(_to_genesis(topt.state_dict(), gp[0].dtype))
    assert fresh.param_groups[0]["lr"] == topt.param_groups[0]["lr"]
    assert all(isinstance(v, float) for s in fresh.state.values() for k, v in s.items()
               if k in type(fresh)._scalar_state)
    _assert_same(gp, tp, fresh, topt, dtype)
    _steps(rng, gp, tp, fresh, topt, 15)
    _assert_same(gp, tp, fresh, topt, dtype)


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_loads_into_torch_and_resumes(name):
    case = CASES[name][-1]
    rng = np.random.default_rng(4)
    gp, tp, gopt, topt = _pair(name, case, "float64", rng)
    _steps(rng, gp, tp, gopt, topt, 8)
    sd = gopt.state_dict()
    tsd = topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    assert {k: v for k, v in sd["param_groups"][0].items()} == tsd["param_groups"][0]
    fresh = getattr(torch.optim, name)(tp, lr=123.0)
    fresh.load_state_dict(_to_torch(sd, type(gopt)._scalar_state))
    _steps(rng, gp, tp, gopt, fresh, 12)
    # torch's load_state_dict casts every floating state tensor to the parameter's dtype,
    # so a loaded mu_product (NAdam) / eta, mu (ASGD) is float64 there from now on, where
    # a fresh torch optimizer (and ours) rounds them to float32: equal to float32 precision
    _assert_same(gp, tp, gopt, fresh, "float64", exact_scalars=False)


@pytest.mark.parametrize("name", list(CASES))
def test_checkpoint_resumes_bit_identically(name, tmp_path):
    case = CASES[name][-1]
    rng = np.random.default_rng(5)
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(12)]
    init = [rng.standard_normal(s) for s in SHAPES]

    def run(params, opt, ts):
        for t in ts:
            for p, g in zip(params, grads[t]):
                p.grad = genesis.tensor(g, dtype=p.dtype)
            opt.step()

    straight = [genesis.tensor(a, requires_grad=True) for a in init]
    run(straight, getattr(optim, name)(straight, **case), range(12))
    first = [genesis.tensor(a, requires_grad=True) for a in init]
    opt = getattr(optim, name)(first, **case)
    run(first, opt, range(6))
    path = tmp_path / "opt.safetensors"
    genesis.save({"optimizer": opt.state_dict(), "params": [p.detach() for p in first]}, path)
    ckpt = genesis.load(path)
    resumed = [genesis.tensor(p.numpy(), requires_grad=True) for p in ckpt["params"]]
    opt = getattr(optim, name)(resumed, **case)
    opt.load_state_dict(ckpt["optimizer"])
    run(resumed, opt, range(6, 12))
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_params_without_grad_get_no_state():
    for name in CASES:
        a, b = genesis.ones(3, requires_grad=True), genesis.ones(2, requires_grad=True)
        opt = getattr(optim, name)([a, b])
        a.grad = genesis.ones_like(a)
        opt.step()
        np.testing.assert_array_equal(b.detach().numpy(), np.ones(2))
        assert opt.state[a] and not opt.state.get(b), name


# -- argument validation: torch's exception and message ------------------------------------

BAD = [
    ("Adamax", {"lr": -1}, "Invalid learning rate: -1"),
    ("Adamax", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adamax", {"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adamax", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adamax", {"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
    ("Adadelta", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
    ("Adadelta", {"eps": -1e-6}, "Invalid epsilon value: -1e-06"),
    ("Adadelta", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("NAdam", {"lr": -1}, "Invalid learning rate: -1"),
    ("NAdam", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", {"momentum_decay": -0.1}, "Invalid momentum_decay value: -0.1"),
    ("NAdam", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("RAdam", {"eps": -1}, "Invalid epsilon value: -1"),
    ("RAdam", {"betas": (-0.1, 0.9)}, "Invalid beta parameter at index 0: -0.1"),
    ("RAdam", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ("Rprop", {"lr": -1}, "Invalid learning rate: -1"),
    ("Rprop", {"etas": (1.5, 2.0)}, "Invalid eta values: 1.5, 2.0"),
    ("Rprop", {"etas": (0.5, 0.9)}, "Invalid eta values: 0.5, 0.9"),
    ("ASGD", {"lr": -1}, "Invalid learning rate: -1"),
    ("ASGD", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
]


@pytest.mark.parametrize(("name", "kwargs", "message"), BAD,
                         ids=[f"{n}-{'-'.join(k)}-{i}" for i, (n, k, _) in enumerate(BAD)])
def test_validation_like_torch(name, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as ours:
        getattr(optim, name)([genesis.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    assert str(ours.value).startswith(str(theirs.value))


@pytest.mark.parametrize("name", list(CASES))
def test_unknown_keyword_is_a_type_error_like_torch(name):
    with pytest.raises(TypeError, match="fused"):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], fused=True)
    with pytest.raises(TypeError, match="fused"):
        getattr(optim, name)([genesis.zeros(2, requires_grad=True)], fused=True)
