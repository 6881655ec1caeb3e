"""The numpy backend: device ``"cpu"``.

Storage is a C-contiguous numpy array; a view is rebuilt as an ndarray over
that buffer (cheap: no copy). The kernel table below is the whole story;
:mod:`genesis_backend_cpu.fused` adds fused kernels for hot composites.
"""

from __future__ import annotations

import contextlib

import ml_dtypes
import numpy as np
from genesis.backends import Capabilities
from scipy import special

from genesis_backend_cpu import fused
from genesis_backend_cpu._activations import relu as _relu
from genesis_backend_cpu._allocator import tune_malloc
from genesis_backend_cpu._erf import erf_float32
from genesis_backend_cpu._select import where_with_scalar
from genesis_backend_cpu._threads import PARALLEL_MIN, parallel_rows
from genesis_backend_cpu._views import arr, np_dtype

_NO_CONTEXT = contextlib.nullcontext()
_HALF = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))  # computed in float32


_SCALARS = (int, float, bool)
# ops that may legitimately produce inf/nan; only these pay for np.errstate
_MAY_WARN = frozenset(("div", "pow", "log", "sqrt", "rsqrt", "exp", "sigmoid", "floor", "log1p",
                      "expm1", "erfinv"))


def _operand(x):
    return x if type(x) in _SCALARS else arr(x)


def _store(result: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """A kernel's result as a C-contiguous storage of ``dtype``."""
    if type(result) is not np.ndarray:  # ufuncs return numpy scalars for 0-d inputs
        result = np.asarray(result)
    if result.dtype != dtype:
        return result.astype(dtype, order="C")
    if not result.flags.c_contiguous:
        return np.ascontiguousarray(result)
    return result


def _sigmoid(x, out=None):
    out = np.negative(x, out=np.empty_like(x) if out is None else out)  # an array, also 0-d
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _rsqrt(x, out=None):
    out = np.sqrt(x, out=np.empty_like(x) if out is None else out)  # an array, also 0-d
    return np.reciprocal(out, out=out)


def _erf(x, out=None):
    if x.dtype == np.float32:
        return erf_float32(x, np.empty(x.shape, np.float32) if out is None else out)
    return special.erf(x, out=out) if out is not None else special.erf(x)


def _floor(x, out=None):
    return np.floor(x, out=out) if x.dtype.kind == "f" else np.copyto(out, x) or out \
        if out is not None else x.copy()


UNARY = {
    "neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "rsqrt": _rsqrt, "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "sigmoid": _sigmoid,
    "relu": _relu, "erf": _erf, "sign": np.sign, "floor": _floor,
    "logical_not": np.logical_not, "log1p": np.log1p, "expm1": np.expm1, "erfinv": special.erfinv,
}
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "pow": np.power, "maximum": np.maximum, "minimum": np.minimum, "eq": np.equal,
    "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal, "logical_and": np.logical_and, "logical_or": np.logical_or,
    "logical_xor": np.logical_xor, "atan2": np.arctan2,
}
#: unary ops whose kernel picks its own threads (a compiled loop that launches in parallel
#: only where that pays: ReLU streams memory, so a split at 1M elements only adds a hand-off)
_SELF_THREADED = frozenset({"relu"})


def _kernel(op: str, fn):
    """``fn(*operands, out=)`` writing any dtype, quiet about inf/nan where they are expected
    (also on worker threads, where numpy's error state is not inherited)."""
    if op in _MAY_WARN:
        def run(*operands, out):
            with np.errstate(all="ignore"):
                return fn(*operands, out=out, casting="unsafe") if isinstance(
                    fn, np.ufunc) else fn(*operands, out=out)
    else:
        def run(*operands, out):
            return fn(*operands, out=out, casting="unsafe") if isinstance(
                fn, np.ufunc) else fn(*operands, out=out)
    return run


_KERNELS = {op: _kernel(op, fn) for op, fn in {**UNARY, **BINARY}.items()}
REDUCE = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
ARG_REDUCE = {"argmax": np.argmax, "argmin": np.argmin}
#: scan op -> the ufunc whose ``accumulate`` runs it (maximum/minimum propagate NaN, as torch's
#: cummax/cummin do; logaddexp is the running log-sum-exp, exact at every step)
SCAN = {"cumsum": np.add, "cumprod": np.multiply, "cummax": np.maximum, "cummin": np.minimum,
        "logcumsumexp": np.logaddexp}


def _uniform(rng, shape, work, a, b):
    r = rng.random(shape, dtype=work)
    return r if (a, b) == (0.0, 1.0) else r * (b - a) + a


def _normal(rng, shape, work, a, b):
    r = rng.standard_normal(shape, dtype=work)
    return r if (a, b) == (0.0, 1.0) else r * b + a


#: distribution -> draw(rng, shape, working float dtype, a, b), as the protocol defines a and b
RANDOM = {
    "uniform": _uniform,
    "normal": _normal,
    "randint": lambda rng, shape, work, a, b: rng.integers(int(a), int(b), size=shape,
                                                          dtype=np.int64),
    "bernoulli": lambda rng, shape, work, a, b: rng.random(shape, dtype=np.float32) < a,
}


def _scatter_add_slices(d: np.ndarray, dim: int, idx: np.ndarray, s: np.ndarray) -> None:
    """``d[idx[i]] += s[i]`` along ``dim`` for whole slices (an index broadcast over the other
    dims): sort the indices once and sum runs with ``reduceat`` -- several times faster than
    ``np.add.at`` element by element."""
    if idx.size == 0:
        return
    rows = idx[tuple(slice(None) if k == dim else 0 for k in range(idx.ndim))]
    src = np.moveaxis(s, dim, 0)
    dst = np.moveaxis(d, dim, 0)
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    sums = np.add.reduceat(src[order], starts, axis=0)
    dst[sorted_rows[starts]] += sums.astype(dst.dtype, copy=False)


class CPUBackend:
    """numpy kernels for every genesis primitive."""

    name = "cpu"

    def __init__(self) -> None:
        self.capabilities = Capabilities(fused=fused.KERNELS)
        tune_malloc()

    def availability(self) -> tuple[bool, str]:
        return True, ""

    def device_count(self) -> int:
        return 1

    # -- memory ------------------------------------------------------------------------
    def empty(self, shape, dtype, index=0):
        return np.empty(shape, np_dtype(dtype))

    def from_numpy(self, array, index=0):
        return np.array(array, order="C", copy=True)

    def adopt_numpy(self, array, index=0):
        """Take a host array nobody else holds (a freshly loaded checkpoint) without a copy."""
        if array.flags.c_contiguous and array.flags.writeable:
            return array
        return self.from_numpy(array, index)

    def to_numpy(self, x):
        return np.array(arr(x), copy=True)

    def copy_(self, dst, src) -> None:
        np.copyto(arr(dst), arr(src), casting="unsafe")

    def fill_(self, dst, value) -> None:
        arr(dst)[...] = value

    # -- compute -------------------------------------------------------------------------
    def unary(self, op, x, dtype, out=None):
        a = arr(x)
        kernel = _KERNELS[op]
        if out is not None:
            o = arr(out)
            if o.size < PARALLEL_MIN or not parallel_rows(kernel, (a,), o):
                kernel(a, out=o)
            return None
        npd = np_dtype(dtype)
        if a.dtype in _HALF and op not in ("neg", "abs", "relu", "sign", "logical_not"):
            with np.errstate(all="ignore"):
                return _store(UNARY[op](a.astype(np.float32)), npd)
        if a.size >= PARALLEL_MIN and op not in _SELF_THREADED:
            o = np.empty(a.shape, npd)
            if parallel_rows(kernel, (a,), o):
                return o
        with np.errstate(all="ignore") if op in _MAY_WARN else _NO_CONTEXT:
            return _store(UNARY[op](a), npd)

    def binary(self, op, a, b, dtype, out=None):
        x = a if type(a) in _SCALARS else arr(a)
        y = b if type(b) in _SCALARS else arr(b)
        if out is not None:
            o = arr(out)
            if o.size < PARALLEL_MIN or not parallel_rows(_KERNELS[op], (x, y), o):
                _KERNELS[op](x, y, out=o)
            return None
        npd = np_dtype(dtype)
        ref = x if isinstance(x, np.ndarray) else y
        if ref.size >= PARALLEL_MIN:
            o = np.empty(ref.shape, npd)
            if parallel_rows(_KERNELS[op], (x, y), o):
                return o
        if op in _MAY_WARN:
            with np.errstate(all="ignore"):
                r = BINARY[op](x, y)
        else:
            r = BINARY[op](x, y)
        if type(r) is np.ndarray and r.dtype is npd and r.flags.c_contiguous:
            return r
        return _store(r, npd)  # also turns the numpy scalar of a 0-d op into an array

    def where(self, cond, a, b, dtype):
        c, x, y, npd = arr(cond), _operand(a), _operand(b), np_dtype(dtype)
        if c.dtype == np.bool_:
            out = where_with_scalar(c, x, y, npd)
            if out is not None:
                return out
        return _store(np.where(c, x, y), npd)

    def reduce(self, op, x, axes, dtype):
        a = arr(x)
        npd = np_dtype(dtype)
        ufunc = REDUCE[op]
        if op in ("max", "min") or (a.dtype is npd and npd not in _HALF):
            r = ufunc.reduce(a, axis=axes)
        else:  # half types accumulate in float32 and round once at the end (PyTorch's rule)
            r = ufunc.reduce(a, axis=axes, dtype=np.float32 if npd in _HALF else npd)
        if type(r) is not np.ndarray:
            r = np.asarray(r)
        if r.dtype is not npd and npd in _HALF:
            with np.errstate(over="ignore"):  # a float32 sum past the half range rounds to inf
                return _store(r, npd)
        return r if r.dtype is npd and r.flags.c_contiguous else _store(r, npd)

    def arg_reduce(self, op, x, axis):
        return _store(np.asarray(ARG_REDUCE[op](arr(x), axis=axis)), np.dtype(np.int64))

    def scan(self, op, x, axis, dtype):
        a = arr(x)
        npd = np_dtype(dtype)
        work = np.dtype(np.float32) if npd in _HALF else npd
        with np.errstate(all="ignore"):
            return _store(SCAN[op].accumulate(a.astype(work, copy=False), axis=axis), npd)

    def sort(self, x, axis, descending):
        a = arr(x)
        keys = a.astype(np.float32) if a.dtype in _HALF else a  # numpy orders NaN last
        if descending:  # a stable ascending sort of the reversed axis, read backwards
            order = np.flip(np.argsort(np.flip(keys, axis), axis=axis, kind="stable"), axis)
            index = (a.shape[axis] - 1) - order
        else:
            index = np.argsort(keys, axis=axis, kind="stable")
        return (_store(np.take_along_axis(a, index, axis=axis), a.dtype),
                _store(index, np.dtype(np.int64)))

    def matmul(self, a, b, dtype):
        x, y = arr(a), arr(b)
        if x.dtype in _HALF:  # numpy has no half-precision BLAS: accumulate in float32
            return _store(np.matmul(x.astype(np.float32), y.astype(np.float32)), np_dtype(dtype))
        return _store(np.matmul(x, y), np_dtype(dtype))

    def gather(self, x, dim, index):
        a, idx = arr(x), arr(index)
        if idx.ndim > 1 and idx.size and all(st == 0 for k, st in enumerate(idx.strides)
                                             if k != dim):
            # whole slices (index_select, embedding): one np.take instead of an element gather
            rows = idx[tuple(slice(None) if k == dim else 0 for k in range(idx.ndim))]
            view = a[tuple(slice(None) if k == dim else slice(0, n)
                           for k, n in enumerate(idx.shape))]
            return _store(np.take(view, rows, axis=dim), a.dtype)
        return _store(np.take_along_axis(a, idx, axis=dim), a.dtype)

    def scatter_(self, dst, dim, index, src, accumulate) -> None:
        d, idx, s = arr(dst), arr(index), arr(src)
        if not accumulate:
            np.put_along_axis(d, idx, s, axis=dim)
            return
        if idx.ndim > 1 and all(st == 0 for k, st in enumerate(idx.strides) if k != dim):
            _scatter_add_slices(d, dim, idx, s)  # index_select/embedding backward
            return
        grid = list(np.indices(idx.shape, sparse=True))
        grid[dim] = idx
        np.add.at(d, tuple(grid), s)

    def random(self, distribution, shape, dtype, index, seed, offset, a, b):
        draw = RANDOM.get(distribution)
        if draw is None:
            raise ValueError(f"random: distribution={distribution!r}, expected one of "
                             f"{sorted(RANDOM)}")
        rng = np.random.Generator(np.random.Philox(key=seed, counter=offset // 4))
        npd = np_dtype(dtype)
        work = npd if npd in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float32)
        return _store(np.asarray(draw(rng, shape, work, a, b)), npd)
