"""The pluggy hooks a backend package implements (project name ``genesis``).

A backend package exposes a module with hook implementations through the
``genesis.backends`` entry-point group::

    # pyproject.toml
    [project.entry-points."genesis.backends"]
    mydevice = "genesis_backend_mydevice.plugin"

    # genesis_backend_mydevice/plugin.py
    import genesis.backends

    @genesis.backends.hookimpl
    def genesis_register_backends():
        return [MyBackend()]

Hooks only *discover* backends, once at ``import genesis``; ops then call
the registered backend objects directly (no per-op hook dispatch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from genesis.backends.collectives import CollectiveBackend
    from genesis.backends.protocol import Backend

PROJECT = "genesis"
ENTRY_POINT_GROUP = "genesis.backends"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def genesis_register_backends() -> list[Backend]:
    """Return the backend objects this plugin provides.

    Called once per plugin while ``import genesis`` loads the entry points.
    Each object implements :class:`genesis.backends.protocol.Backend`; its
    ``name`` becomes a device type. A backend that cannot run here (no
    driver, no GPU) is still returned: it reports the reason through
    ``availability()`` and ``genesis.device(name)`` raises with that reason.
    """


@hookspec
def genesis_register_collectives() -> list[CollectiveBackend]:
    """Return the collective-communication backends this plugin provides (may be none).

    Called once per plugin alongside :func:`genesis_register_backends`. Each object implements
    :class:`genesis.backends.collectives.CollectiveBackend`; its ``name`` is what
    ``genesis.distributed.init_process_group(backend=...)`` accepts. It must import its
    communication library lazily: one that is not installed reports so through
    ``availability()`` (naming the extra to install) instead of failing to register.
    """
