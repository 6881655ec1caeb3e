"""The ``"nccl"`` collective backend.

On the CPU: it registers through the cuda plugin's entry point without loading NCCL; a missing
libnccl.so.2 makes ``init_process_group("nccl")`` name the ``[cuda]`` extra; its element
types and reductions are nccl.h's enum values; bad arguments raise naming them; the launcher
pins one GPU per rank. ``test_world1_on_host_memory`` runs the world-size-1 checks of
``nccl_world1.py`` in Triton's interpreter with NCCL replaced by what one rank of NCCL does
(copies between the buffers it is given), which checks every address, byte count and offset
the process group computes. On a GPU (``gpu`` marker): the same checks with the real NCCL.
"""

from __future__ import annotations

import ctypes
import json
import os
import pathlib
import subprocess
import sys

import genesis
import genesis.distributed as dist
import nccl_fakes
import nccl_world1
import pytest
from genesis.backends import registry
from genesis_backend_triton.nccl import _library, launch, process_group
from genesis_backend_triton.nccl.process_group import NCCLCollectives


def test_registered_through_the_entry_point_without_loading_nccl():
    backend = registry.collectives["nccl"]
    assert isinstance(backend, NCCLCollectives)
    assert backend.devices == ("cuda",)
    # in a fresh process: earlier tests in this one may have used the GPU (pycuda) already
    code = ("import sys, genesis.distributed as dist\n"
            "from genesis.backends import registry\n"
            "assert registry.collectives['nccl'].name == 'nccl'\n"
            "print(sorted(m for m in ('mpi4py.MPI', 'pycuda.driver', 'triton') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def _without_nccl(monkeypatch):
    monkeypatch.setattr(_library, "_loaded", None)
    monkeypatch.setattr(_library, "wheel_paths", lambda: [])
    monkeypatch.setattr(_library, "LIBRARY", "libgenesis-test-no-such-nccl.so.2")


def test_missing_library_names_the_cuda_extra(monkeypatch):
    _without_nccl(monkeypatch)
    ok, why = registry.collectives["nccl"].availability()
    assert not ok and "genesis-backend-triton[cuda]" in why and "nvidia-nccl-cu12" in why
    assert not dist.is_nccl_available()
    with pytest.raises(RuntimeError, match=r"backend 'nccl' is unavailable: .*"
                                           r"genesis-backend-triton\[cuda\]"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


def test_wheel_library_is_found_on_sys_path(tmp_path, monkeypatch):
    for wheel in ("nvidia/nccl/lib", "nvidia/cu13/lib"):
        (tmp_path / wheel).mkdir(parents=True)
        (tmp_path / wheel / "libnccl.so.2").write_bytes(b"")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert _library.wheel_paths() == [tmp_path / "nvidia/nccl/lib/libnccl.so.2",
                                      tmp_path / "nvidia/cu13/lib/libnccl.so.2"]


# nccl.h (NCCL 2.x): typedef enum { ncclInt8 = 0, ncclUint8 = 1, ncclInt32 = 2, ncclUint32 = 3,
# ncclInt64 = 4, ncclUint64 = 5, ncclFloat16 = 6, ncclFloat32 = 7, ncclFloat64 = 8,
# ncclBfloat16 = 9 } ncclDataType_t; and typedef enum { ncclSum = 0, ncclProd = 1, ncclMax = 2,
# ncclMin = 3, ncclAvg = 4 } ncclRedOp_t;
NCCL_H_TYPES = {"int8": 0, "uint8": 1, "int32": 2, "int64": 4, "float16": 6, "float32": 7,
                "float64": 8, "bfloat16": 9}
NCCL_H_OPS = {"sum": 0, "product": 1, "max": 2, "min": 3, "avg": 4}


@pytest.mark.parametrize("dtype,op", [  # AVG only for floating point (as core checks)
    (d, o) for d in sorted(NCCL_H_TYPES) for o in sorted(NCCL_H_OPS)
    if o != "avg" or "float" in d])
def test_reduction_types_are_nccl_h_values(dtype, op):
    assert _library.reduce_types(dtype, op) == (NCCL_H_TYPES[dtype], NCCL_H_OPS[op])


def test_bool_reduces_as_uint8_logical_or_and():
    assert _library.reduce_types("bool", "sum") == (1, 2)  # ncclUint8, ncclMax: any
    assert _library.reduce_types("bool", "product") == (1, 3)  # ncclUint8, ncclMin: all
    assert _library.reduce_types("bool", "min") == (1, 3)
    assert _library.BYTES == 1  # data movement counts bytes: ncclUint8


def test_unique_id_is_nccl_h_size():
    assert ctypes.sizeof(_library.UniqueId) == 128  # NCCL_UNIQUE_ID_BYTES


@pytest.mark.parametrize("dtype,op,match", [
    ("int16", "sum", r"cannot reduce int16 tensors \(dtype=int16\)"),
    ("float32", "mean", r"op='mean', expected one of"),
    ("bool", "avg", r"op='avg' needs a floating-point tensor, got dtype bool")])
def test_bad_reductions_name_the_argument(dtype, op, match):
    with pytest.raises(ValueError, match=match):
        _library.reduce_types(dtype, op)


@pytest.mark.parametrize("env,expected", [
    ({}, (0, 1)),
    ({"RANK": "0", "WORLD_SIZE": "1"}, (0, 1)),
    ({"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "4", "RANK": "0",
      "WORLD_SIZE": "1"}, (2, 4)),
    ({"PMI_RANK": "1", "PMI_SIZE": "3"}, (1, 3)),
    ({"SLURM_PROCID": "5", "SLURM_NTASKS": "8"}, (5, 8))])
def test_rank_and_world_size_come_from_the_launcher(env, expected):
    assert launch.launcher_world(env) == expected


@pytest.mark.parametrize("env,match", [
    ({"RANK": "0", "WORLD_SIZE": "two"}, r"WORLD_SIZE='two', expected an integer"),
    ({"RANK": "3", "WORLD_SIZE": "2"}, r"RANK=3, expected a rank in \[0, 2\)"),
    ({"RANK": "0", "WORLD_SIZE": "0"}, r"WORLD_SIZE=0, expected a positive number")])
def test_bad_launcher_environment_names_the_variable(env, match):
    with pytest.raises(ValueError, match=match):
        launch.launcher_world(env)


@pytest.mark.parametrize("env,expected", [
    ({}, None),
    ({"OMPI_COMM_WORLD_LOCAL_RANK": "1"}, "1"),
    ({"LOCAL_RANK": "1", "CUDA_VISIBLE_DEVICES": "4, 6"}, "6"),
    ({"MPI_LOCALRANKID": "0", "CUDA_VISIBLE_DEVICES": "GPU-abc,GPU-def"}, "GPU-abc")])
def test_each_rank_gets_its_own_gpu(env, expected):
    assert launch.local_device(env) == expected


def test_more_ranks_than_visible_gpus_is_an_error():
    with pytest.raises(ValueError, match=r"LOCAL_RANK=2, but CUDA_VISIBLE_DEVICES='0,1' lists "
                                         r"2 GPUs"):
        launch.local_device({"LOCAL_RANK": "2", "CUDA_VISIBLE_DEVICES": "0,1"})


def test_launch_command_runs_each_rank_through_the_gpu_pinning_wrapper(monkeypatch):
    seen = []

    class FakeMPI:
        def availability(self):
            return True, ""

        def launch_command(self, nprocs, argv, hostfile):
            seen.append((nprocs, argv, hostfile))
            return ["mpiexec", "-n", str(nprocs), *argv]

    monkeypatch.setitem(registry.collectives, "mpi", FakeMPI())
    cmd = NCCLCollectives().launch_command(2, ["/py", "train.py", "--x"], None)
    assert cmd == ["mpiexec", "-n", "2", "/py", "-m", "genesis_backend_triton.nccl.launch",
                   "train.py", "--x"]
    assert seen == [(2, cmd[3:], None)]


def test_two_ranks_bootstrap_over_mpi(tmp_path):
    """The backend's launch command starts 2 ranks (MPI, each through the GPU-pinning
    wrapper); NCCL itself is nccl_fakes' recorder, MPI is real (nccl_bootstrap_worker.py)."""
    worker = pathlib.Path(__file__).with_name("nccl_bootstrap_worker.py")
    cmd = NCCLCollectives().launch_command(2, [sys.executable, str(worker), str(tmp_path)], None)
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(TRITON_INTERPRET="1", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    job = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert job.returncode == 0, job.stdout + job.stderr
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    uid = ranks[0]["communicators"][0][2]
    assert uid.startswith("genesis-test-")
    for r, found in enumerate(ranks):
        assert (found["rank"], found["world_size"]) == (r, 2)
        assert found["cuda_visible_devices"] == str(r)  # local rank r: the r-th GPU
        assert found["gathered"] == [{"rank": 0, "uid": uid}, {"rank": 1, "uid": uid}]
        assert found["broadcast"] == [{"from": 1}]
        assert (found["solo_rank"], found["pair_rank"]) == ((-1, 0) if r == 0 else (0, 1))
    # the world, then new_group([1]) (rank 1 alone), then new_group([1, 0]) (ranks sorted)
    assert [c[:2] for c in ranks[0]["communicators"]] == [[2, 0], [2, 0]]
    assert [c[:2] for c in ranks[1]["communicators"]] == [[2, 1], [1, 0], [2, 1]]
    assert ranks[0]["communicators"][1][2] == ranks[1]["communicators"][2][2] != uid


def test_interpreter_mode_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setattr(_library, "load", lambda: object())
    monkeypatch.setattr(process_group, "load", lambda: object())
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    ok, why = NCCLCollectives().availability()
    assert not ok and "TRITON_INTERPRET=1" in why and "GPU memory" in why


# -- one rank of NCCL on host memory ------------------------------------------------------

@pytest.fixture
def one_rank_on_host(monkeypatch):
    if os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip("the one-rank NCCL stand-in copies host memory: interpreter mode only (on "
                    "a GPU, the gpu-marked tests below run the same checks with NCCL)")
    fake = nccl_fakes.OneRankNCCL()
    nccl_fakes.install(monkeypatch.setattr, fake)
    for name in ("RANK", "WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    dist.init_process_group("nccl")
    yield fake
    if dist.is_initialized():
        dist.destroy_process_group()


def test_world1_on_host_memory(one_rank_on_host):
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "nccl")
    (size, rank, uid), = one_rank_on_host.communicators  # no MPI: this process's own id
    assert (size, rank) == (1, 0) and uid.startswith(f"genesis-test-{os.getpid()}-")
    passed = sum(check() for _, check in nccl_world1.all_checks(sizes=(0, 1, 7)))
    assert passed > 100
    names = {name for name, _ in one_rank_on_host.calls}
    assert {"ncclAllReduce", "ncclReduce", "ncclBroadcast", "ncclAllGather",
            "ncclReduceScatter", "ncclSend", "ncclRecv", "ncclGroupStart"} <= names


def test_avg_is_ncclavg_and_empty_tensors_make_no_call(one_rank_on_host):
    x = genesis.tensor([1.0, 2.0], device="cuda")
    one_rank_on_host.calls.clear()
    dist.all_reduce(x, op=dist.ReduceOp.AVG)
    (name, args), = one_rank_on_host.calls
    assert name == "ncclAllReduce" and args[2:5] == (2, NCCL_H_TYPES["float32"], NCCL_H_OPS["avg"])
    one_rank_on_host.calls.clear()
    dist.all_reduce(genesis.zeros(0, device="cuda"))
    dist.all_gather_into_tensor(genesis.zeros(0, device="cuda"), genesis.zeros(0, device="cuda"))
    assert one_rank_on_host.calls == []


def _as_rank(fake, rank: int, size: int):
    """The world group's process, posing as ``rank`` of ``size``: NCCL calls are only recorded."""
    for name in ("ncclSend", "ncclRecv", "ncclGroupEnd", "ncclAllGather", "ncclReduceScatter"):
        setattr(fake, name, lambda *args: None)
    pg = dist.group.WORLD.impl
    pg.rank, pg.size = rank, size
    fake.calls.clear()
    return pg


def _at(t, element: int = 0) -> int:
    return t.storage.ptr + (t.offset + element) * t.dtype.itemsize


def test_gather_and_scatter_plans_for_three_ranks(one_rank_on_host):
    byte = NCCL_H_TYPES["uint8"]  # data movement is counted in bytes
    base = genesis.zeros(10, dtype=genesis.float64, device="cuda")
    t, out = base[2:6], genesis.zeros(12, dtype=genesis.float64, device="cuda")
    pg = _as_rank(one_rank_on_host, 1, 3)
    pg.gather(out, t, 1)
    assert [(n, a[:4]) for n, a in one_rank_on_host.calls] == [
        ("ncclGroupStart", ()), ("ncclSend", (_at(t), 32, byte, 1)),
        ("ncclRecv", (_at(out), 32, byte, 0)), ("ncclRecv", (_at(out, 4), 32, byte, 1)),
        ("ncclRecv", (_at(out, 8), 32, byte, 2)), ("ncclGroupEnd", ())]
    one_rank_on_host.calls.clear()
    pg.scatter(t, None, 0)  # not the root: one receive, no group needed
    assert [(n, a[:4]) for n, a in one_rank_on_host.calls] == [
        ("ncclRecv", (_at(t), 32, byte, 0))]
    one_rank_on_host.calls.clear()
    pg.scatter(t, out, 1)
    assert [(n, a[:4]) for n, a in one_rank_on_host.calls] == [
        ("ncclGroupStart", ()), ("ncclSend", (_at(out), 32, byte, 0)),
        ("ncclSend", (_at(out, 4), 32, byte, 1)), ("ncclSend", (_at(out, 8), 32, byte, 2)),
        ("ncclRecv", (_at(t), 32, byte, 1)), ("ncclGroupEnd", ())]


def test_all_to_all_plan_with_uneven_splits(one_rank_on_host):
    byte = NCCL_H_TYPES["uint8"]
    src = genesis.zeros(6, dtype=genesis.int32, device="cuda")
    dst = genesis.zeros(5, dtype=genesis.int32, device="cuda")
    pg = _as_rank(one_rank_on_host, 2, 3)
    pg.all_to_all(dst, src, [3, 0, 2], [1, 2, 3])
    assert [(n, a[:4]) for n, a in one_rank_on_host.calls] == [
        ("ncclGroupStart", ()), ("ncclSend", (_at(src), 4, byte, 0)),
        ("ncclSend", (_at(src, 1), 8, byte, 1)), ("ncclSend", (_at(src, 3), 12, byte, 2)),
        ("ncclRecv", (_at(dst), 12, byte, 0)), ("ncclRecv", (_at(dst, 3), 8, byte, 2)),
        ("ncclGroupEnd", ())]


def test_all_gather_and_reduce_scatter_counts_for_three_ranks(one_rank_on_host):
    t = genesis.zeros(4, dtype=genesis.float16, device="cuda")
    big = genesis.zeros(12, dtype=genesis.float16, device="cuda")
    pg = _as_rank(one_rank_on_host, 0, 3)
    pg.all_gather(big, t)
    pg.reduce_scatter(t, big, "max")
    assert [(n, a[:-2]) for n, a in one_rank_on_host.calls] == [  # less comm and stream
        ("ncclAllGather", (_at(t), _at(big), 8, NCCL_H_TYPES["uint8"])),
        ("ncclReduceScatter", (_at(big), _at(t), 4, NCCL_H_TYPES["float16"], NCCL_H_OPS["max"]))]


def test_recv_from_any_rank_is_refused(one_rank_on_host):
    group = dist.group.WORLD.impl
    with pytest.raises(ValueError, match=r"src=None \(any rank\), but NCCL receives from a "
                                         r"given rank"):
        group.recv(genesis.zeros(2, device="cuda"), None, 0)


def test_int16_reduction_is_refused_naming_the_dtype(one_rank_on_host):
    with pytest.raises(ValueError, match="cannot reduce int16"):
        dist.all_reduce(genesis.zeros(3, dtype=genesis.int16, device="cuda"))


def test_aborted_group_refuses_further_work(one_rank_on_host):
    dist.group.WORLD.impl.abort_communicator()
    with pytest.raises(RuntimeError, match="the process group was aborted"):
        dist.all_reduce(genesis.ones(2, device="cuda"))


# -- on a GPU, with NCCL ------------------------------------------------------------------

@pytest.fixture(scope="module")
def nccl_world():
    """A world of one process, started by a plain ``python`` (no launcher variables); one
    communicator for the module (creating one takes NCCL a while)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("RANK", "WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"):
            patch.delenv(name, raising=False)
        dist.init_process_group("nccl")
    yield
    dist.destroy_process_group()


@pytest.mark.gpu
@pytest.mark.parametrize("name,check", nccl_world1.all_checks())
def test_world1_on_gpu(nccl_world, name, check):
    assert check() >= 1


@pytest.mark.gpu
def test_world1_from_launcher_variables(monkeypatch):
    """RANK/WORLD_SIZE=1 make a world of one too (the backend directly: the default group
    may be in use by the tests above)."""
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    group = NCCLCollectives().init_world()
    try:
        assert (group.rank, group.size) == (0, 1)
        x = genesis.arange(6, dtype=genesis.float64, device="cuda") * 2
        group.all_reduce(x, "max").wait(60)
        assert x.numpy().tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    finally:
        group.destroy()
