"""``AutoModelForCausalLM``: the model class a ``config.json`` asks for."""

from __future__ import annotations

import os

import genesis
from genesis.models.config import ModelConfig
from genesis.models.modeling import MODEL_CLASSES, CausalLM


class AutoModelForCausalLM:
    """Picks the causal-LM class from ``model_type`` (transformers' name and entry points)."""

    def __init__(self) -> None:
        raise TypeError("AutoModelForCausalLM is not instantiated: use "
                        "AutoModelForCausalLM.from_pretrained(path) or .from_config(config)")

    @staticmethod
    def from_config(config: ModelConfig | dict) -> CausalLM:
        """A randomly initialised model for ``config`` (a ModelConfig or config.json dict)."""
        if isinstance(config, dict):
            config = ModelConfig.from_dict(config)
        return MODEL_CLASSES[config.model_type](config)

    @staticmethod
    def from_pretrained(path: str | os.PathLike, dtype: genesis.DType | str | None = None,
                        device: genesis.Device | str | None = None) -> CausalLM:
        """Load a local Hugging Face directory; see :meth:`CausalLM.from_pretrained`."""
        config = ModelConfig.from_pretrained(path)
        return MODEL_CLASSES[config.model_type].from_pretrained(path, dtype=dtype, device=device)
