"""genesis.amp.GradScaler against torch.amp.GradScaler("cpu"): the same model, data and
injected inf/NaN gradients give the same scale trajectory, the same skipped steps and the
same parameters; its errors and state dict are PyTorch's."""

from __future__ import annotations

import math

import genesis
import genesis.optim
import numpy as np
import pytest
import torch

RNG = np.random.default_rng(0)
W1, B1 = RNG.standard_normal((8, 4)).astype(np.float32), RNG.standard_normal(8).astype(np.float32)
W2, B2 = RNG.standard_normal((2, 8)).astype(np.float32), RNG.standard_normal(2).astype(np.float32)
X = RNG.standard_normal((16, 4)).astype(np.float32)
Y = RNG.standard_normal((16, 2)).astype(np.float32)
INJECT = {1: math.inf, 2: math.nan, 6: -math.inf}  # step -> value written into one gradient


def params(lib):
    return [lib.tensor(a.copy(), requires_grad=True) for a in (W1, B1, W2, B2)]


def forward(lib, ps, x):
    w1, b1, w2, b2 = ps
    return lib.nn.functional.linear(lib.relu(lib.nn.functional.linear(x, w1, b1)), w2, b2)


def train(lib, optim_cls, steps=10, clip=None, **scaler_kwargs):
    """Scale per step, the skip record and the final parameters."""
    ps = params(lib)
    opt = optim_cls(lib)(ps)
    scaler = lib.amp.GradScaler("cpu", **scaler_kwargs)
    x, y = lib.tensor(X), lib.tensor(Y)
    scales, stepped = [], []
    for step in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(forward(lib, ps, x), y)
        scaler.scale(loss).backward()
        if step in INJECT:
            with lib.no_grad():
                ps[2].grad[0, 0] = INJECT[step]
        if clip is not None:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_(ps, clip)
        before = ps[0].detach().clone()
        scaler.step(opt)
        scaler.update()
        stepped.append(not bool((ps[0].detach() == before).all()))
        scales.append(scaler.get_scale())
    return scales, stepped, [p.detach().numpy() for p in ps], scaler


def sgd(lib):
    return lambda ps: lib.optim.SGD(ps, lr=0.05, momentum=0.9)


def adam(lib):
    return lambda ps: lib.optim.Adam(ps, lr=0.01)


@pytest.mark.parametrize("optim_cls", [sgd, adam])
@pytest.mark.parametrize("clip", [None, 0.5])
def test_trajectory_skips_and_parameters_match_torch(optim_cls, clip):
    kwargs = {"init_scale": 2.0**10, "growth_interval": 2}
    g_scales, g_stepped, g_params, g_scaler = train(genesis, optim_cls, clip=clip, **kwargs)
    t_scales, t_stepped, t_params, t_scaler = train(torch, optim_cls, clip=clip, **kwargs)
    assert g_scales == t_scales
    assert g_stepped == t_stepped
    assert g_stepped.count(False) == len(INJECT) == g_scaler.skipped_steps
    for g, t in zip(g_params, t_params):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)
    assert g_scaler.state_dict() == t_scaler.state_dict()


def test_growth_stops_at_float32_overflow_like_torch():
    kwargs = {"init_scale": 2.0**126, "growth_interval": 1, "growth_factor": 4.0}
    g = train(genesis, sgd, steps=1, **kwargs)[0]
    t = train(torch, sgd, steps=1, **kwargs)[0]
    assert g == t


def scaler_and_optimizer(lib):
    ps = params(lib)
    opt = lib.optim.SGD(ps, lr=0.1)
    scaler = lib.amp.GradScaler("cpu")
    loss = forward(lib, ps, lib.tensor(X)).sum()
    scaler.scale(loss).backward()
    return scaler, opt


@pytest.mark.parametrize("calls, match", [
    (("unscale_", "unscale_"), "unscale_\\(\\) has already been called"),
    (("step", "unscale_"), "unscale_\\(\\) is being called after step"),
    (("step", "step"), "step\\(\\) has already been called"),
])
def test_misuse_raises_like_torch(calls, match):
    for lib in (genesis, torch):
        scaler, opt = scaler_and_optimizer(lib)
        getattr(scaler, calls[0])(opt)
        with pytest.raises(RuntimeError, match=match):
            getattr(scaler, calls[1])(opt)


def test_methods_before_scale_raise_and_closure_is_refused():
    for lib in (genesis, torch):
        scaler = lib.amp.GradScaler("cpu")
        opt = lib.optim.SGD(params(lib), lr=0.1)
        with pytest.raises(AssertionError, match="_scale is None"):
            scaler.update()
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            scaler.step(opt, closure=lambda: 0.0)


def test_float16_gradients_are_refused():
    p = genesis.zeros(3, dtype=genesis.float16, requires_grad=True)
    scaler = genesis.amp.GradScaler("cpu")
    scaler.scale(p.float().sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.unscale_(genesis.optim.SGD([p], lr=0.1))


def test_two_optimizers_share_one_update():
    results = []
    for lib in (genesis, torch):
        ps = params(lib)
        opt_a, opt_b = lib.optim.SGD(ps[:2], lr=0.1), lib.optim.SGD(ps[2:], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=256.0, growth_interval=1)
        trace = []
        for step in range(4):
            opt_a.zero_grad()
            opt_b.zero_grad()
            scaler.scale(lib.nn.functional.mse_loss(forward(lib, ps, lib.tensor(X)),
                                                    lib.tensor(Y))).backward()
            if step == 1:
                with lib.no_grad():
                    ps[0].grad[0, 0] = math.inf  # only opt_a's gradients
            scaler.step(opt_a)
            scaler.step(opt_b)
            scaler.update()
            trace.append(scaler.get_scale())
        results.append((trace, [p.detach().numpy() for p in ps]))
    (g_trace, g_params), (t_trace, t_params) = results
    assert g_trace == t_trace
    for g, t in zip(g_params, t_params):
        np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6)


def test_getters_setters_new_scale_and_state_dict_round_trip():
    scaler = genesis.amp.GradScaler("cpu", init_scale=8.0, growth_factor=3.0,
                                    backoff_factor=0.25, growth_interval=7)
    reference = torch.amp.GradScaler("cpu", init_scale=8.0, growth_factor=3.0,
                                     backoff_factor=0.25, growth_interval=7)
    assert scaler.is_enabled()
    assert (scaler.get_scale(), scaler.get_growth_factor(), scaler.get_backoff_factor(),
            scaler.get_growth_interval()) == (8.0, 3.0, 0.25, 7)
    assert scaler.state_dict() == reference.state_dict()
    scaler.set_growth_factor(4.0)
    scaler.set_backoff_factor(0.5)
    scaler.set_growth_interval(3)
    scaler.scale(genesis.ones(()))
    scaler.update(new_scale=32.0)
    assert scaler.get_scale() == 32.0
    scaler.update(new_scale=genesis.tensor(16.0))
    restored = genesis.amp.GradScaler("cpu")
    restored.load_state_dict(scaler.state_dict())
    assert restored.state_dict() == {"scale": 16.0, "growth_factor": 4.0,
                                     "backoff_factor": 0.5, "growth_interval": 3,
                                     "_growth_tracker": 0}
    restored.load_state_dict(reference.state_dict())  # a PyTorch state dict loads too
    assert restored.get_scale() == 8.0
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        restored.load_state_dict({})


def test_disabled_scaler_passes_through():
    scaler = genesis.amp.GradScaler("cpu", enabled=False)
    loss = genesis.tensor(2.0)
    assert scaler.scale(loss) is loss
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    assert not scaler.is_enabled()


def test_a_device_type_no_backend_serves_warns_and_disables():
    with pytest.warns(UserWarning, match="device 'xpu' is not available.*Disabling"):
        scaler = genesis.amp.GradScaler("xpu")
    assert not scaler.is_enabled()


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match="growth_factor=0.5"):
        genesis.amp.GradScaler("cpu", growth_factor=0.5)
    with pytest.raises(ValueError, match="backoff_factor=2"):
        genesis.amp.GradScaler("cpu", backoff_factor=2)
    with pytest.raises(TypeError, match="device="):
        genesis.amp.GradScaler(0)


def test_scaler_state_checkpoints_and_a_resumed_run_continues_bit_identically(tmp_path):
    def build():
        genesis.manual_seed(0)
        net = genesis.nn.Sequential(genesis.nn.Linear(4, 8), genesis.nn.ReLU(),
                                    genesis.nn.Linear(8, 2))
        opt = genesis.optim.AdamW(net.parameters(), lr=0.01)
        return net, opt, genesis.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=2)

    def run(net, opt, scaler, steps):
        x, y = genesis.tensor(X), genesis.tensor(Y)
        scales = []
        for step in steps:
            opt.zero_grad()
            with genesis.autocast("cpu"):
                loss = genesis.nn.functional.mse_loss(net(x), y)
            scaler.scale(loss).backward()
            if step in INJECT:
                with genesis.no_grad():
                    net[2].weight.grad[0, 0] = INJECT[step]
            scaler.step(opt)
            scaler.update()
            scales.append(scaler.get_scale())
        return scales

    net, opt, scaler = build()
    full = run(net, opt, scaler, range(8))
    expected = [p.detach().numpy() for p in net.parameters()]

    net, opt, scaler = build()
    first = run(net, opt, scaler, range(4))
    path = tmp_path / "amp.safetensors"
    genesis.save_checkpoint({"model": net.state_dict(), "optimizer": opt.state_dict(),
                             "scaler": scaler.state_dict()}, path)
    net, opt, scaler = build()
    state = genesis.load_checkpoint(path)
    net.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    scaler.load_state_dict(state["scaler"])
    assert scaler.state_dict() == state["scaler"]
    second = run(net, opt, scaler, range(4, 8))
    assert first + second == full
    for got, want in zip(net.parameters(), expected):
        np.testing.assert_array_equal(got.detach().numpy(), want)


def scheduled_lrs(lib, hold=False):
    """LRs of a StepLR over 4 scaled steps whose first is skipped, and the warnings raised."""
    import warnings
    ps = params(lib)
    opt = lib.optim.SGD(ps, lr=0.1)
    sched = lib.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    if hold:
        sched.hold_on_skipped_step = True
    scaler = lib.amp.GradScaler("cpu")
    lrs = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(4):
            opt.zero_grad()
            scaler.scale(forward(lib, ps, lib.tensor(X)).sum()).backward()
            if step == 0:
                with lib.no_grad():
                    ps[0].grad[0, 0] = math.inf
            scaler.step(opt)
            scaler.update()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
    return lrs, [str(w.message) for w in caught]


def test_schedulers_do_not_warn_on_a_skipped_step_and_can_hold_the_lr():
    g_lrs, g_warnings = scheduled_lrs(genesis)
    t_lrs, t_warnings = scheduled_lrs(torch)
    assert any("lr_scheduler.step()` before `optimizer.step()" in w for w in t_warnings)
    assert g_warnings == []
    assert g_lrs == t_lrs == [0.05, 0.025, 0.0125, 0.00625]
    held, _ = scheduled_lrs(genesis, hold=True)
    assert held == [0.1, 0.05, 0.025, 0.0125]
