"""Rounding to integral values (floor, ceil, trunc, round, frac) and the remainders of a
rounded division (fmod, remainder, floor_divide), as composites of the ``floor`` primitive.

Integer tensors come back unchanged from the roundings, as in PyTorch; the roundings have a
zero gradient. ``fmod`` and ``remainder`` are exact for floating inputs (as C's ``fmod`` is)
while the quotient stays below 2**53 (float32 and the half types, computed in float64) or
2**26 (float64).
"""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops import creation
from genesis._ops.arguments import as_operand, require_tensor, require_tensor_or_number
from genesis._ops.elementwise import binary_raw, div, unary_raw, where_raw
from genesis._ops.inplace_variant import inplace_variant, with_inplace
from genesis._ops.predicates import isinf
from genesis._tensor import Tensor, _cast_raw

__all__ = ["floor", "ceil", "trunc", "fix", "round", "frac", "fmod", "remainder",
           "floor_divide"]

_INT, _FLOAT = 1, 2
_INF = float("inf")
_TWO_26 = float(1 << 26)
_VELTKAMP = float((1 << 27) + 1)  # splits a float64 into two halves of 26 bits


# -- raw roundings (no autograd) ---------------------------------------------------------------

def floor_raw(x: Tensor) -> Tensor:
    return unary_raw("floor", x)


def ceil_raw(x: Tensor) -> Tensor:
    return unary_raw("neg", unary_raw("floor", unary_raw("neg", x)))


def trunc_raw(x: Tensor) -> Tensor:
    """Round toward zero (``-0.5`` gives ``-0.0``, as in C)."""
    return where_raw(binary_raw("lt", x, 0), ceil_raw(x), floor_raw(x))


def round_half_even_raw(x: Tensor) -> Tensor:
    """Round to the nearest integer, ties to even (C's ``nearbyint``).

    ``x - floor(x)`` is exact in binary floating point, so the tie test is exact too (unlike
    ``floor(x + 0.5)``, which rounds ``0.49999997`` up); values past the mantissa are
    integers already and come back unchanged.
    """
    r = floor_raw(x)
    d = binary_raw("sub", x, r)
    out = where_raw(binary_raw("gt", d, 0.5), binary_raw("add", r, 1), r)
    odd = binary_raw("sub", r, binary_raw("mul", floor_raw(binary_raw("mul", r, 0.5)), 2))
    out = where_raw(binary_raw("eq", d, 0.5), binary_raw("add", r, odd), out)
    return where_raw(binary_raw("eq", out, 0), binary_raw("mul", x, 0), out)  # -0.3 -> -0.0


def round_raw(x: Tensor, decimals: int) -> Tensor:
    """PyTorch's ``round(x, decimals)``: ``nearbyint(x * 10**d) / 10**d`` (``d > 0``) or
    ``nearbyint(x / 10**-d) * 10**-d``, in float32 for the half types."""
    if decimals == 0:
        return round_half_even_raw(x)
    work = x if x.dtype in (dt.float32, dt.float64) else _cast_raw(x, dt.float32)
    scale = 10.0 ** abs(decimals) if abs(decimals) <= 308 else float("inf")
    if decimals > 0:
        out = binary_raw("div", round_half_even_raw(binary_raw("mul", work, scale)), scale)
    else:
        out = binary_raw("mul", round_half_even_raw(binary_raw("div", work, scale)), scale)
    return _cast_raw(out, x.dtype)


# -- differentiable roundings ------------------------------------------------------------------

class Rounded(Function):
    """A rounding of ``x``: piecewise constant, so its gradient is zero (as in PyTorch)."""

    def forward(self, x, raw, *args):
        return raw(x, *args)

    def backward(self, g):
        return creation.zeros_like(g)


def _rounding_input(name: str, input, decimals: int = 0) -> bool:
    """Check ``input`` for rounding ``name``; whether it is floating (integers pass as is)."""
    require_tensor(name, "input", input)
    if input.dtype is dt.bool_ or (input.dtype.kind == _INT and (decimals or name == "frac")):
        raise NotImplementedError(f"{name}(): not implemented for input of dtype {input.dtype}")
    return input.dtype.kind == _FLOAT


def floor(input: Tensor) -> Tensor:
    """The largest integer not greater than each element (integers unchanged)."""
    return Rounded.apply(input, floor_raw) if _rounding_input("floor", input) else input.clone()


def ceil(input: Tensor) -> Tensor:
    """The smallest integer not less than each element (integers unchanged)."""
    return Rounded.apply(input, ceil_raw) if _rounding_input("ceil", input) else input.clone()


def trunc(input: Tensor) -> Tensor:
    """Each element rounded toward zero (integers unchanged)."""
    return Rounded.apply(input, trunc_raw) if _rounding_input("trunc", input) else input.clone()


def fix(input: Tensor) -> Tensor:
    """Alias of :func:`trunc`."""
    return trunc(input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round to ``decimals`` decimal places (negative: to tens, hundreds...), halves to even
    as in PyTorch; integer tensors unchanged (``decimals`` must then be 0)."""
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not "
                        f"{type(decimals).__name__}")
    if not _rounding_input("round", input, decimals):
        return input.clone()
    return Rounded.apply(input, round_raw, decimals)


def frac(input: Tensor) -> Tensor:
    """The fractional part ``input - trunc(input)`` (sign of ``input``; gradient 1)."""
    _rounding_input("frac", input)
    return input - trunc_raw(input.detach())


# -- remainders of a rounded division ---------------------------------------------------------

def _check_division(name: str, a, b) -> dt.DType:
    """The result dtype of ``name(a, b)``; refuses bool and integer division by zero."""
    dtype = dt.result_type(a, b)
    if dtype is dt.bool_:
        raise NotImplementedError(f"{name}(): not implemented for bool operands")
    if dtype.kind == _INT:
        if (b == 0) if not isinstance(b, Tensor) else bool(binary_raw("eq", b, 0).sum().item()):
            raise RuntimeError(f"{name}(): ZeroDivisionError (integer division by zero)")
    return dtype


def _fmod_float(a: Tensor, b: Tensor) -> Tensor:
    """Truncated-division remainder of float64 tensors, with exact partial products while
    the quotient is in range (see the module docstring)."""
    n = trunc_raw(binary_raw("div", a, b))
    c = binary_raw("mul", b, _VELTKAMP)  # split b in two 26-bit halves (24-bit b: lo = 0)
    ok = binary_raw("lt", unary_raw("abs", c), _INF)  # no split for huge b
    hi = where_raw(ok, binary_raw("sub", c, binary_raw("sub", c, b)), b)
    lo = where_raw(ok, binary_raw("sub", b, hi), 0.0)
    # and n in 27 + 26 bits: every partial product is exact
    n_hi = binary_raw("mul", trunc_raw(binary_raw("div", n, _TWO_26)), _TWO_26)
    n_lo = binary_raw("sub", n, n_hi)
    r = a
    for x, y in ((n_hi, hi), (n_lo, hi), (n_hi, lo), (n_lo, lo)):
        r = binary_raw("sub", r, binary_raw("mul", x, y))
    r = _fix_quotient_off_by_one(a, b, r)
    r = where_raw(binary_raw("eq", r, 0), binary_raw("mul", a, 0), r)  # zero takes a's sign
    finite_a = binary_raw("lt", unary_raw("abs", a), _INF)
    return where_raw(binary_raw("logical_and", isinf(b), finite_a), a, r)  # fmod(a, inf) = a


def _fix_quotient_off_by_one(a: Tensor, b: Tensor, r: Tensor) -> Tensor:
    """A rounded quotient may be one off: the remainder then has the wrong sign or reaches
    ``|b|``; one step of ``|b|`` toward ``a``'s sign mends it (exactly)."""
    sign_a = where_raw(binary_raw("lt", a, 0), -1, 1)
    step = _cast_raw(binary_raw("mul", unary_raw("abs", b), sign_a), r.dtype)
    r = where_raw(binary_raw("lt", binary_raw("mul", r, sign_a), 0),
                  binary_raw("add", r, step), r)
    too_big = binary_raw("ge", unary_raw("abs", r), unary_raw("abs", b))
    return where_raw(too_big, binary_raw("sub", r, step), r)


def _fmod_int(a: Tensor, b: Tensor) -> Tensor:
    q = div(a, b, rounding_mode="trunc")  # through float64: may be one off for huge values
    return _fix_quotient_off_by_one(a, b, binary_raw("sub", a, binary_raw("mul", q, b)))


def fmod_raw(a, b, dtype: dt.DType) -> Tensor:
    """C's ``fmod``: ``a - trunc(a / b) * b``, the sign of the dividend ``a``."""
    like = a if isinstance(a, Tensor) else b
    if dtype.kind != _FLOAT:
        return _fmod_int(as_operand(a, dtype, like), as_operand(b, dtype, like))
    r = _fmod_float(as_operand(a, dt.float64, like), as_operand(b, dt.float64, like))
    return _cast_raw(r, dtype)


def remainder_raw(a, b, dtype: dt.DType) -> Tensor:
    """Python's ``%``: ``a - floor(a / b) * b``, the sign of the divisor ``b``."""
    r = fmod_raw(a, b, dtype)
    b_neg = binary_raw("lt", b, 0) if isinstance(b, Tensor) else b < 0
    wrong = binary_raw("logical_and", binary_raw("logical_xor", binary_raw("lt", r, 0), b_neg),
                       binary_raw("ne", r, 0))
    return where_raw(wrong, binary_raw("add", r, b), r)


class Fmod(Function):
    saves = (0, 1)

    def forward(self, a, b, dtype):
        self.a, self.b = a, b
        return fmod_raw(a, b, dtype)

    def backward(self, g):
        na, nb = self.needs_input_grad[:2]
        gb = -(g * div(self.a, self.b, rounding_mode="trunc")) if nb else None
        return (g if na else None), gb


class Remainder(Function):
    saves = (0, 1)

    def forward(self, a, b, dtype):
        self.a, self.b = a, b
        return remainder_raw(a, b, dtype)

    def backward(self, g):
        na, nb = self.needs_input_grad[:2]
        if nb and not isinstance(self.a, Tensor):
            raise RuntimeError("derivative for remainder(Scalar, Tensor) is not implemented")
        gb = -(g * div(self.a, self.b, rounding_mode="floor")) if nb else None
        return (g if na else None), gb


def fmod(input: Tensor, other) -> Tensor:
    """Remainder of the division truncated toward zero (C's ``fmod``): the sign of ``input``.
    Integer division by zero raises; floating gives NaN."""
    require_tensor("fmod", "input", input)
    return Fmod.apply(input, other, _check_division("fmod", input, other))


def remainder(input, other) -> Tensor:
    """Remainder of the floor division (Python's ``%``): the sign of ``other``. Either
    argument may be a number."""
    require_tensor_or_number("remainder", input=input, other=other)
    return Remainder.apply(input, other, _check_division("remainder", input, other))


def floor_divide_raw(a, b, dtype: dt.DType) -> Tensor:
    """``floor(a / b)`` of the exact quotient, by PyTorch's (and Python's) algorithm for
    floats: ``(a - fmod(a, b)) / b``, moved down when the remainder's sign disagrees with ``b``,
    then rounded to the nearest integer (``1.0 // 0.1`` is 9, where ``floor(1.0 / 0.1)`` is 10).
    """
    if dtype.kind != _FLOAT:
        return div(a, b, rounding_mode="floor")
    like = a if isinstance(a, Tensor) else b
    a, b = as_operand(a, dt.float64, like), as_operand(b, dt.float64, like)
    mod = _fmod_float(a, b)
    q = binary_raw("div", binary_raw("sub", a, mod), b)
    wrong = binary_raw("logical_and", binary_raw("ne", mod, 0), binary_raw(
        "logical_xor", binary_raw("lt", b, 0), binary_raw("lt", mod, 0)))
    q = where_raw(wrong, binary_raw("sub", q, 1), q)
    fl = floor_raw(q)
    fl = where_raw(binary_raw("gt", binary_raw("sub", q, fl), 0.5), binary_raw("add", fl, 1), fl)
    quotient = binary_raw("div", a, b)
    fl = where_raw(binary_raw("eq", q, 0), binary_raw("mul", quotient, 0), fl)  # signed zero
    return _cast_raw(where_raw(binary_raw("eq", b, 0), quotient, fl), dtype)


class FloorDivide(Function):
    """In the graph like PyTorch's floor_divide, which has no derivative: backward raises."""

    def forward(self, a, b, dtype):
        return floor_divide_raw(a, b, dtype)

    def backward(self, g):
        raise RuntimeError("derivative for floor_divide is not implemented")


def floor_divide(input, other) -> Tensor:
    """``floor(input / other)`` of the exact quotient (PyTorch's ``//``); integer for integer
    operands, whose division by zero raises. Either argument may be a number."""
    require_tensor_or_number("floor_divide", input=input, other=other)
    return FloorDivide.apply(input, other, _check_division("floor_divide", input, other))


_remainder_ = inplace_variant(remainder, "remainder_")
_floor_divide_ = inplace_variant(floor_divide, "floor_divide_")

TENSOR_METHODS = {
    **with_inplace(floor, ceil, trunc, fix, round, frac, fmod),
    "remainder": remainder, "remainder_": _remainder_, "__imod__": _remainder_,
    "floor_divide": floor_divide, "floor_divide_": _floor_divide_, "__ifloordiv__": _floor_divide_,
    "__mod__": remainder, "__rmod__": lambda self, other: remainder(other, self),
    "__floordiv__": floor_divide, "__rfloordiv__": lambda self, other: floor_divide(other, self),
}
