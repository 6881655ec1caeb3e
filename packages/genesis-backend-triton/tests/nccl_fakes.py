"""Stand-ins for NCCL and CUDA events on host memory (interpreter mode), shared by
test_nccl.py and nccl_bootstrap_worker.py: what NCCL does with one rank, and a recorder."""

from __future__ import annotations

import ctypes
import os
import types

from genesis_backend_triton.nccl import process_group
from genesis_backend_triton.nccl.process_group import NCCLCollectives

#: bytes per element of nccl.h's ncclDataType_t values used here
_ITEM = {0: 1, 1: 1, 2: 4, 4: 8, 6: 2, 7: 4, 8: 8, 9: 2}


class OneRankNCCL:
    """What NCCL does with a single rank, on host addresses: reductions leave their input,
    gathers and scatters copy it; grouped sends to self are matched with receives in order.
    Calls made are recorded (name and arguments) for the assertions."""

    version = 22700

    def __init__(self) -> None:
        self.calls: list = []
        self.group: list | None = None
        self.communicators: list = []  # (size, rank, unique id) of each ncclCommInitRank
        self.lib = types.SimpleNamespace(ncclCommAbort=lambda comm: None)

    def call(self, name: str, *args) -> None:
        self.calls.append((name, args))
        getattr(self, name)(*args)

    def error_string(self, code: int) -> str:
        return f"code {code}"

    def ncclGetUniqueId(self, uid_ref) -> None:
        uid_ref._obj.internal = f"genesis-test-{os.getpid()}-{len(self.calls)}".encode()

    def ncclCommInitRank(self, comm_ref, size, uid, rank) -> None:
        self.communicators.append((size, rank, uid.internal.decode()))

    def ncclCommDestroy(self, comm) -> None:
        pass

    def ncclCommGetAsyncError(self, comm, code) -> None:
        pass

    def ncclGroupStart(self) -> None:
        self.group = []

    def ncclGroupEnd(self) -> None:
        sends = [a for kind, a in self.group if kind == "send"]
        recvs = [a for kind, a in self.group if kind == "recv"]
        assert len(sends) == len(recvs), self.group
        for (src, n), (dst, m) in zip(sends, recvs):
            assert n == m, (n, m)
            ctypes.memmove(dst, src, n)
        self.group = None

    def _copy(self, send, recv, count, dtype) -> None:
        if send != recv:
            ctypes.memmove(recv, send, count * _ITEM[dtype])

    def ncclAllReduce(self, send, recv, count, dtype, op, comm, stream) -> None:
        assert op in (0, 1, 2, 3, 4) and stream is None
        self._copy(send, recv, count, dtype)

    def ncclReduce(self, send, recv, count, dtype, op, root, comm, stream) -> None:
        assert root == 0
        self._copy(send, recv, count, dtype)

    def ncclBroadcast(self, send, recv, count, dtype, root, comm, stream) -> None:
        assert root == 0
        self._copy(send, recv, count, dtype)

    def ncclAllGather(self, send, recv, count, dtype, comm, stream) -> None:
        self._copy(send, recv, count, dtype)

    def ncclReduceScatter(self, send, recv, count, dtype, op, comm, stream) -> None:
        self._copy(send, recv, count, dtype)

    def ncclSend(self, buf, count, dtype, peer, comm, stream) -> None:
        assert peer == 0 and self.group is not None, "a send to self outside a group hangs"
        self.group.append(("send", (buf, count * _ITEM[dtype])))

    def ncclRecv(self, buf, count, dtype, peer, comm, stream) -> None:
        assert peer == 0 and self.group is not None, "a receive from self outside a group hangs"
        self.group.append(("recv", (buf, count * _ITEM[dtype])))


class DoneEvent:
    """A CUDA event whose work is done when recorded (host memory: nothing is asynchronous)."""

    def __init__(self, flags) -> None:
        self.recorded = False

    def record(self) -> None:
        self.recorded = True

    def query(self) -> bool:
        return self.recorded


def install(setattr_, fake) -> None:
    """Make the ``"nccl"`` backend use ``fake`` for NCCL and :class:`DoneEvent` for CUDA
    events; ``setattr_`` is ``monkeypatch.setattr`` (or ``setattr`` in a worker process)."""
    setattr_(process_group, "load", lambda: fake)
    setattr_(NCCLCollectives, "availability", lambda self: (True, ""))
    setattr_(process_group, "_driver", lambda: types.SimpleNamespace(
        Event=DoneEvent, event_flags=types.SimpleNamespace(DISABLE_TIMING=2)))
