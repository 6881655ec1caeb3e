"""Variable-length sequences as PyTorch's ``torch.nn.utils.rnn``: ``PackedSequence``,
``pack_padded_sequence``, ``pad_packed_sequence``, ``pad_sequence``, ``pack_sequence``,
``unpad_sequence`` and ``unpack_sequence``.

A packed batch holds, step after step, the rows of the sequences still running at that step
(longest first): ``data`` ``(sum(batch_sizes), *)``, ``batch_sizes[t]`` the number of
sequences longer than ``t`` (an int64 CPU tensor), and the permutation that sorted the batch
(``sorted_indices``) with its inverse (``unsorted_indices``), None when it was sorted already.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genesis import _dtype as dt
from genesis._ops.creation import full, tensor
from genesis._ops.shape import cat, stack
from genesis._tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]


class PackedSequence_(NamedTuple):  # noqa: N801 - PyTorch's name
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences (a named tuple, as PyTorch's)."""

    __slots__ = ()

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence(*tuple) with 4 fields
            raise TypeError("PackedSequence: batch_sizes is required")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data`` moved/cast like ``Tensor.to``; the indices follow ``data``'s device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sort, unsort = (None if t is None else t.to(data.device)
                        for t in (self.sorted_indices, self.unsorted_indices))
        return type(self)(data, self.batch_sizes, sort, unsort)

    def cpu(self) -> PackedSequence:
        """``data`` on the CPU."""
        return self.to("cpu")

    def cuda(self, device=None) -> PackedSequence:
        """``data`` on a CUDA device."""
        return self.to("cuda" if device is None else device)

    def double(self) -> PackedSequence:
        """``data`` as float64."""
        return self.to(dtype=dt.float64)

    def float(self) -> PackedSequence:
        """``data`` as float32."""
        return self.to(dtype=dt.float32)

    def half(self) -> PackedSequence:
        """``data`` as float16."""
        return self.to(dtype=dt.float16)

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` is on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Always False: Genesis has no pinned host memory."""
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse permutation (``out[perm[i]] = i``)."""
    if permutation is None:
        return None
    p = np.asarray(permutation.cpu().numpy(), dtype=np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return tensor(inv, device=permutation.device)


def _lengths(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return np.asarray(lengths.cpu().numpy()).astype(np.int64).reshape(-1)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences
    of the given ``lengths``. With ``enforce_sorted`` the lengths must be decreasing; else the
    batch is sorted here and the permutation kept in the result."""
    n = _lengths(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must be at least 2-D, got "
                         f"{input.ndim}-D")
    batch = input.shape[batch_dim]
    if n.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{n.size} (batch_size={batch})")
    if (n <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    steps = input.shape[1 - batch_dim]
    if n.max() > steps:
        raise RuntimeError(f"pack_padded_sequence: lengths={n.tolist()} has a length above the "
                           f"input's {steps} steps")
    if enforce_sorted:
        if (np.diff(n) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-n, kind="stable")
        n = n[order]
        sorted_indices = tensor(order.astype(np.int64), device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    sizes = [int((n > t).sum()) for t in range(int(n[0]))]
    data = cat([input[t, :bs] for t, bs in enumerate(sizes)], 0)
    return PackedSequence(data, tensor(np.asarray(sizes, dtype=np.int64)), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of :func:`pack_padded_sequence`: ``(padded, lengths)``, the batch in its
    original order, padded with ``padding_value`` to ``total_length`` steps if given."""
    data, batch_sizes = sequence.data, sequence.batch_sizes
    sizes = [int(s) for s in np.asarray(batch_sizes.cpu().numpy()).reshape(-1)]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
    else:
        total_length = steps
    rest = tuple(data.shape[1:])
    rows = []
    for chunk, bs in zip(data.split(sizes, 0), sizes):
        if bs < batch:
            chunk = cat([chunk, full((batch - bs,) + rest, padding_value, dtype=data.dtype,
                                     device=data.device)], 0)
        rows.append(chunk)
    for _ in range(total_length - steps):
        rows.append(full((batch,) + rest, padding_value, dtype=data.dtype, device=data.device))
    padded = stack(rows, 0)
    lengths = np.asarray([sum(1 for s in sizes if s > b) for b in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[np.asarray(sequence.unsorted_indices.cpu().numpy(), dtype=np.int64)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stacks tensors ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), padded with ``padding_value`` on ``padding_side`` ('right' or 'left')."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        gap = longest - s.shape[0]
        if gap:
            pad = full((gap,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The sequences of a padded batch, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    n = _lengths(lengths)
    if n.size != padded_sequences.shape[0]:
        longer = "2" if n.size < padded_sequences.shape[0] else "1"
        raise ValueError(f"zip() argument 2 is {'shorter' if longer == '2' else 'longer'} than "
                         f"argument 1: unpad_sequence got {n.size} lengths for a batch of "
                         f"{padded_sequences.shape[0]}")
    return [padded_sequences[i, :int(k)] for i, k in enumerate(n)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of tensors ``(L_i, *)``: ``pack_padded_sequence(pad_sequence(...))``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences of a packed batch, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
