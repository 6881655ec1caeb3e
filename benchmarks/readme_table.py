"""Write the README's benchmark table from the committed results file, never by hand.

    python benchmarks/readme_table.py     # rewrite README.md between the markers

``nox -s bench`` runs the benchmarks into ``benchmarks/results/cpu.json`` and then this;
``tests/test_benchmarks.py`` fails when the README's table differs from what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from _table import between_markers, markdown_table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cpu.json"
README = HERE.parent / "README.md"
START = ("<!-- benchmark table: written by benchmarks/readme_table.py from "
         "benchmarks/results/cpu.json (`nox -s bench`); do not edit by hand -->")
END = "<!-- end of benchmark table -->"


def provenance(results: dict) -> str:
    """Where and how the figures were measured, in one paragraph."""
    machine, versions, run = results["machine"], results["versions"], results["run"]
    threads = ", ".join(f"{lib} {n}" for lib, n in machine["threads"].items())
    environment = ", ".join(f"{k}={v}" for k, v in machine["environment"].items()) or "none"
    text = (f"Measured {results['date']} by `nox -s bench`: {run['repeats']} repetitions per "
            f"row of alternating blocks (~{run['budget_s']:g} s each). Machine: "
            f"{machine['cpu']}, {machine['cores']} cores ({machine['cores_usable']} usable), "
            f"{machine['memory_gib']:g} GiB, {machine['os']}; threads: {threads}; "
            f"environment overrides: {environment}. Versions: Python {versions['python']}, "
            f"numpy {versions['numpy']} ({machine['numpy_blas']}), PyTorch {versions['torch']} "
            f"({machine['torch_blas']}), numba {versions['numba']}; Genesis commit "
            f"{versions['genesis_commit']}.")
    if run["smoke"]:
        text += " **Smoke run: tiny sizes, one call per side; these timings mean nothing.**"
    return text


def render(results: dict) -> str:
    """The README's text between the markers."""
    return "\n\n".join([provenance(results),
                        markdown_table(results["sections"], results["rows"])])


def with_table(readme: str, results: dict) -> str:
    """``readme`` with the text between the markers replaced by ``render(results)``."""
    return between_markers(readme, START, END, render(results))


def main() -> None:
    readme = README.read_text(encoding="utf-8")
    README.write_text(with_table(readme, json.loads(RESULTS.read_text(encoding="utf-8"))),
                      encoding="utf-8")
    print(f"wrote the benchmark table of {README}")


if __name__ == "__main__":
    main()
