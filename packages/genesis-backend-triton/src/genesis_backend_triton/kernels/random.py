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


@triton.jit(do_not_specialize=["seed", "base", "a", "b"])
def random_kernel(out, n, seed, base, a, b, DIST: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    i = pid * BLOCK + tl.arange(0, BLOCK)
    mask = i < n
    counter = base + i
    if DIST == "uniform":
        r = tl.rand(seed, counter) * (b - a) + a
    elif DIST == "normal":
        r = tl.randn(seed, counter) * b + a
    elif DIST == "bernoulli":
        r = tl.rand(seed, counter) < a
    else:
        tl.static_assert(DIST == "randint", "unknown distribution")
        span = (b - a).to(tl.uint64)
        r = (tl.randint(seed, counter).to(tl.uint64) % span).to(tl.int64) + a
    tl.store(out + i, cast(r, out.dtype.element_ty), mask=mask)
