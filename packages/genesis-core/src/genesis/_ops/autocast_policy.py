"""Autocast's op policy per device type, as data: which ops run in the lower precision, which
in float32, which in the widest floating type among their inputs.

The lists are PyTorch 2.13's (``aten/src/ATen/autocast_mode.cpp``), restricted to the ops
Genesis has, under PyTorch's Python names (``linalg_inv`` is ``genesis.linalg.inv``). They
differ by device: CPU autocast leaves softmax, the norms, ``exp``, ``pow`` and ``sum`` in
their input dtype, CUDA autocast runs them in float32. An op listed for no device passes
through and the ops it calls are autocast one by one, as in PyTorch.
``tests/test_autocast_table.py`` checks every entry's output dtypes against torch's.
"""

from __future__ import annotations

LOWER = "lower_precision_fp"
"""Floating inputs cast to the region's dtype (bfloat16/float16)."""
FP32 = "fp32"
"""Floating inputs cast to float32."""
PROMOTE = "promote"
"""Floating inputs cast to the widest floating type among them."""
NATIVE = "native"
"""No cast, and the op's own inner ops do not cast either: PyTorch runs it as one kernel on
this device while Genesis composes it from listed ops (``mv`` from ``matmul``). ``pad`` and
``interpolate`` are the calls of those two whose kernel is in no list (constant padding,
``mode="area"``)."""
BANNED = "banned"
"""Raises: the op is unsafe to autocast on this device (``binary_cross_entropy`` on CUDA)."""

_LOWER_COMMON = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "prelu", "addmm", "addbmm", "baddbmm", "bmm", "mm",
                 "matmul", "linear", "scaled_dot_product_attention")

_LOSSES = ("cosine_embedding_loss", "nll_loss", "poisson_nll_loss", "smooth_l1_loss",
           "l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss", "triplet_margin_loss",
           "kl_div", "binary_cross_entropy_with_logits", "cross_entropy")

CPU = {
    **dict.fromkeys(_LOWER_COMMON + ("linalg_vecdot",), LOWER),
    **dict.fromkeys(_LOSSES + ("binary_cross_entropy", "grid_sample", "prod", "cdist", "trace",
                               "cholesky", "inverse", "max_unpool2d", "qr", "svd",
                               "linalg_inv", "linalg_solve", "linalg_cholesky", "linalg_qr",
                               "linalg_svd", "linalg_svdvals", "linalg_eigh",
                               "linalg_eigvalsh", "reflection_pad1d", "reflection_pad2d",
                               "replication_pad1d", "replication_pad2d", "replication_pad3d"),
                    FP32),
    **dict.fromkeys(("cat", "stack", "index_copy"), PROMOTE),
    **dict.fromkeys(("addmv", "addr", "mv", "dot", "vdot", "cross", "bilinear", "pad",
                     "interpolate"), NATIVE),
}

CUDA = {
    **dict.fromkeys(_LOWER_COMMON + ("addmv", "addr", "einsum", "mv", "linalg_vecdot",
                                     "linalg_multi_dot"), LOWER),
    # fp32, fp32_set_opt_dtype and fp32_append_dtype in PyTorch: all run in float32
    **dict.fromkeys(_LOSSES + ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log",
                               "log10", "log2", "log1p", "reciprocal", "rsqrt", "sinh", "tan",
                               "pow", "softplus", "layer_norm", "group_norm",
                               "cosine_similarity", "cdist", "logsumexp", "prod", "softmax",
                               "log_softmax", "cumprod", "cumsum", "linalg_vector_norm",
                               "linalg_matrix_norm", "sum", "norm", "upsample_nearest1d",
                               "upsample_nearest2d", "upsample_nearest3d",
                               "_upsample_nearest_exact1d", "_upsample_nearest_exact2d",
                               "_upsample_nearest_exact3d", "upsample_linear1d",
                               "upsample_bilinear2d", "upsample_trilinear3d",
                               "upsample_bicubic2d"), FP32),
    **dict.fromkeys(("atan2", "bilinear", "cross", "dot", "vdot", "grid_sample", "tensordot",
                     "scatter_add"), PROMOTE),
    **dict.fromkeys(("celu", "logsigmoid", "mish", "avg_pool1d", "avg_pool2d",
                     "adaptive_avg_pool1d", "adaptive_avg_pool2d", "pad", "interpolate"),
                    NATIVE),
    "binary_cross_entropy": BANNED,
}

POLICIES: dict = {"cpu": CPU, "cuda": CUDA}
"""Device type -> op name -> policy; a device type not listed has no autocast."""

DEFAULT_DTYPES: dict = {"cpu": "bfloat16", "cuda": "float16"}
"""The lower-precision dtype of each device type's autocast regions by default."""

SUPPORTED_DTYPES: dict = {"cpu": ("bfloat16", "float16"), "cuda": ("float16", "bfloat16")}
"""The dtypes autocast may use on each device type."""
