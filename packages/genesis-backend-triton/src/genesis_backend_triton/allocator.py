"""A caching allocator: pure bookkeeping over any raw allocator.

Freed blocks go back to a pool keyed by their size class instead of to the
driver, so the next request of that class reuses them without a
``cuMemAlloc``/``cuMemFree`` pair (which synchronise the device). The raw
allocator is two callables, so this logic is tested with a fake one::

    raw_alloc(nbytes) -> (address, handle)     raw_free(handle) -> None

Size classes: requests round up to 512 B below 1 MiB and to 2 MiB above, so a
pool serves every request of its class. When the raw allocator fails, the
cache is returned to it and the request retried once (like PyTorch's).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SMALL_LIMIT = 1 << 20
SMALL_ROUND = 512
LARGE_ROUND = 2 << 20


@dataclass(eq=False)
class Block:
    """One raw allocation: ``ptr`` is its address, ``size`` its size class in bytes."""

    ptr: int
    size: int
    handle: Any


def size_class(nbytes: int) -> int:
    """The rounded size a request of ``nbytes`` is served from (at least 512 bytes)."""
    if nbytes < 0:
        raise ValueError(f"size_class: nbytes={nbytes}, expected >= 0")
    step = SMALL_ROUND if nbytes < SMALL_LIMIT else LARGE_ROUND
    return max(step, -(-nbytes // step) * step)


class CachingAllocator:
    """Size-class pools of freed blocks over ``raw_alloc``/``raw_free``, with statistics."""

    def __init__(self, raw_alloc: Callable[[int], tuple], raw_free: Callable[[Any], None]) -> None:
        self._raw_alloc = raw_alloc
        self._raw_free = raw_free
        self._pools: dict[int, list[Block]] = {}
        self._lock = threading.Lock()
        self.allocated = self.max_allocated = 0
        self.reserved = self.max_reserved = 0
        self.num_allocs = self.num_cache_hits = self.num_raw_allocs = self.num_raw_frees = 0
        self.num_oom_retries = 0

    def malloc(self, nbytes: int) -> Block:
        """A block of at least ``nbytes`` bytes, from the pool of its class when one is free."""
        size = size_class(nbytes)
        with self._lock:
            self.num_allocs += 1
            pool = self._pools.get(size)
            if pool:
                block = pool.pop()
                self.num_cache_hits += 1
            else:
                block = self._fresh(size)
            self.allocated += size
            self.max_allocated = max(self.max_allocated, self.allocated)
            return block

    def free(self, block: Block) -> None:
        """Return ``block`` to its pool (the memory stays reserved for reuse)."""
        with self._lock:
            self.allocated -= block.size
            self._pools.setdefault(block.size, []).append(block)

    def empty_cache(self) -> None:
        """Give every pooled (unused) block back to the raw allocator."""
        with self._lock:
            self._release_pools()

    def stats(self) -> dict:
        """Byte counts and counters; ``cached`` is reserved memory not held by tensors."""
        with self._lock:
            return {"allocated": self.allocated, "max_allocated": self.max_allocated,
                    "reserved": self.reserved, "max_reserved": self.max_reserved,
                    "cached": self.reserved - self.allocated, "num_allocs": self.num_allocs,
                    "num_cache_hits": self.num_cache_hits, "num_raw_allocs": self.num_raw_allocs,
                    "num_raw_frees": self.num_raw_frees, "num_oom_retries": self.num_oom_retries}

    def reset_peak_stats(self) -> None:
        """Restart the peaks (``max_allocated``, ``max_reserved``) from the current values."""
        with self._lock:
            self.max_allocated = self.allocated
            self.max_reserved = self.reserved

    def _fresh(self, size: int) -> Block:
        try:
            ptr, handle = self._raw_alloc(size)
        except MemoryError:
            if not any(self._pools.values()):
                raise
            self.num_oom_retries += 1
            self._release_pools()
            ptr, handle = self._raw_alloc(size)
        self.num_raw_allocs += 1
        self.reserved += size
        self.max_reserved = max(self.max_reserved, self.reserved)
        return Block(ptr, size, handle)

    def _release_pools(self) -> None:
        for pool in self._pools.values():
            for block in pool:
                self._raw_free(block.handle)
                self.num_raw_frees += 1
                self.reserved -= block.size
        self._pools.clear()
