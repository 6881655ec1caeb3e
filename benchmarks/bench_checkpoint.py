"""Checkpoint throughput: genesis.save/load vs torch.save/load of the same 100 MB state dict.

Ratio = PyTorch MB/s / Genesis MB/s (below 1.0: Genesis is faster). Genesis's save
includes an fsync and the atomic rename; its load verifies the XXH3 checksum of the
whole file. Genesis and PyTorch calls alternate, and medians are taken.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import genesis
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _harness import median_pair, print_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n_tensors = 20
    per = args.mb * 2**20 // 4 // n_tensors
    arrays = {
        f"layer{i}.weight": rng.standard_normal(per).astype(np.float32) for i in range(n_tensors)
    }
    gstate = {"model_state_dict": {k: genesis.tensor(v) for k, v in arrays.items()}, "epoch": 3}
    tstate = {"model_state_dict": {k: torch.tensor(v) for k, v in arrays.items()}, "epoch": 3}
    mb = sum(a.nbytes for a in arrays.values()) / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        gpath, tpath = Path(tmp) / "g.safetensors", Path(tmp) / "t.pt"
        # each save starts with no dirty pages: neither side pays for the other's writeback
        g_save, t_save = median_pair(lambda: genesis.save_checkpoint(gstate, gpath),
                                     lambda: torch.save(tstate, tpath), rounds=7, before=os.sync)
        g_load, t_load = median_pair(lambda: genesis.load_checkpoint(gpath),
                                     lambda: torch.load(tpath), rounds=25)
        back = genesis.load_checkpoint(gpath)["model_state_dict"]["layer0.weight"].numpy()
        assert np.array_equal(back, arrays["layer0.weight"])
    print_table(
        f"Checkpoint throughput, {mb:.0f} MB state dict",
        [
            ("save (genesis.save_checkpoint vs torch.save)", mb / g_save, mb / t_save, "MB/s"),
            ("load (genesis.load_checkpoint vs torch.load)", mb / g_load, mb / t_load, "MB/s"),
        ],
    )


if __name__ == "__main__":
    main()
