"""Each optimizer matches torch.optim step for step, over all option combinations."""

from __future__ import annotations

import itertools

import pytest
from _optim_compare import assert_matches_torch

DTYPES = ("float32", "float64")


def _grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


SGD_CASES = [c for c in _grid(momentum=(0, 0.9), dampening=(0, 0.3), nesterov=(False, True),
                              weight_decay=(0, 0.1), maximize=(False, True))
             if not c["nesterov"] or (c["momentum"] > 0 and c["dampening"] == 0)]
ADAM_CASES = _grid(amsgrad=(False, True), weight_decay=(0, 0.1), maximize=(False, True),
                   betas=((0.9, 0.999), (0.8, 0.95)))
RMSPROP_CASES = _grid(momentum=(0, 0.5), centered=(False, True), alpha=(0.99, 0.9),
                      weight_decay=(0, 0.1), maximize=(False, True))
ADAGRAD_CASES = _grid(lr_decay=(0, 0.01), initial_accumulator_value=(0, 0.1),
                      weight_decay=(0, 0.1), maximize=(False, True))


def _ids(cases):
    return ["-".join(f"{k}={v}" for k, v in c.items()) for c in cases]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SGD_CASES, ids=_ids(SGD_CASES))
def test_sgd_matches_torch(case, dtype):
    assert_matches_torch("SGD", {"lr": 0.05, **case}, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fused", [False, None], ids=["composite", "auto"])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("case", ADAM_CASES, ids=_ids(ADAM_CASES))
def test_adam_matches_torch(name, case, fused, dtype):
    assert_matches_torch(name, {"lr": 0.01, **case}, dtype, genesis_kwargs={"fused": fused})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", RMSPROP_CASES, ids=_ids(RMSPROP_CASES))
def test_rmsprop_matches_torch(case, dtype):
    assert_matches_torch("RMSprop", {"lr": 0.01, **case}, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ADAGRAD_CASES, ids=_ids(ADAGRAD_CASES))
def test_adagrad_matches_torch(case, dtype):
    assert_matches_torch("Adagrad", {"lr": 0.05, **case}, dtype)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_defaults_match_torch(name):
    assert_matches_torch(name, {}, "float32", steps=5)
