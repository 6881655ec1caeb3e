"""Entry point of the numpy backend: registers device ``"cpu"`` like any third-party plugin,
and the ``"mpi"`` collective backend for genesis.distributed (mpi4py imported only when a
process group starts)."""

from genesis.backends import hookimpl


@hookimpl
def genesis_register_backends():
    from genesis_backend_cpu.backend import CPUBackend
    return [CPUBackend()]


@hookimpl
def genesis_register_collectives():
    from genesis_backend_cpu.mpi import MPICollectives
    return [MPICollectives()]
