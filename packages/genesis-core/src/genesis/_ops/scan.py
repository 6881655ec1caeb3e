"""Scans along a dimension: cumsum, cumprod, cummax/cummin, logcumsumexp, and diff.

The backend's ``scan`` primitive runs each inclusive scan; ``cummax``/``cummin`` indices are a
second ``cummax`` over the positions where the running extreme was (re)reached, which gives
PyTorch's choice on ties: the last such position. :class:`Selected` -- values picked from the
input at known indices -- also serves the sorting ops.
"""

from __future__ import annotations

from collections import namedtuple

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import arange, zeros
from genesis._ops.elementwise import binary_raw, where
from genesis._ops.indexing import gather
from genesis._ops.shape import cat, narrow
from genesis._tensor import Tensor, _empty_raw, _make, _view, _wrap_dim

__all__ = ["cummax", "cummin", "cumprod", "cumsum", "diff", "logcumsumexp"]

_FLOAT = 2
CumExtreme = namedtuple("CumExtreme", ["values", "indices"])
#: the most negative finite value of each floating dtype (logcumsumexp's gradient uses it for
#: "log of no gradient", where -inf would turn into nan)
_LOWEST = {"float16": -65504.0, "bfloat16": -3.3895313892515355e38,
           "float32": -3.4028234663852886e38, "float64": -1.7976931348623157e308}


def scan_raw(op: str, x: Tensor, dim: int, dtype: dt.DType) -> Tensor:
    """Run scan kernel ``op`` along ``dim`` (no autograd); a 0-d input scans as one element."""
    if x.numel() == 0:
        return _empty_raw(x.shape, dtype, x.device)
    src = _view(x, (1,), (1,), x.offset) if x.ndim == 0 else x
    storage = x._backend.scan(op, src, dim, dtype)
    return _make(storage, x.shape, dtype, x.device, x._backend)


def positions(x: Tensor, dim: int) -> Tensor:
    """int64 ``i`` at every element's index ``i`` along ``dim`` (an expanded view)."""
    n = x.shape[dim]
    shape = tuple(n if i == dim else 1 for i in range(x.ndim))
    return arange(n, device=x.device).reshape(shape).expand(x.shape)


def reverse(x: Tensor, dim: int) -> Tensor:
    """``x`` reversed along ``dim`` (differentiable: a gather)."""
    if x.ndim == 0 or x.shape[dim] < 2:
        return x
    n = x.shape[dim]
    shape = tuple(n if i == dim else 1 for i in range(x.ndim))
    index = arange(n - 1, -1, -1, device=x.device).reshape(shape).expand(x.shape)
    return gather(x, dim, index)


class Selected(Function):
    """``values`` taken from ``x`` at ``indices`` along ``dim`` (both computed by the caller
    with raw kernels, shaped like ``indices``): the gradient goes back to those positions."""

    def forward(self, x, values, dim, indices):
        self.shape, self.dim, self.indices = x.shape, dim, indices
        return values

    def backward(self, g):
        if not self.shape:
            return g.reshape(()), None, None, None
        gx = zeros(self.shape, dtype=g.dtype, device=g.device).scatter_add(self.dim,
                                                                            self.indices, g)
        return gx, None, None, None


def _cumsum_dtype(x: Tensor, dtype: dt.DType | None) -> dt.DType:
    if dtype is not None:
        if not isinstance(dtype, dt.DType):
            raise TypeError(f"dtype={dtype!r}, expected a genesis dtype")
        return dtype
    return x.dtype if x.dtype.kind == _FLOAT else dt.int64


def _reverse_cumsum(g: Tensor, dim: int) -> Tensor:
    return reverse(cumsum(reverse(g, dim), dim), dim)


class Cumsum(Function):
    def forward(self, x, dim, dtype):
        self.dim = dim
        return scan_raw("cumsum", x, dim, dtype)

    def backward(self, g):
        return _reverse_cumsum(g, self.dim), None, None


class Cumprod(Function):
    """Gradient ``sum_{k >= i} g_k out_k / x_i`` before the first zero of a row; at that
    zero, the same sum with the zero read as one; after it, nothing (PyTorch's rule)."""
    saves = (0, "out")

    def forward(self, x, dim, dtype):
        self.x, self.dim = x, dim
        self.out = scan_raw("cumprod", x, dim, dtype)
        return self.out

    def backward(self, g):
        x, d = self.x, self.dim
        if x.ndim == 0:
            return g, None, None
        is_zero = x == 0
        if not bool(is_zero.any()):
            return _reverse_cumsum(g * self.out, d) / x, None, None
        seen = scan_raw("cumsum", is_zero, d, dt.int64)  # zeros up to and including here
        before = seen == 0
        first = is_zero.logical_and(seen == 1)
        grad = where(before, _reverse_cumsum(g * self.out, d) / where(before, x, 1), 0)
        out_without_first = cumprod(where(first, 1, x), d)
        return where(first, _reverse_cumsum(g * out_without_first, d), grad), None, None


class Logcumsumexp(Function):
    saves = (0, "out")

    def forward(self, x, dim):
        self.x, self.dim = x, dim
        self.out = scan_raw("logcumsumexp", x, dim, x.dtype)
        return self.out

    def backward(self, g):
        # PyTorch's formula: sum_{k >= i} g_k exp(x_i - out_k), split by the sign of g_k and
        # summed in log space (a reversed logcumsumexp), so nothing overflows
        if self.x.ndim == 0:
            return g, None
        x, out, d = self.x, self.out, self.dim
        lowest = _LOWEST[g.dtype.name]
        log_abs = g.abs().log()
        pos = reverse(logcumsumexp(reverse(where(g > 0, log_abs, lowest) - out, d), d), d)
        neg = reverse(logcumsumexp(reverse(where(g < 0, log_abs, lowest) - out, d), d), d)
        return (pos + x).exp() - (neg + x).exp(), None


def _check_dim(input, dim, name: str) -> int:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return _wrap_dim(dim, input.ndim)


# -- public functions ---------------------------------------------------------------------------

@autocast_op("cumsum")
def cumsum(input, dim: int, *, dtype: dt.DType | None = None):
    """Cumulative sum along ``dim``; integer and bool inputs sum to int64 unless ``dtype``."""
    d = _check_dim(input, dim, "cumsum")
    return Cumsum.apply(input, d, _cumsum_dtype(input, dtype))


@autocast_op("cumprod")
def cumprod(input, dim: int, *, dtype: dt.DType | None = None):
    """Cumulative product along ``dim``; integer and bool inputs multiply in int64 unless
    ``dtype``. The gradient is defined at zeros too (no nan)."""
    d = _check_dim(input, dim, "cumprod")
    return Cumprod.apply(input, d, _cumsum_dtype(input, dtype))


def _cum_extreme(op: str, input, dim: int):
    d = _check_dim(input, dim, op)
    x = input.detach()
    values = scan_raw(op, x, d, x.dtype)
    if x.ndim == 0:
        indices = zeros((), dtype=dt.int64, device=x.device)
    elif x.numel() == 0:
        indices = _empty_raw(x.shape, dt.int64, x.device)
    else:  # the last position where the running extreme was reached (a NaN counts as one)
        reached = binary_raw("eq", x, values)
        if x.dtype.kind == _FLOAT:
            reached = reached.logical_or(binary_raw("ne", x, x))
        indices = scan_raw("cummax", where(reached, positions(x, d), 0), d, dt.int64)
    return CumExtreme(Selected.apply(input, values, d, indices), indices)


def cummax(input, dim: int):
    """``(values, indices)``: the running maximum along ``dim`` and where it was last reached
    (NaN propagates)."""
    return _cum_extreme("cummax", input, dim)


def cummin(input, dim: int):
    """``(values, indices)``: the running minimum along ``dim`` and where it was last reached
    (NaN propagates)."""
    return _cum_extreme("cummin", input, dim)


def logcumsumexp(input, dim: int):
    """``log(cumsum(exp(input), dim))`` computed without overflow or underflow."""
    d = _check_dim(input, dim, "logcumsumexp")
    if input.dtype.kind != _FLOAT:
        raise NotImplementedError(f"logcumsumexp(): not implemented for input of dtype "
                                  f"{input.dtype}; expected a floating point tensor")
    return Logcumsumexp.apply(input, d)


def diff(input, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None):
    """``n``-th forward difference along ``dim`` (``!=`` for bool), after concatenating
    ``prepend`` and ``append`` along ``dim``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"diff(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(dim, input.ndim)
    parts = [input]
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument {name!r} must be Tensor, not "
                            f"{type(extra).__name__}")
        if extra.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for i, (a, b) in enumerate(zip(input.shape, extra.shape)):
            if i != d and a != b:
                raise RuntimeError(f"diff expects the shape of tensor to prepend or append to "
                                   f"match that of input except along the differencing "
                                   f"dimension; input.size({i}) = {a}, but got tensor.size({i}) "
                                   f"= {b}")
        parts.insert(0 if name == "prepend" else len(parts), extra)
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi, lo = narrow(x, d, 1, m - 1), narrow(x, d, 0, m - 1)
        x = hi.logical_xor(lo) if x.dtype is dt.bool_ else hi - lo
    return x


def _inplace_dtype(self: Tensor, dtype: dt.DType | None) -> dt.DType:
    if dtype is not None and dtype is not self.dtype:
        raise RuntimeError(f"Bad in-place call: input tensor dtype {self.dtype} and output "
                           f"tensor dtype {dtype} should match")
    return self.dtype


def _cumsum_(self, dim: int, *, dtype: dt.DType | None = None):
    """In-place :func:`cumsum` (``dtype``, if given, must be this tensor's)."""
    return self.copy_(cumsum(self, dim, dtype=_inplace_dtype(self, dtype)))


def _cumprod_(self, dim: int, *, dtype: dt.DType | None = None):
    """In-place :func:`cumprod` (``dtype``, if given, must be this tensor's)."""
    src = self.clone() if self.requires_grad else self  # the graph keeps the old values
    return self.copy_(cumprod(src, dim, dtype=_inplace_dtype(self, dtype)))


TENSOR_METHODS = {"cumsum": cumsum, "cumprod": cumprod, "cummax": cummax, "cummin": cummin,
                  "logcumsumexp": logcumsumexp, "diff": diff, "cumsum_": _cumsum_,
                  "cumprod_": _cumprod_}
