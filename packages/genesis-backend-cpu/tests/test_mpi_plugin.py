"""The ``"mpi"`` collective backend registers through the cpu plugin's entry point without
importing mpi4py, says which extra to install when it is missing, and builds the launch
command with the flags the machine needs."""

from __future__ import annotations

import sys

import genesis_backend_cpu.mpi as mpi
import pytest
from genesis.backends import registry


def test_registered_through_the_entry_point_without_importing_mpi4py():
    assert isinstance(registry.collectives["mpi"], mpi.MPICollectives)
    assert registry.collectives["mpi"].devices == ("cpu",)
    assert "mpi4py.MPI" not in sys.modules  # no test starts MPI in the pytest process


def test_missing_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setattr(mpi.importlib.util, "find_spec", lambda name: None)
    ok, why = mpi.MPICollectives().availability()
    assert not ok and "genesis-backend-cpu[mpi]" in why
    with pytest.raises(RuntimeError, match=r"\[mpi\] extra"):
        mpi.MPICollectives().init_world()


ONE_HEAP = ["-x", "MALLOC_ARENA_MAX=1"]


def _threads(n: int) -> list:
    return ["-x", f"OMP_NUM_THREADS={n}"]


@pytest.mark.parametrize("root,cores,n,flags", [
    (True, 2, 2, ["--allow-run-as-root", *ONE_HEAP, *_threads(1)]),
    (True, 2, 4, ["--allow-run-as-root", "--oversubscribe", *ONE_HEAP, *_threads(1)]),
    (False, 8, 2, [*ONE_HEAP, *_threads(4)]),
    (False, 1, 2, ["--oversubscribe", *ONE_HEAP, *_threads(1)])])
def test_launch_command_adds_open_mpi_flags_when_needed(monkeypatch, root, cores, n, flags):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(mpi, "find_mpiexec", lambda: "/opt/mpi/bin/mpiexec")
    monkeypatch.setattr(mpi, "_is_open_mpi", lambda path: True)
    monkeypatch.setattr(mpi.os, "geteuid", lambda: 0 if root else 1000)
    monkeypatch.setattr(mpi.os, "cpu_count", lambda: cores)
    cmd = mpi.MPICollectives().launch_command(n, ["python", "train.py", "--ddp"], None)
    assert cmd == ["/opt/mpi/bin/mpiexec", *flags, "-n", str(n), "python", "train.py", "--ddp"]


def test_hostfile_replaces_oversubscription(monkeypatch):
    monkeypatch.setattr(mpi, "find_mpiexec", lambda: "mpiexec")
    monkeypatch.setattr(mpi, "_is_open_mpi", lambda path: True)
    monkeypatch.setattr(mpi.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(mpi.os, "cpu_count", lambda: 1)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # the user's own setting is left alone
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # other machines' cores: not set
    cmd = mpi.MPICollectives().launch_command(4, ["python", "t.py"], "hosts.txt")
    assert cmd == ["mpiexec", "--hostfile", "hosts.txt", "-n", "4", "python", "t.py"]


def test_user_thread_count_is_left_alone(monkeypatch):
    monkeypatch.setattr(mpi, "find_mpiexec", lambda: "mpiexec")
    monkeypatch.setattr(mpi, "_is_open_mpi", lambda path: True)
    monkeypatch.setattr(mpi.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(mpi.os, "cpu_count", lambda: 8)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    cmd = mpi.MPICollectives().launch_command(2, ["python", "t.py"], None)
    assert cmd == ["mpiexec", "-n", "2", "python", "t.py"]
