"""Fetchers: turn what the index sampler yields into a batch, in the main process or a worker.

A map-style dataset is indexed (``__getitems__`` when the dataset has it, as in PyTorch);
an iterable dataset is drawn from its iterator, ``batch_size`` samples per batch; the sampler
of an iterable dataset yields only placeholders (``None``) saying "one more sample".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from genesis.utils.data.dataset import TensorDataset
from genesis.utils.data.sampler import Sampler


class _InfiniteConstantSampler(Sampler):
    """The sampler of an iterable dataset: ``None`` forever."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class _MapFetcher:
    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool,
                 fast: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.fast = fast and auto_collation  # a TensorDataset with default_collate

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.fast:  # one gather per tensor instead of per-sample indexing + stack
            from genesis._ops.creation import tensor

            idx = tensor(index)
            return tuple(t[idx] for t in self.dataset.tensors)
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if getitems else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool,
                 fast: bool) -> None:
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        """The next batch; ``StopIteration`` when the dataset is exhausted."""
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def create_fetcher(iterable: bool, dataset, auto_collation: bool, collate_fn: Callable,
                   drop_last: bool):
    from genesis.utils.data._collate import default_collate

    fast = collate_fn is default_collate and isinstance(dataset, TensorDataset)
    cls = _IterableFetcher if iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last, fast)
