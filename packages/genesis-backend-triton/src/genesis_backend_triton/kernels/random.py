"""Counter-based random numbers: Philox (``tl.rand``/``tl.randn``/``tl.randint``).

Element ``i`` of a call with ``(seed, offset)`` draws from Philox counter
``offset + i`` (64-bit), so the same pair always gives the same numbers and
consecutive calls (the core advances ``offset`` by the element count) never
overlap.
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl

from genesis_backend_triton.kernels.opmath import cast


@triton.jit
def normal(seed, counter):
    """A standard normal by Box-Muller from two Philox uniforms, computed in float64.

    ``tl.randn`` does this in float32, where a GPU's approximate ``log`` has an
    absolute error of ~1e-7 near 1: for a uniform close to 1 the radius
    ``sqrt(-2 log u)`` is small and that error becomes a large relative one, so
    the GPU and the interpreter would draw visibly different numbers.
    """
    i1, i2, _, _ = tl.randint4x(seed, counter)
    u1 = tl.maximum(tl.uint_to_uniform_float(i1).to(tl.float64), 1.0e-7)
    u2 = tl.uint_to_uniform_float(i2).to(tl.float64)
    return tl.sqrt(-2.0 * tl.log(u1)) * tl.cos(6.283185307179586 * u2)


@triton.jit(do_not_specialize=["seed", "base", "a", "b"])
def random_kernel(out, n, seed, base, a, b, DIST: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    mask = i < n
    counter = base + i
    if DIST == "uniform":
        r = tl.rand(seed, counter) * (b - a) + a
    elif DIST == "normal":
        r = normal(seed, counter) * b + a
    elif DIST == "bernoulli":
        r = tl.rand(seed, counter) < a
    else:
        tl.static_assert(DIST == "randint", "unknown distribution")
        span = (b - a).to(tl.uint64)
        r = (tl.randint(seed, counter).to(tl.uint64) % span).to(tl.int64) + a
    tl.store(out + i, cast(r, out.dtype.element_ty), mask=mask)
