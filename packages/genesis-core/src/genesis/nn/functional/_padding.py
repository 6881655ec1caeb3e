"""``pad``: grow (or, in constant mode, crop) trailing dims with a constant, or with values
mirrored (``reflect``), repeated from the edge (``replicate``) or wrapped (``circular``)."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import full
from genesis._ops.indexing import index_select
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor

MODES = ("constant", "reflect", "replicate", "circular")


def _pad_kernel(input, pad, mode="constant", value=None) -> str | None:
    """The ATen kernel PyTorch's autocast sees for a ``pad`` call (reflect/replicate only)."""
    kind = {"reflect": "reflection", "replicate": "replication"}.get(mode)
    return f"{kind}_pad{len(pad) // 2}d" if kind else None


@autocast_op("pad", "reflection_pad1d", "reflection_pad2d", "replication_pad1d",
             "replication_pad2d", "replication_pad3d", pick=_pad_kernel)
def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad trailing dims: ``pad = (left, right)`` for the last dim, then ``(top, bottom)`` for
    the one before, and so on.

    ``mode="constant"`` fills with ``value`` (default 0) and pads any number of trailing
    dims; ``"reflect"`` mirrors without repeating the edge (amounts < the dim's size),
    ``"replicate"`` repeats the edge, ``"circular"`` wraps around (amounts <= the size); these
    three pad the last 1, 2 or 3 dims of an input with 1 or 2 more dims (PyTorch's rule).
    Negative amounts crop, in every mode.
    """
    check_tensor("pad", "input", input)
    if mode not in MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}: pad got mode={mode!r}, "
                                  f"expected one of {MODES}")
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2: pad got pad={tuple(pad)} "
                           f"of length {len(pad)}")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of "
                           f"dimension {input.ndim}")
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument: pad got '
                               f"value={value!r}")
        k = len(pad) // 2
        if k > 3 or input.ndim not in (k + 1, k + 2):
            raise NotImplementedError(
                f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
                "Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
        return _pad_by_index(input, pad, mode)
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        n = out.shape[dim]
        if left < 0 or right < 0:
            start, stop = max(-left, 0), n - max(-right, 0)
            if stop < start:
                raise RuntimeError(f"pad: pad={tuple(pad)} crops dimension {dim} of size {n} to a "
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
        limit = n - 1 if mode == "reflect" else n
        if mode != "replicate" and max(left, right) > limit:
            what = ("Padding size should be less than the corresponding input dimension"
                    if mode == "reflect" else "Padding value causes wrapping around more than once")
            raise RuntimeError(f"{what}: pad got pad={tuple(pad)} for mode={mode!r}, expected "
                               f"amounts in [0, {limit}] for dimension {dim} of size {n}")
        kept = n + min(left, 0) + min(right, 0)  # what negative amounts leave
        if (n == 0 and mode == "replicate") or (n + left + right <= 0 if mode != "circular" else
                kept < 0 or (kept == 0 and max(left, right) > 0)):
            raise RuntimeError(f"pad: input (size {n} at dimension {dim}) is too small for "
                               f"pad={tuple(pad)} in mode={mode!r}: the output would be empty "
                               "or negative")
        if mode == "circular":  # negative amounts crop first; the wrap is over what is left
            start = max(-left, 0)
            positions = start + np.arange(-max(left, 0), kept + max(right, 0)) % max(kept, 1)
        else:
            positions = np.arange(-left, n + right)
        if mode == "replicate":
            positions = np.clip(positions, 0, n - 1)
        elif mode == "reflect":  # about the first and last element
            period = 2 * (n - 1) if n > 1 else 1
            positions = np.abs(positions) % period
            positions = np.where(positions >= n, period - positions, positions)
        out = index_select(out, dim, out.new_tensor(positions.astype(np.int64), dtype=dt.int64))
    return out
