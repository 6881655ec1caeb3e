"""The worker side of ``DataLoader(num_workers>0)``: what runs in each worker process,
what crosses back to the main process, and ``get_worker_info``.

Protocol (PyTorch's): the main process (``_mp_iter.py``) puts ``(task_idx, index)`` on a
worker's own index queue, round-robin over the workers, ``prefetch_factor`` tasks per worker
in flight; every worker puts ``(task_idx, payload)`` on the one shared result queue. A
payload is a batch pickled *in the worker* with Genesis tensors as numpy arrays (rebuilt as
tensors on their device in the main process), an :class:`ExceptionWrapper`, or
``_IterableStop`` once a worker's iterable dataset is exhausted. ``None`` on an index queue
stops a worker; ``_Resume`` starts a persistent worker's next epoch. A worker leaves SIGINT
to the main process, and exits by itself when the main process has died.

Why pickle here: it is only the in-memory channel between the loader and the worker processes
it started itself (``multiprocessing`` queues pickle as well, in PyTorch too). Nothing here
reads a file or data from anywhere else; checkpoints (``genesis.load``) never unpickle.
"""

from __future__ import annotations

import io
import os
import pickle
import queue
import random
import signal
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from genesis._tensor import Tensor
from genesis.utils.data._fetch import create_fetcher

_POLL_S = 0.1  # how often a waiting main process checks that its workers are alive


# --------------------------------------------------------------------------- worker info


class WorkerInfo:
    """What :func:`get_worker_info` returns in a worker: ``id``, ``num_workers``, ``seed``
    and ``dataset`` (the worker's copy). Read-only, as in PyTorch."""

    __initialized = False

    def __init__(self, **kwargs) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a ``DataLoader`` worker process: its :class:`WorkerInfo` (``id``, ``num_workers``,
    ``seed``, ``dataset``); in the main process: ``None``. Use it in
    ``IterableDataset.__iter__`` or a ``worker_init_fn`` to shard the data between workers."""
    return _worker_info


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """numpy's seed for a worker: PyTorch's SeedSequence-like hash of (base_seed, worker_id),
    so workers of one epoch get unrelated numpy streams."""
    init_a, mult_a, init_b, mult_b = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    mix_l, mix_r, xshift, mask = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    const_a = init_a

    def hash_(value: int) -> int:
        nonlocal const_a
        value = (value ^ const_a) & mask
        const_a = (const_a * mult_a) & mask
        value = (value * const_a) & mask
        return (value ^ (value >> xshift)) & mask

    def mix(x: int, y: int) -> int:
        r = (((mix_l * x) & mask) - ((mix_r * y) & mask)) & mask
        return (r ^ (r >> xshift)) & mask

    pool = [hash_(e) for e in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    const_b, state = init_b, []
    for i in range(4):
        v = (pool[i] ^ const_b) & mask
        const_b = (const_b * mult_b) & mask
        v = (v * const_b) & mask
        state.append((v ^ (v >> xshift)) & mask)
    return state


def _seed_worker(base_seed: int, worker_id: int) -> int:
    from genesis.random import manual_seed

    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


# --------------------------------------------------------------------------- payloads


class ExceptionWrapper:
    """An exception raised in a worker, as its type, message and formatted traceback."""

    def __init__(self, where: str) -> None:
        exc_type, exc, tb = sys.exc_info()
        try:
            pickle.loads(pickle.dumps(exc_type))
            self.exc_type = exc_type
        except Exception:  # a class pickle cannot name (defined in a function): say its name
            self.exc_type = RuntimeError
            where = f"({exc_type.__qualname__}) {where}"
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        """Raise the exception in the main process, as PyTorch: the same type, with the
        worker's traceback in the message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:  # KeyError repr()s its argument: keep the text readable
            raise KeyError(_KeyErrorMessage(msg))
        try:
            exc = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        try:
            raise exc
        finally:  # no frame -> exception -> traceback -> frame cycle keeping the workers alive
            exc = None


class _KeyErrorMessage(str):
    def __repr__(self) -> str:
        return str(self)


@dataclass
class _IterableStop:
    """A worker's iterable dataset is exhausted for this epoch."""

    worker_id: int


@dataclass
class _Resume:
    """Start the next epoch of a persistent worker (sent, and echoed back as the task id)."""


def _rebuild_tensor(array: np.ndarray, dtype_name: str, device: str, requires_grad: bool,
                    cls: type = Tensor):
    from genesis._dtype import dtype_from_name
    from genesis._ops.creation import tensor

    out = tensor(array, dtype=dtype_from_name(dtype_name), device=device,
                 requires_grad=requires_grad)
    if cls is not Tensor:
        out.__class__ = cls  # a Parameter stays a Parameter (subclasses add no slots)
    return out


class _Pickler(pickle.Pickler):
    """Pickles Genesis tensors (and subclasses such as ``Parameter``) as numpy arrays plus
    dtype, device, ``requires_grad`` and class, never the backend objects behind them."""

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            array = obj.detach().numpy()
            return _rebuild_tensor, (array, obj.dtype.name, str(obj.device), obj.requires_grad,
                                     type(obj))
        return NotImplemented


def dumps(obj) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


# --------------------------------------------------------------------------- worker side


def _make_fetcher(init, where: str, *args):
    """``(fetcher, None)``, or ``(None, ExceptionWrapper)`` when ``init()`` or the fetcher
    (``iter(dataset)``) raises."""
    try:
        if init is not None:
            init()
        return create_fetcher(*args), None
    except Exception:
        return None, ExceptionWrapper(where)


def _worker_loop(worker_id: int, num_workers: int, payload, index_queue, result_queue,
                 done_event, base_seed: int, parent_pid: int) -> None:
    """The body of a worker process (``payload``: the dataset and friends, or their pickle
    when the process was not forked)."""
    global _worker_info
    # Ctrl-C reaches the whole process group: the main process alone handles it (it stops the
    # workers), so a worker is not killed half-way through a batch with a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if isinstance(payload, bytes):
            payload = pickle.loads(payload)
        dataset, iterable, auto_collation, collate_fn, drop_last, init_fn = payload
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        fetcher, init_error = _make_fetcher(lambda: init_fn(worker_id) if init_fn else None,
                                            where, iterable, dataset, auto_collation,
                                            collate_fn, drop_last)
        ended = False
        while True:
            try:
                r = index_queue.get(timeout=_POLL_S * 5)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the main process died: nobody to serve
                    break
                continue
            if r is None:
                break
            if isinstance(r, _Resume):
                ended = False
                fetcher, init_error = _make_fetcher(None, where, iterable, dataset,
                                                    auto_collation, collate_fn, drop_last)
                result_queue.put((r, None))
                continue
            if done_event.is_set() or ended:
                continue
            task_idx, index = r
            if fetcher is None:  # worker_init_fn or iter(dataset) failed: every task says so
                data = init_error
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = ExceptionWrapper(where)
                    else:
                        data, ended = _IterableStop(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where)
            try:
                blob = dumps(data)
            except Exception:  # an unpicklable batch is an error in the main process too
                blob = dumps(ExceptionWrapper(f"{where} while sending its batch"))
            result_queue.put((task_idx, blob))
            del data, r
    except KeyboardInterrupt:  # raised by a handler the dataset installed: stop quietly
        pass
    if done_event.is_set():
        result_queue.cancel_join_thread()
    result_queue.close()
