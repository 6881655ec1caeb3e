"""Matrix factorizations with numpy.linalg (LAPACK): the optional ``linalg_*`` kernels.

Registered as ``"linalg_solve"``, ``"linalg_slogdet"``, ``"linalg_cholesky"``,
``"linalg_qr"``, ``"linalg_eigh"`` and ``"linalg_svd"`` (see
``genesis.backends.protocol.FUSED_OPS``). Each takes views of ``(..., m, n)`` matrices and
returns new contiguous arrays of the input's dtype; half types are computed in float32.
Failures (a singular matrix, a matrix that is not positive-definite) are reported per
matrix in an ``info`` array, as LAPACK does, for the core to raise its error.
"""

from __future__ import annotations

import numpy as np

from genesis_backend_cpu._views import arr

_WORK = (np.dtype(np.float32), np.dtype(np.float64))


def _matrices(view) -> np.ndarray:
    a = arr(view)
    return a if a.dtype in _WORK else a.astype(np.float32)


def _like(x: np.ndarray, view) -> np.ndarray:
    """``x`` as a C-contiguous array of ``view``'s numpy dtype (0-d stays 0-d)."""
    return np.asarray(x, dtype=arr(view).dtype, order="C")


def _zero_pivot(m: np.ndarray) -> int:
    """LAPACK ``getrf``'s info for a singular matrix: the (1-based) position of the first
    exactly zero pivot of its LU factorization with partial pivoting."""
    u = np.array(m, dtype=np.float64)
    n = u.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1:, k:] -= np.outer(u[k + 1:, k] / u[k, k], u[k, k:])
    return n  # rounding hid the zero pivot LAPACK found: blame the last one


def linalg_solve(a, b):
    """``x = a^-1 b`` for ``a (..., n, n)`` and ``b (..., n, k)`` of equal batch dims;
    ``info (...,)`` int32: 0, or the position of a zero pivot where ``a`` is singular."""
    ma, mb = _matrices(a), _matrices(b)
    info = np.zeros(ma.shape[:-2], np.int32)
    try:
        x = np.linalg.solve(ma, mb)
    except np.linalg.LinAlgError:
        x = np.full(mb.shape, np.nan, np.result_type(ma, mb))
        for idx in np.ndindex(*ma.shape[:-2]):
            try:
                x[idx] = np.linalg.solve(ma[idx], mb[idx])
            except np.linalg.LinAlgError:
                info[idx] = _zero_pivot(ma[idx])
    return _like(x, a), info


def linalg_slogdet(a):
    """``(sign, log|det a|)`` per matrix of ``a (..., n, n)``; a singular matrix gives
    ``(0, -inf)``."""
    sign, logabsdet = np.linalg.slogdet(_matrices(a))
    return _like(sign, a), _like(logabsdet, a)


def _leading_minor(m: np.ndarray) -> int:
    """The order of the first leading minor of ``m`` that is not positive-definite (LAPACK
    ``potrf``'s info), found by bisection: every larger minor fails too."""
    lo, hi = 1, m.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            np.linalg.cholesky(m[:mid, :mid])
            lo = mid + 1
        except np.linalg.LinAlgError:
            hi = mid
    return lo


def linalg_cholesky(a):
    """Lower-triangular ``L`` with ``a = L L^T`` per matrix of ``a (..., n, n)`` (reading only
    its lower triangle); ``info (...,)`` int32: 0, or the order of the leading minor that is
    not positive-definite."""
    m = _matrices(a)
    info = np.zeros(m.shape[:-2], np.int32)
    try:
        lower = np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        lower = np.full(m.shape, np.nan, m.dtype)
        for idx in np.ndindex(*m.shape[:-2]):
            try:
                lower[idx] = np.linalg.cholesky(m[idx])
            except np.linalg.LinAlgError:
                info[idx] = _leading_minor(m[idx])
    return _like(lower, a), info


def linalg_qr(a, mode: str):
    """``(Q, R)`` of ``a (..., m, n)`` for ``mode`` ``"reduced"`` or ``"complete"``;
    ``(None, R)`` for ``"r"``."""
    m = _matrices(a)
    if mode == "r":
        return None, _like(np.linalg.qr(m, mode="r"), a)
    q, r = np.linalg.qr(m, mode=mode)
    return _like(q, a), _like(r, a)


def linalg_eigh(a, upper: bool):
    """Eigenvalues (ascending) and eigenvectors (columns) of the symmetric matrices ``a``,
    read from their upper triangle when ``upper``, else the lower one."""
    w, v = np.linalg.eigh(_matrices(a), UPLO="U" if upper else "L")
    return _like(w, a), _like(v, a)


def linalg_svd(a, full_matrices: bool, compute_uv: bool):
    """``(U, S, Vh)`` of ``a (..., m, n)`` (``S`` descending), or ``S`` alone unless
    ``compute_uv``."""
    m = _matrices(a)
    if not compute_uv:
        return _like(np.linalg.svd(m, compute_uv=False), a)
    u, s, vh = np.linalg.svd(m, full_matrices=full_matrices)
    return _like(u, a), _like(s, a), _like(vh, a)


KERNELS: dict = {"linalg_solve": linalg_solve, "linalg_slogdet": linalg_slogdet,
                 "linalg_cholesky": linalg_cholesky, "linalg_qr": linalg_qr,
                 "linalg_eigh": linalg_eigh, "linalg_svd": linalg_svd}
