"""The benchmark harness and the published table.

The README's benchmark table must be what ``benchmarks/readme_table.py`` writes from the
committed results file, and that file must hold one row per benchmark the modules declare,
with their current targets and notes (rerun ``nox -s bench`` when either is stale). The
harness must refuse a benchmark whose two sides disagree, time the sides alternately and
name the fastest PyTorch option.
"""

from __future__ import annotations

import importlib
import itertools
import json
import sys
from pathlib import Path
from types import SimpleNamespace

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


@pytest.fixture
def clock(bench, monkeypatch):
    """The harness's clock, advanced only by the calls under test: timings are exact."""
    now = [0.0]
    monkeypatch.setattr(bench("_harness"), "time", SimpleNamespace(perf_counter=lambda: now[0]))
    return now


def costing(clock, seconds, name=None, log=None):
    def call():
        clock[0] += seconds
        if log is not None:
            log.append(name)
        return np.ones(3)
    return call


def test_sides_alternate_and_the_fastest_torch_option_wins(bench, clock):
    log = []
    row = contest(bench, costing(clock, 2e-3, "g", log),
                  {"slow": costing(clock, 6e-3, "s", log), "fast": costing(clock, 1e-3, "f", log)},
                  before=lambda: None)  # before: one call per block, so the order is visible
    result = measure(bench, row, repeats=3)
    check, timed = log[:6], log[6:]
    assert check == ["g", "s", "f"] * 2
    # each timed call follows SETTLE_S seconds of untimed calls of the same side
    runs = [(name, len(list(group))) for name, group in itertools.groupby(timed)]
    # g s f | f s g | g s f: a repetition's last side opens the next one's reversed order
    assert [name for name, _ in runs] == ["g", "s", "f", "s", "g", "s", "f"]
    cost = {"g": 2e-3, "s": 6e-3, "f": 1e-3}
    settle = bench("_harness").SETTLE_S
    assert all(n - 1 >= settle / cost[name] - 1e-6 for name, n in runs)
    assert result["torch_option"] == "fast"
    assert result["torch_options_median_s"] == {"slow": 6e-3, "fast": 1e-3}
    assert result["genesis_s"] == {"median": 2e-3, "min": 2e-3, "max": 2e-3}
    assert result["ratio"] == {"median": 2.0, "min": 2.0, "max": 2.0}


def test_blocks_are_sized_to_the_budget(bench, clock):
    result = measure(bench, contest(bench, costing(clock, 1e-5), {"": costing(clock, 4e-5)}))
    assert result["calls_per_block"] == [200, 50]  # 2 ms blocks
    assert result["ratio"]["median"] == 0.25
    smoke = measure(bench, contest(bench, costing(clock, 1e-5), {"": costing(clock, 4e-5)}),
                    smoke=True)
    assert smoke["calls_per_block"] == [1, 1]


def test_a_row_timed_elsewhere_is_reported_with_paired_ratios(bench):
    harness, table = bench("_harness"), bench("_table")
    asked = []

    def run(repeats, budget):
        asked.append((repeats, budget))
        return harness.Timings([2.0, 3.0, 4.0], {"a": [1.0, 1.0, 1.0], "b": [4.0, 6.0, 2.0]},
                               [5, 7, 9], "80% hidden")
    case = harness.Case("row", lambda: harness.External(run, megabytes=8.0), 2.5, "note")
    result = harness.measure("m", case, 3, 0.5, False)
    assert asked == [(3, 0.5)]
    assert result["torch_option"] == "a"
    assert result["ratio"] == {"median": 3.0, "min": 2.0, "max": 4.0}
    assert result["calls_per_block"] == [5, 7, 9]
    assert table.cells(result)[-1] == "note; 80% hidden"
    harness.measure("m", case, 3, 0.5, True)
    assert asked[-1] == (1, 0.0)  # smoke: one call per block
