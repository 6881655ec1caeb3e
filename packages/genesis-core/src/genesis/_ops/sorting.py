"""Sorting and selection along a dimension: sort, argsort, msort, topk, kthvalue, median,
nanmedian, mode.

Everything rests on the backend's stable ``sort`` primitive (NaN sorts as the largest value).
Selected values carry the gradient back to their indices, as in PyTorch. Where PyTorch leaves
the index of tied values unspecified (topk, kthvalue, median along a dim), the stable order
decides: among equal values, the one earlier in the input comes first.
"""

from __future__ import annotations

from collections import namedtuple

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.creation import full
from genesis._ops.elementwise import binary_raw, where
from genesis._ops.indexing import gather_raw
from genesis._ops.reduction import argmax
from genesis._ops.scan import Selected, positions, scan_raw
from genesis._ops.shape import cat
from genesis._tensor import (
    Tensor,
    _contiguous_copy,
    _contiguous_raw,
    _empty_raw,
    _make,
    _view,
    _wrap_dim,
)

__all__ = ["argsort", "kthvalue", "median", "mode", "msort", "nanmedian", "sort", "topk"]

_FLOAT = 2
Sorted = namedtuple("Sorted", ["values", "indices"])
TopK = namedtuple("TopK", ["values", "indices"])
Selection = namedtuple("Selection", ["values", "indices"])


def sort_raw(x: Tensor, dim: int, descending: bool) -> tuple:
    """``(values, indices)`` of the backend's stable sort along ``dim`` (no autograd)."""
    if x.numel() == 0:
        return _empty_raw(x.shape, x.dtype, x.device), _empty_raw(x.shape, dt.int64, x.device)
    src = _view(x, (1,), (1,), x.offset) if x.ndim == 0 else x
    values, indices = x._backend.sort(src, dim, bool(descending))
    return (_make(values, x.shape, x.dtype, x.device, x._backend),
            _make(indices, x.shape, dt.int64, x.device, x._backend))


def _narrow_raw(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    shape = x.shape[:dim] + (length,) + x.shape[dim + 1:]
    return _view(x, shape, x.strides, x.offset + start * x.strides[dim])


def _take_raw(x: Tensor, dim: int, k: Tensor) -> Tensor:
    """``x`` at position ``k`` (int64, keepdim-shaped) along ``dim``, raw."""
    return gather_raw(x, dim, k) if x.ndim else _contiguous_copy(x)


def _tensor_arg(input, name: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")


def _reduced_dim(input, dim, name: str) -> int:
    """``dim`` wrapped; a reduction over an empty dimension is an IndexError (PyTorch's)."""
    _tensor_arg(input, name)
    d = _wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return d


def _no_bool(input, name: str) -> None:
    if input.dtype is dt.bool_:
        raise NotImplementedError(f"{name}(): not implemented for input of dtype {input.dtype}; "
                                  "expected a numeric tensor")


def _select(input, d: int, sorted_values: Tensor, sorted_indices: Tensor, k: Tensor,
            keepdim: bool) -> Selection:
    """The sorted values and their indices at (keepdim-shaped) positions ``k`` along ``d``."""
    if input.numel() == 0:  # no rows: empty results of the reduced shape
        shape = input.shape[:d] + (1,) + input.shape[d + 1:]
        values, indices = _empty_raw(shape, input.dtype, input.device), \
            _empty_raw(shape, dt.int64, input.device)
    else:
        values, indices = _take_raw(sorted_values, d, k), _take_raw(sorted_indices, d, k)
    out = Selected.apply(input, values, d, indices)
    if not keepdim and input.ndim:
        return Selection(out.squeeze(d), indices.squeeze(d))
    return Selection(out, indices)


def _row_constant(input, d: int, value: int) -> Tensor:
    """``value`` once per row along ``d``: an int64 tensor of the keepdim-reduced shape."""
    shape = input.shape[:d] + (1,) + input.shape[d + 1:] if input.ndim else ()
    return full(shape, value, dtype=dt.int64, device=input.device)


# -- sort ---------------------------------------------------------------------------------------

def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Sorted:
    """``(values, indices)`` of ``input`` sorted along ``dim``.

    Always stable: equal values keep their order (``stable`` is accepted for PyTorch's
    signature). NaN sorts as the largest value.
    """
    _tensor_arg(input, "sort")
    d = _wrap_dim(dim, input.ndim)
    values, indices = sort_raw(input.detach(), d, descending)
    return Sorted(Selected.apply(input, values, d, indices), indices)


def argsort(input, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (stable; NaN largest)."""
    _tensor_arg(input, "argsort")
    return sort_raw(input.detach(), _wrap_dim(dim, input.ndim), descending)[1]


def msort(input) -> Tensor:
    """``input`` sorted along its first dimension (the values of ``sort(input, 0)``)."""
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopK:  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    The values come sorted (also for ``sorted=False``, where PyTorch leaves the order open);
    among tied values the earlier index comes first. NaN counts as the largest value.
    """
    _tensor_arg(input, "topk")
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not isinstance(k, int) or not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k={k!r} out of range for dimension {d} of "
                           f"size {n}")
    if input.dtype is dt.bool_:
        raise RuntimeError("topk(): does not support bool dtypes; got input of dtype bool")
    x = input.detach()
    values, indices = sort_raw(x, d, largest)
    if input.ndim:
        values = _contiguous_raw(_narrow_raw(values, d, 0, k))
        indices = _contiguous_raw(_narrow_raw(indices, d, 0, k))
    return TopK(Selected.apply(input, values, d, indices), indices)


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False) -> Selection:
    """The ``k``-th smallest value along ``dim`` (1-based) and its index."""
    d = _reduced_dim(input, dim, "kthvalue")
    _no_bool(input, "kthvalue")
    n = input.shape[d] if input.ndim else 1
    if not isinstance(k, int) or not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k!r} out of range for dimension {d} "
                           f"of size {n}")
    values, indices = sort_raw(input.detach(), d, False)
    return _select(input, d, values, indices, _row_constant(input, d, k - 1), keepdim)


def _median_position(x: Tensor, d: int, ignore_nan: bool) -> Tensor:
    """Per row, the position in the ascending sort of the lower median (keepdim-shaped):
    NaN sorts last, so ``median`` points at the first NaN of a row that has one and
    ``nanmedian`` at the lower median of the numbers (the first NaN when there are none)."""
    n = x.shape[d] if x.ndim else 1
    if x.dtype.kind != _FLOAT:
        return _row_constant(x, d, (n - 1) // 2)
    nans = binary_raw("ne", x, x).sum(d, keepdim=True) if x.ndim else \
        binary_raw("ne", x, x).to(dt.int64)
    numbers = binary_raw("sub", n, nans)
    half = binary_raw("maximum", (numbers - 1).div(2, rounding_mode="floor"), 0)
    return half if ignore_nan else where(nans > 0, numbers, half)


class EvenlyDistributed(Function):
    """A value of ``x`` picked by a full reduction (``median()``): its gradient is shared
    evenly by the elements equal to it (the NaNs, for a NaN), as in PyTorch."""
    saves = (0,)

    def forward(self, x, value):
        self.x, self.value = x, value
        return value

    def backward(self, g):
        x = self.x
        hit = x != x if bool(self.value != self.value) else x == self.value
        return where(hit, g / hit.sum(), 0), None


def _median(name: str, input, dim, keepdim: bool, ignore_nan: bool):
    _tensor_arg(input, name)
    _no_bool(input, name)
    if dim is None:
        x = input.detach().reshape(-1)
        if x.numel() == 0:
            if input.dtype.kind != _FLOAT:  # PyTorch answers an arbitrary number here
                raise RuntimeError(f"{name}(): an empty tensor of dtype {input.dtype} has no "
                                   "median (a floating point one gives nan)")
            return full((), float("nan"), dtype=input.dtype, device=input.device)
        values, _ = sort_raw(x, 0, False)
        value = gather_raw(values, 0, _median_position(x, 0, ignore_nan)).reshape(())
        return EvenlyDistributed.apply(input, value)
    d = _reduced_dim(input, dim, name)
    x = input.detach()
    values, indices = sort_raw(x, d, False)
    k = _median_position(x, d, ignore_nan) if x.numel() else None
    return _select(input, d, values, indices, k, keepdim)


def median(input, dim: int | None = None, keepdim: bool = False):
    """The lower median: of all elements (a tensor; NaN if any is NaN), or along ``dim``
    (``(values, indices)``; a row with a NaN gives its first NaN)."""
    return _median("median", input, dim, keepdim, False)


def nanmedian(input, dim: int | None = None, keepdim: bool = False):
    """:func:`median` ignoring NaN (NaN only where a row has nothing else)."""
    return _median("nanmedian", input, dim, keepdim, True)


def mode(input, dim: int = -1, keepdim: bool = False) -> Selection:
    """The most frequent value along ``dim`` (the smallest on a tie of counts) and the index
    of its last occurrence, as PyTorch returns them."""
    d = _reduced_dim(input, dim, "mode")
    x = input.detach()
    if x.ndim == 0 or x.numel() == 0:
        zero = _row_constant(x, d, 0)
        return _select(input, d, x, zero, zero, keepdim)
    values, indices = sort_raw(x, d, False)
    n = x.shape[d]
    starts = binary_raw("ne", _narrow_raw(values, d, 1, n - 1), _narrow_raw(values, d, 0, n - 1))
    first = full(x.shape[:d] + (1,) + x.shape[d + 1:], True, dtype=dt.bool_, device=x.device)
    starts = cat([first, starts], d)
    pos = positions(x, d)
    run_start = scan_raw("cummax", where(starts, pos, 0), d, dt.int64)
    run_length = binary_raw("sub", pos, run_start)  # one less than the count so far
    best = argmax(run_length, d, keepdim=True)  # first maximum: the smallest value, its last copy
    return _select(input, d, values, indices, best, keepdim)


TENSOR_METHODS = {"sort": sort, "argsort": argsort, "msort": msort, "topk": topk,
                  "kthvalue": kthvalue, "median": median, "nanmedian": nanmedian, "mode": mode}
