"""Work handles: what ``async_op=True`` returns, and the finishing steps (copying a staged
result back into a non-contiguous tensor, AVG's division) that run once the transfer is done."""

from __future__ import annotations

from collections.abc import Callable

from genesis.distributed._state import _seconds


class Work:
    """A collective in flight (``torch.distributed.Work``): ``wait()`` blocks until it is done
    and its results are in the tensors given; ``is_completed()`` asks without blocking."""

    def __init__(self, impl, timeout: float, finish: Callable[[], None] | None = None,
                 result: Callable[[], object] | None = None) -> None:
        self._impl, self._timeout, self._finish, self._result = impl, timeout, finish, result
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and self._impl.is_completed():
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        """Block until done (raises ``TimeoutError`` past ``timeout``, default: the group's)."""
        if not self._done:
            self._impl.wait(self._timeout if timeout is None else _seconds(timeout))
            self._complete()
        return True

    def result(self):
        """What the operation produced (the sender's rank for ``irecv``), after ``wait``."""
        self.wait()
        return None if self._result is None else self._result()

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()


def run(work: Work, async_op: bool):
    """``async_op``: hand back the handle; otherwise wait and return None (PyTorch)."""
    if async_op:
        return work
    work.wait()
    return None
