"""``MultiheadAttention`` with PyTorch's parameters, initialisation and forward signature."""

# ruff: noqa: A002 - PyTorch's argument names

from __future__ import annotations

from genesis._autograd.grad_mode import is_grad_enabled
from genesis._ops.creation import empty
from genesis._tensor import Tensor
from genesis.nn import init
from genesis.nn.functional._activation import softmax
from genesis.nn.functional._attention import (
    _canonical_mask,
    scaled_dot_product_attention,
)
from genesis.nn.functional._checks import check_probability
from genesis.nn.functional._dropout import dropout
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
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: num_heads={num_heads!r}, expected a positive "
                             "int")
        if embed_dim % num_heads:
            raise AssertionError(f"embed_dim must be divisible by num_heads: embed_dim="
                                 f"{embed_dim}, num_heads={num_heads}")
        check_probability("MultiheadAttention", "dropout", dropout)  # 1.0 allowed, as torch
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

        ``key_padding_mask`` ``(N, S)``: bool (True marks padding to ignore) or float (added).
        ``attn_mask`` ``(L, S)`` or ``(N*H, L, S)``: bool (True = not allowed, PyTorch's
        convention for this module) or float (added). ``is_causal`` is a hint, as in PyTorch:
        it needs ``attn_mask`` (RuntimeError otherwise) and, without ``key_padding_mask`` and
        ``need_weights``, a causal mask is applied in its place. A query whose keys are all
        masked gets NaN weights and output with ``need_weights=True`` and a zero attention
        output with ``need_weights=False``, except where PyTorch takes its inference fast path
        (self-attention on batched ``batch_first`` input, eval mode, no gradient needed, bool
        or no masks, an even number of heads, biases): NaN there too, as PyTorch.
        """
        plain = need_weights or self._fast_path(query, key, value, attn_mask, key_padding_mask)
        shared = 2 if query is key and key is value else 1 if key is value else 0
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        # batch_first inputs stay (N, L, E): heads are split from them directly, so no
        # projection, residual or activation of the layer runs on a transposed (strided) view
        batch_dim = 0 if self.batch_first and not unbatched else 1
        seq_dim = 1 - batch_dim
        L, N, E = query.shape[seq_dim], query.shape[batch_dim], query.shape[2]
        S = key.shape[seq_dim]
        if E != self.embed_dim:
            raise AssertionError(f"MultiheadAttention: query has embed dim {E}, expected "
                                 f"{self.embed_dim}")
        if key.shape != value.shape:
            raise AssertionError(f"MultiheadAttention: key shape {tuple(key.shape)} does not "
                                 f"match value shape {tuple(value.shape)}")
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype,
                                           attn_mask, "attn_mask")
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        causal = is_causal and key_padding_mask is None and not plain
        attn_mask = None if causal else _canonical_mask(attn_mask, "attn_mask", query.dtype)
        q, k, v = self._in_projection(query, key, value, shared)
        H, D = self.num_heads, self.head_dim
        # (L, N, E) or (N, L, E) -> (N, H, L, D)
        heads = (1, 2, 0, 3) if batch_dim else (0, 2, 1, 3)
        q = q.reshape(*q.shape[:2], H, D).permute(*heads)
        k = k.reshape(*k.shape[:2], H, D).permute(*heads)
        v = v.reshape(*v.shape[:2], H, D).permute(*heads)
        mask = self._merge_masks(attn_mask, key_padding_mask, N, L, S)
        dropout_p = self.dropout if self.training else 0.0
        if plain:  # a plain softmax: a query with no key left gets NaN
            scores = (q * (1.0 / D ** 0.5)) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores + mask
            weights = softmax(scores, -1)
            out = (dropout(weights, dropout_p) if dropout_p else weights) @ v
            weights = weights if need_weights else None
        else:
            weights = None
            out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                               is_causal=causal)
        # (N, H, L, D) -> the input's layout
        out = out.permute(*((2, 0, 1, 3) if batch_dim else (0, 2, 1, 3))).reshape(
            *query.shape[:2], E)
        out = self.out_proj(out)
        if unbatched:
            out = out.squeeze(1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(1)
            if unbatched:
                weights = weights.squeeze(0)
        return out, weights

    def _in_projection(self, query: Tensor, key: Tensor, value: Tensor, shared: int):
        """q, k, v projections; one packed matmul where the inputs are the same tensor (2:
        self-attention, 1: key is value), as PyTorch's ``_in_projection_packed``."""
        E = self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        if shared == 2:
            qkv = linear(query, w, b)
            return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
        bq, bkv = (None, None) if b is None else (b[:E], b[E:])
        q = linear(query, w[:E], bq)
        if shared == 1:
            kv = linear(key, w[E:], bkv)
            return q, kv[..., :E], kv[..., E:]
        bk, bv = (None, None) if b is None else (b[E:2 * E], b[2 * E:])
        return q, linear(key, w[E:2 * E], bk), linear(value, w[2 * E:], bv)

    def _fast_path(self, query, key, value, attn_mask, key_padding_mask) -> bool:
        """Whether PyTorch would run ``_native_multi_head_attention`` for this call."""
        if (any(m is not None and m.dtype.is_floating_point for m in (attn_mask,
                                                                        key_padding_mask))
                or query.ndim != 3 or query is not key or key is not value or self.training
                or self.num_heads % 2 or not self.batch_first or self.in_proj_bias is None
                or query.dtype is not self.in_proj_weight.dtype):
            return False
        return not (is_grad_enabled() and any(
            t.requires_grad for t in (query, self.in_proj_weight, self.in_proj_bias,
                                      self.out_proj.weight, self.out_proj.bias)))

    def _merge_masks(self, attn_mask, key_padding_mask, N, L, S):
        """One additive float mask broadcastable to ``(N, H, L, S)``, or None."""
        merged = None
        if attn_mask is not None:
            if attn_mask.ndim == 2:
                if tuple(attn_mask.shape) != (L, S):
                    raise RuntimeError(f"The shape of the 2D attn_mask is "
                                       f"{tuple(attn_mask.shape)}, but should be {(L, S)}.")
                merged = attn_mask
            elif attn_mask.ndim == 3:
                if tuple(attn_mask.shape) != (N * self.num_heads, L, S):
                    raise RuntimeError(f"The shape of the 3D attn_mask is "
                                       f"{tuple(attn_mask.shape)}, but should be "
                                       f"{(N * self.num_heads, L, S)}.")
                merged = attn_mask.reshape(N, self.num_heads, L, S)
            else:
                raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
        if key_padding_mask is not None:
            if key_padding_mask.ndim != 2 or key_padding_mask.shape[0] != N:
                raise AssertionError(f"Expected key_padded_mask.shape[0] to be {N}, but got "
                                     f"{tuple(key_padding_mask.shape)}")
            if key_padding_mask.shape[1] != S:
                raise AssertionError(f"Expected key_padded_mask.shape[1] to be {S}, but got "
                                     f"{key_padding_mask.shape[1]}")
            kp = key_padding_mask.reshape(N, 1, 1, S)
            merged = kp if merged is None else merged + kp
        return merged

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")

