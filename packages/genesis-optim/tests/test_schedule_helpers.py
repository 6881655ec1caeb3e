"""Schedule helpers against transformers' published formulas, written out here in float64."""

from __future__ import annotations

import json
import math
import warnings

import genesis.optim as optim  # noqa: PLR0402
import pytest
from _torch_compare import close, make_optimizer
from genesis.optim import schedule_helpers as H

W, T_ = 10, 50


def ref_warmup(s, w):
    return s / max(1, w)


def ref_linear(s, w, t):
    return ref_warmup(s, w) if s < w else max(0.0, (t - s) / max(1, t - w))


def ref_cosine(s, w, t, c=0.5):
    if s < w:
        return ref_warmup(s, w)
    p = (s - w) / max(1, t - w)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * c * 2.0 * p)))


def ref_hard(s, w, t, c=1):
    if s < w:
        return ref_warmup(s, w)
    p = (s - w) / max(1, t - w)
    return 0.0 if p >= 1.0 else max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((c * p) % 1.0))))


def ref_poly(s, w, t, lr_init, lr_end=1e-7, power=1.0):
    if s < w:
        return ref_warmup(s, w)
    if s > t:
        return lr_end / lr_init
    return ((lr_init - lr_end) * (1 - (s - w) / (t - w)) ** power + lr_end) / lr_init


def ref_inv_sqrt(s, w, ts):
    return ref_warmup(s, w) if s < w else 1.0 / math.sqrt((s + ts - w) / ts)


def ref_wsd(s, w, st, d, wt, dt, m, c):
    if s < w:
        p = s / max(1, w)
        f = {
            "linear": p,
            "cosine": 0.5 * (1 - math.cos(math.pi * p)),
            "1-sqrt": 1 - math.sqrt(1 - p),
        }[wt]
        return max(0.0, f * (1 - m) + m)
    if s < w + st:
        return 1.0
    if s < w + st + d:
        p = (s - w - st) / max(1, d)
        f = {
            "linear": 1 - p,
            "cosine": 0.5 * (1 + math.cos(math.pi * c * 2 * p)),
            "1-sqrt": 1 - math.sqrt(p),
        }[dt]
        return max(0.0, f * (1 - m) + m)
    return m


def ref_noam(s, d, w):
    s = max(s, 1)
    return d**-0.5 * min(s**-0.5, s * w**-1.5)


def check(scheduler, factor, steps=T_ + 15):
    bases = list(scheduler.base_lrs)
    for s in range(steps):
        got = [g["lr"] for g in scheduler.optimizer.param_groups]
        want = [b * factor(s) for b in bases]
        assert all(close(a, b) for a, b in zip(got, want)), (s, got, want)
        scheduler.optimizer.step()
        scheduler.step()


CASES = [
    (lambda o: H.get_constant_schedule(o), lambda s: 1.0),
    (
        lambda o: H.get_constant_schedule_with_warmup(o, W),
        lambda s: ref_warmup(s, W) if s < W else 1.0,
    ),
    (lambda o: H.get_linear_schedule_with_warmup(o, W, T_), lambda s: ref_linear(s, W, T_)),
    (lambda o: H.get_linear_schedule_with_warmup(o, 0, T_), lambda s: ref_linear(s, 0, T_)),
    (lambda o: H.get_cosine_schedule_with_warmup(o, W, T_), lambda s: ref_cosine(s, W, T_)),
    (
        lambda o: H.get_cosine_schedule_with_warmup(o, W, T_, num_cycles=1.5),
        lambda s: ref_cosine(s, W, T_, 1.5),
    ),
    (
        lambda o: H.get_cosine_with_hard_restarts_schedule_with_warmup(o, W, T_, 3),
        lambda s: ref_hard(s, W, T_, 3),
    ),
    (lambda o: H.get_inverse_sqrt_schedule(o, W), lambda s: ref_inv_sqrt(s, W, W)),
    (lambda o: H.get_inverse_sqrt_schedule(o, W, timescale=25), lambda s: ref_inv_sqrt(s, W, 25)),
    (lambda o: H.get_inverse_sqrt_schedule(o, 0), lambda s: ref_inv_sqrt(s, 0, 10_000)),
    (lambda o: H.get_transformer_schedule(o, 512, 8), lambda s: ref_noam(s, 512, 8)),
]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_helper_formulas(index):
    make, factor = CASES[index]
    check(make(make_optimizer()), factor)


@pytest.mark.parametrize("wt", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("dt", ["linear", "cosine", "1-sqrt"])
def test_wsd_formula(wt, dt):
    sched = H.get_wsd_schedule(
        make_optimizer(),
        5,
        12,
        num_training_steps=40,
        warmup_type=wt,
        decay_type=dt,
        min_lr_ratio=0.1,
    )
    check(sched, lambda s: ref_wsd(s, 5, 23, 12, wt, dt, 0.1, 0.5), 50)


def test_wsd_stable_steps_win_with_warning():
    with pytest.warns(UserWarning, match="num_stable_steps"):
        sched = H.get_wsd_schedule(
            make_optimizer(), 5, 10, num_training_steps=100, num_stable_steps=7
        )
    check(sched, lambda s: ref_wsd(s, 5, 7, 10, "linear", "cosine", 0.0, 0.5), 30)


def test_polynomial_with_warmup_per_group_lr_init():
    opt = make_optimizer(lrs=(0.1, 0.01))
    sched = H.get_polynomial_decay_schedule_with_warmup(opt, W, T_, lr_end=1e-4, power=2.0)
    for s in range(T_ + 5):
        for g, lr in zip(opt.param_groups, (0.1, 0.01)):
            assert close(g["lr"], lr * ref_poly(s, W, T_, lr, 1e-4, 2.0))
        sched.step()
    assert close(opt.param_groups[1]["lr"], 1e-4)


def test_own_helpers_formulas():
    check(
        H.get_step_decay_schedule(make_optimizer(), 7, 0.5, num_warmup_steps=4),
        lambda s: s / 4 if s < 4 else 0.5 ** ((s - 4) // 7),
    )
    check(
        H.get_polynomial_decay_schedule(
            make_optimizer(), 30, power=2.0, end_factor=0.1, num_warmup_steps=5
        ),
        lambda s: s / 5 if s < 5 else 0.1 + 0.9 * (1 - min(s - 5, 25) / 25) ** 2,
    )

    def sgdr(s, w=3, t0=4, mult=2, lo=0.05, decay=0.5):
        if s < w:
            return s / w
        t, k, start, length = s - w, 0, 0, t0
        while t >= start + length:
            k, start, length = k + 1, start + length, length * mult
        return lo + (decay**k - lo) * (1 + math.cos(math.pi * (t - start) / length)) / 2

    check(
        H.get_cosine_restarts_schedule(make_optimizer(), 4, 2, 0.05, 0.5, num_warmup_steps=3),
        sgdr,
        70,
    )
    check(
        H.get_cosine_restarts_schedule(make_optimizer(), 6, min_factor=0.1),
        lambda s: 0.1 + 0.9 * (1 + math.cos(math.pi * (s % 6) / 6)) / 2,
        40,
    )


def test_values_at_landmarks():
    s = H.get_cosine_schedule_with_warmup(make_optimizer(lrs=(0.2,)), W, T_)
    assert s.lr_at(0) == [0.0]
    assert s.lr_at(W) == [0.2]
    assert s.lr_at(T_)[0] == pytest.approx(0.0, abs=1e-18)
    noam = H.get_transformer_schedule(make_optimizer(lrs=(1.0,)), 512, 4000)
    assert noam.lr_at(0) == noam.lr_at(1)
    assert noam.lr_at(4000)[0] == pytest.approx(512**-0.5 * 4000**-0.5)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda o: H.get_linear_schedule_with_warmup(o, 60, 50),
            r"num_warmup_steps must be <= num_training_steps \(50\), got 60",
        ),
        (
            lambda o: H.get_linear_schedule_with_warmup(o, -1, 50),
            r"num_warmup_steps must be a non-negative integer, got -1",
        ),
        (lambda o: H.get_cosine_schedule_with_warmup(o, 2.5, 50), r"num_warmup_steps .* got 2.5"),
        (
            lambda o: H.get_cosine_schedule_with_warmup(o, 2, 50.0),
            r"num_training_steps .* got 50.0",
        ),
        (
            lambda o: H.get_polynomial_decay_schedule_with_warmup(o, 2, 50, lr_end=1.0),
            r"lr_end must be smaller",
        ),
        (lambda o: H.get_wsd_schedule(o, 5, 10), r"num_training_steps or num_stable_steps"),
        (lambda o: H.get_wsd_schedule(o, 5, 10, 8), r"num_training_steps must be >= .* got 8"),
        (
            lambda o: H.get_wsd_schedule(o, 5, 10, 80, decay_type="exp"),
            r"decay_type must be one of",
        ),
        (lambda o: H.get_transformer_schedule(o, 0, 10), r"d_model must be an integer >= 1"),
        (lambda o: H.get_step_decay_schedule(o, 0), r"step_size must be"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(make_optimizer())


def test_non_positive_lr_rejected():
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['lr'\] must be .* got 0.0"):
        H.get_linear_schedule_with_warmup(make_optimizer(lrs=(0.1, 0.0)), 1, 5)


def test_helpers_save_parameters_not_functions():
    sched = H.get_cosine_schedule_with_warmup(make_optimizer(), W, T_, num_cycles=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sd = sched.state_dict()
    json.dumps(sd, allow_nan=False)
    assert sd["schedules"][0] == {
        "type": "CosineWithWarmup",
        "num_warmup_steps": W,
        "num_training_steps": T_,
        "num_cycles": 0.25,
    }
    assert isinstance(sched, optim.LambdaLR)
