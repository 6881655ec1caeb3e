"""Elementwise ops: the raw kernel calls (promotion, broadcasting) and their derivatives."""

from __future__ import annotations

import math

from genesis import _dtype as dt
from genesis._autograd.function import Function, ProductSaves
from genesis._autograd.grad_mode import _State
from genesis._ops.autocast import autocast_op
from genesis._ops.fused import run_fused
from genesis._tensor import Tensor, _cast_raw, _expand_raw, _make, broadcast_shapes, from_data

_INT, _FLOAT = 1, 2
_COMPARISONS = frozenset(("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
                          "logical_xor"))
_FLOAT_UNARY = frozenset(("exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "erf",
                          "log1p", "expm1", "erfinv"))
_FLOAT_BINARY = frozenset(("div", "atan2"))  # integer inputs give the default float dtype
Scalar = (int, float, bool)


# -- raw layer -------------------------------------------------------------------------

def binary_raw(op: str, a, b, out: Tensor | None = None) -> Tensor:
    """Run binary kernel ``op`` with PyTorch promotion and broadcasting (no autograd)."""
    if out is None and isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype is b.dtype \
            and a.shape == b.shape and a.device is b.device and \
            (op not in _FLOAT_BINARY or a.dtype.kind == _FLOAT):
        # the common case, kept short: same dtype, shape and device
        dtype = dt.bool_ if op in _COMPARISONS else a.dtype
        return _make(a._backend.binary(op, a, b, dtype), a.shape, dtype, a.device, a._backend)
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        ref = a
        if a.dtype is b.dtype:
            dtype = a.dtype
        else:
            dtype = dt.result_type(a, b)
        if a.device is not b.device and a.device != b.device:
            if b.ndim == 0 and b.device.type == "cpu":
                b = b.to(a.device)
            elif a.ndim == 0 and a.device.type == "cpu":
                a = a.to(b.device)
                ref = b
            else:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                                   f"least two devices, {a.device} and {b.device}!")
        shape = a.shape if a.shape == b.shape else broadcast_shapes(a.shape, b.shape)
    elif isinstance(a, Tensor):
        if not isinstance(b, Scalar):
            return binary_raw(op, a, _as_tensor(b, a), out)
        ref, shape = a, a.shape
        dtype = _scalar_promote(a, b)
    else:
        if not isinstance(a, Scalar):
            return binary_raw(op, _as_tensor(a, b), b, out)
        ref, shape = b, b.shape
        dtype = _scalar_promote(b, a)
    if op in _FLOAT_BINARY and dtype.kind != _FLOAT:
        dtype = dt.get_default_dtype()
    out_dtype = dt.bool_ if op in _COMPARISONS else dtype
    if op not in ("logical_and", "logical_or", "logical_xor"):
        if dtype.kind == _INT:  # Python ints wrap into the integer dtype, as in PyTorch
            a = _wrap_int(a, dtype) if type(a) is int else a
            b = _wrap_int(b, dtype) if type(b) is int else b
        if isinstance(a, Tensor):
            a = _prepare(a, dtype, shape)
        if isinstance(b, Tensor):
            b = _prepare(b, dtype, shape)
    else:
        a = _expand_raw(a, shape) if isinstance(a, Tensor) and a.shape != shape else a
        b = _expand_raw(b, shape) if isinstance(b, Tensor) and b.shape != shape else b
    if out is not None:
        if out.dtype is not out_dtype and op not in _COMPARISONS:
            out_dtype = out.dtype
        ref._backend.binary(op, a, b, out_dtype, out)
        return out
    storage = ref._backend.binary(op, a, b, out_dtype)
    return _make(storage, shape, out_dtype, ref.device, ref._backend)


def _wrap_int(value: int, dtype: dt.DType) -> int:
    """``value`` modulo 2**bits, in the range of integer ``dtype`` (two's complement)."""
    bits = dtype.itemsize * 8
    lo = -(1 << (bits - 1)) if dtype.is_signed else 0
    if lo <= value < lo + (1 << bits):
        return value
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= lo + (1 << bits) else value


def _scalar_promote(t: Tensor, s) -> dt.DType:
    """Result dtype of tensor ``t`` with Python scalar ``s``: the tensor's unless ``s`` is of a
    higher kind (float scalar with an integer tensor, int scalar with a bool tensor)."""
    kind = t.dtype.kind
    if (type(s) is float and kind != _FLOAT) or (type(s) is int and kind == 0):
        return dt.result_type(t, s)
    return t.dtype


def _prepare(x: Tensor, dtype: dt.DType, shape: tuple) -> Tensor:
    if x.dtype is not dtype:
        x = _cast_raw(x, dtype)
    if x.shape != shape:
        x = _expand_raw(x, shape)
    return x


def _as_tensor(value, like: Tensor) -> Tensor:
    try:
        return from_data(value, device=like.device)
    except TypeError:
        raise TypeError(f"unsupported operand: expected a Tensor or a number, got "
                        f"{type(value).__name__}") from None


def unary_raw(op: str, x: Tensor, out: Tensor | None = None) -> Tensor:
    dtype = x.dtype
    if op in _FLOAT_UNARY and dtype.kind != _FLOAT:
        dtype = dt.get_default_dtype()
        x = _cast_raw(x, dtype)
    elif op == "logical_not":
        dtype = dt.bool_
    if out is not None:
        x._backend.unary(op, x, out.dtype, out)
        return out
    return _make(x._backend.unary(op, x, dtype), x.shape, dtype, x.device, x._backend)


def where_raw(cond: Tensor, a, b) -> Tensor:
    ref = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else cond
    dtype = dt.result_type(a, b)
    shapes = [t.shape for t in (cond, a, b) if isinstance(t, Tensor)]
    shape = broadcast_shapes(*shapes)
    if cond.dtype is not dt.bool_:
        cond = binary_raw("ne", cond, 0)
    cond = _expand_raw(cond, shape) if cond.shape != shape else cond
    a = _prepare(a, dtype, shape) if isinstance(a, Tensor) else a
    b = _prepare(b, dtype, shape) if isinstance(b, Tensor) else b
    return _make(ref._backend.where(cond, a, b, dtype), shape, dtype, ref.device, ref._backend)


# -- differentiable ops ------------------------------------------------------------------

class Add(Function):
    def forward(self, a, b):
        return binary_raw("add", a, b)

    def backward(self, g):
        return g, g


class Sub(Function):
    def forward(self, a, b):
        return binary_raw("sub", a, b)

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(ProductSaves, Function):

    def forward(self, a, b):
        self.a, self.b = a, b
        return binary_raw("mul", a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        return (g * self.b if na else None), (g * self.a if nb else None)


class Div(Function):
    saves = (0, 1)

    def forward(self, a, b):
        self.a, self.b = a, b
        return binary_raw("div", a, b)

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = g / self.b if na else None
        gb = -(g * self.a) / (self.b * self.b) if nb else None
        return ga, gb


class Pow(Function):
    saves = (0, 1, 'out')

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = binary_raw("pow", a, b)
        return self.out

    def backward(self, g):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        ga = gb = None
        if na:
            ga = g * b * a ** (b - 1)
        if nb:
            log_a = a.log() if isinstance(a, Tensor) else math.log(a) if a > 0 else float("nan")
            gb = where(self.out == 0, 0.0, g * self.out * log_a) if isinstance(a, Tensor) else \
                g * self.out * log_a
        return ga, gb


class Maximum(Function):
    saves = (0, 1)

    def forward(self, a, b):
        self.a, self.b = a, b
        return binary_raw("maximum", a, b)

    def backward(self, g):
        return _minmax_backward(g, self.a, self.b, self.needs_input_grad, "lt", "gt")


class Minimum(Function):
    saves = (0, 1)

    def forward(self, a, b):
        self.a, self.b = a, b
        return binary_raw("minimum", a, b)

    def backward(self, g):
        return _minmax_backward(g, self.a, self.b, self.needs_input_grad, "gt", "lt")


def _minmax_backward(g, a, b, needs, lose_a: str, lose_b: str):
    """Ties share the gradient equally, as PyTorch does."""
    tie = where(a == b, g / 2, g)
    ga = where(binary_raw(lose_a, a, b), 0.0, tie) if needs[0] else None
    gb = where(binary_raw(lose_b, a, b), 0.0, tie) if needs[1] else None
    return ga, gb


class Unary(Function):
    op = ""

    def forward(self, x):
        self.x = x
        self.out = unary_raw(self.op, x)
        return self.out


class Neg(Unary):
    op = "neg"

    def backward(self, g):
        return -g


class Abs(Unary):
    saves = (0,)
    op = "abs"

    def backward(self, g):
        return g * self.x.sign()


class Exp(Unary):
    saves = ('out',)
    op = "exp"

    def backward(self, g):
        return g * self.out


class Log(Unary):
    saves = (0,)
    op = "log"

    def backward(self, g):
        return g / self.x


class Sqrt(Unary):
    saves = ('out',)
    op = "sqrt"

    def backward(self, g):
        return g / (self.out * 2)


class Rsqrt(Unary):
    saves = ('out',)
    op = "rsqrt"

    def backward(self, g):
        return g * self.out * self.out * self.out * -0.5


class Sin(Unary):
    saves = (0,)
    op = "sin"

    def backward(self, g):
        return g * self.x.cos()


class Cos(Unary):
    saves = (0,)
    op = "cos"

    def backward(self, g):
        return -(g * self.x.sin())


class Tanh(Unary):
    saves = ('out',)
    op = "tanh"

    def backward(self, g):
        return g * (1 - self.out * self.out)


class Sigmoid(Unary):
    saves = ('out',)
    op = "sigmoid"

    def backward(self, g):
        return g * self.out * (1 - self.out)


class Relu(Unary):
    saves = ('out',)
    op = "relu"

    def backward(self, g):
        if not _State.enabled and g.dtype is self.out.dtype:
            gx = run_fused("relu_backward", g, g, self.out)
            if gx is not None:
                return gx
        return where(self.out > 0, g, 0.0)


class Erf(Unary):
    saves = (0,)
    op = "erf"

    def backward(self, g):
        return g * (-(self.x * self.x)).exp() * (2.0 / math.sqrt(math.pi))


class Sign(Unary):
    op = "sign"

    def backward(self, g):
        return g * 0


class Log1p(Unary):
    saves = (0,)
    op = "log1p"

    def backward(self, g):
        return g / (self.x + 1)


class Expm1(Unary):
    saves = ('out',)
    op = "expm1"

    def backward(self, g):
        return g * (self.out + 1)


class Erfinv(Unary):
    saves = ('out',)
    op = "erfinv"

    def backward(self, g):
        return g * (self.out * self.out).exp() * (math.sqrt(math.pi) / 2)


class Atan2(Function):
    """``atan2(y, x)``; backward ``(x, -y) * g / (x**2 + y**2)``."""
    saves = (0, 1)

    def forward(self, y, x):
        self.y, self.x = y, x
        return binary_raw("atan2", y, x)

    def backward(self, g):
        ny, nx = self.needs_input_grad
        scale = g / (self.x * self.x + self.y * self.y)
        return (scale * self.x if ny else None), (-(scale * self.y) if nx else None)


class Where(Function):
    saves = (0,)

    def forward(self, cond, a, b):
        self.cond = cond
        return where_raw(cond, a, b)

    def backward(self, g):
        _, na, nb = self.needs_input_grad
        return (None, where(self.cond, g, 0.0) if na else None,
                where(self.cond, 0.0, g) if nb else None)


class Clamp(Function):
    saves = (0, 1, 2)

    def forward(self, x, lo, hi):
        self.x, self.lo, self.hi = x, lo, hi
        out = x
        if lo is not None:
            out = binary_raw("maximum", out, lo)
        if hi is not None:
            out = binary_raw("minimum", out, hi)
        return out if out is not x else binary_raw("add", x, 0)

    def backward(self, g):
        """PyTorch's rule: ``x`` gets the gradient inside ``[lo, hi]``, a bound where ``x``
        passes it; when the bounds cross (``lo > hi``) the result is ``hi``, whose gradient it
        is; a tie ``lo == hi`` below ``lo`` gives no gradient at all."""
        x, lo, hi = self.x, self.lo, self.hi
        nx, nlo, nhi = self.needs_input_grad
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep.logical_and(x <= hi)
        gx = (where(keep, g, 0.0) if keep is not None else g) if nx else None
        glo = ghi = None
        if nlo:
            below = x < lo
            glo = where(below if hi is None else below.logical_and(lo < hi), g, 0.0)
        if nhi:
            above = x > hi
            ghi = where(above if lo is None else above.logical_or(hi < lo), g, 0.0)
        return gx, glo, ghi


# -- public functions (PyTorch names and signatures) ---------------------------------------

def add(input, other, *, alpha=1):
    """``input + alpha * other`` with broadcasting and type promotion."""
    return Add.apply(input, other if alpha == 1 else mul(other, alpha))


def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    return Sub.apply(input, other if alpha == 1 else mul(other, alpha))


def mul(input, other):
    """Elementwise product."""
    return Mul.apply(input, other)


def div(input, other, *, rounding_mode: str | None = None):
    """True division; ``rounding_mode`` ``"trunc"`` or ``"floor"`` rounds (no gradient)."""
    if rounding_mode is None:
        return Div.apply(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode={rounding_mode!r}, expected None, 'trunc' or "
                         "'floor'")
    dtype = dt.result_type(input, other)
    if dtype.kind != _FLOAT:  # float64 holds integer quotients exactly (float32 would round)
        input = _cast_raw(input, dt.float64) if type(input) is Tensor else input
        other = _cast_raw(other, dt.float64) if type(other) is Tensor else other
    q = binary_raw("div", input, other)
    r = unary_raw("floor", q)
    if rounding_mode == "trunc":  # round toward zero: floor of |q|, sign restored
        r = binary_raw("mul", unary_raw("floor", unary_raw("abs", q)), unary_raw("sign", q))
    return _cast_raw(r, dtype)


@autocast_op("pow")
def pow(input, exponent):  # noqa: A001 (PyTorch's name)
    """``input ** exponent``."""
    return Pow.apply(input, exponent)


def maximum(input, other):
    """Elementwise maximum of ``input`` and ``other`` (broadcast); ties share the gradient."""
    return Maximum.apply(input, other)


def minimum(input, other):
    """Elementwise minimum of ``input`` and ``other`` (broadcast); ties share the gradient."""
    return Minimum.apply(input, other)


def neg(input):
    """``-input``."""
    return Neg.apply(input)


def abs(input):  # noqa: A001
    """``|input|`` (gradient ``sign(input)``)."""
    return Abs.apply(input)


@autocast_op("exp")
def exp(input):
    """``e ** input``."""
    return Exp.apply(input)


@autocast_op("log")
def log(input):
    """Natural logarithm."""
    return Log.apply(input)


def sqrt(input):
    """Square root."""
    return Sqrt.apply(input)


@autocast_op("rsqrt")
def rsqrt(input):
    """``1 / sqrt(input)``."""
    return Rsqrt.apply(input)


def sin(input):
    """Sine (radians)."""
    return Sin.apply(input)


def cos(input):
    """Cosine (radians)."""
    return Cos.apply(input)


def tanh(input):
    """Hyperbolic tangent."""
    return Tanh.apply(input)


def sigmoid(input):
    """``1 / (1 + exp(-input))``."""
    return Sigmoid.apply(input)


def relu(input):
    """``max(input, 0)``."""
    return Relu.apply(input)


def erf(input):
    """The Gauss error function."""
    return Erf.apply(input)


def sign(input):
    """-1, 0 or 1 by the sign of each element (zero gradient)."""
    return Sign.apply(input)


@autocast_op("log1p")
def log1p(input):
    """``log(1 + input)``, accurate for small ``input``."""
    return Log1p.apply(input)


@autocast_op("expm1")
def expm1(input):
    """``exp(input) - 1``, accurate for small ``input``."""
    return Expm1.apply(input)


@autocast_op("erfinv")
def erfinv(input):
    """The inverse of :func:`erf` on (-1, 1) (±inf at ±1, NaN outside)."""
    return Erfinv.apply(input)


@autocast_op("atan2")
def atan2(input, other):
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right
    quadrant, in ``[-pi, pi]`` (integer inputs give the default float dtype)."""
    return Atan2.apply(input, other)


def square(input):
    """``input * input``."""
    return Mul.apply(input, input)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other`` (tensors or scalars, broadcast).

    ``where(condition)`` alone is ``condition.nonzero(as_tuple=True)``.
    """
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): expected where(condition) or where(condition, input, other); "
                        f"got input={'None' if input is None else 'a value'} and "
                        f"other={'None' if other is None else 'a value'}")
    return Where.apply(condition, input, other)


def clamp(input, min=None, max=None):  # noqa: A002
    """Limit values to ``[min, max]`` (either may be ``None``; scalars or tensors)."""
    if min is None and max is None:
        raise RuntimeError("clamp(): at least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min, max)


def _compare(op):
    def fn(input, other):
        return binary_raw(op, input, other)
    fn.__name__ = op
    fn.__doc__ = f"Elementwise ``{op}`` comparison; returns a bool tensor (no gradient)."
    return fn


eq, ne, lt, le, gt, ge = (_compare(o) for o in ("eq", "ne", "lt", "le", "gt", "ge"))
logical_and, logical_or, logical_xor = (_compare(o) for o in ("logical_and", "logical_or",
                                                              "logical_xor"))


def logical_not(input):
    """Elementwise not; returns a bool tensor."""
    return unary_raw("logical_not", input)
