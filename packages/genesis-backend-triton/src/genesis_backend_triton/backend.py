"""The Triton backend: device ``"cuda"``.

Storages are untyped allocations (:mod:`genesis_backend_triton.memory`) from
pycuda on a GPU, or host buffers under ``TRITON_INTERPRET=1``, where the
same kernels run in Triton's interpreter. Each primitive below turns its
views into kernel arguments -- pointer, element offset, shape and strides --
and launches one kernel family of :mod:`genesis_backend_triton.kernels`;
fused kernels for composites live in :mod:`genesis_backend_triton.fused`.
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass

import numpy as np
from genesis.backends import Capabilities

from genesis_backend_triton import fused
from genesis_backend_triton.layout import (
    cdiv,
    collapse,
    contiguous_strides,
    is_contiguous,
    next_pow2,
    numel,
)

INT32_MAX = 2**31 - 1
DTYPES = frozenset({"float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16",
                    "int32", "int64", "bool"})
_HALF = ("float16", "bfloat16")
_LOGICAL = ("logical_and", "logical_or", "logical_xor")
_ATOMIC_WIDE = {"float16": "float32", "bfloat16": "float32", "int8": "int32", "uint8": "int32",
                "int16": "int32", "bool": "int32"}
_INSTALL_HINT = ("on a host with an NVIDIA GPU and driver, install genesis-backend-triton[cuda] "
                 "from the Genesis repository (`pip install "
                 "\"./packages/genesis-backend-triton[cuda]\"` from a checkout), or set "
                 "TRITON_INTERPRET=1 to run the Triton kernels on the CPU in Triton's interpreter")


def interpreting() -> bool:
    """``TRITON_INTERPRET=1``: kernels run in Triton's interpreter on host memory."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@dataclass
class View:
    """A strided view the backend builds for itself (same fields as a genesis Tensor)."""

    storage: object
    shape: tuple
    strides: tuple
    offset: int
    dtype: object


def _scalar_dtype_name(value, other_name: str) -> str:
    if isinstance(value, float) and other_name in ("bool", "int8", "uint8", "int16", "int32",
                                                   "int64"):
        return "float32"
    return other_name


def _python_value(value, dtype_name: str):
    if dtype_name == "bool":  # as 0/1: interpreters before triton 3.9 cannot take a bool argument
        return int(bool(value))
    if dtype_name.startswith(("int", "uint")):
        return int(value)
    return float(value)


class TritonBackend:
    """Triton kernels for every genesis primitive, plus fused composites."""

    name = "cuda"

    def __init__(self) -> None:
        self.capabilities = Capabilities(dtypes=DTYPES, fused=fused.table(self))
        self._runtime = None
        self._probe: tuple | None = None

    # -- device --------------------------------------------------------------------------
    def availability(self) -> tuple[bool, str]:
        if interpreting():
            if importlib.util.find_spec("triton") is None:
                return False, "TRITON_INTERPRET=1 is set but triton is not installed (pip " \
                              "install triton)"
            return True, ""
        count, reason = self._gpu_probe()
        if count:
            return True, ""
        return False, f"{reason}; {_INSTALL_HINT}"

    def _gpu_probe(self) -> tuple:
        if self._probe is None:
            from genesis_backend_triton._cuda import probe
            self._probe = probe()
        return self._probe

    def device_count(self) -> int:
        if interpreting():
            return 1
        return min(self._gpu_probe()[0], 1)  # one device per process for now: GPU 0

    def current_device(self) -> int:
        return 0

    @property
    def rt(self):
        """The :class:`~genesis_backend_triton.runtime.Runtime`, built on first use."""
        if self._runtime is None:
            ok, reason = self.availability()
            if not ok:
                raise RuntimeError(f"device 'cuda' is unavailable: {reason}")
            from genesis_backend_triton.runtime import Runtime
            self._runtime = Runtime()
        return self._runtime

    def synchronize(self) -> None:
        if self._runtime is not None:
            self._runtime.memory.synchronize()

    def memory_stats(self) -> dict:
        """Bytes ``allocated``, ``max_allocated``, ``reserved``, ``cached``... and counters."""
        return self.rt.memory.allocator.stats()

    def reset_peak_memory_stats(self) -> None:
        self.rt.memory.allocator.reset_peak_stats()

    def empty_cache(self) -> None:
        self.synchronize()
        self.rt.memory.allocator.empty_cache()

    # -- memory --------------------------------------------------------------------------
    def empty(self, shape, dtype, index=0):
        return self.rt.alloc(numel(shape), dtype)

    def from_numpy(self, array, index=0):
        s = self.rt.memory.alloc(array.nbytes)
        self.rt.memory.upload(s, 0, np.ascontiguousarray(array))
        return s

    def to_numpy(self, x):
        from genesis_backend_triton.runtime import numpy_dtype
        out = np.empty(x.shape, numpy_dtype(x.dtype.name))
        if out.size:
            src = x if is_contiguous(x) else self.contiguous(x)
            self.rt.memory.download(src.storage, src.offset * x.dtype.itemsize, out)
        return out

    def copy_(self, dst, src) -> None:
        if dst.dtype is src.dtype and is_contiguous(dst) and is_contiguous(src):
            item = dst.dtype.itemsize
            self.rt.memory.copy(dst.storage, dst.offset * item, src.storage, src.offset * item,
                                numel(dst.shape) * item)
            return
        from genesis_backend_triton.kernels.elementwise import unary_kernel
        self.rt.launch_strided(unary_kernel, dst.shape, [self.rt.ptr(src), self.rt.ptr(dst)], [],
                               [src.offset, dst.offset], [src.strides, dst.strides], OP="copy")

    def fill_(self, dst, value) -> None:
        if dst.dtype.name == "float64":  # Triton passes Python floats as float32
            one = View(self.rt.scalar_storage(value, dst.dtype), dst.shape,
                       (0,) * len(dst.shape), 0, dst.dtype)
            self.copy_(dst, one)
            return
        from genesis_backend_triton.kernels.elementwise import fill_kernel
        self.rt.launch_strided(fill_kernel, dst.shape, [self.rt.ptr(dst)],
                               [_python_value(value, dst.dtype.name)], [dst.offset],
                               [dst.strides])

    def contiguous(self, x) -> View:
        """A contiguous copy of view ``x``."""
        out = View(self.empty(x.shape, x.dtype), x.shape, contiguous_strides(x.shape), 0, x.dtype)
        self.copy_(out, x)
        return out

    def new_view(self, shape: tuple, dtype) -> View:
        return View(self.empty(shape, dtype), shape, contiguous_strides(shape), 0, dtype)

    # -- elementwise ---------------------------------------------------------------------
    def unary(self, op, x, dtype, out=None):
        from genesis_backend_triton.kernels.elementwise import unary_kernel
        target = out if out is not None else self.new_view(x.shape, dtype)
        self.rt.launch_strided(unary_kernel, x.shape, [self.rt.ptr(x), self.rt.ptr(target)], [],
                               [x.offset, target.offset], [x.strides, target.strides], OP=op)
        return None if out is not None else target.storage

    def binary(self, op, a, b, dtype, out=None):
        from genesis_backend_triton.kernels.elementwise import binary_kernel
        ref = a if hasattr(a, "storage") else b
        if op == "pow" and not hasattr(b, "storage") and b == 2 and a.dtype.name != "bool":
            op, b = "mul", a
        target = out if out is not None else self.new_view(ref.shape, dtype)
        operands, consts = self._operands((a, b), ref, op, target)
        self.rt.launch_strided(binary_kernel, ref.shape, *operands, OP=op, **consts)
        return None if out is not None else target.storage

    def where(self, cond, a, b, dtype):
        from genesis_backend_triton.kernels.elementwise import where_kernel
        target = self.new_view(cond.shape, dtype)
        (ptrs, values, offs, strides), consts = self._operands((a, b), target, "where", target)
        ptrs = [self.rt.ptr(cond)] + ptrs
        self.rt.launch_strided(where_kernel, cond.shape, ptrs, values, [cond.offset] + offs[:2],
                               [cond.strides] + strides[:2], **consts)
        return target.storage

    def _operands(self, pair, ref, op: str, target) -> tuple:
        """Kernel arguments for two operands (views or Python scalars) and ``target``."""
        from genesis_backend_triton.runtime import TL_DTYPES
        ptrs, values, offs, strides, consts = [], [], [], [], {}
        zero = (0,) * len(ref.shape)
        cdt = ref.dtype.name
        for operand in pair:
            if hasattr(operand, "storage"):
                cdt = operand.dtype.name
        for name, operand in zip("AB", pair):
            scalar = not hasattr(operand, "storage")
            if scalar:
                sdt = _scalar_dtype_name(operand, cdt) if op in _LOGICAL else cdt
                if sdt == "float64" or (sdt == "int64" and abs(int(operand)) > INT32_MAX):
                    operand = View(self.rt.scalar_storage(operand, _dtype(sdt)), ref.shape, zero, 0,
                                   _dtype(sdt))
                    scalar = False
            consts[f"{name}_SCALAR"] = scalar
            if scalar:
                consts["CDT"] = TL_DTYPES[sdt]
                ptrs.append(self.rt.ptr(target))
                values.append(_python_value(operand, sdt))
                offs.append(0)
                strides.append(zero)
            else:
                ptrs.append(self.rt.ptr(operand))
                values.append(0)
                offs.append(operand.offset)
                strides.append(operand.strides)
        consts.setdefault("CDT", TL_DTYPES[cdt])
        ptrs.append(self.rt.ptr(target))
        offs.append(target.offset)
        strides.append(target.strides)
        return (ptrs, values, offs, strides), consts

    # -- reductions ----------------------------------------------------------------------
    def _rows(self, x, axes: tuple) -> tuple:
        """``x`` as ``(M, N)`` rows of the ``axes`` elements: (view, M, N, sm, sn)."""
        keep = [i for i in range(len(x.shape)) if i not in axes]
        m = numel(tuple(x.shape[i] for i in keep))
        n = numel(tuple(x.shape[i] for i in axes))
        ks, (kst,) = collapse(tuple(x.shape[i] for i in keep), [tuple(x.strides[i] for i in keep)])
        rs, (rst,) = collapse(tuple(x.shape[i] for i in axes), [tuple(x.strides[i] for i in axes)])
        if len(ks) == 1 and len(rs) == 1:
            return x, m, n, kst[0], rst[0]
        order = keep + list(axes)
        permuted = View(x.storage, tuple(x.shape[i] for i in order),
                        tuple(x.strides[i] for i in order), x.offset, x.dtype)
        return self.contiguous(permuted), m, n, n, 1

    def reduce(self, op, x, axes, dtype):
        from genesis_backend_triton.kernels.reduction import reduce_kernel
        axes = tuple(axes)
        src, m, n, sm, sn = self._rows(x, axes)
        out = self.new_view((m,), dtype)
        if m == 0:
            return out.storage
        if n == 0:
            self.fill_(out, 0 if op == "sum" else 1)
            return out.storage
        name = x.dtype.name if op in ("max", "min") else dtype.name
        acc = "float32" if name in _HALF else "int32" if name == "bool" else name
        if op in ("sum", "prod") and x.dtype.name in _HALF:
            acc = "float32"
        ident = _identity(op, acc)
        big = x.offset + (m - 1) * abs(sm) + (n - 1) * abs(sn) > INT32_MAX
        splits = 1
        if m < 64 and n >= (1 << 16) and not self.rt.interpret:
            splits = min(256, n // 8192)
        bm, bn, warps = self._reduce_blocks(m, n, sm, sn)
        chunk = -(-n // splits)
        dst = out if splits == 1 else self.new_view((m, splits), _dtype(acc))
        reduce_kernel[(cdiv(m, bm), splits)](
            self.rt.ptr(src), self.rt.ptr(dst), src.offset, m, n, sm, sn, chunk, splits,
            OP=op, IDENT=ident, ACC=_tl(acc), BLOCK_M=bm, BLOCK_N=bn, INDEX64=big,
            num_warps=warps)
        if splits > 1:
            final = self.reduce(op, dst, (1,), dtype)
            return final
        return out.storage

    def _reduce_blocks(self, m: int, n: int, sm: int, sn: int) -> tuple:
        tile = 1 << 14 if self.rt.interpret else 2048
        p2 = next_pow2
        if sn == 1 or m == 1 or abs(sn) < abs(sm):
            bn = min(p2(n), tile)
            bm = max(1, min(p2(m), tile // bn))
        else:
            bm = min(p2(m), 128)
            bn = max(1, min(p2(n), tile // bm))
        return bm, bn, 4 if bm * bn <= 1024 else 8

    def arg_reduce(self, op, x, axis):
        from genesis_backend_triton.kernels.reduction import arg_reduce_kernel
        if len(x.shape) == 0:
            src, m, n, sm, sn = x, 1, 1, 0, 0
        else:
            src, m, n, sm, sn = self._rows(x, (axis,))
        out = self.new_view((m,), _dtype("int64"))
        if m == 0:
            return out.storage
        acc = "float32" if x.dtype.name in _HALF else "int32" if x.dtype.name == "bool" \
            else x.dtype.name
        ident = _identity("max" if op == "argmax" else "min", acc)
        bm, bn, warps = self._reduce_blocks(m, n, sm, sn)
        big = x.offset + (m - 1) * abs(sm) + (n - 1) * abs(sn) > INT32_MAX
        arg_reduce_kernel[(cdiv(m, bm),)](
            self.rt.ptr(src), self.rt.ptr(out), src.offset, m, n, sm, sn, OP=op, IDENT=ident,
            ACC=_tl(acc), BLOCK_M=bm, BLOCK_N=bn, INDEX64=big, num_warps=warps)
        return out.storage

    # -- scans and sorting ---------------------------------------------------------------
    def _from_rows(self, storage, shape: tuple, axis: int, dtype):
        """A contiguous storage of ``shape`` from ``storage`` holding the ``(M, N)`` rows of
        :meth:`_rows` (``axis`` last): the same storage when ``axis`` is already last."""
        if numel(shape[axis + 1:]) == 1:
            return storage
        out = self.new_view(shape, dtype)
        order = [i for i in range(len(shape)) if i != axis] + [axis]
        moved = tuple(shape[i] for i in order)
        self.copy_(View(out.storage, moved, tuple(out.strides[i] for i in order), 0, dtype),
                   View(storage, moved, contiguous_strides(moved), 0, dtype))
        return out.storage

    def scan(self, op, x, axis, dtype):
        from genesis_backend_triton.kernels.scan import scan_kernel
        src, m, n, sm, sn = self._rows(x, (axis,))
        rows = self.new_view((m, n), dtype)
        if m * n:
            name = x.dtype.name if op in ("cummax", "cummin") else dtype.name
            acc = "float32" if name in _HALF else "int32" if name == "bool" else name
            ident = {"cumsum": 0, "cumprod": 1, "logcumsumexp": -math.inf}.get(op)
            if ident is None:
                ident = _identity("max" if op == "cummax" else "min", acc)
            bm, bn = self._scan_blocks(m, n)
            big = x.offset + (m - 1) * abs(sm) + (n - 1) * abs(sn) > INT32_MAX or \
                m * n > INT32_MAX
            scan_kernel[(cdiv(m, bm),)](
                self.rt.ptr(src), self.rt.ptr(rows), src.offset, m, n, sm, sn, OP=op,
                IDENT=ident, ACC=_tl(acc), BLOCK_M=bm, BLOCK_N=bn, INDEX64=big,
                num_warps=4 if bm * bn <= 1024 else 8)
        return self._from_rows(rows.storage, x.shape, axis, dtype)

    def _scan_blocks(self, m: int, n: int) -> tuple:
        """``(BLOCK_M, BLOCK_N)``: whole rows up to a chunk width, as many rows as fit a tile."""
        tile = 1 << 14 if self.rt.interpret else 2048
        bn = min(next_pow2(n), tile if self.rt.interpret else 1024)
        return max(1, min(next_pow2(m), tile // bn)), bn

    def _sort_block(self, n: int) -> int:
        """Elements ranked per program, and compared per step (``BLOCK_I = BLOCK_J``)."""
        return min(next_pow2(n), 128 if self.rt.interpret else 64)

    def sort(self, x, axis, descending):
        from genesis_backend_triton.kernels.sorting import sort_kernel
        src, m, n, sm, sn = self._rows(x, (axis,))
        values = self.new_view((m, n), x.dtype)
        indices = self.new_view((m, n), _dtype("int64"))
        if m * n:
            block = self._sort_block(n)
            big = x.offset + (m - 1) * abs(sm) + (n - 1) * abs(sn) > INT32_MAX or \
                m * n > INT32_MAX
            sort_kernel[(m, cdiv(n, block))](
                self.rt.ptr(src), self.rt.ptr(values), self.rt.ptr(indices), src.offset, n, sm,
                sn, DESCENDING=bool(descending), BLOCK_I=block, BLOCK_J=block, INDEX64=big,
                num_warps=4)
        return (self._from_rows(values.storage, x.shape, axis, x.dtype),
                self._from_rows(indices.storage, x.shape, axis, _dtype("int64")))

    # -- matmul --------------------------------------------------------------------------
    def matmul(self, a, b, dtype):
        from genesis_backend_triton.kernels.matmul import launch_matmul
        batch = a.shape[:-2]
        m, k = a.shape[-2:]
        n = b.shape[-1]
        bs, (sab, sbb) = collapse(batch, [a.strides[:-2], b.strides[:-2]])
        if len(bs) > 1:
            a, b = self.contiguous(a), self.contiguous(b)
            bs, (sab, sbb) = collapse(batch, [a.strides[:-2], b.strides[:-2]])
        out = self.new_view(batch + (m, n), dtype)
        if numel(out.shape) == 0:
            return out.storage
        if k == 0:
            self.fill_(out, 0)
            return out.storage
        launch_matmul(self.rt, a, b, out, numel(batch), m, n, k, sab[0], sbb[0])
        return out.storage

    # -- indexing ------------------------------------------------------------------------
    def gather(self, x, dim, index):
        from genesis_backend_triton.kernels.indexing import gather_kernel
        out = self.new_view(index.shape, x.dtype)
        shape, (xs, ist), dim6 = _pad6(index.shape, [x.strides, index.strides], dim)
        n = numel(shape)
        if n:
            block, warps = self.rt.elementwise_block(n)
            big = _reach(x, shape, xs) > INT32_MAX or n > INT32_MAX
            gather_kernel[(cdiv(n, block),)](
                self.rt.ptr(x), self.rt.ptr(index), self.rt.ptr(out), x.offset, index.offset, n,
                *shape[1:], *xs, *ist, DIM=dim6, BLOCK=block, INDEX64=big, num_warps=warps)
        return out.storage

    def scatter_(self, dst, dim, index, src, accumulate) -> None:
        wide = _ATOMIC_WIDE.get(dst.dtype.name) if accumulate else None
        if wide is not None:  # no atomic add on this type: accumulate in a wide copy
            work = View(self.empty(dst.shape, _dtype(wide)), dst.shape,
                        contiguous_strides(dst.shape), 0, _dtype(wide))
            self.copy_(work, dst)
            self.scatter_(work, dim, index, src, accumulate)
            self.copy_(dst, work)
            return
        from genesis_backend_triton.kernels.indexing import scatter_kernel
        shape, (ds, ist, ss), dim6 = _pad6(index.shape, [dst.strides, index.strides,
                                                         src.strides], dim)
        n = numel(shape)
        if n == 0:
            return
        block, warps = self.rt.elementwise_block(n)
        big = _reach(dst, shape, ds) > INT32_MAX or n > INT32_MAX
        scatter_kernel[(cdiv(n, block),)](
            self.rt.ptr(dst), self.rt.ptr(index), self.rt.ptr(src), dst.offset, index.offset,
            src.offset, n, *shape[1:], *ds, *ist, *ss, DIM=dim6, ACCUMULATE=bool(accumulate),
            BLOCK=block, INDEX64=big, num_warps=warps)

    # -- random --------------------------------------------------------------------------
    def random(self, distribution, shape, dtype, index, seed, offset, a, b):
        from genesis_backend_triton.kernels.random import random_kernel
        if distribution not in ("uniform", "normal", "randint", "bernoulli"):
            raise ValueError(f"random: distribution={distribution!r}, expected one of uniform, "
                             "normal, randint, bernoulli")
        out = self.new_view(tuple(shape), dtype)
        n = numel(out.shape)
        if n:
            block, warps = self.rt.elementwise_block(n)
            if distribution == "randint":
                a, b = int(a), int(b)
            else:
                a, b = float(a), float(b)
            random_kernel[(cdiv(n, block),)](
                self.rt.ptr(out), n, int(seed) & 0xFFFF_FFFF_FFFF_FFFF, int(offset), a, b,
                DIST=distribution, BLOCK=block, num_warps=warps)
        return out.storage


def _dtype(name: str):
    import genesis
    return getattr(genesis, name)


def _identity(op: str, acc: str):
    if op == "sum":
        return 0
    if op == "prod":
        return 1
    if acc.startswith("float"):
        return -math.inf if op == "max" else math.inf
    info = np.iinfo(np.dtype(acc))
    return int(info.min) if op == "max" else int(info.max)


def _tl(name: str):
    from genesis_backend_triton.runtime import TL_DTYPES
    return TL_DTYPES[name]


def _pad6(shape: tuple, strides_list: list, dim: int) -> tuple:
    if len(shape) > 6:
        raise ValueError(f"gather/scatter: index has {len(shape)} dimensions; the Triton backend "
                         "supports at most 6")
    pad = 6 - len(shape)
    return (1,) * pad + tuple(shape), [(0,) * pad + tuple(s) for s in strides_list], dim + pad


def _reach(view, shape: tuple, strides: tuple) -> int:
    return view.offset + sum((d - 1) * abs(s) for d, s in zip(shape, strides)) + \
        max(shape) * max((abs(s) for s in strides), default=0)
