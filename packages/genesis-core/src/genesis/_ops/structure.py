"""Structure ops: diagonals and triangles, flips, rolls and rotations, sliding windows,
dimension moves, broadcasting helpers and meshgrid.

Views stay views (``diagonal``, ``unfold``, ``movedim``, ``broadcast_to``, ``meshgrid``):
their stride arithmetic lives here, their gradients are written with differentiable ops.
The core's views have no negative strides, so reversing ops (``flip``, ``rot90``) copy
through ``gather``; ``roll`` is two slices joined by ``cat``.
"""

from __future__ import annotations

import warnings

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops import creation, indexing
from genesis._ops import reduction as R
from genesis._ops import shape as S
from genesis._ops.autocast import autocast_op
from genesis._tensor import Tensor, _view, _wrap_dim, broadcast_shapes

__all__ = [
    "tril", "triu", "diag", "diagonal", "diag_embed", "trace", "flip", "fliplr", "flipud",
    "roll", "rot90", "broadcast_to", "broadcast_tensors", "meshgrid", "movedim", "moveaxis",
]


def _check_int(name: str, arg: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}(): argument '{arg}' must be int, not {type(value).__name__}")


def _as_tuple(dims) -> tuple:
    """``dims`` given as an int or a sequence of ints, as a tuple."""
    if isinstance(dims, (tuple, list)):
        return tuple(dims)
    return (dims,)


def _distinct_dims(dims, ndim: int) -> list:
    axes = [_wrap_dim(d, ndim) for d in dims]
    for a in axes:
        if axes.count(a) > 1:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
    return axes


def _select_along(x: Tensor, dim: int, positions: Tensor) -> Tensor:
    """``index_select`` for an int64 index already known to be in range (no host check)."""
    view = (1,) * dim + (positions.shape[0],) + (1,) * (x.ndim - dim - 1)
    shape = x.shape[:dim] + (positions.shape[0],) + x.shape[dim + 1:]
    return indexing.gather(x, dim, S.expand(S.reshape(positions, view), shape))


# -- diagonals and triangles ---------------------------------------------------------------------

def _diagonal_layout(shape: tuple, strides: tuple, offset: int, k: int, d1: int, d2: int):
    """``(shape, strides, offset)`` of the ``k``-th diagonal of dims ``d1``, ``d2``, appended
    as the last dim (PyTorch's layout: the offset only moves for a non-empty diagonal)."""
    n1, n2 = shape[d1], shape[d2]
    length = max(0, min(n1, n2 - k) if k >= 0 else min(n1 + k, n2))
    if length:
        offset += k * strides[d2] if k >= 0 else -k * strides[d1]
    keep = [i for i in range(len(shape)) if i not in (d1, d2)]
    return (tuple(shape[i] for i in keep) + (length,),
            tuple(strides[i] for i in keep) + (strides[d1] + strides[d2],), offset)


def embed_diagonal(values: Tensor, shape: tuple, k: int, d1: int, d2: int) -> Tensor:
    """Zeros of ``shape`` with ``values`` (the batch dims, then the diagonal) on the ``k``-th
    diagonal of dims ``d1``, ``d2`` (differentiable in ``values``)."""
    n1, n2 = shape[d1], shape[d2]
    batch = tuple(n for i, n in enumerate(shape) if i not in (d1, d2))
    length = values.shape[-1]
    first = max(-k, 0) * n2 + max(k, 0)
    positions = creation.arange(first, first + length * (n2 + 1), n2 + 1, device=values.device)
    flat = creation.zeros(batch + (n1 * n2,), dtype=values.dtype, device=values.device)
    out = indexing.scatter(flat, -1, S.expand(positions, batch + (length,)), values)
    return movedim(S.reshape(out, batch + (n1, n2)), (-2, -1), (d1, d2))


class Diagonal(Function):
    """The diagonal as a strided view; its gradient lands on the diagonal of zeros."""

    def forward(self, x, k, d1, d2):
        self.shape, self.k, self.d1, self.d2 = x.shape, k, d1, d2
        return _view(x, *_diagonal_layout(x.shape, x.strides, x.offset, k, d1, d2))

    def backward(self, g):
        return embed_diagonal(g, self.shape, self.k, self.d1, self.d2)


def _diagonal_dims(ndim: int, dim1: int, dim2: int) -> tuple:
    d1, d2 = _wrap_dim(dim1, ndim, "dim1"), _wrap_dim(dim2, ndim, "dim2")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the planes spanned by ``dim1`` and ``dim2``, as a view
    whose last dim runs along the diagonal (above the main one for ``offset > 0``)."""
    _check_int("diagonal", "offset", offset)
    d1, d2 = _diagonal_dims(input.ndim, dim1, dim2)
    return Diagonal.apply(input, offset, d1, d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose planes (``dim1``, ``dim2``) hold the last dim of ``input`` on their
    ``offset``-th diagonal, zeros elsewhere."""
    _check_int("diag_embed", "offset", offset)
    d1, d2 = _diagonal_dims(input.ndim + 1, dim1, dim2)  # a 0-d input fails here, as in torch
    m = input.shape[-1] + abs(offset)
    batch = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        batch.insert(d, m)
    return embed_diagonal(input, tuple(batch), offset, d1, d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a square matrix with ``input`` on its ``diagonal``-th diagonal.
    2-D input: a copy of its ``diagonal``-th diagonal."""
    _check_int("diag", "diagonal", diagonal)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return Diagonal.apply(input, diagonal, 0, 1).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


@autocast_op("trace")
def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix (integer inputs sum to int64)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype is dt.bool_:
        raise NotImplementedError("trace: not implemented for dtype bool; expected a number "
                                  "dtype")
    return R.sum(Diagonal.apply(input, 0, 0, 1))


def _triangle(name: str, input: Tensor, k: int, lower: bool) -> Tensor:
    _check_int(name, "diagonal", k)
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got shape "
                           f"{list(input.shape)}")
    n1, n2 = input.shape[-2:]
    above = creation.arange(n2, device=input.device) - \
        S.reshape(creation.arange(n1, device=input.device), (n1, 1))  # column - row
    drop = above > k if lower else above < k
    return indexing.masked_fill(input, drop, 0)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below the ``diagonal``-th diagonal);
    the rest is zero."""
    return _triangle("tril", input, diagonal, True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above the ``diagonal``-th diagonal);
    the rest is zero."""
    return _triangle("triu", input, diagonal, False)


# -- flips, rolls, rotations ----------------------------------------------------------------------

def flip(input: Tensor, dims) -> Tensor:
    """A copy with the order of elements reversed along each of ``dims``."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' must be tuple of ints, not "
                        f"{type(dims).__name__}")
    axes = _distinct_dims(dims, input.ndim)
    out = input
    for d in axes if input.ndim else ():  # a 0-d tensor has nothing to reverse
        n = input.shape[d]
        if n > 1:
            out = _select_along(out, d, creation.arange(n - 1, -1, -1, device=input.device))
    return out if out is not input else input.clone()


def _flip_method(self: Tensor, *dims) -> Tensor:
    """``x.flip(0, 1)`` or ``x.flip((0, 1))``."""
    if not dims:
        raise TypeError("flip() missing 1 required positional argument: 'dims'")
    return flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)


def fliplr(input: Tensor) -> Tensor:
    """Reverse dim 1 (left/right); needs at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: Input must be >= 2-d, got {input.ndim}-d")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Reverse dim 0 (up/down); needs at least 1 dim."""
    if input.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d, got 0-d")
    return flip(input, (0,))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rotate elements by ``shifts`` along ``dims`` (ints or tuples of equal length); elements
    pushed past the end come back at the start. ``dims=None`` rolls the flattened tensor."""
    shifts = _as_tuple(shifts)
    for s in shifts:
        _check_int("roll", "shifts", s)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return S.reshape(roll(S.flatten(input), shifts, 0), input.shape)
    dims = _as_tuple(dims)
    if not shifts:
        raise RuntimeError("roll: `shifts` required")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if input.ndim == 0:
        raise IndexError(f"roll: dims={dims} given but the tensor has no dimensions")
    out = input
    for s, d in zip(shifts, dims):
        d = _wrap_dim(d, input.ndim)
        n = input.shape[d]
        s = s % n if n else 0
        if s:
            out = S.cat([S.narrow(out, d, n - s, s), S.narrow(out, d, 0, n - s)], d)
    return out if out is not input else input.clone()


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the
    second dim (a copy)."""
    _check_int("rot90", "k", k)
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _wrap_dim(dims[0], input.ndim), _wrap_dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return S.transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return S.transpose(flip(input, (d0,)), d0, d1)
    return input.clone()


# -- dimension moves and broadcasting -------------------------------------------------------------

def movedim(input: Tensor, source, destination) -> Tensor:
    """Move the dims in ``source`` to the positions in ``destination`` (a view); the other
    dims keep their order."""
    src, dst = _as_tuple(source), _as_tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    ndim = input.ndim
    src_axes = [_wrap_dim(d, ndim, "source") for d in src]
    dst_axes = [_wrap_dim(d, ndim, "destination") for d in dst]
    for name, given, axes in (("source", src, src_axes), ("destination", dst, dst_axes)):
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")
    order = [-1] * ndim
    for s, d in zip(src_axes, dst_axes):
        order[d] = s
    rest = iter(i for i in range(ndim) if i not in src_axes)
    order = [o if o >= 0 else next(rest) for o in order]
    return S.permute(input, tuple(order)) if ndim else input


moveaxis = movedim


def broadcast_to(input: Tensor, size) -> Tensor:
    """``input`` broadcast to ``size`` as a view (-1 keeps an existing dim's size)."""
    size = tuple(size)
    lead = len(size) - input.ndim
    for i in range(max(lead, 0)):
        if size[i] == -1:
            raise RuntimeError(f"broadcast_to: size={list(size)}: the expanded size of the "
                               f"tensor (-1) isn't allowed in a leading, non-existing "
                               f"dimension {i}")
    return S.expand(input, size)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors broadcast to their common shape (views)."""
    shape = broadcast_shapes(*(t.shape for t in tensors)) if tensors else ()
    return tuple(S.expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D (or 0-D) tensors, as broadcast views.

    ``indexing='ij'`` gives grids of shape ``(len(t0), len(t1), ...)``; ``'xy'`` swaps the
    first two dims (Cartesian, as numpy). Without ``indexing``, ``'ij'`` is used with the
    same UserWarning PyTorch gives.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release of PyTorch it will be required to pass "
                      "the indexing argument; Genesis uses indexing='ij' when it is omitted.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f'{indexing}')
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but got "
                               f"a tensor of shape {list(t.shape)}")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError(f"meshgrid expects all tensors to have the same dtype; got "
                               f"{tensors[0].dtype} and {t.dtype}")
        if t.device != tensors[0].device:
            raise RuntimeError(f"meshgrid expects all tensors to have the same device; got "
                               f"{tensors[0].device} and {t.device}")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    grids = [S.expand(S.reshape(t, tuple(-1 if j == i else 1 for j in range(len(ts)))), shape)
             for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# -- sliding windows -------------------------------------------------------------------------------

class Unfold(Function):
    """Windows of ``size`` every ``step`` along ``dim`` as a view (a new last dim); windows may
    overlap, so the gradient is accumulated with ``scatter_add``."""

    def forward(self, x, dim, size, step):
        self.shape, self.dim, self.size, self.step = x.shape, dim, size, step
        windows = (x.shape[dim] - size) // step + 1
        st = x.strides[dim]
        shape = x.shape[:dim] + (windows,) + x.shape[dim + 1:] + (size,)
        strides = x.strides[:dim] + (st * step,) + x.strides[dim + 1:] + (st,)
        return _view(x, shape, strides, x.offset)

    def backward(self, g):
        d, size = self.dim, self.size
        windows = g.shape[d]
        g = S.flatten(movedim(g, -1, d + 1), d, d + 1)  # (..., windows * size, ...)
        starts = S.reshape(creation.arange(windows, device=g.device) * self.step, (windows, 1))
        positions = S.reshape(starts + creation.arange(size, device=g.device), (-1,))
        view = (1,) * d + (windows * size,) + (1,) * (g.ndim - d - 1)
        zeros = creation.zeros(self.shape, dtype=g.dtype, device=g.device)
        return indexing.scatter_add(zeros, d, S.expand(S.reshape(positions, view), g.shape), g)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every window of ``size`` elements, ``step`` apart, along
    ``dimension``, as a view with the window as a new last dim."""
    d = _wrap_dim(dimension, input.ndim, "dimension")
    _check_int("unfold", "size", size)
    _check_int("unfold", "step", step)
    n = input.shape[d] if input.ndim else 1
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if input.ndim == 0:  # a 0-d tensor has one window of at most one element
        return S.reshape(Unfold.apply(S.reshape(input, (1,)), 0, size, step), (size,))
    return Unfold.apply(input, d, size, step)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``."""
    return S.view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    return S.reshape(input, other.shape)


TENSOR_METHODS = {
    "tril": tril,
    "triu": triu,
    "diag": diag,
    "diagonal": diagonal,
    "diag_embed": diag_embed,
    "trace": trace,
    "flip": _flip_method,
    "fliplr": fliplr,
    "flipud": flipud,
    "roll": roll,
    "rot90": rot90,
    "movedim": movedim,
    "moveaxis": movedim,
    "broadcast_to": broadcast_to,
    "unfold": unfold,
    "view_as": view_as,
    "reshape_as": reshape_as,
}
