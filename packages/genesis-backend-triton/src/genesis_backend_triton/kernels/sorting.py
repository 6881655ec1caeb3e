"""Stable sort along rows of a 2-d strided view ``(M, N)`` by rank counting.

The rank of element ``i`` of a row -- its place in the sorted row -- is the number of elements
``j`` that come before it: smaller (larger, descending), or equal with ``j < i``, which makes
the sort stable. NaN counts as larger than every number and equal to NaN. Program
``(row, block)`` ranks ``BLOCK_I`` elements of one row against the whole row in
``BLOCK_J``-wide chunks, then writes each value and its index at its rank.

The work is ``O(N^2)`` per row (memory only ``BLOCK_I x BLOCK_J`` per program): fine for the
rows of a few thousand elements that sorting ops see in models (top-k over a vocabulary is
the large case: 50k elements cost 2.5e9 comparisons, a fraction of a second on a GPU) and
for the interpreter's small test shapes; a merge or radix sort would be the next step for
longer rows.
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl

from genesis_backend_triton.kernels.opmath import upcast


@triton.jit
def _key(v):
    """What the comparisons read: half types in float32, bool as int8."""
    v = upcast(v)
    if v.dtype == tl.int1:
        v = v.to(tl.int8)
    return v


@triton.jit
def _before(a, b, DESCENDING: tl.constexpr):
    """Whether ``a`` sorts strictly before ``b`` (NaN largest)."""
    if DESCENDING:
        r = (a > b) | ((a != a) & (b == b))
    else:
        r = (a < b) | ((a == a) & (b != b))
    return r


@triton.jit
def sort_kernel(x, values, indices, x_off, N, sm, sn,
                DESCENDING: tl.constexpr, BLOCK_I: tl.constexpr, BLOCK_J: tl.constexpr,
                INDEX64: tl.constexpr):
    row = tl.program_id(0)
    if INDEX64:
        row = row.to(tl.int64)
    i = tl.program_id(1) * BLOCK_I + tl.arange(0, BLOCK_I)
    imask = i < N
    base = x + x_off + row * sm
    raw = tl.load(base + i * sn, mask=imask)
    vi = _key(raw)[:, None]
    rank = tl.zeros([BLOCK_I], tl.int32)
    for start in range(0, N, BLOCK_J):
        j = start + tl.arange(0, BLOCK_J)
        jmask = j < N
        vj = _key(tl.load(base + j * sn, mask=jmask))[None, :]
        tie = ((vj == vi) | ((vj != vj) & (vi != vi))) & (j[None, :] < i[:, None])
        ahead = (_before(vj, vi, DESCENDING) | tie) & jmask[None, :]
        rank += tl.sum(ahead.to(tl.int32), 1)
    dst = row * N + rank
    tl.store(values + dst, raw, mask=imask)
    tl.store(indices + dst, i.to(tl.int64), mask=imask)
