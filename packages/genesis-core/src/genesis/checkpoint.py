"""``genesis.save``/``load`` and ``save_checkpoint``/``load_checkpoint``: safe checkpoint files.

A checkpoint is a safetensors file: every tensor of the tree under its path
key, the rest of the tree as JSON metadata, and an XXH3-64 hash of the whole file.
Loading never runs code from the file; saving is atomic.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from genesis._dtype import dtype_from_name
from genesis._tensor import Tensor, _make, dtype_of_numpy
from genesis.serialization import CheckpointError, CheckpointIntegrityError, load_tree, save_tree

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "CheckpointError",
           "CheckpointIntegrityError"]

PathLike = str | os.PathLike


def _to_numpy(t: Tensor) -> tuple[np.ndarray, dict]:
    extra: dict[str, Any] = {"dtype": t.dtype.name}
    if t.requires_grad:
        extra["requires_grad"] = True
    if t.device.type != "cpu":
        extra["device"] = str(t.device)
    return t._backend.to_numpy(t), extra


def _from_numpy(map_location):
    from genesis._device import device as _device

    def build(array: np.ndarray, extra: dict) -> Tensor:
        dtype = dtype_from_name(extra["dtype"]) if "dtype" in extra else dtype_of_numpy(array.dtype)
        where = map_location if map_location is not None else extra.get("device", "cpu")
        if callable(where):
            where = where(extra.get("device", "cpu"))
        dev = _device(where)
        b = dev.backend
        # the loader's arrays are private to this load: a backend may adopt them without a copy
        storage = getattr(b, "adopt_numpy", b.from_numpy)(np.ascontiguousarray(array), dev.index)
        t = _make(storage, array.shape, dtype, dev, b)
        if extra.get("requires_grad"):
            t.requires_grad = True
        return t

    return build


def save(obj: Any, f: PathLike) -> None:
    """Save a nested structure of tensors, numbers, strings, None, lists, tuples and dicts.

    The write is atomic: a crash mid-save leaves the previous file intact.
    """
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save: f={f!r}, expected a file path (str or os.PathLike)")
    save_tree(obj, f, is_tensor=lambda x: isinstance(x, Tensor), to_numpy=_to_numpy)


def load(f: PathLike, map_location=None, *, mmap: bool = False) -> Any:
    """Load what :func:`save` wrote; ``map_location`` names the device for every tensor.

    Raises :class:`CheckpointError` for a file that is not a Genesis/safetensors
    checkpoint (pickles are refused, never executed) and
    :class:`CheckpointIntegrityError` when the checksum does not match.
    """
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"load: f={f!r}, expected a file path (str or os.PathLike)")
    return load_tree(f, from_numpy=_from_numpy(map_location), mmap=mmap)


def save_checkpoint(obj: Any, path: PathLike) -> None:
    """Save a training checkpoint (e.g. model, optimizer and scheduler state dicts, epoch)."""
    save(obj, path)


def load_checkpoint(path: PathLike, map_location=None) -> Any:
    """Load a checkpoint written by :func:`save_checkpoint`, verifying its checksum."""
    return load(path, map_location=map_location)
