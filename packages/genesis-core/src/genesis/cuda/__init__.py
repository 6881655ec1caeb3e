"""``genesis.cuda``: the CUDA device, answered by whichever plugin registers device ``"cuda"``;
``genesis.cuda.amp`` holds PyTorch's deprecated ``torch.cuda.amp`` spellings.

With no such plugin (or no GPU), ``is_available()`` is False and
``device_count()`` is 0; the other helpers raise with the reason.
"""

from __future__ import annotations

from genesis._install import install_hint
from genesis.backends._registry import registry
from genesis.cuda import amp

__all__ = ["is_available", "device_count", "current_device", "synchronize", "memory_allocated",
           "max_memory_allocated", "empty_cache", "reset_peak_memory_stats"]


def _backend(required: bool = True):
    if not registry.loaded:
        registry.load_entry_points()
    b = registry.backends.get("cuda")
    if b is None and required:
        raise RuntimeError("genesis.cuda: no backend provides device 'cuda'; genesis-backend-"
                           f"triton does: {install_hint('genesis-backend-triton')} (and a GPU "
                           "driver, or set TRITON_INTERPRET=1)")
    if required:
        ok, reason = b.availability()
        if not ok:
            raise RuntimeError(f"genesis.cuda: device 'cuda' is unavailable: {reason}")
    return b


def is_available() -> bool:
    """True when a registered backend serves device ``"cuda"`` and says it can run here."""
    b = _backend(required=False)
    return b is not None and b.availability()[0]


def device_count() -> int:
    return _backend().device_count() if is_available() else 0


def current_device() -> int:
    return getattr(_backend(), "current_device", lambda: 0)()


def synchronize(device=None) -> None:
    """Wait for all queued kernels on the device to finish."""
    fn = getattr(_backend(), "synchronize", None)
    if fn is not None:
        fn()


def memory_allocated(device=None) -> int:
    """Bytes currently held by tensors on the device."""
    return _backend().memory_stats()["allocated"]


def max_memory_allocated(device=None) -> int:
    """Peak of :func:`memory_allocated` since start or the last reset."""
    return _backend().memory_stats()["max_allocated"]


def reset_peak_memory_stats(device=None) -> None:
    _backend().reset_peak_memory_stats()


def empty_cache() -> None:
    """Return cached, unused device memory to the driver."""
    _backend().empty_cache()
