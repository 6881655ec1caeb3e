"""Benchmarks whose Genesis side needs several MPI ranks: launching the job and timing blocks
of collective calls the same way on every rank.

A module launches itself (``python bench_x.py --rank ...``) through
``genesis.distributed.run``'s command, one thread per rank, so the rank count, not the BLAS
threads, splits the cores. Every rank runs the same number of calls per block (rank 0
decides and broadcasts), each block starting after a barrier.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

RANKS = 2
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "NUMBA_NUM_THREADS": "1"}


def launch(script: str, args: list, **popen) -> subprocess.Popen:
    """Start ``script --rank args...`` on :data:`RANKS` ranks, one thread each."""
    from genesis.distributed.run import launch_command

    env = dict(os.environ, **ONE_THREAD,
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.Popen(launch_command(RANKS, [script, "--rank", *map(str, args)]),
                            env=env, **popen)


def finish(job: subprocess.Popen, last_input: str | None = None, timeout: float = 1800) -> None:
    """Wait for the job (after writing ``last_input`` to its standard input, then closing it);
    a failed rank fails the benchmark with the job's output."""
    out, err = job.communicate(last_input, timeout=timeout)
    if job.returncode:
        raise RuntimeError(f"the {RANKS}-rank benchmark job failed ({job.returncode}):\n"
                           f"{out or ''}{err or ''}")


def block(comm, fn: Callable[[], object], number: int) -> float:
    """Seconds per call over ``number`` calls of ``fn``, started together on every rank."""
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def calls_per_block(comm, fn: Callable[[], object], budget: float) -> int:
    """How many calls fill ``budget`` seconds on rank 0 (grown until measurable), agreed by
    every rank."""
    number = 1
    while True:
        seconds = block(comm, fn, number) * number
        done = comm.bcast(seconds >= budget / 8 or number >= 1 << 16, root=0)
        if done:
            return comm.bcast(max(1, round(number * budget / max(seconds, 1e-9))), root=0)
        number *= 4
