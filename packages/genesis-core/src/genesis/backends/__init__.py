"""Backend registry: plugins, devices and the backend contract.

See :mod:`genesis.backends.protocol` for what a backend implements,
:mod:`genesis.backends.collectives` for what a collective-communication backend of
``genesis.distributed`` implements, and :mod:`genesis.backends.hookspecs` for how both
register.
"""

from genesis.backends._registry import ENV_VAR, PluginRecord, registry, report
from genesis.backends.collectives import CollectiveBackend
from genesis.backends.hookspecs import ENTRY_POINT_GROUP, hookimpl, hookspec
from genesis.backends.protocol import Backend, Capabilities


def register_plugin(plugin: object, name: str) -> None:
    """Register a plugin in-process (what an entry point does at ``import genesis``)."""
    registry.register_plugin(plugin, name)


def list_devices(available_only: bool = False) -> list[str]:
    """Registered device types, e.g. ``['cpu', 'cuda']``."""
    if not registry.loaded:
        registry.load_entry_points()
    return sorted(n for n, b in registry.backends.items()
                  if not available_only or b.availability()[0])


__all__ = ["Backend", "Capabilities", "CollectiveBackend", "ENTRY_POINT_GROUP", "ENV_VAR",
           "PluginRecord", "hookimpl", "hookspec", "list_devices", "register_plugin", "report",
           "registry"]
