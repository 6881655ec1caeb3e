"""The process groups of this process: the world group made by ``init_process_group`` and the
subgroups of ``new_group``, with PyTorch's query functions."""

from __future__ import annotations

import datetime
import os
import sys
import traceback

from genesis.backends import registry

DEBUG_ENV = "GENESIS_DISTRIBUTED_DEBUG"
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class ProcessGroup:
    """A set of ranks collectives run over (``torch.distributed.ProcessGroup``).

    ``ranks`` are the global ranks of the members in group-rank order; ``impl`` is the
    backend's :class:`genesis.backends.collectives.ProcessGroup` (None on a non-member).
    """

    def __init__(self, impl, ranks: list, backend: str, timeout: float,
                 devices: tuple) -> None:
        self.impl, self.ranks, self.backend_name, self.timeout = impl, list(ranks), backend, timeout
        self.devices = devices  # the device types the backend communicates

    def rank(self) -> int:
        """This process's rank in the group (-1 when it is not a member)."""
        return -1 if self.impl is None else self.impl.rank

    def size(self) -> int:
        return len(self.ranks)

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self.backend_name!r}, ranks={self.ranks})"


class _World:
    """What ``init_process_group`` set up (one per process)."""

    group: ProcessGroup | None = None
    subgroups: list = []
    debug = False
    previous_excepthook = None


class GroupMember:
    """``dist.group.WORLD`` (and ``GroupMember.WORLD``): the default group, None until
    ``init_process_group``."""

    WORLD: ProcessGroup | None = None


group = GroupMember  # PyTorch's spelling: dist.group.WORLD


def _seconds(timeout, name: str = "timeout") -> float:
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"{name}={timeout!r}, expected a datetime.timedelta or seconds")
    if seconds <= 0:
        raise ValueError(f"{name}={timeout!r}, expected a positive duration")
    return seconds


def is_available() -> bool:
    """Whether a collective backend is installed and usable here."""
    if not registry.loaded:
        registry.load_entry_points()
    return any(b.availability()[0] for b in registry.collectives.values())


def is_backend_available(backend: str) -> bool:
    """Whether the collective backend called ``backend`` is installed and usable."""
    if not registry.loaded:
        registry.load_entry_points()
    found = registry.collectives.get(backend)
    return found is not None and found.availability()[0]


def is_mpi_available() -> bool:
    return is_backend_available("mpi")


def is_nccl_available() -> bool:
    return is_backend_available("nccl")


def is_initialized() -> bool:
    """Whether ``init_process_group`` has run (and ``destroy_process_group`` has not)."""
    return _World.group is not None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | float | None = None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Join the job the launcher (``mpiexec`` or ``python -m genesis.distributed.run``)
    started: rank and world size come from it. ``backend`` names a collective backend
    (``"mpi"``; None: the first available); ``timeout`` bounds every collective (default 30
    minutes). ``world_size``/``rank`` when given must agree with the launcher's;
    ``init_method`` and ``store`` are not used (the launcher connects the processes).

    Set ``GENESIS_DISTRIBUTED_DEBUG=DETAIL`` to check before each collective that every rank
    calls the same one with the same shape and dtype (one extra exchange per call).
    """
    if _World.group is not None:
        raise RuntimeError("trying to initialize the default process group twice; call "
                           "destroy_process_group() first")
    seconds = _seconds(DEFAULT_TIMEOUT if timeout is None else timeout)
    if backend is None:
        if not registry.loaded:
            registry.load_entry_points()
        usable = [n for n, b in sorted(registry.collectives.items()) if b.availability()[0]]
        backend = usable[0] if usable else "mpi"
    if not isinstance(backend, str):
        raise TypeError(f"init_process_group: backend={backend!r}, expected a name such as "
                        "'mpi'")
    name = backend.lower()
    impl_backend = registry.get_collective(name)
    ok, why = impl_backend.availability()
    if not ok:
        raise RuntimeError(f"init_process_group: backend {name!r} is unavailable: {why}")
    impl = impl_backend.init_world()
    for arg, value, actual in (("world_size", world_size, impl.size), ("rank", rank, impl.rank)):
        if value not in (-1, None) and value != actual:
            raise ValueError(f"init_process_group: {arg}={value}, but the launcher started this "
                             f"process with {arg} {actual}")
    world = ProcessGroup(impl, list(range(impl.size)), name, seconds, impl_backend.devices)
    _World.group = GroupMember.WORLD = world
    _World.debug = os.environ.get(DEBUG_ENV, "OFF").upper() == "DETAIL"
    if impl.size > 1:
        _install_abort_hook(world)


def _install_abort_hook(world: ProcessGroup) -> None:
    """A rank dying of an exception must end the job, not leave the others waiting: print
    its traceback, then abort the communicator (every rank exits)."""
    previous = sys.excepthook

    def abort_job(exc_type, exc, tb) -> None:
        print(f"genesis.distributed: rank {world.rank()} failed; aborting the job:",
              file=sys.stderr)
        traceback.print_exception(exc_type, exc, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        world.impl.abort(1)

    _World.previous_excepthook = previous
    sys.excepthook = abort_job


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Release ``group`` (None: every group, and the default group)."""
    if group is not None and group is not _World.group:
        if group.impl is not None:
            group.impl.destroy()
            group.impl = None
        return
    if _World.group is None:
        raise RuntimeError("destroy_process_group: the default process group has not been "
                           "initialized")
    for sub in _World.subgroups:
        if sub.impl is not None:
            sub.impl.destroy()
            sub.impl = None
    _World.group.impl.destroy()
    _World.subgroups = []
    if _World.previous_excepthook is not None:
        sys.excepthook = _World.previous_excepthook
        _World.previous_excepthook = None
    _World.group = GroupMember.WORLD = None


def world() -> ProcessGroup:
    """The default group, or an error saying to initialize it."""
    if _World.group is None:
        raise RuntimeError("Default process group has not been initialized, please make sure "
                           "to call init_process_group.")
    return _World.group


def resolve(group: ProcessGroup | None) -> ProcessGroup:
    pg = world() if group is None else group
    if not isinstance(pg, ProcessGroup):
        raise TypeError(f"group={group!r}, expected a ProcessGroup from new_group or None")
    return pg


def new_group(ranks: list | None = None, timeout: datetime.timedelta | float | None = None,
              backend: str | None = None, pg_options=None) -> ProcessGroup:
    """A group of the given global ``ranks`` (None: all); every rank of the world must call
    it, members or not (as in PyTorch). ``backend`` must be the default group's."""
    w = world()
    members = list(range(w.size())) if ranks is None else [int(r) for r in ranks]
    if sorted(set(members)) != sorted(members) or any(r < 0 or r >= w.size() for r in members):
        raise ValueError(f"new_group: ranks={ranks!r}, expected distinct ranks in "
                         f"[0, {w.size()})")
    if backend is not None and backend.lower() != w.backend_name:
        raise ValueError(f"new_group: backend={backend!r}, expected the default group's "
                         f"{w.backend_name!r}")
    ordered = sorted(members)
    seconds = w.timeout if timeout is None else _seconds(timeout)
    sub = ProcessGroup(w.impl.new_group(ordered), ordered, w.backend_name, seconds, w.devices)
    _World.subgroups.append(sub)
    return sub


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default: the world); -1 when not a member."""
    return resolve(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of ranks in ``group`` (default: the world); -1 when not a member."""
    pg = resolve(group)
    return -1 if pg.impl is None else pg.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The collective backend's name, e.g. ``'mpi'``."""
    return resolve(group).backend_name


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """``global_rank``'s rank inside ``group``."""
    pg = resolve(group)
    if global_rank not in pg.ranks:
        raise ValueError(f"global rank {global_rank} is not part of group {pg}")
    return pg.ranks.index(global_rank)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of ``group``'s rank ``group_rank``."""
    pg = resolve(group)
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"group_rank={group_rank}, expected a rank in [0, {pg.size()})")
    return pg.ranks[group_rank]


def get_process_group_ranks(group: ProcessGroup) -> list:
    """The global ranks of ``group``'s members."""
    return list(resolve(group).ranks)
