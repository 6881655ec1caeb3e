"""The main-process side of ``DataLoader(num_workers>0)``: start the workers, feed them
indices, hand back their batches in order, and stop them.

Nothing is lost silently: a worker's exception is re-raised with its type, message and
traceback; a dead worker (killed by a signal, or exited) is noticed within ``_POLL_S`` and
named; ``timeout`` bounds each wait; on ``KeyboardInterrupt``, errors, exhaustion and garbage
collection the workers are stopped and joined, so no zombies remain.

Batches arrive pickled by this loader's own workers (see ``_worker``: an in-memory channel
between processes it started, never a file).
"""

from __future__ import annotations

import itertools
import os
import pickle
import queue
import signal
import time
import weakref

from genesis.utils.data._worker import (
    _POLL_S,
    ExceptionWrapper,
    _IterableStop,
    _Resume,
    _worker_loop,
    dumps,
)

_JOIN_S = 5.0  # how long a worker may take to stop at the end of its work before it is killed
_ABORT_S = 0.5  # the same after an error, a timeout or Ctrl-C (it may be stuck in a sample)


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
