"""Training utilities: gradient clipping, parameters as one vector, parametrizations
(``parametrize``, ``parametrizations.weight_norm`` / ``spectral_norm``), the deprecated
``weight_norm`` / ``remove_weight_norm``, and ``rnn``: packed variable-length sequences."""

from genesis.nn.utils import parametrizations, parametrize, rnn
from genesis.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from genesis.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from genesis.nn.utils.deprecated_weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "parametrizations",
           "parametrize", "remove_weight_norm", "rnn", "vector_to_parameters", "weight_norm"]
