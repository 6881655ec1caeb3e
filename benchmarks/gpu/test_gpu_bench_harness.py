"""benchmarks/gpu/_gpu_bench.py, the GPU benchmark's harness, in its smoke mode: a row is
recorded as failed when a check before it fails or when no check came before it, a group
that raises is recorded and the next group still runs, and the results file says so.
Run by ``nox -s triton`` (Triton's interpreter, with genesis-models for the LLM rows)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import genesis
import pytest
import torch

GPU_BENCH = Path(__file__).resolve().parent


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(GPU_BENCH))
    yield importlib.import_module("_gpu_bench").Bench(smoke=True)
    sys.modules.pop("_gpu_bench", None)


def test_rows_pass_only_after_passing_checks(bench, tmp_path):
    x = genesis.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda")
    tx = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    bench.check("same", x * 2, tx * 2, 0.0)
    bench.row("g", "checked", lambda: x * 2, lambda: tx * 2, 1, rounds=1)
    bench.check("off by 1%", x * 2, tx * 2.02, 1e-3)
    bench.check_equal("ids", [1, 2], [1, 2])
    bench.row("g", "mismatch", lambda: x * 2, lambda: tx * 2, 1, rounds=1)
    bench.row("g", "unchecked", lambda: x * 2, lambda: tx * 2, 1, rounds=1)
    assert [r["ok"] for r in bench.rows] == [True, False, False]
    failed = bench.rows[1]["checks"][0]
    # max |got - ref| / max |ref| = |8 - 8.08| / 8.08
    assert not failed["ok"] and failed["error"] == pytest.approx(0.08 / 8.08, rel=1e-6)
    assert bench.rows[1]["checks"][1]["ok"]
    assert [m["name"] for m in bench.mismatches] == ["mismatch", "unchecked"]
    assert bench.mismatches[1]["checks"] == "no check before this row"
    assert bench.failed
    path = tmp_path / "results.json"
    bench.write(str(path))
    saved = json.loads(path.read_text())
    assert [m["name"] for m in saved["mismatches"]] == ["mismatch", "unchecked"]
    assert set(saved["rows"][0]["genesis_ms"]) == {"median", "min", "max"}
    assert saved["machine"]["card"] == "Triton interpreter (smoke)"


def test_l2_metric_and_shape_mismatch(bench):
    x = genesis.tensor([3.0, 4.0], device="cuda")
    bench.check("l2", x, torch.tensor([3.0, 4.5]), 1.0, "l2")
    bench.check("shape", x, torch.tensor([3.0, 4.0, 5.0]), 1.0)
    l2, shape = bench._pending
    assert l2["error"] == pytest.approx(0.5 / (9 + 4.5**2) ** 0.5)
    assert not shape["ok"] and "shape" in shape["note"]


def test_a_group_that_raises_is_recorded_and_the_next_runs(bench):
    def broken():
        bench.check("left pending", 1.0, 1.0, 0.0)
        raise RuntimeError("kernel failed")

    x = genesis.tensor([1.0], device="cuda")

    def fine():
        bench.check("x", x, torch.tensor([1.0]), 0.0)
        bench.row("h", "fine", lambda: x + 0, lambda: x + 0, 1, rounds=1)

    bench.group("broken", broken, None)
    bench.group("fine", fine, None)
    assert bench.errors == [{"group": "broken", "error": "RuntimeError: kernel failed"}]
    assert [c["name"] for c in bench.rows[0]["checks"]] == ["x"]  # nothing carried over
    assert set(bench.elapsed) == {"broken", "fine"} and bench.failed


def test_smoke_run_checks_every_row(tmp_path):
    """The whole benchmark at its smoke sizes (interpreter, CPU torch): every group runs and
    every row passes its checks, so the GPU run is not the first run of the script."""
    import subprocess

    pytest.importorskip("transformers", reason="the LLM rows need transformers")
    results = tmp_path / "smoke.json"
    done = subprocess.run([sys.executable, str(GPU_BENCH / "bench_triton.py"), "--smoke",
                           "--json", str(results)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    saved = json.loads(results.read_text())
    assert saved["mismatches"] == [] and saved["errors"] == []
    assert {r["group"] for r in saved["rows"]} == set(saved["elapsed_s"]) == {
        "matmul", "softmax", "layer_norm", "cross_entropy", "elementwise", "adamw", "mlp",
        "amp", "transformer", "llm"}
    assert all(r["ok"] and r["checks"] for r in saved["rows"])
