"""What a collective-communication backend implements (``genesis.distributed``'s plugins).

A collective backend is found like a device backend: a plugin in the ``genesis.backends``
entry-point group implements the ``genesis_register_collectives`` hook and returns
:class:`CollectiveBackend` objects; ``init_process_group(backend=name)`` picks one by name.
genesis-backend-cpu ships ``"mpi"`` (host memory, behind its ``[mpi]`` extra); a GPU backend
ships ``"nccl"`` for its device the same way.

The core does everything PyTorch-shaped (argument checks, global-to-group rank translation,
non-contiguous inputs, ``ReduceOp.AVG``, work handles, object collectives, the debug-mode
shape check); a backend moves bytes. Every tensor a :class:`ProcessGroup` method receives is
*contiguous*, lives on one of the backend's ``devices`` and is a Genesis tensor (a view: the
backend reads its ``storage``, ``offset``, ``shape`` and ``dtype`` as its kernels do). Ranks
and roots passed to a process group are ranks *in that group*. Every method starts the
operation and returns a :class:`Work`; nothing blocks until ``Work.wait``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

#: the reductions a backend implements (``ReduceOp.AVG`` is SUM followed by a division, in core,
#: unless the process group's ``averages`` attribute is True: then it also takes ``"avg"``,
#: the mean over ranks of floating-point tensors, as NCCL's ncclAvg)
REDUCE_OPS = ("sum", "product", "min", "max")


@runtime_checkable
class Work(Protocol):
    """A started operation."""

    def is_completed(self) -> bool:
        """Whether it has finished (also drives the transport's progress)."""

    def wait(self, timeout: float) -> None:
        """Block until done; raise ``TimeoutError`` after ``timeout`` seconds."""


@runtime_checkable
class ProcessGroup(Protocol):
    """A set of ranks that communicate; ``rank`` is this process's rank in it."""

    rank: int
    size: int

    def all_reduce(self, tensor: Any, op: str) -> Work:
        """Reduce ``tensor`` over ranks with ``op`` (one of :data:`REDUCE_OPS`), in place."""

    def broadcast(self, tensor: Any, root: int) -> Work:
        """Copy ``root``'s ``tensor`` into every rank's."""

    def reduce(self, tensor: Any, root: int, op: str) -> Work:
        """Like ``all_reduce``, but only ``root``'s ``tensor`` receives the result."""

    def all_gather(self, output: Any, tensor: Any) -> Work:
        """``output`` (``size`` times as many elements) gets every rank's ``tensor``, in rank
        order."""

    def reduce_scatter(self, output: Any, tensor: Any, op: str) -> Work:
        """Reduce ``tensor`` (``size`` equal chunks) over ranks; rank ``r`` keeps chunk ``r``."""

    def gather(self, output: Any | None, tensor: Any, root: int) -> Work:
        """``root``'s ``output`` gets every rank's ``tensor`` (None on the other ranks)."""

    def scatter(self, output: Any, tensor: Any | None, root: int) -> Work:
        """Rank ``r`` gets chunk ``r`` of ``root``'s ``tensor`` (None on the other ranks)."""

    def all_to_all(self, output: Any, tensor: Any, output_counts: list[int],
                   input_counts: list[int]) -> Work:
        """Rank ``r`` sends ``input_counts[j]`` elements (in order) to rank ``j`` and receives
        ``output_counts[j]`` from it."""

    def send(self, tensor: Any, dst: int, tag: int) -> Work:
        """Send ``tensor`` to rank ``dst``."""

    def recv(self, tensor: Any, src: int | None, tag: int) -> Work:
        """Receive into ``tensor`` from ``src`` (None: any rank; the Work's ``source`` says
        which)."""

    def barrier(self) -> Work:
        """Every rank has reached this point when the Work completes."""

    def all_gather_bytes(self, data: bytes) -> list[bytes]:
        """Every rank's ``data`` in rank order, as raw bytes (object collectives decode them;
        a backend must never unpickle what it receives)."""

    def broadcast_bytes(self, data: bytes | None, root: int) -> bytes:
        """``root``'s ``data`` on every rank."""

    def new_group(self, ranks: list[int]) -> ProcessGroup | None:
        """A group of the given ranks of this group, in that order; called by every rank of
        this group; None on the ranks left out."""

    def abort(self, code: int) -> None:
        """End every process of the job now (a rank failed); does not return."""

    def destroy(self) -> None:
        """Release the group's resources."""


@runtime_checkable
class CollectiveBackend(Protocol):
    """One communication library, e.g. MPI or NCCL."""

    #: what ``init_process_group(backend=...)`` calls it
    name: str
    #: the device types whose tensors it communicates
    devices: tuple

    def availability(self) -> tuple[bool, str]:
        """``(True, "")`` or ``(False, why not and what to install)``."""

    def init_world(self) -> ProcessGroup:
        """The group of every process the launcher started (rank and size come from it)."""

    def launch_command(self, nprocs: int, argv: list[str], hostfile: str | None) -> list[str]:
        """The command that starts ``nprocs`` processes each running ``argv`` (a Python
        command line) with this backend's launcher (``python -m genesis.distributed.run``
        runs it), with the flags this machine needs."""


def collective_contract_problems(backend: object) -> list[str]:
    """What ``backend`` lacks of :class:`CollectiveBackend` (empty when it conforms)."""
    problems = []
    name = getattr(backend, "name", None)
    if not isinstance(name, str) or not name:
        problems.append(f"name={name!r}, expected a non-empty string")
    devices = getattr(backend, "devices", None)
    if not isinstance(devices, tuple) or not all(isinstance(d, str) for d in devices):
        problems.append(f"devices={devices!r}, expected a tuple of device type names")
    for method in ("availability", "init_world", "launch_command"):
        if not callable(getattr(backend, method, None)):
            problems.append(f"no method {method}()")
    return problems
