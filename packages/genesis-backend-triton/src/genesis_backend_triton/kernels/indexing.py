"""gather and scatter along one dimension, over 6-d strided views.

Coordinates come from the index's shape; the ``DIM`` coordinate of the
source (gather) or destination (scatter) is replaced by the index value.
Accumulating scatter uses atomic adds, so repeated indices all land.
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl

from genesis_backend_triton.kernels.elementwise import coords, linear_index, offset
from genesis_backend_triton.kernels.opmath import cast


@triton.jit
def _pick(c0, c1, c2, c3, c4, c5, DIM: tl.constexpr):
    if DIM == 0:
        r = c0
    elif DIM == 1:
        r = c1
    elif DIM == 2:
        r = c2
    elif DIM == 3:
        r = c3
    elif DIM == 4:
        r = c4
    else:
        r = c5
    return r


@triton.jit
def gather_kernel(x, index, out, x_off, i_off, n, d1, d2, d3, d4, d5,
                  xs0, xs1, xs2, xs3, xs4, xs5, is0, is1, is2, is3, is4, is5,
                  DIM: tl.constexpr, BLOCK: tl.constexpr, INDEX64: tl.constexpr):
    i, mask = linear_index(n, BLOCK, INDEX64)
    c0, c1, c2, c3, c4, c5 = coords(i, d1, d2, d3, d4, d5, 6)
    idx = tl.load(index + i_off + offset(c0, c1, c2, c3, c4, c5, is0, is1, is2, is3, is4, is5, 6),
                  mask=mask, other=0)
    xs_dim = _pick(xs0, xs1, xs2, xs3, xs4, xs5, DIM)
    xo = offset(c0, c1, c2, c3, c4, c5, xs0, xs1, xs2, xs3, xs4, xs5, 6)
    xo += (idx - _pick(c0, c1, c2, c3, c4, c5, DIM)) * xs_dim
    tl.store(out + i, tl.load(x + x_off + xo, mask=mask), mask=mask)


@triton.jit
def scatter_kernel(dst, index, src, d_off, i_off, s_off, n, d1, d2, d3, d4, d5,
                   ds0, ds1, ds2, ds3, ds4, ds5, is0, is1, is2, is3, is4, is5,
                   ss0, ss1, ss2, ss3, ss4, ss5,
                   DIM: tl.constexpr, ACCUMULATE: tl.constexpr, BLOCK: tl.constexpr,
                   INDEX64: tl.constexpr):
    i, mask = linear_index(n, BLOCK, INDEX64)
    c0, c1, c2, c3, c4, c5 = coords(i, d1, d2, d3, d4, d5, 6)
    idx = tl.load(index + i_off + offset(c0, c1, c2, c3, c4, c5, is0, is1, is2, is3, is4, is5, 6),
                  mask=mask, other=0)
    v = tl.load(src + s_off + offset(c0, c1, c2, c3, c4, c5, ss0, ss1, ss2, ss3, ss4, ss5, 6),
                mask=mask)
    do = offset(c0, c1, c2, c3, c4, c5, ds0, ds1, ds2, ds3, ds4, ds5, 6)
    do += (idx - _pick(c0, c1, c2, c3, c4, c5, DIM)) * _pick(ds0, ds1, ds2, ds3, ds4, ds5, DIM)
    v = cast(v, dst.dtype.element_ty)
    if ACCUMULATE:
        tl.atomic_add(dst + d_off + do, v, mask=mask)
    else:
        tl.store(dst + d_off + do, v, mask=mask)
