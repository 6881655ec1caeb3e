"""Keep large freed buffers in the process heap (glibc) instead of returning them to the OS.

A training step allocates and frees the same multi-megabyte activations every
iteration. With glibc's defaults each such buffer is a fresh ``mmap`` whose
pages fault in on first touch, which cost 20-30% of a transformer step here.
Raising the mmap and trim thresholds makes ``malloc`` reuse that memory, as
PyTorch's allocator does. Opt out with ``GENESIS_CPU_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 30  # 1 GiB: buffers below this come from (and return to) the heap

_tuned = False


def tune_malloc() -> bool:
    """Apply the thresholds once per process (Linux/glibc only). Returns whether it did."""
    global _tuned
    if _tuned or not sys.platform.startswith("linux") or \
            os.environ.get("GENESIS_CPU_MALLOC_TUNING", "1") == "0":
        return _tuned
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): leave the allocator alone
        return False
    _tuned = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD,
                                                                          THRESHOLD))
    return _tuned
