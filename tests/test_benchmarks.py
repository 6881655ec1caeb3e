"""The benchmark harness and the published table.

The README's benchmark table must be what ``benchmarks/readme_table.py`` writes from the
committed results file, and that file must hold one row per benchmark the modules declare,
with their current targets and notes (rerun ``nox -s bench`` when either is stale). The
harness must refuse a benchmark whose two sides disagree, time the sides alternately and
name the fastest PyTorch option.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    """Import benchmark modules as ``run.py`` does, from the benchmarks folder; forgotten
    afterwards (their names, like ``run``, are too plain to leave in ``sys.modules``)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    yield importlib.import_module
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "/").parent == BENCHMARKS:
            del sys.modules[name]


def results() -> dict:
    return json.loads((BENCHMARKS / "results" / "cpu.json").read_text(encoding="utf-8"))


def test_readme_table_is_written_from_the_results_file(bench):
    table = bench("readme_table")
    readme = table.README.read_text(encoding="utf-8")
    assert readme == table.with_table(readme, results()), \
        "README.md's benchmark table is stale: run `python benchmarks/readme_table.py`"


def test_results_file_has_one_row_per_declared_benchmark(bench):
    run = bench("run")
    declared = [(name, case.name, case.target, case.note)
                for name in run.module_names() for case in bench(name).cases(False)]
    recorded = [(r["module"], r["name"], r["target"], r["note"]) for r in results()["rows"]]
    assert recorded == declared, \
        "benchmarks/results/cpu.json is stale: run `nox -s bench` on a quiet machine"


def test_every_module_has_a_smoke_size_with_the_same_rows(bench):
    run = bench("run")
    for name in run.module_names():
        module = bench(name)
        assert [c.name for c in module.cases(True)] == [c.name for c in module.cases(False)]
        assert module.TITLE


def contest(bench, genesis, torch, **kwargs):
    return bench("_harness").Contest(genesis=genesis, torch=torch, **kwargs)


def measure(bench, contest, repeats=3, smoke=False):
    harness = bench("_harness")
    return harness.measure("m", harness.Case("row", lambda: contest), repeats, 0.002, smoke)


@pytest.mark.parametrize("genesis, torch", [
    (lambda: np.ones(4, np.float32), lambda: np.full(4, 1.01, np.float32)),  # values
    (lambda: np.ones(4), lambda: np.ones(5)),                                # shapes
    (lambda: [np.ones(2)], lambda: [np.ones(2), np.ones(2)]),                # structure
    (lambda: np.array([1.0, np.nan]), lambda: np.array([1.0, np.nan])),      # NaN both sides
    (lambda: {"epoch": 3}, lambda: {"epoch": 4}),                            # exact values
])
def test_a_row_whose_sides_disagree_fails_before_timing(bench, genesis, torch):
    timed = []
    row = contest(bench, genesis, {"": torch}, tol=1e-3, after_check=lambda: timed.append(1))
    with pytest.raises(AssertionError, match="row, call 1, PyTorch default"):
        measure(bench, row)
    assert not timed


def test_results_are_compared_in_relative_l2_norm(bench):
    harness = bench("_harness")
    # one element off by 10% of the array's scale is 1e-3 of its norm over 10 000 elements
    want = np.ones(10_000)
    got = want.copy()
    got[0] = 1.1
    harness.assert_same(got, want, 2e-3)
    with pytest.raises(AssertionError, match="relative error"):
        harness.assert_same(got, want, 5e-4)


def test_sides_alternate_and_the_fastest_torch_option_wins(bench):
    calls = []

    def side(name, seconds):
        def call():
            calls.append(name)
            time.sleep(seconds)
            return np.ones(3)
        return call

    row = contest(bench, side("g", 0.002), {"slow": side("s", 0.006), "fast": side("f", 0.001)},
                  before=lambda: None)  # before: one call per block, so the order is visible
    result = measure(bench, row, repeats=3)
    check, timed = calls[:6], calls[6:]
    assert check == ["g", "s", "f"] * 2
    assert timed == ["g", "s", "f", "f", "s", "g", "g", "s", "f"]
    assert result["torch_option"] == "fast"
    assert set(result["torch_options_median_s"]) == {"slow", "fast"}
    assert result["ratio"]["median"] > 1 and result["calls_per_block"] == [1, 1, 1]


def test_blocks_are_sized_to_the_budget(bench):
    row = contest(bench, lambda: 1.0, {"": lambda: 1.0})
    result = measure(bench, row)
    assert min(result["calls_per_block"]) > 100  # a no-op call: many per 2 ms block
    smoke = measure(bench, contest(bench, lambda: 1.0, {"": lambda: 1.0}), smoke=True)
    assert smoke["calls_per_block"] == [1, 1]
