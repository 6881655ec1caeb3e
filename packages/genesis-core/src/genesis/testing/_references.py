"""One float64 reference per primitive of the backend contract: the kit's table.

Each family below maps every op of its list in :mod:`genesis.backends.protocol` to a
numpy reference and an input domain; :func:`primitive_cases` turns the table into one
:class:`~genesis.testing._cases.OpCase` per op (``covers`` names the op), and
:func:`uncovered_ops` reports any listed op without a case, so a new primitive cannot go
untested. Adding an op to the protocol means adding its line here.
"""

from __future__ import annotations

import math

import numpy as np

from genesis.backends import protocol
from genesis.testing._cases import FLOATS, Arg, OpCase

S = (3, 4)
B = (2, 3, 4)
R, P, NZ, UNIT, TIES, BOOL = "real", "positive", "nonzero", "unit", "ties", "bool"
SIGNED_INTS = ("int32", "int64", "int8", "int16")


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _erfinv(y: float) -> float:
    """The inverse of ``math.erf`` by Newton's method (quadratic: 6 steps reach float64)."""
    x = 0.0
    for _ in range(40):
        step = (math.erf(x) - y) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
        x -= step
        if abs(step) < 1e-17 * max(1.0, abs(x)):
            break
    return x


#: op -> (float64 reference, input domain, differentiable, dtypes)
UNARY = {
    "neg": (np.negative, R, True, FLOATS + SIGNED_INTS),
    "abs": (np.abs, NZ, True, FLOATS + SIGNED_INTS),
    "exp": (np.exp, R, True, FLOATS),
    "log": (np.log, P, True, FLOATS),
    "sqrt": (np.sqrt, P, True, FLOATS),
    "rsqrt": (lambda x: 1 / np.sqrt(x), P, True, FLOATS),
    "sin": (np.sin, R, True, FLOATS),
    "cos": (np.cos, R, True, FLOATS),
    "tanh": (np.tanh, R, True, FLOATS),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), R, True, FLOATS),
    "relu": (lambda x: np.maximum(x, 0), NZ, True, FLOATS + SIGNED_INTS),
    "erf": (_erf, R, True, FLOATS),
    "sign": (np.sign, NZ, True, FLOATS + SIGNED_INTS),
    "floor": (np.floor, R, True, FLOATS + SIGNED_INTS),
    "logical_not": (np.logical_not, TIES, False, FLOATS + SIGNED_INTS),
    "log1p": (np.log1p, UNIT, True, FLOATS),
    "expm1": (np.expm1, R, True, FLOATS),
    "erfinv": (lambda x: np.vectorize(_erfinv, otypes=[np.float64])(x), UNIT, True, FLOATS),
}

#: op -> (float64 reference, (domain a, domain b), differentiable, dtypes); comparisons and
#: logical ops draw from a few small integers, so equal pairs (and zeros) are common
BINARY = {
    "add": (np.add, (R, R), True, FLOATS + SIGNED_INTS),
    "sub": (np.subtract, (R, R), True, FLOATS + SIGNED_INTS),
    "mul": (np.multiply, (R, R), True, FLOATS + SIGNED_INTS),
    "div": (np.divide, (R, NZ), True, FLOATS),
    "pow": (np.power, (P, R), True, FLOATS),
    "maximum": (np.maximum, (R, R), True, FLOATS + SIGNED_INTS),
    "minimum": (np.minimum, (R, R), True, FLOATS + SIGNED_INTS),
    "eq": (np.equal, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "ne": (np.not_equal, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "lt": (np.less, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "le": (np.less_equal, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "gt": (np.greater, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "ge": (np.greater_equal, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "logical_and": (np.logical_and, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "logical_or": (np.logical_or, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "logical_xor": (np.logical_xor, (TIES, TIES), False, FLOATS + SIGNED_INTS),
    "atan2": (np.arctan2, (R, NZ), True, FLOATS),
}

#: op -> (genesis call over axes (0, 2), float64 reference, input domain)
REDUCE = {
    "sum": (lambda a: a.sum((0, 2)), lambda a: a.sum((0, 2)), R),
    "prod": (lambda a: a.prod(1), lambda a: a.prod(1), NZ),
    "max": (lambda a: a.amax((0, 2)), lambda a: a.max((0, 2)), R),
    "min": (lambda a: a.amin((0, 2)), lambda a: a.min((0, 2)), R),
}

#: op -> (genesis call along axis 1, float64 reference); ties test the first-index rule
ARG_REDUCE = {
    "argmax": (lambda a: a.argmax(1), lambda a: a.argmax(1)),
    "argmin": (lambda a: a.argmin(1), lambda a: a.argmin(1)),
}

#: op -> (genesis call along axis 1, float64 reference, input domain, dtypes)
SCAN = {
    "cumsum": (lambda a: a.cumsum(1), lambda a: np.cumsum(a, 1), R, FLOATS + SIGNED_INTS),
    "cumprod": (lambda a: a.cumprod(1), lambda a: np.cumprod(a, 1), NZ, FLOATS + SIGNED_INTS),
    "cummax": (lambda a: a.cummax(1).values, lambda a: np.maximum.accumulate(a, 1), R,
               FLOATS + SIGNED_INTS),
    "cummin": (lambda a: a.cummin(1).values, lambda a: np.minimum.accumulate(a, 1), R,
               FLOATS + SIGNED_INTS),
    "logcumsumexp": (lambda a: a.logcumsumexp(1), lambda a: np.logaddexp.accumulate(a, 1), R,
                     FLOATS),
}


def _cummax_indices(a):
    """Where the running maximum along axis 1 was last reached (ties: the later index)."""
    out = np.zeros(a.shape, np.int64)
    best = a[:, :1].copy()
    for i in range(1, a.shape[1]):
        reached = a[:, i:i + 1] >= best
        best = np.where(reached, a[:, i:i + 1], best)
        out[:, i:i + 1] = np.where(reached, i, out[:, i - 1:i])
    return out


def _stable_order(a, descending: bool):
    """Stable sort order along axis 1, NaN above every number, equal values by index."""
    def row(v):
        nan = np.isnan(v)
        key = np.where(nan, 0.0, v)
        index = np.arange(v.size)
        if descending:
            return np.lexsort((index, -key, ~nan))
        return np.lexsort((index, key, nan))
    return np.apply_along_axis(row, 1, a)


def _with_nans(a):
    return np.where(a > 1, np.nan, a)


def _sort_scan_cases() -> list:
    """The scans (one case each, plus cummax's tie rule) and the stable sort: values, the
    order of ties in both directions, NaN placement."""
    import genesis as g

    cases = [OpCase(f"scan_{op}", call, ref, (Arg(B, domain),), dtypes=dtypes, covers=(op,))
             for op, (call, ref, domain, dtypes) in SCAN.items()]
    cases += [
        OpCase("cummax_indices", lambda a: a.cummax(1).indices, _cummax_indices,
               (Arg(B, TIES),), grad=False, dtypes=FLOATS + SIGNED_INTS, covers=("cummax",)),
        OpCase("sort_values", lambda a: a.sort(1).values, lambda a: np.sort(a, 1), (Arg(B),),
               dtypes=FLOATS + SIGNED_INTS, covers=("sort",)),
        OpCase("sort_descending_values", lambda a: a.sort(1, descending=True).values,
               lambda a: -np.sort(-a, 1), (Arg(B),), dtypes=FLOATS + SIGNED_INTS,
               covers=("sort",)),
        OpCase("sort_ties", lambda a: a.sort(1).indices, lambda a: _stable_order(a, False),
               (Arg(B, TIES),), grad=False, dtypes=FLOATS + SIGNED_INTS, covers=("sort",)),
        OpCase("sort_descending_ties", lambda a: a.sort(1, descending=True).indices,
               lambda a: _stable_order(a, True), (Arg(B, TIES),), grad=False,
               dtypes=FLOATS + SIGNED_INTS, covers=("sort",)),
        OpCase("sort_nan", lambda a: g.where(a > 1, float("nan"), a).argsort(1),
               lambda a: _stable_order(_with_nans(a), False), (Arg(B, TIES),), grad=False,
               covers=("sort",)),
        OpCase("sort_descending_nan",
               lambda a: g.where(a > 1, float("nan"), a).argsort(1, descending=True),
               lambda a: _stable_order(_with_nans(a), True), (Arg(B, TIES),), grad=False,
               covers=("sort",)),
    ]
    return cases


def _kernel_cases() -> list:
    """The one-method kernels, each exercised through the public op that reaches it."""
    import genesis as g

    def scatter_ref(a, i, s, accumulate):
        out = a.copy()
        grid = list(np.indices(i.shape, sparse=True))
        grid[1] = i
        if accumulate:
            np.add.at(out, tuple(grid), s)
        else:
            out[tuple(grid)] = s
        return out

    return [
        OpCase("where", lambda c, a, b: g.where(c, a, b), lambda c, a, b: np.where(c, a, b),
               (Arg(S, BOOL), Arg(S), Arg((4,))), covers=("where",)),
        OpCase("matmul", lambda a, b: a @ b, np.matmul, (Arg((3, 5)), Arg((5, 4))),
               covers=("matmul",)),
        OpCase("copy_", lambda a: a.transpose(0, 2).contiguous() * 1,
               lambda a: a.transpose(2, 1, 0), (Arg(B),), covers=("copy_",)),
        OpCase("fill_", lambda a: g.full_like(a, 0.75) * a, lambda a: 0.75 * a, (Arg(S),),
               covers=("fill_",)),
        OpCase("gather", lambda a, i: a.gather(1, i),
               lambda a, i: np.take_along_axis(a, i, axis=1),
               (Arg((3, 5)), Arg((3, 4), "index", 5)), covers=("gather",)),
        OpCase("scatter_", lambda a, i, s: a.scatter_add(1, i, s),
               lambda a, i, s: scatter_ref(a, i, s, True),
               (Arg((3, 5)), Arg((3, 4), "index", 5), Arg((3, 4))), covers=("scatter_",)),
        OpCase("scatter_replace", lambda a, i, s: a.scatter(1, i, s),
               lambda a, i, s: scatter_ref(a, i, s, False),
               (Arg((3, 5)), Arg((3, 1), "index", 5), Arg((3, 1))), grad=False,
               covers=("scatter_",)),
    ]


def primitive_cases() -> list:
    """One case (or more) per primitive op of the protocol, generated from the tables."""
    import genesis as g

    cases = []
    for op, (ref, domain, grad, dtypes) in UNARY.items():
        cases.append(OpCase(op, getattr(g, op), ref, (Arg(B, domain),), grad=grad,
                            dtypes=dtypes, covers=(op,)))
    for op, (ref, (da, db), grad, dtypes) in BINARY.items():
        cases.append(OpCase(op, getattr(g, op), ref, (Arg(S, da), Arg(S, db)), grad=grad,
                            dtypes=dtypes, covers=(op,)))
    for op, (call, ref, domain) in REDUCE.items():
        cases.append(OpCase(f"reduce_{op}", call, ref, (Arg(B, domain),), covers=(op,)))
    for op, (call, ref) in ARG_REDUCE.items():
        cases.append(OpCase(op, call, ref, (Arg(B, TIES),), grad=False,
                            dtypes=FLOATS + SIGNED_INTS, covers=(op,)))
    return cases + _sort_scan_cases() + _kernel_cases()


def uncovered_ops(cases: list) -> list:
    """Ops of the protocol (random distributions aside: :func:`check_random` covers those)
    that no case covers."""
    covered = {op for case in cases for op in case.covers}
    listed = [op for op in protocol.PRIMITIVE_OPS if op not in protocol.RANDOM_DISTRIBUTIONS]
    return [op for op in listed if op not in covered]
