"""Entry point: registers device ``"cuda"`` and the ``"nccl"`` collective backend for
genesis.distributed. Imports neither triton, pycuda nor NCCL (they load on first use)."""

from genesis.backends import hookimpl


@hookimpl
def genesis_register_backends():
    from genesis_backend_triton.backend import TritonBackend
    return [TritonBackend()]


@hookimpl
def genesis_register_collectives():
    from genesis_backend_triton.nccl import NCCLCollectives
    return [NCCLCollectives()]
