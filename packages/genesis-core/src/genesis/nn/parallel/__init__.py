"""``genesis.nn.parallel``: data-parallel training (:class:`DistributedDataParallel`)."""

from genesis.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
