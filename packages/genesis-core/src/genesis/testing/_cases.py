"""The op table of the conformance kit: each case pairs a Genesis call with a float64 reference.

Inputs are described by :class:`Arg`; the reference receives float64 numpy
arrays (integer arrays for index inputs) and returns the expected result.
Gradients are checked against central differences of the reference, so the
references need no derivative formulas of their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FLOATS = ("float32", "float64", "float16", "bfloat16")
INTS = ("int32", "int64", "int8", "uint8", "int16")


@dataclass(frozen=True)
class Arg:
    """One input: a float tensor of ``shape`` in ``domain``, or an int64 index in [0, high)."""

    shape: tuple
    domain: str = "real"  # real | positive | unit | nonzero | ties | index | bool
    high: int = 0

    @property
    def differentiable(self) -> bool:
        return self.domain not in ("index", "bool")


@dataclass(frozen=True)
class OpCase:
    name: str
    fn: Callable
    ref: Callable
    args: tuple
    grad: bool = True
    dtypes: tuple = FLOATS
    kind: str = "primitive"  # primitive | composite
    fused: str | None = None  # fused kernel a backend may provide for this composite
    tags: tuple = field(default_factory=tuple)
    #: the primitive ops of the protocol this case exercises (see ``_references``)
    covers: tuple = ()


def _f():
    import genesis.nn.functional as F

    return F


def _erf(x):
    return np.vectorize(math.erf)(x)


def _softmax(x, dim=-1):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax(x, dim=-1):
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


def _layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _cross_entropy(x, t):
    lp = _log_softmax(x, -1)
    return -lp[np.arange(len(t)), t].mean()


S = (3, 4)
B = (2, 3, 4)
R, P, U, NZ = "real", "positive", "unit", "nonzero"


def structural_cases() -> list:
    """Cases beyond one primitive each: broadcasting, scalars, views, joins, composites."""
    import genesis as g

    cases = [
        OpCase("add_broadcast", lambda a, b: a + b, np.add, (Arg((2, 1, 4)), Arg((3, 1)))),
        OpCase("mul_scalar", lambda a: a * 2.5 - 1.0, lambda a: a * 2.5 - 1.0, (Arg(S),)),
        OpCase("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, (Arg(S, NZ),)),
        OpCase(
            "clamp", lambda a: g.clamp(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), (Arg(B),)
        ),
        OpCase("eq_self", lambda a: a == a, lambda a: a == a, (Arg(S),), grad=False),
        OpCase("sum_all", lambda a: a.sum(), np.sum, (Arg(B),)),
        OpCase(
            "sum_dims",
            lambda a: a.sum((0, 2), keepdim=True),
            lambda a: a.sum((0, 2), keepdims=True),
            (Arg(B),),
        ),
        OpCase("mean_dim", lambda a: a.mean(1), lambda a: a.mean(1), (Arg(B),)),
        # long positive sums: half types must accumulate in float32 (a float16 accumulator
        # stalls past 2048, a bfloat16 one past 256, far outside the forward tolerance)
        OpCase("sum_long", lambda a: a.sum(0), lambda a: a.sum(0), (Arg((2048, 3), P),),
               grad=False),
        OpCase("mean_long", lambda a: a.mean(1), lambda a: a.mean(1), (Arg((3, 2048), P),),
               grad=False),
        OpCase("prod_dim", lambda a: a.prod(1), lambda a: a.prod(1), (Arg(B, NZ),)),
        OpCase("amax_dim", lambda a: a.amax(-1), lambda a: a.max(-1), (Arg(B),)),
        OpCase("max_dim_values", lambda a: a.max(1).values, lambda a: a.max(1), (Arg(B),)),
        OpCase("min_all", lambda a: a.min(), np.min, (Arg(B),)),
        OpCase("argmin_all", lambda a: a.argmin(), lambda a: np.argmin(a), (Arg(B),), grad=False),
        OpCase("var", lambda a: a.var(1), lambda a: a.var(1, ddof=1), (Arg(B),)),
        OpCase("std_all", lambda a: a.std(), lambda a: a.std(ddof=1), (Arg(B),)),
        OpCase(
            "logsumexp", lambda a: a.logsumexp(-1), lambda a: np.log(np.exp(a).sum(-1)), (Arg(B),)
        ),
        OpCase("matmul_batched", lambda a, b: a @ b, np.matmul, (Arg((2, 3, 5)), Arg((5, 2)))),
        OpCase("matmul_vec", lambda a, b: a @ b, np.matmul, (Arg((3, 5)), Arg((5,)))),
        OpCase("slice_step", lambda a: a[:, ::2, 1:], lambda a: a[:, ::2, 1:], (Arg(B),)),
        OpCase(
            "index_tensor",
            lambda a, i: a[i],
            lambda a, i: a[i],
            (Arg((5, 3)), Arg((4,), "index", 5)),
        ),
        OpCase("mask_select", lambda a: a[a > 0], lambda a: a[a > 0], (Arg(B),)),
        OpCase(
            "expand_mul", lambda a, b: a.expand(3, 4) * b, lambda a, b: a * b, (Arg((1, 4)), Arg(S))
        ),
        OpCase(
            "cat",
            lambda a, b: g.cat([a, b], 1),
            lambda a, b: np.concatenate([a, b], 1),
            (Arg(S), Arg((3, 2))),
        ),
        OpCase(
            "stack",
            lambda a, b: g.stack([a, b], 0),
            lambda a, b: np.stack([a, b]),
            (Arg(S), Arg(S)),
        ),
        OpCase(
            "index_select",
            lambda a, i: a.index_select(0, i),
            lambda a, i: a[i],
            (Arg((5, 3)), Arg((4,), "index", 5)),
        ),
        OpCase(
            "masked_fill",
            lambda a, m: a.masked_fill(m, 0.5),
            lambda a, m: np.where(m, 0.5, a),
            (Arg(S), Arg(S, "bool")),
        ),
        OpCase("cast_roundtrip", lambda a: a.to(g.float64).to(a.dtype) * 1, lambda a: a, (Arg(S),)),
    ]
    cases += [
        OpCase(
            "softmax",
            lambda a: _f().softmax(a, -1),
            _softmax,
            (Arg(B),),
            kind="composite",
            fused="softmax",
        ),
        OpCase(
            "log_softmax",
            lambda a: _f().log_softmax(a, 1),
            lambda a: _log_softmax(a, 1),
            (Arg(B),),
            kind="composite",
            fused="log_softmax",
        ),
        OpCase(
            "cross_entropy",
            lambda a, t: _f().cross_entropy(a, t),
            _cross_entropy,
            (Arg((4, 5)), Arg((4,), "index", 5)),
            kind="composite",
            fused="cross_entropy",
        ),
        OpCase(
            "layer_norm",
            lambda a, w, b: _f().layer_norm(a, (4,), w, b),
            _layer_norm,
            (Arg(B), Arg((4,)), Arg((4,))),
            kind="composite",
            fused="layer_norm",
        ),
        OpCase(
            "rms_norm",
            lambda a, w: _f().rms_norm(a, (4,), w, 1e-6),
            lambda a, w: a / np.sqrt((a * a).mean(-1, keepdims=True) + 1e-6) * w,
            (Arg(B), Arg((4,))),
            kind="composite",
            fused="rms_norm",
        ),
        OpCase(
            "gelu",
            lambda a: _f().gelu(a),
            lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))),
            (Arg(B),),
            kind="composite",
            fused="gelu",
        ),
        OpCase(
            "gelu_tanh",
            lambda a: _f().gelu(a, approximate="tanh"),
            lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3))),
            (Arg(B),),
            kind="composite",
        ),
        OpCase(
            "relu_fused_backward",
            lambda a: _f().relu(a),
            lambda a: np.maximum(a, 0),
            (Arg(B),),
            kind="composite",
            fused="relu_backward",
        ),
        OpCase(
            "silu",
            lambda a: _f().silu(a),
            lambda a: a / (1 + np.exp(-a)),
            (Arg(B),),
            kind="composite",
            fused="silu",
        ),
        OpCase(
            "linear",
            lambda x, w, b: _f().linear(x, w, b),
            lambda x, w, b: x @ w.T + b,
            (Arg((3, 5)), Arg((4, 5)), Arg((4,))),
            kind="composite",
        ),
        OpCase(
            "mse_loss",
            lambda a, b: _f().mse_loss(a, b),
            lambda a, b: ((a - b) ** 2).mean(),
            (Arg(S), Arg(S)),
            kind="composite",
        ),
    ]
    return cases


def build_int_cases() -> list:
    """Integer/bool forward checks (no gradients)."""
    import genesis as g

    return [
        OpCase(
            "int_add_mul",
            lambda a, b: a * b + a,
            lambda a, b: a * b + a,
            (Arg(S), Arg(S)),
            grad=False,
            dtypes=INTS,
        ),
        OpCase(
            "int_sum", lambda a: a.sum(1), lambda a: a.sum(1), (Arg(B),), grad=False, dtypes=INTS
        ),
        OpCase(
            "int_max_argmax",
            lambda a: a.amax(0) + a.argmax(0).to(a.dtype),
            lambda a: a.max(0) + a.argmax(0),
            (Arg(B),),
            grad=False,
            dtypes=INTS,
        ),
        OpCase(
            "int_compare_where",
            lambda a, b: g.where(a > b, a, b),
            np.maximum,
            (Arg(S), Arg(S)),
            grad=False,
            dtypes=INTS,
        ),
        OpCase(
            "int_matmul",
            lambda a, b: a @ b,
            np.matmul,
            (Arg((3, 5)), Arg((5, 2))),
            grad=False,
            dtypes=("int32", "int64"),
        ),
    ]
