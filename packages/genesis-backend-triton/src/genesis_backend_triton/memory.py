"""Storages, kernel arguments and the two memories they live in.

A :class:`Storage` is one contiguous untyped allocation from the caching
allocator; it goes back to the allocator's pool when garbage-collected.
Kernels never see storages directly: :func:`kernel_arg` wraps one with an
element dtype into a :class:`Pointer`, the object Triton launches with.

``Pointer`` answers ``data_ptr()`` and ``dtype`` (all a GPU launch reads)
and, for ``TRITON_INTERPRET=1``, the small torch-like storage protocol the
interpreter calls to stage arguments on the host (``untyped_storage()``,
``cpu()``, ``new_empty()``, ``set_()``, ``copy_()``...). Host storages are
already on the host, so that staging is a no-op and kernels read and write
the buffers in place; what the interpreter stages is a :class:`StagedBuffer`
(address and size), never the owning storage.

:class:`HostMemory` backs storages with numpy buffers (interpreter mode);
:class:`CudaMemory` (``genesis_backend_triton._cuda``) with pycuda device memory.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable

import numpy as np

from genesis_backend_triton.allocator import Block, CachingAllocator

ALIGNMENT = 256


class ElementType:
    """The ``dtype`` of a :class:`Pointer`: ``str()`` is the numpy-style name Triton parses."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


_ELEMENT_TYPES: dict = {}


class Storage:
    """A contiguous allocation of ``nbytes`` at address ``ptr``, owned by a memory."""

    __slots__ = ("ptr", "nbytes", "block", "memory", "__weakref__")

    def __init__(self, memory: HostMemory, block: Block, nbytes: int) -> None:
        self.memory = memory
        self.block = block
        self.ptr = block.ptr
        self.nbytes = nbytes

    def __del__(self) -> None:
        memory = getattr(self, "memory", None)
        if memory is not None and not memory.closed:
            memory.allocator.free(self.block)

    def __repr__(self) -> str:
        return f"Storage(ptr=0x{self.ptr:x}, nbytes={self.nbytes})"


class StagedBuffer:
    """What the interpreter's argument staging sees of a host storage: address and size.

    The interpreter keeps the staged storages of every launch in reference cycles
    (its recursive staging closures) until the garbage collector runs; staging the
    owning :class:`Storage` would keep the memory allocated until then. The launch
    itself holds the ``Storage`` through its :class:`Pointer` arguments.
    """

    __slots__ = ("ptr", "nbytes")

    def __init__(self, storage: Storage) -> None:
        if not storage.memory.on_host:
            raise RuntimeError("genesis-backend-triton: a device storage reached the Triton "
                               "interpreter; TRITON_INTERPRET=1 must be set before the first "
                               "tensor is created")
        self.ptr = storage.ptr
        self.nbytes = storage.nbytes

    def data_ptr(self) -> int:
        return self.ptr

    def cpu(self) -> StagedBuffer:
        return self  # already on the host: kernels work on the buffer in place

    def copy_(self, other: StagedBuffer) -> StagedBuffer:
        if other.ptr != self.ptr:
            raise RuntimeError("genesis-backend-triton: the interpreter staged a copy of a host "
                               "buffer, expected it to use the buffer in place")
        return self


class Pointer:
    """A kernel argument: the first element of ``storage`` typed as ``dtype``."""

    __slots__ = ("storage", "dtype")

    def __init__(self, storage: Storage | StagedBuffer | None, dtype: ElementType) -> None:
        self.storage = storage
        self.dtype = dtype

    def data_ptr(self) -> int:
        return self.storage.ptr

    # -- the tensor half of the interpreter's staging protocol ----------------------------
    def untyped_storage(self) -> StagedBuffer:
        if isinstance(self.storage, StagedBuffer):
            return self.storage
        return StagedBuffer(self.storage)

    def storage_offset(self) -> int:
        return 0

    def size(self) -> tuple:
        return (self.storage.nbytes,)

    def stride(self) -> tuple:
        return (1,)

    def new_empty(self, *size, device=None) -> Pointer:
        return Pointer(None, self.dtype)

    def set_(self, storage: StagedBuffer, offset: int = 0, size=None, stride=None) -> Pointer:
        self.storage = storage
        return self

    def copy_(self, other: Pointer) -> Pointer:
        self.untyped_storage().copy_(other.untyped_storage())
        return self

    def cpu(self) -> Pointer:
        return Pointer(self.untyped_storage(), self.dtype)


def kernel_arg(storage: Storage, dtype_name: str) -> Pointer:
    """``storage`` as a Triton pointer argument to elements of ``dtype_name``."""
    et = _ELEMENT_TYPES.get(dtype_name)
    if et is None:
        et = _ELEMENT_TYPES[dtype_name] = ElementType(dtype_name)
    return Pointer(storage, et)


class HostMemory:
    """Host buffers behind the caching allocator: the memory of interpreter mode."""

    on_host = True

    def __init__(self) -> None:
        self._buffers: dict[int, np.ndarray] = {}
        self.allocator = CachingAllocator(self._raw_alloc, self._raw_free)
        self.closed = False

    def _raw_alloc(self, nbytes: int) -> tuple:
        raw = np.empty(nbytes + ALIGNMENT, np.uint8)
        start = -raw.ctypes.data % ALIGNMENT
        buf = raw[start:start + nbytes]
        self._buffers[buf.ctypes.data] = raw
        return buf.ctypes.data, buf.ctypes.data

    def _raw_free(self, handle: int) -> None:
        del self._buffers[handle]

    def alloc(self, nbytes: int) -> Storage:
        return Storage(self, self.allocator.malloc(nbytes), nbytes)

    def upload(self, dst: Storage, byte_offset: int, array: np.ndarray) -> None:
        ctypes.memmove(dst.ptr + byte_offset, array.ctypes.data, array.nbytes)

    def download(self, src: Storage, byte_offset: int, out: np.ndarray) -> None:
        ctypes.memmove(out.ctypes.data, src.ptr + byte_offset, out.nbytes)

    def copy(self, dst: Storage, dst_offset: int, src: Storage, src_offset: int,
             nbytes: int) -> None:
        ctypes.memmove(dst.ptr + dst_offset, src.ptr + src_offset, nbytes)

    def synchronize(self) -> None:
        """Interpreter kernels finish before their launch returns: nothing to wait for."""

    def time_ms(self, fn: Callable[[], object], reps: int = 3) -> float:
        """Median wall time of ``fn`` in milliseconds (after one warm-up call)."""
        fn()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        return sorted(times)[len(times) // 2]

    def device_name(self) -> str:
        return "triton-interpreter"
