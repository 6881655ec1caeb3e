"""Fault scenarios on 2 ranks: ``worker_faults.py OUT_DIR SCENARIO``.

- ``raise``: rank 1 raises while rank 0 waits in a collective: the job must end non-zero with
  rank 1's traceback (the exception hook aborts the communicator).
- ``timeout``: rank 0 never joins the collective: rank 1 must raise TimeoutError (and, its
  collective still blocked, the job aborts when it exits).
- ``mismatch``: the ranks all-reduce different shapes in debug mode: both raise naming both.
"""

from __future__ import annotations

import sys
import time

import genesis
import genesis.distributed as dist
from mpi_jobs import Checks


def main(out_dir: str, scenario: str) -> None:
    dist.init_process_group("mpi", timeout=5 if scenario == "timeout" else 120)
    rank = dist.get_rank()
    check = Checks(out_dir, rank)
    if scenario == "raise":
        if rank == 1:
            raise ValueError("rank 1 failed on purpose")
        dist.all_reduce(genesis.ones(4))  # would wait forever without the abort
    elif scenario == "timeout":
        if rank == 1:
            with check("timeout"):
                start = time.monotonic()
                try:
                    dist.all_reduce(genesis.ones(4))
                except TimeoutError as exc:
                    assert "5 s" in str(exc) and time.monotonic() - start < 60, str(exc)
                else:
                    raise AssertionError("no TimeoutError")
        else:
            time.sleep(8)  # past rank 1's timeout, then leave without joining
        check.save()
        return  # the stalled collective is abandoned: no destroy, just exit
    elif scenario == "mismatch":
        with check("mismatch"):
            try:
                dist.all_reduce(genesis.ones(3 + rank, 2))
            except RuntimeError as exc:
                text = str(exc)
                assert "(3, 2)" in text and "(4, 2)" in text, text
            else:
                raise AssertionError("no error for mismatched shapes")
        check.save()
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
