"""lr_range_test on a real torch model: exponential sweep, divergence stop, suggestion."""

from __future__ import annotations

import math

import pytest
import torch
from genesis.optim.lr_finder import lr_range_test


def quadratic_problem():
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0])
    w = torch.nn.Parameter(torch.zeros(4))
    opt = torch.optim.SGD([w], lr=0.123)

    def step() -> float:
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    return opt, step


def test_sweep_stops_on_divergence_and_suggests():
    opt, step = quadratic_problem()
    result = lr_range_test(opt, step, start_lr=1e-5, end_lr=10.0, num_steps=60)
    assert result.diverged and len(result.lrs) < 60
    ratios = [b / a for a, b in zip(result.lrs, result.lrs[1:])]
    assert all(math.isclose(r, ratios[0]) for r in ratios)
    assert result.lrs[0] == 1e-5 and 1e-4 < result.suggestion < 1.0
    assert opt.param_groups[0]["lr"] == 0.123  # restored
    assert result.smoothed_losses[-1] > 4 * min(result.smoothed_losses)


def test_sweep_without_divergence_runs_all_steps():
    calls = []
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    result = lr_range_test(
        opt, lambda: calls.append(1) or 1.0 / len(calls), 1e-4, 1e-1, num_steps=20
    )
    assert len(calls) == 20 and not result.diverged and result.lrs[-1] == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"start_lr": 0.0}, r"start_lr must be .* got 0.0"),
        ({"start_lr": 1.0, "end_lr": 0.5}, r"end_lr must be .* got 0.5"),
        ({"num_steps": 1}, r"num_steps must be an integer >= 2"),
        ({"diverge_threshold": 1.0}, r"diverge_threshold"),
    ],
)
def test_bad_arguments(kw, match):
    opt, step = quadratic_problem()
    with pytest.raises(ValueError, match=match):
        lr_range_test(opt, step, **kw)
