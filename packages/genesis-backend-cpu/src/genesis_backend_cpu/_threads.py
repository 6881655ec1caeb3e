"""The CPU backend's worker threads: numpy releases the GIL inside ufuncs, so large
elementwise kernels split into row blocks run on all cores (PyTorch uses them too)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def _thread_count() -> int:
    """The cores this process may run on, at most 8, and at most ``OMP_NUM_THREADS`` when
    that is set (as PyTorch and OpenBLAS read it: ranks sharing a machine set it to 1, and
    two threads per rank on a core each fought over the cores)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1
    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.strip().isdigit() and int(limit) > 0:
        cores = min(cores, int(limit))
    return max(1, min(cores, 8))


#: threads per kernel (see :func:`_thread_count`)
THREADS = _thread_count()
#: kernels over fewer elements than this run on the calling thread: a hand-off to another
#: thread and back took 45-90 us here, as long as a 1 MB add (measured: a 256K-element float32
#: add 154 us split, 60 us on one thread; from ~1M elements the split wins)
PARALLEL_MIN = 1 << 20

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def workers() -> ThreadPoolExecutor:
    """The shared pool of ``THREADS - 1`` helper threads (the caller is the last one)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(THREADS - 1, 1), thread_name_prefix="genesis-cpu")
        return _pool


def parallel_rows(fn, operands: tuple, out: np.ndarray) -> bool:
    """Run ``fn(*operands, out=out)`` in row blocks on all threads, if worth it.

    Operands are arrays of ``out``'s shape or scalars. Returns False (having done
    nothing) when the kernel is small, has too few rows, or an operand overlaps
    ``out`` in any way other than being exactly it (blocks would race).
    """
    rows = out.shape[0] if out.ndim else 0
    if THREADS == 1 or out.size < PARALLEL_MIN or rows < THREADS:
        return False
    for x in operands:
        if isinstance(x, np.ndarray) and x is not out and np.may_share_memory(x, out) and not (
                x.__array_interface__["data"][0] == out.__array_interface__["data"][0]
                and x.strides == out.strides):
            return False
    bounds = [rows * i // THREADS for i in range(THREADS + 1)]

    def block(i: int) -> None:
        a, b = bounds[i], bounds[i + 1]
        fn(*(x[a:b] if isinstance(x, np.ndarray) else x for x in operands), out=out[a:b])

    futures = [workers().submit(block, i) for i in range(1, THREADS)]
    block(0)
    for f in futures:
        f.result()
    return True


ROW_BLOCK_ELEMENTS = 1 << 16


def row_spans(rows: int, cols: int) -> list[tuple[int, int]]:
    """Row ranges of about :data:`ROW_BLOCK_ELEMENTS` elements each (at least one row)."""
    step = max(1, ROW_BLOCK_ELEMENTS // max(cols, 1))
    return [(i, min(i + step, rows)) for i in range(0, rows, step)]


def run_spans(spans: list, body) -> list:
    """``body(r0, r1)`` for every span, the spans dealt round-robin to the threads; the results
    in no particular order."""
    if THREADS == 1 or len(spans) < 2:
        return [body(a, b) for a, b in spans]
    parts = [spans[i::THREADS] for i in range(THREADS)]
    futures = [workers().submit(lambda p=p: [body(a, b) for a, b in p]) for p in parts[1:]]
    results = [body(a, b) for a, b in parts[0]]
    for f in futures:
        results.extend(f.result())
    return results
