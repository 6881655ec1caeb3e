"""``python -m genesis.distributed.run``: starts the ranks with the script's own arguments
(scripts and ``-m`` modules) and ends with the job's exit status."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("mpi4py", reason="genesis-backend-cpu[mpi] is part of the test install")

SCRIPT = """\
import sys
import genesis.distributed as dist
dist.init_process_group("mpi")
print("rank", dist.get_rank(), "of", dist.get_world_size(), sys.argv[1:], flush=True)
dist.destroy_process_group()
sys.exit(3 if "--fail" in sys.argv and dist.get_rank() == 1 else 0)
"""


def _launch(tmp_path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "hello_ranks.py").write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    return subprocess.run([sys.executable, "-m", "genesis.distributed.run", *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


@pytest.mark.parametrize("program", [["hello_ranks.py"], ["-m", "hello_ranks"]])
def test_runs_every_rank_with_the_script_arguments(tmp_path, program):
    job = _launch(tmp_path, "-n", "2", *program, "-n", "5", "--lr", "0.1")
    assert job.returncode == 0, job.stderr[-3000:]
    lines = sorted(line for line in job.stdout.splitlines() if line.startswith("rank"))
    assert lines == ["rank 0 of 2 ['-n', '5', '--lr', '0.1']",
                     "rank 1 of 2 ['-n', '5', '--lr', '0.1']"]


def test_a_failing_rank_fails_the_job(tmp_path):
    job = _launch(tmp_path, "-n", "2", "hello_ranks.py", "--fail")
    assert job.returncode != 0
