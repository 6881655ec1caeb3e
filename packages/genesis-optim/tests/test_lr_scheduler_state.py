"""Checkpoints: plain-data state dicts, restored schedules, the horizon guard, load order."""

from __future__ import annotations

import json

import genesis.optim as optim  # noqa: PLR0402
import pytest
import torch.optim.lr_scheduler as T
from _torch_compare import close, make_optimizer
from genesis.optim import schedule_helpers as H


def run(sched, n, metrics=None):
    for i in range(n):
        sched.optimizer.step()
        sched.step(metrics=None if metrics is None else metrics[i])


def roundtrip(sd):
    return json.loads(json.dumps(sd, allow_nan=False))


def test_helper_resume_continues_exactly_through_json():
    a = H.get_cosine_schedule_with_warmup(make_optimizer(), 5, 40, num_cycles=0.3)
    run(a, 17)
    sd = roundtrip(a.state_dict())
    b = H.get_cosine_schedule_with_warmup(
        make_optimizer(), 5, 40
    )  # num_cycles differs: restored from sd
    b.load_state_dict(sd)
    assert b.get_last_lr() == a.get_last_lr()
    run(a, 10)
    run(b, 10)
    assert b.get_last_lr() == a.get_last_lr()
    assert b.lr_lambdas[0].num_cycles == 0.3


def test_plain_lambda_is_reported_not_dropped_silently():
    s = optim.LambdaLR(make_optimizer(), lambda step: 0.9**step)
    with pytest.warns(
        UserWarning, match=r"param group\(s\) \[0, 1, 2\] \(.*<lambda>\) is a plain function"
    ):
        sd = s.state_dict()
    assert sd["schedules"][0] is None
    json.dumps(sd)
    s2 = optim.LambdaLR(make_optimizer(), lambda step: 0.9**step)
    run(s, 4)
    with pytest.warns(UserWarning):
        s2.load_state_dict(s.state_dict())
    assert s2.get_last_lr() == s.get_last_lr()


@pytest.mark.parametrize("policy", ["error", "saved", "rescale"])
def test_horizon_guard(policy):
    a = H.get_linear_schedule_with_warmup(make_optimizer(), 10, 100)
    run(a, 40)
    sd = roundtrip(a.state_dict())
    b = H.get_linear_schedule_with_warmup(make_optimizer(), 10, 200)
    if policy == "error":
        with pytest.raises(
            ValueError, match=r"num_training_steps.: 100.*num_training_steps.: 200.*horizon='saved'"
        ):
            b.load_state_dict(sd)
        return
    b.load_state_dict(sd, horizon=policy)
    assert b.get_last_lr() == a.get_last_lr()  # no jump at the resume step
    if policy == "saved":
        assert b.lr_at(100)[0] == pytest.approx(0.0, abs=1e-18) and b.lr_at(99)[0] > 0
    else:
        assert b.lr_at(99)[0] > 0 and b.lr_at(200)[0] == pytest.approx(0.0, abs=1e-18)
        step_before = a.get_last_lr()[0] - a.lr_at(41)[0]
        assert 0 < b.get_last_lr()[0] - b.lr_at(41)[0] < step_before  # slower decay
        # the rescaled schedule saves and resumes under the new horizon without complaint
        c = H.get_linear_schedule_with_warmup(make_optimizer(), 10, 200)
        c.load_state_dict(roundtrip(b.state_dict()))
        assert c.lr_at(150) == b.lr_at(150)


def test_horizon_guard_torch_family_and_sequential():
    a = optim.CosineAnnealingLR(make_optimizer(), 50)
    run(a, 10)
    b = optim.CosineAnnealingLR(make_optimizer(), 80)
    with pytest.raises(ValueError, match="T_max"):
        b.load_state_dict(a.state_dict())
    b.load_state_dict(a.state_dict(), horizon="rescale")
    assert b.get_last_lr() == a.get_last_lr() and close(b.lr_at(80)[0], 0.0)

    def seq(o, t_max, milestone=5):
        return optim.SequentialLR(
            o,
            [optim.LinearLR(o, 0.1, 1.0, milestone), optim.CosineAnnealingLR(o, t_max)],
            [milestone],
        )

    s1 = seq(make_optimizer(), 30)
    run(s1, 12)
    s2 = seq(make_optimizer(), 60)
    with pytest.raises(ValueError, match="T_max"):
        s2.load_state_dict(s1.state_dict())
    s2.load_state_dict(roundtrip(s1.state_dict()), horizon="rescale")
    assert s2.get_last_lr() == s1.get_last_lr() and close(s2.lr_at(65)[0], 0.0)
    with pytest.raises(ValueError, match="milestones"):
        seq(make_optimizer(), 30, milestone=6).load_state_dict(s1.state_dict())


@pytest.mark.parametrize("order", ["sched_opt_sd", "opt_sched_sd", "sched_sd_opt"])
def test_restore_does_not_depend_on_order(order):
    def make(o):
        return optim.OneCycleLR(o, [0.5, 0.2, 0.9], total_steps=50)

    a = make(make_optimizer())
    run(a, 13)
    opt_sd, sched_sd = a.optimizer.state_dict(), roundtrip(a.state_dict())
    opt = make_optimizer()
    if order == "sched_opt_sd":
        b = make(opt)
        opt.load_state_dict(opt_sd)
        b.load_state_dict(sched_sd)
    elif order == "opt_sched_sd":
        opt.load_state_dict(opt_sd)
        b = make(opt)
        b.load_state_dict(sched_sd)
    else:
        b = make(opt)
        b.load_state_dict(sched_sd)
        opt.load_state_dict(opt_sd)
    for ga, gb in zip(a.optimizer.param_groups, opt.param_groups):
        assert ga["lr"] == gb["lr"] and ga["momentum"] == gb["momentum"]
    run(a, 5)
    run(b, 5)
    assert b.get_last_lr() == a.get_last_lr()


def test_every_state_dict_is_plain_json():
    o = make_optimizer()
    scheds = [
        optim.StepLR(o, 3),
        optim.MultiStepLR(o, [3, 9]),
        optim.CyclicLR(o, 0.01, 0.1, 4),
        optim.CosineAnnealingWarmRestarts(o, 4, 2),
        optim.ReduceLROnPlateau(o),
        optim.SequentialLR(o, [optim.ConstantLR(o), optim.ExponentialLR(o, 0.9)], [4]),
        optim.ChainedScheduler([optim.LinearLR(o), optim.ExponentialLR(o, 0.9)]),
        H.get_wsd_schedule(o, 3, 5, 20),
        H.get_transformer_schedule(o, 64, 10),
        H.get_step_decay_schedule(o, 4, num_warmup_steps=2),
        H.get_cosine_restarts_schedule(o, 5),
    ]
    for s in scheds:
        sd = s.state_dict()
        assert roundtrip(sd) == sd
        s.load_state_dict(roundtrip(sd))


PLATEAU_METRICS = [
    10,
    9,
    9.5,
    9.2,
    9.1,
    9.3,
    9.0,
    8.99,
    8.999,
    9.5,
    9.6,
    9.7,
    9.8,
    8,
    8,
    8,
    8,
    8,
    8,
    8,
    8,
    8,
    8,
]


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"patience": 1, "factor": 0.5},
        {"mode": "max", "patience": 0, "threshold_mode": "abs", "threshold": 0.5},
        {"patience": 1, "cooldown": 2, "min_lr": [0.02, 0.01, 0.05], "threshold": 0.01},
        {"patience": 0, "threshold_mode": "abs", "eps": 0.02, "factor": 0.7},
    ],
)
def test_plateau_matches_torch_and_resumes(kw):
    ot, og = make_optimizer(), make_optimizer()
    st, sg = T.ReduceLROnPlateau(ot, **kw), optim.ReduceLROnPlateau(og, **kw)
    preview = sg.simulate(PLATEAU_METRICS)
    for i, m in enumerate(PLATEAU_METRICS):
        st.step(m)
        sg.step(m)
        assert [g["lr"] for g in og.param_groups] == [g["lr"] for g in ot.param_groups], i
        assert sg.get_last_lr() == preview[i + 1]
        assert (sg.best, sg.num_bad_epochs, sg.cooldown_counter) == (
            st.best,
            st.num_bad_epochs,
            st.cooldown_counter,
        )
        if i == 8:
            sd = roundtrip(sg.state_dict())
            og2 = make_optimizer()
            sg2 = optim.ReduceLROnPlateau(og2)
            sg2.load_state_dict(sd)
    for m in PLATEAU_METRICS[9:]:
        sg2.step(m)
    assert sg2.get_last_lr() == sg.get_last_lr()
    with pytest.raises(TypeError, match="simulate"):
        sg.lr_at(3)


def test_fresh_plateau_state_dict_has_no_infinity():
    sd = optim.ReduceLROnPlateau(make_optimizer()).state_dict()
    assert sd["best"] is None
    json.dumps(sd, allow_nan=False)
