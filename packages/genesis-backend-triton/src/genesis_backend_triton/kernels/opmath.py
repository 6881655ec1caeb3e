"""Scalar math shared by the kernels: the elementwise op tables and precise helpers."""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl

SQRT1_2 = tl.constexpr(0.7071067811865476)
INV_SQRT_2PI = tl.constexpr(0.3989422804014327)
SQRT_2_OVER_PI = tl.constexpr(0.7978845608028654)


@triton.jit
def upcast(x):
    """Half-precision floats computed in float32 (like PyTorch's opmath type)."""
    if x.dtype == tl.float16 or x.dtype == tl.bfloat16:
        x = x.to(tl.float32)
    return x


@triton.jit
def cast(x, dtype: tl.constexpr):
    """``x.to(dtype)``; conversions between bfloat16 and anything but float32 go through
    float32 (the interpreter converts bfloat16 only to and from float32)."""
    if (dtype == tl.bfloat16) != (x.dtype == tl.bfloat16) and dtype != tl.float32 and \
            x.dtype != tl.float32:
        x = x.to(tl.float32)
    return x.to(dtype)


@triton.jit
def tanh(x):
    """tanh in float64 (a series near 0, where ``(1 - e) / (1 + e)`` cancels)."""
    d = x.to(tl.float64)
    ad = tl.abs(d)
    e = tl.exp(-2.0 * ad)
    t = (1.0 - e) / (1.0 + e)
    sq = d * d
    series = ad * (1.0 - sq * (1.0 / 3.0 - sq * (2.0 / 15.0 - sq * (17.0 / 315.0))))
    t = tl.where(ad < 0.01, series, t)
    return tl.where(d < 0, -t, t).to(x.dtype)


@triton.jit
def log1p(x):
    """``log(1 + x)`` in float64 (Kahan: the rounding of ``1 + x`` is divided back out)."""
    d = x.to(tl.float64)
    u = 1.0 + d
    r = tl.where(u == 1.0, d, tl.log(u) * d / (u - 1.0))
    return r.to(x.dtype)


@triton.jit
def expm1(x):
    """``exp(x) - 1`` in float64 (Kahan: ``(u - 1) * x / log(u)`` with ``u = exp(x)``)."""
    d = x.to(tl.float64)
    u = tl.exp(d)
    r = tl.where(u == 1.0, d, (u - 1.0) * d / tl.log(u))
    r = tl.where(u - 1.0 == -1.0, -1.0, r)
    r = tl.where(u == float("inf"), u, r)
    return r.to(x.dtype)


@triton.jit
def _atan_unit(t):
    """``atan(t)`` for ``0 <= t <= 1`` in float64: three half-angle steps bring ``t`` below
    tan(pi/32) ~ 0.1, where eight terms of the Taylor series are exact to float64."""
    for _ in range(3):
        t = t / (1.0 + tl.sqrt(1.0 + t * t))
    t2 = t * t
    s = 1.0 / 15.0
    s = 1.0 / 13.0 - t2 * s
    s = 1.0 / 11.0 - t2 * s
    s = 1.0 / 9.0 - t2 * s
    s = 1.0 / 7.0 - t2 * s
    s = 1.0 / 5.0 - t2 * s
    s = 1.0 / 3.0 - t2 * s
    s = 1.0 - t2 * s
    return 8.0 * t * s


@triton.jit
def atan2(y, x):
    """The angle of ``(x, y)`` in ``[-pi, pi]``, computed in float64."""
    yd = y.to(tl.float64)
    xd = x.to(tl.float64)
    ay = tl.abs(yd)
    ax = tl.abs(xd)
    hi = tl.maximum(ax, ay)
    lo = tl.minimum(ax, ay)
    both_inf = (ax == float("inf")) & (ay == float("inf"))
    base = _atan_unit(tl.where(hi == 0.0, 0.0, tl.where(both_inf, 1.0, lo / hi)))
    base = tl.where(ay > ax, 1.5707963267948966 - base, base)
    base = tl.where(xd < 0.0, 3.141592653589793 - base, base)
    r = tl.where(yd < 0.0, -base, base)
    r = tl.where((yd != yd) | (xd != xd), yd + xd, r)
    return r.to(y.dtype)


@triton.jit
def erfinv(x):
    """The inverse of erf in float64: Winitzki's closed-form estimate (error ~2e-3), then
    Newton steps on erf, each squaring the error (4 reach float64)."""
    d = x.to(tl.float64)
    ln = tl.log((1.0 - d) * (1.0 + d))
    c = 4.3307467508 + 0.5 * ln  # 2 / (pi * 0.147) + ln / 2
    y = tl.sqrt(tl.sqrt(c * c - ln / 0.147) - c)
    y = tl.where(d < 0.0, -y, y)
    for _ in range(4):
        y = y - (tl.erf(y) - d) / (1.1283791670955126 * tl.exp(-y * y))
    y = tl.where(tl.abs(d) == 1.0, d * float("inf"), y)
    y = tl.where(tl.abs(d) > 1.0, float("nan"), y)
    return y.to(x.dtype)


@triton.jit
def sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def fpow(a, b):
    """``a ** b`` for floats, in float64 via exp/log with the sign of integral powers."""
    x = a.to(tl.float64)
    y = b.to(tl.float64)
    r = tl.exp(y * tl.log(tl.abs(x)))
    yi = tl.floor(y)
    integral = yi == y
    odd = integral & (tl.abs(yi - 2.0 * tl.floor(yi * 0.5)) == 1.0)
    neg = tl.where(integral, tl.where(odd, -r, r), float("nan"))
    r = tl.where(x < 0, neg, r)
    r = tl.where(y == 0, 1.0, r)
    return r.to(a.dtype)


@triton.jit
def ipow(a, b):
    """``a ** b`` for integers by binary exponentiation (wrapping like PyTorch)."""
    r = a * 0 + 1
    base = a
    e = b
    for _ in range(63):
        r = tl.where((e & 1) == 1, r * base, r)
        base = base * base
        e = e >> 1
    return r


@triton.jit
def gelu_tanh_inner(x):
    return (x + 0.044715 * x * x * x) * SQRT_2_OVER_PI


@triton.jit
def unary_op(x, OP: tl.constexpr):
    """Elementwise ``OP`` of the contract's unary set, plus copy and the fused activations.

    Half types compute in float32 (also because the interpreter keeps bfloat16 as raw bits).
    """
    x = upcast(x)
    if OP == "copy":
        r = x
    elif OP == "neg":
        r = -x
    elif OP == "abs":
        r = tl.abs(x)
    elif OP == "relu":
        r = tl.where(x < 0, 0, x)
    elif OP == "sign":
        r = tl.where(x > 0, 1, tl.where(x < 0, -1, 0)).to(x.dtype)
        if x.dtype.is_floating():
            r = tl.where(x != x, x, r)
    elif OP == "floor":
        if x.dtype.is_floating():
            r = tl.floor(x)
        else:
            r = x
    elif OP == "logical_not":
        r = x == 0
    else:
        y = x
        if OP == "exp":
            r = tl.exp(y)
        elif OP == "log":
            r = tl.log(y)
        elif OP == "sqrt":
            r = tl.sqrt(y)
        elif OP == "rsqrt":
            r = 1.0 / tl.sqrt(y)
        elif OP == "sin":
            r = tl.sin(y)
        elif OP == "cos":
            r = tl.cos(y)
        elif OP == "tanh":
            r = tanh(y)
        elif OP == "sigmoid":
            r = sigmoid(y)
        elif OP == "erf":
            r = tl.erf(y)
        elif OP == "log1p":
            r = log1p(y)
        elif OP == "expm1":
            r = expm1(y)
        elif OP == "erfinv":
            r = erfinv(y)
        elif OP == "gelu":
            r = 0.5 * y * (1.0 + tl.erf(y * SQRT1_2))
        elif OP == "gelu_tanh":
            r = 0.5 * y * (1.0 + tanh(gelu_tanh_inner(y)))
        else:
            tl.static_assert(OP == "silu", "unknown unary op")
            r = y * sigmoid(y)
    return r


@triton.jit
def binary_op(a, b, OP: tl.constexpr):
    """Elementwise ``OP`` of the contract's binary set, plus the fused activation gradients."""
    a = upcast(a)
    b = upcast(b)
    if OP == "add":
        r = a + b
    elif OP == "sub":
        r = a - b
    elif OP == "mul":
        r = a * b
    elif OP == "div":
        r = a / b
    elif OP == "pow":
        if a.dtype.is_floating():
            r = fpow(a, b)
        else:
            r = ipow(a, b)
    elif OP == "maximum":
        if a.dtype.is_floating():
            r = tl.maximum(a, b, propagate_nan=tl.PropagateNan.ALL)
        else:
            r = tl.maximum(a, b)
    elif OP == "minimum":
        if a.dtype.is_floating():
            r = tl.minimum(a, b, propagate_nan=tl.PropagateNan.ALL)
        else:
            r = tl.minimum(a, b)
    elif OP == "eq":
        r = a == b
    elif OP == "ne":
        r = a != b
    elif OP == "lt":
        r = a < b
    elif OP == "le":
        r = a <= b
    elif OP == "gt":
        r = a > b
    elif OP == "ge":
        r = a >= b
    elif OP == "logical_and":
        r = (a != 0) & (b != 0)
    elif OP == "logical_or":
        r = (a != 0) | (b != 0)
    elif OP == "logical_xor":
        r = (a != 0) ^ (b != 0)
    elif OP == "atan2":
        r = atan2(a, b)
    else:
        g = a
        x = b
        if OP == "gelu_backward":
            cdf = 0.5 * (1.0 + tl.erf(x * SQRT1_2))
            r = g * (cdf + x * tl.exp(-0.5 * x * x) * INV_SQRT_2PI)
        elif OP == "gelu_tanh_backward":
            t = tanh(gelu_tanh_inner(x))
            dinner = (1.0 + 3.0 * 0.044715 * x * x) * SQRT_2_OVER_PI
            r = g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)
        else:
            tl.static_assert(OP == "silu_backward", "unknown binary op")
            s = sigmoid(x)
            r = g * s * (1.0 + x * (1.0 - s))
    return r
