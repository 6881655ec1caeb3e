"""Examples 1 and 2 with ``--ddp`` on 2 MPI ranks: the digits classifier reaches the accuracy
of one process, and both examples resume from rank 0's checkpoint exactly."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import genesis
import numpy as np
import pytest
from mpi_jobs import run_script

pytest.importorskip("mpi4py", reason="genesis-backend-cpu[mpi] is part of the test install")

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def _run(argv: list, ddp: bool, tmp: pathlib.Path) -> None:
    if ddp:
        job = run_script([EXAMPLES / argv[0], *argv[1:], "--ddp"], timeout=400)
    else:
        job = subprocess.run([sys.executable, EXAMPLES / argv[0], *argv[1:]], timeout=400,
                             capture_output=True, text=True)
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]


def _same_checkpoints(a: pathlib.Path, b: pathlib.Path) -> None:
    first, second = genesis.load_checkpoint(a), genesis.load_checkpoint(b)
    assert first["history"] == second["history"]
    for key, value in first["model_state_dict"].items():
        np.testing.assert_array_equal(value.numpy(), second["model_state_dict"][key].numpy())


def test_digits_ddp_reaches_the_accuracy_of_one_process(tmp_path):
    common = ["train_digits.py", "--epochs", "8", "--no-progress"]
    _run(common + ["--run-dir", tmp_path / "one"], False, tmp_path)
    _run(common + ["--run-dir", tmp_path / "two"], True, tmp_path)
    one = genesis.load_checkpoint(tmp_path / "one" / "epoch_008.safetensors")["history"]
    two = genesis.load_checkpoint(tmp_path / "two" / "epoch_008.safetensors")["history"]
    assert two["test_accuracy"][-1] >= 0.95
    assert abs(two["test_accuracy"][-1] - one["test_accuracy"][-1]) <= 0.02
    assert len(two["lr"]) == len(one["lr"])  # same global batch: same number of steps


def test_digits_ddp_resumes_exactly(tmp_path):
    common = ["train_digits.py", "--epochs", "4", "--no-progress"]
    _run(common + ["--run-dir", tmp_path / "full"], True, tmp_path)
    _run(common + ["--run-dir", tmp_path / "part", "--stop-after", "2"], True, tmp_path)
    _run(common + ["--run-dir", tmp_path / "part", "--resume", tmp_path / "part"], True,
         tmp_path)
    _same_checkpoints(tmp_path / "full" / "epoch_004.safetensors",
                      tmp_path / "part" / "epoch_004.safetensors")


def test_charlm_ddp_trains_and_resumes_exactly(tmp_path):
    common = ["train_charlm.py", "--interval", "4", "--batch-size", "4", "--block", "16",
              "--d-model", "32", "--heads", "2", "--warmup", "4", "--max-chars", "20000",
              "--sample-chars", "20", "--no-progress"]
    _run(common + ["--steps", "8", "--run-dir", tmp_path / "full"], True, tmp_path)
    _run(common + ["--steps", "4", "--run-dir", tmp_path / "part"], True, tmp_path)
    _run(common + ["--steps", "8", "--run-dir", tmp_path / "part", "--resume",
                   tmp_path / "part" / "last.safetensors"], True, tmp_path)
    state = genesis.load_checkpoint(tmp_path / "full" / "last.safetensors")
    assert len(state["data_rng"]) == 2 and state["data_rng"][0] != state["data_rng"][1]
    _same_checkpoints(tmp_path / "full" / "last.safetensors",
                      tmp_path / "part" / "last.safetensors")
