"""Autotuning you can trust: measured once per (kernel, key), remembered on disk.

:meth:`Autotuner.pick` times every candidate config of a kernel for a key
(shapes, dtypes, layout) and keeps the fastest. The winner is written to
``<cache dir>/<device>/<kernel>.json`` atomically (a temporary file in the same
folder, then ``os.replace``), so a second process -- or a crash mid-write --
never sees a partial file, and later processes reuse it without timing
again. ``bench_count`` counts timings (tests read it). The key stored on disk
ends with a digest of the candidate list, so a release that changes a
kernel's candidates retunes instead of reusing a pick made among the old ones.

A kernel that writes its inputs in place is tuned on scratch copies: the
caller passes a ``launch(config)`` closure over copies, never over live
data. With tuning disabled (the interpreter, unless
``GENESIS_TRITON_AUTOTUNE=1``) the first config is used.

Cache folder: ``$GENESIS_TRITON_CACHE_DIR``, else ``~/.cache/genesis/triton``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import triton


def cache_dir() -> Path:
    env = os.environ.get("GENESIS_TRITON_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "genesis" / "triton"


def candidates_digest(configs: list[dict]) -> str:
    """A short stable digest of a candidate list (part of every cache key)."""
    text = json.dumps(configs, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Autotuner:
    """Per-kernel tables ``key -> best config``, in memory and on disk."""

    def __init__(self, memory, device_name: str, enabled: bool = True) -> None:
        self.memory = memory
        self.enabled = enabled
        self.device = re.sub(r"[^A-Za-z0-9_.-]+", "_", device_name) + "-triton" + triton.__version__
        self.bench_count = 0
        self._tables: dict[str, dict] = {}
        self._lock = threading.Lock()

    def pick(self, kernel: str, key: tuple, configs: list[dict],
             launcher: Callable[[], Callable[[dict], object]]) -> dict:
        """The best of ``configs`` for ``key``.

        Unknown keys are timed: ``launcher()`` is called once to get ``launch(config)``
        (where an in-place kernel makes its scratch copies), then each config is timed.
        """
        if not self.enabled or len(configs) == 1:
            return configs[0]
        table = self._table(kernel)
        skey = json.dumps(list(key) + [candidates_digest(configs)])
        best = table.get(skey)
        if best is not None:
            return best
        launch = launcher()
        timings = []
        for config in configs:
            try:
                ms = self.memory.time_ms(lambda config=config: launch(config))
            except Exception:  # a config this device cannot run (e.g. out of shared memory)
                continue
            self.bench_count += 1
            timings.append((ms, config))
        if not timings:
            raise RuntimeError(f"autotune: no config of {kernel} ran for key {key}")
        best = min(timings, key=lambda t: t[0])[1]
        with self._lock:
            table = dict(self._read(kernel))  # merge what other processes wrote meanwhile
            table.update(self._tables[kernel])
            table[skey] = best
            self._tables[kernel] = table
            self._write(kernel, table)
        return best

    def _path(self, kernel: str) -> Path:
        return cache_dir() / self.device / f"{kernel}.json"

    def _table(self, kernel: str) -> dict:
        table = self._tables.get(kernel)
        if table is None:
            table = self._tables[kernel] = self._read(kernel)
        return table

    def _read(self, kernel: str) -> dict:
        try:
            return json.loads(self._path(kernel).read_text())
        except (OSError, ValueError):
            return {}

    def _write(self, kernel: str, table: dict) -> None:
        path = self._path(kernel)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kernel}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(table, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
