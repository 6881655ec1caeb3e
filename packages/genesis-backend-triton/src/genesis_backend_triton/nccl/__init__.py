"""genesis.distributed's ``"nccl"`` collective backend, for tensors on device ``"cuda"``.

``_library``: libnccl.so.2 through ctypes (the nvidia-nccl wheel of the ``[cuda]`` extra, or
the system's). ``process_group``: the backend, process group and work handles. ``launch``:
the per-rank wrapper ``python -m genesis.distributed.run --backend nccl`` starts (one GPU per
rank). Nothing here loads NCCL, pycuda or mpi4py until a process group starts.
"""

from genesis_backend_triton.nccl.process_group import (
    NCCLCollectives,
    NCCLProcessGroup,
    NCCLWork,
)

__all__ = ["NCCLCollectives", "NCCLProcessGroup", "NCCLWork"]
