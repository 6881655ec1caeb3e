"""Run the benchmarks: every ``bench_*.py`` module here, or the ones named.

    python benchmarks/run.py                          # every module, table on stdout
    python benchmarks/run.py bench_optim bench_ops    # some modules
    python benchmarks/run.py --smoke                  # tiny sizes: checks + one call (CI)
    python benchmarks/run.py --out benchmarks/results/cpu.json   # what `nox -s bench` does

A new benchmark module needs only a ``TITLE`` and ``cases(smoke) -> list[Case]`` (see
``_harness``); it is found by its file name. ``--out`` writes the rows with the machine,
versions and date: the committed results file the README table is generated from
(``readme_table.py``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import time
from pathlib import Path
from types import ModuleType

from _harness import measure
from _table import console_table

HERE = Path(__file__).resolve().parent
# modules in reading order; any other bench_*.py follows, by name
FIRST = ("bench_core", "bench_optim", "bench_ops", "bench_layer_steps", "bench_conv",
         "bench_checkpoint")


def module_names() -> list[str]:
    found = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [n for n in FIRST if n in found] + [n for n in found if n not in FIRST]


def load(names: list[str]) -> list[ModuleType]:
    known = module_names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark module(s) {unknown}; expected some of {known}")
    return [importlib.import_module(n) for n in names]


def section(module: ModuleType) -> dict:
    return {"module": module.__name__, "title": module.TITLE}


def run(modules: list[ModuleType], smoke: bool, repeats: int, budget: float) -> list[dict]:
    rows = []
    for module in modules:
        for case in module.cases(smoke):
            start = time.perf_counter()
            rows.append(measure(module.__name__, case, repeats, budget, smoke))
            print(f"  {module.__name__}: {case.name} ({time.perf_counter() - start:.1f} s)",
                  flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="bench_* module names (default: all)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, correctness checks and one timed call per side")
    parser.add_argument("--repeats", type=int, default=9,
                        help="timed repetitions per row (each: one block per side)")
    parser.add_argument("--budget", type=float, default=0.2,
                        help="seconds of calls per timed block")
    parser.add_argument("--out", type=Path, help="write the results (JSON) to this file")
    args = parser.parse_args(argv)
    modules = load(args.modules or module_names())
    from _machine import describe

    about = describe()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{date}; {about['machine']['cpu']}, {about['machine']['cores']} cores; "
          f"numpy {about['versions']['numpy']} ({about['machine']['numpy_blas']}), "
          f"torch {about['versions']['torch']} ({about['machine']['torch_blas']})", flush=True)
    rows = run(modules, args.smoke, args.repeats, args.budget)
    print(console_table(rows))
    if args.smoke:
        print("--smoke: every check passed; tiny sizes and one call per side, so the timings "
              "mean nothing")
    if args.out is not None:
        results = {"date": date,
                   "run": {"smoke": args.smoke, "repeats": 1 if args.smoke else args.repeats,
                           "budget_s": args.budget},
                   **about, "sections": [section(m) for m in modules], "rows": rows}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
