"""``DataLoader``: batches of a dataset, shuffled reproducibly, collated into tensors, loaded
in the main process or in worker processes (``genesis.utils.data._worker``)."""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator
from multiprocessing.context import BaseContext

from genesis.random import Generator
from genesis.utils.data._collate import default_collate, default_convert
from genesis.utils.data._fetch import _InfiniteConstantSampler, create_fetcher
from genesis.utils.data._mp_iter import MultiProcessingIter
from genesis.utils.data.dataset import Dataset, IterableDataset
from genesis.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


def _check_args(dataset, num_workers, shuffle, sampler, batch_sampler, batch_size, drop_last,
                timeout, prefetch_factor, persistent_workers) -> None:
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError(f"num_workers option should be non-negative; use num_workers=0 to "
                         f"disable multiprocessing. (got num_workers={num_workers!r})")
    if timeout < 0:
        raise ValueError(f"timeout option should be non-negative (got timeout={timeout!r})")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and (not isinstance(prefetch_factor, int)
                                        or prefetch_factor <= 0):
        raise ValueError(f"prefetch_factor option should be a positive int (got "
                         f"prefetch_factor={prefetch_factor!r})")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if isinstance(dataset, IterableDataset):
        for name, value in (("shuffle", shuffle), ("sampler", sampler),
                            ("batch_sampler", batch_sampler)):
            if value not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"{name} option, but got {name}={value!r}")
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None and (
        batch_size != 1 or shuffle or sampler is not None or drop_last
    ):
        raise ValueError(
            "batch_sampler option is mutually exclusive with batch_size, "
            "shuffle, sampler, and drop_last"
        )
    if batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually "
                         "exclusive with drop_last")


def _check_context(context, num_workers: int):
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got "
                             f"multiprocessing_context={context!r}")
        return multiprocessing.get_context(context)
    if not isinstance(context, BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or "
                        f"a string specifying the start method, but got "
                        f"multiprocessing_context={context!r}")
    return context


def _fetch_all(indices: Iterator, fetcher) -> Iterator:
    for index in indices:
        try:
            batch = fetcher.fetch(index)
        except StopIteration:  # an iterable dataset is exhausted
            return
        yield batch


def _warn_if_too_many_workers(num_workers: int) -> None:
    """PyTorch's warning when there are more workers than CPUs this process may use."""
    try:
        cpus, note = len(os.sched_getaffinity(0)), ""
    except (AttributeError, OSError):
        cpus, note = os.cpu_count(), " (`cpuset` is not taken into account)"
    if cpus is not None and num_workers > cpus:
        warnings.warn(
            f"This DataLoader will create {num_workers} worker processes in total. Our "
            f"suggested max number of worker in current system is {cpus}{note}, which is "
            "smaller than what this DataLoader is going to create. Please be aware that "
            "excessive worker creation might get DataLoader running slow or even freeze, lower "
            "the worker number to avoid potential slowness/freeze if necessary.",
            UserWarning, stacklevel=3)


class DataLoader:
    """Iterate over ``dataset`` in batches, as ``torch.utils.data.DataLoader``.

    Args:
        batch_size: samples per batch (``None`` yields samples unbatched).
        shuffle: a new random order every epoch, drawn from ``generator``.
        sampler / batch_sampler: the indices (of single samples / of whole batches) to load.
        num_workers: worker processes loading batches (0: load in the main process).
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        pin_memory: accepted; a no-op (host memory is what every backend copies from).
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a worker's batch before raising (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after
            seeding and before loading.
        multiprocessing_context: ``"fork"``, ``"spawn"``, ``"forkserver"`` or a context
            object (default: ``multiprocessing``'s default).
        generator: the random stream for shuffling and for the workers' base seed
            (default: Genesis's global stream).
        prefetch_factor: batches in flight per worker (default 2 with workers).
        persistent_workers: keep the workers alive from one epoch to the next.
        in_order: yield batches in sampler order (``False``: as soon as they arrive).

    Each iterator draws a base seed from ``generator`` before the sampler's indices, with or
    without workers, so a seeded ``generator`` gives the same batches for any
    ``num_workers``; worker ``i`` seeds ``random``, numpy and Genesis with
    ``base_seed + i`` (numpy: a hash of both) as PyTorch does. Persistent workers keep the
    seed of their first epoch (one iterator serves every epoch, as in PyTorch). A worker's
    batch reaches the main process as numpy arrays and is rebuilt there as tensors on the
    device it had.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context=None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        _check_args(dataset, num_workers, shuffle, sampler, batch_sampler, batch_size, drop_last,
                    timeout, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.drop_last = drop_last
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator)
            else:
                sampler = SequentialSampler(dataset)
        self.sampler = sampler
        self.batch_size = batch_size if batch_sampler is None else None
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._iterator: MultiProcessingIter | None = None
        self._initialized = True

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
               "persistent_workers")

    def __setattr__(self, name: str, value) -> None:
        if name in DataLoader._FROZEN and getattr(self, "_initialized", False):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _draw_base_seed(self) -> int:
        """An epoch's base seed for the workers, drawn from ``generator`` (also without
        workers, so the sampler draws the same order for any ``num_workers``)."""
        from genesis import _dtype as dt
        from genesis._ops.creation import empty

        return empty((), dtype=dt.int64).random_(generator=self.generator).item()

    def _mp_context(self):
        return self.multiprocessing_context or multiprocessing.get_context()

    def __iter__(self) -> Iterator:
        if self.num_workers == 0:
            return self._single_process_iter()
        if self._iterator is None:
            _warn_if_too_many_workers(self.num_workers)
        if self.persistent_workers:
            if self._iterator is None or self._iterator.shut:  # first epoch, or after a failure
                self._iterator = MultiProcessingIter(self)
                return self._iterator
            return self._iterator.reset()
        return MultiProcessingIter(self)

    def _single_process_iter(self) -> Iterator:
        self._draw_base_seed()
        indices = iter(self._index_sampler)
        fetcher = create_fetcher(self._iterable, self.dataset, self._auto_collation,
                                 self.collate_fn, self.drop_last)
        return _fetch_all(indices, fetcher)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the dataset has no __len__, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)
