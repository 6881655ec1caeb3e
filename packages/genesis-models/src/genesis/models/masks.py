"""Attention masks and position ids for a forward pass over cached and new positions."""

from __future__ import annotations

import genesis
from genesis import Tensor


def padded_position_ids(attention_mask: Tensor, length: int) -> Tensor:
    """Positions of the last ``length`` tokens counted over real tokens only, so a
    left-padded row gets the positions it would have unpadded (padding slots get 1, as in
    transformers' ``generate``)."""
    mask = attention_mask.to(genesis.int64)
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    return positions[:, -length:]


def additive_mask(attention_mask: Tensor | None, padded: bool, past: int, length: int,
                  window: int | None, dtype: genesis.DType,
                  device: genesis.Device) -> Tensor | None:
    """The additive mask (0 where allowed, -inf elsewhere) for one attention type, shaped
    ``(B or 1, 1, length, past + length)``; None when every
    key is allowed (one new token, no padding, no window that cuts the cache).

    Query ``i`` (cache index ``past + i``) sees key ``j`` when ``j <= past + i``, the key is
    not padding, and, with a sliding ``window``, ``j > past + i - window``.
    """
    total = past + length
    if not padded and length == 1 and (window is None or total <= window):
        return None
    keys = genesis.arange(total, device=device)
    queries = genesis.arange(past, total, device=device).unsqueeze(-1)
    allowed = keys <= queries
    if window is not None:
        allowed = allowed.logical_and(keys > queries - window)
    allowed = allowed.reshape(1, 1, length, total)
    if padded:
        allowed = allowed.logical_and(attention_mask.to(genesis.bool).reshape(-1, 1, 1, total))
    return genesis.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(
        allowed.logical_not(), float("-inf"))
