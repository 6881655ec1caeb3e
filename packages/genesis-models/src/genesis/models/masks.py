"""Attention masks and position ids for a forward pass over cached and new positions."""

from __future__ import annotations

import genesis
from genesis import Tensor


def position_ids_for(attention_mask: Tensor | None, past: int, length: int, batch: int,
                     device: genesis.Device) -> Tensor:
    """Positions of the ``length`` new tokens: counted over real tokens only when a mask is
    given (so a left-padded row gets the positions it would have unpadded; padding slots get
    1, as transformers' ``generate`` does), else ``past .. past + length - 1``."""
    if attention_mask is None:
        return genesis.arange(past, past + length, device=device).unsqueeze(0).expand(
            batch, length)
    mask = attention_mask.to(genesis.int64)
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
    return positions[:, -length:]


def additive_mask(attention_mask: Tensor | None, padded: bool, past: int, length: int,
                  window: int | None, groups: int, dtype: genesis.DType,
                  device: genesis.Device) -> Tensor | None:
    """The additive mask (0 where allowed, -inf elsewhere) for one attention type, shaped
    ``(B or 1, 1, groups * length, past + length)`` to match grouped queries; None when every
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
    if groups > 1:
        allowed = allowed.repeat(1, 1, groups, 1)
    return genesis.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(
        allowed.logical_not(), float("-inf"))
