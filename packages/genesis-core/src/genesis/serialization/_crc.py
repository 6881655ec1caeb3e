"""CRC-32 of large buffers on several threads: per-part CRCs joined with ``crc32_combine``.

``zlib.crc32`` releases the GIL, so parts hash in parallel; joining needs the
CRC of A+B from crc(A), crc(B) and len(B), which zlib computes in C but does
not export to Python. The combination shifts crc(A) through len(B) zero bytes
by repeated squaring of the CRC's GF(2) shift operator (zlib's method).
"""

from __future__ import annotations

import os
import zlib
from concurrent.futures import ThreadPoolExecutor

_POLY = 0xEDB88320  # reflected CRC-32 polynomial
_THREADS = max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1, 8))
PARALLEL_MIN = 8 << 20  # below this, one thread is as fast
_pool: ThreadPoolExecutor | None = None


def _times(matrix: list[int], vector: int) -> int:
    total, i = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _square(matrix: list[int]) -> list[int]:
    return [_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of ``A + B`` given ``crc1 = crc32(A)``, ``crc2 = crc32(B)``, ``len2 = len(B)``."""
    if len2 <= 0:
        return crc1
    odd = [_POLY] + [1 << n for n in range(31)]  # one zero bit
    even = _square(odd)  # two zero bits
    odd = _square(even)  # four zero bits
    while True:
        even = _square(odd)  # apply len2's bits, starting with one zero byte
        if len2 & 1:
            crc1 = _times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _square(even)
        if len2 & 1:
            crc1 = _times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def crc32(data: memoryview, start: int = 0) -> int:
    """``zlib.crc32(data, start)``, computed in parallel parts for large buffers."""
    n = len(data)
    if _THREADS == 1 or n < PARALLEL_MIN:
        return zlib.crc32(data, start)
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(_THREADS - 1, thread_name_prefix="genesis-crc32")
    bounds = [n * i // _THREADS for i in range(_THREADS + 1)]
    futures = [_pool.submit(zlib.crc32, data[a:b]) for a, b in zip(bounds[1:-1], bounds[2:])]
    crc = zlib.crc32(data[:bounds[1]], start)
    for (a, b), f in zip(zip(bounds[1:-1], bounds[2:]), futures):
        crc = crc32_combine(crc, f.result(), b - a)
    return crc
