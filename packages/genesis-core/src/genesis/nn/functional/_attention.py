"""``scaled_dot_product_attention``: softmax(Q K^T * scale + mask) V, composed from core ops."""

from __future__ import annotations

import math
import warnings

from genesis import _dtype as dt
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._tensor import Tensor
from genesis.nn.functional._activation import softmax
from genesis.nn.functional._checks import check_probability, check_tensor
from genesis.nn.functional._dropout import dropout


@autocast_op("scaled_dot_product_attention")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention over the last two dims: query ``(..., L, E)``, key ``(..., S, E)``,
    value ``(..., S, Ev)`` -> ``(..., L, Ev)``.

    ``attn_mask``: a bool mask (True = may attend) or a float mask added to the scores,
    broadcastable to ``(..., L, S)``. ``is_causal``: position i attends to j <= i (the
    top-left aligned lower triangle, as PyTorch); not combinable with ``attn_mask``.
    ``scale`` defaults to ``1 / sqrt(E)``. ``dropout_p`` drops attention weights.
    A query whose keys are all masked out gets zero weights (output 0, no gradient) instead of
    NaN, as PyTorch's SDPA does.
    ``enable_gqa``: key/value may have fewer heads (dim -3) than query, repeated to match.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        check_tensor("scaled_dot_product_attention", name, t)
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be at least 2-D, "
                               f"got shape {t.shape}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query's last dim {query.shape[-1]} "
                           f"!= key's {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key has {key.shape[-2]} positions, "
                           f"value {value.shape[-2]}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or "
                           "is_causal=True, not both")
    check_probability("scaled_dot_product_attention", "dropout_p", dropout_p)  # 1.0 as torch
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key = _repeat_heads(key, groups)
        value = _repeat_heads(value, groups)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    # scale the (smaller) query rather than the L x S scores; masks are added as 0/-inf so
    # the backward pass lets the gradient through instead of running a `where`
    scores = (query * scale) @ key.transpose(-2, -1)
    if is_causal:
        attn_mask = _causal_mask(L, S, query.device, scores.dtype)
    elif attn_mask is not None and attn_mask.dtype is dt.bool_:
        attn_mask = zeros(attn_mask.shape, dtype=scores.dtype, device=attn_mask.device
                          ).masked_fill(attn_mask.logical_not(), float("-inf"))
    if attn_mask is not None:
        scores = scores + attn_mask
        weights = _masked_softmax(scores, attn_mask)
    else:
        weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value


def _masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """softmax over the last dim; rows whose additive mask is all -inf give 0, not NaN.

    Those rows are set to 0 before the softmax (so its backward sees finite values) and
    their weights to 0 after it (so no gradient flows through them).
    """
    dead = (mask == float("-inf")).all(-1, keepdim=True)
    if not dead.any().item():
        return softmax(scores, -1)
    return softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)


_CAUSAL: dict = {}


def _causal_mask(L: int, S: int, device, dtype) -> Tensor:
    """0 where query i may see key j <= i, -inf above the diagonal (cached; never written)."""
    key = (L, S, device, dtype)
    mask = _CAUSAL.get(key)
    if mask is None:
        from genesis._ops.creation import arange
        above = arange(S, device=device).unsqueeze(0) > arange(L, device=device).unsqueeze(1)
        mask = _CAUSAL[key] = zeros((L, S), dtype=dtype, device=device).masked_fill(
            above, float("-inf"))
    return mask


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    shape = t.shape
    expanded = t.unsqueeze(-3).expand(*shape[:-3], shape[-3], groups, *shape[-2:])
    return expanded.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


def _canonical_mask(mask: Tensor | None, name: str, dtype, other: Tensor | None = None,
                    other_name: str = "") -> Tensor | None:
    """A bool mask (True = blocked) as an additive 0/-inf mask of ``dtype``; a float mask as
    is (PyTorch's ``F._canonical_mask``, which warns when the two masks' dtypes differ)."""
    if mask is None:
        return None
    if mask.dtype is not dt.bool_ and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported, got "
                             f"{mask.dtype}")
    if other is not None and other.dtype is not mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", UserWarning, stacklevel=3)
    if mask.dtype is dt.bool_:
        return zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask,
                                                                             float("-inf"))
    return mask


__all__ = ["scaled_dot_product_attention"]
