"""``KVCache``: preallocated per-layer key/value buffers for incremental decoding.

Each layer owns one ``(batch, kv_heads, capacity, head_dim)`` buffer for keys and one
for values. A forward pass writes its new positions in place at ``[length, length +
new)`` and attends over the view ``[:length + new]``: nothing is re-concatenated per
token. When a pass would overflow, the buffers grow geometrically (a rare copy);
``generate`` sizes them for the whole run up front so that never happens.
"""

from __future__ import annotations

import genesis
from genesis import Tensor


class KVCache:
    """Keys and values of every layer for the positions seen so far.

    Args:
        num_layers: decoder layers (one buffer pair each).
        batch_size, num_key_value_heads, head_dim: the buffers' other dims.
        capacity: positions to preallocate.
        dtype, device: of the buffers (the model's).
    """

    def __init__(self, num_layers: int, batch_size: int, num_key_value_heads: int,
                 head_dim: int, capacity: int, dtype: genesis.DType,
                 device: genesis.Device | str) -> None:
        if capacity < 1:
            raise ValueError(f"KVCache: capacity={capacity!r}, expected a positive int")
        self.batch_size = batch_size
        self.length = 0
        self._shape = (batch_size, num_key_value_heads, capacity, head_dim)
        self._dtype, self._device = dtype, device
        self.keys = [self._empty(capacity) for _ in range(num_layers)]
        self.values = [self._empty(capacity) for _ in range(num_layers)]

    def _empty(self, capacity: int) -> Tensor:
        b, h, _, d = self._shape
        return genesis.zeros((b, h, capacity, d), dtype=self._dtype, device=self._device)

    @property
    def capacity(self) -> int:
        """Positions that fit without growing the buffers."""
        return self.keys[0].shape[2] if self.keys else 0

    def get_seq_length(self) -> int:
        """Positions stored (transformers' ``Cache.get_seq_length``)."""
        return self.length

    def reserve(self, new_tokens: int) -> None:
        """Make room for ``new_tokens`` more positions, doubling the capacity when needed."""
        needed = self.length + new_tokens
        if needed <= self.capacity:
            return
        size = max(needed, 2 * self.capacity)
        for store in (self.keys, self.values):
            for i, old in enumerate(store):
                grown = self._empty(size)
                grown[:, :, :self.length] = old[:, :, :self.length]
                store[i] = grown

    def update(self, layer: int, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Write ``key``/``value`` ``(batch, kv_heads, new, head_dim)`` of ``layer`` after the
        stored positions; return views over all positions including the new ones.

        ``length`` moves on only in :meth:`advance`, once every layer has written.
        """
        new = key.shape[2]
        keys, values = self.keys[layer], self.values[layer]
        keys.narrow(2, self.length, new).copy_(key)
        values.narrow(2, self.length, new).copy_(value)
        return keys.narrow(2, 0, self.length + new), values.narrow(2, 0, self.length + new)

    def advance(self, new_tokens: int) -> None:
        """Count ``new_tokens`` positions as stored (called after a full forward pass)."""
        self.length += new_tokens
