"""Devices: a device type served by a registered backend, plus an index."""

from __future__ import annotations

from genesis.backends._registry import TORCH_DEVICE_TYPES, registry
from genesis.backends.protocol import Backend

__all__ = ["Device", "device"]


class Device:
    """``genesis.device("cpu")``, ``genesis.device("cuda:0")``, ``genesis.device("cuda", 1)``.

    As with ``torch.device``, building a device only checks the spelling: the
    type must be one PyTorch knows (:data:`TORCH_DEVICE_TYPES`) or one a
    registered backend serves. ``genesis.device("cuda")`` therefore works on a
    machine without a GPU or without the Triton backend; the error naming the
    reason (no backend installed, no GPU, index out of range, ...) comes when
    :attr:`backend` is first needed, i.e. when memory is first allocated there.
    """

    __slots__ = ("type", "index", "_backend")

    def __init__(self, type: str | Device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, Device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: type={type!r}, expected a string like 'cpu' or 'cuda:0'")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"device: type={type!r} must not include an index because "
                                   f"index={index!r} was passed explicitly")
            type, _, idx = type.partition(":")
            if not (idx.isascii() and idx.isdigit()):
                raise RuntimeError(f"device: invalid device string {type + ':' + idx!r}; "
                                   "expected 'type' or 'type:index' with index >= 0")
            index = int(idx)
        if type not in TORCH_DEVICE_TYPES:
            registry.get(type)  # raises for a type no backend serves, naming those that exist
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device: index={index!r}, expected an int >= 0 or None")
        if index is not None and index < 0:
            raise RuntimeError(f"device: index={index}, expected an int >= 0 or None")
        self.type = type
        self.index = 0 if index is None else index
        self._backend: Backend | None = None

    @property
    def backend(self) -> Backend:
        """The backend serving this device, checked on first use.

        Raises:
            RuntimeError: no registered backend serves this device type, the
                backend is unavailable here (with its reason), or the index is
                beyond the backend's device count.
        """
        if self._backend is None:
            backend = registry.get(self.type)
            ok, reason = backend.availability()
            if not ok:
                raise RuntimeError(f"device {self.type!r} is registered by a backend but "
                                   f"unavailable: {reason}")
            if self.index >= backend.device_count():
                raise RuntimeError(f"device {str(self)!r}: index {self.index} is out of range; "
                                   f"{self.type!r} has {backend.device_count()} device(s) here")
            self._backend = backend
        return self._backend

    def __repr__(self) -> str:
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if (self.type, self.index) == ("cpu", 0) else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        return isinstance(other, Device) and other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


_cache: dict = {}


def device(spec: str | Device | None = None, index: int | None = None) -> Device:
    """Return the (cached) :class:`Device` for ``spec``; ``None`` means the default, ``cpu``.

    Like ``torch.device`` this needs no backend for a PyTorch device type:
    ``genesis.device("cuda")`` works without a GPU, and allocating there raises
    with the reason.
    """
    if isinstance(spec, Device) and index is None:
        return spec
    key = ("cpu" if spec is None else spec, index)
    dev = _cache.get(key)
    if dev is None:
        dev = Device(key[0], index)
        dev = _cache[key] = _cache.setdefault((str(dev), None), dev)
    return dev
