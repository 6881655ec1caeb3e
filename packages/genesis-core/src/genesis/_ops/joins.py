"""Repeating, stacking and splitting: repeat, tile, repeat_interleave, the ``*stack`` joins,
``atleast_*d`` and tensor_split, all from views, ``expand`` copies, ``cat`` and ``gather``."""

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._ops import creation, indexing
from genesis._ops import shape as S
from genesis._tensor import Tensor, _wrap_dim

__all__ = [
    "tile", "repeat_interleave", "tensor_split", "hstack", "vstack", "row_stack", "dstack",
    "column_stack", "atleast_1d", "atleast_2d", "atleast_3d",
]


def _sizes(args: tuple) -> tuple:
    """Sizes given as varargs or as one sequence."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


# -- repeats --------------------------------------------------------------------------------------

def repeat(input: Tensor, *repeats) -> Tensor:
    """``Tensor.repeat``: a copy tiled ``repeats[i]`` times along dim ``i``; ``repeats`` may
    have more entries than ``input`` has dims (new leading dims)."""
    if not repeats:
        raise TypeError("repeat() missing 1 required positional argument: 'repeats'")
    repeats = _sizes(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError(f"Number of dimensions of repeat dims can not be smaller than number "
                           f"of dimensions of tensor (repeats={list(repeats)}, tensor of shape "
                           f"{list(input.shape)})")
    shape = (1,) * (len(repeats) - input.ndim) + input.shape
    result = tuple(int(r) * n for r, n in zip(repeats, shape))
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(result)}: {list(result)}")
    pairs = S.reshape(input, sum(((1, n) for n in shape), ()))  # a size-1 dim before each dim
    tiled = S.expand(pairs, sum(((int(r), n) for r, n in zip(repeats, shape)), ()))
    return S.reshape(tiled.clone(), result)


def tile(input: Tensor, dims) -> Tensor:
    """Like :func:`repeat`, but ``dims`` shorter than ``input.ndim`` is padded with leading
    ones."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _tile_method(self: Tensor, *dims) -> Tensor:
    """``x.tile(2, 3)`` or ``x.tile((2, 3))``."""
    if not dims:
        raise TypeError("tile() missing 1 required positional argument: 'dims'")
    return tile(self, _sizes(dims))


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element (each slice along ``dim``; of the flattened tensor when ``dim`` is
    None) ``repeats`` times: an int, or a tensor of one count per element.

    ``repeat_interleave(counts)`` alone repeats ``arange(len(counts))`` by ``counts``.
    """
    if repeats is None:
        if not isinstance(input, Tensor) or input.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        input, repeats, dim = creation.arange(input.shape[0], device=input.device), input, 0
    if dim is None or input.ndim == 0:
        input, d = S.flatten(input), 0
    else:
        d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(repeats, Tensor):
        if repeats.dtype not in (dt.int64, dt.int32):
            raise NotImplementedError(f"repeat_interleave: repeats must be an int64 or int32 "
                                      f"tensor, got {repeats.dtype}")
        if repeats.ndim > 1:
            raise RuntimeError(f"repeats must be 0-dim or 1-dim tensor, got shape "
                               f"{list(repeats.shape)}")
        counts = repeats._backend.to_numpy(repeats).reshape(-1).astype(np.int64)
        if counts.size != 1:
            return _repeat_counts(input, d, counts, output_size)
        repeats = int(counts[0])
    if not isinstance(repeats, int) or isinstance(repeats, bool):
        raise TypeError(f"repeat_interleave: repeats={repeats!r}, expected an int or an integer "
                        f"tensor")
    if repeats < 0:
        raise RuntimeError(f"Repeats must be non-negative, got repeats={repeats}")
    if output_size is not None and output_size != n * repeats:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {n * repeats} but "
                           f"got {output_size}")
    x = S.unsqueeze(input, d + 1)
    x = S.expand(x, x.shape[:d + 1] + (repeats,) + x.shape[d + 2:]).clone()
    return S.flatten(x, d, d + 1)


def _repeat_counts(input: Tensor, d: int, counts: np.ndarray, output_size) -> Tensor:
    n = input.shape[d]
    if counts.size != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {counts.size} and input.size({d}) = {n}")
    if (counts < 0).any():
        raise RuntimeError(f"repeats can not be negative, got {counts.min()}")
    if output_size is not None and output_size != int(counts.sum()):
        raise RuntimeError(f"repeat_interleave: output_size={output_size} does not match the "
                           f"sum of repeats ({int(counts.sum())})")
    positions = creation.tensor(np.repeat(np.arange(n, dtype=np.int64), counts),
                                device=input.device)  # in range by construction: no check
    view = (1,) * d + (positions.shape[0],) + (1,) * (input.ndim - d - 1)
    shape = input.shape[:d] + (positions.shape[0],) + input.shape[d + 1:]
    return indexing.gather(input, d, S.expand(S.reshape(positions, view), shape))


# -- stacks ---------------------------------------------------------------------------------------

def _tensor_list(name: str, tensors) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


def _atleast(name: str, tensors: tuple, pad):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        return tuple(pad(t) for t in tensors[0])
    if len(tensors) == 1:
        return pad(tensors[0])
    return tuple(pad(t) for t in tensors)


def _pad_1d(t: Tensor) -> Tensor:
    return S.reshape(t, (1,)) if t.ndim == 0 else t


def _pad_2d(t: Tensor) -> Tensor:
    return S.reshape(t, (1, t.numel())) if t.ndim < 2 else t


def _pad_3d(t: Tensor) -> Tensor:
    if t.ndim == 0:
        return S.reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return S.reshape(t, (1, t.shape[0], 1))
    return S.unsqueeze(t, 2) if t.ndim == 2 else t


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim (a 0-d tensor becomes shape ``(1,)``)."""
    return _atleast("atleast_1d", tensors, _pad_1d)


def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dims (new dims in front)."""
    return _atleast("atleast_2d", tensors, _pad_2d)


def atleast_3d(*tensors):
    """Each tensor viewed with at least 3 dims (``(n,)`` -> ``(1, n, 1)``,
    ``(m, n)`` -> ``(m, n, 1)``)."""
    return _atleast("atleast_3d", tensors, _pad_3d)


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors); 0-d tensors count as 1-D."""
    ts = [_pad_1d(t) for t in _tensor_list("hstack", tensors)]
    return S.cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0 after viewing each tensor as at least 2-D (rows)."""
    return S.cat([_pad_2d(t) for t in _tensor_list("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Join along dim 2 after viewing each tensor as at least 3-D (depth)."""
    return S.cat([_pad_3d(t) for t in _tensor_list("dstack", tensors)], 2)


def column_stack(tensors) -> Tensor:
    """Join along dim 1, 0-d and 1-D tensors becoming columns ``(n, 1)``."""
    ts = _tensor_list("column_stack", tensors)
    return S.cat([S.reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts], 1)


# -- splits ---------------------------------------------------------------------------------------

def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Views of ``input`` split along ``dim``: into ``sections`` near-equal parts (the first
    ``n % sections`` one longer), or at the listed indices (slicing semantics: indices may
    be negative, past the end or decreasing)."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = _wrap_dim(dim, input.ndim)
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype is not dt.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {spec.dtype}")
        if spec.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {spec.ndim} dims")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    n = input.shape[d]
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {spec}")
        size, extra = divmod(n, spec)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (spec - extra)).tolist()
        return tuple(S.narrow(input, d, a, b - a) for a, b in zip(bounds[:-1], bounds[1:]))
    if not isinstance(spec, (tuple, list)) or \
            not all(isinstance(i, int) and not isinstance(i, bool) for i in spec):
        raise TypeError(f"tensor_split(): indices_or_sections={indices_or_sections!r}, expected "
                        f"an int, a sequence of ints or an int64 tensor")
    out, prev = [], 0
    for stop in list(spec) + [None]:
        start, end, _ = slice(prev, stop).indices(n)
        out.append(S.narrow(input, d, start, max(0, end - start)))
        prev = stop
    return tuple(out)


TENSOR_METHODS = {
    "repeat": repeat,
    "tile": _tile_method,
    "repeat_interleave": repeat_interleave,
    "tensor_split": tensor_split,
}
