"""Dropout: ``dropout`` zeroes elements with probability ``p`` and scales the rest by
``1 / (1 - p)``; ``dropout1d``/``2d``/``3d`` zero whole channels; ``alpha_dropout`` and
``feature_alpha_dropout`` set dropped values to SELU's negative saturation and re-normalise
with an affine map so that zero mean and unit variance are kept."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math
import warnings

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.creation import _random
from genesis._ops.elementwise import binary_raw, where
from genesis._ops.fused import fused_kernel, wrap
from genesis._tensor import Tensor
from genesis.nn.functional._checks import apply_inplace, check_probability, check_tensor
from genesis.random import default_generator


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zero each element with probability ``p`` (a fresh Bernoulli mask from
    the default generator, so ``genesis.manual_seed`` reproduces it) and scale survivors by
    ``1 / (1 - p)``; the identity when ``training`` is False."""
    check_tensor("dropout", "input", input)
    check_probability("dropout", "p", p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return apply_inplace(input, lambda x: x * 0.0) if inplace else input * 0.0
    kernel = fused_kernel("dropout", input)
    if kernel is not None and not inplace:
        return Dropout.apply(input, p, kernel)
    mask = _random("bernoulli", input.shape, 1.0 - p, 0.0, input.dtype, input.device, None)
    binary_raw("mul", mask, 1.0 / (1.0 - p), out=mask)
    return apply_inplace(input, lambda x: x * mask) if inplace else input * mask


class Dropout(Function):
    """Dropout through the backend's fused kernel: ``y = x * mask / (1 - p)`` with the mask
    drawn from the default generator's (seed, offset) stream; backward ``g * mask / (1 - p)``."""

    def forward(self, x, p, kernel):
        gen = default_generator
        y, mask = kernel(x, p, gen.initial_seed(), gen.next_offset(x.numel()))
        self.mask = wrap(mask, x.shape, x, dt.bool_)
        self.scale = 1.0 / (1.0 - p)
        return wrap(y, x.shape, x)

    def backward(self, g):
        return where(self.mask, g * self.scale, 0.0), None, None


#: SELU's ``scale * alpha``: the value SELU saturates to (negated) for large negative inputs
SELU_ALPHA = 1.7580993408473766


def _check_p(fn: str, p) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: p={p!r}, dropout probability has to be between 0 and 1, "
                         f"but got {p}")


def _noise(fn: str, input: Tensor, p: float, feature: bool) -> Tensor:
    """Bernoulli(1 - p) keep-mask: one value per element, or with ``feature`` one per
    (sample, channel) of dims 0 and 1, broadcast over the rest."""
    if feature and input.ndim < 2:
        raise RuntimeError(f"{fn}: Feature dropout requires at least 2 dimensions in the "
                           f"input, got shape {list(input.shape)}")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else input.shape
    return _random("bernoulli", shape, 1.0 - p, 0.0, input.dtype, input.device, None)


def _masked(fn: str, input: Tensor, p: float, training: bool, inplace: bool, *,
            feature: bool, alpha: bool, unbatched: bool = False) -> Tensor:
    """``input * noise / (1 - p)`` (or alpha dropout's affine form) for batched inputs;
    ``unbatched`` inputs get the noise of the input with a batch dim of 1 added."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return apply_inplace(input, lambda x: x * 0.0) if inplace else input * 0.0
    batched = input.unsqueeze(0) if unbatched else input
    noise = _noise(fn, batched, p, feature)
    if unbatched:
        noise = noise.squeeze(0)
    if alpha:
        a = 1.0 / math.sqrt((SELU_ALPHA * SELU_ALPHA * p + 1.0) * (1.0 - p))
        shift = (noise - 1.0) * (SELU_ALPHA * a) + SELU_ALPHA * a * p
        binary_raw("mul", noise, a, out=noise)

        def fn_(x):
            return x * noise + shift
    else:
        binary_raw("mul", noise, 1.0 / (1.0 - p), out=noise)

        def fn_(x):
            return x * noise
    return apply_inplace(input, fn_) if inplace else fn_(input)


def _deprecated_rank(fn: str, ndim: int, spatial: int) -> None:
    warnings.warn(f"{fn}: Received a {ndim}-D input to {fn}, which is deprecated and will "
                  "result in an error in a future release. To retain the behavior and silence "
                  f"this warning, please use dropout instead. Note that {fn} exists to "
                  f"provide channel-wise dropout on inputs with {spatial} spatial dimensions, "
                  "a channel dimension, and an optional batch dimension (i.e. "
                  f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p`` and
    scale the rest by ``1 / (1 - p)`` (training only)."""
    check_tensor("dropout1d", "input", input)
    _check_p("dropout1d", p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return _masked("dropout1d", input, p, training, inplace, feature=True, alpha=False,
                   unbatched=input.ndim == 2)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels (dim 1) of ``(N, C, H, W)`` input with probability ``p`` and scale
    the rest by ``1 / (1 - p)``. As in PyTorch, a 3-D input is read as ``(N, C, L)`` (with a
    warning) and other ranks warn as deprecated."""
    check_tensor("dropout2d", "input", input)
    _check_p("dropout2d", p)
    if input.ndim not in (3, 4):
        _deprecated_rank("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return _masked("dropout2d", input, p, training, inplace, feature=True, alpha=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input with probability
    ``p`` and scale the rest by ``1 / (1 - p)``; other ranks warn as deprecated."""
    check_tensor("dropout3d", "input", input)
    _check_p("dropout3d", p)
    if input.ndim not in (4, 5):
        _deprecated_rank("dropout3d", input.ndim, 3)
    return _masked("dropout3d", input, p, training, inplace, feature=True, alpha=False,
                   unbatched=input.ndim != 5)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: each element is kept with probability ``1 - p`` or set to
    ``-1.7580993408473766`` (SELU's negative saturation), then ``a * y + b`` with ``a =
    ((1 - p) * (1 + p * alpha**2)) ** -0.5``, ``b = a * alpha * p``, keeping zero mean and
    unit variance. Note ``training`` defaults to False, as in PyTorch."""
    check_tensor("alpha_dropout", "input", input)
    _check_p("alpha_dropout", p)
    return _masked("alpha_dropout", input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` with one keep/drop decision per (sample, channel)."""
    check_tensor("feature_alpha_dropout", "input", input)
    _check_p("feature_alpha_dropout", p)
    return _masked("feature_alpha_dropout", input, p, training, inplace, feature=True,
                   alpha=True)
