"""Nested Python sequences to one numpy array, with ``torch.tensor``'s rules and clear errors.

Plain rectangular lists of numbers take numpy's fast path. Lists holding
tensors, and lists numpy refuses, are walked here as ``torch.tensor`` walks
them: the shape comes from the first element at each depth, every other
element must match it, and a tensor inside a list is one number (a
one-element tensor of any shape; more elements are refused, as in PyTorch).
The dtype then follows PyTorch: the promotion of every element's own dtype.
"""

from __future__ import annotations

from functools import reduce

import numpy as np

from genesis import _dtype as dt

__all__ = ["sequence_to_numpy"]


def sequence_to_numpy(data: list | tuple, tensor_cls: type) -> tuple[np.ndarray, dt.DType | None]:
    """``data`` as an array, plus its dtype when inferred here (``None``: infer from the array).

    Raises:
        ValueError: a sequence's length differs from its siblings' ("expected
            sequence of length 2 at dim 1 (got 1)"), or a tensor in ``data``
            has more than one element.
        TypeError: a number where a sequence belongs or the reverse, or an
            element that is neither a number nor a tensor.
    """
    if not _contains_tensor(data, tensor_cls):
        try:
            arr = np.asarray(data)
        except ValueError:  # ragged: the walk below says where
            arr = None
        if arr is not None and arr.dtype != object:
            return arr, None
    shape = _shape_of(data, tensor_cls)
    leaves: list = []
    _collect(data, shape, (), leaves, tensor_cls)
    dtypes = [_dtype_of(x, path, tensor_cls) for x, path in leaves]
    dtype = reduce(dt.promote_types, dtypes) if dtypes else dt.get_default_dtype()
    # Python numbers hold every element exactly; the caller casts the array to ``dtype``
    arr = np.array([np.asarray(x).item() for x, _ in leaves]).reshape(shape)
    return arr, dtype


def _contains_tensor(seq, tensor_cls: type) -> bool:
    return any(isinstance(x, tensor_cls) or (isinstance(x, (list, tuple))
                                             and _contains_tensor(x, tensor_cls)) for x in seq)


def _is_sequence(obj: object) -> bool:
    return isinstance(obj, (list, tuple)) or (isinstance(obj, np.ndarray) and obj.ndim > 0)


def _shape_of(data, tensor_cls: type) -> tuple[int, ...]:
    shape = []
    obj = data
    while _is_sequence(obj) and not isinstance(obj, tensor_cls):
        shape.append(len(obj))
        if not len(obj):
            break
        obj = obj[0]
    return tuple(shape)


def _where(path: tuple[int, ...]) -> str:
    return "data" + "".join(f"[{i}]" for i in path)


def _collect(obj, shape: tuple[int, ...], path: tuple[int, ...], leaves: list,
             tensor_cls: type) -> None:
    dim = len(path)
    if dim == len(shape):
        if _is_sequence(obj):
            raise TypeError(f"tensor: expected a number at dim {dim} (as in "
                            f"{_where((0,) * dim)}), got a sequence of length {len(obj)} at "
                            f"{_where(path)}; nested sequences must have shape {shape}")
        leaves.append((obj, path))
        return
    if not _is_sequence(obj) or isinstance(obj, tensor_cls):
        raise TypeError(f"tensor: expected sequence of length {shape[dim]} at dim {dim}, got "
                        f"{type(obj).__name__} {obj!r:.40} at {_where(path)}; nested "
                        f"sequences must have shape {shape}")
    if len(obj) != shape[dim]:
        raise ValueError(f"tensor: expected sequence of length {shape[dim]} at dim {dim} (got "
                         f"{len(obj)}): {_where(path)} has length {len(obj)} but "
                         f"{_where((0,) * dim)} has length {shape[dim]}")
    for i, item in enumerate(obj):
        _collect(item, shape, (*path, i), leaves, tensor_cls)


def _dtype_of(x: object, path: tuple[int, ...], tensor_cls: type) -> dt.DType:
    if isinstance(x, tensor_cls):
        if x.numel() != 1:
            raise ValueError(f"tensor: {_where(path)} is a tensor of shape {tuple(x.shape)}: only "
                             "one element tensors can be converted to Python scalars (join "
                             "tensors with genesis.stack or genesis.cat)")
        return x.dtype
    if isinstance(x, bool):
        return dt.bool_
    if isinstance(x, int):
        return dt.int64
    if isinstance(x, float):
        return dt.get_default_dtype()
    if isinstance(x, (np.generic, np.ndarray)):
        try:
            return dt.dtype_from_name(x.dtype.name)
        except TypeError:
            pass  # object, complex, ...: refused below
    raise TypeError(f"tensor: could not infer dtype of {type(x).__name__} {x!r:.40} at "
                    f"{_where(path)}; expected numbers, tensors or nested sequences of them")
