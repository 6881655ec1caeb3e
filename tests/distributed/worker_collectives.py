"""Every collective on 2 ranks, checked on each rank against numpy computed from every rank's
input (each rank can rebuild the others' inputs from their seeds).

Run by test_distributed_collectives.py under mpiexec: ``worker_collectives.py OUT_DIR``.
"""

from __future__ import annotations

import sys

import genesis
import genesis.distributed as dist
import numpy as np
from mpi_jobs import Checks

DTYPES = {"float32": genesis.float32, "float64": genesis.float64, "int64": genesis.int64}
SIZES = (0, 1, 7, 33)
LAYOUTS = ("contiguous", "strided")
OPS = {"SUM": lambda xs: xs[0] + xs[1], "PRODUCT": lambda xs: xs[0] * xs[1],
       "MIN": lambda xs: np.minimum(xs[0], xs[1]), "MAX": lambda xs: np.maximum(xs[0], xs[1]),
       "AVG": lambda xs: (xs[0] + xs[1]) / xs[0].dtype.type(2)}


def values(rank: int, n: int, dtype: str, salt: int = 0) -> np.ndarray:
    """Rank ``rank``'s input: small integers (exact in every dtype), distinct per rank."""
    rng = np.random.default_rng([rank, n, salt, len(dtype)])
    return rng.integers(-4, 5, n).astype(dtype)


def tensor(a: np.ndarray, layout: str) -> genesis.Tensor:
    """``a`` as a genesis tensor, contiguous or as a strided view (every other element)."""
    if layout == "contiguous":
        return genesis.tensor(a)
    wide = np.zeros((a.size, 2), a.dtype)
    wide[:, 0] = a
    t = genesis.tensor(wide)[:, 0]
    assert a.size <= 1 or not t.is_contiguous()
    return t


def same(got: genesis.Tensor, want: np.ndarray) -> None:
    g = got.numpy()
    assert g.dtype == want.dtype, (g.dtype, want.dtype)
    np.testing.assert_array_equal(g.reshape(want.shape), want)


def main(out_dir: str) -> None:
    dist.init_process_group("mpi", timeout=60)  # a diverging check fails fast, not hangs
    rank, world = dist.get_rank(), dist.get_world_size()
    check = Checks(out_dir, rank)
    with check("world"):
        assert (world, dist.get_backend(), dist.is_initialized()) == (2, "mpi", True)
        assert dist.is_available() and dist.is_mpi_available()
    cases = [(d, n, lay) for d in DTYPES for n in SIZES for lay in LAYOUTS]
    for d, n, lay in cases:
        xs = [values(r, n, d) for r in range(world)]
        for op, ref in OPS.items():
            if op == "AVG" and d == "int64":
                continue
            with check(f"all_reduce-{op}-{d}-{n}-{lay}"):
                t = tensor(xs[rank], lay)
                dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
                same(t, ref(xs).astype(d))
        for src in (0, 1):
            with check(f"broadcast-src{src}-{d}-{n}-{lay}"):
                t = tensor(xs[rank], lay)
                dist.broadcast(t, src=src)
                same(t, xs[src])
        with check(f"reduce-MAX-dst1-{d}-{n}-{lay}"):
            t = tensor(xs[rank], lay)
            dist.reduce(t, dst=1, op=dist.ReduceOp.MAX)
            same(t, np.maximum(xs[0], xs[1]) if rank == 1 else xs[rank])
        with check(f"all_gather-{d}-{n}-{lay}"):
            outs = [tensor(np.full(n, 9, d), lay) for _ in range(world)]
            dist.all_gather(outs, tensor(xs[rank], lay))
            for r in range(world):
                same(outs[r], xs[r])
        with check(f"all_gather_into_tensor-{d}-{n}-{lay}"):
            out = genesis.zeros(world * n, dtype=DTYPES[d])
            dist.all_gather_into_tensor(out, tensor(xs[rank], lay))
            same(out, np.concatenate(xs))
            stacked = genesis.zeros(n, world, dtype=DTYPES[d]).t()  # (world, n), strided
            dist.all_gather_into_tensor(stacked, tensor(xs[rank], lay))
            same(stacked, np.stack(xs))
        with check(f"reduce_scatter_tensor-SUM-{d}-{n}-{lay}"):
            big = [values(r, world * n, d, salt=1) for r in range(world)]
            out = tensor(np.zeros(n, d), lay)
            dist.reduce_scatter_tensor(out, tensor(big[rank], lay))
            same(out, (big[0] + big[1])[rank * n:(rank + 1) * n])
        with check(f"gather-dst0-{d}-{n}-{lay}"):
            outs = [tensor(np.zeros(n, d), lay) for _ in range(world)] if rank == 0 else None
            dist.gather(tensor(xs[rank], lay), outs, dst=0)
            if rank == 0:
                for r in range(world):
                    same(outs[r], xs[r])
        with check(f"scatter-src1-{d}-{n}-{lay}"):
            parts = [values(r, n, d, salt=2) for r in range(world)]
            out = tensor(np.zeros(n, d), lay)
            dist.scatter(out, [tensor(p, lay) for p in parts] if rank == 1 else None, src=1)
            same(out, parts[rank])
        with check(f"all_to_all_single-even-{d}-{n}-{lay}"):
            ins = [values(r, 2 * n, d, salt=3) for r in range(world)]
            out = tensor(np.zeros(2 * n, d), lay)
            dist.all_to_all_single(out, tensor(ins[rank], lay))
            same(out, np.concatenate([ins[r][rank * n:(rank + 1) * n] for r in range(world)]))
    for d in ("float16", "bfloat16"):
        for op in ("SUM", "MAX"):
            with check(f"all_reduce-{op}-{d}-7-contiguous"):  # reduced in float32, rounded
                xs = [values(r, 7, "float32") for r in range(world)]
                t = genesis.tensor(xs[rank], dtype=getattr(genesis, d))
                dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
                np.testing.assert_array_equal(t.float().numpy(), OPS[op](xs))
        with check(f"reduce_scatter_tensor-SUM-{d}-3"):
            big = [values(r, 2 * 3, "float32", salt=5) for r in range(world)]
            out = genesis.zeros(3, dtype=getattr(genesis, d))
            dist.reduce_scatter_tensor(out, genesis.tensor(big[rank], dtype=getattr(genesis, d)))
            np.testing.assert_array_equal(out.float().numpy(),
                                          (big[0] + big[1])[rank * 3:(rank + 1) * 3])
        with check(f"broadcast-{d}-5"):
            t = genesis.tensor(values(rank, 5, "float32") + 0.5, dtype=getattr(genesis, d))
            dist.broadcast(t, src=1)
            np.testing.assert_array_equal(t.float().numpy(), values(1, 5, "float32") + 0.5)
    for op, ref in (("SUM", np.logical_or), ("PRODUCT", np.logical_and), ("MAX", np.maximum),
                    ("MIN", np.minimum)):
        with check(f"all_reduce-{op}-bool-9"):
            bits = [values(r, 9, "int64") > 0 for r in range(world)]
            t = genesis.tensor(bits[rank])
            dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
            same(t, ref(bits[0], bits[1]))
    with check("all_to_all_single-uneven-2d"):
        # rank r has 3 + r rows of 2; it sends its first r + 1 rows to rank 0, the rest to 1
        rows = [values(r, 2 * (3 + r), "float64", salt=4).reshape(3 + r, 2) for r in range(2)]
        send = [[r + 1, 2] for r in range(2)]
        recv = [[send[src][rank] for src in range(2)]][0]
        out = genesis.zeros(sum(recv), 2, dtype=genesis.float64)
        dist.all_to_all_single(out, genesis.tensor(rows[rank]), recv, send[rank])
        pieces = [rows[src][:send[src][0]] if rank == 0 else rows[src][send[src][0]:]
                  for src in range(2)]
        same(out, np.concatenate(pieces))
    with check("async_all_reduce_and_barrier"):
        x = genesis.tensor(values(rank, 1000, "float64"))
        work = dist.all_reduce(x, async_op=True)
        assert work is not None and work.wait() is True and work.is_completed()
        same(x, values(0, 1000, "float64") + values(1, 1000, "float64"))
        assert dist.barrier() is None
        dist.barrier(async_op=True).wait()
    with check("send_recv_and_isend_irecv"):
        peer = 1 - rank
        mine = genesis.tensor(values(rank, 5, "int64"))
        got = genesis.zeros(5, dtype=genesis.int64)
        if rank == 0:
            dist.send(mine, dst=1)
            assert dist.recv(got, src=1) == 1
        else:
            assert dist.recv(got) == 0  # any source: the sender's rank comes back
            dist.send(mine, dst=0)
        same(got, values(peer, 5, "int64"))
        back = tensor(np.zeros(3, "float32"), "strided")
        works = [dist.isend(genesis.tensor(values(rank, 3, "float32")), dst=peer, tag=7),
                 dist.irecv(back, src=peer, tag=7)]
        for w in works:
            w.wait()
        assert works[1].result() == peer
        same(back, values(peer, 3, "float32"))
    with check("objects_json"):
        objs = [{"lr": 0.1, "rank": rank}, [1, 2]] if rank == 1 else [None, None]
        dist.broadcast_object_list(objs, src=1)
        assert objs == [{"lr": 0.1, "rank": 1}, [1, 2]], objs
        gathered = [None, None]
        dist.all_gather_object(gathered, {"r": rank, "name": f"rank{rank}"})
        assert gathered == [{"r": 0, "name": "rank0"}, {"r": 1, "name": "rank1"}], gathered
    with check("objects_reject_non_json"):
        try:
            dist.all_gather_object([None, None], object())
        except TypeError as exc:
            assert "not JSON data" in str(exc)
        else:
            raise AssertionError("a non-JSON object was sent")
    with check("new_group"):
        solo = dist.new_group([1])
        both = dist.new_group([1, 0])
        assert dist.get_rank(both) == rank and dist.get_world_size(both) == 2
        if rank == 1:
            assert dist.get_rank(solo) == 0 and dist.get_world_size(solo) == 1
            t = genesis.tensor([3.0])
            dist.all_reduce(t, group=solo)
            same(t, np.array([3.0], "float32"))
            assert dist.get_global_rank(solo, 0) == 1
        else:
            assert dist.get_rank(solo) == -1
            assert dist.all_reduce(genesis.tensor([1.0]), group=solo) is None
        t = genesis.tensor([float(rank + 1)])
        dist.broadcast(t, src=1, group=both)  # src is a global rank
        same(t, np.array([2.0], "float32"))
        dist.destroy_process_group(solo)
    with check("bad_arguments_name_the_value"):
        for call, word in ((lambda: dist.broadcast(genesis.tensor([1.0]), src=5), "src=5"),
                           (lambda: dist.all_reduce(np.zeros(2)), "tensor=ndarray"),
                           (lambda: dist.all_reduce(genesis.tensor([1]), op=dist.ReduceOp.AVG),
                            "AVG"),
                           (lambda: dist.all_gather([genesis.zeros(1)], genesis.zeros(1)),
                            "expected 2")):
            try:
                call()
            except (TypeError, ValueError) as exc:
                assert word in str(exc), str(exc)
            else:
                raise AssertionError(f"no error for {word}")
    check.save()
    dist.barrier()
    dist.destroy_process_group()
    assert not dist.is_initialized()


if __name__ == "__main__":
    main(sys.argv[1])
