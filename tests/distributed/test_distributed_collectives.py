"""genesis.distributed's collectives on 2 MPI ranks against numpy (worker_collectives.py):
float32/float64/int64, contiguous and strided tensors, sizes 0, 1 and odd; each check is
reported by name."""

from __future__ import annotations

import pytest
from mpi_jobs import results, run_job

pytest.importorskip("mpi4py", reason="genesis-backend-cpu[mpi] is part of the test install")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    job = run_job("worker_collectives.py", out, timeout=300)
    assert job.returncode == 0, job.stdout[-4000:] + job.stderr[-4000:]
    return results(out)


def test_both_ranks_ran_every_check(outcome):
    names = [set(r) for r in outcome]
    assert names[0] == names[1]
    assert len(names[0]) > 200
    assert {n.split("-")[0] for n in names[0]} >= {
        "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
        "reduce_scatter_tensor", "gather", "scatter", "all_to_all_single",
        "async_all_reduce_and_barrier", "send_recv_and_isend_irecv", "objects_json",
        "new_group"}


def test_every_collective_matches_numpy_on_every_rank(outcome):
    failures = {f"rank {r}: {name}": err for r, found in enumerate(outcome)
                for name, err in found.items() if err is not None}
    assert not failures, "\n".join(f"{k}: {v}" for k, v in list(failures.items())[:20])
