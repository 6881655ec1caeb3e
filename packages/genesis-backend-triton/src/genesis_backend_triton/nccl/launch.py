"""``python -m genesis_backend_triton.nccl.launch script.py [args]``: one rank of an NCCL job.

What ``python -m genesis.distributed.run --backend nccl -n N`` starts in each of its N
processes: it pins the rank to one GPU (``CUDA_VISIBLE_DEVICES`` set to the rank's local
index on its machine, or to that entry of the list already set), then replaces itself with
``python script.py [args]``. Genesis uses the first visible GPU, so each rank gets its own.
Also here: the rank and world size the launcher put in the environment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

#: (rank, world size) variables: Open MPI, MPICH/Hydra and Intel MPI, Slurm, torchrun-style
WORLD_VARIABLES = (("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE"),
                   ("SLURM_PROCID", "SLURM_NTASKS"), ("RANK", "WORLD_SIZE"))
#: the rank's index among the ranks on its machine, in the same launchers' spellings
LOCAL_RANK_VARIABLES = ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID",
                        "LOCAL_RANK")


def _integer(env: Mapping, name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ValueError(f"{name}={env[name]!r}, expected an integer (the launcher sets "
                         "it)") from None


def launcher_world(env: Mapping | None = None) -> tuple[int, int]:
    """``(rank, world_size)`` from the launcher's variables; ``(0, 1)`` when there are none
    (a plain ``python script.py``)."""
    env = os.environ if env is None else env
    for rank_name, size_name in WORLD_VARIABLES:
        if rank_name in env and size_name in env:
            rank, size = _integer(env, rank_name), _integer(env, size_name)
            if size < 1:
                raise ValueError(f"{size_name}={size}, expected a positive number of processes")
            if not 0 <= rank < size:
                raise ValueError(f"{rank_name}={rank}, expected a rank in [0, {size}) "
                                 f"({size_name}={size})")
            return rank, size
    return 0, 1


def local_device(env: Mapping) -> str | None:
    """The ``CUDA_VISIBLE_DEVICES`` entry this rank should use, or None when the launcher
    gives no local rank (leave the GPUs as they are)."""
    name = next((n for n in LOCAL_RANK_VARIABLES if n in env), None)
    if name is None:
        return None
    local = _integer(env, name)
    visible = [d.strip() for d in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    if not visible:
        return str(local)
    if local >= len(visible):
        raise ValueError(f"{name}={local}, but CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']!r}"
                         f" lists {len(visible)} GPUs: start at most one rank per GPU")
    return visible[local]


def main(argv: list) -> None:
    if not argv:
        sys.exit("usage: python -m genesis_backend_triton.nccl.launch script.py [args] "
                 "(or -m module [args])")
    device = local_device(os.environ)
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    os.execv(sys.executable, [sys.executable, *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
