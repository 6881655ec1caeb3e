"""One call per op for autocast's dtype table tests, written once for Genesis and PyTorch.

Each case is ``fn(m, x, w)``: ``m`` is the library module (``genesis`` or ``torch``), ``x`` and
``w`` build an input and a weight-like operand of the dtypes under test from fixed data
(``x(2, 3)``, ``x(3, 3, spd=True)`` for a symmetric positive definite matrix, ``x.const(data)``
for indices and masks on the same device). The tests run
each case under ``autocast`` and outside it and compare the output dtype with PyTorch's, or
on a device PyTorch cannot run here, with PyTorch's documented policy for it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["CASES", "UNLISTED", "make_operand"]


def make_operand(m, dtype, device: str, seed: int) -> Callable:
    """``x(*shape, spd=False)``: a tensor of ``dtype`` on ``device`` from seeded data."""
    rng = np.random.default_rng(seed)

    def build(*shape, spd: bool = False):
        a = rng.standard_normal(shape)
        if spd:
            a = a @ a.T + shape[0] * np.eye(shape[0])
        return m.tensor(a.astype(np.float32), device=device).to(dtype)

    build.const = lambda values: m.tensor(values, device=device)
    build.device = device
    return build


def _f(m):
    return m.nn.functional


CASES: dict = {
    # lower precision on both devices
    "conv1d": lambda m, x, w: _f(m).conv1d(x(1, 2, 5), w(3, 2, 3), w(3)),
    "conv2d": lambda m, x, w: _f(m).conv2d(x(1, 2, 4, 4), w(3, 2, 3, 3), w(3)),
    "conv3d": lambda m, x, w: _f(m).conv3d(x(1, 1, 3, 3, 3), w(2, 1, 2, 2, 2), w(2)),
    "conv_transpose1d": lambda m, x, w: _f(m).conv_transpose1d(x(1, 2, 4), w(2, 3, 3), w(3)),
    "conv_transpose2d": lambda m, x, w: _f(m).conv_transpose2d(x(1, 2, 3, 3), w(2, 3, 2, 2)),
    "conv_transpose3d": lambda m, x, w: _f(m).conv_transpose3d(x(1, 1, 2, 2, 2),
                                                               w(1, 2, 2, 2, 2)),
    "prelu": lambda m, x, w: _f(m).prelu(x(2, 3), w(1)),
    "addmm": lambda m, x, w: m.addmm(w(2, 3), x(2, 4), w(4, 3)),
    "addbmm": lambda m, x, w: m.addbmm(w(2, 3), x(2, 2, 4), w(2, 4, 3)),
    "baddbmm": lambda m, x, w: m.baddbmm(w(2, 2, 3), x(2, 2, 4), w(2, 4, 3)),
    "bmm": lambda m, x, w: m.bmm(x(2, 2, 4), w(2, 4, 3)),
    "mm": lambda m, x, w: m.mm(x(2, 4), w(4, 3)),
    "matmul": lambda m, x, w: m.matmul(x(2, 4), w(4, 3)),
    "linear": lambda m, x, w: _f(m).linear(x(2, 4), w(3, 4), w(3)),
    "scaled_dot_product_attention": lambda m, x, w: _f(m).scaled_dot_product_attention(
        x(1, 2, 3, 4), w(1, 2, 3, 4), w(1, 2, 3, 4)),
    "addmv": lambda m, x, w: m.addmv(w(3), w(3, 4), x(4)),
    "addr": lambda m, x, w: m.addr(w(3, 4), x(3), w(4)),
    "einsum": lambda m, x, w: m.einsum("ij,jk->ik", x(2, 4), w(4, 3)),
    "mv": lambda m, x, w: m.mv(w(3, 4), x(4)),
    "linalg_vecdot": lambda m, x, w: m.linalg.vecdot(x(2, 4), w(2, 4)),
    "linalg_multi_dot": lambda m, x, w: m.linalg.multi_dot([x(2, 3), w(3, 4), w(4, 2)]),
    # float32
    "acos": lambda m, x, w: m.acos(x(3) * 0.5),
    "asin": lambda m, x, w: m.asin(x(3) * 0.5),
    "cosh": lambda m, x, w: m.cosh(x(3)),
    "erfinv": lambda m, x, w: m.erfinv(x(3) * 0.5),
    "exp": lambda m, x, w: m.exp(x(3)),
    "expm1": lambda m, x, w: m.expm1(x(3)),
    "log": lambda m, x, w: m.log(x(3).abs()),
    "log10": lambda m, x, w: m.log10(x(3).abs()),
    "log2": lambda m, x, w: m.log2(x(3).abs()),
    "log1p": lambda m, x, w: m.log1p(x(3).abs()),
    "reciprocal": lambda m, x, w: m.reciprocal(x(3)),
    "rsqrt": lambda m, x, w: m.rsqrt(x(3).abs()),
    "sinh": lambda m, x, w: m.sinh(x(3)),
    "tan": lambda m, x, w: m.tan(x(3)),
    "pow": lambda m, x, w: m.pow(x(3), 2),
    "softplus": lambda m, x, w: _f(m).softplus(x(3)),
    "layer_norm": lambda m, x, w: _f(m).layer_norm(x(2, 4), (4,), w(4), w(4)),
    "group_norm": lambda m, x, w: _f(m).group_norm(x(2, 4, 3), 2, w(4), w(4)),
    "cosine_similarity": lambda m, x, w: _f(m).cosine_similarity(x(2, 4), w(2, 4)),
    "poisson_nll_loss": lambda m, x, w: _f(m).poisson_nll_loss(x(3), w(3).abs()),
    "cosine_embedding_loss": lambda m, x, w: _f(m).cosine_embedding_loss(
        x(2, 4), w(2, 4), x.const([1.0, -1.0])),
    "nll_loss": lambda m, x, w: _f(m).nll_loss(x(3, 4), x.const([0, 1, 3])),
    "kl_div": lambda m, x, w: _f(m).kl_div(x(3), w(3).abs(), reduction="sum"),
    "l1_loss": lambda m, x, w: _f(m).l1_loss(x(3), w(3)),
    "smooth_l1_loss": lambda m, x, w: _f(m).smooth_l1_loss(x(3), w(3)),
    "huber_loss": lambda m, x, w: _f(m).huber_loss(x(3), w(3)),
    "mse_loss": lambda m, x, w: _f(m).mse_loss(x(3), w(3)),
    "margin_ranking_loss": lambda m, x, w: _f(m).margin_ranking_loss(x(3), w(3), w(3).sign()),
    "triplet_margin_loss": lambda m, x, w: _f(m).triplet_margin_loss(x(2, 4), w(2, 4),
                                                                     w(2, 4)),
    "binary_cross_entropy_with_logits": lambda m, x, w: _f(m).binary_cross_entropy_with_logits(
        x(3), w(3).sigmoid()),
    "binary_cross_entropy": lambda m, x, w: _f(m).binary_cross_entropy(x(3).sigmoid(),
                                                                       w(3).sigmoid()),
    "cross_entropy": lambda m, x, w: _f(m).cross_entropy(x(3, 4), x.const([0, 1, 3])),
    "cdist": lambda m, x, w: m.cdist(x(3, 4), w(2, 4)),
    "logsumexp": lambda m, x, w: m.logsumexp(x(2, 3), 1),
    "prod": lambda m, x, w: m.prod(x(3)),
    "softmax": lambda m, x, w: _f(m).softmax(x(2, 3), -1),
    "log_softmax": lambda m, x, w: _f(m).log_softmax(x(2, 3), -1),
    "cumprod": lambda m, x, w: m.cumprod(x(3), 0),
    "cumsum": lambda m, x, w: m.cumsum(x(3), 0),
    "linalg_vector_norm": lambda m, x, w: m.linalg.vector_norm(x(3)),
    "linalg_matrix_norm": lambda m, x, w: m.linalg.matrix_norm(x(3, 3)),
    "sum": lambda m, x, w: m.sum(x(3)),
    "norm": lambda m, x, w: m.norm(x(3)),
    "grid_sample": lambda m, x, w: _f(m).grid_sample(x(1, 1, 3, 3), w(1, 2, 2, 2).tanh(),
                                                     align_corners=False),
    "trace": lambda m, x, w: m.trace(x(3, 3)),
    "cholesky": lambda m, x, w: m.cholesky(x(3, 3, spd=True)),
    "inverse": lambda m, x, w: m.inverse(x(3, 3, spd=True)),
    "max_unpool2d": lambda m, x, w: _f(m).max_unpool2d(
        *_f(m).max_pool2d(x(1, 1, 4, 4), 2, return_indices=True), 2),
    "qr": lambda m, x, w: m.qr(x(3, 3))[0],
    "svd": lambda m, x, w: m.svd(x(3, 3))[1],
    "linalg_inv": lambda m, x, w: m.linalg.inv(x(3, 3, spd=True)),
    "linalg_solve": lambda m, x, w: m.linalg.solve(x(3, 3, spd=True), w(3, 2)),
    "linalg_cholesky": lambda m, x, w: m.linalg.cholesky(x(3, 3, spd=True)),
    "linalg_qr": lambda m, x, w: m.linalg.qr(x(3, 3))[1],
    "linalg_svd": lambda m, x, w: m.linalg.svd(x(3, 3))[1],
    "linalg_svdvals": lambda m, x, w: m.linalg.svdvals(x(3, 3)),
    "linalg_eigh": lambda m, x, w: m.linalg.eigh(x(3, 3, spd=True))[0],
    "linalg_eigvalsh": lambda m, x, w: m.linalg.eigvalsh(x(3, 3, spd=True)),
    # dispatched by arguments: F.pad by mode and padded dims, F.interpolate by mode and rank
    "reflection_pad1d": lambda m, x, w: _f(m).pad(x(1, 2, 4), (1, 2), mode="reflect"),
    "reflection_pad2d": lambda m, x, w: _f(m).pad(x(1, 3, 3), (1, 1, 2, 0), mode="reflect"),
    "replication_pad1d": lambda m, x, w: _f(m).pad(x(2, 3), (2, 1), mode="replicate"),
    "replication_pad2d": lambda m, x, w: _f(m).pad(x(1, 1, 2, 3), (1, 0, 0, 1),
                                                   mode="replicate"),
    "replication_pad3d": lambda m, x, w: _f(m).pad(x(1, 1, 2, 2, 2), (1, 1, 0, 0, 1, 0),
                                                   mode="replicate"),
    "upsample_nearest1d": lambda m, x, w: _f(m).interpolate(x(1, 2, 3), scale_factor=2),
    "upsample_nearest2d": lambda m, x, w: _f(m).interpolate(x(1, 1, 2, 3), size=(3, 4)),
    "upsample_nearest3d": lambda m, x, w: _f(m).interpolate(x(1, 1, 2, 2, 2), scale_factor=2),
    "_upsample_nearest_exact1d": lambda m, x, w: _f(m).interpolate(x(1, 2, 3), size=5,
                                                                   mode="nearest-exact"),
    "_upsample_nearest_exact2d": lambda m, x, w: _f(m).interpolate(x(1, 1, 2, 3), size=(3, 4),
                                                                   mode="nearest-exact"),
    "_upsample_nearest_exact3d": lambda m, x, w: _f(m).interpolate(
        x(1, 1, 2, 2, 2), size=(3, 3, 3), mode="nearest-exact"),
    "upsample_linear1d": lambda m, x, w: _f(m).interpolate(x(1, 2, 3), size=5, mode="linear"),
    "upsample_bilinear2d": lambda m, x, w: _f(m).interpolate(x(1, 1, 2, 3), size=(3, 4),
                                                             mode="bilinear"),
    "upsample_trilinear3d": lambda m, x, w: _f(m).interpolate(x(1, 1, 2, 2, 2), size=(3, 3, 3),
                                                              mode="trilinear"),
    "upsample_bicubic2d": lambda m, x, w: _f(m).interpolate(x(1, 1, 3, 3), size=(4, 5),
                                                            mode="bicubic"),
    "pad": lambda m, x, w: _f(m).pad(x(1, 2, 3), (1, 1), value=0.5),
    "interpolate": lambda m, x, w: _f(m).interpolate(x(1, 1, 4, 4), size=(2, 2), mode="area"),
    # no cast, run as one op (PyTorch's native kernels Genesis composes from listed ops)
    "celu": lambda m, x, w: _f(m).celu(x(3)),
    "logsigmoid": lambda m, x, w: _f(m).logsigmoid(x(3)),
    "mish": lambda m, x, w: _f(m).mish(x(3)),
    "avg_pool1d": lambda m, x, w: _f(m).avg_pool1d(x(1, 2, 4), 2),
    "avg_pool2d": lambda m, x, w: _f(m).avg_pool2d(x(1, 1, 4, 4), 2),
    "adaptive_avg_pool1d": lambda m, x, w: _f(m).adaptive_avg_pool1d(x(1, 2, 5), 2),
    "adaptive_avg_pool2d": lambda m, x, w: _f(m).adaptive_avg_pool2d(x(1, 1, 5, 5), 2),
    # promote
    "cat": lambda m, x, w: m.cat([x(2), w(3)]),
    "stack": lambda m, x, w: m.stack([x(2), w(2)]),
    "index_copy": lambda m, x, w: m.index_copy(x(3, 2), 0, x.const([0, 2]), w(2, 2)),
    "atan2": lambda m, x, w: m.atan2(x(3), w(3)),
    "bilinear": lambda m, x, w: _f(m).bilinear(x(2, 3), x(2, 4), w(5, 3, 4), w(5)),
    "cross": lambda m, x, w: m.cross(x(2, 3), w(2, 3), dim=1),
    "dot": lambda m, x, w: m.dot(x(4), w(4)),
    "vdot": lambda m, x, w: m.vdot(x(4), w(4)),
    "tensordot": lambda m, x, w: m.tensordot(x(2, 4), w(4, 3), dims=1),
    "scatter_add": lambda m, x, w: m.scatter_add(x(2, 3), 1, x.const([[0, 1, 0], [2, 2, 1]]),
                                                 w(2, 3)),
}
"""Op name (as in :mod:`genesis._ops.autocast_policy`) -> one call of it."""

UNLISTED: dict = {
    "rms_norm": lambda m, x, w: _f(m).rms_norm(x(2, 4), (4,), w(4)),
    "batch_norm": lambda m, x, w: _f(m).batch_norm(x(2, 4, 3), w(4).abs(), w(4).abs() + 1,
                                                   w(4), w(4)),
    "gelu": lambda m, x, w: _f(m).gelu(x(3)),
    "silu": lambda m, x, w: _f(m).silu(x(3)),
    "tanh": lambda m, x, w: m.tanh(x(3)),
    "sigmoid": lambda m, x, w: m.sigmoid(x(3)),
    "mean": lambda m, x, w: m.mean(x(3)),
    "mul": lambda m, x, w: x(3) * w(3),
    "add": lambda m, x, w: x(3) + w(3),
    "where": lambda m, x, w: m.where(x.const([True, False, True]), x(3), w(3)),
    "embedding": lambda m, x, w: _f(m).embedding(x.const([0, 2]), x(3, 4)),
    "dropout_eval": lambda m, x, w: _f(m).dropout(x(3), 0.5, training=False),
    "relu": lambda m, x, w: _f(m).relu(x(3)),
    "max_pool2d": lambda m, x, w: _f(m).max_pool2d(x(1, 1, 4, 4), 2),
    "linalg_norm": lambda m, x, w: m.linalg.norm(x(3)),

    "reflection_pad3d": lambda m, x, w: _f(m).pad(x(1, 1, 2, 2, 2), (1, 1, 1, 1, 1, 1),
                                                  mode="reflect"),
    "circular_pad": lambda m, x, w: _f(m).pad(x(1, 2, 3), (1, 1), mode="circular"),

    "hstack": lambda m, x, w: m.hstack([x(2), w(3)]),
    "matmul_operator": lambda m, x, w: x(2, 4) @ w(4, 3),
    "sum_method": lambda m, x, w: x(2, 3).sum(-1),
    "multihead_attention": lambda m, x, w: m.nn.MultiheadAttention(4, 2, device=x.device)(
        x(2, 1, 4), x(2, 1, 4), x(2, 1, 4), need_weights=False)[0],
}
"""Ops in no autocast list, a few of them composites of listed ones: under autocast they keep
PyTorch's dtypes too (their own, or those of the listed ops they are built from)."""
