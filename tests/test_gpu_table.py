"""The Triton backend README's "GPU results" table is written by benchmarks/gpu/gpu_table.py
from the committed GPU results file, and the renderer reports targets and checks truly."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest

GPU = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu"


@pytest.fixture(scope="module")
def gpu_table():
    spec = importlib.util.spec_from_file_location("gpu_table", GPU / "gpu_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed() -> dict:
    return json.loads((GPU / "results_h100.json").read_text(encoding="utf-8"))


def test_readme_table_is_written_from_the_results_file(gpu_table):
    readme = gpu_table.README.read_text(encoding="utf-8")
    assert readme == gpu_table.with_table(readme, committed()), \
        "the GPU table is stale: run `python benchmarks/gpu/gpu_table.py`"


def sample() -> dict:
    """A results file as bench_triton.py writes it, with one checked row."""
    check = {"name": "softmax fwd", "metric": "max", "error": 3e-8, "tol": 1e-5, "ok": True}
    row = {"group": "softmax", "name": "4096x32768 float32 fwd+bwd (autograd)",
           "genesis_ms": {"median": 1.0, "min": 0.9, "max": 1.2},
           "torch_ms": {"median": 1.5, "min": 1.4, "max": 1.6}, "ratio": 0.667,
           "target": 0.833, "note": "", "checks": [check], "ok": True, "unit": "GB/s",
           "genesis": 2684.35, "torch": 1789.57}
    machine = {"card": "NVIDIA H100 80GB HBM3", "driver": "580.159", "cuda_driver_api": "13.0",
               "cuda_torch": "13.0", "torch": "2.11.0+cu130", "triton": "3.6.0",
               "python": "3.12.3", "genesis_commit": "abc1234",
               "float32_matmul": {"genesis": "ieee", "torch_matmul_allow_tf32": False,
                                  "torch_cudnn_allow_tf32": False}}
    return {"machine": machine, "date": "2026-11-28", "smoke": False, "rounds": 5,
            "elapsed_s": {"softmax": 3.2}, "rows": [row], "mismatches": [], "errors": []}


def test_row_shows_spread_throughput_target_and_check(gpu_table):
    text = gpu_table.render(sample())
    assert ("| 4096x32768 float32 fwd+bwd (autograd) | 1 ms (0.9–1.2), 2,684 GB/s | "
            "1.5 ms (1.4–1.6), 1,790 GB/s | 0.67 | ≤ 0.83: met | ok (max 3e-08) |  |") in text
    for fact in ("**NVIDIA H100 80GB HBM3**", "driver 580.159", "PyTorch 2.11.0+cu130",
                 "Triton 3.6.0", "Measured 2026-11-28", "TF32 off"):
        assert fact in text
    assert "Failures" not in text and "Smoke run" not in text


def test_missed_target_mismatch_and_failed_group_are_shown(gpu_table):
    results = sample()
    row = results["rows"][0]
    row.update(ratio=1.1, ok=False)
    row["checks"][0].update(error=0.5, ok=False)
    results["mismatches"] = [{"group": row["group"], "name": row["name"],
                              "checks": row["checks"]}]
    results["errors"] = [{"group": "llm", "error": "ImportError: no transformers"}]
    text = gpu_table.render(results)
    assert "| 1.10 | ≤ 0.83: **missed** | **MISMATCH** |" in text
    assert "- check failed: softmax / 4096x32768 float32 fwd+bwd (autograd)" in text
    assert "- group raised: llm: ImportError: no transformers" in text


def test_markers_are_required_once(gpu_table):
    with pytest.raises(ValueError, match="markers"):
        gpu_table.with_table("no markers here", sample())
    readme = f"a\n{gpu_table.START}\nold\n{gpu_table.END}\nb\n"
    smoke = copy.deepcopy(sample())
    smoke["smoke"] = True
    out = gpu_table.with_table(readme, smoke)
    assert out.startswith(f"a\n{gpu_table.START}\nMeasured")
    assert out.endswith(f"{gpu_table.END}\nb\n")
    assert "Smoke run" in out
