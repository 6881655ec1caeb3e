"""Devices: a device type served by a registered backend, plus an index."""

from __future__ import annotations

from genesis.backends._registry import registry

__all__ = ["Device", "device"]


class Device:
    """``genesis.device("cpu")``, ``genesis.device("cuda:0")``, ``genesis.device("cuda", 1)``.

    Creating a device resolves its backend, so an unknown or unavailable
    device raises here with the reason (missing package, no GPU, ...).
    """

    __slots__ = ("type", "index", "backend")

    def __init__(self, type: str | Device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, Device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type!r}")
        if ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit() or index is not None:
                raise ValueError(f"device: invalid device string {type + ':' + idx!r}; "
                                 "expected 'type' or 'type:index'")
            index = int(idx)
        backend = registry.get(type)
        ok, reason = backend.availability()
        if not ok:
            raise RuntimeError(f"device {type!r} is registered by a backend but unavailable: "
                               f"{reason}")
        index = 0 if index is None else index
        if not isinstance(index, int) or index < 0 or index >= backend.device_count():
            raise ValueError(f"device: index={index!r} out of range for {type!r}, which has "
                             f"{backend.device_count()} device(s)")
        self.type = type
        self.index = index
        self.backend = backend

    def __repr__(self) -> str:
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.type == "cpu" else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, Device) and other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


_cache: dict = {}


def device(spec: str | Device | None = None, index: int | None = None) -> Device:
    """Return the (cached) :class:`Device` for ``spec``; ``None`` means the default, ``cpu``."""
    if isinstance(spec, Device) and index is None:
        return spec
    key = ("cpu" if spec is None else spec, index)
    dev = _cache.get(key)
    if dev is None:
        dev = Device(key[0], index)
        _cache[key] = _cache[(str(dev), None)] = dev
    return dev
