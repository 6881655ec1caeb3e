"""Training utilities: gradient clipping; ``rnn``: packed variable-length sequences."""

from genesis.nn.utils import rnn
from genesis.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
