"""genesis.models: Llama/Qwen-family causal language models on Genesis.

Ships in the ``genesis-models`` distribution; ``genesis/__init__.py`` (in
genesis-core) extends its ``__path__`` so this subpackage is found.
"""
