"""NCCL through ctypes: finding ``libnccl.so.2``, its C signatures, and nccl.h's enum values.

The library comes from the ``nvidia-nccl-cu12`` wheel of the ``[cuda]`` extra (the CUDA 13
wheel, ``nvidia-nccl-cu13``, installs it at the same place: ``nvidia/nccl/lib``), else from
the system loader. Nothing here touches the GPU: loading the library only maps it.
"""

from __future__ import annotations

import ctypes
import pathlib
import sys

#: how to get NCCL: the extra, from the Genesis repository (never a bare package name)
INSTALL_NCCL = ("install genesis-backend-triton's [cuda] extra from the Genesis repository "
                "(`pip install \"./packages/genesis-backend-triton[cuda]\"` from a checkout), "
                "which brings NCCL as the nvidia-nccl-cu12 wheel (nvidia-nccl-cu13 also works)")

LIBRARY = "libnccl.so.2"

# nccl.h: ncclDataType_t. Reductions use the element type; other collectives move bytes.
NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_INT64 = 0, 1, 2, 4
NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64, NCCL_BFLOAT16 = 6, 7, 8, 9
REDUCE_DTYPES = {"int8": NCCL_INT8, "uint8": NCCL_UINT8, "int32": NCCL_INT32,
                 "int64": NCCL_INT64, "float16": NCCL_FLOAT16, "float32": NCCL_FLOAT32,
                 "float64": NCCL_FLOAT64, "bfloat16": NCCL_BFLOAT16, "bool": NCCL_UINT8}
BYTES = NCCL_UINT8

# nccl.h: ncclRedOp_t (ncclAvg since NCCL 2.10)
REDUCE_OPS = {"sum": 0, "product": 1, "max": 2, "min": 3, "avg": 4}
#: bool reduces as uint8: sum is logical or (max), product logical and (min), as in PyTorch
_BOOL_OPS = {"sum": "max", "product": "min"}

NCCL_SUCCESS, NCCL_IN_PROGRESS = 0, 7  # nccl.h: ncclResult_t
UNIQUE_ID_BYTES = 128  # nccl.h: NCCL_UNIQUE_ID_BYTES


class UniqueId(ctypes.Structure):
    """``ncclUniqueId``: what rank 0 creates and every rank passes to ``ncclCommInitRank``."""

    _fields_ = [("internal", ctypes.c_char * UNIQUE_ID_BYTES)]


class NCCLMissingError(RuntimeError):
    """libnccl.so.2 is not installed (or does not load)."""


class NCCLError(RuntimeError):
    """An NCCL call returned an error."""


def reduce_types(dtype_name: str, op: str) -> tuple[int, int]:
    """``(ncclDataType_t, ncclRedOp_t)`` for reducing ``dtype_name`` elements with ``op``."""
    if op not in REDUCE_OPS:
        raise ValueError(f"op={op!r}, expected one of {sorted(REDUCE_OPS)}")
    if dtype_name not in REDUCE_DTYPES:
        raise ValueError(f"NCCL cannot reduce {dtype_name} tensors (dtype={dtype_name}); "
                         f"expected one of {sorted(REDUCE_DTYPES)}")
    if dtype_name == "bool":
        if op == "avg":
            raise ValueError("op='avg' needs a floating-point tensor, got dtype bool")
        op = _BOOL_OPS.get(op, op)
    return REDUCE_DTYPES[dtype_name], REDUCE_OPS[op]


def wheel_paths() -> list[pathlib.Path]:
    """The ``libnccl.so.2`` files of the nvidia-nccl wheels on ``sys.path``."""
    found = []
    for entry in sys.path:
        base = pathlib.Path(entry or ".") / "nvidia"
        if not base.is_dir():
            continue
        found += [p for p in (base / "nccl" / "lib" / LIBRARY,) if p.is_file()]
        found += sorted(p for p in base.glob(f"cu*/lib/{LIBRARY}") if p.is_file())
    return found


_SIGNATURES = {
    "ncclGetVersion": [ctypes.POINTER(ctypes.c_int)],
    "ncclGetUniqueId": [ctypes.POINTER(UniqueId)],
    "ncclCommInitRank": [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, UniqueId, ctypes.c_int],
    "ncclCommDestroy": [ctypes.c_void_p],
    "ncclCommAbort": [ctypes.c_void_p],
    "ncclCommGetAsyncError": [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)],
    # (sendbuff, recvbuff, count, datatype, op, comm, stream)
    "ncclAllReduce": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p],
    # (sendbuff, recvbuff, count, datatype, root, comm, stream)
    "ncclBroadcast": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p],
    # (sendbuff, recvbuff, count, datatype, op, root, comm, stream)
    "ncclReduce": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                   ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p],
    # (sendbuff, recvbuff, sendcount, datatype, comm, stream)
    "ncclAllGather": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_void_p, ctypes.c_void_p],
    # (sendbuff, recvbuff, recvcount, datatype, op, comm, stream)
    "ncclReduceScatter": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                          ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p],
    # (buff, count, datatype, peer, comm, stream)
    "ncclSend": [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                 ctypes.c_void_p],
    "ncclRecv": [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                 ctypes.c_void_p],
    "ncclGroupStart": [],
    "ncclGroupEnd": [],
}


class NCCL:
    """The loaded library: ``call(name, *args)`` runs an NCCL function and raises
    :class:`NCCLError` with NCCL's message when it fails."""

    def __init__(self, lib: ctypes.CDLL, path: str) -> None:
        self.lib, self.path = lib, path
        for name, argtypes in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = argtypes, ctypes.c_int
        lib.ncclGetErrorString.argtypes, lib.ncclGetErrorString.restype = [ctypes.c_int], \
            ctypes.c_char_p
        version = ctypes.c_int()
        self.call("ncclGetVersion", ctypes.byref(version))
        self.version = version.value  # major * 10000 + minor * 100 + patch (NCCL >= 2.9)

    def call(self, name: str, *args) -> None:
        code = getattr(self.lib, name)(*args)
        if code != NCCL_SUCCESS:
            raise NCCLError(f"{name} failed: {self.error_string(code)} (ncclResult_t {code})")

    def error_string(self, code: int) -> str:
        return self.lib.ncclGetErrorString(code).decode(errors="replace")


_loaded: NCCL | None = None


def load() -> NCCL:
    """The NCCL library (loaded once): the wheel's, else the system loader's, else
    :class:`NCCLMissingError` naming the extra to install."""
    global _loaded
    if _loaded is None:
        tried = []
        for candidate in [*map(str, wheel_paths()), LIBRARY]:
            try:
                _loaded = NCCL(ctypes.CDLL(candidate), candidate)
                break
            except (OSError, AttributeError) as exc:  # absent, or too old (a symbol missing)
                tried.append(f"{candidate}: {exc}")
        else:
            raise NCCLMissingError(f"NCCL ({LIBRARY}) was not found ({'; '.join(tried)}); "
                                  f"for the NCCL collective backend, {INSTALL_NCCL}")
    return _loaded
