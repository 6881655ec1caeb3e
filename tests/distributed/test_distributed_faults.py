"""A failing rank ends the job with its traceback; a late peer raises TimeoutError; debug mode
names mismatched shapes (worker_faults.py on 2 MPI ranks)."""

from __future__ import annotations

import json
import time

import pytest
from mpi_jobs import results, run_job

pytest.importorskip("mpi4py", reason="genesis-backend-cpu[mpi] is part of the test install")


def test_a_rank_that_raises_ends_the_job_with_its_traceback(tmp_path):
    start = time.monotonic()
    job = run_job("worker_faults.py", tmp_path, "raise", timeout=120)
    assert job.returncode != 0
    assert "rank 1 failed on purpose" in job.stderr
    assert "Traceback" in job.stderr and "rank 1 failed; aborting the job" in job.stderr
    assert time.monotonic() - start < 60


def test_a_collective_waiting_past_the_timeout_raises_then_the_job_aborts(tmp_path):
    job = run_job("worker_faults.py", tmp_path, "timeout", timeout=120)
    rank1 = json.loads((tmp_path / "rank1.json").read_text())
    assert rank1["timeout"] is None  # rank 1 raised TimeoutError in time
    # its collective is still blocked in MPI: at exit the job is aborted, not hung
    assert job.returncode != 0
    assert "a collective timed out; aborting the job" in job.stderr


def test_debug_mode_names_both_mismatched_shapes(tmp_path):
    job = run_job("worker_faults.py", tmp_path, "mismatch", timeout=120,
                  env={"GENESIS_DISTRIBUTED_DEBUG": "DETAIL"})
    assert job.returncode == 0, job.stderr[-3000:]
    assert results(tmp_path) == [{"mismatch": None}, {"mismatch": None}]
