"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Each works as a context manager and as a decorator, like PyTorch's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

__all__ = ["is_grad_enabled", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]

F = TypeVar("F", bound=Callable)


class _State:
    enabled = True  # read on every op: a class attribute is the cheapest global


def is_grad_enabled() -> bool:
    """Whether ops currently record the autograd graph."""
    return _State.enabled


class _GradMode:
    _mode: bool

    def __enter__(self) -> None:
        self._prev = _State.enabled
        _State.enabled = self._mode

    def __exit__(self, *exc) -> None:
        _State.enabled = self._prev

    def __call__(self, fn: F) -> F:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _State.enabled
            _State.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _State.enabled = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Context manager / decorator: ops inside record no graph."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Context manager / decorator: re-enable recording inside ``no_grad``."""

    _mode = True


class inference_mode(_GradMode):  # noqa: N801
    """``inference_mode(mode=True)``: like ``no_grad`` (Genesis keeps no version counters or
    view metadata that inference mode could skip, so the two are the same here);
    ``inference_mode(False)`` leaves recording as it is."""

    _active = 0

    def __init__(self, mode: bool = True) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode: mode={mode!r}, expected a bool")
        self._on = mode

    def __enter__(self) -> None:
        self._prev = _State.enabled
        if self._on:
            inference_mode._active += 1
            _State.enabled = False

    def __exit__(self, *exc) -> None:
        if self._on:
            inference_mode._active -= 1
        _State.enabled = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self._on):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_inference_mode_enabled() -> bool:
    """Whether code runs inside an active ``inference_mode()``."""
    return inference_mode._active > 0


class set_grad_enabled(_GradMode):  # noqa: N801
    """``set_grad_enabled(mode)``: sets recording now; as a context manager restores it on exit."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode={mode!r}, expected a bool")
        self._mode = mode
        self._prev = _State.enabled
        _State.enabled = mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _State.enabled = self._prev

    def __call__(self, fn: F) -> F:
        _State.enabled = self._prev  # as a decorator it must not switch the mode at definition
        return super().__call__(fn)
