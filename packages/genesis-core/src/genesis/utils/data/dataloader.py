"""``DataLoader``: batches of a dataset, shuffled reproducibly, collated into tensors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from genesis._tensor import Tensor
from genesis.random import Generator
from genesis.utils.data.dataset import Dataset, TensorDataset
from genesis.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler


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


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        batch_size: samples per batch (``None`` yields samples unbatched).
        shuffle: a new random order every epoch, drawn from ``generator``.
        drop_last: drop the last incomplete batch.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        generator: the random stream for shuffling (default: Genesis's global stream).
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        drop_last: bool = False,
        generator: Generator | None = None,
    ) -> None:
        if num_workers != 0:
            raise ValueError(
                f"DataLoader: num_workers={num_workers}; Genesis loads in the main "
                "process only (num_workers=0)"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (
            batch_size != 1 or shuffle or sampler is not None or drop_last
        ):
            raise ValueError(
                "batch_sampler option is mutually exclusive with batch_size, "
                "shuffle, sampler, and drop_last"
            )
        self.dataset = dataset
        self.batch_size = batch_size if batch_sampler is None else None
        self.drop_last = drop_last
        self.generator = generator
        if sampler is None:
            sampler = RandomSampler(dataset, generator) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self._fast = collate_fn is None and isinstance(dataset, TensorDataset)

    def __iter__(self) -> Iterator:
        if self.batch_sampler is None:
            for i in self.sampler:
                yield self.dataset[i]
            return
        collate = self.collate_fn or default_collate
        for indices in self.batch_sampler:
            if self._fast:  # one gather per tensor instead of per-sample indexing + stack
                from genesis._ops.creation import tensor

                idx = tensor(indices)
                yield tuple(t[idx] for t in self.dataset.tensors)
            else:
                yield collate([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)
