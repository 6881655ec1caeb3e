"""Reductions over dimensions: sum, mean, prod, max/min, arg-reductions, var/std, logsumexp."""

from __future__ import annotations

import builtins
from collections import namedtuple

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._ops.elementwise import binary_raw, maximum, minimum, where
from genesis._ops.shape import Expand, Reshape
from genesis._tensor import Tensor, _cast_raw, _make, _wrap_dim, numel_of

_FLOAT = 2
#: half types: reduced in float32 and rounded once at the end, as PyTorch does
_HALF = (dt.float16, dt.bfloat16)
MaxMin = namedtuple("MaxMin", ["values", "indices"])


def normalize_dims(dim, ndim: int, name: str = "dim") -> tuple:
    """``dim`` (None, int, or a sequence) as a sorted tuple of non-negative axes."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):  # torch: () means all
        return tuple(range(ndim))
    if isinstance(dim, int):
        return (_wrap_dim(dim, ndim, name),) if ndim else ()
    axes = tuple(sorted({_wrap_dim(d, ndim, name) for d in dim})) if ndim else ()
    if ndim and len(axes) != len(tuple(dim)):
        raise RuntimeError(f"{name}={tuple(dim)} appears multiple times in the list of dims")
    return axes


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduce_raw(op: str, x: Tensor, axes: tuple, keepdim: bool, dtype: dt.DType) -> Tensor:
    """Run reduce kernel ``op`` over ``axes`` (no autograd)."""
    if op in ("max", "min") and builtins.any(x.shape[a] == 0 for a in axes):
        raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0, "
                         f"or a non-zero size along the reduced dimensions; shape {x.shape}")
    storage = x._backend.reduce(op, x, axes, dtype)
    if keepdim:
        shape = _kept_shape(x.shape, axes)
    else:
        shape = () if len(axes) == len(x.shape) else \
            tuple([n for i, n in enumerate(x.shape) if i not in axes])
    return _make(storage, shape, dtype, x.device, x._backend)


def _accumulate_dtype(x: Tensor, dtype: dt.DType | None) -> dt.DType:
    if dtype is not None:
        return dtype
    return x.dtype if x.dtype.kind == _FLOAT else dt.int64


class Sum(Function):
    def forward(self, x, axes, keepdim, dtype):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return reduce_raw("sum", x, axes, keepdim, dtype)

    def backward(self, g):
        if not self.keepdim and len(self.axes) < len(self.shape):  # a full sum expands as is
            g = Reshape.apply(g, _kept_shape(self.shape, self.axes))
        return Expand.apply(g, self.shape)


class Mean(Function):
    """The sum divided by the count; half inputs are summed and divided in float32, then
    rounded once (rounding the sum first would add a second half-precision error)."""

    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.n = numel_of(tuple(x.shape[a] for a in axes))
        s = reduce_raw("sum", x, axes, keepdim, dt.float32 if x.dtype in _HALF else x.dtype)
        s = binary_raw("div", s, self.n if self.n else float("nan"), out=s)
        return _cast_raw(s, x.dtype)

    def backward(self, g):
        if not self.keepdim:
            g = g.reshape(_kept_shape(self.shape, self.axes))
        return (g / self.n).expand(self.shape)


class Prod(Function):
    saves = (0, 'out')

    def forward(self, x, axes, keepdim, dtype):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        self.out = reduce_raw("prod", x, axes, keepdim, dtype)
        return self.out

    def backward(self, g):
        x, axes = self.x, self.axes
        kshape = _kept_shape(x.shape, axes)
        out, g = self.out.reshape(kshape), g.reshape(kshape)
        is_zero = x == 0
        zeros = is_zero.sum(axes, keepdim=True)
        prod_nonzero = where(is_zero, 1.0, x).prod(axes, keepdim=True)
        single = where(is_zero, prod_nonzero, 0.0)  # only the zero element gets a gradient
        return g * where(zeros == 0, out / where(is_zero, 1.0, x), where(zeros == 1, single, 0.0))


class Extreme(Function):
    """``amax``/``amin`` (and full ``max()``): ties share the gradient evenly, as in PyTorch."""
    saves = (0, 'out')

    def forward(self, x, op, axes, keepdim):
        self.x, self.axes, self.keepdim = x, axes, keepdim
        self.out = reduce_raw(op, x, axes, keepdim, x.dtype)
        return self.out

    def backward(self, g):
        kshape = _kept_shape(self.x.shape, self.axes)
        mask = self.x == self.out.reshape(kshape)
        count = mask.sum(self.axes, keepdim=True)
        return where(mask, g.reshape(kshape) / count, 0.0)


class ExtremeAlongDim(Function):
    """``max(dim)``/``min(dim)`` values: the gradient goes to the returned index only."""
    saves = (4,)

    def forward(self, x, op, dim, keepdim, indices):
        self.shape, self.dim, self.keepdim, self.indices = x.shape, dim, keepdim, indices
        return reduce_raw(op, x, (dim,), keepdim, x.dtype)

    def backward(self, g):
        idx = self.indices if self.keepdim else self.indices.unsqueeze(self.dim)
        g = g if self.keepdim else g.unsqueeze(self.dim)
        return zeros(self.shape, dtype=g.dtype, device=g.device).scatter_add(self.dim, idx, g)


# -- public functions ---------------------------------------------------------------------

@autocast_op("sum")
def sum(input, dim=None, keepdim: bool = False, *, dtype: dt.DType | None = None):  # noqa: A001
    """Sum over ``dim`` (all dims when None); integer inputs sum to int64."""
    return Sum.apply(input, normalize_dims(dim, input.ndim), keepdim,
                     _accumulate_dtype(input, dtype))


def mean(input, dim=None, keepdim: bool = False, *, dtype: dt.DType | None = None):
    """Arithmetic mean over ``dim``; needs a floating dtype (or ``dtype=``)."""
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind != _FLOAT:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype}")
    return Mean.apply(input, normalize_dims(dim, input.ndim), keepdim)


@autocast_op("prod")
def prod(input, dim=None, keepdim: bool = False, *, dtype: dt.DType | None = None):
    """Product over ``dim`` (a single int, or all dims when None)."""
    axes = normalize_dims(dim, input.ndim)
    return Prod.apply(input, axes, keepdim, _accumulate_dtype(input, dtype))


def amax(input, dim=(), keepdim: bool = False):
    """Maximum over ``dim`` (all dims for ``()``); ties share the gradient."""
    return Extreme.apply(input, "max", normalize_dims(dim if dim != () else None, input.ndim),
                         keepdim)


def amin(input, dim=(), keepdim: bool = False):
    """Minimum over ``dim`` (all dims for ``()``); ties share the gradient."""
    return Extreme.apply(input, "min", normalize_dims(dim if dim != () else None, input.ndim),
                         keepdim)


def _extreme(op: str, input, dim, keepdim, other):
    if other is not None:
        return (maximum if op == "max" else minimum)(input, other)
    if dim is None:
        if keepdim:
            raise TypeError(f"{op}(): keepdim requires dim")
        return Extreme.apply(input, op, normalize_dims(None, input.ndim), False)
    d = _wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return MaxMin(input.clone(), input.new_zeros((), dtype=dt.int64))
    indices = argmax(input, d, keepdim) if op == "max" else argmin(input, d, keepdim)
    return MaxMin(ExtremeAlongDim.apply(input, op, d, keepdim, indices), indices)


def max(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """``max(x)``: the maximum; ``max(x, dim)``: ``(values, indices)``; ``max(x, y)``: maximum."""
    if isinstance(dim, Tensor):
        dim, other = None, dim
    return _extreme("max", input, dim, keepdim, other)


def min(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """``min(x)``: the minimum; ``min(x, dim)``: ``(values, indices)``; ``min(x, y)``: minimum."""
    if isinstance(dim, Tensor):
        dim, other = None, dim
    return _extreme("min", input, dim, keepdim, other)


def _arg(op: str, input, dim, keepdim: bool):
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for "
                               "input.numel() == 0.")
        out = _make(input._backend.arg_reduce(op, flat, 0), (), dt.int64, input.device,
                    input._backend)
        return out.reshape((1,) * input.ndim) if keepdim else out
    d = _wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return input.new_zeros((), dtype=dt.int64)
    if input.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    shape = tuple(n for i, n in enumerate(input.shape) if i != d)
    out = _make(input._backend.arg_reduce(op, input, d), shape, dt.int64, input.device,
                input._backend)
    return out.unsqueeze(d) if keepdim else out


def argmax(input, dim: int | None = None, keepdim: bool = False):
    """Index of the (first) maximum, over the flattened tensor when ``dim`` is None."""
    return _arg("argmax", input, dim, keepdim)


def argmin(input, dim: int | None = None, keepdim: bool = False):
    """Index of the (first) minimum, over the flattened tensor when ``dim`` is None."""
    return _arg("argmin", input, dim, keepdim)


def variance_and_mean(fn: str, input, dim, unbiased: bool | None, keepdim: bool,
                      correction: int | float | None) -> tuple:
    """``(variance, mean)`` over ``dim``, the mean with the reduced dims kept (size 1).

    PyTorch's overloads: ``var(x, True)`` passes ``unbiased`` where ``dim`` stands;
    ``correction`` (default 1) replaces ``unbiased``. Half inputs (float16, bfloat16) are
    computed in float32 and rounded once at the end.
    """
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if input.dtype in _HALF:
        variance, mu = variance_and_mean(fn, input.to(dt.float32), dim, unbiased, keepdim,
                                         correction)
        return variance.to(input.dtype), mu.to(input.dtype)
    if unbiased is not None and correction is not None:
        raise ValueError(f"{fn}: pass either unbiased or correction, not both")
    if input.dtype.kind != _FLOAT:
        raise RuntimeError(f"{fn} only support floating point and complex dtypes; got "
                           f"input of dtype {input.dtype}")
    corr = correction if correction is not None else (0 if unbiased is False else 1)
    axes = normalize_dims(dim, input.ndim)
    n = numel_of(tuple(input.shape[a] for a in axes))
    mu = input.mean(axes, keepdim=True)
    centered = input - mu
    denom = n - corr
    variance = (centered * centered).sum(axes, keepdim=keepdim) / (
        denom if denom > 0 else float("nan") if n else 0.0)
    return variance, mu


def var(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | float | None = None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1, like PyTorch)."""
    return variance_and_mean("std and var", input, dim, unbiased, keepdim, correction)[0]


def std(input, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | float | None = None):
    """Standard deviation: ``sqrt(var(...))``; half inputs are computed in float32 and
    rounded once at the end."""
    if input.dtype in _HALF:
        return std(input.to(dt.float32), dim, unbiased, keepdim,
                   correction=correction).to(input.dtype)
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


@autocast_op("logsumexp")
def logsumexp(input, dim, keepdim: bool = False):
    """``log(sum(exp(x), dim))`` computed stably (shifted by the detached max)."""
    axes = normalize_dims(dim, input.ndim)
    m = reduce_raw("max", input.detach(), axes, True, input.dtype) if input.numel() else \
        input.new_zeros(_kept_shape(input.shape, axes))
    m = where(m.abs() == float("inf"), 0.0, m)
    out = (input - m).exp().sum(axes, keepdim=True).log() + m
    return out if keepdim else out.squeeze(axes) if axes else out


def _truth(op: str, input, dim, keepdim: bool, empty: bool):
    """``all``/``any`` as a min/max over booleans; a bool result (uint8 in, uint8 out)."""
    b = input if input.dtype is dt.bool_ else input != 0
    if b.numel() == 0 and dim is None:
        out = (b.new_ones if empty else b.new_zeros)((), dtype=dt.bool_)
    else:
        out = reduce_raw(op, b, normalize_dims(dim, b.ndim), keepdim, dt.bool_)
    return out if input.dtype is not dt.uint8 else out.to(dt.uint8)  # torch keeps uint8


def all(input, dim=None, keepdim: bool = False):  # noqa: A001
    """True where every element (over ``dim``) is non-zero."""
    return _truth("min", input, dim, keepdim, True)


def any(input, dim=None, keepdim: bool = False):  # noqa: A001
    """True where some element (over ``dim``) is non-zero."""
    return _truth("max", input, dim, keepdim, False)
