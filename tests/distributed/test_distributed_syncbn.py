"""nn.SyncBatchNorm on 2 MPI ranks with uneven halves of a batch equals torch's BatchNorm on
the whole batch (worker_syncbn.py); convert_sync_batchnorm keeps parameters and buffers."""

from __future__ import annotations

import pytest
from mpi_jobs import results, run_job

pytest.importorskip("mpi4py", reason="genesis-backend-cpu[mpi] is part of the test install")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    out = tmp_path_factory.mktemp("syncbn")
    job = run_job("worker_syncbn.py", out, timeout=300)
    assert job.returncode == 0, job.stdout[-4000:] + job.stderr[-4000:]
    return results(out)


@pytest.mark.parametrize("name", ["syncbn-2d", "syncbn-4d", "convert_sync_batchnorm"])
def test_syncbn(outcome, name):
    for rank, found in enumerate(outcome):
        assert name in found, f"rank {rank} did not run {name}"
        assert found[name] is None, f"rank {rank}: {found[name]}"
