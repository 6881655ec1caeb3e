"""What a benchmark figure depends on besides the code: the machine, its BLAS, the versions.

Recorded with every results file, because the same code gives different ratios on another
machine (a different CPU, BLAS or core count moves the matmul-bound rows most).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
from pathlib import Path

# variables that change how many threads or which kernels the libraries use
ENVIRONMENT = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_THREAD_TIMEOUT",
               "GENESIS_CPU_COMPILED", "GENESIS_BACKENDS")
PACKAGES = ("genesis-core", "genesis-backend-cpu", "genesis-optim")


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return found.group(1).strip() if found else platform.machine()


def numpy_blas() -> str:
    import numpy as np

    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return f"{blas['name']} {blas.get('version', '')}".strip()


def torch_blas() -> str:
    import torch

    config = torch.__config__.show()
    name = re.search(r"BLAS_INFO=(\w+)", config)
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    return " ".join(x for x in (name and name.group(1), mkl and mkl.group(1)) if x) or "unknown"


def git_commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" (uncommitted changes)" if dirty else "")


def version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe() -> dict:
    """``{"machine": ..., "versions": ...}`` of the running process."""
    import torch

    numba = version("numba")
    threads = {"torch": torch.get_num_threads()}
    if numba is not None:
        import numba as nb

        threads["numba"] = nb.config.NUMBA_NUM_THREADS
    machine = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "numpy_blas": numpy_blas(),
        "torch_blas": torch_blas(),
        "threads": threads,
        "environment": {k: os.environ[k] for k in ENVIRONMENT if k in os.environ},
    }
    versions = {"python": platform.python_version(), "numpy": version("numpy"),
                "torch": torch.__version__, "numba": numba, "genesis_commit": git_commit()}
    versions.update({name: version(name) for name in PACKAGES})
    return {"machine": machine, "versions": versions}
