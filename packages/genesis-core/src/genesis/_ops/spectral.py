"""Orthogonal factorizations: qr, eigh/eigvalsh, svd/svdvals (and ``torch.svd``/``torch.qr``).

The factorizations run in the backend's optional ``linalg_qr``, ``linalg_eigh`` and
``linalg_svd`` kernels; their backward formulas (PyTorch's, for real inputs) are written here
with tensor ops, one share per output (see :class:`genesis._ops.linalg_common.FactorOutput`).
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from collections import namedtuple
from functools import partial

from genesis._autograd.grad_mode import _State
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._ops.fused import wrap
from genesis._ops.linalg_common import (
    check_matrix,
    detached,
    factor_outputs,
    kernel,
    mat_t,
    off_diagonal,
    tril,
)
from genesis._ops.linalg_solvers import solve
from genesis._ops.shape import cat
from genesis._tensor import Tensor

__all__ = ["qr", "svd"]

QRResult = namedtuple("QRResult", ["Q", "R"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
LegacySVDResult = namedtuple("LegacySVDResult", ["U", "S", "V"])
_QR_MODES = ("reduced", "complete", "r")


def _skew(x: Tensor) -> Tensor:
    return x - mat_t(x)


# -- qr -------------------------------------------------------------------------------------

@autocast_op("linalg_qr")
def linalg_qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """``(Q, R)`` with ``A = Q R``, ``Q`` with orthonormal columns and ``R`` upper triangular;
    ``mode`` ``"reduced"`` (``k = min(m, n)`` columns of ``Q``), ``"complete"`` (``Q`` square)
    or ``"r"`` (``R`` only; ``Q`` is empty)."""
    fn = "linalg.qr"
    check_matrix(fn, A, square=False, cpu_kernel="geqrf_cpu")
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    a = detached(A)
    q, r = kernel(fn, "linalg_qr", a)(a, mode)
    *batch, m, n = A.shape
    batch, k = tuple(batch), min(m, n)
    complete = mode == "complete"
    R = wrap(r, batch + (m if complete else k, n), a)
    Q = zeros(0, dtype=a.dtype, device=a.device) if q is None else \
        wrap(q, batch + (m, m if complete else k), a)
    outs = factor_outputs(A, (Q, R), partial(_qr_backward, mode),
                          lambda x: tuple(linalg_qr(x, mode)))
    return QRResult(*outs)


def _qr_backward(mode, a, outs, which, g):
    """Shares of ``gA`` for ``gQ`` (``which`` 0) and ``gR`` (1). Tall (``m >= n``):
    ``M = R gR^T - gQ^T Q``, ``gA = (gQ + Q copyltu(M)) R^-T``. Wide: ``A = [X | Y]``, ``R =
    [U | V]``, with ``X = Q U`` the square case, ``gY = Q gV`` and ``gQ += Y gV^T``."""
    m, n = a.shape[-2:]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                           "to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    q, r = outs
    gq, gr = (g, None) if which == 0 else (None, g)
    if m >= n:
        return _qr_tall_backward(q, r, gq, gr)
    y = a.narrow(-1, m, n - m)
    if gr is None:
        gx = _qr_tall_backward(q, r.narrow(-1, 0, m), gq, None)
        return cat([gx, zeros(y.shape, dtype=g.dtype, device=g.device)], -1)
    gu, gv = gr.narrow(-1, 0, m), gr.narrow(-1, m, n - m)
    gx = _qr_tall_backward(q, r.narrow(-1, 0, m), y @ mat_t(gv), gu)
    return cat([gx, q @ gv], -1)


def _qr_tall_backward(q, r, gq, gr):
    m_ = None
    if gr is not None:
        m_ = r @ mat_t(gr)
    if gq is not None:
        m_ = -(mat_t(gq) @ q) if m_ is None else m_ - mat_t(gq) @ q
    copyltu = tril(m_) + mat_t(tril(m_, -1))
    b = q @ copyltu if gq is None else gq + q @ copyltu
    return mat_t(solve(r, mat_t(b)))


@autocast_op("qr")
def qr(input: Tensor, some: bool = True) -> QRResult:
    """``torch.qr``: :func:`genesis.linalg.qr` with mode ``"reduced"`` (``some``) or
    ``"complete"``."""
    return linalg_qr(input, "reduced" if some else "complete")


# -- eigh -----------------------------------------------------------------------------------

def _eigh(fn: str, A: Tensor, UPLO: str, keep: tuple) -> tuple:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    check_matrix(fn, A, cpu_kernel="linalg_eigh_cpu", floats_only=True)
    a = detached(A)
    w, v = kernel(fn, "linalg_eigh", a)(a, UPLO == "U")
    outs = (wrap(w, A.shape[:-1], a), wrap(v, A.shape, a))
    return factor_outputs(A, outs, _eigh_backward, lambda x: tuple(eigh(x, UPLO)), keep)


@autocast_op("linalg_eigh")
def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """``(eigenvalues, eigenvectors)`` of each symmetric matrix of ``A``, read from its lower
    (``UPLO="L"``) or upper (``"U"``) triangle: ascending eigenvalues, eigenvectors as
    columns."""
    return EighResult(*_eigh("linalg.eigh", A, UPLO, (0, 1)))


@autocast_op("linalg_eigvalsh")
def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of each symmetric matrix of ``A``."""
    return _eigh("linalg.eigh", A, UPLO, (0,))[0]


def _eigh_backward(a, outs, which, g):
    """``gA = V (diag(gw) + skew(V^T gV) / 2 / E) V^T`` with ``E_ij = w_j - w_i``."""
    w, v = outs
    if which == 0:
        return (v * g.unsqueeze(-2)) @ mat_t(v)
    vhgv = 0.5 * _skew(mat_t(v) @ g)
    e = off_diagonal(w.unsqueeze(-2) - w.unsqueeze(-1), 1.0)
    return v @ (vhgv / e) @ mat_t(v)


# -- svd ------------------------------------------------------------------------------------

def _svd(fn: str, A: Tensor, full_matrices: bool, keep: tuple) -> tuple:
    check_matrix(fn, A, square=False, cpu_kernel="linalg_svd_cpu")
    a = detached(A)
    u, s, vh = kernel(fn, "linalg_svd", a)(a, full_matrices, True)
    *batch, m, n = A.shape
    batch, k = tuple(batch), min(m, n)
    outs = (wrap(u, batch + (m, m if full_matrices else k), a),
            wrap(s, batch + (k,), a),
            wrap(vh, batch + (n if full_matrices else k, n), a))
    return factor_outputs(A, outs, _svd_backward,
                          lambda x: tuple(linalg_svd(x, full_matrices)), keep)


@autocast_op("linalg_svd")
def linalg_svd(A: Tensor, full_matrices: bool = True, *,
               driver: str | None = None) -> SVDResult:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh`` and ``S`` descending; ``U`` and ``Vh`` square
    when ``full_matrices``, else with ``min(m, n)`` columns / rows. Gradients need distinct
    singular values (and use the first ``min(m, n)`` singular vectors)."""
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    return SVDResult(*_svd("linalg.svd", A, full_matrices, (0, 1, 2)))


@autocast_op("linalg_svdvals")
def svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:
    """The singular values of each matrix of ``A``, descending."""
    fn = "linalg.svd"
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    if _State.enabled and getattr(A, "requires_grad", False):  # the gradient needs U and Vh
        return _svd(fn, A, False, (1,))[1]
    check_matrix(fn, A, square=False, cpu_kernel="linalg_svd_cpu")
    s = kernel(fn, "linalg_svd", A)(A, False, False)
    return wrap(s, A.shape[:-2] + (min(A.shape[-2:]),), A)


def _svd_backward(a, outs, which, g):
    """PyTorch's ``svd_backward``, one output at a time, with ``E_jk = s_k^2 - s_j^2``."""
    u, s, vh = outs
    m, n = a.shape[-2:]
    k = s.shape[-1]
    if u.shape[-1] != k:  # full_matrices: only the first k singular vectors matter
        u = u.narrow(-1, 0, k)
        g = g.narrow(-1, 0, k) if which == 0 else g
    if vh.shape[-2] != k:
        vh = vh.narrow(-2, 0, k)
        g = g.narrow(-2, 0, k) if which == 2 else g
    if which == 1:
        return u @ (g.unsqueeze(-1) * vh) if m >= n else (u * g.unsqueeze(-2)) @ vh
    s2 = s * s
    e = off_diagonal(s2.unsqueeze(-2) - s2.unsqueeze(-1), 1.0)
    if which == 0:
        ga = _skew(mat_t(u) @ g) * s.unsqueeze(-2) / e
        if m > n:
            gusinv = g / s.unsqueeze(-2)
            return (u @ ga + gusinv - u @ (mat_t(u) @ gusinv)) @ vh
        return u @ ga @ vh
    ga = s.unsqueeze(-1) * _skew(vh @ mat_t(g)) / e
    if m < n:
        sinvgvh = g / s.unsqueeze(-1)
        return u @ (ga @ vh + sinvgvh - (sinvgvh @ mat_t(vh)) @ vh)
    return u @ ga @ vh


@autocast_op("svd")
def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> LegacySVDResult:
    """``torch.svd``: ``(U, S, V)`` with ``input = U diag(S) V^T`` (reduced when ``some``);
    without ``compute_uv``, ``U`` and ``V`` are zero-filled ``(m, m)`` and ``(n, n)``."""
    if compute_uv:
        u, s, vh = linalg_svd(input, full_matrices=not some)
        return LegacySVDResult(u, s, mat_t(vh))
    s = svdvals(input)
    *batch, m, n = input.shape
    return LegacySVDResult(zeros(*batch, m, m, dtype=input.dtype, device=input.device), s,
                           zeros(*batch, n, n, dtype=input.dtype, device=input.device))


TENSOR_METHODS = {"qr": qr, "svd": svd}
