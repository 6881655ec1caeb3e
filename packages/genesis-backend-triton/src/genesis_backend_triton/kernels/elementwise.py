"""Elementwise kernels over strided views: unary, binary, where, fill.

Every operand is ``(pointer, element offset, 6 strides)`` over one shared
6-d shape (see :mod:`genesis_backend_triton.layout`); a program handles
``BLOCK`` consecutive output elements, turning each linear index into
coordinates once (``NDIM`` of them: a contiguous view needs no division).
A Python-scalar operand arrives as a value (``*_SCALAR``) converted to the
computation dtype ``CDT``. The store casts to the output's element type, so
``copy`` with different dtypes is the strided cast.
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl
from triton.language import core as tlc  # to_tensor: not re-exported by triton 3.6

from genesis_backend_triton.kernels.opmath import binary_op, cast, unary_op


@triton.jit
def coords(i, d1, d2, d3, d4, d5, NDIM: tl.constexpr):
    """Coordinates of linear index ``i`` in shape ``(*, d1, ..., d5)`` (last NDIM dims used)."""
    c5 = i
    c4 = i * 0
    c3 = c4
    c2 = c4
    c1 = c4
    c0 = c4
    if NDIM >= 2:
        c5 = i % d5
        c4 = i // d5
    if NDIM >= 3:
        c3 = c4 // d4
        c4 = c4 % d4
    if NDIM >= 4:
        c2 = c3 // d3
        c3 = c3 % d3
    if NDIM >= 5:
        c1 = c2 // d2
        c2 = c2 % d2
    if NDIM >= 6:
        c0 = c1 // d1
        c1 = c1 % d1
    return c0, c1, c2, c3, c4, c5


@triton.jit
def offset(c0, c1, c2, c3, c4, c5, s0, s1, s2, s3, s4, s5, NDIM: tl.constexpr):
    o = c5 * s5
    if NDIM >= 2:
        o += c4 * s4
    if NDIM >= 3:
        o += c3 * s3
    if NDIM >= 4:
        o += c2 * s2
    if NDIM >= 5:
        o += c1 * s1
    if NDIM >= 6:
        o += c0 * s0
    return o


@triton.jit
def linear_index(n, BLOCK: tl.constexpr, INDEX64: tl.constexpr):
    pid = tl.program_id(0)
    if INDEX64:
        pid = pid.to(tl.int64)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    return i, i < n


@triton.jit
def unary_kernel(x, out, x_off, o_off, n, d1, d2, d3, d4, d5,
                 xs0, xs1, xs2, xs3, xs4, xs5, os0, os1, os2, os3, os4, os5,
                 OP: tl.constexpr, NDIM: tl.constexpr, BLOCK: tl.constexpr,
                 INDEX64: tl.constexpr):
    i, mask = linear_index(n, BLOCK, INDEX64)
    c0, c1, c2, c3, c4, c5 = coords(i, d1, d2, d3, d4, d5, NDIM)
    xo = offset(c0, c1, c2, c3, c4, c5, xs0, xs1, xs2, xs3, xs4, xs5, NDIM)
    oo = offset(c0, c1, c2, c3, c4, c5, os0, os1, os2, os3, os4, os5, NDIM)
    v = tl.load(x + x_off + xo, mask=mask)
    r = unary_op(v, OP)
    tl.store(out + o_off + oo, cast(r, out.dtype.element_ty), mask=mask)


@triton.jit
def _operand(ptr, off, val, c0, c1, c2, c3, c4, c5, s0, s1, s2, s3, s4, s5, mask,
             NDIM: tl.constexpr, SCALAR: tl.constexpr, CDT: tl.constexpr):
    """A binary/where operand: the Python scalar ``val`` (as ``CDT``) or the strided
    elements at the coordinates."""
    if SCALAR:
        v = tlc.to_tensor(val).to(CDT)
    else:
        v = tl.load(ptr + off + offset(c0, c1, c2, c3, c4, c5, s0, s1, s2, s3, s4, s5, NDIM),
                    mask=mask)
    return v


@triton.jit(do_not_specialize=["a_val", "b_val"])
def binary_kernel(a, b, out, a_val, b_val, a_off, b_off, o_off, n, d1, d2, d3, d4, d5,
                  as0, as1, as2, as3, as4, as5, bs0, bs1, bs2, bs3, bs4, bs5,
                  os0, os1, os2, os3, os4, os5,
                  OP: tl.constexpr, A_SCALAR: tl.constexpr, B_SCALAR: tl.constexpr,
                  CDT: tl.constexpr, NDIM: tl.constexpr, BLOCK: tl.constexpr,
                  INDEX64: tl.constexpr):
    i, mask = linear_index(n, BLOCK, INDEX64)
    c0, c1, c2, c3, c4, c5 = coords(i, d1, d2, d3, d4, d5, NDIM)
    oo = offset(c0, c1, c2, c3, c4, c5, os0, os1, os2, os3, os4, os5, NDIM)
    va = _operand(a, a_off, a_val, c0, c1, c2, c3, c4, c5, as0, as1, as2, as3, as4, as5,
                  mask, NDIM, A_SCALAR, CDT)
    vb = _operand(b, b_off, b_val, c0, c1, c2, c3, c4, c5, bs0, bs1, bs2, bs3, bs4, bs5,
                  mask, NDIM, B_SCALAR, CDT)
    r = binary_op(va, vb, OP)
    tl.store(out + o_off + oo, cast(r, out.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["a_val", "b_val"])
def where_kernel(cond, a, b, out, a_val, b_val, c_off, a_off, b_off, n, d1, d2, d3, d4, d5,
                 cs0, cs1, cs2, cs3, cs4, cs5, as0, as1, as2, as3, as4, as5,
                 bs0, bs1, bs2, bs3, bs4, bs5,
                 A_SCALAR: tl.constexpr, B_SCALAR: tl.constexpr, CDT: tl.constexpr,
                 NDIM: tl.constexpr, BLOCK: tl.constexpr, INDEX64: tl.constexpr):
    i, mask = linear_index(n, BLOCK, INDEX64)
    c0, c1, c2, c3, c4, c5 = coords(i, d1, d2, d3, d4, d5, NDIM)
    vc = tl.load(cond + c_off + offset(c0, c1, c2, c3, c4, c5, cs0, cs1, cs2, cs3, cs4, cs5,
                                       NDIM), mask=mask)
    va = _operand(a, a_off, a_val, c0, c1, c2, c3, c4, c5, as0, as1, as2, as3, as4, as5,
                  mask, NDIM, A_SCALAR, CDT)
    vb = _operand(b, b_off, b_val, c0, c1, c2, c3, c4, c5, bs0, bs1, bs2, bs3, bs4, bs5,
                  mask, NDIM, B_SCALAR, CDT)
    r = tl.where(vc != 0, va, vb)
    tl.store(out + i, cast(r, out.dtype.element_ty), mask=mask)


@triton.jit(do_not_specialize=["value"])
def fill_kernel(out, value, o_off, n, d1, d2, d3, d4, d5, os0, os1, os2, os3, os4, os5,
                NDIM: tl.constexpr, BLOCK: tl.constexpr, INDEX64: tl.constexpr):
    i, mask = linear_index(n, BLOCK, INDEX64)
    c0, c1, c2, c3, c4, c5 = coords(i, d1, d2, d3, d4, d5, NDIM)
    oo = offset(c0, c1, c2, c3, c4, c5, os0, os1, os2, os3, os4, os5, NDIM)
    tl.store(out + o_off + oo, cast(tlc.to_tensor(value), out.dtype.element_ty), mask=mask)
