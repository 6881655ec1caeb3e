"""``python -m genesis.distributed.run -n 2 train.py [args]``: start a data-parallel job
(``-m package.module [args]`` runs a module, as ``torchrun -m`` does).

The collective backend's launcher starts the processes (for ``"mpi"``: the installed MPI's
``mpiexec``, with the flags this machine needs: running as root, more ranks than cores);
each runs ``train.py`` with this Python. ``--hostfile`` spreads the ranks over machines.
The exit status is the job's: non-zero when any rank failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from genesis.backends import registry


def launch_command(nprocs: int, argv: list, backend: str = "mpi",
                   hostfile: str | None = None) -> list:
    """The command line that runs ``argv`` (a script and its arguments, or ``-m module ...``)
    in ``nprocs`` processes with this Python, through ``backend``'s launcher."""
    if not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"nprocs={nprocs!r}, expected a positive number of processes")
    if not argv:
        raise ValueError("argv is empty, expected a script to run (and its arguments)")
    impl = registry.get_collective(backend)
    ok, why = impl.availability()
    if not ok:
        raise RuntimeError(f"backend {backend!r} is unavailable: {why}")
    return impl.launch_command(nprocs, [sys.executable, *argv], hostfile)


def main(args: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesis.distributed.run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--nproc-per-node", "--nprocs", dest="nprocs", type=int,
                        default=1, help="number of processes (ranks)")
    parser.add_argument("--backend", default="mpi", help="collective backend (default: mpi)")
    parser.add_argument("--hostfile", default=None, help="MPI hostfile: the machines to use")
    parser.add_argument("-m", "--module", action="store_true",
                        help="the script is a module name (python -m module)")
    parser.add_argument("script", help="the training script (or module with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    opts = parser.parse_args(args)
    argv = ["-m"] * opts.module + [opts.script, *opts.args]
    cmd = launch_command(opts.nprocs, argv, opts.backend, opts.hostfile)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
