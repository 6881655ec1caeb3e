"""Activations: relu, leaky_relu, gelu, silu, sigmoid, tanh, softmax, log_softmax."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math
import warnings

from genesis._autograd.function import Function, Versions
from genesis._autograd.grad_mode import _State
from genesis._ops import elementwise as E
from genesis._ops.elementwise import binary_raw, unary_raw
from genesis._ops.fused import fused_kernel, run_fused
from genesis._ops.reduction import reduce_raw
from genesis._tensor import Tensor
from genesis.nn.functional._checks import apply_inplace, check_tensor, wrap_dim

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)`` elementwise (the gradient at 0 is 0)."""
    check_tensor("relu", "input", input)
    return input.relu_() if inplace else E.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    check_tensor("leaky_relu", "input", input)
    def fn(x):
        return E.where(x > 0, x, x * negative_slope)
    return apply_inplace(input, fn) if inplace else fn(input)


class _Gelu(Function):
    saves = (0,)

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        out = run_fused("gelu", x, x, approximate)
        if out is not None:
            if fused_kernel("gelu_backward_from_output", x) is not None:
                # kept for a backward that reads the cdf off it (the next node holds it
                # until its own backward anyway, which runs just before this one); not a
                # saved tensor: written in place, it is just not used
                self.out, self.out_storage = out, id(out.storage)
            return out
        x = x.detach()
        if approximate == "tanh":
            inner = (x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI
            return x * (inner.tanh() + 1) * 0.5
        return x * ((x * _SQRT_HALF).erf() + 1) * 0.5

    def backward(self, g):
        x = self.x
        if not _State.enabled:
            y = self._unchanged_output()
            gx = None if y is None else \
                run_fused("gelu_backward_from_output", x, g, x, y, self.approximate)
            gx = gx if gx is not None else run_fused("gelu_backward", x, g, x, self.approximate)
            if gx is not None:
                return gx
        if self.approximate == "tanh":
            t = ((x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI).tanh()
            d_inner = (x * x * (3 * _GELU_C) + 1) * _SQRT_2_OVER_PI
            return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * d_inner)
        cdf = ((x * _SQRT_HALF).erf() + 1) * 0.5
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return g * (cdf + x * pdf)


    def _unchanged_output(self) -> Tensor | None:
        """The forward's output, unless it was written in place since."""
        y = getattr(self, "out", None)
        if y is None or id(y.storage) != self.out_storage or \
                Versions.written_after(y.storage, self.epoch):
            return None
        return y


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh form."""
    check_tensor("gelu", "input", input)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate={approximate!r}, expected 'none' or 'tanh'")
    return _Gelu.apply(input, approximate)


class _Silu(Function):
    saves = (0,)

    def forward(self, x):
        self.x = x
        out = run_fused("silu", x, x)
        if out is not None:
            return out
        xd = x.detach()
        return xd * xd.sigmoid()

    def backward(self, g):
        if not _State.enabled:
            gx = run_fused("silu_backward", self.x, g, self.x)
            if gx is not None:
                return gx
        s = self.x.sigmoid()
        return g * s * (self.x * (1 - s) + 1)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish)."""
    check_tensor("silu", "input", input)
    return apply_inplace(input, _Silu.apply) if inplace else _Silu.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return E.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return E.tanh(input)


# -- softmax family: one Function each, closed-form backward, fused kernels when declared ------

def _softmax_raw(x: Tensor, dim: int) -> Tensor:
    m = reduce_raw("max", x, (dim,), True, x.dtype)
    e = binary_raw("sub", x, m)
    unary_raw("exp", e, out=e)
    s = reduce_raw("sum", e, (dim,), True, x.dtype)
    return binary_raw("div", e, s, out=e)


def log_softmax_raw(x: Tensor, dim: int) -> Tensor:
    """``log_softmax`` without autograd: the backend's fused kernel when it declares one."""
    out = run_fused("log_softmax", x, x, dim)
    if out is not None:
        return out
    m = reduce_raw("max", x, (dim,), True, x.dtype)
    shifted = binary_raw("sub", x, m)
    s = reduce_raw("sum", unary_raw("exp", shifted), (dim,), True, x.dtype)
    unary_raw("log", s, out=s)
    return binary_raw("sub", shifted, s, out=shifted)


class Softmax(Function):
    """``exp(x) / sum(exp(x), dim)``; backward ``y * (g - sum(g * y, dim))``."""
    saves = ('out',)

    def forward(self, x, dim):
        self.dim = dim
        out = run_fused("softmax", x, x, dim)
        self.out = out if out is not None else _softmax_raw(x, dim)
        return self.out

    def backward(self, g):
        y = self.out
        if not _State.enabled:
            gx = run_fused("softmax_backward", y, y, g, self.dim)
            if gx is not None:
                return gx
        return y * (g - (g * y).sum(self.dim, keepdim=True))


class LogSoftmax(Function):
    """``x - logsumexp(x, dim)``; backward ``g - exp(y) * sum(g, dim)``."""
    saves = ('out',)

    def forward(self, x, dim):
        self.dim = dim
        self.out = log_softmax_raw(x, dim)
        return self.out

    def backward(self, g):
        y = self.out
        if not _State.enabled:
            gx = run_fused("log_softmax_backward", y, y, g, self.dim)
            if gx is not None:
                return gx
        return g - y.exp() * g.sum(self.dim, keepdim=True)


def _softmax_args(name: str, input, dim, dtype) -> tuple:
    check_tensor(name, "input", input)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", stacklevel=3)
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise TypeError(f"{name}: input has dtype {input.dtype}, expected a floating dtype "
                        "(or pass dtype=)")
    return input, wrap_dim(name, dim, input.ndim)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """Softmax along ``dim``: non-negative values that sum to 1 along ``dim``."""
    input, d = _softmax_args("softmax", input, dim, dtype)
    if input.numel() == 0:
        return input.clone()
    return Softmax.apply(input, d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``log(softmax(input, dim))`` computed stably."""
    input, d = _softmax_args("log_softmax", input, dim, dtype)
    if input.numel() == 0:
        return input.clone()
    return LogSoftmax.apply(input, d)
