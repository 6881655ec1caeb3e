"""Checkpoint save/load throughput: genesis.serialization (numpy arrays) vs torch.save/torch.load.

Run: PYTHONPATH=packages/genesis-core/src python benchmarks/bench_checkpoint_format.py [--mb 100]
Prints medians of --repeats runs in MB/s and the Genesis/torch ratio (> 1: Genesis faster),
and the throughput of candidate checksums over the same amount of data.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from genesis.serialization import load_tree, save_tree


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def state_dicts(megabytes: int) -> tuple[dict, dict]:
    """A state-dict-like tree of float32 matrices of about ``megabytes`` MB, as numpy and torch."""
    rng = np.random.default_rng(0)
    layers = max(1, megabytes // 4)
    arrays = {
        f"layer{i}.weight": rng.standard_normal((1024, 1024), dtype=np.float32)
        for i in range(layers)
    }
    arrays |= {f"layer{i}.bias": rng.standard_normal(1024, dtype=np.float32) for i in range(layers)}
    tensors = {key: torch.from_numpy(array.copy()) for key, array in arrays.items()}
    return {"model_state_dict": arrays, "epoch": 3}, {"model_state_dict": tensors, "epoch": 3}


def checksum_table(megabytes: int, repeats: int) -> None:
    data = memoryview(np.random.default_rng(1).integers(0, 256, megabytes << 20, dtype=np.uint8))
    candidates = {
        "zlib.crc32": lambda: zlib.crc32(data),
        "zlib.adler32": lambda: zlib.adler32(data),
        "hashlib.blake2b": lambda: hashlib.blake2b(data).digest(),
        "hashlib.sha1": lambda: hashlib.sha1(data).digest(),
        "hashlib.sha256": lambda: hashlib.sha256(data).digest(),
        "hashlib.md5": lambda: hashlib.md5(data).digest(),
    }
    print(f"checksums over {megabytes} MB (median of {repeats}):")
    for name, run in candidates.items():
        print(f"  {name:16s} {megabytes / median_seconds(run, repeats):8.0f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100, help="checkpoint size in MB")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", default=None, help="folder for the files (default: system temp)")
    args = parser.parse_args()
    numpy_tree, torch_tree = state_dicts(args.mb)
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        genesis_path, torch_path = Path(folder) / "ckpt.gck", Path(folder) / "ckpt.pt"
        save_tree(numpy_tree, genesis_path)
        torch.save(torch_tree, torch_path)
        megabytes = genesis_path.stat().st_size / 1e6
        rows = [
            (
                "save",
                lambda: save_tree(numpy_tree, genesis_path),
                lambda: torch.save(torch_tree, torch_path),
            ),
            ("load", lambda: load_tree(genesis_path), lambda: torch.load(torch_path)),
            (
                "load mmap (verified)",
                lambda: load_tree(genesis_path, mmap=True),
                lambda: torch.load(torch_path, mmap=True),
            ),
            (
                "load mmap (lazy)",
                lambda: load_tree(genesis_path, mmap=True, verify=False),
                lambda: torch.load(torch_path, mmap=True),
            ),
        ]
        print(
            f"checkpoint: {megabytes:.1f} MB, median of {args.repeats} runs; "
            f"torch {torch.__version__}"
        )
        print(f"  {'':22s} {'genesis MB/s':>13s} {'torch MB/s':>11s} {'ratio':>6s}")
        for name, genesis_run, torch_run in rows:
            genesis_speed = megabytes / median_seconds(genesis_run, args.repeats)
            torch_speed = megabytes / median_seconds(torch_run, args.repeats)
            print(
                f"  {name:22s} {genesis_speed:13.0f} {torch_speed:11.0f} "
                f"{genesis_speed / torch_speed:6.2f}"
            )
    checksum_table(args.mb, args.repeats)


if __name__ == "__main__":
    main()
