"""Fused GELU and SiLU forward and backward (the ``"gelu"``, ``"gelu_backward"``,
``"gelu_backward_from_output"``, ``"silu"`` and ``"silu_backward"`` kernels), ReLU's backward
(``"relu_backward"``) and the compiled path of the ``relu`` primitive.

float32 and float64 run the compiled one-pass loops of
:mod:`genesis_backend_cpu._act_kernels`. The numpy references below run when numba is
unavailable, for small arrays, and for other dtypes (in float64, cast back): float32 one
block of :data:`genesis_backend_cpu._erf.BLOCK` elements at a time (GELU's ~10 passes
forward and ~15 backward stay in L2) in row blocks on the worker threads.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from genesis_backend_cpu import _act_kernels as K
from genesis_backend_cpu._compiled import launch
from genesis_backend_cpu._erf import BLOCK, erf_block, scratch
from genesis_backend_cpu._threads import parallel_rows
from genesis_backend_cpu._views import arr, np_dtype

_SQRT_HALF = np.float32(math.sqrt(0.5))
_INV_SQRT_2PI = np.float32(1.0 / math.sqrt(2.0 * math.pi))
_TANH_C = np.float32(0.044715)
_SQRT_2_OVER_PI = np.float32(math.sqrt(2.0 / math.pi))
_TINY = np.float32(1e-30)  # below this |x|, y = x * cdf(x) is subnormal or zero
_WORK = (np.dtype(np.float32), np.dtype(np.float64))


def _compiled_for(kernel, *arrays: np.ndarray) -> bool:
    """True when ``kernel`` is compiled and takes these arrays (one dtype, float32/64)."""
    dtype = arrays[0].dtype
    return (dtype in _WORK and all(a.dtype == dtype for a in arrays)
            and kernel.wanted(arrays[0].size))


def _run(kernel, arrays: tuple, *flags) -> np.ndarray:
    """``kernel(*flat arrays, out, *flags)`` into a new array of the last one's shape."""
    flat = [_flat(a) for a in arrays]
    out = np.empty(arrays[-1].shape, arrays[-1].dtype)
    launch(kernel, flat[0].size, *flat, out.reshape(-1), *flags)
    return out


def _storage(result, dtype: np.dtype) -> np.ndarray:
    """A reference's result as a storage: an ndarray (0-d too: numpy gives scalars there) of
    ``dtype`` in C order."""
    return np.asarray(result, dtype, order="C")


def _flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def _cdf_block(x: np.ndarray, cdf: np.ndarray, w: tuple, approximate: str) -> None:
    """``cdf = Phi(x)`` (or the tanh form's ``0.5 (1 + tanh(...))``) for one block;
    ``w`` holds four scratch arrays of the block's length."""
    s0, s1, s2, s3 = w
    if approximate == "tanh":
        np.multiply(x, x, out=s0)
        s0 *= x
        s0 *= _TANH_C
        s0 += x
        s0 *= _SQRT_2_OVER_PI
        np.tanh(s0, out=cdf)
    else:
        np.multiply(x, _SQRT_HALF, out=s0)
        erf_block(s0, cdf, s1, s2, s3)
    cdf += 1.0
    cdf *= 0.5


def _forward_rows(x: np.ndarray, out: np.ndarray, approximate: str) -> None:
    src, dst = _flat(x), out.reshape(-1)
    w = scratch(4)
    for start in range(0, src.size, BLOCK):
        stop = min(start + BLOCK, src.size)
        n = stop - start
        xb, ob = src[start:stop], dst[start:stop]
        _cdf_block(xb, ob, tuple(a[:n] for a in w), approximate)
        ob *= xb


def _x_pdf(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = x * phi(x)``, phi the standard normal density."""
    np.multiply(x, x, out=out)
    out *= -0.5
    np.exp(out, out=out)
    out *= _INV_SQRT_2PI
    out *= x
    return out


def _backward_rows(g: np.ndarray, x: np.ndarray, out: np.ndarray, approximate: str) -> None:
    gs, src, dst = _flat(g), _flat(x), out.reshape(-1)
    w = scratch(5)
    for start in range(0, src.size, BLOCK):
        stop = min(start + BLOCK, src.size)
        n = stop - start
        xb, ob = src[start:stop], dst[start:stop]
        ws = tuple(a[:n] for a in w)
        _cdf_block(xb, ob, ws[:4], approximate)       # ob = cdf
        d = ws[4]
        if approximate == "tanh":
            # d/dx = cdf + x * 0.5 * sech^2(u) * sqrt(2/pi) * (1 + 3c x^2); sech^2 = 1 / cosh^2
            # (1 - tanh^2 from the cdf would cancel where tanh is near +-1)
            t = ws[0]
            np.multiply(xb, xb, out=t)
            t *= xb
            t *= _TANH_C
            t += xb
            t *= _SQRT_2_OVER_PI
            with np.errstate(over="ignore"):  # cosh overflows to inf: sech^2 is 0
                np.cosh(t, out=d)
                np.multiply(d, d, out=d)
            np.divide(0.5 * _SQRT_2_OVER_PI, d, out=d)
            np.multiply(xb, xb, out=t)
            t *= 3 * _TANH_C
            t += 1.0
            d *= t
            d *= xb
        else:  # d/dx = Phi(x) + x * phi(x)
            _x_pdf(xb, d)
        ob += d
        ob *= gs[start:stop]


def gelu(x, approximate: str = "none") -> np.ndarray:
    """Fused ``"gelu"`` kernel: returns a new storage."""
    a = arr(x)
    if _compiled_for(K.gelu_forward_kernel, a):
        return _run(K.gelu_forward_kernel, (a,), approximate == "tanh")
    if a.dtype != np.float32:
        return _storage(_exact(a, approximate, None), a.dtype)
    out = np.empty(a.shape, np.float32)
    if not parallel_rows(lambda xa, out: _forward_rows(xa, out, approximate), (a,), out):
        _forward_rows(a, out, approximate)
    return out


def gelu_backward(g, x, approximate: str = "none") -> np.ndarray:
    """Fused ``"gelu_backward"`` kernel: ``g * gelu'(x)`` as a new storage."""
    ga, xa = arr(g), arr(x)
    if _compiled_for(K.gelu_backward_kernel, xa, ga):
        return _run(K.gelu_backward_kernel, (ga, xa), approximate == "tanh")
    if xa.dtype != np.float32 or ga.dtype != np.float32:
        return _storage(_exact(xa, approximate, ga), np_dtype(x.dtype))
    out = np.empty(xa.shape, np.float32)
    if not parallel_rows(lambda gr, xr, out: _backward_rows(gr, xr, out, approximate),
                         (np.ascontiguousarray(ga), np.ascontiguousarray(xa)), out):
        _backward_rows(ga, xa, out, approximate)
    return out


def _from_output_rows(g: np.ndarray, x: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
    """``g * (Phi(x) + x phi(x))`` with ``Phi(x)`` read back as ``y / x`` (7 passes instead
    of ~30: no erf)."""
    gs, src, ys, dst = _flat(g), _flat(x), _flat(y), out.reshape(-1)
    w = scratch(1)
    for start in range(0, src.size, BLOCK):
        stop = min(start + BLOCK, src.size)
        xb, ob, d = src[start:stop], dst[start:stop], w[0][: stop - start]
        with np.errstate(divide="ignore", invalid="ignore"):  # per thread: set it here
            np.divide(ys[start:stop], xb, out=ob)
        np.copyto(ob, 0.5, where=np.abs(xb) < _TINY)  # the limit at 0 (y/x is 0/0 there)
        ob += _x_pdf(xb, d)
        ob *= gs[start:stop]


def gelu_backward_from_output(g, x, y, approximate: str = "none") -> np.ndarray:
    """Fused ``"gelu_backward_from_output"``: ``g * gelu'(x)`` reading the cdf off the
    forward's output ``y``. float32 and the exact form only: the tanh form would lose
    accuracy in ``1 - tanh^2`` from a cdf read back this way, so it recomputes."""
    ga, xa, ya = arr(g), arr(x), arr(y)
    if approximate == "none" and _compiled_for(K.gelu_backward_from_output_kernel, xa, ga, ya):
        return _run(K.gelu_backward_from_output_kernel, (ga, xa, ya))
    if approximate != "none" or not all(a.dtype == np.float32 for a in (ga, xa, ya)):
        return gelu_backward(g, x, approximate)
    out = np.empty(xa.shape, np.float32)
    operands = tuple(np.ascontiguousarray(a) for a in (ga, xa, ya))
    if not parallel_rows(_from_output_rows, operands, out):
        _from_output_rows(*operands, out)
    return out


def _exact(x: np.ndarray, approximate: str, g: np.ndarray | None) -> np.ndarray:
    """float64 reference formulas for the dtypes without a fast path (C order whatever the
    layout of ``x``: callers make the result a storage with :func:`_storage`)."""
    x = np.asarray(x, np.float64, order="C")
    if approximate == "tanh":
        u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        t = np.tanh(u)
        if g is None:
            return 0.5 * x * (1 + t)
        with np.errstate(over="ignore"):
            sech2 = 1 / np.cosh(u) ** 2
        d = 0.5 * (1 + t) + 0.5 * x * sech2 * math.sqrt(2 / math.pi) * (
            1 + 3 * 0.044715 * x * x)
        return np.asarray(g, np.float64, order="C") * d
    cdf = 0.5 * (1 + special.erf(x * math.sqrt(0.5)))
    if g is None:
        return x * cdf
    return np.asarray(g, np.float64, order="C") * (
        cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


def _sigmoid_block(x: np.ndarray, out: np.ndarray) -> None:
    """``out = 1 / (1 + exp(-x))``; exp overflows to inf for x < -88, giving 0 as it should."""
    np.negative(x, out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)


def _silu_rows(x: np.ndarray, out: np.ndarray) -> None:
    src, dst = _flat(x), out.reshape(-1)
    for start in range(0, src.size, BLOCK):
        stop = min(start + BLOCK, src.size)
        xb, ob = src[start:stop], dst[start:stop]
        _sigmoid_block(xb, ob)
        ob *= xb


def _silu_backward_rows(g: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """``g * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)``."""
    gs, src, dst = _flat(g), _flat(x), out.reshape(-1)
    w = scratch(1)
    for start in range(0, src.size, BLOCK):
        stop = min(start + BLOCK, src.size)
        xb, ob, d = src[start:stop], dst[start:stop], w[0][: stop - start]
        _sigmoid_block(xb, ob)
        np.subtract(1.0, ob, out=d)
        d *= xb
        d += 1.0
        ob *= d
        ob *= gs[start:stop]


def _silu_exact(x: np.ndarray, g: np.ndarray | None) -> np.ndarray:
    """The float64 formulas, for dtypes other than float32 (C order whatever the layout of
    ``x``: callers make the result a storage with :func:`_storage`)."""
    xd = np.asarray(x, np.float64, order="C")
    s = special.expit(xd)
    return xd * s if g is None else np.asarray(g, np.float64, order="C") * s * (
        1.0 + xd * (1.0 - s))


def silu(x) -> np.ndarray:
    """Fused ``"silu"`` kernel (``x * sigmoid(x)`` in one pass): a new storage."""
    a = arr(x)
    if _compiled_for(K.silu_forward_kernel, a):
        return _run(K.silu_forward_kernel, (a,))
    if a.dtype != np.float32:
        return _storage(_silu_exact(a, None), a.dtype)
    out = np.empty(a.shape, np.float32)
    if not parallel_rows(_silu_rows, (a,), out):
        _silu_rows(a, out)
    return out


def silu_backward(g, x) -> np.ndarray:
    """Fused ``"silu_backward"`` kernel: ``g * silu'(x)`` as a new storage."""
    ga, xa = arr(g), arr(x)
    if _compiled_for(K.silu_backward_kernel, xa, ga):
        return _run(K.silu_backward_kernel, (ga, xa))
    if xa.dtype != np.float32 or ga.dtype != np.float32:
        return _storage(_silu_exact(xa, ga), np_dtype(x.dtype))
    out = np.empty(xa.shape, np.float32)
    if not parallel_rows(_silu_backward_rows,
                         (np.ascontiguousarray(ga), np.ascontiguousarray(xa)), out):
        _silu_backward_rows(ga, xa, out)
    return out


def relu(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The ``relu`` primitive (into ``out`` when given): one compiled pass for large
    float32/float64 arrays, else ``np.maximum`` (whose loop handles NaN at ~5x the cost)."""
    if _compiled_for(K.relu_kernel, a) and (out is None or (
            out.dtype == a.dtype and out.flags.c_contiguous)):
        o = np.empty(a.shape, a.dtype) if out is None else out
        launch(K.relu_kernel, a.size, _flat(a), o.reshape(-1), streaming=True)
        return o
    return np.maximum(a, 0, out=out)


def relu_backward(g, y) -> np.ndarray:
    """Fused ``"relu_backward"`` kernel: ``g`` where ``y > 0``, else 0, as a new storage."""
    ga, ya = arr(g), arr(y)
    if _compiled_for(K.relu_backward_kernel, ya, ga):
        out = np.empty(ya.shape, ya.dtype)
        launch(K.relu_backward_kernel, ya.size, _flat(ga), _flat(ya), out.reshape(-1),
               streaming=True)
        return out
    return _storage(np.where(ya > 0, ga, 0), ga.dtype)
