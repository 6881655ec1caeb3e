"""DataLoader(num_workers>0): the same batches as in the main process, seeding as PyTorch,
and failures that are loud, prompt and leave no processes behind."""

import _thread
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import genesis
import genesis.utils.data
import numpy as np
import pytest
import torch
import torch.utils.data as tud
from genesis.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SubsetRandomSampler,
    TensorDataset,
    get_worker_info,
)
from genesis.utils.data._worker import _generate_state, dumps
from torch.utils.data._utils.worker import _generate_state as torch_generate_state
from torch_compare import assert_raises_like_torch


def _children() -> set[int]:
    """Every child process of this one, zombies included (from /proc)."""
    me, out = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                out.add(int(entry))
    return out


@pytest.fixture
def no_leftover_processes():
    """Fails the test if it leaves a child process (a live worker or a zombie) behind."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # spawn's helper process lives as long as this one
    before = _children()
    yield
    assert _children() - before == set()


def _flat(batch):
    """A batch as comparable plain data, dtypes included."""
    if isinstance(batch, genesis.Tensor):
        return ("tensor", batch.dtype.name, batch.shape, batch.numpy().tolist())
    if isinstance(batch, np.ndarray):
        return ("ndarray", batch.dtype.name, batch.tolist())
    if isinstance(batch, dict):
        return {k: _flat(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_flat(b) for b in batch])
    return batch


def _epoch(loader):
    return [_flat(b) for b in loader]


class Records(Dataset):
    """Samples of several types: float32 arrays, ints, floats, strings, tensors."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {
            "x": np.full(2, i, np.float32),
            "n": i,
            "f": i / 4,
            "name": f"s{i}",
            "t": genesis.arange(3, dtype=genesis.float64) * i,
            "pair": (i, genesis.tensor([i], dtype=genesis.int32)),
        }


class Pids(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return os.getpid()


class Ranges(IterableDataset, tud.IterableDataset):
    """0..n-1, each worker taking every num_workers-th element; works with torch and genesis."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = (tud.get_worker_info() or get_worker_info()) if self.shard else None
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(np.arange(start, self.n, step, dtype=np.int64).tolist())

    def __len__(self):
        return self.n


def test_map_style_batches_equal_the_main_process_in_order_values_and_dtypes(
    no_leftover_processes,
):
    for kwargs in (
        {"batch_size": 3},
        {"batch_size": 3, "drop_last": True},
        {"batch_size": 2, "shuffle": True},
        {"batch_size": None},
        {"batch_size": 2, "collate_fn": list},
        {"batch_sampler": "subset"},
    ):
        runs = []
        for workers in ({}, {"num_workers": 2, "pin_memory": True, "timeout": 30}):
            gen = genesis.Generator().manual_seed(3)
            if kwargs.get("batch_sampler"):
                kwargs["batch_sampler"] = BatchSampler(SubsetRandomSampler([6, 1, 3, 4], gen), 3,
                                                       False)
            runs.append(_epoch(DataLoader(Records(), generator=gen, **kwargs, **workers)))
        want, got = runs
        assert got == want, kwargs
    batch = next(iter(DataLoader(Records(), batch_size=4, num_workers=2)))
    assert batch["x"].dtype is genesis.float32 and batch["f"].dtype is genesis.float64
    assert batch["pair"][1].dtype is genesis.int32 and batch["name"] == ["s0", "s1", "s2", "s3"]


def test_tensor_dataset_shuffled_by_a_seeded_generator_matches_for_any_num_workers(
    no_leftover_processes,
):
    ds = TensorDataset(genesis.arange(22.0).reshape(11, 2), genesis.arange(11))
    runs = []
    for num_workers, prefetch in ((0, None), (2, 1), (2, 3)):
        gen = genesis.Generator().manual_seed(11)
        loader = DataLoader(ds, batch_size=4, shuffle=True, generator=gen,
                            num_workers=num_workers, prefetch_factor=prefetch)
        runs.append([_epoch(loader) for _ in range(2)])
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][0] != runs[0][1]  # a new order each epoch
    assert sorted(v for b in runs[0][0] for v in b[1][1][3]) == list(range(11))


def test_iterable_dataset_sharded_by_worker_info_matches_torch(no_leftover_processes):
    for shard, batch_size, drop_last in ((True, 2, False), (True, 3, True), (False, 2, False),
                                         (True, None, False)):
        want = [
            b.tolist() if isinstance(b, torch.Tensor) else b
            for b in tud.DataLoader(Ranges(7, shard), batch_size=batch_size,
                                    drop_last=drop_last, num_workers=2)
        ]
        got = [
            b.tolist() if isinstance(b, genesis.Tensor) else b
            for b in DataLoader(Ranges(7, shard), batch_size=batch_size, drop_last=drop_last,
                                num_workers=2)
        ]
        assert got == want, (shard, batch_size, drop_last)
    main = [b.tolist() for b in DataLoader(Ranges(7), batch_size=2)]
    assert main == [[0, 1], [2, 3], [4, 5], [6]]
    assert len(DataLoader(Ranges(7), batch_size=2, num_workers=2)) == 4


class Draws(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "id": info.id,
            "seed": info.seed,
            "num_workers": info.num_workers,
            "same_dataset": type(info.dataset) is Draws,
            "genesis": genesis.rand(1).item(),
            "numpy": float(np.random.rand()),
            "random": random.random(),
        }


def test_workers_are_seeded_as_pytorch_does(no_leftover_processes):
    assert _generate_state(2**40 + 12345, 1) == torch_generate_state(2**40 + 12345, 1)
    assert get_worker_info() is None
    gen = genesis.Generator().manual_seed(123)
    base = genesis.empty((), dtype=genesis.int64).random_(
        generator=genesis.Generator().manual_seed(123)).item()
    loader = DataLoader(Draws(), batch_size=None, num_workers=2, generator=gen)
    first = list(loader)
    assert [s["id"] for s in first] == [0, 1, 0, 1]  # round-robin, in order
    for s in first[:2]:
        seed = base + s["id"]
        assert s["seed"] == seed and s["num_workers"] == 2 and s["same_dataset"]
        genesis.manual_seed(seed)
        assert s["genesis"] == genesis.rand(1).item()
        assert s["numpy"] == np.random.RandomState(_generate_state(base, s["id"])).rand()
        assert s["random"] == random.Random(seed).random()
    second = list(loader)  # the next epoch draws a new base seed
    assert second[0]["seed"] != first[0]["seed"]
    gen.manual_seed(123)
    assert list(loader) == first  # reproducible


class Offsets(Dataset):
    offset = 0

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.offset + i


def _set_offset(worker_id):
    get_worker_info().dataset.offset = 100 * (worker_id + 1)


def test_worker_init_fn_runs_in_each_worker_and_persistent_workers_survive_epochs(
    no_leftover_processes,
):
    got = [b.item() for b in DataLoader(Offsets(), num_workers=2, worker_init_fn=_set_offset)]
    assert got == [100, 201, 102, 203]
    loader = DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    pids = [b.tolist() for b in loader]
    assert len({p for b in pids for p in b}) == 2 and os.getpid() not in pids[0]
    for _ in range(2):
        it = iter(loader)
        next(it)  # an epoch abandoned half-way leaves no stale batches for the next one
        assert [b.tolist() for b in loader] == pids
    fresh = DataLoader(Pids(), batch_size=2, num_workers=2)
    assert set(next(iter(fresh)).tolist()).isdisjoint(pids[0])
    del loader, it


class Failing(Dataset):
    def __init__(self, action, at=2):
        self.action, self.at = action, at

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == self.at:
            self.action(i)
        return i


def _value_error(i):
    raise ValueError(f"bad sample {i}")


def _key_error(i):
    raise KeyError("missing")


def _sigkill(i):
    os.kill(os.getpid(), signal.SIGKILL)


def _exit3(i):
    os._exit(3)


def _sleep(i):
    time.sleep(30)


def _loader(action, **kwargs):
    return DataLoader(Failing(action), batch_size=None, num_workers=2, **kwargs)


def test_a_worker_exception_is_reraised_with_type_message_and_traceback(
    no_leftover_processes,
):
    it = iter(_loader(_value_error))
    assert [next(it), next(it)] == [0, 1]
    with pytest.raises(ValueError) as info:
        next(it)
    text = str(info.value)
    assert "Caught ValueError in DataLoader worker process 0" in text
    assert "bad sample 2" in text and "_value_error" in text and "Traceback" in text
    assert list(it) == [3, 4, 5]  # nothing else is lost; the workers go on
    with pytest.raises(KeyError, match="missing"):
        list(_loader(_key_error))

    class LocalError(Exception):
        pass

    def local(i):
        raise LocalError("unpicklable class")

    with pytest.raises(RuntimeError, match="LocalError.*unpicklable class"):
        list(_loader(local))
    it = iter(DataLoader(Records(), num_workers=2, worker_init_fn=lambda i: i // 0))
    for worker in (0, 1, 0):  # a failed worker_init_fn fails each of the worker's batches
        with pytest.raises(ZeroDivisionError, match=f"worker process {worker}"):
            next(it)
    del it

    class BadStream(IterableDataset):
        def __iter__(self):
            raise OSError("cannot open the stream")

    it = iter(DataLoader(BadStream(), num_workers=2))
    for _ in range(3):
        with pytest.raises(OSError, match="cannot open the stream"):
            next(it)
    del it
    with pytest.raises(Exception, match="while sending its batch"):
        list(DataLoader(Records(), num_workers=2, batch_size=2, collate_fn=lambda b: lambda: b))


def test_a_killed_or_exiting_worker_is_named_promptly(no_leftover_processes):
    for action, pattern in ((_sigkill, r"worker 0 \(pid \d+\) is killed by signal: SIGKILL"),
                            (_exit3, r"worker 0 \(pid \d+\) exited unexpectedly with exit code 3")):
        for timeout in (0, 20):
            start = time.monotonic()
            with pytest.raises(RuntimeError, match=pattern):
                list(_loader(action, timeout=timeout))
            assert time.monotonic() - start < 5


def test_timeout_raises_and_stops_the_workers(no_leftover_processes):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        list(_loader(_sleep, timeout=0.5))
    assert time.monotonic() - start < 10  # the sleeping worker is terminated, not awaited


def test_keyboard_interrupt_stops_the_workers(no_leftover_processes):
    it = iter(_loader(_sleep))
    next(it)
    next(it)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        next(it)
    assert time.monotonic() - start < 10
    timer.join()
    assert it.shut


SCRIPT = textwrap.dedent("""
    import multiprocessing, os, sys, time
    from genesis.utils.data import DataLoader, Dataset

    class Slow(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i >= 2 and sys.argv[1] == "interrupt":
                time.sleep(60)
            return os.getpid()

    loader = DataLoader(Slow(), batch_size=None, num_workers=2, persistent_workers=True)
    it = iter(loader)
    print(next(it), next(it), flush=True)
    if sys.argv[1] == "interrupt":
        try:
            next(it)
        except KeyboardInterrupt:
            print("interrupted", len(multiprocessing.active_children()), flush=True)
    else:
        list(it)
        time.sleep(60)  # killed here, its workers idle
""")


def _gone(pid, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True  # exited; reaping is up to its new parent (init)
        except OSError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["interrupt", "kill"])
def test_ctrl_c_or_a_killed_main_process_leaves_no_workers(how):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, how], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(set(pids)) == 2, proc.stderr.read()
        time.sleep(0.3)
        if how == "interrupt":  # Ctrl-C: SIGINT to the whole process group
            os.killpg(proc.pid, signal.SIGINT)
            out, err = proc.communicate(timeout=20)
            assert out.split() == ["interrupted", "0"], err
        else:
            proc.kill()
            proc.wait(timeout=20)
        assert all(_gone(pid) for pid in pids)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_in_order_false_yields_every_batch(no_leftover_processes):
    got = [b.item() for b in DataLoader(Offsets(), num_workers=2, in_order=False)]
    assert sorted(got) == [0, 1, 2, 3]


def test_tensors_cross_processes_as_numpy_never_as_backend_objects():
    t = genesis.arange(6, dtype=genesis.float16).reshape(2, 3)
    blob = dumps({"t": t.t(), "g": genesis.ones(2, requires_grad=True),
                  "p": genesis.nn.Parameter(genesis.ones(3))})
    assert b"backend" not in blob and b"storage" not in blob
    back = pickle.loads(blob)
    assert back["t"].dtype is genesis.float16 and back["t"].tolist() == t.t().tolist()
    assert back["g"].requires_grad and back["g"].is_leaf and type(back["g"]) is genesis.Tensor
    assert type(back["p"]) is genesis.nn.Parameter and back["p"].requires_grad


def test_spawn_and_context_objects_load_the_same_batches(no_leftover_processes):
    import multiprocessing

    ds = TensorDataset(genesis.arange(10.0).reshape(5, 2), genesis.arange(5))
    want = _epoch(DataLoader(ds, batch_size=2))
    for ctx in ("spawn", multiprocessing.get_context("fork")):  # spawn: slow, one run only
        got = _epoch(DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context=ctx))
        assert got == want


def test_bad_arguments_raise_like_torch():
    def loader(lib, **kwargs):
        return lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.arange(3)), **kwargs)

    assert_raises_like_torch(lambda lib: loader(lib, num_workers=-1), "num_workers")
    assert_raises_like_torch(lambda lib: loader(lib, timeout=-1), "timeout")
    assert_raises_like_torch(lambda lib: loader(lib, prefetch_factor=2), "prefetch_factor")
    assert_raises_like_torch(lambda lib: loader(lib, persistent_workers=True),
                             "persistent_workers")
    assert_raises_like_torch(lambda lib: loader(lib, multiprocessing_context="fork"),
                             "num_workers")
    assert_raises_like_torch(
        lambda lib: loader(lib, num_workers=2, multiprocessing_context="threads"),
        "multiprocessing_context='threads'")
    assert_raises_like_torch(
        lambda lib: loader(lib, num_workers=2, multiprocessing_context=3), "context")
    assert_raises_like_torch(
        lambda lib: lib.utils.data.DataLoader(Ranges(3), shuffle=True), "shuffle=True")
    assert_raises_like_torch(
        lambda lib: lib.utils.data.DataLoader(Ranges(3), sampler=[0, 1]), "sampler")
    info = genesis.utils.data.WorkerInfo(id=0, num_workers=1, seed=0, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign"):
        info.id = 1


class BrokenSampler(genesis.utils.data.Sampler):
    def __iter__(self):
        raise ValueError("no indices today")

    def __len__(self):
        return 3


def test_an_iterator_that_fails_to_start_stops_its_workers(no_leftover_processes):
    loader = DataLoader(Offsets(), sampler=BrokenSampler(), num_workers=2)
    with pytest.raises(ValueError, match="no indices today"):
        iter(loader)


def test_too_many_workers_warn_and_settings_are_frozen_as_in_torch(monkeypatch,
                                                                    no_leftover_processes):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    with pytest.warns(UserWarning, match="create 2 worker processes in total.*is 1,"):
        assert [b.item() for b in DataLoader(Offsets(), num_workers=2)] == [0, 1, 2, 3]
    for name, value in (("batch_size", 4), ("sampler", None), ("drop_last", True)):
        for lib in (torch, genesis):
            dataset = lib.utils.data.TensorDataset(lib.arange(3))
            with pytest.raises(ValueError, match=f"{name} attribute should not be set after "
                                                 "DataLoader is initialized"):
                setattr(lib.utils.data.DataLoader(dataset), name, value)
