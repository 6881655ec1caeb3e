"""PyTorch's ``map_location`` for :func:`genesis.load`: where each loaded tensor goes.

A tensor's *location* is the device string it was saved from (``"cpu"``,
``"cuda:0"``, ...). ``map_location`` may be, as in ``torch.load``:

* ``None``: every tensor goes back to its saved location;
* a device string or :class:`genesis.Device`: every tensor goes there;
* a dict from saved location to device: mapped locations move, others stay;
* a callable ``(tensor, location) -> tensor or None``, called once per tensor
  with the tensor loaded on the CPU (torch passes the CPU storage); a returned
  tensor is used as it is, ``None`` means "its saved location".
"""

from __future__ import annotations

from collections.abc import Callable

from genesis._device import Device, device
from genesis._tensor import Tensor

__all__ = ["MapLocation", "Placement", "placement"]

MapLocation = str | Device | dict | Callable | None
Placement = Callable[[str, Callable[[str | Device], Tensor]], Tensor]
"""``place(saved_location, build)``: ``build(device)`` makes the tensor on a device."""

_EXPECTED = ("None, a device string such as 'cpu', a genesis.device, a dict from saved location "
             "to device, or a callable (tensor, location) -> tensor or None")


def _device_of(value: object, what: str) -> Device:
    if not isinstance(value, (str, Device)):
        raise TypeError(f"load: {what}={value!r}, expected a device string or genesis.device")
    return device(value)


def placement(map_location: MapLocation) -> Placement:
    """Check ``map_location`` (before anything is read) and return how to place each tensor.

    Raises:
        TypeError: ``map_location`` (or a dict entry) is none of the accepted kinds.
        RuntimeError: a device string is not a device type (see :func:`genesis.device`).
    """
    if map_location is None:
        return lambda saved, build: build(saved)
    if isinstance(map_location, (str, Device)):
        target = _device_of(map_location, "map_location")
        return lambda saved, build: build(target)
    if isinstance(map_location, dict):
        table = {str(_device_of(k, "map_location key")): _device_of(v, f"map_location[{k!r}]")
                 for k, v in map_location.items()}
        return lambda saved, build: build(table.get(str(device(saved)), saved))
    if callable(map_location):
        def place(saved: str, build: Callable[[str | Device], Tensor]) -> Tensor:
            out = map_location(build("cpu"), saved)
            if out is None:
                return build(saved)
            if not isinstance(out, Tensor):
                raise TypeError(f"load: map_location={map_location!r} returned {out!r} for a "
                                f"tensor saved on {saved!r}; expected a genesis.Tensor or None")
            return out
        return place
    raise TypeError(f"load: map_location={map_location!r}, expected {_EXPECTED}")
