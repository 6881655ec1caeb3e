"""The README's data-parallel example runs as written on 2 MPI ranks."""

from __future__ import annotations

import pathlib
import re

import genesis
import pytest
from mpi_jobs import run_script

pytest.importorskip("mpi4py", reason="genesis-backend-cpu[mpi] is part of the test install")

README = pathlib.Path(__file__).parents[2] / "README.md"


def test_readme_ddp_example_runs_on_two_ranks(tmp_path, monkeypatch):
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
              if "init_process_group" in b]
    assert len(blocks) == 1
    script = tmp_path / "readme_ddp.py"
    script.write_text(blocks[0])
    monkeypatch.chdir(tmp_path)
    job = run_script([script], timeout=240)
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
    state = genesis.load_checkpoint(tmp_path / "ddp.safetensors")
    assert sorted(state["model"]) == ["0.bias", "0.weight", "2.bias", "2.weight"]
