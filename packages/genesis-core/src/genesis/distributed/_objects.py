"""Object collectives through JSON: what a rank receives is parsed as data, never unpickled
(the same rule as checkpoints: bytes from elsewhere never run code here)."""

from __future__ import annotations

import json

from genesis.distributed import _state


def _encode(obj, where: str) -> bytes:
    try:
        return json.dumps(obj, allow_nan=True).encode()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: object {obj!r} is not JSON data (dicts with string keys, "
                        "lists, strings, numbers, booleans and None travel between ranks; "
                        f"pickled objects do not): {exc}") from None


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace the entries of ``object_list`` on every rank with rank ``src``'s (JSON data;
    tuples arrive as lists)."""
    pg = _state.resolve(group)
    if pg.impl is None:
        return
    if not isinstance(object_list, list):
        raise TypeError(f"broadcast_object_list: object_list={object_list!r}, expected a list")
    if src not in pg.ranks:
        raise ValueError(f"broadcast_object_list: src={src!r}, expected a global rank in the "
                         f"group {pg.ranks}")
    root = pg.ranks.index(src)
    data = _encode(object_list, "broadcast_object_list") if pg.impl.rank == root else None
    received = json.loads(pg.impl.broadcast_bytes(data, root, pg.timeout))
    if len(received) != len(object_list):
        raise ValueError(f"broadcast_object_list: object_list has {len(object_list)} entries "
                         f"here but {len(received)} on rank {src}; give every rank a list of "
                         "the same length")
    object_list[:] = received


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[r]`` gets rank ``r``'s ``obj`` (JSON data; one slot per rank)."""
    pg = _state.resolve(group)
    if pg.impl is None:
        return
    if not isinstance(object_list, list) or len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list={object_list!r}, expected a list of "
                         f"{pg.size()} entries (one per rank)")
    parts = pg.impl.all_gather_bytes(_encode(obj, "all_gather_object"), pg.timeout)
    object_list[:] = [json.loads(p) for p in parts]
