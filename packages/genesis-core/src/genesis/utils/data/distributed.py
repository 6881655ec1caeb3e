"""``DistributedSampler``: each rank's share of a dataset, in PyTorch's order.

PyTorch shuffles with ``torch.randperm(n, generator=g)``, ``g`` seeded ``seed + epoch``: a
Fisher-Yates pass drawing one 32-bit Mersenne Twister output per position. numpy's
``RandomState`` runs the same MT19937 with the same seeding, so :func:`torch_randperm`
reproduces the permutation and a ported run sees its data in the same order on every rank.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

import numpy as np

from genesis.utils.data.sampler import Sampler

#: PyTorch draws 64-bit numbers from this size on (a different stream than reproduced here)
_TORCH_32BIT_LIMIT = (2**32 - 1) // 20


def torch_randperm(n: int, seed: int) -> list:
    """The permutation ``torch.randperm(n, generator=torch.Generator().manual_seed(seed))``
    gives on the CPU, for ``n`` below 214,748,364 (where PyTorch switches to 64-bit draws)."""
    if n >= _TORCH_32BIT_LIMIT:
        raise ValueError(f"torch_randperm: n={n}, expected fewer than {_TORCH_32BIT_LIMIT} "
                         "elements (PyTorch's 32-bit draw path)")
    draws = np.random.RandomState(seed & 0xFFFFFFFF).randint(
        0, 2**32, size=max(n - 1, 0), dtype=np.uint32).tolist()
    order = list(range(n))
    for i, r in enumerate(draws):
        j = i + r % (n - i)
        order[i], order[j] = order[j], order[i]
    return order


class DistributedSampler(Sampler):
    """The indices rank ``rank`` of ``num_replicas`` reads, as PyTorch's sampler gives them.

    With ``shuffle``, the order is a permutation seeded ``seed + epoch`` (call
    :meth:`set_epoch` at the start of each epoch so the order changes); without
    ``drop_last`` the list is padded with its first indices to a multiple of
    ``num_replicas``, with it the tail is dropped. ``num_replicas``/``rank`` default to the
    default process group's world size and rank.
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from genesis import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas and rank default to the "
                                   "process group's, but init_process_group has not run; "
                                   "call it first or pass both")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas={num_replicas!r}, expected a "
                             "positive int")
        if not isinstance(rank, int) or rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                             f"{num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.shuffle, self.seed, self.drop_last = 0, shuffle, seed, drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        indices = torch_randperm(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next iteration shuffles for (same on every rank)."""
        self.epoch = epoch
