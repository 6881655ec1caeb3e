"""Determinants: det, slogdet and logdet, from the backend's optional ``linalg_slogdet``
kernel; their backward formulas are written here with tensor ops."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from collections import namedtuple

from genesis._ops.elementwise import binary_raw, unary_raw, where
from genesis._ops.fused import wrap
from genesis._ops.linalg_common import (
    check_matrix,
    detached,
    factor_outputs,
    kernel,
    mat_t,
    off_diagonal,
)
from genesis._ops.linalg_solvers import inv
from genesis._ops.spectral import linalg_svd
from genesis._tensor import Tensor

__all__ = ["det", "logdet", "slogdet"]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


def _slogdet_raw(fn: str, A: Tensor, cpu_kernel: str | None = None) -> tuple:
    check_matrix(fn, A, cpu_kernel=cpu_kernel)
    a = detached(A)
    sign, logabsdet = kernel(fn, "linalg_slogdet", a)(a)
    batch = A.shape[:-2]
    return wrap(sign, batch, a), wrap(logabsdet, batch, a)


def slogdet(A: Tensor) -> SlogdetResult:
    """``(sign, logabsdet)``: the sign and the log of the absolute value of the determinant
    of each square matrix (``(0, -inf)`` for a singular one)."""
    sign, logabsdet = _slogdet_raw("linalg.slogdet", A)
    return SlogdetResult(*factor_outputs(A, (sign, logabsdet), _slogdet_backward,
                                         lambda a: tuple(slogdet(a))))


def _slogdet_backward(a, outs, which, g):
    """``g A^-T`` for ``logabsdet``; nothing for the sign, which is piecewise constant."""
    if which == 0:
        return None
    return g.unsqueeze(-1).unsqueeze(-1) * mat_t(inv(a))


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix of ``A (..., n, n)``."""
    sign, logabsdet = _slogdet_raw("linalg.det", A, "lu_cpu")
    value = binary_raw("mul", sign, unary_raw("exp", logabsdet))
    return factor_outputs(A, (value,), _det_backward, lambda a: (det(a),))[0]


def _det_backward(a, outs, which, g):
    """``g det(A) A^-T`` (the cofactor matrix), through the SVD when a matrix is singular:
    ``A = U diag(s) Vh`` has cofactors ``det(U) det(Vh) U diag(prod_{j != i} s_j) Vh``."""
    d = outs[0]
    if not bool((d == 0).any()):
        return (g * d).unsqueeze(-1).unsqueeze(-1) * mat_t(inv(a))
    u, s, vh = linalg_svd(a)
    others = off_diagonal(s.unsqueeze(-2), 1.0).prod(-1)
    scale = g * det(u) * det(vh)
    return scale.unsqueeze(-1).unsqueeze(-1) * ((u * others.unsqueeze(-2)) @ vh)


def logdet(input: Tensor) -> Tensor:
    """The log of the determinant of each square matrix: ``nan`` where it is negative,
    ``-inf`` where it is zero."""
    check_matrix("logdet", input)
    sign, logabsdet = slogdet(input)
    return where(sign < 0, float("nan"), logabsdet)


TENSOR_METHODS = {"det": det, "logdet": logdet, "slogdet": slogdet}
