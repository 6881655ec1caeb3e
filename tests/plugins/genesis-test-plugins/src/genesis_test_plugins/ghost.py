"""Device ``"ghost"``: registered, but declares itself unavailable with a reason."""

from genesis.backends import hookimpl
from genesis_backend_cpu.backend import CPUBackend


class GhostBackend(CPUBackend):
    name = "ghost"

    def availability(self) -> tuple[bool, str]:
        return False, "no ghost driver found (install ghost-driver>=2 and reboot)"


@hookimpl
def genesis_register_backends():
    return [GhostBackend()]
