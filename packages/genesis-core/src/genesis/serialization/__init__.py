"""Genesis checkpoint files: nested trees of tensors as checksummed safetensors files.

A checkpoint is a valid safetensors file, so other tools read its tensors
(stored under their path in the tree, e.g. ``model_state_dict/fc.weight``);
the rest of the tree (dicts, lists, tuples, numbers, strings, None) is JSON in
the ``genesis.tree`` metadata entry. An XXH3-64 hash of the whole file is checked on
load. Saving replaces the file atomically. Loading never runs code from the
file: there is no pickle anywhere.

This subpackage does not import the rest of Genesis: callers pass ``is_tensor``
/ ``to_numpy`` to save and ``from_numpy`` to load their tensor type.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np

from . import _atomic, _safetensors, _tree
from ._errors import CheckpointError, CheckpointIntegrityError

__all__ = ["CheckpointError", "CheckpointIntegrityError", "load_tree", "save_tree"]

FORMAT_KEY = "genesis.format"
FORMAT_VERSION = "1"
TREE_KEY = "genesis.tree"


def _is_ndarray(obj: object) -> bool:
    return isinstance(obj, np.ndarray)


def _ndarray_to_numpy(array: np.ndarray) -> tuple[np.ndarray, dict[str, object]]:
    return array, {}


def _array_from_numpy(array: np.ndarray, extra: dict[str, object]) -> np.ndarray:
    return array


def _fspath(path: str | os.PathLike[str]) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a str or os.PathLike, got {path!r} of type {type(path).__qualname__}"
        )
    return os.fspath(path)


def save_tree(
    obj: object,
    path: str | os.PathLike[str],
    *,
    is_tensor: Callable[[object], bool] = _is_ndarray,
    to_numpy: Callable[[object], tuple[np.ndarray, Mapping[str, object]]] = _ndarray_to_numpy,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Save the nested tree ``obj`` to ``path`` as a checksummed safetensors file, atomically.

    Args:
        obj: dicts (str or int keys), lists, tuples, None, bool, int, float
            (nan and inf too), str, and tensors, nested in any way.
        path: the file to write. It is replaced atomically: a crash at any
            moment leaves either the old file or the complete new one there
            (and at most one temp file ``.{name}.genesis-{pid}-{hex}.tmp``
            beside it, which the next save of that path removes).
        is_tensor: says which leaves are tensors (default: numpy arrays).
        to_numpy: maps a tensor to ``(array, extra)``: its data as a numpy
            array of dtype float64/32/16, bfloat16 (ml_dtypes), int8/16/32/64,
            uint8/16/32/64 or bool (any strides and byte order), and a dict of
            JSON-able attributes handed back to ``from_numpy`` on load.
            A tensor object met twice is stored once.
        metadata: extra str -> str entries for the safetensors ``__metadata__``
            (e.g. ``{"format": "pt"}``); keys must not start with ``genesis.``.

    Raises:
        TypeError: a leaf, dict key or array dtype is not supported; the
            message names its path in the tree, e.g. ``obj['opt'][0]``.
        ValueError: ``obj`` contains itself, or ``metadata`` is malformed.
    """
    target = _fspath(path)
    extra_metadata = dict(metadata or {})
    for key, value in extra_metadata.items():
        if not (isinstance(key, str) and isinstance(value, str)) or key.startswith("genesis."):
            raise ValueError(
                f"metadata entry {key!r}: {value!r} is invalid; "
                "expected str keys not starting with 'genesis.' and str values"
            )
    text, tensors = _tree.flatten(obj, is_tensor, to_numpy)
    file_metadata = {**extra_metadata, FORMAT_KEY: FORMAT_VERSION, TREE_KEY: text}
    _atomic.atomic_write(target, lambda fd: _safetensors.write(fd, tensors, file_metadata))


def load_tree(
    path: str | os.PathLike[str],
    *,
    from_numpy: Callable[[np.ndarray, dict[str, object]], object] = _array_from_numpy,
    mmap: bool = False,
    verify: bool = True,
) -> object:
    """Load a tree saved by :func:`save_tree`; never runs code from the file.

    Args:
        path: the file to read. A safetensors file written by another tool
            (no ``genesis.tree`` metadata) loads as a flat dict of its tensors
            by key, in header order.
        from_numpy: builds a tensor from ``(array, extra)``; ``extra`` is the
            dict that ``to_numpy`` returned at save time. Default: the array.
            Called once per stored tensor, so a tensor saved twice in the tree
            comes back as one object in both places.
        mmap: memory-map the file instead of reading it. Arrays are then
            copy-on-write views of the mapping: writable, and writes never
            reach the file; a later save over ``path`` does not disturb them.
        verify: check the file's XXH3 hash (default). With ``mmap`` this reads the
            whole file once; ``verify=False`` skips that and reads lazily.

    Raises:
        CheckpointError: the file is not a Genesis checkpoint or safetensors
            file (a pickle or a torch.save zip is refused by name), is
            truncated, or its header or tree is malformed.
        CheckpointIntegrityError: the checksum does not match (a subclass of
            CheckpointError).
        FileNotFoundError, PermissionError: the file cannot be opened.
    """
    source = _fspath(path)
    if not isinstance(mmap, bool):
        raise TypeError(f"mmap must be a bool, got {mmap!r}")
    if not isinstance(verify, bool):
        raise TypeError(f"verify must be a bool, got {verify!r}")
    arrays, metadata = _safetensors.read(source, mmap=mmap, verify=verify)
    if TREE_KEY not in metadata:
        if any(key.startswith("genesis.") for key in metadata):
            raise CheckpointError(
                f"{source}: the {TREE_KEY!r} metadata entry is missing; the file is corrupted"
            )
        return {key: from_numpy(array, {}) for key, array in arrays.items()}
    if metadata.get(FORMAT_KEY) != FORMAT_VERSION:
        raise CheckpointError(
            f"{source}: checkpoint format version {metadata.get(FORMAT_KEY)!r} is not supported; "
            f"this Genesis reads version {FORMAT_VERSION!r}"
        )
    try:
        return _tree.unflatten(metadata[TREE_KEY], arrays, from_numpy)
    except _tree.TreeFormatError as error:
        raise CheckpointError(f"{source}: malformed {TREE_KEY!r} metadata: {error}") from None
