"""A DistributedDataParallel training step of the wide MLP (784-2048-2048-10, SGD, global
batch 256): 2 ranks x 1 thread (batch 128 each) against 1 process x 2 threads (batch 256),
and the share of the gradient all-reduce hidden behind backward.

This process trains the 1-process model and drives a 2-rank job through rank 0's standard
input: the ranks run a block of DDP steps when told and report its time, and wait without
spinning otherwise, so the blocks of the two sides alternate on a machine neither shares.
Check first: after two steps from the same weights on the same global batch, the DDP
parameters must equal the 1-process ones. Hidden share = 1 - (DDP step - the same step
under ``no_sync``) / (the bucketed all-reduce of every gradient alone).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _harness import Case, External, Timings, assert_same, time_block
from _ranks import RANKS, block, finish, launch

TITLE = "DDP training step, 2 MPI ranks (vs 1 process)"
GLOBAL_BATCH = 256
WIDTHS = (784, 2048, 2048, 10)
SMOKE_WIDTHS = (784, 64, 64, 10)
ONE_PROCESS = "Genesis, 1 process x 2 threads"
CHECK_STEPS = 2


def training(widths: tuple, batch: slice):
    """(model, step) of the MLP with seed-0 weights on ``batch`` of the seed-0 global batch;
    ``step(model)`` is one SGD step of whichever module wraps the model."""
    import genesis
    import genesis.optim as optim
    from genesis import nn

    genesis.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layers += [nn.Linear(n_in, n_out)] + ([nn.ReLU()] if i < len(widths) - 2 else [])
    model = nn.Sequential(*layers)
    rng = np.random.default_rng(0)
    x = genesis.tensor(rng.standard_normal((GLOBAL_BATCH, widths[0])).astype(np.float32)[batch])
    y = genesis.tensor(rng.integers(0, widths[-1], GLOBAL_BATCH)[batch])
    opt = optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step(module) -> None:
        opt.zero_grad()
        loss_fn(module(x), y).backward()
        opt.step()
    return model, step


def parameters(model) -> dict:
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def rank_main(folder: str, smoke: bool) -> None:
    """Serve rank 0's standard input: ``check``, ``block N``, ``hidden N``, ``stop``."""
    import genesis.distributed as dist
    from genesis.nn.parallel import DistributedDataParallel
    from mpi4py import MPI

    dist.init_process_group("mpi")
    comm, rank = MPI.COMM_WORLD, dist.get_rank()
    share = GLOBAL_BATCH // RANKS
    model, step = training(SMOKE_WIDTHS if smoke else WIDTHS,
                           slice(rank * share, (rank + 1) * share))
    ddp = DistributedDataParallel(model)

    def ddp_step() -> None:
        step(ddp)

    def local_step() -> None:
        with ddp.no_sync():
            step(ddp)

    def all_reduce_only() -> None:
        works = [dist.all_reduce(b.buffer, async_op=True) for b in ddp.reducer.buckets]
        for w in works:
            w.wait()

    while True:
        command = np.zeros(2, np.int64)  # (what, calls): 0 stop, 1 check, 2 block, 3 hidden
        if rank == 0:
            words = sys.stdin.readline().split() or ["stop"]
            command[:] = ({"stop": 0, "check": 1, "block": 2, "hidden": 3}[words[0]],
                          int(words[1]) if len(words) > 1 else 0)
        request = comm.Ibcast(command, root=0)
        while not request.Test():
            time.sleep(1e-3)  # idle without spinning while the other side is timed
        what, number = int(command[0]), int(command[1])
        if what == 0:
            break
        if what == 1:
            for _ in range(CHECK_STEPS):
                ddp_step()
            np.savez(Path(folder) / f"rank{rank}.npz", **parameters(model))
            reply = "checked"
        elif what == 2:
            reply = repr(block(comm, ddp_step, number))
        else:
            times = {"ddp": [], "local": [], "comm": []}
            for _ in range(3):
                for name, fn in (("ddp", ddp_step), ("local", local_step),
                                 ("comm", all_reduce_only)):
                    times[name].append(block(comm, fn, number))
            reply = " ".join(f"{k}={statistics.median(v)!r}" for k, v in times.items())
        if rank == 0:
            print(reply, flush=True)
    dist.destroy_process_group()


class Job:
    """The 2-rank job, driven line by line."""

    def __init__(self, folder: str, smoke: bool) -> None:
        self.job = launch(__file__, [folder, int(smoke)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ask(self, command: str) -> str:
        self.job.stdin.write(command + "\n")
        self.job.stdin.flush()
        reply = self.job.stdout.readline().strip()
        if not reply:
            finish(self.job)  # raises with the ranks' output
        return reply

    def close(self) -> None:
        finish(self.job, "stop\n")


def measure_step(smoke: bool, repeats: int, budget: float) -> Timings:
    widths = SMOKE_WIDTHS if smoke else WIDTHS
    model, step = training(widths, slice(None))
    with tempfile.TemporaryDirectory(prefix="genesis-bench-ddp-") as folder:
        job = Job(folder, smoke)
        try:
            job.ask("check")
            for _ in range(CHECK_STEPS):
                step(model)
            want = parameters(model)
            for rank in range(RANKS):
                with np.load(Path(folder) / f"rank{rank}.npz") as got:
                    assert_same(dict(got), want, 1e-4, f"DDP rank {rank} vs 1 process: ")
            single = time_block(lambda: step(model), 1)
            ddp = float(job.ask("block 1"))
            numbers = [max(1, round(budget / t)) for t in (ddp, single)]
            samples = [[], []]
            for rep in range(repeats):
                for i in ((0, 1) if rep % 2 == 0 else (1, 0)):
                    samples[i].append(float(job.ask(f"block {numbers[0]}")) if i == 0
                                      else time_block(lambda: step(model), numbers[1]))
            hidden = dict(kv.split("=") for kv in job.ask(f"hidden {numbers[0]}").split())
        finally:
            job.close()
    t = {k: float(v) for k, v in hidden.items()}
    share = 1 - (t["ddp"] - t["local"]) / t["comm"]
    return Timings(samples[0], {ONE_PROCESS: samples[1]}, numbers,
                   f"all-reduce alone {t['comm'] * 1e3:.3g} ms/step, {share:.0%} of it "
                   "hidden behind backward")


def cases(smoke: bool) -> list[Case]:
    return [Case(f"DDP step, wide MLP, global batch {GLOBAL_BATCH}",
                 lambda: External(lambda repeats, budget: measure_step(smoke, repeats,
                                                                      budget)),
                 1.25, f"{RANKS} ranks x 1 thread (batch {GLOBAL_BATCH // RANKS} each) vs "
                 "1 process x 2 threads; SGD, 784-2048-2048-10")]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rank"]:
        rank_main(sys.argv[2], bool(int(sys.argv[3])))
    else:
        from run import main

        main([Path(__file__).stem, *sys.argv[1:]])
