"""Datasets: map-style (``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``StackDataset``) and iterable (``IterableDataset``, ``ChainDataset``)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence

from genesis._tensor import Tensor
from genesis.random import Generator


class Dataset:
    """A map-style dataset: implement ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are ``tuple(t[i] for t in tensors)``; all tensors share their first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor) or not t.ndim or t.shape[0] != n:
                raise ValueError(
                    f"TensorDataset: tensors[{i}] has shape "
                    f"{getattr(t, 'shape', type(t).__name__)}; every tensor must "
                    f"have the same first dimension ({n})"
                )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices`` (through the dataset's ``__getitems__`` if it has one)."""
        picked = [self.indices[i] for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        return getitems(picked) if callable(getitems) else [self.dataset[i] for i in picked]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} out of range for length {len(self)}")
        d = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[d - 1] if d else 0
        return self.datasets[d][index - start]


class IterableDataset(Dataset):
    """A dataset that is a stream: implement ``__iter__``.

    With worker processes every worker iterates its own copy; shard the stream in
    ``__iter__`` with :func:`~genesis.utils.data.get_worker_info` (``id``, ``num_workers``)
    or every sample arrives ``num_workers`` times, as in PyTorch.
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


def _check_iterable(d, where: str) -> None:
    if not isinstance(d, IterableDataset):
        raise AssertionError(f"ChainDataset only supports IterableDataset ({where} got "
                             f"{type(d).__name__})")


class ChainDataset(IterableDataset):
    """Iterable datasets one after another, chained lazily."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            _check_iterable(d, "__iter__")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            _check_iterable(d, "__len__")
            total += len(d)
        return total


class StackDataset(Dataset):
    """Datasets of one length side by side: ``StackDataset(a, b)[i] == (a[i], b[i])`` and
    ``StackDataset(x=a, y=b)[i] == {"x": a[i], "y": b[i]}``."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        lengths = [len(d) for d in parts]
        if any(n != self._length for n in lengths):
            raise ValueError(f"Size mismatch between datasets: lengths {lengths}")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices`` (one ``__getitems__`` per dataset that has it)."""
        named = isinstance(self.datasets, dict)
        parts = self.datasets.items() if named else enumerate(self.datasets)
        batch = [{} if named else [] for _ in indices]
        for key, d in parts:
            getitems = getattr(d, "__getitems__", None)
            items = getitems(indices) if getitems else [d[i] for i in indices]
            if len(items) != len(indices):
                raise ValueError("Nested dataset's output size mismatch. "
                                 f"Expected {len(indices)}, got {len(items)}")
            for sample, item in zip(batch, items):
                if named:
                    sample[key] = item
                else:
                    sample.append(item)
        return batch if named else [tuple(s) for s in batch]

    def __len__(self) -> int:
        return self._length


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (or fractions summing
    to 1, remainders distributed round-robin as PyTorch does)."""
    from genesis._ops.creation import randperm

    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1):
        if any(x < 0 or x > 1 for x in lengths):
            raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1]")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, int) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths={lengths} must be non-negative ints summing to "
            f"the dataset length {n} (or fractions summing to 1)"
        )
    perm = randperm(n, generator=generator).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start : start + length]))
        start += length
    return out
