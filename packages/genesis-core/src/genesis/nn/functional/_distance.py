"""Distances between vectors: pairwise_distance, cosine_similarity, and the p-norm they share."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math

from genesis import _dtype as dt
from genesis._ops.autocast import autocast_op
from genesis._ops.elementwise import where
from genesis._tensor import Tensor, broadcast_shapes
from genesis.nn.functional._checks import check_tensor, wrap_dim


def vector_norm(x: Tensor, p: float, dims: tuple, keepdim: bool = False) -> Tensor:
    """The ``p``-norm of ``x`` over ``dims`` (``torch.linalg.vector_norm``'s values and
    gradients): ``max|x|`` for ``inf``, ``min|x|`` for ``-inf``, the count of non-zeros for 0
    (gradient 0), else ``sum(|x|**p) ** (1/p)``. The gradient is 0 at a zero norm, and an
    element equal to 0 gets gradient 0, as in PyTorch."""
    a = x.abs()
    if p == math.inf:
        return a.amax(dims, keepdim=keepdim)
    if p == -math.inf:
        return a.amin(dims, keepdim=keepdim)
    if p == 0:
        return a.sign().sum(dims, keepdim=keepdim)  # sign's gradient is 0
    if p == 1:
        return a.sum(dims, keepdim=keepdim)
    if p == 2:
        powered = (x * x).sum(dims, keepdim=keepdim)
    else:
        nonzero = a > 0
        # zeros contribute 0 (or inf for p < 0, whose norm is then 0), without a 0 ** (p-1)
        powered = where(nonzero, where(nonzero, a, 1.0) ** p, 0.0 if p > 0 else math.inf)
        powered = powered.sum(dims, keepdim=keepdim)
    positive = powered > 0
    return where(positive, where(positive, powered, 1.0) ** (1.0 / p), 0.0)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``p``-norm of ``x1 - x2 + eps`` over the last dim (the two broadcast together)."""
    check_tensor("pairwise_distance", "x1", x1)
    check_tensor("pairwise_distance", "x2", x2)
    diff = x1 - x2 + eps
    return vector_norm(diff, p, (diff.ndim - 1,) if diff.ndim else (), keepdim)


@autocast_op("cosine_similarity")
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``<x1, x2> / (max(|x1|, eps) * max(|x2|, eps))`` along ``dim`` (after broadcasting).

    As PyTorch does, each input is divided by its own clamped norm before the dot product
    (no overflow, ``|result| <= 1``), and the clamp to ``eps`` does not cut the gradient.
    """
    check_tensor("cosine_similarity", "x1", x1)
    check_tensor("cosine_similarity", "x2", x2)
    common = dt.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(f"cosine_similarity: x1 ({x1.dtype}) and x2 ({x2.dtype}) have the "
                           f"common dtype {common}, expected a floating point one")
    x1, x2 = x1.to(common), x2.to(common)
    shape = broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    d = wrap_dim("cosine_similarity", dim, len(shape))
    axes = (d,) if shape else ()
    return ((x1 / _clamped_norm(x1, axes, eps)) * (x2 / _clamped_norm(x2, axes, eps))).sum(axes)


def _clamped_norm(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """``max(|x|, eps)`` whose gradient is the unclamped norm's (PyTorch clamps in place
    under ``no_grad``)."""
    norm = vector_norm(x, 2, axes, keepdim=True)
    value = norm.detach()
    return where(value < eps, norm - value + eps, norm)
