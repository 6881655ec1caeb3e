"""Rotary position embeddings with the ``rope_scaling`` types of the Llama/Qwen configs.

The inverse frequencies are computed on the host in float32 exactly as transformers'
``modeling_rope_utils`` does (``default``, ``linear``, ``dynamic`` NTK, ``llama3``, ``yarn``);
``cos``/``sin`` for given positions are computed with tensor ops on the model's device.
"""

from __future__ import annotations

import math
from typing import Any

import genesis
import numpy as np
from genesis import Tensor
from genesis.models.config import ModelConfig


def inverse_frequencies(config: ModelConfig, seq_len: int | None = None) -> tuple[np.ndarray,
                                                                                   float]:
    """``(inv_freq, attention_factor)``: float32 ``(head_dim // 2,)`` and the cos/sin scale.

    ``seq_len`` (the largest position + 1) matters only for ``dynamic`` scaling.
    """
    scaling = config.rope_scaling
    kind = scaling["rope_type"]
    dim = config.head_dim
    base = config.rope_theta
    if kind == "dynamic":
        factor = scaling["factor"]
        longest = max(seq_len or 0, config.max_position_embeddings)
        base = base * ((factor * longest / config.max_position_embeddings) - (factor - 1)) ** (
            dim / (dim - 2))
    exponents = np.arange(0, dim, 2, dtype=np.float32) / np.float32(dim)
    pos_freqs = np.power(np.float32(base), exponents, dtype=np.float32)
    inv_freq = (np.float32(1.0) / pos_freqs).astype(np.float32)
    if kind == "linear":
        return (inv_freq / np.float32(scaling["factor"])).astype(np.float32), 1.0
    if kind == "llama3":
        return _llama3(inv_freq, scaling), 1.0
    if kind == "yarn":
        return _yarn(pos_freqs, dim, base, config)
    return inv_freq, 1.0


def _llama3(inv_freq: np.ndarray, scaling: dict[str, Any]) -> np.ndarray:
    """Llama 3.1: long wavelengths divided by ``factor``, a smooth blend in between."""
    factor = scaling["factor"]
    low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
    old_context = scaling["original_max_position_embeddings"]
    wavelen = np.float32(2 * math.pi) / inv_freq
    scaled = np.where(wavelen > old_context / low, inv_freq / np.float32(factor), inv_freq)
    smooth = (old_context / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < old_context / high) & ~(wavelen > old_context / low)
    return np.where(medium, smoothed, scaled).astype(np.float32)


def _yarn(pos_freqs: np.ndarray, dim: int, base: float, config: ModelConfig
          ) -> tuple[np.ndarray, float]:
    """YaRN: interpolate low frequencies, extrapolate high ones, scale attention."""
    scaling = config.rope_scaling
    original = scaling["original_max_position_embeddings"]
    factor = scaling.get("factor") or config.max_position_embeddings / original
    attention_factor = scaling.get("attention_factor")
    mscale, mscale_all_dim = scaling.get("mscale"), scaling.get("mscale_all_dim")

    def get_mscale(scale: float, m: float = 1.0) -> float:
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    if attention_factor is None:
        attention_factor = (get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim)
                            if mscale and mscale_all_dim else get_mscale(factor))
    beta_fast = scaling.get("beta_fast") or 32
    beta_slow = scaling.get("beta_slow") or 1

    def correction_dim(rotations: float) -> float:
        return dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if scaling.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # as transformers: avoid a zero-width ramp
    ramp = np.clip((np.arange(dim // 2, dtype=np.float32) - low) / (high - low), 0, 1)
    extrapolation = (1 - ramp).astype(np.float32)
    inv_freq = ((1.0 / (factor * pos_freqs)) * (1 - extrapolation)
                + (1.0 / pos_freqs) * extrapolation)
    return inv_freq.astype(np.float32), float(attention_factor)


class RotaryEmbedding:
    """``cos`` and signed ``sin`` (see :func:`apply_rotary`) for positions, read from tables.

    The tables hold every position up to the longest seen so far (grown by doubling),
    computed on the host in float32 as transformers computes them (``inv_freq * position``,
    then cos/sin, times the attention factor). Consecutive positions are a ``narrow`` of the
    tables, shaped ``(L, head_dim)``; explicit position ids gather ``(B, 1, L, head_dim)``.
    Not a Module: nothing of it is saved; the tables are rebuilt from the config (and, for
    ``dynamic`` scaling, from the longest position, which changes the frequencies).
    """

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.dynamic = config.rope_scaling["rope_type"] == "dynamic"
        self._key: tuple | None = None
        self._tables: tuple[Tensor, Tensor, Tensor] | None = None

    def _tables_for(self, seq_len: int, dtype: genesis.DType, device: genesis.Device
                    ) -> tuple[Tensor, Tensor, Tensor]:
        longest = max(seq_len, self.config.max_position_embeddings) if self.dynamic else 0
        size = self._key[0] if self._key is not None else 0
        if seq_len > size:
            size = max(seq_len, 2 * size, 64)
        key = (size, longest, dtype, str(device))
        if key != self._key:
            inv_freq, factor = inverse_frequencies(self.config, longest or None)
            angles = np.arange(size, dtype=np.float32)[:, None] * np.concatenate(
                [inv_freq, inv_freq])[None, :]
            half = inv_freq.shape[0]
            sign = np.concatenate([np.full(half, -1, np.float32), np.ones(half, np.float32)])
            cos = (np.cos(angles) * np.float32(factor)).astype(np.float32)
            sin = (np.sin(angles) * np.float32(factor) * sign).astype(np.float32)
            swap = np.roll(np.eye(2 * half, dtype=np.float32), half, axis=1)
            self._tables = tuple(genesis.tensor(t, device=device).to(dtype)
                                 for t in (cos, sin, swap))
            self._key = key
        return self._tables

    def __call__(self, position_ids: Tensor | None, past: int, length: int,
                 dtype: genesis.DType, device: genesis.Device) -> tuple[Tensor, Tensor, Tensor]:
        """``(cos, signed sin, swap)`` for ``position_ids`` ``(B, L)``, or, when None,
        positions ``past .. past+L-1``; ``swap`` is the matrix exchanging the two halves."""
        if position_ids is None:
            cos, sin, swap = self._tables_for(past + length, dtype, device)
            return cos.narrow(0, past, length), sin.narrow(0, past, length), swap
        batch = position_ids.shape[0]
        cos, sin, swap = self._tables_for(int(position_ids.max().item()) + 1, dtype, device)
        flat = position_ids.reshape(-1)
        shape = (batch, 1, length, cos.shape[-1])
        return (cos.index_select(0, flat).reshape(shape),
                sin.index_select(0, flat).reshape(shape), swap)


def apply_rotary(x: Tensor, rope: tuple[Tensor, Tensor, Tensor]) -> Tensor:
    """transformers' ``x * cos + rotate_half(x) * sin``, where ``rotate_half(x) = cat(-x2,
    x1)`` for the halves ``x1, x2``. Here ``sin`` comes signed (``cat(-sin, sin)``) and the
    halves are exchanged by a matmul with a permutation matrix (exact: one nonzero per
    column): one dispatch instead of two slices, a negation and a cat."""
    cos, sin, swap = rope
    return x * cos + (x @ swap) * sin
