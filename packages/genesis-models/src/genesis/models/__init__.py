"""genesis.models: Llama/Qwen-family causal language models on Genesis.

Load a local Hugging Face checkpoint and generate::

    model = genesis.models.AutoModelForCausalLM.from_pretrained("path/to/model")
    ids = model.generate(prompt_ids, max_new_tokens=32)

Ships in the ``genesis-models`` distribution; ``genesis/__init__.py`` (in
genesis-core) extends its ``__path__`` so this subpackage is found.
"""

from genesis.models.auto import AutoModelForCausalLM
from genesis.models.cache import KVCache
from genesis.models.config import ModelConfig
from genesis.models.modeling import (
    CausalLM,
    CausalLMOutput,
    LlamaForCausalLM,
    MistralForCausalLM,
    MixtralForCausalLM,
    Qwen2ForCausalLM,
    Qwen2MoeForCausalLM,
    Qwen3ForCausalLM,
)
from genesis.models.streaming import TextStreamer
from genesis.models.tokenizer import Tokenizer

__all__ = [
    "AutoModelForCausalLM",
    "CausalLM",
    "CausalLMOutput",
    "KVCache",
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "MixtralForCausalLM",
    "ModelConfig",
    "Qwen2ForCausalLM",
    "Qwen2MoeForCausalLM",
    "Qwen3ForCausalLM",
    "TextStreamer",
    "Tokenizer",
]
