"""``default_collate`` and ``default_convert``: samples into batches, as PyTorch does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from genesis._tensor import Tensor


def default_collate(batch: list):
    """Stack a list of samples into a batch, recursively, as PyTorch's ``default_collate``:
    tensors and numpy arrays are stacked, Python ints/floats/bools become int64/float64/bool
    tensors, tuples/lists/dicts are collated per field, strings stay a list."""
    from genesis._ops.creation import tensor
    from genesis._ops.shape import stack

    if not batch:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (np.ndarray, np.generic)):
        return tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, float):
        from genesis import _dtype as dt

        return tensor(batch, dtype=dt.float64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([b[k] for b in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(f)) for f in zip(*batch)]  # tuples too, as PyTorch
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, "
        f"dicts or lists; found {type(elem).__name__}"
    )


def default_convert(data):
    """What an unbatched loader (``batch_size=None``) yields for a sample, as PyTorch's
    ``default_convert``: numpy arrays and numpy scalars become tensors, containers are
    converted per element, everything else (Python numbers, strings, tensors) is kept."""
    from genesis._ops.creation import as_tensor

    if isinstance(data, np.ndarray) and data.dtype.kind not in "SaUO":
        return as_tensor(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "SaUO":
        return as_tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # as PyTorch: a tuple becomes a list
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
