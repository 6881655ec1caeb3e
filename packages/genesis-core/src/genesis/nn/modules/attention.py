"""``MultiheadAttention`` with PyTorch's parameters, initialisation and forward signature."""

# ruff: noqa: A002 - PyTorch's argument names

from __future__ import annotations

from genesis import _dtype as dt
from genesis._ops.creation import empty, zeros
from genesis._tensor import Tensor
from genesis.nn import init
from genesis.nn.functional._attention import scaled_dot_product_attention
from genesis.nn.functional._linear import linear
from genesis.nn.modules.linear import Linear
from genesis.nn.modules.module import Module
from genesis.nn.parameter import Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention: ``softmax(Q K^T / sqrt(d)) V`` per head, heads concatenated and
    projected by ``out_proj``.

    Parameters as PyTorch (same-size q/k/v): ``in_proj_weight`` ``(3E, E)`` (Xavier-uniform),
    ``in_proj_bias`` ``(3E,)`` (zeros), ``out_proj`` a ``Linear(E, E)`` with zero bias.
    ``batch_first=True`` takes ``(N, L, E)`` inputs, else ``(L, N, E)``.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if not isinstance(embed_dim, int) or embed_dim <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim!r}, expected a positive "
                             "int")
        if not isinstance(num_heads, int) or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: num_heads={num_heads!r} must be a positive int "
                             f"dividing embed_dim={embed_dim}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout={dropout!r}, expected a probability "
                             "in [0, 1)")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim = embed_dim // num_heads
        self.batch_first = batch_first
        self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, device=device,
                                              dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, device=device, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """Returns ``(output, weights)``; weights ``(N, L, S)`` averaged over heads (or
        ``(N, H, L, S)``) when ``need_weights``, else None.

        ``key_padding_mask`` ``(N, S)``: True marks padding to ignore. ``attn_mask``
        ``(L, S)`` or ``(N*H, L, S)``: bool (True = not allowed, PyTorch's convention for this
        module) or float (added). ``is_causal`` is a hint in PyTorch; here it applies a causal
        mask when no ``attn_mask`` is given.
        """
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        L, N, E = query.shape
        S = key.shape[0]
        if E != self.embed_dim:
            raise RuntimeError(f"MultiheadAttention: query has embed dim {E}, expected "
                               f"{self.embed_dim}")
        w, b = self.in_proj_weight, self.in_proj_bias
        wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
        H, D = self.num_heads, self.head_dim
        # (L, N, E) -> (N, H, L, D)
        q = q.reshape(L, N, H, D).permute(1, 2, 0, 3)
        k = k.reshape(S, N, H, D).permute(1, 2, 0, 3)
        v = v.reshape(S, N, H, D).permute(1, 2, 0, 3)
        mask = self._merge_masks(attn_mask, key_padding_mask, N, L, S, is_causal, query.device)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / D ** 0.5)
            if mask is not None:
                scores = scores + mask
            from genesis.nn.functional import dropout as drop
            from genesis.nn.functional import softmax
            weights = softmax(scores, -1)
            out = (drop(weights, dropout_p) if dropout_p else weights) @ v
        else:
            weights = None
            out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)
        out = self.out_proj(out)
        if self.batch_first and not unbatched:
            out = out.transpose(0, 1)
        if unbatched:
            out = out.squeeze(1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(1)
            if unbatched:
                weights = weights.squeeze(0)
        return out, weights

    def _merge_masks(self, attn_mask, key_padding_mask, N, L, S, is_causal, device):
        """One additive float mask ``(N, H, L, S)`` (or broadcastable), or None."""
        from genesis._ops.creation import arange
        merged = None
        if attn_mask is None and is_causal:
            attn_mask = arange(S, device=device).unsqueeze(0) > arange(L, device=device
                                                                       ).unsqueeze(1)
        if attn_mask is not None:
            m = _additive(attn_mask)
            if m.ndim == 3:  # (N*H, L, S)
                m = m.reshape(N, self.num_heads, L, S)
            merged = m
        if key_padding_mask is not None:
            kp = _additive(key_padding_mask).reshape(N, 1, 1, S)
            merged = kp if merged is None else merged + kp
        return merged

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")


def _additive(mask: Tensor) -> Tensor:
    """A bool mask (True = blocked) as 0/-inf, a float mask as is."""
    if mask.dtype is dt.bool_:
        return zeros(mask.shape, device=mask.device).masked_fill(mask, float("-inf"))
    return mask
