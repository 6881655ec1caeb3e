"""Factorizations against PyTorch: inv, solve, det, slogdet, logdet, cholesky, qr, eigh,
eigvalsh, svd, svdvals (and torch.inverse/det/logdet/slogdet/cholesky/qr/svd, Tensor
methods) -- values, gradients (vs torch and finite differences), batches, layouts, empty
matrices, LAPACK failures, errors, and a backend without the kernels."""

from __future__ import annotations

import dataclasses

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare

F32 = {"rtol": 1e-4, "atol": 1e-5, "grad_rtol": 1e-3, "grad_atol": 1e-4}


def same_error(fn, exc=RuntimeError):
    messages = []
    for lib in (torch, genesis):
        with pytest.raises(exc) as info:
            fn(lib)
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def well_conditioned(m, a):
    """``a`` plus a multiple of the identity: far from singular."""
    return a + 4 * m.eye(a.shape[-1], dtype=a.dtype)


def spd(m, a):
    """A symmetric positive-definite matrix from ``a``."""
    return a @ a.transpose(-1, -2) + m.eye(a.shape[-1], dtype=a.dtype)


def sym(a):
    return a + a.transpose(-1, -2)


def eigh_fixed(m, a, uplo="L"):
    """Eigenpairs with each eigenvector's sign fixed (LAPACKs may pick either)."""
    w, v = m.linalg.eigh(a, UPLO=uplo)
    return w, v * v[..., :1, :].sign()


def svd_fixed(m, a, full_matrices=False):
    """``(U, S, Vh)`` restricted to the first ``k`` singular vectors, signs fixed."""
    u, s, vh = m.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    sg = u[..., :1, :k].sign()
    return u[..., :k] * sg, s, vh[..., :k, :] * sg.transpose(-1, -2)


def qr_fixed(m, a, mode="reduced"):
    """``(Q, R)`` with ``R``'s diagonal made non-negative."""
    q, r = m.linalg.qr(a, mode=mode)
    k = min(a.shape[-2:])
    d = (r[..., :k, :k] * m.eye(k, dtype=a.dtype)).sum(-1).sign()
    return q[..., :k] * d.unsqueeze(-2), r[..., :k, :] * d.unsqueeze(-1)


CASES = {
    "inv": (lambda m, a: m.linalg.inv(well_conditioned(m, a)), [(3, 3)]),
    "inv_batch": (lambda m, a: m.linalg.inv(well_conditioned(m, a)), [(2, 3, 3)]),
    "solve_matrix": (lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b),
                     [(3, 3), (3, 2)]),
    "solve_vector": (lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b), [(3, 3), (3,)]),
    "solve_batched_vectors": (lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b),
                              [(2, 3, 3), (2, 3)]),
    "solve_broadcast": (lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b),
                        [(3, 3), (2, 3, 2)]),
    "solve_right": (lambda m, a, b: m.linalg.solve(well_conditioned(m, a), b, left=False),
                    [(2, 3, 3), (2, 4, 3)]),
    "det": (lambda m, a: m.linalg.det(a), [(3, 3)]),
    "det_batch": (lambda m, a: m.linalg.det(a), [(2, 4, 4)]),
    "slogdet": (lambda m, a: tuple(m.linalg.slogdet(a)), [(2, 3, 3)]),
    "logdet": (lambda m, a: m.logdet(well_conditioned(m, a)), [(2, 3, 3)]),
    "cholesky": (lambda m, a: m.linalg.cholesky(spd(m, a)), [(3, 3)]),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(spd(m, a), upper=True), [(2, 3, 3)]),
    "qr_tall": (lambda m, a: qr_fixed(m, a), [(5, 3)]),
    "qr_wide": (lambda m, a: qr_fixed(m, a), [(2, 3, 5)]),
    "qr_square_complete": (lambda m, a: qr_fixed(m, a, "complete"), [(3, 3)]),
    "qr_wide_complete": (lambda m, a: qr_fixed(m, a, "complete"), [(3, 4)]),
    "eigh": (lambda m, a: eigh_fixed(m, sym(a)), [(4, 4)]),
    "eigh_upper": (lambda m, a: eigh_fixed(m, sym(a), "U"), [(2, 3, 3)]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(sym(a)), [(2, 4, 4)]),
    "svd_tall": (lambda m, a: svd_fixed(m, a), [(5, 3)]),
    "svd_wide": (lambda m, a: svd_fixed(m, a), [(2, 3, 5)]),
    "svd_square": (lambda m, a: svd_fixed(m, a), [(4, 4)]),
    "svd_full_tall": (lambda m, a: svd_fixed(m, a, True), [(2, 5, 3)]),
    "svd_full_wide": (lambda m, a: svd_fixed(m, a, True), [(3, 5)]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [(2, 4, 3)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch(name, dtype):
    fn, shapes = CASES[name]
    compare(fn, shapes, dtype=dtype, **(F32 if dtype == "float32" else {}))


@pytest.mark.parametrize("name", ["inv_batch", "det_batch", "slogdet", "cholesky_upper",
                                  "eigh_upper", "svd_square", "qr_square_complete",
                                  "solve_matrix"])
@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded"])
def test_strided_inputs(name, layout):
    fn, shapes = CASES[name]
    if layout == "transposed" and name == "solve_matrix":
        shapes = [(3, 3), (3, 3)]
    if layout == "expanded":  # a batch of one matrix repeated (not a matrix of equal rows)
        shapes = [(2,) + s if len(s) == 2 else s for s in shapes]
    compare(fn, shapes, layout=layout, dtype="float64")


@pytest.mark.parametrize("name,fn", [
    ("inv", lambda m, a: m.linalg.inv(a)),
    ("det", lambda m, a: m.linalg.det(a)),
    ("slogdet", lambda m, a: tuple(m.linalg.slogdet(a))),
    ("cholesky", lambda m, a: m.linalg.cholesky(a)),
    ("eigh", lambda m, a: tuple(m.linalg.eigh(a))),
    ("svdvals", lambda m, a: m.linalg.svdvals(a)),
])
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)], ids=str)
def test_empty_matrices(name, fn, shape):
    compare(fn, [shape])


@pytest.mark.parametrize("shape,mode", [((2, 0, 3), "reduced"), ((3, 0), "complete"),
                                        ((0, 3), "reduced")], ids=str)
def test_empty_qr_and_svd(shape, mode):
    compare(lambda m, a: tuple(m.linalg.qr(a, mode=mode)), [shape], grad=False)
    compare(lambda m, a: tuple(m.linalg.svd(a, full_matrices=False)), [shape], grad=False)
    compare(lambda m, a: m.linalg.solve(m.ones(0, 0), a[..., :0, :]), [shape], grad=False)


def test_qr_mode_r():
    def fn(m, a):
        q, r = m.linalg.qr(a, mode="r")
        d = (r[..., :3] * m.eye(3)).sum(-1).sign()
        return q, r * d.unsqueeze(-1)
    compare(fn, [(5, 3)], grad=False, **F32)


# -- torch-level names and Tensor methods -------------------------------------------------------

def test_torch_level_names_and_methods():
    compare(lambda m, a: (m.inverse(well_conditioned(m, a)),
                          well_conditioned(m, a).inverse()), [(3, 3)], **F32)
    compare(lambda m, a: (m.det(a), a.det(), m.logdet(spd(m, a)), spd(m, a).logdet()),
            [(3, 3)], **F32)
    compare(lambda m, a: (tuple(m.slogdet(a)), tuple(a.slogdet())), [(3, 3)], **F32)
    compare(lambda m, a: (m.cholesky(spd(m, a)), spd(m, a).cholesky(upper=True),
                          m.cholesky(spd(m, a), True)), [(3, 3)], **F32)


@pytest.mark.parametrize("some", [True, False])
def test_torch_qr_and_svd(some):
    def qr(m, a):
        q, r = m.qr(a, some=some) if some else a.qr(some=False)
        d = (r[..., :3, :3] * m.eye(3)).sum(-1).sign()
        return q[..., :3] * d.unsqueeze(-2), r[..., :3, :] * d.unsqueeze(-1)
    compare(qr, [(4, 3)], dtype="float64", grad=some)  # complete and tall: no gradient

    def svd(m, a):
        u, s, v = m.svd(a, some=some) if some else a.svd(some=False)
        sg = u[..., :1, :3].sign()
        return u[..., :3] * sg, s, v[..., :3] * sg
    compare(svd, [(2, 4, 3)], dtype="float64")


def test_torch_svd_without_uv():
    compare(lambda m, a: tuple(m.svd(a, compute_uv=False)), [(2, 4, 3)], dtype="float64")


def test_result_field_names():
    a = genesis.randn(3, 3) + 4 * genesis.eye(3)
    fields = {"slogdet": ("sign", "logabsdet"), "qr": ("Q", "R"), "svd": ("U", "S", "Vh"),
              "eigh": ("eigenvalues", "eigenvectors")}
    for name, names in fields.items():
        g_out, t_out = (getattr(lib.linalg, name)(lib.ones(2, 2) + lib.eye(2))
                        for lib in (genesis, torch))
        for i, field in enumerate(names):
            assert getattr(g_out, field) is g_out[i]
            np.testing.assert_allclose(getattr(g_out, field).numpy(),
                                       getattr(t_out, field).numpy(), atol=1e-6)
    u, s, v = genesis.svd(a)
    assert genesis.svd(a).V.shape == v.shape == (3, 3)


# -- special values and gradients -------------------------------------------------------------

def test_det_of_singular_matrices_and_its_gradient():
    """At a singular matrix the gradient is the cofactor matrix (through the SVD), which the
    finite differences confirm. Divergence: PyTorch's first-order backward returns zeros
    there (its double backward uses the SVD like Genesis)."""
    singular = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.0, 3.0]]])
    rank1 = np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0])
    for a in (singular, rank1):
        compare(lambda m, x: m.linalg.det(x), arrays=[a], grad=False)
        x = genesis.tensor(a, requires_grad=True)
        assert genesis.autograd.gradcheck(lambda t: genesis.linalg.det(t), [x])
    x = genesis.tensor(singular[0], requires_grad=True)
    genesis.linalg.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


def test_slogdet_sign_and_logdet_of_negative_and_singular():
    negative = np.array([[1.0, 2.0], [3.0, 4.0]])
    compare(lambda m, a: tuple(m.linalg.slogdet(a)), arrays=[negative])
    compare(lambda m, a: m.logdet(a), arrays=[negative])
    compare(lambda m, a: tuple(m.linalg.slogdet(a)), arrays=[np.array([[1.0, 2], [2, 4]])],
            grad=False)
    compare(lambda m, a: m.logdet(a), arrays=[np.array([[1.0, 2], [2, 4]])], grad=False)


def test_cholesky_reads_the_lower_triangle_and_eigh_the_chosen_one():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 3))
    s = a @ a.T + np.eye(3)
    s_lower = np.tril(s) + np.triu(np.full((3, 3), 100.0), 1)
    compare(lambda m, x: m.linalg.cholesky(x), arrays=[s_lower], grad=False)
    compare(lambda m, x: m.linalg.eigvalsh(x), arrays=[s_lower], grad=False)
    compare(lambda m, x: m.linalg.eigvalsh(x, UPLO="U"), arrays=[s_lower.T.copy()], grad=False)


def _f64(*shape):
    return genesis.randn(*shape, dtype=genesis.float64, requires_grad=True)


def _flat(*outs):
    return genesis.cat([o.reshape(-1) for o in outs])


GRADCHECKS = {
    "inv": lambda a: genesis.linalg.inv(well_conditioned(genesis, a)),
    "solve": lambda a: genesis.linalg.solve(well_conditioned(genesis, a), a[..., :2]),
    "det": lambda a: genesis.linalg.det(a),
    "slogdet": lambda a: genesis.linalg.slogdet(well_conditioned(genesis, a)).logabsdet,
    "cholesky": lambda a: genesis.linalg.cholesky(spd(genesis, a)),
    "qr": lambda a: _flat(*qr_fixed(genesis, a)),
    "qr_wide": lambda a: _flat(*qr_fixed(genesis, a[..., :2, :])),
    "eigh": lambda a: _flat(*eigh_fixed(genesis, sym(a))),
    "svd": lambda a: _flat(*svd_fixed(genesis, a)),
    "svd_wide": lambda a: _flat(*svd_fixed(genesis, a[..., :2, :])),
    "svdvals": lambda a: genesis.linalg.svdvals(a),
    "matrix_2_norm": lambda a: genesis.linalg.matrix_norm(a, 2),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck_float64(name):
    assert genesis.autograd.gradcheck(GRADCHECKS[name], [_f64(3, 3)])


@pytest.mark.parametrize("name,fn", [
    ("inv", lambda m, a: m.linalg.inv(well_conditioned(m, a))),
    ("det", lambda m, a: m.linalg.det(a)),
    ("cholesky", lambda m, a: m.linalg.cholesky(spd(m, a))),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(sym(a))),
    ("solve", lambda m, a: m.linalg.solve(well_conditioned(m, a), a)),
])
def test_double_backward(name, fn):
    """Gradients of gradients: the backward formulas are recorded when create_graph=True."""
    rng = np.random.default_rng(0)
    a0, w, v = (rng.standard_normal((3, 3)) for _ in range(3))
    grads = []
    for lib in (torch, genesis):
        a = lib.tensor(a0, requires_grad=True)
        (g,) = lib.autograd.grad((fn(lib, a) * lib.tensor(w)).sum(), [a], create_graph=True)
        (g * lib.tensor(v)).sum().backward()
        grads.append(a.grad.detach().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-7, atol=1e-9)


def test_backward_errors_of_qr_modes():
    for lib in (torch, genesis):
        a = lib.ones(4, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="not computed when mode='r'"):
            lib.linalg.qr(a, mode="r")[1].sum().backward()
        with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
            lib.linalg.qr(a, mode="complete")[0].sum().backward()


# -- failures and errors -------------------------------------------------------------------------

FAILURES = [
    lambda m: m.linalg.inv(m.tensor([[1.0, 2.0], [2.0, 4.0]])),
    lambda m: m.linalg.inv(m.stack([m.eye(2), m.tensor([[1.0, 2.0], [2.0, 4.0]])])),
    lambda m: m.linalg.inv(m.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    lambda m: m.inverse(m.zeros(2, 3, 3)),
    lambda m: m.linalg.solve(m.tensor([[1.0, 2.0], [2.0, 4.0]]), m.ones(2)),
    lambda m: m.linalg.solve(m.stack([m.eye(2), m.ones(2, 2)]), m.ones(2)),
    lambda m: m.linalg.cholesky(m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda m: m.linalg.cholesky(m.stack([m.eye(3), -m.eye(3)])),
    lambda m: m.linalg.cholesky(m.tensor([[4.0, 0, 0], [0, 1, 2], [0, 2, 1]])),
]


@pytest.mark.parametrize("i", range(len(FAILURES)))
def test_lapack_failures_raise_linalg_error(i):
    same_error(FAILURES[i], RuntimeError)
    with pytest.raises(genesis.linalg.LinAlgError):
        FAILURES[i](genesis)


ERRORS = [
    lambda m: m.linalg.inv(m.ones(2, 3)),
    lambda m: m.linalg.inv(m.ones(3)),
    lambda m: m.linalg.inv(m.eye(2, dtype=m.int64)),
    lambda m: m.linalg.inv(m.eye(2, dtype=m.float16)),
    lambda m: m.linalg.det(m.ones(2, 3)),
    lambda m: m.linalg.det(m.eye(2, dtype=m.int64)),
    lambda m: m.linalg.slogdet(m.ones(3)),
    lambda m: m.linalg.cholesky(m.ones(2, 3)),
    lambda m: m.linalg.eigh(m.ones(2, 3)),
    lambda m: m.linalg.eigh(m.eye(3), UPLO="X"),
    lambda m: m.linalg.eigvalsh(m.ones(3)),
    lambda m: m.linalg.svdvals(m.ones(3)),
    lambda m: m.logdet(m.ones(2, 3)),
    lambda m: m.logdet(m.eye(2, dtype=m.int32)),
    lambda m: m.linalg.slogdet(m.eye(2, dtype=m.float16)),
    lambda m: m.linalg.svdvals(m.eye(2, dtype=m.int32)),
    lambda m: m.linalg.qr(m.ones(3)),
    lambda m: m.linalg.qr(m.ones(3, 3), mode="bad"),
    lambda m: m.linalg.svd(m.eye(2, dtype=m.int64)),
    lambda m: m.linalg.svd(m.ones(3, 4), driver="gesvd"),
    lambda m: m.linalg.solve(m.ones(3, 3), m.ones(4)),
    lambda m: m.linalg.solve(m.ones(3, 3), m.ones(4, 2)),
    lambda m: m.linalg.solve(m.ones(3, 3), m.ones(2, 3)),
    lambda m: m.linalg.solve(m.ones(3, 3), m.ones(3, 2), left=False),
    lambda m: m.linalg.solve(m.ones(3, 3), m.ones(3), left=False),
    lambda m: m.linalg.solve(m.ones(3, 3), m.tensor(1.0)),
    lambda m: m.linalg.solve(m.ones(3, 3), m.ones(3, dtype=m.float64)),
    lambda m: m.linalg.solve(m.ones(3, 3, dtype=m.int64), m.ones(3, dtype=m.int64)),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    same_error(ERRORS[i])


HALF_ERRORS = [
    lambda m: m.linalg.eigvalsh(m.eye(3, dtype=m.bfloat16)),
    lambda m: m.linalg.eigh(m.eye(3, dtype=m.int64)),
    lambda m: m.linalg.det(m.eye(3, dtype=m.float16)),
    lambda m: m.linalg.solve(m.eye(2, dtype=m.bfloat16), m.eye(2, dtype=m.bfloat16)),
    lambda m: m.linalg.cholesky(m.eye(2, dtype=m.float16)),
    lambda m: m.linalg.qr(m.eye(2, dtype=m.float16)),
    lambda m: m.linalg.svdvals(m.eye(2, dtype=m.float16)),
]


@pytest.mark.parametrize("i", range(len(HALF_ERRORS)))
def test_unsupported_dtypes_match_torch(i):
    same_error(HALF_ERRORS[i], NotImplementedError)


def test_linalg_error_is_a_runtime_error():
    assert issubclass(genesis.linalg.LinAlgError, RuntimeError)


KERNEL_USERS = {
    "linalg_solve": [lambda a: genesis.linalg.inv(a), lambda a: genesis.linalg.solve(a, a)],
    "linalg_slogdet": [lambda a: genesis.linalg.det(a), lambda a: genesis.linalg.slogdet(a),
                       lambda a: genesis.logdet(a)],
    "linalg_cholesky": [lambda a: genesis.linalg.cholesky(a)],
    "linalg_qr": [lambda a: genesis.linalg.qr(a), lambda a: genesis.qr(a)],
    "linalg_eigh": [lambda a: genesis.linalg.eigh(a), lambda a: genesis.linalg.eigvalsh(a)],
    "linalg_svd": [lambda a: genesis.linalg.svd(a), lambda a: genesis.linalg.svdvals(a),
                   lambda a: genesis.linalg.matrix_norm(a, "nuc")],
}


@pytest.mark.parametrize("kernel", sorted(KERNEL_USERS))
def test_backend_without_the_kernel_raises_naming_it(kernel):
    a = genesis.eye(3)
    backend = a._backend
    saved = backend.capabilities
    backend.capabilities = dataclasses.replace(
        saved, fused={k: v for k, v in saved.fused.items() if k != kernel})
    try:
        for fn in KERNEL_USERS[kernel]:
            with pytest.raises(NotImplementedError,
                               match=f"the 'cpu' backend provides no '{kernel}' kernel"):
                fn(a)
    finally:
        backend.capabilities = saved
    assert genesis.linalg.det(a).item() == 1.0
