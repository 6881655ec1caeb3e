"""``genesis.save``/``load`` and ``save_checkpoint``/``load_checkpoint``: safe checkpoint files.

A checkpoint is a safetensors file: every tensor of the tree under its path
key, the rest of the tree as JSON metadata, and an XXH3-64 hash of the whole file.
Loading never runs code from the file; saving is atomic.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from genesis._device import Device, device
from genesis._dtype import dtype_from_name
from genesis._map_location import MapLocation, placement
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


def _from_numpy(map_location: MapLocation):
    place = placement(map_location)

    def build(array: np.ndarray, extra: dict) -> Tensor:
        dtype = dtype_from_name(extra["dtype"]) if "dtype" in extra else dtype_of_numpy(array.dtype)

        def on(where: str | Device) -> Tensor:
            dev = device(where)
            b = dev.backend
            # the loader's arrays are private to this load: a backend may adopt them without a copy
            storage = getattr(b, "adopt_numpy", b.from_numpy)(np.ascontiguousarray(array),
                                                              dev.index)
            return _make(storage, array.shape, dtype, dev, b)

        t = place(extra.get("device", "cpu"), on)
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


def load(f: PathLike, map_location: MapLocation = None, *, weights_only: bool | None = None,
         mmap: bool | None = None) -> Any:
    """Load what :func:`save` wrote, with ``torch.load``'s keywords.

    Args:
        f: the file path.
        map_location: where the tensors go, as in ``torch.load``: ``None`` (where
            they were saved), a device string or :class:`genesis.Device`, a dict
            from saved location (``"cpu"``, ``"cuda:0"``) to device, or a callable
            ``(cpu_tensor, location) -> tensor or None``.
        weights_only: accepted for PyTorch code and changes nothing: a Genesis
            file holds only tensors and plain data, never code, so loading is
            always as safe as ``torch.load(weights_only=True)``, even with ``False``.
        mmap: memory-map the file instead of reading it (``None`` means no).

    Raises :class:`CheckpointError` for a file that is not a Genesis/safetensors
    checkpoint (pickles are refused, never executed) and
    :class:`CheckpointIntegrityError` when the checksum does not match.
    """
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"load: f={f!r}, expected a file path (str or os.PathLike)")
    for name, value in (("weights_only", weights_only), ("mmap", mmap)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"load: {name}={value!r}, expected True, False or None")
    return load_tree(f, from_numpy=_from_numpy(map_location), mmap=bool(mmap))


def save_checkpoint(obj: Any, path: PathLike) -> None:
    """Save a training checkpoint (e.g. model, optimizer and scheduler state dicts, epoch)."""
    save(obj, path)


def load_checkpoint(path: PathLike, map_location: MapLocation = None, *,
                    weights_only: bool | None = None, mmap: bool | None = None) -> Any:
    """Load a checkpoint written by :func:`save_checkpoint`, verifying its checksum.

    The keywords are :func:`load`'s (and ``torch.load``'s).
    """
    return load(path, map_location=map_location, weights_only=weights_only, mmap=mmap)
