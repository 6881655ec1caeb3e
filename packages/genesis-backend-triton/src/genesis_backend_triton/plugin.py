"""Entry point: registers device ``"cuda"``. Imports neither triton nor pycuda."""

from genesis.backends import hookimpl


@hookimpl
def genesis_register_backends():
    from genesis_backend_triton.backend import TritonBackend
    return [TritonBackend()]
