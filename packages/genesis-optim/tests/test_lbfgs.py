"""LBFGS matches torch.optim.LBFGS iteration for iteration (plain and strong-Wolfe steps)."""

from __future__ import annotations

import itertools

import genesis
import genesis.optim as optim
import numpy as np
import pytest
import torch
from _optim_compare import DTYPES as DTYPE_PAIRS

SHAPES = ((3, 4), (5,), (2, 1, 3))
SIZES = [int(np.prod(s)) for s in SHAPES]
TOL = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-10, "atol": 1e-12}}
STATE_ATOL = {"float32": 1e-4, "float64": 1e-9}
STATE_RTOL = {"float32": 2e-3, "float64": 1e-8}

# a smooth convex objective over all parameters' entries (condition number ~ 30), with its
# gradient in numpy: both libraries' closures hand the optimizers identical losses and
# gradients, so any difference comes from the optimizers themselves
_rng = np.random.default_rng(42)
_Q = np.linalg.qr(_rng.standard_normal((sum(SIZES), sum(SIZES))))[0]
A = _Q @ np.diag(np.linspace(1.0, 30.0, sum(SIZES))) @ _Q.T
B = _rng.standard_normal(sum(SIZES))


def _objective(x):
    return 0.5 * x @ A @ x - B @ x + 0.05 * np.sum(x**4), A @ x - B + 0.2 * x**3


def _closure(opt, params, calls, lib=None):
    """Loss and gradients from numpy (``lib`` builds the tensors: genesis or torch)."""
    lib = lib or (torch if isinstance(params[0], torch.Tensor) else genesis)

    def closure():
        opt.zero_grad()
        x = np.concatenate([p.detach().numpy().reshape(-1) for p in params]).astype(np.float64)
        loss, grad = _objective(x)
        for p, g in zip(params, np.split(grad, np.cumsum(SIZES)[:-1])):
            p.grad = lib.tensor(g.reshape(tuple(p.shape)), dtype=p.dtype)
        calls.append(loss)
        return lib.tensor(loss, dtype=params[0].dtype)
    return closure


def _rosenbrock(params):
    """Rosenbrock's function over each parameter's entries, through autograd."""
    total = 0
    for p in params:
        x = p.reshape(-1)
        total = total + (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    return total


def _pair(dtype, seed=0, **kwargs):
    gdt, tdt = DTYPE_PAIRS[dtype]
    rng = np.random.default_rng(seed)
    init = [rng.uniform(-1.5, 1.5, s) for s in SHAPES]
    gp = [genesis.tensor(a, dtype=gdt, requires_grad=True) for a in init]
    tp = [torch.tensor(a, dtype=tdt, requires_grad=True) for a in init]
    return gp, tp, optim.LBFGS(gp, **kwargs), torch.optim.LBFGS(tp, **kwargs)


def _value(v):
    if isinstance(v, genesis.Tensor):
        return v.numpy()
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    return v


def _assert_state_same(gstate, tstate, dtype):
    assert set(gstate) == set(tstate)
    for key, value in tstate.items():
        mine = gstate[key]
        if isinstance(value, list):
            assert len(mine) == len(value), key
            pairs = [(a, b) for a, b in zip(mine, value)]
        else:
            pairs = [(mine, value)]
        for a, b in pairs:
            if b is None or isinstance(b, int) and not isinstance(b, bool):
                assert a == b, key
            elif key in ("ro", "H_diag"):  # reciprocals of dot products: relative scale
                np.testing.assert_allclose(_value(a), _value(b), err_msg=key,
                                           rtol=STATE_RTOL[dtype])
            else:
                # history entries are differences of nearby gradients and their dot
                # products: the two libraries' reduction orders differ there by rounding,
                # so these are compared on an absolute scale (parameters stay tight)
                np.testing.assert_allclose(_value(a), _value(b), err_msg=key,
                                           rtol=TOL[dtype]["rtol"], atol=STATE_ATOL[dtype])


CASES = [dict(zip(("line_search_fn", "history_size", "max_iter", "lr"), values))
         for values in itertools.product((None, "strong_wolfe"), (100, 3), (2, 20), (1, 0.3))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES,
                         ids=["-".join(f"{k}={v}" for k, v in c.items()) for c in CASES])
def test_matches_torch_over_25_steps(case, dtype):
    gp, tp, gopt, topt = _pair(dtype, **case)
    gcalls, tcalls = [], []
    gclosure, tclosure = _closure(gopt, gp, gcalls), _closure(topt, tp, tcalls)
    for i in range(25):
        gloss = gopt.step(gclosure)
        tloss = topt.step(tclosure)
        assert isinstance(gloss, genesis.Tensor)
        np.testing.assert_allclose(float(gloss), float(tloss), **TOL[dtype])
        for a, b in zip(gp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL[dtype])
        if i == 0:
            # every state entry, while the history is well conditioned (near the optimum,
            # ro = 1 / (y . s) of vanishing y and s is rounding noise in both libraries)
            _assert_state_same(gopt.state[gp[0]], topt.state[tp[0]], dtype)
    assert len(gcalls) == len(tcalls) >= 25
    np.testing.assert_allclose(gcalls, tcalls, **TOL[dtype])
    gstate, tstate = gopt.state[gp[0]], topt.state[tp[0]]
    assert set(gstate) == set(tstate)
    for key in ("func_evals", "n_iter"):
        assert gstate[key] == tstate[key]
    for key in ("old_dirs", "old_stps", "ro", "al"):
        assert len(gstate[key]) == len(tstate[key])
    np.testing.assert_allclose(gstate["prev_loss"], tstate["prev_loss"], **TOL[dtype])
    assert not gopt.state.get(gp[1])


def test_solves_rosenbrock_through_autograd_like_torch():
    """Closures that call backward(), as users write them; the minimum is all ones."""
    found = []
    for lib, opt_lib in ((genesis, optim), (torch, torch.optim)):
        x = lib.tensor([-1.2, 1.0, 0.5], dtype=lib.float64, requires_grad=True)
        opt = opt_lib.LBFGS([x], line_search_fn="strong_wolfe")

        def closure(opt=opt, x=x):
            opt.zero_grad()
            loss = _rosenbrock([x])
            loss.backward()
            return loss

        for _ in range(10):
            opt.step(closure)
        found.append(x.detach().numpy())
    np.testing.assert_allclose(found[0], 1.0, atol=1e-5)
    np.testing.assert_allclose(found[0], found[1], rtol=1e-7)


def test_tolerances_stop_like_torch():
    for kwargs in ({"tolerance_grad": 1e3}, {"tolerance_change": 1e2}, {"max_eval": 3}):
        gp, tp, gopt, topt = _pair("float64", **kwargs)
        gcalls, tcalls = [], []
        gopt.step(_closure(gopt, gp, gcalls))
        topt.step(_closure(topt, tp, tcalls))
        assert len(gcalls) == len(tcalls), kwargs
        assert gopt.state[gp[0]]["n_iter"] == topt.state[tp[0]]["n_iter"]
        for a, b in zip(gp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_torch_state_dict_resumes_and_ours_loads_into_torch(line_search_fn):
    kwargs = {"line_search_fn": line_search_fn, "history_size": 3, "max_iter": 2}
    gp, tp, gopt, topt = _pair("float64", **kwargs)
    for _ in range(4):
        topt.step(_closure(topt, tp, []))
    with genesis.no_grad():
        for a, b in zip(gp, tp):
            a.copy_(genesis.tensor(b.detach().numpy()))

    def to_genesis(obj):
        if isinstance(obj, torch.Tensor):
            return genesis.tensor(obj.detach().numpy())
        if isinstance(obj, dict):
            return {k: to_genesis(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [to_genesis(v) for v in obj]
        return obj

    gopt.load_state_dict(to_genesis(topt.state_dict()))
    _assert_state_same(gopt.state[gp[0]], topt.state[tp[0]], "float64")
    for _ in range(4):
        gopt.step(_closure(gopt, gp, []))
        topt.step(_closure(topt, tp, []))
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9)

    def to_torch(obj):
        if isinstance(obj, genesis.Tensor):
            return torch.from_numpy(obj.numpy().copy())
        if isinstance(obj, dict):
            return {k: to_torch(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [to_torch(v) for v in obj]
        return obj

    fresh = torch.optim.LBFGS(tp, **kwargs)
    fresh.load_state_dict(to_torch(gopt.state_dict()))
    for _ in range(3):
        gopt.step(_closure(gopt, gp, []))
        fresh.step(_closure(fresh, tp, []))
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9)


def test_checkpoint_resumes_bit_identically(tmp_path):
    kwargs = {"line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 2}
    straight, _, sopt, _ = _pair("float64", **kwargs)
    first, _, fopt, _ = _pair("float64", **kwargs)
    for _ in range(6):
        sopt.step(_closure(sopt, straight, []))
    for _ in range(3):
        fopt.step(_closure(fopt, first, []))
    path = tmp_path / "lbfgs.safetensors"
    genesis.save({"optimizer": fopt.state_dict(), "params": [p.detach() for p in first]}, path)
    ckpt = genesis.load(path)
    resumed = [genesis.tensor(p.numpy(), requires_grad=True) for p in ckpt["params"]]
    ropt = optim.LBFGS(resumed, **kwargs)
    ropt.load_state_dict(ckpt["optimizer"])
    for _ in range(3):
        ropt.step(_closure(ropt, resumed, []))
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_errors_like_torch():
    a, b = genesis.zeros(2, requires_grad=True), genesis.zeros(2, requires_grad=True)
    ta, tb = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    message = "LBFGS doesn't support per-parameter options (parameter groups)"
    for lib, (x, y) in ((optim, (a, b)), (torch.optim, (ta, tb))):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            lib.LBFGS([{"params": [x]}, {"params": [y]}])
        with pytest.raises(ValueError, match="Invalid learning rate: -1"):
            lib.LBFGS([x], lr=-1)
        opt = lib.LBFGS([x], line_search_fn="wolfe")

        def closure(opt=opt, x=x):
            opt.zero_grad()
            loss = ((x - 1) ** 2).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)
        with pytest.raises(TypeError, match="closure"):
            opt.step()


def test_closure_runs_with_grad_under_no_grad_and_defaults_like_torch():
    gp, tp, gopt, topt = _pair("float64")
    assert {k: v for k, v in gopt.param_groups[0].items() if k != "params"} == \
        {k: v for k, v in topt.param_groups[0].items() if k != "params"}
    with genesis.no_grad():
        loss = gopt.step(_closure(gopt, gp, []))
    x = np.concatenate([p.detach().numpy().reshape(-1) for p in tp])
    assert float(loss) == pytest.approx(_objective(x)[0], rel=1e-12)


def test_parameter_without_gradient_counts_as_zero_like_torch():
    found = []
    for lib, opt_lib in ((genesis, optim), (torch, torch.optim)):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        unused = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        opt = opt_lib.LBFGS([x, unused], line_search_fn="strong_wolfe", max_iter=3)

        def closure(opt=opt, x=x):
            opt.zero_grad()
            loss = (x**4 + x**2).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        assert unused.grad is None
        found.append((x.detach().numpy(), unused.detach().numpy()))
    np.testing.assert_allclose(found[0][0], found[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(found[0][1], [3.0, 4.0])
