"""Trigonometric and hyperbolic functions as composites of the primitives (``atan2``,
``log1p``, ``expm1``, ``sqrt``, ``sin``/``cos``), in forms that keep full precision near 0
and near the ends of their domains; autograd differentiates the composites.
"""

from __future__ import annotations

from genesis._ops.autocast import autocast_op
from genesis._ops.elementwise import abs, atan2, cos, expm1, log1p, sin, sqrt, where
from genesis._tensor import Tensor

__all__ = ["acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "asin",
           "asinh", "atan", "atanh", "cosh", "sinh", "tan"]


def _branches(take_first: Tensor, x: Tensor, first_fill: float, second_fill: float) -> tuple:
    """``x`` for the two sides of a ``where``, each set to a harmless constant where the other
    side is taken, so no inf/NaN of the unused side reaches the gradient."""
    return where(take_first, x, first_fill), where(take_first, second_fill, x)


@autocast_op("tan")
def tan(input: Tensor) -> Tensor:
    """Tangent (radians)."""
    return sin(input) / cos(input)


def atan(input: Tensor) -> Tensor:
    """Inverse tangent, in ``(-pi/2, pi/2)``."""
    return atan2(input, 1.0)


@autocast_op("asin")
def asin(input: Tensor) -> Tensor:
    """Inverse sine on ``[-1, 1]`` (NaN outside), in ``[-pi/2, pi/2]``."""
    return atan2(input, sqrt((1 - input) * (1 + input)))


@autocast_op("acos")
def acos(input: Tensor) -> Tensor:
    """Inverse cosine on ``[-1, 1]`` (NaN outside), in ``[0, pi]``."""
    return atan2(sqrt((1 - input) * (1 + input)), input)


@autocast_op("sinh")
def sinh(input: Tensor) -> Tensor:
    """Hyperbolic sine: ``(e + e / (e + 1)) / 2`` with ``e = expm1(x)`` for ``|x| < 1`` (no
    cancellation near 0), ``(exp(x) - exp(-x)) / 2`` beyond."""
    inner = abs(input) < 1
    xs, xb = _branches(inner, input, 0.0, 1.0)
    e = expm1(xs)
    return where(inner, (e + e / (e + 1)) * 0.5, (xb.exp() - (-xb).exp()) * 0.5)


@autocast_op("cosh")
def cosh(input: Tensor) -> Tensor:
    """Hyperbolic cosine ``(exp(x) + exp(-x)) / 2``."""
    return (input.exp() + (-input).exp()) * 0.5


_LN2 = 0.6931471805599453
_HUGE = 1e150  # beyond it x*x overflows float64: use log(2|x|)


def asinh(input: Tensor) -> Tensor:
    """Inverse hyperbolic sine, odd: ``log1p(a + a^2 / (1 + sqrt(1 + a^2)))`` of ``a = |x|``
    (``log(2a)`` for huge ``a``); the sign by ``where``, so the gradient at 0 is 1."""
    negative = input < 0
    a = where(negative, -input, input)
    huge = a > _HUGE
    ab, as_ = _branches(huge, a, 2.0, 0.0)
    r = where(huge, ab.log() + _LN2, log1p(as_ + as_ * as_ / (1 + sqrt(1 + as_ * as_))))
    return where(negative, -r, r)


def acosh(input: Tensor) -> Tensor:
    """Inverse hyperbolic cosine on ``[1, inf)``: ``log1p(t + sqrt(t * (t + 2)))``, ``t = x - 1``
    (``log(2x)`` for huge ``x``)."""
    huge = input > _HUGE
    xb, xs = _branches(huge, input, 2.0, 1.0)
    t = xs - 1
    return where(huge, xb.log() + _LN2, log1p(t + sqrt(t * (t + 2))))


def atanh(input: Tensor) -> Tensor:
    """Inverse hyperbolic tangent on ``(-1, 1)``: ``log1p(2x / (1 - x)) / 2``."""
    return log1p(input * 2 / (1 - input)) * 0.5


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh

TENSOR_METHODS = {name: globals()[name] for name in __all__}
