"""Linear algebra on device "cuda": the composites (einsum, products, norms, cdist) run on the
Triton primitives and agree with the CPU backend, forward and backward; the factorizations,
for which this backend declares no kernel, raise naming the kernel."""

import genesis
import numpy as np
import pytest

RNG = np.random.default_rng(3)

COMPOSITES = {
    "einsum": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 2)]),
    "tensordot": (lambda m, a, b: m.tensordot(a, b, dims=([1, 2], [0, 1])),
                  [(2, 3, 4), (3, 4, 2)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), [(3, 2), (3, 4), (4, 2)]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [(4, 3), (4, 3)]),
    "vector_norm": (lambda m, a: m.linalg.vector_norm(a, 3, dim=1), [(3, 4)]),
    "matrix_norm": (lambda m, a: m.linalg.matrix_norm(a, 1), [(2, 3, 4)]),
    "cdist": (lambda m, a, b: m.cdist(a, b), [(3, 2), (4, 2)]),
    "cdist_mm": (lambda m, a, b: m.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                 [(3, 2), (4, 2)]),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites_match_the_cpu_backend(name):
    fn, shapes = COMPOSITES[name]
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for device in ("cpu", "cuda"):
        xs = [genesis.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = fn(genesis, *xs)
        out.sum().backward()
        results.append([out.detach().cpu().numpy()] + [x.grad.cpu().numpy() for x in xs])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kernel,fn", [
    ("linalg_solve", lambda a: genesis.linalg.inv(a)),
    ("linalg_slogdet", lambda a: genesis.linalg.det(a)),
    ("linalg_cholesky", lambda a: genesis.linalg.cholesky(a)),
    ("linalg_qr", lambda a: genesis.linalg.qr(a)),
    ("linalg_eigh", lambda a: genesis.linalg.eigh(a)),
    ("linalg_svd", lambda a: genesis.linalg.svdvals(a)),
])
def test_factorizations_name_the_missing_kernel(kernel, fn):
    assert kernel not in genesis.device("cuda").backend.capabilities.fused
    with pytest.raises(NotImplementedError,
                       match=f"the 'cuda' backend provides no '{kernel}' kernel"):
        fn(genesis.eye(3, device="cuda"))
