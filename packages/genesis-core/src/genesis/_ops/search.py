"""Distinct values, binary search and counting: unique, unique_consecutive, searchsorted,
bucketize, bincount.

``unique`` sorts with the backend's stable ``sort`` (slices along ``dim``: one stable sort per
column, last column first, so the order is lexicographic) and marks where a run of equal
values starts; NaN never equals NaN, so each NaN is its own value, as in PyTorch.
``searchsorted`` counts, per value, the boundaries before it (one comparison per pair, then a
sum): exact for any input, ``O(values x boundaries)`` in memory. None of these is
differentiable except ``bincount`` in its ``weights`` (a scatter-add).
"""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._ops.creation import full, ones_like, zeros
from genesis._ops.elementwise import binary_raw
from genesis._ops.indexing import gather_raw, nonzero
from genesis._ops.scan import scan_raw
from genesis._ops.shape import cat
from genesis._ops.sorting import sort_raw
from genesis._tensor import Tensor, _contiguous_raw, _wrap_dim, numel_of

__all__ = ["bincount", "bucketize", "histc", "searchsorted", "unique", "unique_consecutive"]

_INT = 1


def _tensor_arg(value, name: str, arg: str = "input") -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument {arg!r} must be Tensor, not {type(value).__name__}")


# -- unique ---------------------------------------------------------------------------------------

def _lexicographic_order(rows: Tensor) -> Tensor:
    """The stable order of ``rows`` (1-D values, or the rows of a 2-D tensor compared
    lexicographically): one stable sort per column, the last column first."""
    if rows.ndim == 1:
        return sort_raw(rows, 0, False)[1]
    order = None
    for c in reversed(range(rows.shape[1])):
        key = _contiguous_raw(rows[:, c])
        key = key if order is None else gather_raw(key, 0, order)
        step = sort_raw(key, 0, False)[1]
        order = step if order is None else gather_raw(order, 0, step)
    return order


def _runs(name: str, input, sort: bool, return_inverse: bool, return_counts: bool, dim):
    _tensor_arg(input, name)
    x = input.detach()
    if dim is None:
        rows, order_back = x.reshape(-1), None
    else:
        if x.ndim == 0:
            raise IndexError(f"{name}(): dim={dim} given but the input has no dimensions")
        d = _wrap_dim(dim, x.ndim)
        if any(n == 0 for i, n in enumerate(x.shape) if i != d):
            raise RuntimeError(f"{name}(): there are 0 sized dimensions other than dim={d} "
                               f"(shape {x.shape}), so unique cannot be applied")
        perm = (d,) + tuple(i for i in range(x.ndim) if i != d)
        moved = x.permute(perm)
        rows = moved.reshape(x.shape[d], numel_of(moved.shape[1:]))
        order_back = tuple(perm.index(i) for i in range(x.ndim))
    n = rows.shape[0]
    order = _lexicographic_order(rows) if sort and n else None
    s = rows if order is None else gather_raw(rows, 0, order if rows.ndim == 1 else
                                             order.reshape(n, 1).expand(rows.shape))
    if n:
        changed = binary_raw("ne", s[1:], s[:-1])
        changed = changed if changed.ndim == 1 else changed.any(1)
        starts = cat([full((1,), True, dtype=dt.bool_, device=x.device), changed])
        first = nonzero(starts).reshape(-1)
    else:
        starts = first = zeros((0,), dtype=dt.int64, device=x.device)
    values = s[first]
    if dim is not None:
        values = values.reshape((first.shape[0],) + moved.shape[1:]).permute(order_back)
        values = values.contiguous()
    results = [values]
    if return_inverse:
        run = binary_raw("sub", scan_raw("cumsum", starts, 0, dt.int64), 1) if n else first
        if order is not None:
            run = zeros((n,), dtype=dt.int64, device=x.device).scatter(0, order, run)
        results.append(run.reshape(x.shape if dim is None else (n,)))
    if return_counts:
        ends = cat([first[1:], full((1,), n, dtype=dt.int64, device=x.device)]) if n else first
        results.append(binary_raw("sub", ends, first))
    return results[0] if len(results) == 1 else tuple(results)


def unique(input, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None):
    """The distinct values of ``input`` (or distinct slices along ``dim``), ascending.

    With ``return_inverse`` also each element's (slice's) index into the result; with
    ``return_counts`` how often each occurs. ``sorted=False`` still sorts, as PyTorch does
    on the CPU. NaN values are all distinct.
    """
    return _runs("unique", input, True, return_inverse, return_counts, dim)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """``input`` with each run of equal consecutive values (slices along ``dim``) kept once;
    ``return_inverse``/``return_counts`` as in :func:`unique`."""
    return _runs("unique_consecutive", input, False, return_inverse, return_counts, dim)


# -- searchsorted / bucketize ---------------------------------------------------------------------

def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """For each value of ``input``, the index in ``sorted_sequence`` (its last dimension)
    where inserting it keeps the order: before equal boundaries (``side="left"``), or after
    them (``right=True`` / ``side="right"``). ``sorter`` gives the order of an unsorted
    sequence; ``input`` may be a Python number for a 1-D sequence."""
    _tensor_arg(sorted_sequence, "searchsorted", "sorted_sequence")
    seq = sorted_sequence.detach()
    if seq.ndim == 0:
        raise RuntimeError("searchsorted(): boundaries tensor should have positive dimension, "
                           "but got 0 dimension")
    if side not in (None, "left", "right"):
        raise RuntimeError(f"searchsorted(): side={side!r}, expected 'left' or 'right'")
    if side == "left" and right:
        raise RuntimeError("searchsorted(): side and right can't be set to opposites, got side "
                           "of left while right was True")
    after = bool(right) or side == "right"
    if isinstance(input, Tensor):
        values = input.detach()
        if seq.ndim > 1 and (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
            raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the "
                               f"first N-1 dimensions of boundaries tensor and input value tensor "
                               f"must match, but we got boundaries tensor {list(seq.shape)} and "
                               f"input value tensor {list(values.shape)}")
        values = values.unsqueeze(-1)
    elif isinstance(input, (bool, int, float)):
        if seq.ndim != 1:
            raise RuntimeError(f"searchsorted(): input value can be a scalar only when "
                               f"boundaries tensor dimension is 1, but we got boundaries tensor "
                               f"dim({seq.ndim})")
        values = input
    else:
        raise TypeError(f"searchsorted(): argument 'input' must be Tensor or a number, not "
                        f"{type(input).__name__}")
    if sorter is not None:
        if not isinstance(sorter, Tensor) or sorter.dtype is not dt.int64:
            raise RuntimeError(f"searchsorted(): sorter must be a tensor of long dtype but got "
                               f"{getattr(sorter, 'dtype', type(sorter).__name__)}")
        if sorter.shape != seq.shape:
            raise RuntimeError(f"searchsorted(): boundary and sorter must have the same size, "
                               f"but got boundary tensor {list(seq.shape)} and sorter tensor "
                               f"{list(sorter.shape)}")
        seq = gather_raw(seq, seq.ndim - 1, sorter)
    if seq.ndim > 1:
        seq = seq.unsqueeze(-2)
    # boundaries before the value: those that are not >= it (left) or not > it (right), which
    # also places a NaN value after every boundary, as PyTorch's binary search does
    before = binary_raw("gt" if after else "ge", seq, values).logical_not()
    counts = before.sum(-1)
    return counts.to(dt.int32) if out_int32 else counts


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` among the 1-D ascending ``boundaries``: the
    index ``i`` with ``boundaries[i-1] < x <= boundaries[i]`` (``<=``, ``<`` when ``right``)."""
    _tensor_arg(boundaries, "bucketize", "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# -- bincount -------------------------------------------------------------------------------------

def bincount(input, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value ``0..max(input)`` occurs in the 1-D non-negative integer ``input``
    (at least ``minlength`` bins); with ``weights``, their sums per bin instead (float32
    weights sum in float32, any other dtype in float64, as in PyTorch)."""
    _tensor_arg(input, "bincount")
    if input.dtype.kind != _INT:
        raise NotImplementedError(f"bincount(): not implemented for input of dtype "
                                  f"{input.dtype}; expected an integer tensor")
    if not isinstance(minlength, int) or minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0, got {minlength!r}")
    n = input.numel()
    if input.ndim != 1 or (n and int(input.min()) < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs; got "
                           f"shape {input.shape}")
    if weights is not None and (not isinstance(weights, Tensor) or weights.ndim != 1
                                or weights.shape[0] != n):
        raise RuntimeError(f"bincount(): weights should be 1-d and have the same length as "
                           f"input ({n}), got {getattr(weights, 'shape', weights)!r}")
    length = max(int(input.max()) + 1 if n else 0, minlength)
    index = input.detach().to(dt.int64)
    if weights is None:
        return zeros((length,), dtype=dt.int64, device=input.device).scatter_add(
            0, index, ones_like(index))
    dtype = dt.float32 if weights.dtype is dt.float32 else dt.float64
    return zeros((length,), dtype=dtype, device=input.device).scatter_add(0, index,
                                                                          weights.to(dtype))


def histc(input, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Histogram of ``input`` in ``bins`` equal-width bins over ``[min, max]`` (both 0: the
    data's own range); elements outside are ignored, ``max`` falls in the last bin; the
    counts have ``input``'s floating dtype (no gradient, as in PyTorch)."""
    _tensor_arg(input, "histc")
    if input.dtype.kind != 2:
        raise NotImplementedError(f"histc: not implemented for input of dtype {input.dtype}; "
                                  "expected a floating tensor")
    if not isinstance(bins, int) or isinstance(bins, bool) or bins <= 0:
        raise RuntimeError(f"histc: bins={bins!r}, expected a positive int")
    x = input.detach().reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max={max!r} must be larger than min={min!r}")
    inside = x[(x >= lo).logical_and(x <= hi)].to(dt.float64)
    index = ((inside - lo) * (bins / (hi - lo))).floor().to(dt.int64).clamp(0, bins - 1)
    counts = zeros((bins,), dtype=dt.int64, device=input.device).scatter_add(
        0, index, ones_like(index))
    return counts.to(input.dtype)


TENSOR_METHODS = {"unique": unique, "unique_consecutive": unique_consecutive,
                  "bincount": bincount, "histc": histc}
