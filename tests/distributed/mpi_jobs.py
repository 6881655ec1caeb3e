"""Running a worker script on 2 MPI ranks from pytest, bounded by a timeout.

Each worker writes one JSON result file per rank (``<out>/rank<r>.json``: check name -> error
text or None) so the test can report every failing check by name.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from genesis.distributed.run import launch_command

HERE = pathlib.Path(__file__).parent
WORLD = 2


def run_job(worker: str, out_dir: pathlib.Path, *args: str, timeout: float = 240,
            env: dict | None = None, nprocs: int = WORLD) -> subprocess.CompletedProcess:
    """Run ``worker`` (a file beside this one) on ``nprocs`` ranks; kill it after ``timeout``."""
    return run_script([str(HERE / worker), str(out_dir), *args], timeout, env, nprocs)


def run_script(argv: list, timeout: float, env: dict | None = None,
               nprocs: int = WORLD) -> subprocess.CompletedProcess:
    """``python argv...`` on ``nprocs`` ranks through genesis.distributed.run's launch
    command; killed after ``timeout`` seconds."""
    cmd = launch_command(nprocs, [str(a) for a in argv])
    full_env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
                    PYTHONPATH=os.pathsep.join(p for p in sys.path if p), **(env or {}))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)


def results(out_dir: pathlib.Path, nprocs: int = WORLD) -> list:
    """Each rank's ``{check: error or None}``."""
    return [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(nprocs)]


class Checks:
    """What a worker records: ``with checks("name"): ...`` stores the failure, if any."""

    def __init__(self, out_dir: str, rank: int) -> None:
        self.path = pathlib.Path(out_dir) / f"rank{rank}.json"
        self.found: dict = {}

    def __call__(self, name: str):
        return _Check(self, name)

    def save(self) -> None:
        self.path.write_text(json.dumps(self.found, indent=0))


class _Check:
    def __init__(self, checks: Checks, name: str) -> None:
        self.checks, self.name = checks, name

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None and not issubclass(exc_type, Exception):
            return False
        self.checks.found[self.name] = None if exc is None else f"{exc_type.__name__}: {exc}"
        return True
