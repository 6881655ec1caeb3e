"""Data-parallel communication with PyTorch's ``torch.distributed`` API.

Collectives run through a collective backend plugin (:mod:`genesis.backends.collectives`):
``"mpi"`` for host tensors comes with genesis-backend-cpu's ``[mpi]`` extra. Launch with
``python -m genesis.distributed.run -n 2 train.py`` (or ``mpiexec -n 2 python train.py``)::

    import genesis.distributed as dist
    dist.init_process_group("mpi")
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
"""

from genesis.distributed._collectives import (
    ReduceOp,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    all_to_all_single,
    barrier,
    broadcast,
    gather,
    irecv,
    isend,
    recv,
    reduce,
    reduce_scatter_tensor,
    scatter,
    send,
)
from genesis.distributed._objects import all_gather_object, broadcast_object_list
from genesis.distributed._state import (
    DEBUG_ENV,
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_backend_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    new_group,
)
from genesis.distributed._work import Work

__all__ = [
    "DEBUG_ENV", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all_single", "barrier",
    "broadcast", "broadcast_object_list", "destroy_process_group", "gather", "get_backend",
    "get_global_rank", "get_group_rank", "get_process_group_ranks", "get_rank", "get_world_size",
    "group", "init_process_group", "irecv", "is_available", "is_backend_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "isend", "new_group", "recv",
    "reduce", "reduce_scatter_tensor", "scatter", "send",
]
