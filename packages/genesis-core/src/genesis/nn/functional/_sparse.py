"""``embedding`` (a row lookup with a scatter-add backward) and ``one_hot``."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import numpy as np

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._autograd.grad_mode import no_grad
from genesis._ops.creation import ones, zeros
from genesis._ops.elementwise import where
from genesis._ops.indexing import gather_raw
from genesis._ops.shape import reshape_raw
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor


class Embedding(Function):
    """Rows ``weight[idx]``; backward scatter-adds the gradient rows (none to ``padding_idx``)."""
    saves = (1,)

    def forward(self, weight, idx, padding_idx, scale_grad_by_freq=False):
        n, dim = idx.shape[0], weight.shape[1]
        self.idx, self.padding_idx, self.num = idx, padding_idx, weight.shape[0]
        self.scale_grad_by_freq = scale_grad_by_freq
        self.index = idx.reshape(n, 1).expand(n, dim)  # whole rows: stride 0 along dim 1
        return gather_raw(weight, 0, self.index)

    def backward(self, g):
        if self.padding_idx is not None:
            g = where((self.idx == self.padding_idx).unsqueeze(1), 0.0, g)
        if self.scale_grad_by_freq:  # each row's gradient divided by how often it was looked up
            counts = zeros((self.num,), dtype=g.dtype, device=g.device).scatter_add(
                0, self.idx, ones(self.idx.shape, dtype=g.dtype, device=g.device))
            g = g / counts.gather(0, self.idx).unsqueeze(1)
        gw = zeros((self.num, g.shape[1]), dtype=g.dtype, device=g.device)
        return gw.scatter_add(0, self.index, g), None, None, None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (``(num_embeddings, dim)``) at the integer ``input``.

    ``padding_idx`` rows get no gradient; ``max_norm`` renormalises, in place, the rows
    looked up whose ``norm_type``-norm exceeds it; ``scale_grad_by_freq`` divides each
    row's gradient by its number of occurrences in ``input``. ``sparse=True`` (a sparse
    gradient) is refused: Genesis tensors are dense.
    """
    check_tensor("embedding", "input", input)
    check_tensor("embedding", "weight", weight)
    if input.dtype.kind != 1:
        raise RuntimeError(f"embedding: input must be an integer tensor of indices, got dtype "
                           f"{input.dtype}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: weight must be 2-D, got shape {tuple(weight.shape)}")
    if sparse:
        raise ValueError("embedding: sparse=True asks for a sparse gradient tensor; Genesis "
                         "tensors are dense, so pass sparse=False (the gradient is a dense "
                         "(num_embeddings, dim) tensor)")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx={padding_idx} must be within "
                             f"[{-num}, {num - 1}] for {num} embeddings")
        padding_idx = padding_idx + num if padding_idx < 0 else padding_idx
    idx = reshape_raw(input, (input.numel(),))
    if idx.dtype is not dt.int64:
        idx = idx.to(dt.int64)
    host = idx.numpy()
    if host.size and (host.min() < 0 or host.max() >= num):
        bad = host[(host < 0) | (host >= num)][0]
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings")
    if max_norm is not None:
        _renorm_rows_(weight, np.unique(host), max_norm, norm_type)
    out = Embedding.apply(weight, idx, padding_idx, scale_grad_by_freq)
    return out.reshape(tuple(input.shape) + (weight.shape[1],))


def _renorm_rows_(weight: Tensor, rows: np.ndarray, max_norm: float, norm_type: float) -> None:
    with no_grad():
        rows_t = weight.new_tensor(rows, dtype=dt.int64)
        w = weight[rows_t]
        norms = (w.abs() ** norm_type).sum(1, keepdim=True) ** (1.0 / norm_type)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows_t] = w * scale


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape ``(*tensor.shape, num_classes)`` with a 1 at each index
    (``num_classes=-1``: one more than the largest index)."""
    check_tensor("one_hot", "tensor", tensor)
    if tensor.dtype is not dt.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor, got "
                           f"{tensor.dtype}")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < -1:
        raise RuntimeError(f"one_hot: num_classes={num_classes!r}, expected -1 (inferred) or a "
                           "non-negative int")
    if num_classes == -1 and tensor.numel() == 0:
        raise RuntimeError("one_hot: can not infer total number of classes from empty tensor "
                           "(pass num_classes)")
    if tensor.numel():
        low, high = int(tensor.min().item()), int(tensor.max().item())
        if low < 0:
            raise RuntimeError(f"one_hot: class values must be non-negative, got {low}")
        if num_classes == -1:
            num_classes = high + 1
        elif high >= num_classes:
            raise RuntimeError(f"one_hot: class values must be smaller than "
                               f"num_classes={num_classes}, got {high}")
    out = zeros(tuple(tensor.shape) + (num_classes,), dtype=dt.int64, device=tensor.device)
    return out.scatter(-1, tensor.unsqueeze(-1), 1)
