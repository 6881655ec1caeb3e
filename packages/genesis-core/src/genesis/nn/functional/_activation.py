"""Activations: relu, leaky_relu, gelu, silu, sigmoid, tanh, the softmax family, and the
composite ones (elu, softplus, hardswish, prelu, glu, gumbel_softmax, the shrinks...)."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math
import warnings

from genesis._autograd.function import Function, Versions
from genesis._autograd.grad_mode import _State
from genesis._ops import elementwise as E
from genesis._ops.autocast import autocast_op
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


@autocast_op("softmax")
def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """Softmax along ``dim``: non-negative values that sum to 1 along ``dim``."""
    input, d = _softmax_args("softmax", input, dim, dtype)
    if input.numel() == 0:
        return input.clone()
    return Softmax.apply(input, d)


@autocast_op("log_softmax")
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``log(softmax(input, dim))`` computed stably."""
    input, d = _softmax_args("log_softmax", input, dim, dtype)
    if input.numel() == 0:
        return input.clone()
    return LogSoftmax.apply(input, d)


# -- more activations: composites of the elementwise ops (autograd from their backward rules) --
#
# Kinks follow PyTorch's backward kernels: each ``where`` puts the boundary point on the side
# whose derivative PyTorch uses there, and branches never selected get inputs clamped into
# their domain so they stay finite (an inf there would turn the zero gradient into nan).

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
#: ``torch.finfo(dtype).tiny``: the smallest positive normal number of each floating dtype
_FINFO_TINY = {"float32": 1.1754943508222875e-38, "float64": 2.2250738585072014e-308,
               "float16": 6.103515625e-05, "bfloat16": 1.1754943508222875e-38}


def _check_floating(fn: str, input: Tensor) -> None:
    check_tensor(fn, "input", input)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"{fn}: input has dtype {input.dtype}, expected a floating "
                                  "point dtype")


def _log1p(u: Tensor) -> Tensor:
    """``log(1 + u)`` accurate for small ``u`` (finite ``u > -1``): ``log(w)`` with ``w = 1 + u``
    rounded, corrected by the rounding error ``(u - (w - 1)) / w``."""
    w = u + 1
    return w.log() + (u - (w - 1)) / w


def _expm1_nonpositive(v: Tensor) -> Tensor:
    """``exp(v) - 1`` accurate for small ``|v|``, for ``v <= 0``: ``2t / (1 - t)`` with
    ``t = tanh(v / 2)`` (no cancellation: ``1 - t`` lies in [1, 2))."""
    t = (v * 0.5).tanh()
    return t * 2 / (1 - t)


def _expm1(v: Tensor) -> Tensor:
    """``exp(v) - 1`` accurate for small ``|v|``, any ``v`` (positive side:
    ``exp(v) * -expm1(-v)``)."""
    vp, vn = v.clamp(min=0), v.clamp(max=0)
    return E.where(v > 0, vp.exp() * -_expm1_nonpositive(-vp), _expm1_nonpositive(vn))


def _softplus(z: Tensor) -> Tensor:
    """``log(1 + exp(z))`` without overflow: ``z + log1p(exp(-z))`` for positive ``z``, else
    ``log1p(exp(z))``; its gradient is ``sigmoid(z)`` (0.5 at 0), each branch's computed on
    its own so a tiny one is not lost next to a large one."""
    zp, zn = z.clamp(min=0), z.clamp(max=0)
    return E.where(z > 0, zp + _log1p((-zp).exp()), _log1p(zn.exp()))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``."""
    _check_floating("elu", input)

    def fn(x):
        return E.where(x > 0, x, _expm1_nonpositive(x.clamp(max=0)) * alpha)
    return apply_inplace(input, fn) if inplace else fn(input)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(input, alpha)`` with the self-normalising constants
    ``alpha = 1.6732632...`` and ``scale = 1.0507009...``."""
    _check_floating("selu", input)

    def fn(x):
        return E.where(x > 0, x, _expm1_nonpositive(x.clamp(max=0)) * _SELU_ALPHA) * _SELU_SCALE
    return apply_inplace(input, fn) if inplace else fn(input)


@autocast_op("celu")
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _check_floating("celu", input)
    if alpha == 0:
        raise RuntimeError(f"celu: alpha={alpha!r}, expected a non-zero number (the input is "
                           "divided by it)")

    def fn(x):
        return E.where(x > 0, x, _expm1(x.clamp(max=0) / alpha) * alpha)
    return apply_inplace(input, fn) if inplace else fn(input)


@autocast_op("softplus")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``."""
    _check_floating("softplus", input)
    z = input * beta
    return E.where(z > threshold, input, _softplus(z) / beta)


@autocast_op("logsigmoid")
def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably for any ``x``."""
    _check_floating("logsigmoid", input)
    return -_softplus(-input)


@autocast_op("mish")
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    _check_floating("mish", input)

    def fn(x):
        return x * _softplus(x).tanh()
    return apply_inplace(input, fn) if inplace else fn(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``: 0 below -3, ``x`` above 3, ``x * (x + 3) / 6`` between."""
    _check_floating("hardswish", input)

    def fn(x):
        m = x.clamp(-3, 3)  # the middle branch, finite where it is not taken
        return E.where(x <= -3, x * 0, E.where(x < 3, m * (m + 3) / 6, x))
    return apply_inplace(input, fn) if inplace else fn(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, ``x / 6 + 1/2`` between."""
    _check_floating("hardsigmoid", input)

    def fn(x):
        return E.where(x <= -3, 0.0, E.where(x >= 3, 1.0, x / 6 + 0.5))
    return apply_inplace(input, fn) if inplace else fn(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``input`` clamped to ``[min_val, max_val]``; no gradient at or beyond the limits.
    Integer inputs keep their dtype (the limits truncated to ints), as in PyTorch."""
    check_tensor("hardtanh", "input", input)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val={min_val!r} is greater than max_val={max_val!r}, "
                         "expected min_val <= max_val")
    if input.dtype.kind == 0:
        raise RuntimeError(f"hardtanh: input has dtype {input.dtype}, expected a number dtype "
                           "(bool inputs are not supported)")
    if input.dtype.is_floating_point:
        def fn(x):
            return E.where(x <= min_val, min_val, E.where(x >= max_val, max_val, x))
    else:
        lo, hi = int(min_val), int(max_val)
        if not input.dtype.is_signed and lo < 0:
            raise RuntimeError(f"hardtanh: min_val={min_val!r} is negative, expected limits "
                               f"that an unsigned input of dtype {input.dtype} can hold")

        def fn(x):
            return x.clamp(lo, hi)
    return apply_inplace(input, fn) if inplace else fn(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(0, x), 6)``: :func:`hardtanh` with limits 0 and 6."""
    check_tensor("relu6", "input", input)
    return hardtanh(input, 0.0, 6.0, inplace)


@autocast_op("prelu")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``input`` where positive, else ``weight * input``; ``weight`` holds one slope, or one
    per channel (``input.shape[1]``, or 1 for a 1-D input)."""
    _check_floating("prelu", input)
    check_tensor("prelu", "weight", weight)
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"prelu: weight dtype {weight.dtype} does not match input dtype "
                           f"{input.dtype} (no type promotion)")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: weight of shape {list(weight.shape)}, expected a scalar or "
                           "a 1-D tensor")
    n = weight.numel()
    if n != 1:
        if input.ndim == 0:
            raise RuntimeError(f"prelu: a 0-D input takes a single slope, got weight of "
                               f"{n} elements")
        channels = input.shape[1] if input.ndim > 1 else 1
        if n != channels:
            raise RuntimeError(f"prelu: weight has {n} elements, expected 1 or the channel "
                               f"size input.shape[1] = {channels}")
    if weight.ndim != input.ndim:
        weight = weight.reshape(tuple(n if i == 1 else 1 for i in range(input.ndim)))
    return E.where(input > 0, input, weight * input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` with ``a``, ``b`` the two halves of ``input``
    along ``dim``."""
    _check_floating("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu: input is 0-D, expected at least 1 dim (it is halved along "
                           "dim)")
    d = wrap_dim("glu", dim, input.ndim)
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(f"glu: halving dimension must be even, but dimension {d} of input "
                           f"{list(input.shape)} is size {size}")
    half = size // 2
    # an empty input takes both (empty) halves at offset 0: the CPU backend cannot map an
    # empty view that starts past the end of its storage
    gate = input.narrow(d, half if input.numel() else 0, half)
    return input.narrow(d, 0, half) * gate.sigmoid()


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    check_tensor("softsign", "input", input)
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    check_tensor("tanhshrink", "input", input)
    return input - input.tanh()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``softmax(-input, dim)``: non-negative values summing to 1 along ``dim``, largest where
    ``input`` is smallest."""
    if dtype is None:
        _check_floating("softmin", input)
    else:
        check_tensor("softmin", "input", input)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", stacklevel=2)
    return softmax(-input, dim, dtype=dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax distribution: ``softmax((logits + g) / tau, dim)`` with
    ``g`` i.i.d. Gumbel(0, 1) noise.

    ``hard=True`` returns one-hot vectors (the argmax of the sample) whose gradient is the
    soft sample's (straight-through). ``eps`` is deprecated and unused, as in PyTorch.
    """
    check_tensor("gumbel_softmax", "logits", logits)
    if not logits.dtype.is_floating_point:
        raise RuntimeError(f"gumbel_softmax: logits has dtype {logits.dtype}, expected a "
                           "floating point dtype (the Gumbel noise is continuous)")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    d = wrap_dim("gumbel_softmax", dim, logits.ndim)
    u = logits.detach().new_empty(logits.shape).uniform_()
    # -log(1 - u) ~ Exponential(1), kept above 0 so that -log of it (the Gumbel sample) is finite
    exponential = (-(1 - u).log()).clamp(min=_FINFO_TINY[logits.dtype.name])
    y_soft = softmax((logits - exponential.log()) / tau, d)
    if not hard or logits.numel() == 0:
        return y_soft
    index = y_soft.detach().argmax(d, keepdim=True)
    y_hard = y_soft.detach().new_zeros(logits.shape).scatter(d, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``value`` where ``input <= threshold``, else ``input`` (NaN kept); integer inputs keep
    their dtype (``value`` truncated to an int), as in PyTorch."""
    check_tensor("threshold", "input", input)
    fill = value if input.dtype.is_floating_point else int(value)

    def fn(x):
        return E.where(x <= threshold, fill, x)
    return apply_inplace(input, fn) if inplace else fn(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """0 where ``-lambd <= input <= lambd``, else ``input``."""
    _check_floating("hardshrink", input)
    return E.where((input >= -lambd).logical_and(input <= lambd), 0.0, input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``input`` moved ``lambd`` towards 0, and 0 within ``[-lambd, lambd]``."""
    _check_floating("softshrink", input)
    if not lambd >= 0:
        raise RuntimeError(f"softshrink: lambd={lambd!r}, expected a number >= 0")
    inside = (input >= -lambd).logical_and(input <= lambd)
    return E.where(inside, input * 0, E.where(input > lambd, input - lambd, input + lambd))
