"""The backend's lazily built state: memory, Triton dtypes, launch helpers, the tuner.

Created on first use, so ``import genesis`` imports neither triton nor
pycuda, and ``TRITON_INTERPRET=1`` may be set any time before the first
tensor is made on device ``"cuda"``.
"""

from __future__ import annotations

import os

import numpy as np
import triton
import triton.language as tl

from genesis_backend_triton.autotune import Autotuner
from genesis_backend_triton.layout import chunks, numel
from genesis_backend_triton.memory import HostMemory, Storage, kernel_arg

TL_DTYPES = {"float32": tl.float32, "float64": tl.float64, "float16": tl.float16,
             "bfloat16": tl.bfloat16, "int8": tl.int8, "uint8": tl.uint8, "int16": tl.int16,
             "int32": tl.int32, "int64": tl.int64, "bool": tl.int1}
INT32_MAX = 2**31 - 1


def numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


class Runtime:
    """Memory plus the launch policy (block sizes differ: GPU vs interpreter)."""

    def __init__(self) -> None:
        self.interpret = os.environ.get("TRITON_INTERPRET", "0") == "1"
        if self.interpret:
            from genesis_backend_triton import _interpreter_compat
            _interpreter_compat.apply()
            self.memory = HostMemory()
        else:
            from genesis_backend_triton._cuda import CudaMemory
            self.memory = CudaMemory()
        self.tuner = Autotuner(self.memory, device_name=self.memory.device_name(),
                               enabled=not self.interpret or
                               os.environ.get("GENESIS_TRITON_AUTOTUNE") == "1")

    # -- storages --------------------------------------------------------------------------
    def alloc(self, count: int, dtype) -> Storage:
        return self.memory.alloc(count * dtype.itemsize)

    def ptr(self, view):
        return kernel_arg(view.storage, view.dtype.name)

    def scalar_storage(self, value, dtype) -> Storage:
        """A one-element storage holding ``value`` (for float64 scalars, exact)."""
        s = self.alloc(1, dtype)
        self.memory.upload(s, 0, np.asarray(value, numpy_dtype(dtype.name)).reshape(1))
        return s

    # -- launching -------------------------------------------------------------------------
    def elementwise_block(self, n: int) -> tuple[int, int]:
        """``(BLOCK, num_warps)`` for an elementwise launch over ``n`` elements."""
        if self.interpret:
            return min(triton.next_power_of_2(max(n, 1)), 1 << 14), 1
        return 1024, 4

    def launch_strided(self, kernel, shape: tuple, ptrs: list, values: list, offsets: list,
                       strides: list, **consts) -> None:
        """Launch an elementwise ``kernel`` over ``shape`` (operands: offset + strides each)."""
        n_total = numel(shape)
        if n_total == 0:
            return
        for shape6, strides6, offs, ndim in chunks(shape, strides, offsets):
            n = numel(shape6)
            reach = max([n] + [o + sum((d - 1) * abs(s) for d, s in zip(shape6, st))
                               for o, st in zip(offs, strides6)])
            block, warps = self.elementwise_block(n)
            flat = [s for st in strides6 for s in st]
            kernel[(triton.cdiv(n, block),)](*ptrs, *values, *offs, n, *shape6[1:], *flat,
                                             NDIM=ndim, BLOCK=block, INDEX64=reach > INT32_MAX,
                                             num_warps=warps, **consts)
