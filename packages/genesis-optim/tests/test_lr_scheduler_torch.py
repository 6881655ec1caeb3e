"""Every scheduler against torch.optim.lr_scheduler, step by step, with 3 param groups."""

from __future__ import annotations

import warnings

import genesis.optim as optim  # noqa: PLR0402
import pytest
import torch.optim.lr_scheduler as T
from _torch_compare import assert_same_lrs, make_optimizer

warnings.filterwarnings("ignore", message="The epoch parameter", category=UserWarning)


CASES = {
    "lambda": (
        lambda o: T.LambdaLR(o, lambda s: 0.95**s),
        lambda o: optim.LambdaLR(o, lambda s: 0.95**s),
    ),
    "lambda_list": (
        lambda o: T.LambdaLR(o, [lambda s: 0.9**s, lambda s: 1 / (s + 1), lambda s: 1.0]),
        lambda o: optim.LambdaLR(o, [lambda s: 0.9**s, lambda s: 1 / (s + 1), lambda s: 1.0]),
    ),
    "multiplicative": (
        lambda o: T.MultiplicativeLR(o, lambda s: 0.97),
        lambda o: optim.MultiplicativeLR(o, lambda s: 0.97),
    ),
    "multiplicative_varying": (
        lambda o: T.MultiplicativeLR(o, lambda s: 1 - 0.01 * (s % 5)),
        lambda o: optim.MultiplicativeLR(o, lambda s: 1 - 0.01 * (s % 5)),
    ),
    "step": (lambda o: T.StepLR(o, 7, 0.5), lambda o: optim.StepLR(o, 7, 0.5)),
    "multistep": (
        lambda o: T.MultiStepLR(o, [5, 12, 12, 30], 0.3),
        lambda o: optim.MultiStepLR(o, [5, 12, 12, 30], 0.3),
    ),
    "constant": (lambda o: T.ConstantLR(o, 0.25, 9), lambda o: optim.ConstantLR(o, 0.25, 9)),
    "linear": (lambda o: T.LinearLR(o, 0.1, 0.9, 17), lambda o: optim.LinearLR(o, 0.1, 0.9, 17)),
    "exponential": (lambda o: T.ExponentialLR(o, 0.93), lambda o: optim.ExponentialLR(o, 0.93)),
    "polynomial": (lambda o: T.PolynomialLR(o, 20, 2.0), lambda o: optim.PolynomialLR(o, 20, 2.0)),
    "cosine": (lambda o: T.CosineAnnealingLR(o, 10), lambda o: optim.CosineAnnealingLR(o, 10)),
    "cosine_eta_min": (
        lambda o: T.CosineAnnealingLR(o, 13, 0.004),
        lambda o: optim.CosineAnnealingLR(o, 13, 0.004),
    ),
    "cosine_long": (
        lambda o: T.CosineAnnealingLR(o, 50, 0.001),
        lambda o: optim.CosineAnnealingLR(o, 50, 0.001),
    ),
    "warm_restarts": (
        lambda o: T.CosineAnnealingWarmRestarts(o, 5, 1, 0.001),
        lambda o: optim.CosineAnnealingWarmRestarts(o, 5, 1, 0.001),
    ),
    "warm_restarts_mult": (
        lambda o: T.CosineAnnealingWarmRestarts(o, 3, 2, 0.002),
        lambda o: optim.CosineAnnealingWarmRestarts(o, 3, 2, 0.002),
    ),
    "cyclic_triangular": (
        lambda o: T.CyclicLR(o, 0.01, 0.1, 4, 6, cycle_momentum=False),
        lambda o: optim.CyclicLR(o, 0.01, 0.1, 4, 6, cycle_momentum=False),
    ),
    "cyclic_triangular2": (
        lambda o: T.CyclicLR(
            o, [0.01, 0.02, 0.03], 0.2, 5, mode="triangular2", cycle_momentum=False
        ),
        lambda o: optim.CyclicLR(
            o, [0.01, 0.02, 0.03], 0.2, 5, mode="triangular2", cycle_momentum=False
        ),
    ),
    "cyclic_exp_range": (
        lambda o: T.CyclicLR(o, 0.01, 0.1, 3, mode="exp_range", gamma=0.97, cycle_momentum=False),
        lambda o: optim.CyclicLR(
            o, 0.01, 0.1, 3, mode="exp_range", gamma=0.97, cycle_momentum=False
        ),
    ),
    "cyclic_scale_fn": (
        lambda o: T.CyclicLR(
            o, 0.01, 0.1, 4, scale_fn=lambda x: 1 / x, scale_mode="cycle", cycle_momentum=False
        ),
        lambda o: optim.CyclicLR(
            o, 0.01, 0.1, 4, scale_fn=lambda x: 1 / x, scale_mode="cycle", cycle_momentum=False
        ),
    ),
    "cyclic_scale_fn_iter": (
        lambda o: T.CyclicLR(
            o,
            0.01,
            0.1,
            4,
            scale_fn=lambda x: 0.99**x,
            scale_mode="iterations",
            cycle_momentum=False,
        ),
        lambda o: optim.CyclicLR(
            o,
            0.01,
            0.1,
            4,
            scale_fn=lambda x: 0.99**x,
            scale_mode="iterations",
            cycle_momentum=False,
        ),
    ),
    "onecycle_cos": (
        lambda o: T.OneCycleLR(o, [1.0, 0.5, 2.0], total_steps=40),
        lambda o: optim.OneCycleLR(o, [1.0, 0.5, 2.0], total_steps=40),
    ),
    "onecycle_linear_three_phase": (
        lambda o: T.OneCycleLR(
            o, 0.8, epochs=4, steps_per_epoch=9, anneal_strategy="linear", three_phase=True
        ),
        lambda o: optim.OneCycleLR(
            o, 0.8, epochs=4, steps_per_epoch=9, anneal_strategy="linear", three_phase=True
        ),
    ),
    "onecycle_three_phase_cos": (
        lambda o: T.OneCycleLR(
            o, 0.8, total_steps=31, pct_start=0.25, three_phase=True, div_factor=10.0
        ),
        lambda o: optim.OneCycleLR(
            o, 0.8, total_steps=31, pct_start=0.25, three_phase=True, div_factor=10.0
        ),
    ),
}

STEPS = {"onecycle_cos": 40, "onecycle_linear_three_phase": 36, "onecycle_three_phase_cos": 31}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_lrs_as_torch(name):
    make_torch, make_ours = CASES[name]
    assert_same_lrs(make_torch, make_ours, STEPS.get(name, 60))


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_cyclic_momentum_matches_torch(kind):
    assert_same_lrs(
        lambda o: T.CyclicLR(o, 0.01, 0.1, 3, 5, base_momentum=0.7, max_momentum=0.95),
        lambda o: optim.CyclicLR(o, 0.01, 0.1, 3, 5, base_momentum=0.7, max_momentum=0.95),
        30,
        kind=kind,
        momentum=True,
    )


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_onecycle_momentum_matches_torch(kind, three_phase):
    assert_same_lrs(
        lambda o: T.OneCycleLR(o, 0.5, total_steps=25, three_phase=three_phase),
        lambda o: optim.OneCycleLR(o, 0.5, total_steps=25, three_phase=three_phase),
        25,
        kind=kind,
        momentum=True,
    )


def test_cosine_beyond_t_max_and_long_horizon():
    assert_same_lrs(
        lambda o: T.CosineAnnealingLR(o, 7, 0.01),
        lambda o: optim.CosineAnnealingLR(o, 7, 0.01),
        7 * 5,
    )
    assert_same_lrs(
        lambda o: T.CosineAnnealingLR(o, 200, 0.0005),
        lambda o: optim.CosineAnnealingLR(o, 200, 0.0005),
        450,
    )


def test_warm_restarts_fractional_epochs():
    epochs = [i / 4 for i in range(1, 60)]
    assert_same_lrs(
        lambda o: T.CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
        lambda o: optim.CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
        0,
        epochs=epochs,
    )


def test_warm_restarts_fractional_then_plain_steps():
    epochs = [0.3, 1.7, 2.2, None, None, 4.5, None, None, None, None, None]
    assert_same_lrs(
        lambda o: T.CosineAnnealingWarmRestarts(o, 2, 2),
        lambda o: optim.CosineAnnealingWarmRestarts(o, 2, 2),
        0,
        epochs=epochs,
    )


def test_sequential_matches_torch():
    def torch_seq(o):
        return T.SequentialLR(
            o,
            [
                T.LinearLR(o, 0.1, 1.0, 5),
                T.CosineAnnealingLR(o, 20, 0.001),
                T.ExponentialLR(o, 0.9),
            ],
            [5, 25],
        )

    def ours_seq(o):
        return optim.SequentialLR(
            o,
            [
                optim.LinearLR(o, 0.1, 1.0, 5),
                optim.CosineAnnealingLR(o, 20, 0.001),
                optim.ExponentialLR(o, 0.9),
            ],
            [5, 25],
        )

    assert_same_lrs(torch_seq, ours_seq, 40)


def test_sequential_constant_then_exponential_docs_example():
    assert_same_lrs(
        lambda o: T.SequentialLR(o, [T.ConstantLR(o, 0.1, 20), T.ExponentialLR(o, 0.9)], [20]),
        lambda o: optim.SequentialLR(
            o, [optim.ConstantLR(o, 0.1, 20), optim.ExponentialLR(o, 0.9)], [20]
        ),
        40,
    )


def test_chained_matches_torch():
    assert_same_lrs(
        lambda o: T.ChainedScheduler(
            [T.ConstantLR(o, 0.1, 20), T.ExponentialLR(o, 0.9)], optimizer=o
        ),
        lambda o: optim.ChainedScheduler(
            [optim.ConstantLR(o, 0.1, 20), optim.ExponentialLR(o, 0.9)], optimizer=o
        ),
        40,
    )
    assert_same_lrs(
        lambda o: T.ChainedScheduler(
            [T.LinearLR(o, 0.2, 1.0, 6), T.StepLR(o, 4, 0.5), T.CosineAnnealingLR(o, 30)]
        ),
        lambda o: optim.ChainedScheduler(
            [
                optim.LinearLR(o, 0.2, 1.0, 6),
                optim.StepLR(o, 4, 0.5),
                optim.CosineAnnealingLR(o, 30),
            ]
        ),
        29,
    )


def test_resume_with_last_epoch_matches_torch():
    """Resuming (closed-form torch schedulers): groups hold 'initial_lr' and the LR of step 6
    (as a loaded optimizer state does)."""

    def both(cls_t, cls_g, **kw):
        def resumed(cls):
            def make(o):
                ref = cls_t(make_optimizer(), **kw)
                for _ in range(6):
                    ref.step()
                for g, base, lr in zip(o.param_groups, ref.base_lrs, ref.get_last_lr()):
                    g["initial_lr"], g["lr"] = base, lr
                return cls(o, last_epoch=6, **kw)

            return make

        assert_same_lrs(resumed(cls_t), resumed(cls_g), 20)

    both(T.StepLR, optim.StepLR, step_size=4, gamma=0.5)
    both(T.LambdaLR, optim.LambdaLR, lr_lambda=lambda s: 1 / (1 + s))
    # torch's recursive schedulers (Cosine, Exponential, ...) keep the loaded LR one step
    # behind last_epoch when resumed this way; ours stay in closed form (test_lr_scheduler.py).
