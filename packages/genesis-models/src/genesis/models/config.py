"""``ModelConfig``: the architecture of a Llama/Qwen-family model, read from a HF ``config.json``.

One flat dataclass covers every supported ``model_type``; :meth:`ModelConfig.from_dict`
resolves each family's defaults and spellings (``rope_scaling`` + ``rope_theta`` in
transformers 4, ``rope_parameters`` in 5; ``qkv_bias`` vs ``attention_bias``; Qwen's
``use_sliding_window`` + ``max_window_layers`` vs ``layer_types``) into explicit fields.
The original dictionary is kept in ``raw`` so ``save_pretrained`` writes it back unchanged.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

#: model_type -> the transformers architecture class name written by save_pretrained
ARCHITECTURES = {
    "llama": "LlamaForCausalLM",
    "mistral": "MistralForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
    "mixtral": "MixtralForCausalLM",
    "qwen2_moe": "Qwen2MoeForCausalLM",
}
ROPE_TYPES = ("default", "linear", "dynamic", "llama3", "yarn")
#: transformers' defaults per family where they differ from the first entry of each pair
_DEFAULT_ROPE_THETA = {"mixtral": 1e6}
_DEFAULT_RMS_EPS = {"llama": 1e-6, "mistral": 1e-6, "mixtral": 1e-5}


@dataclass
class ModelConfig:
    """Everything the modules need to build a decoder-only causal LM (see ``from_dict``)."""

    model_type: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    hidden_act: str = "silu"
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-6
    initializer_range: float = 0.02
    rope_theta: float = 10000.0
    rope_scaling: dict[str, Any] = field(default_factory=lambda: {"rope_type": "default"})
    tie_word_embeddings: bool = False
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    sliding_window: int | None = None
    layer_types: list[str] = field(default_factory=list)
    num_experts: int = 0
    num_experts_per_tok: int = 0
    norm_topk_prob: bool = False
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    moe_layers: list[bool] = field(default_factory=list)
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    pad_token_id: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def architecture(self) -> str:
        """The transformers class name, e.g. ``"LlamaForCausalLM"``."""
        return ARCHITECTURES[self.model_type]

    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` dictionary: ``raw`` (what was read) over the fields spelled
        as transformers spells them, so a config built in code saves completely too."""
        d: dict[str, Any] = {
            "architectures": [self.architecture], "model_type": self.model_type,
            "vocab_size": self.vocab_size, "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads, "head_dim": self.head_dim,
            "hidden_act": self.hidden_act, "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps, "initializer_range": self.initializer_range,
            "tie_word_embeddings": self.tie_word_embeddings,
            "sliding_window": self.sliding_window, "layer_types": self.layer_types,
            "bos_token_id": self.bos_token_id, "eos_token_id": self.eos_token_id,
            "pad_token_id": self.pad_token_id,
        }
        if not any(key in self.raw for key in ("rope_parameters", "rope_scaling", "rope_theta")):
            d["rope_parameters"] = {"rope_theta": self.rope_theta, **self.rope_scaling}
        if self.model_type in ("llama", "qwen3"):
            d["attention_bias"] = self.qkv_bias
        if self.model_type == "llama":
            d["mlp_bias"] = self.mlp_bias
        if self.model_type in ("qwen2", "qwen3", "qwen2_moe"):
            d["use_sliding_window"] = "sliding_attention" in self.layer_types
        if self.model_type == "mixtral":
            d.update(num_local_experts=self.num_experts,
                     num_experts_per_tok=self.num_experts_per_tok)
        if self.model_type == "qwen2_moe":
            d.update(num_experts=self.num_experts, num_experts_per_tok=self.num_experts_per_tok,
                     norm_topk_prob=self.norm_topk_prob, qkv_bias=self.qkv_bias,
                     moe_intermediate_size=self.moe_intermediate_size,
                     shared_expert_intermediate_size=self.shared_expert_intermediate_size,
                     mlp_only_layers=[i for i, moe in enumerate(self.moe_layers) if not moe])
        return {**d, **self.raw, "architectures": [self.architecture]}

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> ModelConfig:
        """Read ``config.json`` from the model directory ``path``."""
        file = os.path.join(os.fspath(path), "config.json")
        if not os.path.isfile(file):
            raise FileNotFoundError(
                f"from_pretrained: no config.json in {os.fspath(path)!r}; expected a local "
                "Hugging Face model directory holding config.json and model.safetensors "
                "(or the shards with model.safetensors.index.json). Genesis does not download: "
                "fetch the files first (e.g. `hf download <repo> --local-dir DIR`)")
        with open(file, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """Build from a ``config.json`` dictionary, with transformers' per-family defaults."""
        kind = d.get("model_type")
        if kind not in ARCHITECTURES:
            raise ValueError(f"config.json: model_type={kind!r} is not supported; expected one "
                             f"of {', '.join(ARCHITECTURES)}")
        heads = _required(d, "num_attention_heads")
        hidden = _required(d, "hidden_size")
        layers = _required(d, "num_hidden_layers")
        head_dim = d.get("head_dim") or hidden // heads
        theta, scaling = _rope(d, kind)
        moe = _moe_fields(d, kind, layers)
        return cls(
            model_type=kind,
            vocab_size=_required(d, "vocab_size"),
            hidden_size=hidden,
            intermediate_size=d.get("intermediate_size", 0),
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=d.get("num_key_value_heads") or heads,
            head_dim=head_dim,
            hidden_act=d.get("hidden_act", "silu"),
            max_position_embeddings=d.get("max_position_embeddings", 2048),
            rms_norm_eps=d.get("rms_norm_eps", _DEFAULT_RMS_EPS.get(kind, 1e-6)),
            initializer_range=d.get("initializer_range", 0.02),
            rope_theta=theta,
            rope_scaling=scaling,
            tie_word_embeddings=d.get("tie_word_embeddings", False),
            qkv_bias=_qkv_bias(d, kind),
            o_bias=kind in ("llama", "qwen3") and d.get("attention_bias", False),
            mlp_bias=kind == "llama" and d.get("mlp_bias", False),
            qk_norm=kind == "qwen3",
            sliding_window=d.get("sliding_window") or None,
            layer_types=_layer_types(d, kind, layers),
            bos_token_id=d.get("bos_token_id"),
            eos_token_id=d.get("eos_token_id"),
            pad_token_id=d.get("pad_token_id"),
            raw=dict(d),
            **moe,
        )


def _required(d: dict[str, Any], key: str) -> Any:
    if key not in d:
        raise ValueError(f"config.json: the required field {key!r} is missing")
    return d[key]


def _rope(d: dict[str, Any], kind: str) -> tuple[float, dict[str, Any]]:
    """(theta, scaling dict with ``rope_type``) from either spelling."""
    params = dict(d.get("rope_parameters") or {})
    if "full_attention" in params and isinstance(params["full_attention"], dict):
        params = dict(params["full_attention"])  # per-layer-type rope: all layers share it here
    scaling = dict(d.get("rope_scaling") or {})
    scaling.update(params)
    theta = scaling.pop("rope_theta", d.get("rope_theta", _DEFAULT_ROPE_THETA.get(kind, 1e4)))
    partial = scaling.pop("partial_rotary_factor", d.get("partial_rotary_factor", 1.0))
    if partial != 1.0:  # the Llama/Qwen families rotate the whole head
        raise ValueError(f"config.json: partial_rotary_factor={partial!r} is not supported; "
                         "expected 1.0")
    rope_type = scaling.pop("type", None)
    scaling["rope_type"] = scaling.get("rope_type") or rope_type or "default"
    if scaling["rope_type"] not in ROPE_TYPES:
        raise ValueError(f"config.json: rope type {scaling['rope_type']!r} is not supported; "
                         f"expected one of {', '.join(ROPE_TYPES)}")
    if scaling["rope_type"] in ("llama3", "yarn"):
        scaling.setdefault("original_max_position_embeddings",
                           d.get("original_max_position_embeddings",
                                 d.get("max_position_embeddings", 2048)))
    return float(theta), scaling


def _qkv_bias(d: dict[str, Any], kind: str) -> bool:
    if kind == "qwen2":
        return True
    if kind == "qwen2_moe":
        return d.get("qkv_bias", True)
    if kind in ("llama", "qwen3"):
        return d.get("attention_bias", False)
    return False


def _layer_types(d: dict[str, Any], kind: str, layers: int) -> list[str]:
    """Per layer ``"full_attention"`` or ``"sliding_attention"``, as transformers decides."""
    if d.get("layer_types"):
        return list(d["layer_types"])
    window = d.get("sliding_window")
    if kind in ("qwen2", "qwen3", "qwen2_moe"):
        first = d.get("max_window_layers", layers)
        slide = [bool(d.get("use_sliding_window")) and bool(window) and i >= first
                 for i in range(layers)]
    elif kind in ("mistral", "mixtral"):
        slide = [bool(window)] * layers
    else:
        slide = [False] * layers
    return ["sliding_attention" if s else "full_attention" for s in slide]


def _moe_fields(d: dict[str, Any], kind: str, layers: int) -> dict[str, Any]:
    if kind == "mixtral":
        return {"num_experts": d.get("num_local_experts", 8),
                "num_experts_per_tok": d.get("num_experts_per_tok", 2),
                "norm_topk_prob": True,
                "moe_intermediate_size": d.get("intermediate_size", 0),
                "moe_layers": [True] * layers}
    if kind == "qwen2_moe":
        experts = d.get("num_experts", 60)
        step = d.get("decoder_sparse_step", 1)
        dense = set(d.get("mlp_only_layers") or [])
        return {"num_experts": experts,
                "num_experts_per_tok": d.get("num_experts_per_tok", 4),
                "norm_topk_prob": d.get("norm_topk_prob", False),
                "moe_intermediate_size": d.get("moe_intermediate_size", 1408),
                "shared_expert_intermediate_size": d.get("shared_expert_intermediate_size", 0),
                "moe_layers": [i not in dense and experts > 0 and (i + 1) % step == 0
                               for i in range(layers)]}
    return {"moe_layers": [False] * layers}
