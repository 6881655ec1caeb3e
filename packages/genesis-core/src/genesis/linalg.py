"""``genesis.linalg``: PyTorch's ``torch.linalg`` namespace.

Products and norms are composites of Genesis ops; the factorizations (``inv``, ``solve``,
``det``, ``slogdet``, ``cholesky``, ``qr``, ``eigh``, ``svd`` and what derives from them) run
in a backend's optional ``linalg_*`` kernels, with their backward formulas in the core. A
backend without such a kernel raises ``NotImplementedError`` naming it.
"""

from genesis._ops.determinants import det, slogdet
from genesis._ops.linalg import matmul
from genesis._ops.linalg_common import LinAlgError
from genesis._ops.linalg_solvers import inv, solve
from genesis._ops.linalg_solvers import linalg_cholesky as cholesky
from genesis._ops.norms import linalg_norm as norm
from genesis._ops.norms import matrix_norm, vector_norm
from genesis._ops.products import linalg_cross as cross
from genesis._ops.products import multi_dot, vecdot
from genesis._ops.spectral import eigh, eigvalsh, svdvals
from genesis._ops.spectral import linalg_qr as qr
from genesis._ops.spectral import linalg_svd as svd

__all__ = ["LinAlgError", "cholesky", "cross", "det", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "multi_dot", "norm", "qr", "slogdet", "solve", "svd", "svdvals",
           "vecdot", "vector_norm"]
