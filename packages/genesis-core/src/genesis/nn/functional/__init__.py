"""``genesis.nn.functional``: stateless layers, activations and losses with PyTorch's signatures.

Hot composites (linear, softmax, log_softmax, layer_norm, cross_entropy) are single autograd
nodes with closed-form backward; a backend that declares a fused kernel for one of them in
``capabilities.fused`` gets it used, every other backend runs the composite path.
"""

from genesis.nn.functional._activation import (
                                               celu,
                                               elu,
                                               gelu,
                                               glu,
                                               gumbel_softmax,
                                               hardshrink,
                                               hardsigmoid,
                                               hardswish,
                                               hardtanh,
                                               leaky_relu,
                                               log_softmax,
                                               logsigmoid,
                                               mish,
                                               prelu,
                                               relu,
                                               relu6,
                                               selu,
                                               sigmoid,
                                               silu,
                                               softmax,
                                               softmin,
                                               softplus,
                                               softshrink,
                                               softsign,
                                               tanh,
                                               tanhshrink,
                                               threshold,
)
from genesis.nn.functional._attention import scaled_dot_product_attention
from genesis.nn.functional._conv import (
                                               conv1d,
                                               conv2d,
                                               conv3d,
                                               conv_transpose1d,
                                               conv_transpose2d,
                                               conv_transpose3d,
)
from genesis.nn.functional._distance import cosine_similarity, pairwise_distance
from genesis.nn.functional._dropout import dropout
from genesis.nn.functional._fold import fold, unfold
from genesis.nn.functional._linear import bilinear, linear
from genesis.nn.functional._loss import (
                                               binary_cross_entropy,
                                               binary_cross_entropy_with_logits,
                                               cosine_embedding_loss,
                                               cross_entropy,
                                               gaussian_nll_loss,
                                               huber_loss,
                                               kl_div,
                                               l1_loss,
                                               margin_ranking_loss,
                                               mse_loss,
                                               nll_loss,
                                               poisson_nll_loss,
                                               smooth_l1_loss,
                                               triplet_margin_loss,
)
from genesis.nn.functional._normalization import batch_norm, layer_norm, normalize, rms_norm
from genesis.nn.functional._padding import pad
from genesis.nn.functional._sparse import embedding, one_hot

__all__ = ["batch_norm", "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "celu", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "cosine_embedding_loss",
           "cosine_similarity", "cross_entropy", "dropout",
           "elu", "embedding", "fold",
           "gaussian_nll_loss", "gelu", "glu", "gumbel_softmax", "hardshrink",
           "hardsigmoid", "hardswish", "hardtanh", "huber_loss", "kl_div", "l1_loss",
           "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid",
           "margin_ranking_loss", "mish", "mse_loss", "nll_loss", "normalize", "one_hot", "pad",
           "pairwise_distance", "poisson_nll_loss", "prelu", "relu", "relu6", "rms_norm",
           "scaled_dot_product_attention", "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax",
           "softmin", "softplus", "softshrink", "softsign", "tanh", "tanhshrink", "threshold",
           "triplet_margin_loss", "unfold"]

#: Tensor methods that are functional ops (``x.softmax(dim)``), bound by the package root
TENSOR_METHODS = {"softmax": softmax, "log_softmax": log_softmax}
