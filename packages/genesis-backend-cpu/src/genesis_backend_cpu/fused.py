"""The CPU backend's fused kernels (``Capabilities.fused``), by name.

The optimizer steps live in :mod:`genesis_backend_cpu._optim_steps` (compiled one-pass
loops, numpy references beside them); the activations, norms and softmax in their own
modules; the matrix factorizations in :mod:`genesis_backend_cpu._linalg`.
"""

from __future__ import annotations

from genesis_backend_cpu import _linalg, _optim_steps
from genesis_backend_cpu._activations import (
    gelu,
    gelu_backward,
    gelu_backward_from_output,
    relu_backward,
    silu,
    silu_backward,
)
from genesis_backend_cpu._batch_norm import batch_norm, batch_norm_backward
from genesis_backend_cpu._conv import col2im, im2col
from genesis_backend_cpu._cross_entropy import cross_entropy, cross_entropy_backward
from genesis_backend_cpu._normalization import (
    layer_norm,
    layer_norm_backward,
    rms_norm,
    rms_norm_backward,
)
from genesis_backend_cpu._pool import max_pool2d, max_pool2d_backward
from genesis_backend_cpu._rnn import gru_cell, gru_cell_backward, lstm_cell, lstm_cell_backward
from genesis_backend_cpu._softmax import (
    log_softmax,
    log_softmax_backward,
    softmax,
    softmax_backward,
)

KERNELS: dict = {**_optim_steps.KERNELS, "gelu": gelu, "gelu_backward": gelu_backward,
                 "gelu_backward_from_output": gelu_backward_from_output,
                 "silu": silu, "silu_backward": silu_backward, "relu_backward": relu_backward,
                 "layer_norm": layer_norm, "layer_norm_backward": layer_norm_backward,
                 "rms_norm": rms_norm, "rms_norm_backward": rms_norm_backward,
                 "cross_entropy": cross_entropy, "cross_entropy_backward": cross_entropy_backward,
                 "softmax": softmax, "softmax_backward": softmax_backward,
                 "log_softmax": log_softmax, "log_softmax_backward": log_softmax_backward,
                 "max_pool2d": max_pool2d, "max_pool2d_backward": max_pool2d_backward,
                 "im2col": im2col, "col2im": col2im, "batch_norm": batch_norm,
                 "batch_norm_backward": batch_norm_backward, "lstm_cell": lstm_cell,
                 "lstm_cell_backward": lstm_cell_backward, "gru_cell": gru_cell,
                 "gru_cell_backward": gru_cell_backward,
                 **_linalg.KERNELS}
