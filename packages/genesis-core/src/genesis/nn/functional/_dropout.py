"""``dropout``: zero elements with probability ``p`` and scale the rest by ``1 / (1 - p)``."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

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
