"""Device ``"toy"``: a third-party backend reusing numpy kernels with a narrower dtype set.

It declares fewer dtypes than the CPU backend, so the conformance kit
reports those cases as skipped instead of failing them.
"""

from genesis.backends import Capabilities, hookimpl
from genesis_backend_cpu.backend import CPUBackend


class ToyBackend(CPUBackend):
    name = "toy"

    def __init__(self) -> None:
        super().__init__()
        self.capabilities = Capabilities(dtypes=frozenset({"float32", "float64", "int32",
                                                           "int64", "bool"}))


@hookimpl
def genesis_register_backends():
    return [ToyBackend()]
