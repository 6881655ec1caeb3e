"""The blocks of a Llama/Qwen decoder: attention, SwiGLU MLPs, sparse MoE, decoder layer.

Submodule and parameter names are the Hugging Face ones (``self_attn.q_proj``,
``mlp.gate_proj``, ``block_sparse_moe.experts.0.w1``, ...), so a checkpoint's keys are
the model's ``state_dict`` keys.
"""

from __future__ import annotations

import genesis
import genesis.nn.functional as F
from genesis import Tensor, nn
from genesis.models.cache import KVCache
from genesis.models.config import ModelConfig
from genesis.models.packing import packed_linear
from genesis.models.rope import apply_rotary

#: query rows per block in a long (prefill) attention; see ``Attention._attend``
QUERY_BLOCK = 64
_ACTIVATIONS = {
    "silu": F.silu,
    "swish": F.silu,
    "gelu": F.gelu,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
}


def activation(name: str):
    """The elementwise function a config's ``hidden_act`` names."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"config.json: hidden_act={name!r} is not supported; expected one of "
                         f"{', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]


class Attention(nn.Module):
    """Grouped-query self-attention with rotary positions and an optional KV cache.

    Query heads ``h`` use key/value head ``h // groups`` (transformers' ``repeat_kv``
    order); the keys and values are broadcast over the groups, never repeated.
    """

    def __init__(self, config: ModelConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.num_heads = config.num_attention_heads
        self.num_kv_heads = config.num_key_value_heads
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"config.json: num_attention_heads={self.num_heads} is not a "
                             f"multiple of num_key_value_heads={self.num_kv_heads}")
        self.groups = self.num_heads // self.num_kv_heads
        self.head_dim = config.head_dim
        hidden, q_size, kv_size = (config.hidden_size, self.num_heads * self.head_dim,
                                   self.num_kv_heads * self.head_dim)
        self.q_proj = nn.Linear(hidden, q_size, bias=config.qkv_bias)
        self.k_proj = nn.Linear(hidden, kv_size, bias=config.qkv_bias)
        self.v_proj = nn.Linear(hidden, kv_size, bias=config.qkv_bias)
        self.o_proj = nn.Linear(q_size, hidden, bias=config.o_bias)
        if config.qk_norm:
            self.q_norm = nn.RMSNorm(self.head_dim, eps=config.rms_norm_eps)
            self.k_norm = nn.RMSNorm(self.head_dim, eps=config.rms_norm_eps)
        else:
            self.q_norm = self.k_norm = None

    def forward(self, x: Tensor, rope: tuple[Tensor, Tensor, Tensor], mask: Tensor | None,
                cache: KVCache | None) -> Tensor:
        """``x`` ``(B, L, hidden)``; ``rope`` from :class:`RotaryEmbedding` (cos/sin
        broadcastable to ``(B, heads, L, D)``);
        ``mask`` additive ``(B or 1, 1, L, S)`` or None (attend to everything: a single new
        token without padding)."""
        b, length, _ = x.shape
        heads, kv_heads = self.num_heads, self.num_kv_heads
        qkv = packed_linear(self, ("q_proj", "k_proj", "v_proj"), x)
        if qkv is not None:  # heads in q, k, v order: queries and keys are adjacent
            qkv = self._split_heads(qkv, heads + 2 * kv_heads)
            qk, v = qkv.narrow(1, 0, heads + kv_heads), qkv.narrow(1, heads + kv_heads, kv_heads)
        else:
            qk = None
            q = self._split_heads(self.q_proj(x), heads)
            k = self._split_heads(self.k_proj(x), kv_heads)
            v = self._split_heads(self.v_proj(x), kv_heads)
        if self.q_norm is not None:
            if qk is not None:
                q, k = qk.narrow(1, 0, heads), qk.narrow(1, heads, kv_heads)
            qk = genesis.cat([self.q_norm(q), self.k_norm(k)], 1)
        elif qk is None:
            qk = genesis.cat([q, k], 1)
        # one rotation for queries and keys together: fewer dispatches per decoded token
        qk = apply_rotary(qk, rope)
        q, k = qk.narrow(1, 0, heads), qk.narrow(1, heads, kv_heads)
        if cache is not None:
            k, v = cache.update(self.layer_idx, k, v)
        out = self._attend(q, k, v, mask)
        if length > 1:
            out = out.reshape(b, heads, length, self.head_dim).transpose(1, 2)
        return self.o_proj(out.reshape(b, length, heads * self.head_dim))

    def _split_heads(self, t: Tensor, heads: int) -> Tensor:
        """``(B, L, heads * D)`` -> ``(B, heads, L, D)``; for one token that is a view of the
        same memory (no transpose: the decoding step's hot path)."""
        b, length, _ = t.shape
        if length == 1:
            return t.view(b, heads, 1, self.head_dim)
        return t.view(b, length, heads, self.head_dim).transpose(1, 2)

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None) -> Tensor:
        """Attention of ``q`` ``(B, H, L, D)`` over ``k``/``v`` ``(B, kv_heads, S, D)``.

        The query heads of one KV head form a dim of their own (``(B, kv_heads, groups, L,
        D)`` against keys ``(B, kv_heads, 1, S, D)``), so keys are broadcast, not copied. A
        long causal block of queries is cut into blocks of ``QUERY_BLOCK`` rows, each
        attending only to the keys up to its last row: about half the work of the full
        square.
        """
        b, _, length, d = q.shape
        s = k.shape[2]
        if length == 1:  # one new token: its group of query heads is the "sequence" (a view)
            return F.scaled_dot_product_attention(
                q.reshape(b, self.num_kv_heads, self.groups, d), k, v, attn_mask=mask)
        q = q.reshape(b, self.num_kv_heads, self.groups, length, d)
        k, v = k.unsqueeze(2), v.unsqueeze(2)
        mask = mask.unsqueeze(2) if mask is not None else None
        if length < 2 * QUERY_BLOCK or mask is None:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        past = s - length
        blocks = []
        for start in range(0, length, QUERY_BLOCK):
            rows = min(QUERY_BLOCK, length - start)
            keys = past + start + rows  # causal: later keys are masked for every row here
            blocks.append(F.scaled_dot_product_attention(
                q.narrow(3, start, rows), k.narrow(3, 0, keys), v.narrow(3, 0, keys),
                attn_mask=mask.narrow(3, start, rows).narrow(4, 0, keys)))
        return genesis.cat(blocks, 3)


class MLP(nn.Module):
    """SwiGLU feed-forward: ``down_proj(act(gate_proj(x)) * up_proj(x))``."""

    def __init__(self, hidden_size: int, intermediate_size: int, act: str,
                 bias: bool = False) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=bias)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=bias)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=bias)
        self.act = activation(act)

    def forward(self, x: Tensor) -> Tensor:
        gate_up = packed_linear(self, ("gate_proj", "up_proj"), x)
        if gate_up is None:
            return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))
        n = self.up_proj.out_features
        return self.down_proj(self.act(gate_up.narrow(-1, 0, n)) * gate_up.narrow(-1, n, n))


class MixtralExpert(nn.Module):
    """A Mixtral expert: the SwiGLU MLP under Mixtral's names (w1 gate, w3 up, w2 down)."""

    def __init__(self, hidden_size: int, intermediate_size: int, act: str) -> None:
        super().__init__()
        self.w1 = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.w2 = nn.Linear(intermediate_size, hidden_size, bias=False)
        self.w3 = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.act = activation(act)

    def forward(self, x: Tensor) -> Tensor:
        gate_up = packed_linear(self, ("w1", "w3"), x)
        if gate_up is None:
            return self.w2(self.act(self.w1(x)) * self.w3(x))
        n = self.w3.out_features
        return self.w2(self.act(gate_up.narrow(-1, 0, n)) * gate_up.narrow(-1, n, n))


class SparseMoeBlock(nn.Module):
    """Top-k routed experts (Mixtral, Qwen2-MoE), plus Qwen2-MoE's gated shared expert.

    The router's softmax runs in float32; the top-k weights are renormalised to sum to 1
    when the config says so (always for Mixtral, ``norm_topk_prob`` for Qwen2-MoE). Each
    expert runs once on the tokens routed to it.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        hidden, inter = config.hidden_size, config.moe_intermediate_size
        self.top_k = config.num_experts_per_tok
        self.norm_topk_prob = config.norm_topk_prob
        self.gate = nn.Linear(hidden, config.num_experts, bias=False)
        if config.model_type == "mixtral":
            experts = [MixtralExpert(hidden, inter, config.hidden_act)
                       for _ in range(config.num_experts)]
        else:
            experts = [MLP(hidden, inter, config.hidden_act) for _ in range(config.num_experts)]
        self.experts = nn.ModuleList(experts)
        if config.shared_expert_intermediate_size:
            self.shared_expert = MLP(hidden, config.shared_expert_intermediate_size,
                                     config.hidden_act)
            self.shared_expert_gate = nn.Linear(hidden, 1, bias=False)
        else:
            self.shared_expert = self.shared_expert_gate = None

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        flat = x.reshape(-1, shape[-1])
        probs = F.softmax(self.gate(flat).to(genesis.float32), -1)
        weights, chosen = probs.topk(self.top_k, -1)
        if self.norm_topk_prob:
            weights = weights / weights.sum(-1, keepdim=True)
        weights = weights.to(x.dtype)
        out = genesis.zeros_like(flat)
        for e, expert in enumerate(self.experts):
            hit = chosen == e
            tokens = hit.any(-1).nonzero().reshape(-1)
            if tokens.shape[0] == 0:
                continue
            weight = (weights * hit.to(weights.dtype)).sum(-1).index_select(0, tokens)
            routed = expert(flat.index_select(0, tokens)) * weight.unsqueeze(-1)
            out = out.index_add(0, tokens, routed)
        if self.shared_expert is not None:
            out = out + F.sigmoid(self.shared_expert_gate(flat)) * self.shared_expert(flat)
        return out.reshape(shape)


class DecoderLayer(nn.Module):
    """Pre-norm block: ``x + attn(norm(x))`` then ``x + ffn(norm(x))``.

    The feed-forward part is registered as ``mlp`` (``block_sparse_moe`` for Mixtral).
    """

    def __init__(self, config: ModelConfig, layer_idx: int) -> None:
        super().__init__()
        self.attention_type = config.layer_types[layer_idx]
        self.self_attn = Attention(config, layer_idx)
        if config.moe_layers[layer_idx]:
            ffn = SparseMoeBlock(config)
        else:
            ffn = MLP(config.hidden_size, config.intermediate_size, config.hidden_act,
                      config.mlp_bias)
        self.ffn_name = "block_sparse_moe" if config.model_type == "mixtral" else "mlp"
        setattr(self, self.ffn_name, ffn)
        self.input_layernorm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, x: Tensor, rope: tuple[Tensor, Tensor, Tensor], mask: Tensor | None,
                cache: KVCache | None) -> Tensor:
        x = x + self.self_attn(self.input_layernorm(x), rope, mask, cache)
        return x + self._modules[self.ffn_name](self.post_attention_layernorm(x))
