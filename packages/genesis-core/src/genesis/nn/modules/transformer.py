"""``Transformer`` and its encoder/decoder stacks and layers, with PyTorch's submodule names,
initialisation, masks and numerics (including the eval-mode "fast path" results: a query whose
keys are all padded gives NaN there, and ``TransformerEncoder`` zeroes padded positions).
"""

# ruff: noqa: A002 - PyTorch's argument names

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

from genesis._autograd.grad_mode import is_grad_enabled
from genesis._ops.creation import full
from genesis._ops.structure import triu
from genesis._tensor import Tensor
from genesis.nn import init
from genesis.nn.functional._activation import gelu, relu
from genesis.nn.functional._attention import _canonical_mask
from genesis.nn.modules.activation import GELU, ReLU
from genesis.nn.modules.attention import MultiheadAttention
from genesis.nn.modules.container import ModuleList
from genesis.nn.modules.dropout import Dropout
from genesis.nn.modules.linear import Linear
from genesis.nn.modules.module import Module
from genesis.nn.modules.normalization import LayerNorm

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer"]

Activation = str | Callable[[Tensor], Tensor]


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """``(sz, sz)`` float mask: 0 on and below the diagonal, -inf above it."""
    return triu(full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    return src.shape[0] if src.ndim == 2 else src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None = None,
                           size: int | None = None) -> bool:
    """``is_causal`` when given; else whether ``mask`` equals the square causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    causal = _generate_square_subsequent_mask(sz, device=mask.device, dtype=mask.dtype)
    if tuple(mask.shape) != (sz, sz):
        return False
    return bool((mask == causal).all().item())


def _check_layer_args(cls: str, d_model, nhead, dim_feedforward, dropout) -> None:
    for name, value in (("d_model", d_model), ("nhead", nhead),
                        ("dim_feedforward", dim_feedforward)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{cls}: {name}={value!r}, expected a positive int")
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"{cls}: dropout={dropout!r}, expected a probability in [0, 1]")


def _no_grad_needed(tensors) -> bool:
    return not (is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors))


class _TransformerLayer(Module):
    """What the encoder and decoder layers share: attention(s), the feed-forward network, one
    LayerNorm and one Dropout per residual branch, registered in PyTorch's order (so
    ``state_dict`` keys match): ``self_attn``, [``multihead_attn``], ``linear1``, ``dropout``,
    ``linear2``, ``norm1``.., ``dropout1``.."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                 batch_first, norm_first, bias, device, dtype, *, cross_attention: bool) -> None:
        super().__init__()
        name = type(self).__name__
        _check_layer_args(name, d_model, nhead, dim_feedforward, dropout)
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        if cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                     batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        branches = 3 if cross_attention else 2
        for i in range(1, branches + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for i in range(1, branches + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self._branches = branches
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        elif not callable(activation):
            raise TypeError(f"{name}: activation={activation!r}, expected 'relu', 'gelu' or a "
                            "callable")
        self.activation = activation

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return getattr(self, f"dropout{self._branches}")(x)


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and a feed-forward network, each with a residual connection and a
    LayerNorm (after it, or before it with ``norm_first``).

    Submodules as PyTorch: ``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``,
    ``norm2``, ``dropout1``, ``dropout2``. ``activation``: ``"relu"``, ``"gelu"`` or a
    unary callable. Inputs ``(S, N, E)``, ``(N, S, E)`` with ``batch_first`` or ``(S, E)``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device, dtype, cross_attention=False)
        activation = self.activation
        if activation is relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        """Masks as :class:`Transformer`; ``is_causal`` is a hint that ``src_mask`` is causal."""
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               src.dtype, src_mask, "src_mask")
        src_mask = _canonical_mask(src_mask, "src_mask", src.dtype)
        # PyTorch's eval fast path computes attention with a plain softmax: a query whose keys
        # are all masked gives NaN there (its training path gives a zero attention output)
        plain = self._fast_path(src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal,
                                   plain)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal,
                                              plain))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _fast_path(self, src: Tensor) -> bool:
        """Whether PyTorch would run ``_transformer_encoder_layer_fwd`` for this call."""
        a = self.self_attn
        if (src.ndim != 3 or self.training or not a.batch_first or a.in_proj_bias is None
                or not self.activation_relu_or_gelu or self.norm1.eps != self.norm2.eps
                or a.num_heads % 2 == 1):
            return False
        return _no_grad_needed((src, a.in_proj_weight, a.in_proj_bias, a.out_proj.weight,
                                a.out_proj.bias, self.norm1.weight, self.norm1.bias,
                                self.norm2.weight, self.norm2.bias, self.linear1.weight,
                                self.linear1.bias, self.linear2.weight, self.linear2.bias))

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool = False, plain: bool = False) -> Tensor:
        if plain:
            x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                               need_weights=True, average_attn_weights=False)[0]
        else:
            x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                               need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, attention over ``memory`` and a feed-forward network, each with a
    residual connection and a LayerNorm (after it, or before it with ``norm_first``).

    Submodules as PyTorch: ``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``,
    ``linear2``, ``norm1``..``norm3``, ``dropout1``..``dropout3``.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device, dtype, cross_attention=True)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """Masks as :class:`Transformer`; the ``*_is_causal`` flags are hints that the
        matching mask is causal."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask,
                                              tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool = False) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Tensor | None,
                   key_padding_mask: Tensor | None, is_causal: bool = False) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

def _get_clones(module: Module, n: int) -> ModuleList:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"num_layers={n!r}, expected a non-negative int")
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` (``layers.0`` ...) applied in turn, then
    ``norm`` if given.

    ``enable_nested_tensor`` and ``mask_check`` are accepted; where PyTorch would take its
    nested-tensor path (eval mode, no gradient needed, batched ``batch_first`` input, a
    left-aligned ``src_key_padding_mask`` and no ``mask``) the padded positions come out as 0
    before ``norm``, as there.
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_not_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}", UserWarning, stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        """Masks as :class:`Transformer`; ``is_causal=None`` detects a causal ``mask``."""
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               src.dtype, mask, "mask")
        mask = _canonical_mask(mask, "mask", src.dtype)
        if not self.num_layers:
            return src if self.norm is None else self.norm(src)
        first = self.layers[0]
        padded = self._nested_padding(src, mask, src_key_padding_mask)
        is_causal = _detect_is_causal_mask(mask, is_causal,
                                           _get_seq_len(src, first.self_attn.batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if padded is not None:
            output = output.masked_fill(padded.unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_padding(self, src, mask, key_padding_mask) -> Tensor | None:
        """The padded positions ``(N, S)`` where PyTorch takes its nested-tensor path."""
        first = self.layers[0]
        if (not getattr(self, "use_nested_tensor", False) or not isinstance(
                first, TransformerEncoderLayer) or first.training or src.ndim != 3
                or key_padding_mask is None or mask is not None):
            return None
        padded = key_padding_mask != 0.0
        if self.mask_check:
            keep = padded.logical_not()
            if (keep[:, 1:] & padded[:, :-1]).any().item():  # not left-aligned
                return None
        a = first.self_attn
        if not _no_grad_needed((src, a.in_proj_weight, a.in_proj_bias, a.out_proj.weight,
                                a.out_proj.bias, first.norm1.weight, first.norm1.bias,
                                first.norm2.weight, first.norm2.bias, first.linear1.weight,
                                first.linear1.bias, first.linear2.weight, first.linear2.bias)):
            return None
        return padded


def _why_not_nested(layer: Module) -> str:
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True(use batch_first for better "
                "inference performance)")
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` (``layers.0`` ...) applied in turn,
    then ``norm`` if given."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """Masks as :class:`Transformer`; ``tgt_is_causal=None`` detects a causal
        ``tgt_mask``."""
        output = tgt
        if self.num_layers:
            seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
            tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need" (PyTorch's layout:
    ``encoder.layers.i``, ``encoder.norm``, ``decoder.layers.i``, ``decoder.norm``); every
    parameter with more than one dim is re-initialised Xavier-uniform, as PyTorch does.

    Shapes: ``src`` ``(S, N, E)``, ``tgt`` ``(T, N, E)`` (``(N, *, E)`` with ``batch_first``,
    ``(*, E)`` unbatched). Masks: ``src_mask`` ``(S, S)``, ``tgt_mask`` ``(T, T)``,
    ``memory_mask`` ``(T, S)`` (or ``(N*nhead, ., .)``); ``*_key_padding_mask`` ``(N, S)`` or
    ``(N, T)``. A bool mask's True blocks attention; a float mask is added to the scores.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = relu,
                 custom_encoder: Any | None = None, custom_decoder: Any | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, **kw), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, **kw), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """Encode ``src``, decode ``tgt`` against it; returns ``tgt``'s shape."""
        if src.ndim == 3 and src.shape[0 if self.batch_first else 1] != tgt.shape[
                0 if self.batch_first else 1]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """``(sz, sz)`` causal mask: 0.0 where position i may attend j <= i, -inf above."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
