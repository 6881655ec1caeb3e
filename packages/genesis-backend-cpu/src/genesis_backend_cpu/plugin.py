"""Entry point of the numpy backend: registers device ``"cpu"`` like any third-party plugin."""

from genesis.backends import hookimpl


@hookimpl
def genesis_register_backends():
    from genesis_backend_cpu.backend import CPUBackend
    return [CPUBackend()]
