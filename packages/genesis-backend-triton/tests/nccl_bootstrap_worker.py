"""One rank of a 2-process ``"nccl"`` job on the CPU (``nccl_bootstrap_worker.py OUT_DIR``),
started by test_nccl.py through the backend's own launch command (MPI + the GPU-pinning
wrapper), with NCCL and CUDA events replaced by nccl_fakes' recorder: what runs for real is
the MPI side, i.e. rank 0's unique id reaching every rank, the object collectives' bytes,
new_group's communicator split and destroy. Writes ``OUT_DIR/rank<r>.json``."""

from __future__ import annotations

import json
import os
import pathlib
import sys

import genesis.distributed as dist
import nccl_fakes


def main(out_dir: str) -> None:
    fake = nccl_fakes.OneRankNCCL()
    nccl_fakes.install(setattr, fake)
    dist.init_process_group("nccl", timeout=60)
    rank = dist.get_rank()
    found = {"rank": rank, "world_size": dist.get_world_size(),
             "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, {"rank": rank, "uid": fake.communicators[0][2]})
    found["gathered"] = gathered
    sent = [{"from": rank}] if rank == 1 else [None]
    dist.broadcast_object_list(sent, src=1)
    found["broadcast"] = sent
    solo = dist.new_group([1])
    pair = dist.new_group([1, 0])
    found["solo_rank"], found["pair_rank"] = dist.get_rank(solo), dist.get_rank(pair)
    found["communicators"] = [list(c) for c in fake.communicators]
    dist.destroy_process_group()
    pathlib.Path(out_dir, f"rank{rank}.json").write_text(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1])
