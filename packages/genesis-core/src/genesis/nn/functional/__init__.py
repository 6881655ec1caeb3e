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
from genesis.nn.functional._attention import (
    scaled_dot_product_attention,
)
from genesis.nn.functional._conv import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from genesis.nn.functional._distance import (
    cosine_similarity,
    pairwise_distance,
)
from genesis.nn.functional._dropout import (
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from genesis.nn.functional._embedding_bag import (
    embedding_bag,
)
from genesis.nn.functional._fold import (
    fold,
    unfold,
)
from genesis.nn.functional._grid_sample import (
    affine_grid,
    grid_sample,
)
from genesis.nn.functional._group_norm import (
    group_norm,
    instance_norm,
    local_response_norm,
)
from genesis.nn.functional._linear import (
    bilinear,
    linear,
)
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
from genesis.nn.functional._normalization import (
    batch_norm,
    layer_norm,
    normalize,
    rms_norm,
)
from genesis.nn.functional._padding import (
    pad,
)
from genesis.nn.functional._pixel_shuffle import (
    channel_shuffle,
    pixel_shuffle,
    pixel_unshuffle,
)
from genesis.nn.functional._pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from genesis.nn.functional._resample import (
    interpolate,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from genesis.nn.functional._sparse import (
    embedding,
    one_hot,
)

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "affine_grid",
    "alpha_dropout",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "channel_shuffle",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "elu",
    "embedding",
    "embedding_bag",
    "feature_alpha_dropout",
    "fold",
    "gaussian_nll_loss",
    "gelu",
    "glu",
    "grid_sample",
    "group_norm",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "local_response_norm",
    "log_softmax",
    "logsigmoid",
    "lp_pool1d",
    "lp_pool2d",
    "margin_ranking_loss",
    "max_pool1d",
    "max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "relu",
    "relu6",
    "rms_norm",
    "scaled_dot_product_attention",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softmin",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
    "triplet_margin_loss",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]

#: Tensor methods that are functional ops (``x.softmax(dim)``), bound by the package root
TENSOR_METHODS = {"softmax": softmax, "log_softmax": log_softmax}
