"""GPU memory through pycuda, imported lazily (the ``[cuda]`` extra).

pycuda and Triton share the device's *primary* context: we retain it with
``Device.retain_primary_context()`` and make it current, which is the context
Triton (and PyTorch, if present) use too, so pointers from our allocator are
valid in Triton kernels. Copies run on the legacy default stream, which
orders them with the kernels Triton launches there.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable

import numpy as np

from genesis_backend_triton.allocator import CachingAllocator
from genesis_backend_triton.memory import Storage


def probe() -> tuple[int, str]:
    """``(device_count, "")`` when pycuda imports and sees a GPU, else ``(0, reason)``."""
    try:
        import pycuda.driver as cuda
    except ImportError as exc:
        return 0, f"pycuda is not importable ({exc})"
    try:
        cuda.init()
        count = cuda.Device.count()
    except Exception as exc:  # no driver, no device, driver too old...
        return 0, f"the CUDA driver failed to initialise ({exc})"
    return count, "" if count else "the CUDA driver sees no GPU"


def _refuse_in_forked_child(*args, **kwargs):
    raise RuntimeError("Cannot re-initialize CUDA in forked subprocess. To use CUDA with "
                       "multiprocessing, you must use the 'spawn' start method (for a "
                       "DataLoader: multiprocessing_context='spawn')")


class CudaMemory:
    """Device memory of GPU 0 behind the caching allocator."""

    on_host = False

    def __init__(self) -> None:
        import pycuda.driver as cuda
        cuda.init()
        self._cuda = cuda
        self.device = cuda.Device(0)
        self.context = self.device.retain_primary_context()
        self.context.push()
        self._allocations: dict[int, object] = {}
        self.allocator = CachingAllocator(self._raw_alloc, self._raw_free)
        self.closed = False
        atexit.register(self.close)
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        """A forked child inherits the parent's driver state, which CUDA cannot use: refuse
        every use with torch's message rather than fail on the first copy with an obscure
        driver error (DataLoader workers over CUDA tensors need ``multiprocessing_context=
        "spawn"``, as in torch)."""
        self.closed = True  # the context is the parent's: never pop it here
        for name in ("alloc", "upload", "download", "copy", "synchronize"):
            setattr(self, name, _refuse_in_forked_child)

    def _raw_alloc(self, nbytes: int) -> tuple:
        try:
            mem = self._cuda.mem_alloc(nbytes)
        except self._cuda.MemoryError as exc:
            raise MemoryError(f"CUDA out of memory allocating {nbytes} bytes: {exc}") from exc
        self._allocations[int(mem)] = mem
        return int(mem), int(mem)

    def _raw_free(self, handle: int) -> None:
        self._allocations.pop(handle).free()

    def alloc(self, nbytes: int) -> Storage:
        return Storage(self, self.allocator.malloc(nbytes), nbytes)

    def upload(self, dst: Storage, byte_offset: int, array: np.ndarray) -> None:
        if array.nbytes:
            self._cuda.memcpy_htod(dst.ptr + byte_offset, np.ascontiguousarray(array))

    def download(self, src: Storage, byte_offset: int, out: np.ndarray) -> None:
        if out.nbytes:
            self._cuda.memcpy_dtoh(out, src.ptr + byte_offset)

    def copy(self, dst: Storage, dst_offset: int, src: Storage, src_offset: int,
             nbytes: int) -> None:
        if nbytes:
            self._cuda.memcpy_dtod(dst.ptr + dst_offset, src.ptr + src_offset, nbytes)

    def synchronize(self) -> None:
        self._cuda.Context.synchronize()

    def time_ms(self, fn: Callable[[], object], reps: int = 10) -> float:
        """Median device time of ``fn`` in milliseconds, measured with CUDA events."""
        fn()
        self.synchronize()
        start, end = self._cuda.Event(), self._cuda.Event()
        times = []
        for _ in range(reps):
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.time_till(end))
        return sorted(times)[len(times) // 2]

    def device_name(self) -> str:
        return self.device.name()

    def close(self) -> None:
        """Release cached memory and the primary context (at interpreter exit)."""
        if self.closed:
            return
        self.synchronize()
        self.allocator.empty_cache()
        self.closed = True
        self.context.pop()
