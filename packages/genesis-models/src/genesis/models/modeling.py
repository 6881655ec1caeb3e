"""Causal language models: ``LlamaForCausalLM``, ``Qwen2ForCausalLM``, ``Qwen3ForCausalLM``,
``MistralForCausalLM``, ``MixtralForCausalLM``, ``Qwen2MoeForCausalLM``.

Every family is one decoder (:class:`DecoderModel`) under ``model.`` plus ``lm_head``; what
differs between families (biases, q/k norms, MoE blocks, sliding windows, rope scaling)
is read from the :class:`~genesis.models.config.ModelConfig`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import genesis
import genesis.nn.functional as F
from genesis import Tensor, nn
from genesis.models import checkpoints
from genesis.models.cache import KVCache
from genesis.models.config import ModelConfig
from genesis.models.generation import GenerationMixin
from genesis.models.layers import DecoderLayer
from genesis.models.lora import LoraLinear
from genesis.models.masks import additive_mask, padded_position_ids
from genesis.models.rope import RotaryEmbedding


@dataclass
class CausalLMOutput:
    """What a forward pass returns, under transformers' names."""

    logits: Tensor
    loss: Tensor | None = None
    past_key_values: KVCache | None = None


class DecoderModel(nn.Module):
    """Token embeddings, the decoder layers and the final norm (HF's ``model.`` prefix)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size,
                                         padding_idx=config.pad_token_id)
        self.layers = nn.ModuleList([DecoderLayer(config, i)
                                     for i in range(config.num_hidden_layers)])
        self.norm = nn.RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary = RotaryEmbedding(config)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None,
                position_ids: Tensor | None, cache: KVCache | None) -> Tensor:
        """Hidden states ``(B, L, hidden)`` after the final norm."""
        config = self.config
        batch, length = input_ids.shape
        past = cache.length if cache is not None else 0
        if attention_mask is not None and tuple(attention_mask.shape) != (batch, past + length):
            raise ValueError(f"attention_mask has shape {tuple(attention_mask.shape)}; expected "
                             f"(batch, past + new) = ({batch}, {past + length})")
        padded = attention_mask is not None and not bool(attention_mask.all().item())
        device = input_ids.device
        if position_ids is None and padded:
            position_ids = padded_position_ids(attention_mask, length)
        x = self.embed_tokens(input_ids)
        rope = self.rotary(position_ids, past, length, x.dtype, device)
        masks = {kind: additive_mask(attention_mask, padded, past, length,
                                     config.sliding_window if kind == "sliding_attention"
                                     else None, x.dtype, device)
                 for kind in set(config.layer_types)}
        if cache is not None:
            cache.reserve(length)
        for layer in self.layers:
            x = layer(x, rope, masks[layer.attention_type], cache)
        if cache is not None:
            cache.advance(length)
        return self.norm(x)


class CausalLM(nn.Module, GenerationMixin):
    """A decoder-only language model: ``model`` (:class:`DecoderModel`) and ``lm_head``.

    Parameter names equal the Hugging Face checkpoint keys. With ``tie_word_embeddings``
    ``lm_head.weight`` is the embedding matrix itself.
    """

    #: the config ``model_type`` values this class builds (empty: any supported one)
    model_types: tuple[str, ...] = ()

    def __init__(self, config: ModelConfig, init_weights: bool = True) -> None:
        """``init_weights=False`` skips transformers' initialisation (weights about to be
        replaced by a checkpoint's)."""
        super().__init__()
        if self.model_types and config.model_type not in self.model_types:
            raise ValueError(f"{type(self).__name__}: config model_type="
                             f"{config.model_type!r}, expected one of {self.model_types}")
        self.config = config
        self.model = DecoderModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        if init_weights:
            self.init_weights()

    def init_weights(self) -> None:
        """transformers' initialisation: linear and embedding weights from
        ``normal(0, initializer_range)``, biases 0, norm weights 1 (the padding row of the
        embeddings 0)."""
        std = self.config.initializer_range
        with genesis.no_grad():
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, 0.0, std)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)
                if isinstance(module, nn.Embedding) and module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
                if isinstance(module, nn.RMSNorm):
                    nn.init.ones_(module.weight)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, dtype: genesis.DType | str | None = None,
                        device: genesis.Device | str | None = None) -> CausalLM:
        """Load a local Hugging Face model directory (``config.json`` + safetensors weights,
        single file or sharded with ``model.safetensors.index.json``), memory-mapped.

        ``dtype``: the parameters' dtype (default: as stored). ``device``: where they go
        (default: the CPU). Raises FileNotFoundError for a missing file and ValueError naming
        missing, unexpected or mis-shaped tensors.
        """
        config = ModelConfig.from_pretrained(path)
        model = cls(config, init_weights=False)
        checkpoints.load_weights(model, path, dtype=dtype, device=device)
        if config.tie_word_embeddings:
            model.lm_head.weight = model.model.embed_tokens.weight
        return model.eval()

    def save_pretrained(self, save_directory: str | os.PathLike,
                        max_shard_size: int | str = "5GB") -> None:
        """Write ``config.json`` and the weights (sharded above ``max_shard_size`` bytes, e.g.
        ``"200KB"``) so that transformers' ``from_pretrained`` loads the directory.

        Raises ValueError while the model has LoRA adapters: its state dict then holds
        ``base_layer``/``lora_A``/``lora_B`` names no base-model loader reads. Fold them in
        with :func:`~genesis.models.lora.merge_lora` first, or save the adapters alone with
        :func:`~genesis.models.lora.save_lora` (what peft's ``save_pretrained`` writes).
        """
        adapted = [name for name, m in self.named_modules() if isinstance(m, LoraLinear)]
        if adapted:
            raise ValueError(
                f"save_pretrained: the model has LoRA adapters on {len(adapted)} layers "
                f"({adapted[0]!r}{', ...' if len(adapted) > 1 else ''}); call "
                "genesis.models.lora.merge_lora(model) first to save the fine-tuned model, "
                "or genesis.models.lora.save_lora(model, dir) to save only the adapters")
        checkpoints.save_directory(self, save_directory, max_shard_size)

    @property
    def device(self) -> genesis.Device:
        """The device of the parameters."""
        return self.lm_head.weight.device

    @property
    def dtype(self) -> genesis.DType:
        """The dtype of the parameters."""
        return self.lm_head.weight.dtype

    def new_cache(self, batch_size: int, capacity: int) -> KVCache:
        """An empty :class:`KVCache` for ``capacity`` positions of ``batch_size`` rows."""
        c = self.config
        return KVCache(c.num_hidden_layers, batch_size, c.num_key_value_heads, c.head_dim,
                       capacity, self.dtype, self.device)

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                position_ids: Tensor | None = None, labels: Tensor | None = None,
                past_key_values: KVCache | None = None, use_cache: bool = False,
                logits_to_keep: int = 0) -> CausalLMOutput:
        """Logits ``(B, L, vocab)`` for ``input_ids`` ``(B, L)``.

        Args:
            attention_mask: ``(B, past + L)``, 1 for tokens and 0 for (left) padding.
            position_ids: ``(B, L)``; default: counted over the real tokens of
                ``attention_mask`` (so a left-padded row matches the unpadded one), else
                continuing after the cached positions.
            labels: ``(B, L)`` targets; ``loss`` is the mean cross entropy of predicting
                token ``t + 1`` from position ``t``, ignoring labels equal to -100.
            past_key_values: a :class:`KVCache` holding earlier positions; it is updated.
            use_cache: return a cache (a new one when ``past_key_values`` is None).
            logits_to_keep: compute logits for the last this many positions only (0: all).
        """
        if input_ids.ndim != 2:
            raise ValueError(f"input_ids must be (batch, seq_len), got shape "
                             f"{tuple(input_ids.shape)}")
        cache = past_key_values
        if cache is None and use_cache:
            cache = self.new_cache(input_ids.shape[0], input_ids.shape[1])
        hidden = self.model(input_ids, attention_mask, position_ids, cache)
        if 0 < logits_to_keep < hidden.shape[1]:  # a decoding step (one token) keeps all
            hidden = hidden.narrow(1, hidden.shape[1] - logits_to_keep, logits_to_keep)
        logits = self.lm_head(hidden)
        loss = None if labels is None else causal_lm_loss(logits, labels)
        return CausalLMOutput(logits=logits, loss=loss,
                              past_key_values=cache if (use_cache or past_key_values) else None)


def causal_lm_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross entropy of ``logits[:, t]`` against ``labels[:, t + 1]`` (-100 ignored)."""
    vocab = logits.shape[-1]
    shifted = logits[:, :-1].to(genesis.float32).reshape(-1, vocab)
    return F.cross_entropy(shifted, labels[:, 1:].reshape(-1), ignore_index=-100)


class LlamaForCausalLM(CausalLM):
    """Llama 1/2/3 (optionally biased attention/MLP, llama3 or other rope scaling)."""

    model_types = ("llama",)


class MistralForCausalLM(CausalLM):
    """Mistral: Llama with a sliding attention window."""

    model_types = ("mistral",)


class Qwen2ForCausalLM(CausalLM):
    """Qwen2 / Qwen2.5: biases on q/k/v, optional sliding window on upper layers."""

    model_types = ("qwen2",)


class Qwen3ForCausalLM(CausalLM):
    """Qwen3: RMSNorm on queries and keys per head, explicit ``head_dim``."""

    model_types = ("qwen3",)


class MixtralForCausalLM(CausalLM):
    """Mixtral: sparse MoE feed-forward (top-k of ``num_local_experts``, renormalised)."""

    model_types = ("mixtral",)


class Qwen2MoeForCausalLM(CausalLM):
    """Qwen2-MoE: routed experts plus a sigmoid-gated shared expert."""

    model_types = ("qwen2_moe",)


MODEL_CLASSES: dict[str, type[CausalLM]] = {
    cls.model_types[0]: cls
    for cls in (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
                MixtralForCausalLM, Qwen2MoeForCausalLM)
}
