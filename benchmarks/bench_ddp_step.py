"""A DistributedDataParallel training step of the wide MLP (784-2048-2048-10, SGD, global
batch 256): 2 ranks x 1 thread (batch 128 each) against 1 process x 2 threads (batch 256),
and the share of the gradient all-reduce hidden behind backward.

    python benchmarks/bench_ddp_step.py

Hidden share = 1 - (DDP step - the same step under no_sync) / (the bucketed all-reduce of
every gradient alone): the communication time backward did not cover.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

GLOBAL_BATCH = 256
RANKS = 2


def model_and_data(batch: int, seed: int = 0):
    import genesis
    from genesis import nn
    genesis.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(),
                          nn.Linear(2048, 10))
    x = genesis.randn(batch, 784)
    y = genesis.randint(0, 10, (batch,))
    return model, x, y


def median_step(step, rounds: int, barrier=None) -> float:
    step()
    samples = []
    for _ in range(rounds):
        if barrier is not None:
            barrier()
        t0 = time.perf_counter()
        step()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def single(rounds: int) -> float:
    import genesis.optim as optim
    from genesis import nn
    model, x, y = model_and_data(GLOBAL_BATCH)
    opt = optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return median_step(step, rounds)


def rank_main(rounds: int) -> None:
    import genesis.distributed as dist
    import genesis.optim as optim
    from genesis import nn
    from genesis.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    model, x, y = model_and_data(GLOBAL_BATCH // RANKS, seed=dist.get_rank())
    ddp = DistributedDataParallel(model)
    opt = optim.SGD(ddp.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()

    def local_step() -> None:
        with ddp.no_sync():
            step()

    def all_reduce_only() -> None:
        works = [dist.all_reduce(b.buffer, async_op=True) for b in ddp.reducer.buckets]
        for w in works:
            w.wait()

    times = {"ddp": [], "local": [], "comm": []}
    for _ in range(3):  # interleaved, so the three see the same machine
        for name, fn in (("ddp", step), ("local", local_step), ("comm", all_reduce_only)):
            times[name].append(median_step(fn, rounds, dist.barrier))
    t = {k: statistics.median(v) for k, v in times.items()}
    if dist.get_rank() == 0:
        hidden = 1 - (t["ddp"] - t["local"]) / t["comm"]
        print(f"RESULT ddp={t['ddp']} local={t['local']} comm={t['comm']} hidden={hidden}")
    dist.destroy_process_group()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rank", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank:
        rank_main(args.rounds)
        return 0
    from genesis.distributed.run import launch_command

    one_thread = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                      NUMBA_NUM_THREADS="1")
    job = subprocess.run(launch_command(RANKS, [__file__, "--rank", "--rounds",
                                                str(args.rounds)]),
                         env=one_thread, capture_output=True, text=True)
    line = [s for s in job.stdout.splitlines() if s.startswith("RESULT")]
    if job.returncode or not line:
        print(job.stdout + job.stderr, file=sys.stderr)
        return job.returncode or 1
    r = dict(kv.split("=") for kv in line[0].split()[1:])
    one = single(args.rounds)
    ddp = float(r["ddp"])
    print(f"DDP step, wide MLP 784-2048-2048-10, SGD, global batch {GLOBAL_BATCH}")
    print("| setup | step | ratio | all-reduce alone | hidden behind backward |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| 1 process x 2 threads, batch {GLOBAL_BATCH} | {one * 1e3:.1f} ms | 1.00 | | |")
    print(f"| {RANKS} ranks x 1 thread, batch {GLOBAL_BATCH // RANKS} each (DDP) | "
          f"{ddp * 1e3:.1f} ms | {ddp / one:.2f} | {float(r['comm']) * 1e3:.1f} ms | "
          f"{float(r['hidden']) * 100:.0f}% |")
    print(f"(same step under no_sync: {float(r['local']) * 1e3:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
