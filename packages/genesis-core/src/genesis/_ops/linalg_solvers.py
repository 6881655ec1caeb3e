"""Linear systems: inv, solve and cholesky.

The factorizations run in the backend's optional ``linalg_solve`` and ``linalg_cholesky``
kernels; the backward formulas are written here with tensor ops.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._autograd.grad_mode import _State
from genesis._ops.autocast import autocast_op
from genesis._ops.fused import wrap
from genesis._ops.linalg_common import (
    batch_eye,
    check_matrix,
    check_tensor,
    detached,
    factor_outputs,
    kernel,
    mat_t,
    raise_failures,
    scale_diagonal,
    torch_name,
    tril,
)
from genesis._tensor import Tensor, _expand_raw, broadcast_shapes

__all__ = ["inverse", "cholesky"]


def solve_raw(fn: str, a: Tensor, b: Tensor, singular) -> Tensor:
    """``a^-1 b`` for ``a (..., n, n)``, ``b (..., n, k)`` (batch dims broadcast), no graph;
    raises :class:`LinAlgError` worded by ``singular(info)`` for a singular matrix."""
    a, b = detached(a), detached(b)
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = _expand_raw(a, batch + a.shape[-2:]) if a.shape[:-2] != batch else a
    b = _expand_raw(b, batch + b.shape[-2:]) if b.shape[:-2] != batch else b
    x, info = kernel(fn, "linalg_solve", a)(a, b)
    raise_failures(fn, wrap(info, batch, a, dt.int32), singular)
    return wrap(x, batch + b.shape[-2:], a)


def _inv_singular(info: int) -> str:
    return (f"The diagonal element {info} is zero, the inversion could not be completed "
            "because the input matrix is singular.")


def _solve_singular(info: int) -> str:
    return "The solver failed because the input matrix is singular."


@autocast_op("linalg_inv")
def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix of ``A (..., n, n)``; raises
    :class:`genesis.linalg.LinAlgError` for a singular one."""
    check_matrix("linalg.inv", A)
    x = solve_raw("linalg.inv", A, batch_eye(A.shape[-1], A, A.shape[:-2]), _inv_singular)
    return factor_outputs(A, (x,), _inv_backward, lambda a: (inv(a),))[0]


def _inv_backward(a, outs, which, g):
    """``gA = -X^T g X^T`` with ``X = A^-1``."""
    xt = mat_t(outs[0])
    return -(xt @ g @ xt)


@autocast_op("inverse")
def inverse(input: Tensor) -> Tensor:
    """``torch.inverse``: the inverse of each square matrix (:func:`genesis.linalg.inv`)."""
    return inv(input)


class Solve(Function):
    """``X = A^-1 B`` (batch dims broadcast): ``gB = A^-T g``, ``gA = -gB X^T``."""

    saves = (0, "out")

    def forward(self, a, b):
        self.out = solve_raw("torch.linalg.solve", a, b, _solve_singular)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        x = Solve.apply(a, b) if _State.enabled else self.out
        gb = Solve.apply(mat_t(a), g)
        return (-(gb @ mat_t(x)) if self.needs_input_grad[0] else None,
                gb if self.needs_input_grad[1] else None)


@autocast_op("linalg_solve")
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` when not ``left``) for square ``A
    (..., n, n)`` and ``B`` a batch of vectors ``(..., n)`` or of matrices ``(..., n, k)``;
    batch dimensions broadcast. Raises :class:`genesis.linalg.LinAlgError` for a singular
    ``A``."""
    fn = "linalg.solve"
    check_matrix(fn, A, cpu_kernel="lu_cpu")
    check_tensor(fn, "B", B)
    if B.dtype is not A.dtype:
        raise RuntimeError(f"{fn}: Expected A and B to have the same dtype, but found A of "
                           f"type {torch_name(A.dtype)} and B of type {torch_name(B.dtype)} "
                           "instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    b = B.unsqueeze(-1) if vector else B
    if b.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor B must have at least 2 dimensions.")
    n = A.shape[-1]
    if b.shape[-2 if left else -1] != n:
        raise RuntimeError(f"{fn}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    x = Solve.apply(A, b) if left else mat_t(Solve.apply(mat_t(A), mat_t(b)))
    return x.squeeze(-1) if vector else x


def _not_pd(info: int) -> str:
    return ("The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {info} is not positive-definite).")


@autocast_op("linalg_cholesky")
def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (lower; ``L^T`` when ``upper``) of each symmetric
    positive-definite matrix, ``A = L L^T``, read from ``A``'s lower triangle; raises
    :class:`genesis.linalg.LinAlgError` for a matrix that is not positive-definite."""
    fn = "linalg.cholesky"
    check_matrix(fn, A, cpu_kernel="cholesky_cpu")
    a = detached(A)
    lower, info = kernel(fn, "linalg_cholesky", a)(a)
    raise_failures(fn, wrap(info, A.shape[:-2], a, dt.int32), _not_pd)
    out = factor_outputs(A, (wrap(lower, A.shape, a),), _cholesky_backward,
                         lambda x: (linalg_cholesky(x),))[0]
    return mat_t(out) if upper else out


def _cholesky_backward(a, outs, which, g):
    """PyTorch's formula: ``Phi = tril(L^T gL)`` with its diagonal halved, ``gA = L^-T Phi
    L^-1``, symmetrized."""
    lower = outs[0]
    phi = scale_diagonal(tril(mat_t(lower) @ g), 0.5)
    linv = inv(lower)
    ga = mat_t(linv) @ phi @ linv
    return 0.5 * (ga + mat_t(ga))


@autocast_op("cholesky")
def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """``torch.cholesky(input, upper=False)``: :func:`genesis.linalg.cholesky`."""
    return linalg_cholesky(input, upper=upper)


TENSOR_METHODS = {"inverse": inverse, "cholesky": cholesky}
