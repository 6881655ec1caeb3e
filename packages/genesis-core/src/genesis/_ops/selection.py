"""Selection by index, built on gather/scatter: index_add, index_copy, index_fill (and their
in-place forms), scatter_reduce, take_along_dim, masked_select, argwhere.

Indices are range-checked on the host (as ``index_select`` does), so a bad index raises
with its value instead of reaching a kernel. An in-place op that autograd must record runs
out of place and is recorded by ``copy_``; otherwise it writes through the raw scatter.
"""

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._autograd.grad_mode import _State
from genesis._ops import creation, indexing
from genesis._ops import elementwise as E
from genesis._ops import reduction as R
from genesis._ops import shape as S
from genesis._ops.autocast import autocast_op
from genesis._tensor import Tensor, _wrap_dim, broadcast_shapes, contiguous_strides

__all__ = ["index_add", "index_copy", "index_fill", "scatter_reduce", "take_along_dim",
           "masked_select", "argwhere"]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _tracked(self: Tensor, *others) -> bool:
    """Whether an in-place op on ``self`` is recorded by autograd."""
    return _State.enabled and (self.requires_grad or
                               any(getattr(o, "requires_grad", False) for o in others))


def _host(t: Tensor) -> np.ndarray:
    return t._backend.to_numpy(t).astype(np.int64)


def _out_of_bounds(host: np.ndarray, n: int, d: int, error=IndexError, name: str = "") -> None:
    bad = host[(host < 0) | (host >= n)]
    if bad.size:
        raise error(f"{name}index {bad.flat[0]} is out of bounds for dimension {d} with size {n}")


def _as_1d(t: Tensor) -> Tensor:
    return S.reshape(t, (1,)) if t.ndim == 0 else t


# -- index_add / index_copy / index_fill ----------------------------------------------------------

def _index_vector(name: str, index, dtypes: tuple, dtype_error) -> Tensor:
    if not isinstance(index, Tensor) or index.dtype not in dtypes:
        raise dtype_error(f"{name}(): Expected dtype {'/'.join(d.name for d in dtypes)} for "
                          f"index but got: {getattr(index, 'dtype', type(index).__name__)}")
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector (0-d or 1-D), but got "
                         f"shape {list(index.shape)}")
    return S.reshape(index, (-1,)).to(dt.int64)


def _along(name: str, input: Tensor, dim: int, index, source, dtypes: tuple,
           scalar_source: bool, bounds_error):
    """Checked ``(x, d, expanded index, source)`` for index_add/index_copy (0-d tensors are
    viewed as 1-D; a 0-d ``source`` only where ``scalar_source`` or ``input`` is 0-d)."""
    idx = _index_vector(name, index, dtypes, RuntimeError)
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): source must be a Tensor, got {type(source).__name__}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"{name}(): self ({input.dtype}) and source ({source.dtype}) must "
                           f"have the same scalar type")
    d = _wrap_dim(dim, input.ndim)
    x = _as_1d(input)
    src = _as_1d(source) if scalar_source or input.ndim == 0 else source
    if src.ndim != x.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, src.shape))
                                 if i != d):
        raise RuntimeError(f"{name}(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = "
                           f"{list(input.shape)} source.shape = {list(source.shape)}")
    if idx.shape[0] != src.shape[d]:
        raise RuntimeError(f"{name}(): Number of indices ({idx.shape[0]}) should be equal to "
                           f"source.size(dim): ({src.shape[d]}), for dim: {d}")
    _out_of_bounds(_host(idx), x.shape[d], d, bounds_error, f"{name}(): ")
    view = (1,) * d + (idx.shape[0],) + (1,) * (x.ndim - d - 1)
    return x, d, S.expand(S.reshape(idx, view), src.shape), src


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source[i]`` added to the slice ``index[i]`` of
    ``dim`` (repeated indices accumulate)."""
    x, d, idx, src = _along("index_add", input, dim, index, source, (dt.int64, dt.int32), False,
                          RuntimeError)
    out = indexing.scatter_add(x, d, idx, src if alpha == 1 else E.mul(src, alpha))
    return S.reshape(out, ()) if input.ndim == 0 else out


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """In-place :func:`index_add`."""
    if _tracked(self, source):
        return self.copy_(index_add(self, dim, index, source, alpha=alpha))
    x, d, idx, src = _along("index_add_", self, dim, index, source, (dt.int64, dt.int32), False,
                          RuntimeError)
    indexing.scatter_raw(x, d, idx, src if alpha == 1 else E.mul(src, alpha), True)
    return self


@autocast_op("index_copy")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` whose slice ``index[i]`` of ``dim`` is ``source[i]``."""
    x, d, idx, src = _along("index_copy", input, dim, index, source, (dt.int64,), True, IndexError)
    out = indexing.scatter(x, d, idx, src)
    return S.reshape(out, ()) if input.ndim == 0 else out


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place :func:`index_copy`."""
    if _tracked(self, source):
        return self.copy_(index_copy(self, dim, index, source))
    x, d, idx, src = _along("index_copy_", self, dim, index, source, (dt.int64,), True, IndexError)
    indexing.scatter_raw(x, d, idx, src, False)
    return self


def _fill_rows(name: str, input: Tensor, dim: int, index, value) -> tuple:
    """``(d, n, positions)``: the checked dim, its size and the (wrapped) host indices."""
    if not isinstance(index, Tensor) or index.dtype is not dt.int64:
        raise IndexError(f"{name}(): Expected dtype int64 for index, got "
                         f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.ndim > 1:
        raise RuntimeError(f"{name}(): Index has to be a vector/scalar, got shape "
                           f"{list(index.shape)}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor "
                           f"with {value.ndim} dimension(s).")
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    host = _host(index).reshape(-1)
    host = np.where(host < 0, host + n, host)  # index_fill accepts negative indices
    _out_of_bounds(host, n, d, IndexError, f"{name}(): ")
    return d, n, host


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of ``input`` whose slices ``index`` of ``dim`` are filled with ``value`` (a
    number or a 0-d tensor, which then gets the gradient of every filled element)."""
    d, n, host = _fill_rows("index_fill", input, dim, index, value)
    mask = np.zeros(n, dtype=bool)
    mask[host] = True
    view = (1,) * d + (n,) + (1,) * (input.ndim - d - 1) if input.ndim else ()
    return indexing.masked_fill(input, S.reshape(creation.tensor(mask, device=input.device),
                                                 view), value)


def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """In-place :func:`index_fill`."""
    if _tracked(self, value):
        return self.copy_(index_fill(self, dim, index, value))
    d, n, host = _fill_rows("index_fill_", self, dim, index, value)
    x = _as_1d(self)
    positions = creation.tensor(host, device=self.device)
    view = (1,) * d + (host.size,) + (1,) * (x.ndim - d - 1)
    shape = x.shape[:d] + (host.size,) + x.shape[d + 1:]
    indexing.scatter_raw(x, d, S.expand(S.reshape(positions, view), shape),
                         value.item() if isinstance(value, Tensor) else value, False)
    return self


# -- scatter_reduce -------------------------------------------------------------------------------

def _scatter_reduce_args(input, dim, index, src, reduce):
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if not isinstance(index, Tensor) or index.dtype not in (dt.int64, dt.int32):
        raise RuntimeError(f"scatter_reduce(): Expected dtype int32/int64 for index, got "
                           f"{getattr(index, 'dtype', type(index).__name__)}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    if src.dtype is not input.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype, "
                           f"got {input.dtype} and {src.dtype}")
    d = _wrap_dim(dim, input.ndim)
    x, ix, s = _as_1d(input), _as_1d(index), _as_1d(src)
    for name, t in (("self", x), ("src", s)):
        if ix.ndim != t.ndim:
            raise RuntimeError(f"scatter_reduce(): Index tensor must have the same number of "
                               f"dimensions as {name} tensor ({ix.ndim} vs {t.ndim})")
    if any(i > n for i, n in zip(ix.shape, s.shape)) or \
            any(i > n for k, (i, n) in enumerate(zip(ix.shape, x.shape)) if k != d):
        raise RuntimeError(f"Expected index {list(ix.shape)} to be no larger than self "
                           f"{list(x.shape)} apart from dimension {d} and to be no larger size "
                           f"than src {list(s.shape)}")
    host = _host(ix)
    _out_of_bounds(host, x.shape[d], d, RuntimeError, "scatter_reduce(): ")
    if s.shape != ix.shape:
        s = indexing.getitem(s, tuple(slice(0, k) for k in ix.shape))
    return x, d, ix.to(dt.int64), host, s


def _sum_or_mean(x, d, index, src, reduce, include_self):
    if reduce == "mean" and x.dtype is dt.bool_:
        raise NotImplementedError("scatter_reduce(): reduce='mean' is not implemented for bool "
                                  "tensors")
    counts = None
    if reduce == "mean" or not include_self:
        zeros = creation.zeros(x.shape, dtype=dt.int64, device=x.device)
        counts = indexing.scatter_add(zeros, d, index, creation.ones(index.shape, dtype=dt.int64,
                                                                     device=x.device))
    base = x if include_self else indexing.masked_fill(x, counts > 0, 0)
    total = indexing.scatter_add(base, d, index, src)
    if reduce == "sum":
        return total
    counts = counts + 1 if include_self else indexing.masked_fill(counts, counts == 0, 1)
    if x.dtype.is_floating_point:
        return total / counts.to(x.dtype)
    return E.div(total, counts, rounding_mode="floor").to(x.dtype)  # torch floors integers


def _identity(reduce: str, dtype: dt.DType):
    """The value that leaves ``reduce`` unchanged, in ``dtype``."""
    if reduce == "prod":
        return 1
    if dtype is dt.bool_:
        return reduce == "amin"
    if dtype.is_floating_point:
        return float("-inf") if reduce == "amax" else float("inf")
    info = np.iinfo(dtype.name)
    return int(info.min) if reduce == "amax" else int(info.max)


def _grouped(x, d, host, src, reduce, include_self):
    """prod/amax/amin: the elements bound for each destination gathered into the rows of a
    table (padded with the reduction's identity), reduced along the rows with the
    differentiable reductions (ties share the gradient, zeros in products are handled), then
    scattered into a copy of ``x``. The table has one row per destination hit and as many
    columns as the busiest destination receives."""
    n = host.size
    strides = contiguous_strides(x.shape)
    grid = np.indices(host.shape, sparse=True)
    dest = host * strides[d]
    for k, g in enumerate(grid):
        if k != d:
            dest = dest + g * strides[k]
    dest = np.broadcast_to(dest, host.shape).reshape(-1)
    order = np.argsort(dest, kind="stable")
    targets, first, counts = np.unique(dest[order], return_index=True, return_counts=True)
    lead = int(include_self)
    pad = n + x.numel()  # the identity element, after src and x in ``values``
    table = np.full((targets.size, int(counts.max()) + lead), pad, dtype=np.int64)
    if include_self:
        table[:, 0] = n + targets
    table[np.repeat(np.arange(targets.size), counts),
          np.arange(n) - np.repeat(first, counts) + lead] = order
    flat_x = S.reshape(x, (-1,))
    identity = creation.full((1,), _identity(reduce, x.dtype), dtype=x.dtype, device=x.device)
    values = S.cat([S.reshape(src, (-1,)), flat_x, identity])
    rows = S.reshape(indexing.gather(values, 0, creation.tensor(table.reshape(-1),
                                                                device=x.device)), table.shape)
    reduced = {"prod": R.prod, "amax": R.amax, "amin": R.amin}[reduce](rows, 1)
    if reduced.dtype is not x.dtype:
        reduced = reduced.to(x.dtype)
    out = indexing.scatter(flat_x, 0, creation.tensor(targets, device=x.device), reduced)
    return S.reshape(out, x.shape)


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` where every ``src`` element is reduced into the position ``index``
    names along ``dim`` (``reduce``: 'sum', 'prod', 'mean', 'amax' or 'amin'; with
    ``include_self=False`` the original values of those positions are left out).

    Gradients follow PyTorch: 'sum'/'mean' spread evenly, 'prod' divides out each factor
    (zeros included), 'amax'/'amin' share among the elements equal to the result.
    """
    x, d, ix, host, s = _scatter_reduce_args(input, dim, index, src, reduce)
    if reduce in ("sum", "mean") or host.size == 0:  # nothing scattered: a copy of input
        out = _sum_or_mean(x, d, ix, s, reduce if host.size else "sum", include_self)
    else:
        out = _grouped(x, d, host, s, reduce, include_self)
    return S.reshape(out, ()) if input.ndim == 0 else out


def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    """In-place :func:`scatter_reduce`."""
    return self.copy_(scatter_reduce(self, dim, index, src, reduce, include_self=include_self))


# -- take_along_dim, masked_select, argwhere -------------------------------------------------------

def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` with ``input`` and ``indices`` broadcast against each other outside ``dim``
    (of the flattened tensors when ``dim`` is None).

    As in PyTorch, indices along a given ``dim`` wrap around (``-1`` is the last element,
    ``n`` the first); with ``dim=None`` they must lie in ``[0, numel)``.
    """
    if not isinstance(indices, Tensor) or indices.dtype is not dt.int64:
        raise RuntimeError(f"take_along_dim(): dtype of indices should be int64 but got "
                           f"{getattr(indices, 'dtype', type(indices).__name__)}")
    if dim is None:
        x, idx = S.reshape(input, (-1,)), S.reshape(indices, (-1,))
        _out_of_bounds(_host(idx), x.shape[0], 0, RuntimeError, "take_along_dim(): ")
        return indexing.gather(x, 0, idx)
    else:
        if input.ndim == 0:
            raise IndexError(f"take_along_dim(): dim={dim} given but input has no dimensions")
        if input.ndim != indices.ndim:
            raise RuntimeError(f"take_along_dim(): input and indices should have the same "
                               f"number of dimensions, but got {input.ndim} dimensions for "
                               f"input, and {indices.ndim} dimensions for indices")
        d = _wrap_dim(dim, input.ndim)
        outer = broadcast_shapes(input.shape[:d] + (1,) + input.shape[d + 1:],
                                 indices.shape[:d] + (1,) + indices.shape[d + 1:])
        x = S.expand(input, outer[:d] + (input.shape[d],) + outer[d + 1:])
        idx = S.expand(indices, outer[:d] + (indices.shape[d],) + outer[d + 1:])
    n = x.shape[d]
    if n == 0 and idx.numel():
        raise IndexError(f"take_along_dim(): cannot take indices from dimension {d} of size 0")
    if n:
        idx = idx - E.div(idx, n, rounding_mode="floor") * n  # Python's modulo
    return indexing.gather(x, d, idx)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where the bool ``mask`` is True (both broadcast), as a 1-D
    tensor in row-major order."""
    if not isinstance(mask, Tensor) or mask.dtype is not dt.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    shape = broadcast_shapes(input.shape, mask.shape)
    return indexing.getitem(S.reshape(S.expand(input, shape), (-1,)),
                            S.reshape(S.expand(mask, shape), (-1,)))


def argwhere(input: Tensor) -> Tensor:
    """The indices of the non-zero elements, one row each: ``nonzero(input)``."""
    return indexing.nonzero(input)


TENSOR_METHODS = {
    "index_add": index_add,
    "index_add_": index_add_,
    "index_copy": index_copy,
    "index_copy_": index_copy_,
    "index_fill": index_fill,
    "index_fill_": index_fill_,
    "scatter_reduce": scatter_reduce,
    "scatter_reduce_": scatter_reduce_,
    "take_along_dim": take_along_dim,
    "masked_select": masked_select,
    "argwhere": argwhere,
}
