"""Optimizer base: param groups, zero_grad, closures, state dicts, names, checkpoints."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from genesis.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from genesis.optim.optimizer import required

OPTIMIZERS = {
    "SGD": (SGD, {"lr": 0.05, "momentum": 0.9}),
    "Adam": (Adam, {"lr": 0.01, "amsgrad": True}),
    "AdamW": (AdamW, {"lr": 0.01}),
    "RMSprop": (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5}),
    "Adagrad": (Adagrad, {"lr": 0.05, "lr_decay": 0.01}),
}


def _params(seed=0, shapes=((4, 3), (3,)), dtype=genesis.float32):
    rng = np.random.default_rng(seed)
    return [genesis.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True)
            for s in shapes]


def _set_grads(params, rng):
    for p in params:
        p.grad = genesis.tensor(rng.standard_normal(p.shape), dtype=p.dtype)


def _run(opt, params, rng, steps):
    for _ in range(steps):
        _set_grads(params, rng)
        opt.step()


# -- construction and groups -------------------------------------------------------------

def test_param_groups_fill_defaults_and_keep_per_group_values():
    a, b = _params()
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    assert opt.defaults["lr"] == 0.1


def test_per_group_hyperparameters_match_torch():
    init = [np.arange(6.0).reshape(2, 3) / 7, np.ones(3)]
    gp = [genesis.tensor(a, requires_grad=True) for a in init]
    tp = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in init]
    gopt = Adam([{"params": [gp[0]]}, {"params": [gp[1]], "lr": 0.1, "weight_decay": 0.2}], lr=0.01)
    topt = torch.optim.Adam([{"params": [tp[0]]}, {"params": [tp[1]], "lr": 0.1,
                                                   "weight_decay": 0.2}], lr=0.01)
    rng = np.random.default_rng(1)
    for _ in range(10):
        grads = [rng.standard_normal(a.shape) for a in init]
        for p, g in zip(gp, grads):
            p.grad = genesis.tensor(g)
        for p, g in zip(tp, grads):
            p.grad = torch.tensor(g, dtype=torch.float32)
        gopt.step()
        topt.step()
    for a, b in zip(gp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_add_param_group_errors():
    a, b = _params()
    opt = SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="duplicate parameters"):
        opt.add_param_group({"params": [b, b]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {b}})
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        opt.add_param_group({"params": [1.0]})
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [("b", b)]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([b])
    opt.add_param_group({"params": [b], "lr": 0.3})
    assert opt.param_groups[1]["lr"] == 0.3 and opt.param_groups[1]["momentum"] == 0


def test_required_hyperparameter_must_be_given():
    class Plain(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

        def _step_group(self, group, params):
            for p in params:
                p.add_(p.grad, alpha=-group["lr"])

    a, b = _params()
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Plain([a])
    opt = Plain([{"params": [a], "lr": 0.5}])
    a.grad = genesis.ones_like(a)
    before = a.detach().numpy()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), before - 0.5)


def test_bad_params_argument():
    a, _ = _params()
    with pytest.raises(TypeError, match="iterable of Tensors"):
        SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([a * 2], lr=0.1)


@pytest.mark.parametrize(("factory", "message"), [
    (lambda p: SGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: SGD(p, nesterov=True), "Nesterov momentum requires"),
    (lambda p: SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda p: Adam(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: Adam(p, eps=-1e-8), "Invalid epsilon value"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: AdamW(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: AdamW(p, weight_decay=-0.1), "Invalid weight_decay value"),
    (lambda p: Adam(p, fused="yes"), "Invalid fused value"),
    (lambda p: RMSprop(p, alpha=-1), "Invalid alpha value"),
    (lambda p: RMSprop(p, momentum=-1), "Invalid momentum value"),
    (lambda p: RMSprop(p, eps=-1), "Invalid epsilon value"),
    (lambda p: Adagrad(p, lr_decay=-1), "Invalid lr_decay value"),
    (lambda p: Adagrad(p, initial_accumulator_value=-1), "Invalid initial_accumulator_value"),
    (lambda p: Adagrad(p, eps=-1), "Invalid epsilon value"),
])
def test_hyperparameter_validation(factory, message):
    with pytest.raises(ValueError, match=message):
        factory(_params())


def test_repr_like_torch():
    a, _ = _params()
    text = repr(SGD([a], lr=0.1, momentum=0.9))
    assert text == ("SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.1\n    maximize: False\n"
                    "    momentum: 0.9\n    nesterov: False\n    weight_decay: 0\n)")
    t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    shared = [line for line in repr(t).splitlines() if line.split(":")[0].strip() in
              ("dampening", "lr", "maximize", "momentum", "nesterov", "weight_decay")]
    assert shared == [line for line in text.splitlines() if ":" in line]


# -- stepping -----------------------------------------------------------------------------

def test_zero_grad():
    a, b = _params()
    opt = SGD([a, b], lr=0.1)
    a.grad, b.grad = genesis.ones_like(a), genesis.ones_like(b)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad.numpy().any()
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_params_without_grad_are_skipped(name):
    cls, kwargs = OPTIMIZERS[name]
    a, b = _params()
    opt = cls([a, b], **kwargs)
    a.grad = genesis.ones_like(a)
    before = b.detach().numpy()
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), before)
    assert name == "Adagrad" or not opt.state.get(b)
    assert opt.state[a]


def test_step_closure_runs_with_grad_enabled_and_returns_loss():
    a, _ = _params()
    opt = SGD([a], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        calls.append(genesis.is_grad_enabled())
        loss = (a * a).sum()
        loss.backward()
        return loss

    with genesis.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert isinstance(loss, genesis.Tensor) and loss.ndim == 0
    assert opt.step() is None


def test_named_parameters_record_names():
    a, b = _params()
    opt = Adam([("fc.weight", a), ("fc.bias", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["fc.weight", "fc.bias"]
    assert opt.param_groups[0]["params"][0] is a
    t = torch.optim.Adam([("fc.weight", torch.zeros(2, requires_grad=True))])
    assert "param_names" in t.state_dict()["param_groups"][0]
    with pytest.raises(ValueError, match="names are missing"):
        Adam([("fc.weight", a), b])


# -- state dicts -------------------------------------------------------------------------

def _plain(obj):
    """Every leaf is a Tensor, number, str, bool or None; containers are list/tuple/dict."""
    if isinstance(obj, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return all(_plain(v) for v in obj)
    return obj is None or isinstance(obj, (genesis.Tensor, int, float, str, bool))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_layout(name):
    cls, kwargs = OPTIMIZERS[name]
    a, b, c = _params(shapes=((2, 2), (3,), (1,)))
    opt = cls([{"params": [a, b]}, {"params": [c], "lr": 0.2}], **kwargs)
    _run(opt, [a, b, c], np.random.default_rng(0), 2)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["param_groups"][1]["lr"] == 0.2
    if name != "SGD":
        assert sd["state"][0]["step"] == 2.0 and type(sd["state"][0]["step"]) is float
    assert _plain(sd)


def test_state_dict_matches_torch_keys():
    init = [np.ones((2, 3)), np.ones(3)]
    g = Adam([genesis.tensor(x, requires_grad=True) for x in init], lr=0.1, amsgrad=True)
    t = torch.optim.Adam([torch.tensor(x, requires_grad=True) for x in init], lr=0.1,
                         amsgrad=True)
    for opt, params, make in ((g, g.param_groups[0]["params"], genesis.ones_like),
                              (t, t.param_groups[0]["params"], torch.ones_like)):
        for p in params:
            p.grad = make(p)
        opt.step()
    gsd, tsd = g.state_dict(), t.state_dict()
    assert sorted(gsd["state"]) == sorted(tsd["state"])
    assert set(gsd["state"][0]) == set(tsd["state"][0])
    assert set(gsd["param_groups"][0]) <= set(tsd["param_groups"][0])


def test_load_state_dict_count_errors():
    a, b, c = _params(shapes=((2,), (3,), (4,)))
    src = SGD([a, b], lr=0.1, momentum=0.9)
    _run(src, [a, b], np.random.default_rng(0), 1)
    sd = src.state_dict()
    with pytest.raises(ValueError, match="1 parameter group.*has 2"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 2 parameter.*has 3"):
        SGD([a, b, c], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="state.*param_groups"):
        SGD([a, b], lr=0.1).load_state_dict({"state": {}})
    x, y = _params(shapes=((3,), (2,)))
    with pytest.raises(ValueError, match=r"parameter 0: state\['momentum_buffer'\] has shape "
                                         r"\(2,\), the parameter has \(3,\)"):
        SGD([x, y], lr=0.1, momentum=0.9).load_state_dict(sd)


def test_load_state_dict_copies_and_restores_hyperparameters():
    a, b = _params()
    src = SGD([a, b], lr=0.1, momentum=0.9)
    _run(src, [a, b], np.random.default_rng(0), 2)
    sd = src.state_dict()
    a2, b2 = _params(seed=1)
    dst = SGD([a2, b2], lr=0.5)
    dst.load_state_dict(sd)
    assert dst.param_groups[0]["lr"] == 0.1 and dst.param_groups[0]["momentum"] == 0.9
    assert dst.param_groups[0]["params"][0] is a2
    buf = dst.state[a2]["momentum_buffer"]
    assert buf.storage is not sd["state"][0]["momentum_buffer"].storage
    np.testing.assert_array_equal(buf.numpy(), sd["state"][0]["momentum_buffer"].numpy())
    dst.param_groups[0]["lr"] = 0.3
    assert src.param_groups[0]["lr"] == 0.1


def test_load_state_dict_by_name_is_order_independent():
    rng = np.random.default_rng(0)
    w, bias = _params(shapes=((3, 2), (2,)))
    src = Adam([("fc.weight", w), ("fc.bias", bias)], lr=0.1)
    _run(src, [w, bias], rng, 3)
    sd = src.state_dict()
    w2, bias2 = (genesis.tensor(t.detach().numpy(), requires_grad=True) for t in (w, bias))
    dst = Adam([("fc.bias", bias2), ("fc.weight", w2)], lr=0.1)
    dst.load_state_dict(sd)
    assert dst.param_groups[0]["param_names"] == ["fc.bias", "fc.weight"]
    np.testing.assert_array_equal(dst.state[w2]["exp_avg"].numpy(), src.state[w]["exp_avg"].numpy())
    np.testing.assert_array_equal(dst.state[bias2]["exp_avg_sq"].numpy(),
                                  src.state[bias]["exp_avg_sq"].numpy())
    assert dst.state[w2]["step"] == 3.0


def test_load_state_dict_by_name_reports_missing_unexpected_and_shapes():
    w, bias = _params(shapes=((3, 2), (2,)))
    src = Adam([("fc.weight", w), ("fc.bias", bias)], lr=0.1)
    _run(src, [w, bias], np.random.default_rng(0), 1)
    sd = src.state_dict()
    w2, head = _params(shapes=((3, 2), (5,)))
    dst = Adam([("fc.weight", w2), ("head.bias", head)], lr=0.1)
    with pytest.raises(ValueError, match=r"missing \['head.bias'\], unexpected \['fc.bias'\]"):
        dst.load_state_dict(sd)
    dst.load_state_dict(sd, strict=False)
    assert dst.state[w2]["step"] == 1.0 and not dst.state.get(head)
    wrong = Adam([("fc.weight", genesis.zeros(2, 3, requires_grad=True)),
                  ("fc.bias", genesis.zeros(2, requires_grad=True))], lr=0.1)
    with pytest.raises(ValueError, match=r"'fc.weight': state\['exp_avg'\] has shape \(3, 2\)"):
        wrong.load_state_dict(sd)


def test_load_state_dict_dtype_policy():
    a, = _params(shapes=((3,),), dtype=genesis.float32)
    src = Adam([a], lr=0.1)
    _run(src, [a], np.random.default_rng(0), 1)
    sd = src.state_dict()
    b = genesis.zeros(3, dtype=genesis.float64, requires_grad=True)
    dst = Adam([b], lr=0.1)
    dst.load_state_dict(sd)
    assert dst.state[b]["exp_avg"].dtype is genesis.float32
    dst.load_state_dict(sd, dtype_policy="param")
    assert dst.state[b]["exp_avg"].dtype is genesis.float64
    dst.load_state_dict(sd, dtype_policy=genesis.float16)
    assert dst.state[b]["exp_avg_sq"].dtype is genesis.float16
    with pytest.raises(ValueError, match="dtype_policy='cast'"):
        dst.load_state_dict(sd, dtype_policy="cast")


def test_load_state_dict_accepts_a_tensor_step():
    a, = _params(shapes=((3,),))
    src = Adam([a], lr=0.1)
    _run(src, [a], np.random.default_rng(0), 2)
    sd = src.state_dict()
    sd["state"][0]["step"] = genesis.tensor(2.0)
    dst = Adam([genesis.zeros(3, requires_grad=True)], lr=0.1)
    dst.load_state_dict(sd)
    assert next(iter(dst.state.values()))["step"] == 2.0


def test_to_moves_state_and_returns_self():
    a, = _params(shapes=((3,),))
    opt = Adam([a], lr=0.1)
    _run(opt, [a], np.random.default_rng(0), 1)
    before = opt.state[a]["exp_avg"].numpy()
    assert opt.to("cpu") is opt
    assert opt.state[a]["exp_avg"].device == genesis.device("cpu")
    np.testing.assert_array_equal(opt.state[a]["exp_avg"].numpy(), before)


# -- checkpoints ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", OPTIMIZERS)
def test_checkpoint_round_trip_continues_bit_identically(name, tmp_path):
    cls, kwargs = OPTIMIZERS[name]
    grads_rng = np.random.default_rng(7)
    grads = [[grads_rng.standard_normal(s) for s in ((4, 3), (3,))] for _ in range(12)]

    def feed(params, t):
        for p, g in zip(params, grads[t]):
            p.grad = genesis.tensor(g, dtype=p.dtype)

    straight = _params()
    opt = cls([("w", straight[0]), ("b", straight[1])], **kwargs)
    for t in range(12):
        feed(straight, t)
        opt.step()

    first = _params()
    opt = cls([("w", first[0]), ("b", first[1])], **kwargs)
    for t in range(6):
        feed(first, t)
        opt.step()
    path = tmp_path / "opt.safetensors"
    genesis.save({"optimizer": opt.state_dict(),
                  "params": [p.detach() for p in first]}, path)
    del opt

    ckpt = genesis.load(path)
    resumed = [genesis.tensor(p.numpy(), requires_grad=True) for p in ckpt["params"]]
    opt = cls([("w", resumed[0]), ("b", resumed[1])], **kwargs)
    opt.load_state_dict(ckpt["optimizer"])
    for t in range(6, 12):
        feed(resumed, t)
        opt.step()
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
