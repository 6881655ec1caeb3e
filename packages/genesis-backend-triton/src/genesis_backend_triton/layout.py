"""Strided views as kernel arguments: collapse, pad to :data:`MAX_DIMS`, split the rest.

Elementwise kernels take one shape and, per operand, strides of exactly
``MAX_DIMS`` dimensions and compute each element's offset from its linear
index. :func:`collapse` first merges dimensions that are contiguous in every
operand (a contiguous tensor becomes one dimension) and drops size-1
dimensions; :func:`chunks` pads the result on the left and, for the rare
view that still has more than ``MAX_DIMS`` dimensions, yields one launch per
index of the leading ones.
"""

from __future__ import annotations

import itertools

MAX_DIMS = 6


def next_pow2(n: int) -> int:
    """The smallest power of two >= ``n`` (1 for n <= 1)."""
    return 1 << max(0, (n - 1).bit_length())


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def contiguous_strides(shape: tuple) -> tuple:
    acc, out = 1, []
    for n in reversed(shape):
        out.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(out))


def numel(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def is_contiguous(view) -> bool:
    shape, strides = view.shape, view.strides
    acc = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n != 1 and s != acc:
            return False
        acc *= n
    return True


def collapse(shape: tuple, strides_list: list) -> tuple[tuple, list]:
    """Merge dimensions contiguous in every operand; drop size-1 ones. Keeps >= 1 dim."""
    dims = []
    for i, n in enumerate(shape):
        if n == 1:
            continue
        st = [s[i] for s in strides_list]
        if dims and all(p == n * c for p, c in zip(dims[-1][1], st)):
            dims[-1] = (dims[-1][0] * n, st)
        else:
            dims.append((n, st))
    if not dims:
        return (1,), [(0,) for _ in strides_list]
    return tuple(d[0] for d in dims), [tuple(d[1][k] for d in dims)
                                       for k in range(len(strides_list))]


def chunks(shape: tuple, strides_list: list, offsets: list):
    """Yield ``(shape6, strides6_list, offsets)``: launches covering the collapsed view."""
    shape, strides_list = collapse(shape, strides_list)
    lead = max(0, len(shape) - MAX_DIMS)
    tail_shape = shape[lead:]
    pad = MAX_DIMS - len(tail_shape)
    shape6 = (1,) * pad + tail_shape
    tails = [(0,) * pad + s[lead:] for s in strides_list]
    for idx in itertools.product(*(range(n) for n in shape[:lead])):
        offs = [o + sum(i * s for i, s in zip(idx, st[:lead]))
                for o, st in zip(offsets, strides_list)]
        yield shape6, tails, offs, len(tail_shape)
