"""Layout arithmetic shared by the core and backends (views are strides in elements)."""

from __future__ import annotations

__all__ = ["contiguous_strides"]

_CONTIGUOUS: dict = {}


def contiguous_strides(shape: tuple) -> tuple:
    """Row-major strides (in elements) of ``shape``; size-0/1 dims count as 1 (PyTorch)."""
    s = _CONTIGUOUS.get(shape)
    if s is None:
        acc, out = 1, []
        for n in reversed(shape):
            out.append(acc)
            acc *= max(n, 1)
        s = _CONTIGUOUS[shape] = tuple(reversed(out))
    return s
