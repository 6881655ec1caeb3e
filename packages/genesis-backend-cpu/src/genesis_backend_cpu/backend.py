"""The numpy backend: device ``"cpu"``.

Storage is a C-contiguous numpy array; a view is rebuilt as an ndarray over
that buffer (cheap: no copy). The kernel table below is the whole story;
:mod:`genesis_backend_cpu.fused` adds fused kernels for hot composites.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
from genesis.backends import Capabilities
from scipy import special

from genesis_backend_cpu import fused

_NP_DTYPES: dict = {}
_CONTIGUOUS: dict = {}
_HALF = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))  # computed in float32


def np_dtype(dtype) -> np.dtype:
    d = _NP_DTYPES.get(dtype)
    if d is None:
        d = np.dtype(ml_dtypes.bfloat16) if dtype.name == "bfloat16" else np.dtype(dtype.name)
        _NP_DTYPES[dtype] = d
    return d


def _contiguous(shape: tuple) -> tuple:
    s = _CONTIGUOUS.get(shape)
    if s is None:
        acc, out = 1, []
        for n in reversed(shape):
            out.append(acc)
            acc *= max(n, 1)
        s = _CONTIGUOUS[shape] = tuple(reversed(out))
    return s


def arr(v) -> np.ndarray:
    """The ndarray for a view (the storage itself when the view covers all of it)."""
    s = v.storage
    if v.offset == 0 and s.shape == v.shape and v.strides == _contiguous(v.shape):
        return s
    item = s.itemsize
    return np.ndarray(v.shape, s.dtype, s, v.offset * item, tuple(x * item for x in v.strides))


def _operand(x):
    return arr(x) if hasattr(x, "storage") else x


def _store(result: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A kernel's result as a C-contiguous storage of ``dtype``."""
    if result.dtype != dtype:
        return result.astype(dtype, order="C")
    if not result.flags.c_contiguous:
        return np.ascontiguousarray(result)
    return result


def _sigmoid(x, out=None):
    out = np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _rsqrt(x, out=None):
    out = np.sqrt(x, out=out)
    return np.reciprocal(out, out=out)


def _relu(x, out=None):
    return np.maximum(x, 0, out=out)


def _floor(x, out=None):
    return np.floor(x, out=out) if x.dtype.kind == "f" else np.copyto(out, x) or out \
        if out is not None else x.copy()


UNARY = {
    "neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "rsqrt": _rsqrt, "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "sigmoid": _sigmoid,
    "relu": _relu, "erf": special.erf, "sign": np.sign, "floor": _floor,
    "logical_not": np.logical_not,
}
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "pow": np.power, "maximum": np.maximum, "minimum": np.minimum, "eq": np.equal,
    "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "logical_and": np.logical_and, "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
}
REDUCE = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min}
ARG_REDUCE = {"argmax": np.argmax, "argmin": np.argmin}


class CPUBackend:
    """numpy kernels for every genesis primitive."""

    name = "cpu"

    def __init__(self) -> None:
        self.capabilities = Capabilities(fused=fused.KERNELS)

    def availability(self) -> tuple[bool, str]:
        return True, ""

    def device_count(self) -> int:
        return 1

    # -- memory ------------------------------------------------------------------------
    def empty(self, shape, dtype, index=0):
        return np.empty(shape, np_dtype(dtype))

    def from_numpy(self, array, index=0):
        return np.array(array, order="C", copy=True)

    def to_numpy(self, x):
        return np.array(arr(x), copy=True)

    def copy_(self, dst, src) -> None:
        np.copyto(arr(dst), arr(src), casting="unsafe")

    def fill_(self, dst, value) -> None:
        arr(dst)[...] = value

    # -- compute -------------------------------------------------------------------------
    def unary(self, op, x, dtype, out=None):
        a = arr(x)
        with np.errstate(all="ignore"):
            if out is not None:
                UNARY[op](a, out=arr(out))
                return None
            if a.dtype in _HALF and op not in ("neg", "abs", "relu", "sign", "logical_not"):
                return _store(UNARY[op](a.astype(np.float32)), np_dtype(dtype))
            return _store(UNARY[op](a), np_dtype(dtype))

    def binary(self, op, a, b, dtype, out=None):
        x, y = _operand(a), _operand(b)
        with np.errstate(all="ignore"):
            if out is not None:
                BINARY[op](x, y, out=arr(out), casting="unsafe")
                return None
            return _store(BINARY[op](x, y), np_dtype(dtype))

    def where(self, cond, a, b, dtype):
        return _store(np.where(arr(cond), _operand(a), _operand(b)), np_dtype(dtype))

    def reduce(self, op, x, axes, dtype):
        a = arr(x)
        npd = np_dtype(dtype)
        if op in ("sum", "prod") and (npd in _HALF or a.dtype in _HALF):
            r = REDUCE[op](a, axis=axes, dtype=np.float32)
        elif op in ("sum", "prod"):
            r = REDUCE[op](a, axis=axes, dtype=npd)
        else:
            r = REDUCE[op](a, axis=axes)
        return _store(np.asarray(r), npd)

    def arg_reduce(self, op, x, axis):
        return _store(np.asarray(ARG_REDUCE[op](arr(x), axis=axis)), np.dtype(np.int64))

    def matmul(self, a, b, dtype):
        x, y = arr(a), arr(b)
        if x.dtype in _HALF:  # numpy has no half-precision BLAS: accumulate in float32
            return _store(np.matmul(x.astype(np.float32), y.astype(np.float32)), np_dtype(dtype))
        return _store(np.matmul(x, y), np_dtype(dtype))

    def gather(self, x, dim, index):
        return _store(np.take_along_axis(arr(x), arr(index), axis=dim), arr(x).dtype)

    def scatter_(self, dst, dim, index, src, accumulate) -> None:
        d, idx, s = arr(dst), arr(index), arr(src)
        if not accumulate:
            np.put_along_axis(d, idx, s, axis=dim)
            return
        grid = list(np.indices(idx.shape, sparse=True))
        grid[dim] = idx
        np.add.at(d, tuple(grid), s)

    def random(self, distribution, shape, dtype, index, seed, offset, a, b):
        rng = np.random.Generator(np.random.Philox(key=seed, counter=offset // 4))
        npd = np_dtype(dtype)
        work = npd if npd in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float32)
        if distribution == "uniform":
            r = rng.random(shape, dtype=work)
            if (a, b) != (0.0, 1.0):
                r = r * (b - a) + a
        elif distribution == "normal":
            r = rng.standard_normal(shape, dtype=work)
            if (a, b) != (0.0, 1.0):
                r = r * b + a
        elif distribution == "randint":
            r = rng.integers(int(a), int(b), size=shape, dtype=np.int64)
        elif distribution == "bernoulli":
            r = rng.random(shape, dtype=np.float32) < a
        else:
            raise ValueError(f"random: distribution={distribution!r}, expected one of uniform, "
                             "normal, randint, bernoulli")
        return _store(np.asarray(r), npd)
