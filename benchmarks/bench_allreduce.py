"""All-reduce of Genesis tensors (genesis.distributed over the "mpi" backend) against raw
mpi4py on numpy arrays, 2 ranks, float32 sum, 4 KB to 64 MB.

    python benchmarks/bench_allreduce.py          # launches itself on 2 ranks

Rounds alternate the two sides; each timed call starts after a barrier. Bus bandwidth is
PyTorch's nccl-tests convention: bytes * 2 (n - 1) / n / time. Rank 0 prints the table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

SIZES = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]
RANKS = 2


def _timed_pair(genesis_call, raw_call, barrier, rounds: int) -> tuple[float, float]:
    genesis_call(), raw_call()  # warm up
    g, r = [], []
    for _ in range(rounds):
        for call, samples in ((genesis_call, g), (raw_call, r)):
            barrier()
            t0 = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t0)
    return statistics.median(g), statistics.median(r)


def run_rank(rounds: int) -> None:
    import genesis
    import genesis.distributed as dist
    from mpi4py import MPI

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    n = dist.get_world_size()
    rows = []
    for size in SIZES:
        count = size // 4
        t = genesis.ones(count)
        a = np.ones(count, np.float32)
        genesis_s, raw_s = _timed_pair(lambda t=t: dist.all_reduce(t),
                                       lambda a=a: comm.Allreduce(MPI.IN_PLACE, a, MPI.SUM),
                                       comm.Barrier, rounds if size < (16 << 20) else
                                       max(5, rounds // 3))
        rows.append((size, genesis_s, raw_s))
    if dist.get_rank() == 0:
        bus = 2 * (n - 1) / n
        print(f"all_reduce, {n} ranks, float32 sum (medians of alternating rounds)")
        print("| size | Genesis | mpi4py (numpy) | Genesis bus GB/s | mpi4py bus GB/s | "
              "overhead |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for size, g, r in rows:
            label = f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"
            print(f"| {label} | {g * 1e3:.3f} ms | {r * 1e3:.3f} ms | "
                  f"{size * bus / g / 1e9:.2f} | {size * bus / r / 1e9:.2f} | "
                  f"{(g / r - 1) * 100:+.0f}% |")
    dist.destroy_process_group()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--rank", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank:
        run_rank(args.rounds)
        return 0
    import subprocess

    from genesis.distributed.run import launch_command

    cmd = launch_command(RANKS, [__file__, "--rank", "--rounds", str(args.rounds)])
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
