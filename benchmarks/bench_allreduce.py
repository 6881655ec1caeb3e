"""All-reduce of Genesis tensors (genesis.distributed, backend "mpi") against raw mpi4py on
numpy arrays: 2 ranks x 1 thread, float32 sum, 4 KB to 64 MB.

One 2-rank job measures every row: per size, each side's result is checked first (every rank
contributes ``rank + 1`` per element; both sides must give the closed-form sum), then
alternating blocks (order reversed every other repetition) of back-to-back calls on zeroed
buffers, each block started after a barrier. Rows report rank 0's seconds per call and the
data moved as throughput (bus bandwidth in nccl-tests' convention would be 2 (n - 1) / n of
it: the same here, n = 2).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _harness import Case, External, Timings
from _ranks import RANKS, block, calls_per_block, finish, launch

TITLE = "All-reduce, 2 MPI ranks (Genesis tensors vs mpi4py on numpy)"
SIZES = [4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20]
SMOKE_SHRINK = 1024  # smoke: 4 bytes to 64 KB
RAW = "mpi4py on numpy"


def label(size: int) -> str:
    return f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"


def rank_main(out: str, repeats: int, budget: float, shrink: int) -> None:
    import genesis
    import genesis.distributed as dist
    from mpi4py import MPI

    dist.init_process_group("mpi")
    comm, rank = MPI.COMM_WORLD, dist.get_rank()
    rows = {}
    for size in SIZES:
        count = max(1, size // 4 // shrink)
        tensor, array = genesis.full((count,), rank + 1.0), np.full(count, rank + 1.0, np.float32)
        dist.all_reduce(tensor)
        comm.Allreduce(MPI.IN_PLACE, array, MPI.SUM)
        expected = np.full(count, RANKS * (RANKS + 1) / 2, np.float32)
        np.testing.assert_array_equal(tensor.numpy(), expected, err_msg=f"Genesis, {label(size)}")
        np.testing.assert_array_equal(array, expected, err_msg=f"mpi4py, {label(size)}")
        tensor.zero_(), array.fill(0)  # sums of zeros: timed calls cannot overflow
        calls = [lambda t=tensor: dist.all_reduce(t),
                 lambda a=array: comm.Allreduce(MPI.IN_PLACE, a, MPI.SUM)]
        numbers = [calls_per_block(comm, fn, budget) for fn in calls]
        samples = [[], []]
        for rep in range(repeats):
            for i in ((0, 1) if rep % 2 == 0 else (1, 0)):
                samples[i].append(block(comm, calls[i], numbers[i]))
        rows[label(size)] = {"genesis": samples[0], "raw": samples[1], "numbers": numbers}
    if rank == 0:
        Path(out).write_text(json.dumps(rows))
    dist.destroy_process_group()


@functools.cache
def job(repeats: int, budget: float, shrink: int) -> dict:
    """Every row's samples, from one 2-rank job."""
    with tempfile.TemporaryDirectory(prefix="genesis-bench-allreduce-") as folder:
        out = Path(folder) / "rows.json"
        finish(launch(__file__, [out, repeats, budget, shrink], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True))
        return json.loads(out.read_text())


def case(size: int, smoke: bool) -> Case:
    shrink = SMOKE_SHRINK if smoke else 1

    def run(repeats: int, budget: float) -> Timings:
        found = job(repeats, budget, shrink)[label(size)]
        return Timings(found["genesis"], {RAW: found["raw"]}, found["numbers"])
    return Case(f"all_reduce {label(size)}, float32 sum",
                lambda: External(run, megabytes=max(4, size // shrink) / 1e6),
                1.1 if size >= 1 << 20 else None,
                "2 ranks x 1 thread; throughput = bytes reduced per second")


def cases(smoke: bool) -> list[Case]:
    return [case(size, smoke) for size in SIZES]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rank"]:
        rank_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    else:
        from run import main

        main([Path(__file__).stem, *sys.argv[1:]])
