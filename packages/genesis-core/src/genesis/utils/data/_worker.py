"""Worker processes of a ``DataLoader(num_workers>0)``: the loop each worker runs, and the
main-process iterator that feeds them indices and hands back their batches in order.

Protocol (PyTorch's): the main process puts ``(task_idx, index)`` on a worker's own index
queue, round-robin over the workers, ``prefetch_factor`` tasks per worker in flight; every
worker puts ``(task_idx, payload)`` on the one shared result queue, and the main process
reorders them by ``task_idx``. A payload is a batch pickled *in the worker* with Genesis
tensors as numpy arrays (rebuilt as tensors on their device in the main process), an
:class:`ExceptionWrapper`, or ``_IterableStop`` once a worker's iterable dataset is
exhausted. ``None`` on an index queue stops a worker; ``_Resume`` starts a persistent
worker's next epoch.

Nothing is lost silently: a worker's exception is re-raised in the main process with its
type, message and traceback; a dead worker (killed by a signal, or exited) is noticed
within a fraction of a second and named; ``timeout`` bounds each wait; on
``KeyboardInterrupt``, errors, exhaustion and garbage collection the workers are stopped
and reaped (joined), so no zombies remain.
"""

from __future__ import annotations

import io
import itertools
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback
import weakref
from dataclasses import dataclass

import numpy as np

from genesis._tensor import Tensor
from genesis.utils.data._fetch import create_fetcher

_POLL_S = 0.1  # how often a waiting main process checks that its workers are alive
_JOIN_S = 5.0  # how long a worker may take to stop at the end of its work before it is killed
_ABORT_S = 0.5  # the same after an error, a timeout or Ctrl-C (it may be stuck in a sample)


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


def _rebuild_tensor(array: np.ndarray, dtype_name: str, device: str, requires_grad: bool):
    from genesis._dtype import dtype_from_name
    from genesis._ops.creation import tensor

    return tensor(array, dtype=dtype_from_name(dtype_name), device=device,
                  requires_grad=requires_grad)


class _Pickler(pickle.Pickler):
    """Pickles Genesis tensors as numpy arrays plus dtype and device, never the backend
    objects behind them."""

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            array = obj.detach().numpy()
            return _rebuild_tensor, (array, obj.dtype.name, str(obj.device), obj.requires_grad)
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


# --------------------------------------------------------------------------- main side


def _describe_exit(worker_id: int, pid: int, exitcode: int) -> str:
    if exitcode < 0:
        sig = -exitcode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        text = signal.strsignal(sig) or name
        return f"DataLoader worker {worker_id} (pid {pid}) is killed by signal: {name} ({text})."
    return (f"DataLoader worker {worker_id} (pid {pid}) exited unexpectedly with exit code "
            f"{exitcode}.")


def _shutdown(workers, index_queues, result_queue, done_event, grace: float = _JOIN_S) -> None:
    """Stop the workers, reap them (no zombies) and close the queues; safe to call twice."""
    done_event.set()
    for w, q in zip(workers, index_queues):
        if w.is_alive():
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
    deadline = time.monotonic() + grace
    for w in workers:
        w.join(max(0.0, deadline - time.monotonic()))
    for w in workers:
        if w.is_alive():
            w.terminate()
            w.join(_JOIN_S)
            if w.is_alive():
                w.kill()
                w.join()
    for q in (*index_queues, result_queue):
        q.cancel_join_thread()
        q.close()


class MultiProcessingIter:
    """The iterator of a ``DataLoader`` with worker processes (one epoch; a persistent one
    is ``reset`` for the next)."""

    def __init__(self, loader) -> None:
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._iterable = loader._iterable
        self._index_sampler = loader._index_sampler
        self._persistent = loader.persistent_workers
        self._in_order = loader.in_order
        self._base_seed = loader._draw_base_seed()
        ctx = loader._mp_context()
        payload = (loader.dataset, self._iterable, loader._auto_collation, loader.collate_fn,
                   loader.drop_last, loader.worker_init_fn)
        if ctx.get_start_method() != "fork":
            payload = dumps(payload)  # tensors travel as numpy, not as backend objects
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []  # filled as the workers start
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self._index_queues,
                                           self._result_queue, self._done_event)
        self._shut = False
        try:
            for i in range(self._num_workers):
                q = ctx.Queue()
                q.cancel_join_thread()
                w = ctx.Process(target=_worker_loop, daemon=True, name=f"DataLoader worker {i}",
                                args=(i, self._num_workers, payload, q, self._result_queue,
                                      self._done_event, self._base_seed, os.getpid()))
                w.start()
                self._index_queues.append(q)
                self._workers.append(w)
            self._start_epoch(first=True)
        except BaseException:  # e.g. Ctrl-C while starting, or a sampler that raises
            self._stop(_ABORT_S)
            raise

    # -- epochs

    def _start_epoch(self, first: bool) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        self._task_info: dict = {}  # task -> (worker,) while in flight, (worker, blob) when early
        self._outstanding = 0
        self._active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first:  # persistent workers: start their next epoch, dropping stale batches
            for q in self._index_queues:
                q.put(_Resume())
            pending = self._num_workers
            while pending:
                idx, _ = self._get()
                pending -= isinstance(idx, _Resume)
        for _ in range(self._prefetch * self._num_workers):
            self._put_index()

    def reset(self) -> MultiProcessingIter:
        """The next epoch of a persistent loader, on the same workers."""
        if self._shut:
            raise RuntimeError("DataLoader: the workers of this iterator have been shut down")
        try:
            self._start_epoch(first=False)
        except BaseException:
            self._stop(_ABORT_S)
            raise
        return self

    @property
    def shut(self) -> bool:
        """Whether the workers have been stopped (this iterator cannot start an epoch)."""
        return self._shut

    # -- feeding and receiving

    def _put_index(self) -> None:
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            w = next(self._worker_cycle)
            if self._active[w]:
                break
        else:
            return
        self._index_queues[w].put((self._send_idx, index))
        self._task_info[self._send_idx] = (w,)
        self._outstanding += 1
        self._send_idx += 1

    def _get(self):
        """The next ``(task_idx, payload)`` from any worker, checking every ``_POLL_S`` that
        all workers live; ``timeout`` bounds the whole wait."""
        start = time.monotonic()
        while True:
            wait = _POLL_S
            if self._timeout > 0:
                left = self._timeout - (time.monotonic() - start)
                if left <= 0:
                    self._stop(_ABORT_S)
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
                wait = min(wait, left)
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                pass
            for i, w in enumerate(self._workers):
                if not w.is_alive():
                    message = _describe_exit(i, w.pid, w.exitcode)
                    self._stop(_ABORT_S)
                    raise RuntimeError(message)

    def __iter__(self) -> MultiProcessingIter:
        return self

    def __next__(self):
        self._worker_error = False
        try:
            return self._next()
        except StopIteration:
            raise
        except BaseException:  # a dead worker, a timeout, Ctrl-C: stop every worker first;
            if not self._worker_error:  # a worker's exception leaves them running (PyTorch)
                self._stop(_ABORT_S)
            raise

    def _next(self):
        if self._shut:
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx:  # skip tasks of exhausted workers
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._active[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._stop()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                data = self._task_info.pop(self._rcvd_idx)[1]
                self._rcvd_idx += 1
                return self._process(data)
            idx, blob = self._get()
            self._outstanding -= 1
            data = pickle.loads(blob)
            if isinstance(data, _IterableStop):
                self._active[data.worker_id] = False
                self._put_index()
                continue
            if idx == self._rcvd_idx:
                del self._task_info[idx]
                self._rcvd_idx += 1
                return self._process(data)
            if not self._in_order:
                del self._task_info[idx]
                return self._process(data)
            self._task_info[idx] += (data,)

    def _process(self, data):
        self._put_index()
        if isinstance(data, ExceptionWrapper):
            self._worker_error = True
            data.reraise()
        return data

    def _stop(self, grace: float = _JOIN_S) -> None:
        if not self._shut:
            self._shut = True
            pending = self._finalizer.detach()
            if pending is not None:
                _, func, args, _ = pending
                func(*args, grace=grace)

    def __del__(self) -> None:
        self._stop()
