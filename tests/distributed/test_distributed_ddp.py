"""DistributedDataParallel on 2 MPI ranks (worker_ddp.py): half the batch on each rank ends
within 1e-5 of one process on the whole batch after 20 SGD and 20 Adam steps, identically on
both ranks; no_sync accumulation, unused parameters, buffers and state dicts."""

from __future__ import annotations

import pytest
from mpi_jobs import results, run_job

pytest.importorskip("mpi4py", reason="genesis-backend-cpu[mpi] is part of the test install")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    job = run_job("worker_ddp.py", out, timeout=300)
    assert job.returncode == 0, job.stdout[-4000:] + job.stderr[-4000:]
    return results(out)


CHECKS = ["ddp-equals-one-process-sgd-cap25-viewFalse",
          "ddp-equals-one-process-sgd-cap0.001-viewFalse",
          "ddp-equals-one-process-sgd-cap0.001-viewTrue",
          "ddp-equals-one-process-adam-cap25-viewFalse",
          "ddp-equals-one-process-adam-cap0.001-viewFalse",
          "ddp-equals-one-process-adam-cap0.001-viewTrue",
          "buckets-start-during-backward", "no_sync-accumulation-equals-one-large-batch",
          "unused-parameters", "distributed_sampler-defaults-to-the-group",
          "state_dict-and-buffers"]


@pytest.mark.parametrize("name", CHECKS)
def test_ddp(outcome, name):
    for rank, found in enumerate(outcome):
        assert name in found, f"rank {rank} did not run {name}"
        assert found[name] is None, f"rank {rank}: {found[name]}"
