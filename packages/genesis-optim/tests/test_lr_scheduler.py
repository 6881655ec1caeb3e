"""LRScheduler surface: get_last_lr, errors, verbose, lr_at/simulate, step(metrics=...)."""

from __future__ import annotations

from types import SimpleNamespace

import genesis.optim as optim  # noqa: PLR0402
import pytest
from _torch_compare import make_optimizer
from genesis.optim import lr_scheduler


def groups(*lrs):
    return SimpleNamespace(param_groups=[{"lr": lr, "momentum": 0.9} for lr in lrs])


def test_get_last_lr_is_a_list_that_formats_one_lr():
    s = optim.StepLR(groups(0.1), 2)
    lrs = s.get_last_lr()
    assert f"{lrs:.6f}" == "0.100000" and format(lrs, ".2e") == "1.00e-01"
    assert lrs[0] == 0.1 and lrs == [0.1] and len(lrs) == 1 and list(lrs) == [0.1]
    assert str(lrs) == "[0.1]" and repr(lrs) == "[0.1]" and f"{lrs}" == "[0.1]"


def test_get_last_lr_with_several_groups_refuses_float_format():
    lrs = optim.StepLR(groups(0.1, 0.2), 2).get_last_lr()
    assert f"{lrs[1]:.3f}" == "0.200" and str(lrs) == "[0.1, 0.2]"
    with pytest.raises(TypeError, match=r"cannot format 2 learning rates .*lrs\[0\]:\.6f"):
        f"{lrs:.6f}"


def test_lambda_list_length_and_resume_key_errors():
    with pytest.raises(ValueError, match=r"lr_lambda must be one callable or a list of 2 .* got 3"):
        optim.LambdaLR(groups(0.1, 0.2), [lambda s: 1.0] * 3)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        optim.LambdaLR(groups(0.1), lambda s: 1.0, last_epoch=3)


def test_constructor_sets_initial_lr_and_factor_zero():
    opt = groups(0.1, 0.2)
    s = optim.LinearLR(opt, 0.5, 1.0, 4)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.1]
    assert s.last_epoch == 0 and s.base_lrs == [0.1, 0.2]


def test_verbose_prints_each_update(capsys):
    s = optim.ExponentialLR(groups(0.1), 0.5, verbose=True)
    s.step()
    out = capsys.readouterr().out
    assert "group 0 to 1.0000e-01" in out and "group 0 to 5.0000e-02" in out


def test_resume_with_last_epoch_is_fresh_run_stepped():
    def make(o, **kw):
        return optim.SequentialLR(
            o,
            [optim.LinearLR(o, 0.1, 1.0, 3, **kw), optim.CosineAnnealingLR(o, 9, 0.01, **kw)],
            [3],
            **kw,
        )

    for cls, kw in [
        (optim.CosineAnnealingLR, {"T_max": 9}),
        (optim.ExponentialLR, {"gamma": 0.8}),
        (optim.OneCycleLR, {"max_lr": 1.0, "total_steps": 20}),
    ]:
        fresh = cls(make_optimizer(), **kw)
        for _ in range(7):
            fresh.step()
        opt = make_optimizer()
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        if cls is optim.OneCycleLR:
            fresh_opt = fresh.optimizer
            for g, f in zip(opt.param_groups, fresh_opt.param_groups):
                g.update({k: f[k] for k in ("initial_lr", "max_lr", "min_lr", "momentum")})
        resumed = cls(opt, last_epoch=6, **kw)
        assert resumed.last_epoch == 7 and resumed.get_last_lr() == fresh.get_last_lr()


def all_schedulers(o):
    """One of each scheduler on optimizer ``o`` (each built on a fresh copy is fine too)."""
    return {
        "lambda": lambda: optim.LambdaLR(o, lambda s: 1 / (1 + s)),
        "multiplicative": lambda: optim.MultiplicativeLR(o, lambda s: 0.9),
        "step": lambda: optim.StepLR(o, 3),
        "multistep": lambda: optim.MultiStepLR(o, [2, 5]),
        "constant": lambda: optim.ConstantLR(o),
        "linear": lambda: optim.LinearLR(o),
        "exponential": lambda: optim.ExponentialLR(o, 0.9),
        "polynomial": lambda: optim.PolynomialLR(o, 8),
        "cosine": lambda: optim.CosineAnnealingLR(o, 6, 0.001),
        "restarts": lambda: optim.CosineAnnealingWarmRestarts(o, 3, 2),
        "cyclic": lambda: optim.CyclicLR(o, 0.01, 0.1, 3),
        "onecycle": lambda: optim.OneCycleLR(o, 0.5, total_steps=30),
        "sequential": lambda: optim.SequentialLR(
            o, [optim.LinearLR(o, 0.1, 1.0, 4), optim.CyclicLR(o, 0.01, 0.1, 2)], [4]
        ),
        "chained": lambda: optim.ChainedScheduler(
            [optim.ExponentialLR(o, 0.95), optim.CosineAnnealingLR(o, 9)]
        ),
        "helper": lambda: optim.get_cosine_schedule_with_warmup(o, 3, 20),
    }


NAMES = sorted(all_schedulers(None))


@pytest.mark.parametrize("name", NAMES)
def test_lr_at_and_simulate_match_stepping_and_have_no_side_effects(name):
    opt = make_optimizer()
    s = all_schedulers(opt)[name]()
    before = [dict(g) for g in opt.param_groups]
    preview = s.simulate(25)
    assert s.lr_at(7) == preview[7]
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in before] and s.last_epoch == 0
    seen = [list(s.get_last_lr())]
    for _ in range(24):
        opt.step()
        s.step(metrics=1.0)
        seen.append(list(s.get_last_lr()))
    assert seen == preview
    assert s.lr_at(3) == preview[3]


def test_sequential_forwards_metrics_to_plateau():
    opt = groups(0.1)
    warm = optim.LinearLR(opt, 0.5, 1.0, 2)
    plateau = optim.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    s = optim.SequentialLR(opt, [warm, plateau], [2])
    metrics = [5, 4, 4, 4, 4, 3, 3, 3]
    preview = s.simulate(len(metrics) + 1, metrics=metrics)
    seen = [s.get_last_lr()]
    for m in metrics:
        s.step(metrics=m)
        seen.append(s.get_last_lr())
    assert seen == preview
    assert [x[0] for x in seen[:3]] == pytest.approx([0.05, 0.075, 0.1]) and seen[-1][0] < 0.1
    with pytest.raises(TypeError, match="simulate"):
        s.lr_at(3)
    with pytest.raises(TypeError, match="metrics"):
        s.step()


def test_chained_plateau_scales_the_chain():
    opt = groups(0.1)
    s = optim.ChainedScheduler(
        [optim.ExponentialLR(opt, 0.9), optim.ReduceLROnPlateau(opt, patience=0, factor=0.5)]
    )
    s.step(metrics=1.0)
    assert s.get_last_lr()[0] == pytest.approx(0.09)
    s.step(metrics=2.0)
    assert s.get_last_lr()[0] == pytest.approx(0.1 * 0.81 * 0.5)
    s.step(metrics=0.5)
    assert s.get_last_lr()[0] == pytest.approx(0.1 * 0.729 * 0.5)


def test_onecycle_past_total_steps_raises():
    s = optim.OneCycleLR(groups(0.1), 1.0, total_steps=3)
    with pytest.raises(ValueError, match=r"step must be <= total_steps \(3\)"):
        s.lr_at(4)


def test_cycle_momentum_needs_momentum_or_betas():
    with pytest.raises(ValueError, match=r"param_groups\[0\] has neither"):
        optim.CyclicLR(SimpleNamespace(param_groups=[{"lr": 0.1}]), 0.01, 0.1)


def test_module_exports():
    assert set(lr_scheduler.__all__) <= set(dir(lr_scheduler))
    assert optim.LRScheduler is lr_scheduler.LRScheduler
