"""The caching allocator's bookkeeping, over a fake raw allocator (no device needed)."""

import pytest
from genesis_backend_triton.allocator import LARGE_ROUND, SMALL_ROUND, CachingAllocator, size_class


class FakeRaw:
    """Hands out increasing addresses; can run out of memory at ``capacity`` bytes."""

    def __init__(self, capacity=None):
        self.capacity = capacity
        self.live = {}
        self.next = 0x1000
        self.allocs = self.frees = 0

    def alloc(self, nbytes):
        if self.capacity is not None and sum(self.live.values()) + nbytes > self.capacity:
            raise MemoryError(f"fake device out of memory ({nbytes} bytes)")
        ptr, self.next = self.next, self.next + nbytes
        self.live[ptr] = nbytes
        self.allocs += 1
        return ptr, ptr

    def free(self, handle):
        del self.live[handle]
        self.frees += 1


def make(capacity=None):
    raw = FakeRaw(capacity)
    return raw, CachingAllocator(raw.alloc, raw.free)


def test_size_classes_round_small_and_large_requests():
    assert size_class(0) == SMALL_ROUND
    assert size_class(1) == SMALL_ROUND
    assert size_class(513) == 2 * SMALL_ROUND
    assert size_class((1 << 20) - 1) == 1 << 20
    assert size_class(1 << 20) == LARGE_ROUND
    assert size_class(LARGE_ROUND + 1) == 2 * LARGE_ROUND
    with pytest.raises(ValueError, match="nbytes=-1"):
        size_class(-1)


def test_freed_block_is_reused_for_the_same_class_without_a_raw_allocation():
    raw, alloc = make()
    a = alloc.malloc(1000)
    alloc.free(a)
    b = alloc.malloc(900)  # same 1024-byte class
    assert b is a and raw.allocs == 1
    c = alloc.malloc(5000)  # other class: fresh
    assert c.ptr != a.ptr and raw.allocs == 2
    s = alloc.stats()
    assert s["num_allocs"] == 3 and s["num_cache_hits"] == 1 and s["num_raw_allocs"] == 2


def test_statistics_track_allocated_reserved_and_peaks():
    raw, alloc = make()
    blocks = [alloc.malloc(1024) for _ in range(4)]
    assert alloc.stats()["allocated"] == 4096 == alloc.stats()["max_allocated"]
    for b in blocks[:3]:
        alloc.free(b)
    s = alloc.stats()
    assert s["allocated"] == 1024 and s["max_allocated"] == 4096
    assert s["reserved"] == 4096 and s["cached"] == 3072
    alloc.reset_peak_stats()
    assert alloc.stats()["max_allocated"] == 1024
    assert alloc.stats()["max_reserved"] == 4096  # still reserved


def test_empty_cache_returns_only_unused_blocks():
    raw, alloc = make()
    keep = alloc.malloc(2048)
    alloc.free(alloc.malloc(2048))
    alloc.free(alloc.malloc(3 << 20))
    alloc.empty_cache()
    assert raw.frees == 2 and list(raw.live) == [keep.ptr]
    s = alloc.stats()
    assert s["reserved"] == 2048 == s["allocated"] and s["cached"] == 0


def test_out_of_memory_releases_the_cache_and_retries_once():
    raw, alloc = make(capacity=4 << 20)
    alloc.free(alloc.malloc(3 << 20))  # 4 MiB class cached
    block = alloc.malloc(1 << 20)  # 2 MiB class: needs the cached 4 MiB released first
    assert block.size == 2 << 20 and alloc.stats()["num_oom_retries"] == 1
    assert sum(raw.live.values()) == 2 << 20


def test_out_of_memory_with_nothing_cached_raises():
    raw, alloc = make(capacity=1 << 20)
    with pytest.raises(MemoryError, match="out of memory"):
        alloc.malloc(4 << 20)
    assert alloc.stats()["allocated"] == 0


def test_storage_garbage_collection_returns_its_block_to_the_pool():
    # gc.collect(): the Triton interpreter's argument staging keeps the storages of a launch
    # in a closure cycle (triton/runtime/interpreter.py, _restore_args_dev) until a collection.
    import gc

    import genesis
    gc.collect()
    backend = genesis.device("cuda").backend
    before = backend.memory_stats()
    t = genesis.zeros(1000, device="cuda")
    during = backend.memory_stats()
    assert during["allocated"] >= before["allocated"] + 4000
    del t
    gc.collect()
    after = backend.memory_stats()
    assert after["allocated"] == before["allocated"]
    assert after["reserved"] == during["reserved"]
    genesis.cuda.empty_cache()
    assert backend.memory_stats()["cached"] == 0
    assert genesis.cuda.max_memory_allocated() >= genesis.cuda.memory_allocated()
    genesis.cuda.reset_peak_memory_stats()
    assert genesis.cuda.max_memory_allocated() == genesis.cuda.memory_allocated()
