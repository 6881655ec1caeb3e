"""The ``"nccl"`` collective backend in one process (world size 1) on a GPU, against numpy.

``python nccl_world1.py`` prints ``nccl world-size-1 check: N checks passed`` (or fails with
the first mismatch); test_nccl.py runs the same checks under pytest. Inputs are produced by
Triton kernels right before each collective and results read by kernels right after, so the
stream order (kernels -> NCCL -> kernels) is exercised too. With one rank every collective is
the identity, which checks the device addresses, byte counts, element types and offsets.
"""

from __future__ import annotations

import sys

import genesis
import genesis.distributed as dist
import numpy as np
from genesis import nn
from genesis.nn.parallel import DistributedDataParallel

DTYPES = ("float32", "float64", "int64")
SIZES = (0, 1, 7, 1 << 18)  # empty, one element, odd, large enough for a real NCCL kernel
Op = dist.ReduceOp


def _source(n: int, dtype: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "int64":
        return rng.integers(-50, 50, n).astype(np.int64)
    return rng.standard_normal(n).astype(dtype)


def _on_gpu(values: np.ndarray):
    """``values * 3 - 1`` computed by Triton kernels on the GPU (and its numpy twin)."""
    t = genesis.tensor(values, dtype=getattr(genesis, str(values.dtype)), device="cuda")
    return t * 3 - 1, values * 3 - 1


def _layouts(n: int, dtype: str, seed: int):
    """``(name, base, view, expected_view)``: a contiguous view at a non-zero storage offset
    and a strided (non-contiguous) view of the same ``base``."""
    base, ref = _on_gpu(_source(2 * n + 3, dtype, seed))
    yield "offset", base, ref, base[3:3 + n], slice(3, 3 + n)
    base, ref = _on_gpu(_source(2 * n + 3, dtype, seed + 1))
    yield "strided", base, ref, base[1:1 + 2 * n:2], slice(1, 1 + 2 * n, 2)


def _expect(got, want: np.ndarray, what: str) -> None:
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    if got.shape != want.shape or not np.array_equal(got, want):
        raise AssertionError(f"{what}: got {got!r}, expected {want!r}")


def check_reductions(dtype: str, n: int) -> int:
    ops = [Op.SUM, Op.PRODUCT, Op.MIN, Op.MAX] + ([Op.AVG] if dtype != "int64" else [])
    checks = 0
    for op in ops:
        for layout, base, ref, view, inside in _layouts(n, dtype, 10 + checks):
            what = f"all_reduce {op} {dtype} n={n} {layout}"
            dist.all_reduce(view, op=op)
            _expect(base, ref, what + " (the whole storage)")
            _expect(view + 1, ref[inside] + 1, what + " read by a kernel")  # stream order
            dist.reduce(view, dst=0, op=op)
            _expect(base, ref, f"reduce {op} {dtype} n={n} {layout} (the whole storage)")
            out = genesis.zeros(n, dtype=view.dtype, device="cuda")
            dist.reduce_scatter_tensor(out, view, op=op)
            _expect(out, ref[inside], f"reduce_scatter_tensor {op} {dtype} n={n} {layout}")
            checks += 3
    return checks


def check_data_movement(dtype: str, n: int) -> int:
    checks = 0
    for layout, base, ref, view, inside in _layouts(n, dtype, 20):
        what = f"{dtype} n={n} {layout}"
        dist.broadcast(view, src=0)
        _expect(base, ref, "broadcast " + what + " (the whole storage)")
        parts = [genesis.full((n,), 5, dtype=view.dtype, device="cuda")]
        dist.all_gather(parts, view)
        _expect(parts[0], ref[inside], "all_gather " + what)
        flat = genesis.zeros(n, dtype=view.dtype, device="cuda")
        dist.all_gather_into_tensor(flat, view)
        _expect(flat, ref[inside], "all_gather_into_tensor " + what)
        gathered = [genesis.zeros(n, dtype=view.dtype, device="cuda")]
        dist.gather(view, gathered, dst=0)
        _expect(gathered[0], ref[inside], "gather " + what)
        target = genesis.zeros(n, dtype=view.dtype, device="cuda")
        dist.scatter(target, [view], src=0)
        _expect(target, ref[inside], "scatter " + what)
        out = genesis.zeros(n, dtype=view.dtype, device="cuda")
        dist.all_to_all_single(out, view)
        _expect(out, ref[inside], "all_to_all_single " + what)
        out = genesis.zeros(n, dtype=view.dtype, device="cuda")
        dist.all_to_all_single(out, view, output_split_sizes=[n], input_split_sizes=[n])
        _expect(out, ref[inside], "all_to_all_single with split sizes " + what)
        checks += 7
    return checks


def check_matrix_views() -> int:
    """A transposed matrix (non-contiguous, 2-D) through all_reduce and broadcast."""
    m, ref = _on_gpu(_source(15, "float32", 3).reshape(3, 5))
    view = m.t()
    dist.all_reduce(view, op=Op.SUM)
    _expect(m, ref, "all_reduce of a transposed matrix")
    dist.broadcast(view, src=0)
    _expect(view, ref.T, "broadcast of a transposed matrix")
    return 2


def check_async_handles() -> int:
    x, ref = _on_gpu(_source(1 << 18, "float32", 4))
    work = dist.all_reduce(x, op=Op.AVG, async_op=True)
    assert isinstance(work, dist.Work), f"async_op=True returned {work!r}, expected a Work"
    assert work.wait() is True
    assert work.is_completed()
    _expect(x * 2, ref * 2, "async all_reduce, read by a kernel after wait()")
    works = [dist.broadcast(t, src=0, async_op=True)
             for t in (_on_gpu(_source(9, "float64", s))[0] for s in range(3))]
    for w in works:
        w.wait()
    assert all(w.is_completed() for w in works)
    barrier = dist.barrier(async_op=True)
    barrier.wait()
    assert barrier.is_completed()
    return 3


def check_groups_and_objects() -> int:
    group = dist.new_group([0])
    x, ref = _on_gpu(_source(5, "float64", 5))
    dist.all_reduce(x, group=group)
    _expect(x, ref, "all_reduce on new_group([0])")
    objects: list = [None]
    dist.all_gather_object(objects, {"rank": dist.get_rank(), "n": 5})
    assert objects == [{"rank": 0, "n": 5}], objects
    sent = [{"backend": "nccl", "step": 1}]
    dist.broadcast_object_list(sent, src=0)
    assert sent == [{"backend": "nccl", "step": 1}], sent
    dist.barrier()
    dist.destroy_process_group(group)
    return 3


def _mlp() -> nn.Module:
    genesis.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 3))


def check_ddp_step() -> int:
    """One DistributedDataParallel SGD step on "cuda" equals the plain step."""
    from genesis.optim import SGD

    rng = np.random.default_rng(6)
    x = genesis.tensor(rng.standard_normal((16, 8)).astype("float32"), device="cuda")
    y = genesis.tensor(rng.integers(0, 3, 16), device="cuda")
    loss_fn = nn.CrossEntropyLoss()
    plain, replica = _mlp().to("cuda"), _mlp().to("cuda")
    ddp = DistributedDataParallel(replica)
    before = [p.detach().numpy() for p in plain.parameters()]
    for model, net in ((plain, plain), (replica, ddp)):
        opt = SGD(model.parameters(), lr=0.5)
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    for i, (a, b, b0) in enumerate(zip(plain.parameters(), replica.parameters(), before)):
        a, b = a.detach().numpy(), b.detach().numpy()
        assert not np.array_equal(a, b0), f"parameter {i} did not change in the plain step"
        diff = float(np.abs(a - b).max())
        assert diff < 1e-6, f"parameter {i}: DDP step differs from the plain step by {diff}"
    return 1


def all_checks(sizes: tuple = SIZES) -> list:
    """``(name, function)`` for every check; each function returns how many it made."""
    checks = [(f"reductions-{d}-{n}", lambda d=d, n=n: check_reductions(d, n))
              for d in DTYPES for n in sizes]
    checks += [(f"data-movement-{d}-{n}", lambda d=d, n=n: check_data_movement(d, n))
               for d in DTYPES for n in sizes]
    checks += [("matrix-views", check_matrix_views), ("async-handles", check_async_handles),
               ("groups-and-objects", check_groups_and_objects), ("ddp-step", check_ddp_step)]
    return checks


def main() -> int:
    dist.init_process_group("nccl")
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "nccl")
    passed = sum(check() for _, check in all_checks())
    dist.destroy_process_group()
    print(f"nccl world-size-1 check: {passed} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
