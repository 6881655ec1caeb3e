"""``embedding_bag``: sums, means or maxima of bags of embedding rows, without building the
``(n, dim)`` per-bag intermediate in user code.

The rows are looked up with :func:`embedding` (so ``max_norm`` and ``scale_grad_by_freq`` act
as there); ``sum``/``mean`` scatter-add them into their bags, ``max`` gathers each bag into a
padded ``(bags, longest, dim)`` block and takes the maximum over it. Bag boundaries come from
``offsets`` on the host; entries equal to ``padding_idx`` belong to no bag.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._ops.creation import full, zeros
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor
from genesis.nn.functional._sparse import embedding

MODES = ("sum", "mean", "max")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Reduce bags of rows of ``weight`` ``(num_embeddings, dim)``; returns ``(bags, dim)``.

    ``input`` 2-D ``(B, L)``: B bags of L indices (``offsets`` must be None). ``input`` 1-D:
    bag ``i`` is ``input[offsets[i]:offsets[i + 1]]`` (the last one runs to the end, or, with
    ``include_last_offset``, ``offsets`` holds B + 1 boundaries). ``mode``: ``"sum"``,
    ``"mean"`` or ``"max"``; an empty bag gives zeros. ``per_sample_weights`` (same shape as
    ``input``, ``mode="sum"`` only) scales each row. Indices equal to ``padding_idx`` are left
    out of their bag (and of a mean's count).
    """
    check_tensor("embedding_bag", "input", input)
    check_tensor("embedding_bag", "weight", weight)
    if weight.ndim != 2:
        raise RuntimeError(f"embedding_bag: weight must be 2-D, got shape {list(weight.shape)}")
    if input.dtype.kind != 1:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead "
                           "(while checking arguments for embedding_bag)")
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) "
                         f"is not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets)}")
        bags, length = input.shape
        starts = np.arange(bags, dtype=np.int64) * length
        ends = starts + length
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        check_tensor("embedding_bag", "offsets", offsets)
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts, ends = _bounds(offsets.detach().numpy().astype(np.int64), input.shape[0],
                               include_last_offset)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        max_norm = float(max_norm)
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, {-num} "
                               f"through {num - 1}, but got {padding_idx}")
        padding_idx = padding_idx + num if padding_idx < 0 else padding_idx
    flat = input.reshape(-1)
    host = flat.detach().numpy().astype(np.int64)
    if host.size and (host.min() < 0 or host.max() >= num):
        at = int(np.flatnonzero((host < 0) | (host >= num))[0])
        raise RuntimeError(f"Index {at} of input takes value {host[at]} which is not in the "
                           f"valid range [0, {num})")
    rows = embedding(flat, weight, max_norm=max_norm, norm_type=norm_type,
                     scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
    keep = np.ones(host.shape, dtype=bool) if padding_idx is None else host != padding_idx
    bag_of = np.repeat(np.arange(len(starts)), ends - starts)
    if mode == "max":
        return _bag_max(rows, starts, ends, keep)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1).to(rows.dtype)
    if not keep.all():
        rows = rows.where(flat.new_tensor(keep, dtype=dt.bool_).unsqueeze(1), 0.0)
    index = flat.new_tensor(bag_of, dtype=dt.int64).reshape(-1, 1).expand(host.size, dim)
    out = zeros((len(starts), dim), dtype=rows.dtype, device=rows.device).scatter_add(
        0, index, rows)
    if mode == "mean":
        counts = np.bincount(bag_of[keep], minlength=len(starts)).astype(np.float64)
        out = out / rows.new_tensor(np.maximum(counts, 1.0).reshape(-1, 1), dtype=rows.dtype)
    return out


def _bounds(offsets: np.ndarray, n: int, include_last_offset: bool):
    """Each bag's ``[start, end)`` in the flat input."""
    if offsets.size == 0 or (include_last_offset and offsets.size == 1):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if offsets[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {offsets[0]}")
    if offsets[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {offsets[-1]}")
    if (np.diff(offsets) < 0).any():
        raise RuntimeError(f"embedding_bag: offsets={offsets.tolist()} must be non-decreasing")
    if include_last_offset:
        return offsets[:-1], offsets[1:]
    return offsets, np.append(offsets[1:], n)


def _bag_max(rows: Tensor, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray) -> Tensor:
    """Per-dim maximum over each bag's kept rows (zeros for a bag with none)."""
    bags, dim = len(starts), rows.shape[1]
    members = [np.arange(s, e)[keep[s:e]] for s, e in zip(starts, ends)]
    longest = max([len(m) for m in members] + [1])
    sentinel = rows.shape[0]  # one extra row of -inf pads the short bags
    table = np.full((bags, longest), sentinel, dtype=np.int64)
    for b, m in enumerate(members):
        table[b, :len(m)] = m
    padded = cat([rows, full((1, dim), float("-inf"), dtype=rows.dtype, device=rows.device)])
    block = padded.index_select(0, rows.new_tensor(table.reshape(-1), dtype=dt.int64))
    out = block.reshape(bags, longest, dim).max(dim=1)[0]
    filled = np.array([len(m) > 0 for m in members], dtype=bool).reshape(-1, 1)
    return out.where(rows.new_tensor(filled, dtype=dt.bool_), 0.0)
