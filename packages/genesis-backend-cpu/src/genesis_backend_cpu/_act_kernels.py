"""GELU, SiLU and ReLU forward and backward as compiled one-pass loops (float32 and float64).

numba compiles ``exp``, ``erf`` and ``tanh`` to scalar libm calls (no vector math
library here), which keeps a loop from vectorizing; the float32 kernels use the
helpers below instead, built from +, *, / and a bit cast so that LLVM vectorizes the
whole loop. float64 kernels call libm (full precision). The numpy references are in
:mod:`genesis_backend_cpu._activations`.
"""

from __future__ import annotations

import math

import numpy as np

from genesis_backend_cpu._compiled import compiled, float32_from_bits, prange

_F = np.float32
_LOG2E = _F(1.4426950408889634)
_LN2_HI = _F(0.693359375)  # ln 2 in two parts (Cephes): n * _LN2_HI is exact
_LN2_LO = _F(-2.12194440e-4)
_EXP_HI = _F(88.72283)   # exp overflows above
_EXP_LO = _F(-87.33654)  # exp is below the smallest normal float32 under
# erf(x) = x P(x^2) / Q(x^2) on [-4, 4] (the coefficients Eigen and XLA use; see _erf.py)
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = (_F(c) for c in (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02))
_Q0, _Q1, _Q2, _Q3, _Q4 = (_F(c) for c in (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02))
_SQRT_HALF32 = _F(math.sqrt(0.5))
_INV_SQRT_2PI32 = _F(1 / math.sqrt(2 * math.pi))
_TANH_C32 = _F(0.044715)
_SQRT_2_OVER_PI32 = _F(math.sqrt(2 / math.pi))
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


@compiled(inline=True)
def exp32(t):
    """float32 ``exp`` to ~1 ulp (Cephes' polynomial after ``t = n ln 2 + r``), 0 below the
    normal range, inf above it, NaN for NaN."""
    c = _EXP_LO if t < _EXP_LO else t
    c = _EXP_HI if c > _EXP_HI else c
    n = np.floor(c * _LOG2E + _F(0.5))
    r = c - n * _LN2_HI - n * _LN2_LO
    p = _F(1.9875691500e-4)
    p = p * r + _F(1.3981999507e-3)
    p = p * r + _F(8.3334519073e-3)
    p = p * r + _F(4.1665795894e-2)
    p = p * r + _F(1.6666665459e-1)
    p = p * r + _F(5.0000001201e-1)
    y = p * r * r + r + _F(1)
    y = y * float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))
    if t < _EXP_LO:
        y = _F(0)
    if t > _EXP_HI:
        y = _F(np.inf)
    return t if t != t else y


@compiled(inline=True)
def erf32(x):
    """float32 ``erf`` (rational approximation, ~4 ulp; +-1 beyond +-4; NaN for NaN)."""
    t = _F(4) if x > _F(4) else x
    t = _F(-4) if t < _F(-4) else t
    x2 = t * t
    p = _P0 * x2 + _P1
    p = p * x2 + _P2
    p = p * x2 + _P3
    p = p * x2 + _P4
    p = p * x2 + _P5
    p = p * x2 + _P6
    q = _Q0 * x2 + _Q1
    q = q * x2 + _Q2
    q = q * x2 + _Q3
    q = q * x2 + _Q4
    return t * p / q


@compiled(inline=True)
def tanh32(u):
    """float32 ``tanh`` as ``sign(u) (1 - e) / (1 + e)``, ``e = exp(-2|u|)`` (absolute error
    ~1e-7; exact +-1 at infinities; NaN for NaN)."""
    a = -u if u < _F(0) else u
    e = exp32(_F(-2) * a)
    r = (_F(1) - e) / (_F(1) + e)
    return -r if u < _F(0) else r


@compiled(inline=True)
def sech2_32(u):
    """float32 ``1 - tanh(u)^2`` as ``4 e / (1 + e)^2``, ``e = exp(-2|u|)``: accurate where
    ``tanh`` is near +-1 (``1 - t * t`` cancels there)."""
    a = -u if u < _F(0) else u
    e = exp32(_F(-2) * a)
    return _F(4) * e / ((_F(1) + e) * (_F(1) + e))


@compiled(parallel=True)
def gelu_forward_kernel(x, out, tanh_form):
    """``out = x * cdf(x)`` over flat arrays (float32: vectorized helpers; float64: libm)."""
    if x.itemsize == 4:  # float32
        for i in prange(x.size):
            xi = x[i]
            if tanh_form:
                cdf = (tanh32((xi * xi * xi * _TANH_C32 + xi) * _SQRT_2_OVER_PI32) + _F(1)) \
                    * _F(0.5)
            else:
                cdf = (erf32(xi * _SQRT_HALF32) + _F(1)) * _F(0.5)
            out[i] = cdf * xi
    else:
        for i in prange(x.size):
            xi = x[i]
            if tanh_form:
                cdf = 0.5 * (1.0 + np.tanh(_SQRT_2_OVER_PI * (xi + 0.044715 * xi * xi * xi)))
            else:
                cdf = 0.5 * (1.0 + math.erf(xi * _SQRT_HALF))
            out[i] = xi * cdf


@compiled(parallel=True)
def gelu_backward_kernel(g, x, out, tanh_form):
    """``out = g * gelu'(x)`` over flat arrays."""
    if x.itemsize == 4:  # float32
        for i in prange(x.size):
            xi = x[i]
            if tanh_form:
                u = (xi * xi * xi * _TANH_C32 + xi) * _SQRT_2_OVER_PI32
                d = (tanh32(u) + _F(1)) * _F(0.5) + sech2_32(u) * (_F(0.5) * _SQRT_2_OVER_PI32) \
                    * (xi * xi * (_F(3) * _TANH_C32) + _F(1)) * xi
            else:
                d = (erf32(xi * _SQRT_HALF32) + _F(1)) * _F(0.5) \
                    + exp32(xi * xi * _F(-0.5)) * _INV_SQRT_2PI32 * xi
            out[i] = d * g[i]
    else:
        for i in prange(x.size):
            xi = x[i]
            if tanh_form:
                u = _SQRT_2_OVER_PI * (xi + 0.044715 * xi * xi * xi)
                c = np.cosh(u)
                d = 0.5 * (1 + np.tanh(u)) + 0.5 * xi / (c * c) * _SQRT_2_OVER_PI * (
                    1 + 3 * 0.044715 * xi * xi)
            else:
                d = 0.5 * (1 + math.erf(xi * _SQRT_HALF)) \
                    + xi * np.exp(-0.5 * xi * xi) * _INV_SQRT_2PI
            out[i] = g[i] * d


@compiled(parallel=True)
def silu_forward_kernel(x, out):
    """``out = x / (1 + exp(-x))`` over flat arrays."""
    if x.itemsize == 4:  # float32
        for i in prange(x.size):
            out[i] = x[i] / (_F(1) + exp32(-x[i]))
    else:
        for i in prange(x.size):
            out[i] = x[i] / (1.0 + np.exp(-x[i]))


@compiled(parallel=True)
def silu_backward_kernel(g, x, out):
    """``out = g * s * (1 + x * (1 - s))``, ``s = sigmoid(x)``, over flat arrays."""
    if x.itemsize == 4:  # float32
        for i in prange(x.size):
            s = _F(1) / (_F(1) + exp32(-x[i]))
            out[i] = g[i] * s * (_F(1) + x[i] * (_F(1) - s))
    else:
        for i in prange(x.size):
            s = 1.0 / (1.0 + np.exp(-x[i]))
            out[i] = g[i] * s * (1.0 + x[i] * (1.0 - s))


@compiled(parallel=True)
def gelu_backward_from_output_kernel(g, x, y, out):
    """``out = g * (y / x + x phi(x))`` (exact GELU, the cdf read off the output; 0.5 where
    ``|x| < 1e-30``: there ``y / x`` is 0/0 or rounds badly) over flat arrays."""
    if x.itemsize == 4:  # float32
        for i in prange(x.size):
            xi = x[i]
            q = y[i] / xi  # loaded whatever the branch: a conditional load stays scalar
            cdf = _F(0.5) if abs(xi) < _F(1e-30) else q
            out[i] = (cdf + exp32(xi * xi * _F(-0.5)) * _INV_SQRT_2PI32 * xi) * g[i]
    else:
        for i in prange(x.size):
            xi = x[i]
            q = y[i] / xi
            cdf = 0.5 if abs(xi) < 1e-30 else q
            out[i] = g[i] * (cdf + xi * np.exp(-0.5 * xi * xi) * _INV_SQRT_2PI)


@compiled(parallel=True)
def relu_kernel(x, out):
    """``out = max(x, 0)`` over flat arrays, bit for bit ``np.maximum(x, 0)`` (NaN kept, -0.0
    to +0.0): numpy's own loop took 490 us on 1M float32 values, this one 120 us on one thread."""
    for i in prange(x.size):
        xi = x[i]
        out[i] = xi if xi > 0 or xi != xi else x.dtype.type(0)


@compiled(parallel=True)
def relu_backward_kernel(g, y, out):
    """``out = g where y > 0 else 0`` over flat arrays (``y`` the ReLU's output)."""
    for i in prange(y.size):
        out[i] = g[i] if y[i] > 0 else g.dtype.type(0)
