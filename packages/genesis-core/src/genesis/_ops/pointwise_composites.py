"""Elementwise math composed of the primitives: lerp, hypot, logaddexp(2), copysign, xlogy,
reciprocal, log2/log10/exp2, float_power, clamp_min/clamp_max.

Where a composite's own derivative would be wrong at special values, or PyTorch defines the
gradient by a formula of its own, the op is a :class:`Function` whose forward runs the raw
kernels and whose backward is PyTorch's formula.
"""

from __future__ import annotations

import math

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops import creation
from genesis._ops.arguments import (
    as_operand,
    float_result,
    is_number,
    require_tensor,
    require_tensor_or_number,
)
from genesis._ops.autocast import autocast_op
from genesis._ops.elementwise import Div, Pow, binary_raw, clamp, unary_raw, where, where_raw
from genesis._ops.inplace_variant import inplace_variant, with_inplace
from genesis._ops.predicates import isinf, isnan, signbit_raw
from genesis._tensor import Tensor, _cast_raw

__all__ = ["lerp", "hypot", "logaddexp", "logaddexp2", "copysign", "xlogy", "reciprocal",
           "log2", "log10", "exp2", "float_power", "clamp_min", "clamp_max"]

_FLOAT = 2
_INF = float("inf")


def _floating_tensors(fn: str, input, other) -> dt.DType:
    """Check the two tensor operands of ``fn``; their promoted floating dtype."""
    require_tensor(fn, "input", input)
    require_tensor(fn, "other", other)
    dtype = dt.promote_types(input.dtype, other.dtype)
    if dtype.kind != _FLOAT:
        raise NotImplementedError(f"{fn}(): not implemented for operands of dtype {dtype}")
    return dtype


# -- lerp ----------------------------------------------------------------------------------------

def check_lerp_arguments(input: Tensor, end: Tensor, weight) -> None:
    """PyTorch's checks: floating ``input``, ``end`` of its dtype, ``weight`` a number or a
    tensor of its dtype (a 0-d one may differ)."""
    require_tensor("lerp", "input", input)
    require_tensor("lerp", "end", end)
    if input.dtype.kind != _FLOAT:
        raise NotImplementedError(f"lerp(): not implemented for input of dtype {input.dtype}")
    if end.dtype is not input.dtype:
        raise RuntimeError(f"lerp(): expected dtype {input.dtype} for `end` but got dtype "
                           f"{end.dtype}")
    if isinstance(weight, Tensor):
        if weight.ndim and weight.dtype is not input.dtype:
            raise RuntimeError(f"lerp(): expected dtype {input.dtype} for `weight` but got "
                               f"dtype {weight.dtype}")
    elif not is_number(weight):
        raise TypeError(f"lerp(): argument 'weight' must be a Tensor or a number, not "
                        f"{type(weight).__name__}")


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """``input + weight * (end - input)``, by PyTorch's two-sided formula: for
    ``|weight| >= 0.5`` it is ``end - (end - input) * (1 - weight)``, so weight 1 gives ``end``
    exactly. ``weight`` is a number or a tensor (broadcast)."""
    check_lerp_arguments(input, end, weight)
    diff = end - input
    if not isinstance(weight, Tensor):
        return input + diff * weight if abs(weight) < 0.5 else end - diff * (1 - weight)
    small = binary_raw("lt", unary_raw("abs", weight), 0.5)
    return where(small, input + weight * diff, end - diff * (1 - weight))


# -- hypot, logaddexp ----------------------------------------------------------------------------

class Hypot(Function):
    saves = (0, 1, "out")

    def forward(self, a, b, dtype):
        self.a, self.b = a, b
        a = unary_raw("abs", _cast_raw(a, dt.float64))
        b = unary_raw("abs", _cast_raw(b, dt.float64))
        if dtype is dt.float64:  # scaled by the larger magnitude: no overflow, no underflow
            big, small = binary_raw("maximum", a, b), binary_raw("minimum", a, b)
            ratio = binary_raw("div", small, big)
            out = binary_raw("mul", big, unary_raw("sqrt", binary_raw("add", binary_raw(
                "mul", ratio, ratio), 1)))
            out = where_raw(binary_raw("eq", big, 0), 0.0, out)
        else:  # the squares of 24-bit operands neither overflow nor lose bits in float64
            out = unary_raw("sqrt", binary_raw("add", binary_raw("mul", a, a),
                                               binary_raw("mul", b, b)))
        out = where_raw(binary_raw("logical_or", isinf(a), isinf(b)), _INF, out)  # inf beats NaN
        self.out = _cast_raw(out, dtype)
        return self.out

    def backward(self, g):
        na, nb = self.needs_input_grad[:2]
        return (g * self.a / self.out if na else None), (g * self.b / self.out if nb else None)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow (floating tensors, broadcast)."""
    return Hypot.apply(input, other, _floating_tensors("hypot", input, other))


def _log1p_raw(e: Tensor) -> Tensor:
    """``log(1 + e)`` accurate for small ``e`` (Goldberg: ``log(u) * e / (u - 1)``, u = 1 + e)."""
    u = binary_raw("add", e, 1)
    um1 = binary_raw("sub", u, 1)
    return where_raw(binary_raw("eq", um1, 0), e,
                     binary_raw("div", binary_raw("mul", unary_raw("log", u), e), um1))


class LogAddExp(Function):
    """``log(exp(a) + exp(b))`` (base 2 with ``base2``): ``max + log1p(exp(-|a - b|))``."""
    saves = (0, 1)

    def forward(self, a, b, dtype, base2):
        self.a, self.b, self.base2 = a, b, base2
        work = dtype if dtype in (dt.float32, dt.float64) else dt.float32
        a, b = _cast_raw(a, work), _cast_raw(b, work)
        d = unary_raw("neg", unary_raw("abs", binary_raw("sub", a, b)))
        if base2:
            tail = binary_raw("div", _log1p_raw(binary_raw("pow", 2.0, d)), math.log(2))
        else:
            tail = _log1p_raw(unary_raw("exp", d))
        out = binary_raw("add", binary_raw("maximum", a, b), tail)
        same_inf = binary_raw("logical_and", binary_raw("eq", a, b), isinf(a))
        return _cast_raw(where_raw(same_inf, a, out), dtype)  # -inf, -inf gives -inf

    def backward(self, g):
        na, nb = self.needs_input_grad[:2]
        a, b = self.a, self.b

        def share(x, y):  # PyTorch: grad / (1 + exp(y - x)), base 2: grad / (1 + 2**(y - x))
            return g / (((y - x) * math.log(2)).exp() + 1 if self.base2 else (y - x).exp() + 1)
        return (share(a, b) if na else None), (share(b, a) if nb else None)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow (floating tensors, broadcast)."""
    return LogAddExp.apply(input, other, _floating_tensors("logaddexp", input, other), False)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """``log2(2**input + 2**other)`` without overflow (floating tensors, broadcast)."""
    return LogAddExp.apply(input, other, _floating_tensors("logaddexp2", input, other), True)


# -- copysign, xlogy -----------------------------------------------------------------------------

class Copysign(Function):
    saves = (0, "out")

    def forward(self, a, b, dtype):
        self.a = a
        magnitude = unary_raw("abs", _cast_raw(a, dtype))
        if isinstance(b, Tensor):
            self.out = where_raw(signbit_raw(b), unary_raw("neg", magnitude), magnitude)
        else:  # math.copysign reads the sign of -0.0
            self.out = unary_raw("neg", magnitude) if math.copysign(1.0, b) < 0 else magnitude
        return self.out

    def backward(self, g):
        na, nb = self.needs_input_grad[:2]
        # PyTorch: grad * result / input, zero where input is zero; none reaches `other`
        ga = g * where(self.a == 0, 0.0, self.out / self.a) if na else None
        return ga, (creation.zeros_like(g) if nb else None)


def copysign(input: Tensor, other) -> Tensor:
    """The magnitude of ``input`` with the sign of ``other`` (a tensor or number; -0.0 counts
    as negative), always floating. Divergence: a NaN ``other`` counts as positive."""
    require_tensor("copysign", "input", input)
    require_tensor_or_number("copysign", input=input, other=other)
    return Copysign.apply(input, other, float_result(input, other))


class Xlogy(Function):
    saves = (0, 1)

    def forward(self, x, y, dtype):
        self.x, self.y = x, y
        like = x if isinstance(x, Tensor) else y
        x, y = as_operand(x, dtype, like), as_operand(y, dtype, like)
        zero = binary_raw("eq", x, 0)
        out = binary_raw("mul", x, unary_raw("log", where_raw(zero, 1.0, y)))  # no 0 * log(0)
        return where_raw(isnan(y), float("nan"), where_raw(zero, 0.0, out))  # +0.0, as torch

    def backward(self, g):
        nx, ny = self.needs_input_grad[:2]
        gx = g * xlogy(self.x != 0, self.y) if nx else None
        gy = g * self.x / self.y if ny else None
        return gx, gy


def xlogy(input, other) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (NaN where ``other`` is NaN); either
    argument may be a number; always floating."""
    require_tensor_or_number("xlogy", input=input, other=other)
    return Xlogy.apply(input, other, float_result(input, other))


# -- reciprocal, log2, log10, exp2, float_power ---------------------------------------------------

@autocast_op("reciprocal")
def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``, floating (integers promote to the default dtype)."""
    require_tensor("reciprocal", "input", input)
    return Div.apply(1.0, input)


class LogBase(Function):
    """Logarithm to ``base``, computed in float64; exact powers of ``base`` give exact
    integers (``log2(8) == 3``)."""
    saves = (0,)

    def forward(self, x, base):
        self.x, self.base = x, base
        dtype = x.dtype if x.dtype.kind == _FLOAT else dt.get_default_dtype()
        x = _cast_raw(x, dt.float64)
        y = binary_raw("div", unary_raw("log", x), math.log(base))
        k = unary_raw("floor", binary_raw("add", y, 0.5))
        y = where_raw(binary_raw("eq", binary_raw("pow", float(base), k), x), k, y)
        return _cast_raw(y, dtype)

    def backward(self, g):
        return g / (self.x * math.log(self.base))


@autocast_op("log2")
def log2(input: Tensor) -> Tensor:
    """Base-2 logarithm, floating."""
    require_tensor("log2", "input", input)
    return LogBase.apply(input, 2)


@autocast_op("log10")
def log10(input: Tensor) -> Tensor:
    """Base-10 logarithm, floating."""
    require_tensor("log10", "input", input)
    return LogBase.apply(input, 10)


def exp2(input: Tensor) -> Tensor:
    """``2 ** input``, floating."""
    require_tensor("exp2", "input", input)
    return Pow.apply(2.0, input)


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64 (the result is float64)."""
    require_tensor_or_number("float_power", input=input, exponent=exponent)
    base = input.to(dt.float64) if isinstance(input, Tensor) else float(input)
    power = exponent.to(dt.float64) if isinstance(exponent, Tensor) else exponent
    return Pow.apply(base, power)


def _float_power_(self: Tensor, exponent) -> Tensor:
    """In-place :func:`float_power`: ``self`` must be float64 already (PyTorch's rule)."""
    if self.dtype is not dt.float64:
        raise RuntimeError(f"float_power_(): the base given to float_power_ has dtype "
                           f"{self.dtype} but the operation's result requires dtype float64")
    return _float_power_inplace(self, exponent)


_float_power_inplace = inplace_variant(float_power, "float_power_")


# -- one-sided clamps ------------------------------------------------------------------------------

def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002 - PyTorch's name
    """``clamp(input, min=min)``: values below ``min`` (a number or tensor) raised to it."""
    if min is None:
        raise TypeError("clamp_min(): argument 'min' must be a Tensor or a number, not None")
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002 - PyTorch's name
    """``clamp(input, max=max)``: values above ``max`` (a number or tensor) lowered to it."""
    if max is None:
        raise TypeError("clamp_max(): argument 'max' must be a Tensor or a number, not None")
    return clamp(input, max=max)


def _clamp_min_(self: Tensor, min) -> Tensor:  # noqa: A002
    """In-place :func:`clamp_min`."""
    if min is None:
        raise TypeError("clamp_min_(): argument 'min' must be a Tensor or a number, not None")
    return self.clamp_(min=min)


def _clamp_max_(self: Tensor, max) -> Tensor:  # noqa: A002
    """In-place :func:`clamp_max`."""
    if max is None:
        raise TypeError("clamp_max_(): argument 'max' must be a Tensor or a number, not None")
    return self.clamp_(max=max)


TENSOR_METHODS = {
    "lerp": lerp,
    "logaddexp": logaddexp, "logaddexp2": logaddexp2,
    **with_inplace(hypot, copysign, xlogy, reciprocal, log2, log10, exp2),
    "float_power": float_power, "float_power_": _float_power_,
    "clamp_min": clamp_min, "clamp_min_": _clamp_min_,
    "clamp_max": clamp_max, "clamp_max_": _clamp_max_,
}
