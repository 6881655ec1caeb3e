"""Collective backend ``"nccl"``: genesis.distributed over NCCL, for tensors on device ``"cuda"``.

Rank and world size come from the launcher's environment (:mod:`.launch`). With one process
no MPI is involved; with more, rank 0's ``ncclUniqueId`` reaches the others over MPI
(mpi4py), which also carries the object collectives' bytes and ends the job on a fault.

Stream order: every NCCL call is enqueued on the *legacy default stream* (the NULL stream).
Triton launches Genesis's kernels there (torch-free it uses the device's default stream; with
torch loaded, torch's current stream, which is that same NULL stream unless a program
switches streams) and pycuda's copies are synchronous with it, so NCCL reads its inputs after
the kernels that wrote them and later kernels and copies see its results, with no extra
events. A :class:`NCCLWork` records one CUDA event after its calls; ``wait()`` blocks the
host until that event has completed (or the timeout passes: then ``ncclCommAbort``).
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import os
import sys
import time
import weakref
from itertools import accumulate

import numpy as np

from genesis_backend_triton.nccl._library import (
    BYTES,
    NCCL_IN_PROGRESS,
    NCCL_SUCCESS,
    REDUCE_OPS,
    NCCLError,
    NCCLMissingError,
    UniqueId,
    load,
    reduce_types,
)
from genesis_backend_triton.nccl.launch import launcher_world

__all__ = ["NCCLCollectives", "NCCLProcessGroup", "NCCLWork"]

STREAM = None  # the legacy default stream (see the module docstring)
MAX = REDUCE_OPS["max"]

INSTALL_MPI = ("install genesis-backend-cpu's [mpi] extra from the Genesis repository "
               "(`pip install \"./packages/genesis-backend-cpu[mpi]\"` from a checkout)")


def _mpi():
    from mpi4py import MPI
    return MPI


def _driver():
    import pycuda.driver as cuda
    return cuda


def _cuda_backend():
    from genesis.backends import registry
    return registry.get("cuda")


class _Job:
    """Process-wide state: the live communicators (aborted together on a fault) and whether
    an MPI exchange timed out (its request may stay pending: end the job at exit)."""

    groups: weakref.WeakSet = weakref.WeakSet()
    mpi_timed_out = False
    exit_hook = False


def _abort_job_if_stuck() -> None:
    """Runs before mpi4py's MPI_Finalize, which would hang on a pending exchange."""
    if _Job.mpi_timed_out:
        sys.stderr.write("genesis.distributed: an NCCL process group timed out; aborting the "
                         "job\n")
        sys.stderr.flush()
        _mpi().COMM_WORLD.Abort(1)


class NCCLCollectives:
    """The ``"nccl"`` collective backend (GPU memory, device ``"cuda"``)."""

    name = "nccl"
    devices = ("cuda",)

    def availability(self) -> tuple[bool, str]:
        try:
            load()
        except NCCLMissingError as exc:
            return False, str(exc)
        if os.environ.get("TRITON_INTERPRET", "0") == "1":
            return False, ("TRITON_INTERPRET=1 keeps 'cuda' tensors in host memory (Triton's "
                           "interpreter) and NCCL moves GPU memory: unset it on a host with an "
                           "NVIDIA GPU, or use backend 'mpi' for host tensors")
        ok, why = _cuda_backend().availability()
        if not ok:
            return False, f"device 'cuda' is unavailable: {why}"
        try:
            size = launcher_world()[1]
        except ValueError as exc:
            return False, str(exc)
        if size > 1 and importlib.util.find_spec("mpi4py") is None:
            return False, (f"a job of {size} processes exchanges NCCL's unique id over MPI, and "
                           f"mpi4py is not installed; {INSTALL_MPI}")
        return True, ""

    def init_world(self) -> NCCLProcessGroup:
        ok, why = self.availability()
        if not ok:
            raise RuntimeError(why)
        _cuda_backend().rt  # noqa: B018 -- makes GPU 0's primary context current (NCCL's too)
        rank, size = launcher_world()
        if size == 1:
            return NCCLProcessGroup(None, 0, 1, owned=False)
        comm = _mpi().COMM_WORLD
        if (comm.Get_rank(), comm.Get_size()) != (rank, size):
            raise RuntimeError(f"the launcher's environment says rank {rank} of {size}, but MPI "
                               f"sees rank {comm.Get_rank()} of {comm.Get_size()}: start the job "
                               "with `python -m genesis.distributed.run --backend nccl -n N`")
        return NCCLProcessGroup(comm, rank, size, owned=False)

    def launch_command(self, nprocs: int, argv: list, hostfile: str | None) -> list:
        """MPI's launch command (NCCL bootstraps over MPI), each rank started through
        :mod:`genesis_backend_triton.nccl.launch`, which pins it to its own GPU."""
        from genesis.backends import registry
        mpi = registry.get_collective("mpi")
        ok, why = mpi.availability()
        if not ok:
            raise RuntimeError(f"NCCL jobs start through MPI: {why}")
        python, *rest = argv
        return mpi.launch_command(
            nprocs, [python, "-m", "genesis_backend_triton.nccl.launch", *rest], hostfile)


def _address(t, element: int = 0) -> int:
    """The device address of element ``element`` of contiguous tensor ``t``."""
    return t.storage.ptr + (t.offset + element) * t.dtype.itemsize


def _nbytes(t) -> int:
    return t.numel() * t.dtype.itemsize


def _new_communicator(nccl, mpi_comm, rank: int, size: int) -> ctypes.c_void_p:
    """``ncclCommInitRank`` with rank 0's unique id (sent over ``mpi_comm`` when size > 1)."""
    uid = UniqueId()
    if rank == 0:
        nccl.call("ncclGetUniqueId", ctypes.byref(uid))
    if size > 1:
        raw = np.frombuffer(bytes(uid), np.uint8).copy()
        mpi_comm.Bcast(raw, root=0)
        uid = UniqueId.from_buffer_copy(raw.tobytes())
    comm = ctypes.c_void_p()
    nccl.call("ncclCommInitRank", ctypes.byref(comm), size, uid, rank)
    return comm


class NCCLWork:
    """Calls enqueued on the stream, done when the CUDA event recorded after them is."""

    def __init__(self, group: NCCLProcessGroup, what: str, keep: tuple,
                 source: int | None = None) -> None:
        self._group, self._what, self._keep, self.source = group, what, keep, source
        cuda = _driver()
        self._event = cuda.Event(cuda.event_flags.DISABLE_TIMING)
        self._event.record()  # on the legacy default stream, after the NCCL calls

    def is_completed(self) -> bool:
        if self._event is None:
            return True
        if self._event.query():
            self._event = self._keep = None  # the tensors may be reused or freed now
            return True
        self._group.raise_async_error(self._what)
        return False

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pause = 0.0
        while not self.is_completed():
            if time.monotonic() > deadline:
                self._group.abort_communicator()
                raise TimeoutError(f"NCCL {self._what} did not complete within {timeout:g} s "
                                   "(the process group's timeout): another rank is late, failed, "
                                   "or called a different collective. The communicator is "
                                   "aborted (ncclCommAbort); the process group is unusable now.")
            time.sleep(pause)  # back off from polling so a waiting rank leaves the core free
            pause = min(2 * pause or 1e-5, 1e-3)


class NCCLProcessGroup:
    """A :class:`genesis.backends.collectives.ProcessGroup` over one NCCL communicator (and,
    with several processes, the MPI communicator of the same ranks)."""

    def __init__(self, mpi_comm, rank: int, size: int, owned: bool) -> None:
        self.rank, self.size = rank, size
        self._mpi_comm, self._owned = mpi_comm, owned
        self._nccl = load()
        #: ReduceOp.AVG runs as ncclAvg (NCCL >= 2.10) instead of SUM and a division in core
        self.averages = self._nccl.version >= 21000
        self._comm = _new_communicator(self._nccl, mpi_comm, rank, size)
        self._aborted = False
        self._scratch = None  # barrier's one-byte device buffer
        _Job.groups.add(self)
        if mpi_comm is not None and not _Job.exit_hook:
            _Job.exit_hook = True
            atexit.register(_abort_job_if_stuck)

    # -- issuing ---------------------------------------------------------------------------
    def _start(self, what: str, keep: tuple, calls: list, source: int | None = None) -> NCCLWork:
        """Enqueue ``calls`` (``(function, args)`` without the trailing comm and stream),
        inside ``ncclGroupStart``/``End`` when there are several, then record the event."""
        if self._aborted:
            raise RuntimeError(f"NCCL {what}: the process group was aborted after a timeout or "
                               "an NCCL error; create a new one")
        if len(calls) > 1:
            self._nccl.call("ncclGroupStart")
            try:
                for name, args in calls:
                    self._nccl.call(name, *args, self._comm, STREAM)
            finally:
                self._nccl.call("ncclGroupEnd")
        elif calls:
            name, args = calls[0]
            self._nccl.call(name, *args, self._comm, STREAM)
        return NCCLWork(self, what, keep, source)

    def raise_async_error(self, what: str) -> None:
        """Raise (after aborting the communicator) if NCCL reported an asynchronous error,
        e.g. a peer's network connection failed."""
        if self._aborted:
            return
        code = ctypes.c_int()
        self._nccl.call("ncclCommGetAsyncError", self._comm, ctypes.byref(code))
        if code.value not in (NCCL_SUCCESS, NCCL_IN_PROGRESS):
            self.abort_communicator()
            raise NCCLError(f"NCCL {what} failed: {self._nccl.error_string(code.value)} "
                            f"(ncclResult_t {code.value}); the communicator is aborted")

    def abort_communicator(self) -> None:
        """``ncclCommAbort``: NCCL kernels waiting on this communicator exit, so the stream
        (and any later synchronize) does not hang."""
        if not self._aborted:
            self._aborted = True
            self._nccl.lib.ncclCommAbort(self._comm)

    # -- collectives -----------------------------------------------------------------------
    def all_reduce(self, tensor, op: str) -> NCCLWork:
        dtype, nccl_op = reduce_types(tensor.dtype.name, op)
        n, p = tensor.numel(), _address(tensor)
        return self._start("all_reduce", (tensor,),
                           [("ncclAllReduce", (p, p, n, dtype, nccl_op))] if n else [])

    def broadcast(self, tensor, root: int) -> NCCLWork:
        n, p = _nbytes(tensor), _address(tensor)
        return self._start("broadcast", (tensor,),
                           [("ncclBroadcast", (p, p, n, BYTES, root))] if n else [])

    def reduce(self, tensor, root: int, op: str) -> NCCLWork:
        dtype, nccl_op = reduce_types(tensor.dtype.name, op)
        n, p = tensor.numel(), _address(tensor)  # only root's buffer receives the result
        return self._start("reduce", (tensor,),
                           [("ncclReduce", (p, p, n, dtype, nccl_op, root))] if n else [])

    def all_gather(self, output, tensor) -> NCCLWork:
        n = _nbytes(tensor)
        return self._start("all_gather", (output, tensor), [(
            "ncclAllGather", (_address(tensor), _address(output), n, BYTES))] if n else [])

    def reduce_scatter(self, output, tensor, op: str) -> NCCLWork:
        dtype, nccl_op = reduce_types(tensor.dtype.name, op)
        n = output.numel()
        return self._start("reduce_scatter", (output, tensor), [(
            "ncclReduceScatter", (_address(tensor), _address(output), n, dtype, nccl_op))]
            if n else [])

    # NCCL has no gather, scatter or all-to-all: grouped sends and receives (a rank's part
    # for itself included: NCCL sends to self), as PyTorch's NCCL backend does
    def gather(self, output, tensor, root: int) -> NCCLWork:
        n = _nbytes(tensor)
        calls = []
        if n:
            calls.append(("ncclSend", (_address(tensor), n, BYTES, root)))
            if self.rank == root:
                base = _address(output)
                calls += [("ncclRecv", (base + r * n, n, BYTES, r)) for r in range(self.size)]
        return self._start("gather", (output, tensor), calls)

    def scatter(self, output, tensor, root: int) -> NCCLWork:
        n = _nbytes(output)
        calls = []
        if n:
            if self.rank == root:
                base = _address(tensor)
                calls += [("ncclSend", (base + r * n, n, BYTES, r)) for r in range(self.size)]
            calls.append(("ncclRecv", (_address(output), n, BYTES, root)))
        return self._start("scatter", (output, tensor), calls)

    def all_to_all(self, output, tensor, output_counts: list, input_counts: list) -> NCCLWork:
        item = tensor.dtype.itemsize
        calls = []
        for peer, (count, at) in enumerate(zip(input_counts, _starts(input_counts))):
            if count:
                calls.append(("ncclSend", (_address(tensor, at), count * item, BYTES, peer)))
        for peer, (count, at) in enumerate(zip(output_counts, _starts(output_counts))):
            if count:
                calls.append(("ncclRecv", (_address(output, at), count * item, BYTES, peer)))
        return self._start("all_to_all", (output, tensor), calls)

    def send(self, tensor, dst: int, tag: int) -> NCCLWork:
        n = _nbytes(tensor)  # NCCL has no tags: sends to one peer arrive in order
        return self._start("send", (tensor,),
                           [("ncclSend", (_address(tensor), n, BYTES, dst))] if n else [])

    def recv(self, tensor, src: int | None, tag: int) -> NCCLWork:
        if src is None:
            raise ValueError("irecv: src=None (any rank), but NCCL receives from a given rank; "
                             "pass src")
        n = _nbytes(tensor)
        return self._start("recv", (tensor,),
                           [("ncclRecv", (_address(tensor), n, BYTES, src))] if n else [],
                           source=src)

    def barrier(self) -> NCCLWork:
        """A one-byte all-reduce: its event completes once every rank has joined."""
        if self._scratch is None:
            self._scratch = _cuda_backend().rt.memory.alloc(1)
        p = self._scratch.ptr
        return self._start("barrier", (), [("ncclAllReduce", (p, p, 1, BYTES, MAX))])

    # -- bytes over MPI (object collectives) -----------------------------------------------
    def all_gather_bytes(self, data: bytes, timeout: float) -> list[bytes]:
        if self._mpi_comm is None:
            return [bytes(data)]
        mine = np.frombuffer(data, np.uint8)
        size = np.array([mine.size], np.int64)
        sizes = np.zeros(self.size, np.int64)
        _mpi_wait(self._mpi_comm.Iallgather(size, sizes), timeout, "object all_gather")
        counts = [int(n) for n in sizes]
        out = np.empty(sum(counts), np.uint8)
        _mpi_wait(self._mpi_comm.Iallgatherv(mine, [out, (counts, _starts(counts))]), timeout,
                  "object all_gather")
        return [out[s:s + n].tobytes() for s, n in zip(_starts(counts), counts)]

    def broadcast_bytes(self, data: bytes | None, root: int, timeout: float) -> bytes:
        if self._mpi_comm is None:
            return bytes(data)
        size = np.array([len(data) if self.rank == root else 0], np.int64)
        _mpi_wait(self._mpi_comm.Ibcast(size, root), timeout, "object broadcast")
        buf = (np.frombuffer(data, np.uint8).copy() if self.rank == root
               else np.empty(int(size[0]), np.uint8))
        _mpi_wait(self._mpi_comm.Ibcast(buf, root), timeout, "object broadcast")
        return buf.tobytes()

    # -- groups and teardown ---------------------------------------------------------------
    def new_group(self, ranks: list) -> NCCLProcessGroup | None:
        member = self.rank in ranks
        if self._mpi_comm is None:
            return NCCLProcessGroup(None, 0, 1, owned=False) if member else None
        sub = self._mpi_comm.Split(0 if member else _mpi().UNDEFINED,
                                   ranks.index(self.rank) if member else 0)
        return NCCLProcessGroup(sub, sub.Get_rank(), sub.Get_size(), owned=True) \
            if member else None

    def abort(self, code: int) -> None:
        """Abort every communicator of this process, then end the job (MPI) or process."""
        for group in list(_Job.groups):
            group.abort_communicator()
        sys.stdout.flush()
        sys.stderr.flush()
        if self._mpi_comm is not None:
            _mpi().COMM_WORLD.Abort(code)
        os._exit(code)

    def destroy(self) -> None:
        if not self._aborted:
            self._aborted = True
            self._nccl.call("ncclCommDestroy", self._comm)
        if self._owned and self._mpi_comm is not None:
            self._mpi_comm.Free()
            self._mpi_comm = None


def _mpi_wait(request, timeout: float, what: str) -> None:
    """Test ``request`` until it completes, backing off; ``TimeoutError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = 0.0
    while not request.Test():
        if time.monotonic() > deadline:
            _Job.mpi_timed_out = True
            raise TimeoutError(f"NCCL process group's {what} (over MPI) did not complete within "
                               f"{timeout:g} s: another rank is late or failed")
        time.sleep(pause)
        pause = min(2 * pause or 1e-5, 1e-3)


def _starts(counts: list) -> list:
    """Where each of ``counts`` consecutive parts starts (MPI's displacements)."""
    return list(accumulate(counts, initial=0))[:-1]
