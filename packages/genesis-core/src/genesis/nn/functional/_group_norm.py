"""Per-sample normalisations: ``group_norm`` and ``instance_norm`` (one closed-form node each,
through ``LayerNorm``/``BatchNorm`` on a reshaped view), and ``local_response_norm`` (a
composite over a window of neighbouring channels)."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math

import numpy as np

from genesis import _dtype as dt
from genesis._autograd.grad_mode import no_grad
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._ops.indexing import index_select
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor
from genesis.nn.functional._normalization import LayerNorm, batch_norm, in_input_dtype


def _channel_shape(input: Tensor) -> tuple:
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


@autocast_op("group_norm")
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample's channels in ``num_groups`` groups (statistics over the group's
    channels and all spatial positions), then scale/shift per channel by ``weight``/``bias``."""
    check_tensor("group_norm", "input", input)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    if not isinstance(num_groups, int) or isinstance(num_groups, bool) or num_groups <= 0:
        raise ValueError(f"group_norm: num_groups={num_groups!r}, expected a positive int")
    n, c = input.shape[:2]
    spatial = math.prod(input.shape[2:])
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    if n * c // num_groups * spatial == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {[n * c // num_groups, num_groups] + list(input.shape[2:])}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} "
                               f"and input of shape {list(input.shape)}")
    x = input.reshape(n, num_groups, c // num_groups * spatial)
    out = LayerNorm.apply(x, None, None, (2,), eps).reshape(input.shape)
    if weight is not None:
        out = out * weight.reshape(_channel_shape(input))
    if bias is not None:
        out = out + bias.reshape(_channel_shape(input))
    return in_input_dtype(out, input)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) over its spatial dims, then scale/shift per channel.

    With ``use_input_stats`` the running statistics (when given) are updated in place with
    ``momentum`` from the batch average of the per-instance statistics (variance unbiased);
    otherwise they normalise the input.
    """
    check_tensor("instance_norm", "input", input)
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    n, c = input.shape[:2]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"instance_norm: {name} should contain {c} elements (the "
                               f"channel count, input.shape[1]), not {t.numel()}")
    x = input.reshape((1, n * c) + tuple(input.shape[2:]))
    w, b = (t.repeat(n) if t is not None else None for t in (weight, bias))
    rm, rv = (t.detach().repeat(n) if t is not None else None for t in (running_mean, running_var))
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():
            for kept, per_instance in ((running_mean, rm), (running_var, rv)):
                if kept is not None:
                    kept.copy_(per_instance.reshape(n, c).mean(0))
    return out.reshape(input.shape)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """``x / (k + alpha * mean(x**2 over size neighbouring channels)) ** beta``; the window of
    channel ``c`` is ``[c - size // 2, c + (size - 1) // 2]``, zero outside the channels."""
    check_tensor("local_response_norm", "input", input)
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise RuntimeError(f"local_response_norm: size={size!r}, kernel size should be greater "
                           "than zero")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    sq = input * input
    parts = []
    for amount in (size // 2, None, (size - 1) // 2):
        if amount is None:
            parts.append(sq)
        elif amount:
            shape = (input.shape[0], amount) + tuple(input.shape[2:])
            parts.append(zeros(shape, dtype=input.dtype, device=input.device))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    # index_select rather than narrow: narrow's backward is not itself differentiable (yet)
    window = None
    for i in range(size):
        part = index_select(padded, 1, input.new_tensor(np.arange(i, i + c), dtype=dt.int64))
        window = part if window is None else window + part
    div = (window * (alpha / size) + k) ** beta
    return input / div
