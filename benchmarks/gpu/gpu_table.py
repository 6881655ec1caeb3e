"""Write the Triton backend README's "GPU results" table from a GPU results file.

    python benchmarks/gpu/gpu_table.py [results.json]   # default: results_h100.json here

The text between the markers in packages/genesis-backend-triton/README.md is replaced by
the machine line and the table rendered from the results that ``bench_triton.py --json``
writes; ``tests/test_gpu_table.py`` fails when the README differs from what this writes
from the committed ``results_h100.json``. Pure Python (no torch, no Genesis).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: _table
from _table import between_markers  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results_h100.json"
README = HERE.parents[1] / "packages" / "genesis-backend-triton" / "README.md"
START = "<!-- gpu-table:start -->"  # the text up to END is written here: never edit it by hand
END = "<!-- gpu-table:end -->"
HEADER = ("benchmark", "Genesis", "PyTorch", "ratio", "target", "check", "note")


def machine_line(results: dict) -> str:
    """Where, when and how the figures were measured."""
    m = results["machine"]
    precision = m["float32_matmul"]
    tf32 = precision["torch_matmul_allow_tf32"] or precision["torch_cudnn_allow_tf32"]
    text = (f"Measured {results['date']} on **{m['card']}** (driver {m['driver']}, CUDA "
            f"{m['cuda_driver_api']} driver / {m['cuda_torch']} PyTorch build), PyTorch "
            f"{m['torch']}, Triton {m['triton']}, Python {m['python']}, Genesis commit "
            f"{m['genesis_commit']}: `python benchmarks/gpu/bench_triton.py --json ...`, "
            f"Genesis and PyTorch eager in the same process. Each side: median (min–max) per "
            f"call over {results['rounds']} rounds of CUDA-event timings after a warm-up; "
            f"ratio = Genesis / PyTorch median (< 1: Genesis faster); target: the ratio the "
            f"row must reach (0.83: Genesis at least 1.2x faster). float32 matmuls: Genesis "
            f"{precision['genesis']}, PyTorch {'TF32 allowed' if tf32 else 'TF32 off'}. "
            f"Every row compares both sides' results before it is timed (check column).")
    if results.get("note"):
        text += f" {results['note']}"
    if results["smoke"]:
        text += (" **Smoke run: Triton interpreter, tiny shapes, CPU torch; the timings mean "
                 "nothing.**")
    return text


def ms_text(spread: dict) -> str:
    """``0.545 ms (0.541–0.552)``; the median alone where no spread was recorded."""
    def fmt(x: float) -> str:
        return f"{x:.3g}" if x < 100 else f"{x:.0f}"
    text = f"{fmt(spread['median'])} ms"
    if spread.get("min") is not None:
        text += f" ({fmt(spread['min'])}–{fmt(spread['max'])})"
    return text


def side_text(row: dict, side: str) -> str:
    text = ms_text(row[f"{side}_ms"])
    if row.get("unit"):
        text += f", {row[side]:,.0f} {row['unit']}" if row[side] >= 100 else \
            f", {row[side]:.3g} {row['unit']}"
    return text


def target_text(row: dict) -> str:
    if row.get("target") is None:
        return ""
    return f"≤ {row['target']:.2f}: " + ("met" if row["ratio"] <= row["target"] else "**missed**")


def check_text(row: dict) -> str:
    checks = row.get("checks") or []
    if not checks:
        return "not checked"
    if row["ok"]:
        worst = max(checks, key=lambda c: c["error"] / c["tol"] if c["tol"] else 0.0)
        return f"ok ({worst['metric']} {worst['error']:.0e})" if worst["tol"] else "ok (exact)"
    return "**MISMATCH**"


def cells(row: dict) -> tuple[str, ...]:
    return (row["name"], side_text(row, "genesis"), side_text(row, "torch"),
            f"{row['ratio']:.2f}", target_text(row), check_text(row), row.get("note", ""))


def table(rows: list[dict]) -> str:
    """One markdown table, a bold line opening each group's rows."""
    lines = ["| " + " | ".join(HEADER) + " |",
             "| --- | ---: | ---: | ---: | --- | --- | --- |"]
    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            lines.append(f"| **{group}** |" + " |" * (len(HEADER) - 1))
        lines.append("| " + " | ".join(cells(row)) + " |")
    return "\n".join(lines)


def failures(results: dict) -> str:
    """The failed checks and the groups that raised, one line each (empty when none)."""
    lines = [f"- check failed: {m['group']} / {m['name']}: {m['checks']}"
             for m in results["mismatches"]]
    lines += [f"- group raised: {e['group']}: {e['error']}" for e in results["errors"]]
    return "\n".join(lines)


def render(results: dict) -> str:
    """The README's text between the markers."""
    parts = [machine_line(results), table(results["rows"])]
    if failures(results):
        parts.append("Failures in this run:\n\n" + failures(results))
    return "\n\n".join(parts)


def with_table(readme: str, results: dict) -> str:
    """``readme`` with the text between the markers replaced by ``render(results)``."""
    return between_markers(readme, START, END, render(results))


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else RESULTS
    results = json.loads(source.read_text(encoding="utf-8"))
    README.write_text(with_table(README.read_text(encoding="utf-8"), results), encoding="utf-8")
    print(f"wrote the GPU table of {README} from {source}")


if __name__ == "__main__":
    main(sys.argv[1:])
