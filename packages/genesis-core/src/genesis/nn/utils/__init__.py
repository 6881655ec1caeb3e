"""Training utilities: gradient clipping, parameters as one vector, parametrizations
(``parametrize``, ``parametrizations.weight_norm`` / ``spectral_norm``)."""

from genesis.nn.utils import parametrizations, parametrize
from genesis.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from genesis.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "parametrizations",
           "parametrize", "vector_to_parameters"]
