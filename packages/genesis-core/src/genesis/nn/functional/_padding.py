"""``pad``: grow (or, in constant mode, crop) trailing dims with a constant, or with values
mirrored (``reflect``), repeated from the edge (``replicate``) or wrapped (``circular``)."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._ops.creation import full
from genesis._ops.indexing import index_select
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor

MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad trailing dims: ``pad = (left, right)`` for the last dim, then ``(top, bottom)`` for
    the one before, and so on.

    ``mode="constant"`` fills with ``value`` (default 0; negative amounts crop);
    ``"reflect"`` mirrors without repeating the edge (amounts < the dim's size),
    ``"replicate"`` repeats the edge, ``"circular"`` wraps around (amounts <= the size).
    """
    check_tensor("pad", "input", input)
    if mode not in MODES:
        raise ValueError(f"pad: mode={mode!r}, expected one of {MODES}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: pad={tuple(pad)} must have an even length of at most "
                         f"{2 * input.ndim} for a {input.ndim}-D input")
    if mode != "constant":
        if value is not None:
            raise ValueError(f"pad: value={value!r} only applies to mode='constant', not "
                             f"mode={mode!r}")
        return _pad_by_index(input, pad, mode)
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        n = out.shape[dim]
        if left < 0 or right < 0:
            start, stop = max(-left, 0), n - max(-right, 0)
            if stop < start:
                raise ValueError(f"pad: pad={tuple(pad)} crops dimension {dim} of size {n} to a "
                                 "negative size")
            out = out.narrow(dim, start, stop - start)
        parts = []
        for amount in (max(left, 0), None, max(right, 0)):
            if amount is None:
                parts.append(out)
            elif amount:
                shape = out.shape[:dim] + (amount,) + out.shape[dim + 1:]
                parts.append(full(shape, 0 if value is None else value, dtype=out.dtype,
                                  device=out.device))
        out = cat(parts, dim) if len(parts) > 1 else out
    return out


def _pad_by_index(input: Tensor, pad: tuple, mode: str) -> Tensor:
    """Non-constant modes: each padded dim is an ``index_select`` of source positions (so the
    gradient of a repeated element is the sum over its copies)."""
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        n = out.shape[dim]
        limit = n - 1 if mode == "reflect" else n if mode == "circular" else None
        if left < 0 or right < 0 or (limit is not None and max(left, right) > limit) or \
                (mode == "replicate" and n == 0):
            bound = "must be >= 0" if limit is None else f"must lie in [0, {limit}]"
            raise ValueError(f"pad: mode={mode!r} with pad={tuple(pad)}: the amounts for "
                             f"dimension {dim} (size {n}) {bound}")
        positions = np.arange(-left, n + right)
        if mode == "replicate":
            positions = np.clip(positions, 0, n - 1)
        elif mode == "circular":
            positions = positions % n
        else:  # reflect about the first and last element
            period = 2 * (n - 1) if n > 1 else 1
            positions = np.abs(positions) % period
            positions = np.where(positions >= n, period - positions, positions)
        out = index_select(out, dim, out.new_tensor(positions.astype(np.int64), dtype=dt.int64))
    return out
