"""Checkpoint throughput: genesis.save_checkpoint/load_checkpoint against torch.save/load of
the same 100 MB state dict (20 float32 tensors and an int), in MB/s.

Genesis's save makes the file durable (fsync of the file and its folder, atomic rename);
``torch.save`` leaves it in the page cache. Every save starts with no dirty pages
(``os.sync`` before it, untimed), so neither side pays for the other's writeback. Genesis's
load verifies an XXH3 hash of every byte.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import genesis
import numpy as np
import torch
from _harness import Case, Contest

TITLE = "Checkpoints"


def state_dicts(megabytes: int) -> tuple[dict, dict, float]:
    rng = np.random.default_rng(0)
    per = megabytes * 2**20 // 4 // 20
    arrays = {f"layer{i}.weight": rng.standard_normal(per).astype(np.float32) for i in range(20)}
    g_state = {"model_state_dict": {k: genesis.tensor(v) for k, v in arrays.items()}, "epoch": 3}
    t_state = {"model_state_dict": {k: torch.tensor(v) for k, v in arrays.items()}, "epoch": 3}
    return g_state, t_state, sum(a.nbytes for a in arrays.values()) / 2**20


def scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="genesis-bench-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def save(megabytes: int) -> Contest:
    g_state, t_state, mb = state_dicts(megabytes)
    folder = scratch()
    g_path, t_path = folder / "g.safetensors", folder / "t.pt"
    return Contest(genesis=lambda: genesis.save_checkpoint(g_state, g_path),
                   torch={"": lambda: torch.save(t_state, t_path)}, tol=0.0, before=os.sync,
                   read_genesis=lambda: genesis.load_checkpoint(g_path),
                   read_torch=lambda: torch.load(t_path), megabytes=mb)


def load(megabytes: int) -> Contest:
    g_state, t_state, mb = state_dicts(megabytes)
    folder = scratch()
    g_path, t_path = folder / "g.safetensors", folder / "t.pt"
    genesis.save_checkpoint(g_state, g_path)
    torch.save(t_state, t_path)
    return Contest(genesis=lambda: genesis.load_checkpoint(g_path),
                   torch={"": lambda: torch.load(t_path)}, tol=0.0, megabytes=mb)


def cases(smoke: bool) -> list[Case]:
    megabytes = 1 if smoke else 100
    return [
        Case("checkpoint save, 100 MB", lambda: save(megabytes), 1.0,
             "Genesis fsyncs (durable); torch.save leaves the file in the page cache"),
        Case("checkpoint load, 100 MB", lambda: load(megabytes), 1.0,
             "Genesis verifies an XXH3 hash of every byte"),
    ]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
