"""Indexing: ``x[key]`` and ``x[key] = v``, gather/scatter, index_select, masked_fill.

Basic indexing (ints, slices, None, Ellipsis) is a strided view. Advanced
indexing (integer/bool tensors, lists) is resolved on the host into storage
positions and served by the ``gather``/``scatter_`` primitives.
"""

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import full, zeros
from genesis._ops.elementwise import where
from genesis._ops.shape import Strided
from genesis._tensor import Tensor, _contiguous_raw, _empty_raw, _make, _view, _wrap_dim

# -- key parsing ------------------------------------------------------------------------------

def _is_advanced(k) -> bool:
    return isinstance(k, (Tensor, list, np.ndarray)) or (isinstance(k, bool))


def _parse(x: Tensor, key) -> tuple:
    """Split ``key`` into a basic view of ``x`` plus advanced indices on that view's dims.

    Returns ``(shape, strides, offset, advanced)`` where ``advanced`` maps a dim of the
    basic view to an int64 numpy index array (or is empty).
    """
    if not isinstance(key, tuple):
        key = (key,)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis and
                 not (isinstance(k, (Tensor, np.ndarray)) and _bool_key(k)))
    n_real += sum(_mask_ndim(k) for k in key if isinstance(k, (Tensor, np.ndarray))
                  and _bool_key(k))
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_real > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (x.ndim - n_real))
        else:
            expanded.append(k)
    if not any(k is Ellipsis for k in key):
        expanded.extend([slice(None)] * (x.ndim - n_real))
    shape, strides, offset = [], [], x.offset
    advanced: dict = {}
    d = 0  # dim of x being consumed
    for k in expanded:
        if k is None:  # torch's unsqueeze stride: size * stride of the dim it precedes
            shape.append(1)
            strides.append(x.shape[d] * x.strides[d] if d < x.ndim else 1)
            continue
        if isinstance(k, (Tensor, np.ndarray, list)) and _bool_key(k):
            mask = _host(k).astype(bool)
            nd = mask.ndim
            if mask.shape != x.shape[d:d + nd]:
                raise IndexError(f"The shape of the mask {list(mask.shape)} at index {d} does not "
                                 f"match the shape of the indexed tensor {list(x.shape[d:d + nd])}")
            for j, idx in enumerate(np.nonzero(mask)):
                advanced[len(shape)] = idx.astype(np.int64)
                shape.append(x.shape[d + j])
                strides.append(x.strides[d + j])
            d += nd
            continue
        n, st = x.shape[d], x.strides[d]
        if isinstance(k, (bool, np.bool_)):
            raise IndexError("indexing with a Python bool is not supported")
        if isinstance(k, (int, np.integer)):
            i = int(k)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {n}")
            offset += (i + n if i < 0 else i) * st
        elif isinstance(k, slice):
            start, stop, step = k.indices(n)
            if (k.step or 1) <= 0:
                raise ValueError(f"step must be greater than zero, got slice step={k.step}")
            length = max(0, (stop - start + step - 1) // step)
            offset += start * st if length else 0
            shape.append(length)
            strides.append(st * step)
        elif _is_advanced(k):
            idx = _host(k)
            if idx.dtype.kind not in "iu":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool "
                                 f"tensors; got dtype {idx.dtype}")
            idx = idx.astype(np.int64)
            if idx.size and (idx.max() >= n or idx.min() < -n):
                bad = idx[(idx >= n) | (idx < -n)].flat[0]
                raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
            advanced[len(shape)] = np.where(idx < 0, idx + n, idx)
            shape.append(n)
            strides.append(st)
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"bool tensors are valid indices (got {type(k).__name__})")
        d += 1
    return tuple(shape), tuple(strides), offset, advanced


def _bool_key(k) -> bool:
    if isinstance(k, Tensor):
        return k.dtype is dt.bool_
    if isinstance(k, np.ndarray):
        return k.dtype == bool
    if isinstance(k, list):
        return len(k) > 0 and all(isinstance(v, (bool, np.bool_)) for v in k)
    return False


def _mask_ndim(k) -> int:
    return k.ndim if hasattr(k, "ndim") else 1


def _host(k) -> np.ndarray:
    if isinstance(k, Tensor):
        return k._backend.to_numpy(k)
    return np.asarray(k)


def _positions(shape: tuple, strides: tuple, offset: int, advanced: dict) -> np.ndarray:
    """Storage positions (int64 array of the result's shape) of an advanced index."""
    adv_dims = sorted(advanced)
    index_arrays = np.broadcast_arrays(*(advanced[d] for d in adv_dims)) if adv_dims else []
    bshape = index_arrays[0].shape if adv_dims else ()
    rest = [d for d in range(len(shape)) if d not in advanced]
    pos = np.full(bshape, offset, dtype=np.int64)
    for d, arr in zip(adv_dims, index_arrays):
        pos = pos + arr * strides[d]
    pos = pos.reshape(bshape + (1,) * len(rest))
    for j, d in enumerate(rest):
        ax = np.arange(shape[d], dtype=np.int64) * strides[d]
        pos = pos + ax.reshape((1,) * len(bshape) + tuple(-1 if i == j else 1
                                                            for i in range(len(rest))))
    adjacent = bool(adv_dims) and adv_dims == list(range(adv_dims[0], adv_dims[0] + len(adv_dims)))
    if adjacent and adv_dims[0] > 0:  # numpy rule: broadcast dims replace the adjacent block
        nb, first = len(bshape), adv_dims[0]
        order = list(range(nb, nb + first)) + list(range(nb)) + list(range(nb + first, pos.ndim))
        pos = pos.transpose(order)
    return np.ascontiguousarray(pos)


def _span(x: Tensor) -> int:
    return 1 + sum((n - 1) * s for n, s in zip(x.shape, x.strides)) if x.numel() else 0


def _positions_tensor(pos: np.ndarray, like: Tensor) -> Tensor:
    b = like._backend
    return _make(b.from_numpy(pos, like.device.index), pos.shape, dt.int64, like.device, b)


class Take(Function):
    """Gather elements at storage positions ``pos`` of the input's layout."""

    def forward(self, x, pos):
        self.x_shape, self.x_strides, self.x_offset, self.pos = x.shape, x.strides, x.offset, pos
        flat = _view(x, (x.offset + _span(x),), (1,), 0)
        flat_pos = _view(pos, (pos.numel(),), (1,), pos.offset)
        storage = x._backend.gather(flat, 0, flat_pos)
        return _make(storage, pos.shape, x.dtype, x.device, x._backend)

    def backward(self, g):
        span = self.x_offset + (1 + sum((n - 1) * s for n, s in zip(self.x_shape, self.x_strides))
                                if 0 not in self.x_shape else 0)
        buf = zeros((max(span, 1),), dtype=g.dtype, device=g.device)
        g = _contiguous_raw(g)
        buf._backend.scatter_(buf, 0, _view(self.pos, (self.pos.numel(),), (1,), self.pos.offset),
                              _view(g, (g.numel(),), (1,), g.offset), True)
        return _view(buf, self.x_shape, self.x_strides, self.x_offset)


def _has_aliasing(x: Tensor) -> bool:
    return any(s == 0 and n > 1 for n, s in zip(x.shape, x.strides))


def getitem(x: Tensor, key):
    """``x[key]`` with PyTorch/numpy semantics."""
    if x.requires_grad and _has_aliasing(x):
        x = x.contiguous()
    shape, strides, offset, advanced = _parse(x, key)
    if not advanced:
        return Strided.apply(x, shape, strides, offset)
    pos = _positions(shape, strides, offset, advanced)
    return Take.apply(x, _positions_tensor(pos, x))


class IndexPut(Function):
    """Out-of-place ``x[key] = value`` for tensors in the autograd graph."""

    def forward(self, x, value, pos):
        self.pos = pos
        out = _contiguous_raw(x)
        out = out if out is not x else _copy_raw(x)
        _scatter_values(out, pos, value)
        return out

    def backward(self, g):
        gx = _copy_raw(_contiguous_raw(g))
        _scatter_values(gx, self.pos, 0)
        gv = Take.apply(_contiguous_raw(g), self.pos) if self.needs_input_grad[1] else None
        return gx, gv, None


def _copy_raw(x: Tensor) -> Tensor:
    out = _empty_raw(x.shape, x.dtype, x.device)
    x._backend.copy_(out, x)
    return out


def _scatter_values(dst: Tensor, pos: Tensor, value) -> None:
    """``dst.storage[pos] = value`` (value broadcast to pos's shape)."""
    flat = _view(dst, (dst.offset + _span(dst),), (1,), 0)
    if isinstance(value, Tensor):
        v = value.detach().to(dst.dtype).expand(pos.shape).contiguous()
    else:
        v = full(pos.shape, value, dtype=dst.dtype, device=dst.device)
    dst._backend.scatter_(flat, 0, _view(pos, (pos.numel(),), (1,), pos.offset),
                          _view(v, (v.numel(),), (1,), v.offset), False)


# -- gather / scatter ---------------------------------------------------------------------------

def _check_index(name: str, x: Tensor, dim: int, index: Tensor) -> int:
    if not isinstance(index, Tensor) or index.dtype is not dt.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, got "
                           f"{getattr(index, 'dtype', type(index).__name__)}")
    d = _wrap_dim(dim, x.ndim)
    if index.ndim != x.ndim:
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as "
                           f"input tensor ({index.ndim} vs {x.ndim})")
    return d


def _narrow_to(x: Tensor, shape: tuple, skip: int) -> Tensor:
    """View of ``x`` cut to ``shape`` in every dim but ``skip``."""
    new = tuple(x.shape[i] if i == skip else shape[i] for i in range(x.ndim))
    if any(a > b for a, b in zip(new, x.shape)):
        raise RuntimeError(f"Size does not match: index {shape} is larger than {x.shape} "
                           f"outside dimension {skip}")
    return x if new == x.shape else _view(x, new, x.strides, x.offset)


def gather_raw(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``x.gather(dim, index)`` without autograd (an int64 ``index`` already checked)."""
    src = _narrow_to(x, index.shape, dim)
    return _make(x._backend.gather(src, dim, index), index.shape, x.dtype, x.device, x._backend)


class Gather(Function):
    saves = (2,)

    def forward(self, x, dim, index):
        self.shape, self.dim, self.index = x.shape, dim, index
        return gather_raw(x, dim, index)

    def backward(self, g):
        return zeros(self.shape, dtype=g.dtype, device=g.device).scatter_add(
            self.dim, self.index, g), None, None


class Scatter(Function):
    """Out-of-place ``scatter``/``scatter_add``."""
    saves = (2,)

    def forward(self, x, dim, index, src, accumulate):
        self.dim, self.index, self.accumulate = dim, index, accumulate
        out = _copy_raw(x)
        scatter_raw(out, dim, index, src, accumulate)
        return out

    def backward(self, g):
        gx = g if self.accumulate else g.scatter(self.dim, self.index, 0.0)
        gsrc = g.gather(self.dim, self.index) if self.needs_input_grad[3] else None
        return gx, None, None, gsrc, None


def scatter_raw(out: Tensor, dim: int, index: Tensor, src, accumulate: bool) -> None:
    if not isinstance(src, Tensor):
        src = full(index.shape, src, dtype=out.dtype, device=out.device)
    src = _narrow_to(src.detach().to(out.dtype), index.shape, dim)
    src = src if src.shape == index.shape else _view(src, index.shape, src.strides, src.offset)
    dst = _narrow_to(out, index.shape, dim)
    out._backend.scatter_(dst, dim, index, src, accumulate)


def gather(input, dim: int, index):
    """``out[i][j] = input[index[i][j]][j]`` (for ``dim=0``)."""
    d = _check_index("gather", input, dim, index)
    return Gather.apply(input, d, index)


def scatter(input, dim: int, index, src, *, reduce: str | None = None):
    """Out-of-place scatter: a copy of ``input`` with ``src`` written at ``index``."""
    d = _check_index("scatter", input, dim, index)
    if reduce not in (None, "add"):
        raise ValueError(f"scatter: reduce={reduce!r}, expected None or 'add'")
    return Scatter.apply(input, d, index, src, reduce == "add")


@autocast_op("scatter_add")
def scatter_add(input, dim: int, index, src):
    """Out-of-place scatter that adds ``src`` into a copy of ``input`` at ``index``."""
    d = _check_index("scatter_add", input, dim, index)
    return Scatter.apply(input, d, index, src, True)


def index_select(input, dim: int, index):
    """Rows (along ``dim``) of ``input`` listed in the 1-D int64 ``index``."""
    d = _wrap_dim(dim, input.ndim)
    if not isinstance(index, Tensor) or index.ndim > 1 or index.dtype.kind != 1:
        raise IndexError(f"index_select(): index must be a 1-D integer tensor, got "
                         f"{getattr(index, 'shape', type(index).__name__)}")
    idx = index.reshape(-1).to(dt.int64)
    host = idx._backend.to_numpy(idx)
    n = input.shape[d]
    if host.size and (host.max() >= n or host.min() < 0):  # torch refuses negative indices too
        raise IndexError(f"index_select(): index out of range for dimension {d} with size {n}: "
                         f"index contains {host.max() if host.max() >= n else host.min()}")
    view_shape = (1,) * d + (idx.shape[0],) + (1,) * (input.ndim - d - 1)
    shape = input.shape[:d] + (idx.shape[0],) + input.shape[d + 1:]
    return gather(input, d, idx.reshape(view_shape).expand(shape))


def masked_fill(input, mask, value):
    """``value`` where ``mask`` (broadcast) is True, else ``input``."""
    if not isinstance(mask, Tensor) or mask.dtype is not dt.bool_:
        raise RuntimeError(f"masked_fill: mask must be a bool tensor, got "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        value = value.to(input.dtype) if not value.requires_grad else value
    else:
        value = float(value) if input.dtype.kind == 2 else value
    out = where(mask, value, input)
    return out if out.dtype is input.dtype else out.to(input.dtype)


def nonzero(input, *, as_tuple: bool = False):
    """Indices of non-zero elements: an ``(n, ndim)`` int64 tensor, or one per dim."""
    host = input._backend.to_numpy(input)
    idx = np.nonzero(host) if host.ndim else np.nonzero(host.reshape(1))
    if as_tuple:
        return tuple(input.new_tensor(i.astype(np.int64), dtype=dt.int64) for i in idx)
    pairs = np.stack(idx, axis=1).astype(np.int64)
    pairs = pairs if host.ndim else pairs[:, :0]  # a 0-d input gives (n, 0), as in torch
    return input.new_tensor(pairs, dtype=dt.int64)
