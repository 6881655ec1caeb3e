"""Norms and distances: linalg.vector_norm / matrix_norm / norm, torch.norm and cdist.

``vector_norm`` is one node with PyTorch's backward (zero where the norm is zero, ties of
the inf-norm sharing the gradient); matrix norms are composites of it, of abs/sum/amax and
of ``svdvals``; ``cdist`` for p=2 on many points uses the matrix-product form with its own
node (PyTorch's ``_euclidean_dist``).
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._autograd.grad_mode import _State
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import ones_like, zeros
from genesis._ops.elementwise import where
from genesis._ops.linalg_common import check_floating, check_tensor, torch_name
from genesis._ops.reduction import normalize_dims
from genesis._ops.shape import cat
from genesis._ops.spectral import svdvals
from genesis._tensor import Tensor, _wrap_dim, broadcast_shapes

__all__ = ["norm", "cdist"]

_FLOAT = 2
_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def _fmt(ord) -> str:
    return f"{ord:g}" if isinstance(ord, (int, float)) else str(ord)


def _cast_for(fn: str, x: Tensor, dtype: dt.DType | None) -> Tensor:
    """``x`` in the requested ``dtype`` (which must not narrow it)."""
    if dtype is None:
        return x
    if dtype.kind != _FLOAT:
        raise RuntimeError(f"{fn}: dtype should be floating point or complex, but got "
                           f"{torch_name(dtype)}")
    if dt.promote_types(x.dtype, dtype) is not dtype:
        raise RuntimeError(f"{fn}: the dtype of the input ({torch_name(x.dtype)}) should be "
                           f"convertible without narrowing to the specified dtype "
                           f"({torch_name(dtype)})")
    return x.to(dtype)


# -- vector norms -----------------------------------------------------------------------------

def _vector_norm_value(x: Tensor, ord: float, axes: tuple, keepdim: bool) -> Tensor:
    """The norm from tensor ops (differentiable only where the backward needs it again)."""
    if ord == 2:
        return (x * x).sum(axes, keepdim=keepdim).sqrt()
    if ord == 1:
        return x.abs().sum(axes, keepdim=keepdim)
    if ord == math.inf:
        return x.abs().amax(axes, keepdim=keepdim)
    if ord == -math.inf:
        return x.abs().amin(axes, keepdim=keepdim)
    if ord == 0:
        return (x != 0).sum(axes, keepdim=keepdim).to(x.dtype)
    return (x.abs() ** ord).sum(axes, keepdim=keepdim) ** (1.0 / ord)


class VectorNorm(Function):
    """``||x||_ord`` over ``axes``; backward as PyTorch's ``norm_backward``."""

    saves = (0, "out")

    def forward(self, x, ord, axes, keepdim):
        self.ord, self.axes, self.keepdim = ord, axes, keepdim
        self.out = _vector_norm_value(x.detach(), ord, axes, keepdim)
        return self.out

    def backward(self, g):
        x = self.inputs[0]
        p, axes = self.ord, self.axes
        if _State.enabled:
            norm = _vector_norm_value(x, p, axes, True)
        else:
            norm = self.out if self.keepdim else self.out.reshape(_kept(x.shape, axes))
        if not self.keepdim:
            g = g.reshape(_kept(x.shape, axes))
        if p == 0:
            return zeros(x.shape, dtype=x.dtype, device=x.device)
        if p == 1:
            return x.sign() * g
        if p == 2:
            return x * where(norm == 0, 0.0, g / norm)
        if math.isinf(p):
            ax = x.abs()
            mask = (ax == norm).logical_or(x != x)
            return x.sign() * where(mask, g / mask.sum(axes, keepdim=True), 0.0)
        if p < 1:
            scaled = x.sign() * where(x == 0, 0.0, x.abs() ** (p - 1))
            return scaled * g * norm ** (1 - p)
        scaled = x.sign() * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
        return scaled * where(norm == 0, 0.0, g / norm ** (p - 1))


def _kept(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


@autocast_op("linalg_vector_norm")
def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *,
                dtype: dt.DType | None = None) -> Tensor:
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements by default): ``inf``,
    ``-inf``, ``0`` (the count of non-zeros) or any real ``ord``."""
    fn = "linalg.vector_norm"
    check_tensor(fn, "x", x)
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, "
                        f"not {type(ord).__name__}")
    check_floating(fn, x, low_precision=True)
    x = _cast_for(fn, x, dtype)
    axes = normalize_dims(dim, x.ndim)
    if (ord < 0 or ord == math.inf) and x.numel() == 0:
        if dim is None:
            raise RuntimeError(f"{fn} cannot compute the {_fmt(ord)} norm on an empty tensor "
                               "because the operation does not have an identity")
        empty = next((d for d in axes if x.shape[d] == 0), None)
        if empty is not None:
            raise RuntimeError(f"{fn} cannot compute the {_fmt(ord)} norm on the dimension "
                               f"{empty}because this dimension is empty and the operation "
                               "does not have an identity")
    work = x.float() if x.dtype.itemsize < 4 else x  # half types accumulate in float32
    out = VectorNorm.apply(work, float(ord), axes, keepdim)
    return out.to(x.dtype) if work is not x else out


# -- matrix norms -----------------------------------------------------------------------------

def _matrix_dims(fn: str, A: Tensor, dim) -> tuple:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) != 2:
        raise RuntimeError(f"{fn}: dim must be a 2-tuple. Got {' '.join(str(d) for d in dims)}")
    d0, d1 = (_wrap_dim(d, A.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"{fn}: dims must be different. Got ({dims[0]}, {dims[1]})")
    return d0, d1


def _extreme(x: Tensor, d: int, largest: bool, keepdim: bool) -> Tensor:
    """amax/amin over ``d``; the max over nothing is 0 (as PyTorch's matrix norms give)."""
    if x.shape[d] == 0:
        if not largest:
            raise IndexError(f"amin(): Expected reduction dim {d - x.ndim} to have non-zero "
                             "size.")
        shape = tuple(1 if i == d else n for i, n in enumerate(x.shape))
        out = zeros(shape, dtype=x.dtype, device=x.device)
        return out if keepdim else out.squeeze(d)
    return x.amax(d, keepdim=keepdim) if largest else x.amin(d, keepdim=keepdim)


@autocast_op("linalg_matrix_norm")
def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype: dt.DType | None = None) -> Tensor:
    """The matrix ``ord``-norm over the two dimensions ``dim``: ``"fro"``, ``"nuc"`` (sum of
    singular values), ``2``/``-2`` (largest/smallest singular value), ``1``/``-1`` (max/min
    column abs-sum) or ``inf``/``-inf`` (max/min row abs-sum)."""
    fn = "linalg.matrix_norm"
    check_tensor(fn, "A", A)
    if A.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = _matrix_dims(fn, A, dim)
    if isinstance(ord, bool) or ord not in _MATRIX_ORDS:
        raise RuntimeError(f"{fn}: Order {_fmt(ord)} not supported.")
    check_floating(fn, A, low_precision=ord not in ("nuc", 2, -2))
    A = _cast_for(fn, A, dtype)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(A.permute(*rest, d0, d1))
        out = s.sum(-1) if ord == "nuc" else _extreme(s, s.ndim - 1, ord == 2, False)
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    sum_dim, max_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
    out = _extreme(A.abs().sum(sum_dim, keepdim=True), max_dim, ord > 0, True)
    return out if keepdim else out.squeeze((d0, d1))


def linalg_norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *,
                dtype: dt.DType | None = None) -> Tensor:
    """A vector norm (``dim`` an int or 1-tuple, or ``A`` 1-D) or a matrix norm (``dim`` a
    2-tuple, or ``A`` 2-D with ``ord`` given); ``ord=None`` is the 2-/Frobenius norm of all
    the elements."""
    fn = "linalg.norm"
    check_tensor(fn, "A", A)
    dims = None if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if dims is not None and len(dims) not in (1, 2):
        raise RuntimeError(f"{fn}: If dim is specified, it must be of length 1 or 2. Got "
                           f"{list(dims)}")
    if dims is None and ord is not None and A.ndim not in (1, 2):
        raise RuntimeError(f"{fn}: If dim is not specified but ord is, the input must be 1D or "
                           f"2D. Got {A.ndim}D.")
    if isinstance(ord, str) or (ord is not None and (len(dims) == 2 if dims is not None
                                                     else A.ndim == 2)):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


@autocast_op("norm")
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """``torch.norm``: ``"fro"`` and numbers are vector norms over ``dim`` (all elements by
    default), ``"nuc"`` a matrix norm."""
    check_tensor("norm", "input", input)
    dims = None if dim is None else [dim] if isinstance(dim, int) else list(dim)
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        return matrix_norm(input, p, list(range(input.ndim)) if dims is None else dims,
                           keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)


# -- distances --------------------------------------------------------------------------------

class EuclideanDist(Function):
    """Pairwise distances ``sqrt(|x1|^2 + |x2|^2 - 2 x1 x2^T)`` (one matrix product);
    backward as PyTorch's ``_euclidean_dist_backward``, zero where a distance is zero."""

    saves = (0, 1, "out")

    def forward(self, x1, x2):
        a, b = x1.detach(), x2.detach()
        an, bn = (a * a).sum(-1, keepdim=True), (b * b).sum(-1, keepdim=True)
        a_ = cat([a * -2, an, ones_like(an)], -1)
        b_ = cat([b, ones_like(bn), bn], -1)
        self.out = (a_ @ b_.transpose(-1, -2)).clamp(min=0).sqrt()
        return self.out

    def backward(self, g):
        x1, x2 = self.inputs
        res = EuclideanDist.apply(x1, x2) if _State.enabled else self.out
        ratio = where(res == 0, 0.0, g / res)
        g1 = x1 * ratio.sum(-1, keepdim=True) - ratio @ x2
        g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.transpose(-1, -2) @ x1
        return g1, g2


@autocast_op("cdist")
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The ``p``-norm distance between each row of ``x1 (..., P, M)`` and each row of ``x2
    (..., R, M)``: ``(..., P, R)``, batch dimensions broadcast. For ``p=2`` with more than 25
    rows (or ``compute_mode="use_mm_for_euclid_dist"``) one matrix product computes them."""
    for name, x in (("X1", x1), ("X2", x2)):
        check_tensor("cdist", name, x)
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{x.ndim}D")
        if x.dtype.kind != _FLOAT:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{torch_name(x.dtype)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"expected scalar type {torch_name(x1.dtype)} but found "
                           f"{torch_name(x2.dtype)}")
    if x1.dtype.itemsize < 4:
        raise NotImplementedError(f"\"cdist\" not implemented for '{torch_name(x1.dtype)}'")
    if not isinstance(p, (int, float)) or p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    batch = broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    x1 = x1.expand(*batch, *x1.shape[-2:])
    x2 = x2.expand(*batch, *x2.shape[-2:])
    many = x1.shape[-2] > 25 or x2.shape[-2] > 25
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                   (compute_mode == _CDIST_MODES[0] and many)):
        return EuclideanDist.apply(x1, x2)
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


TENSOR_METHODS = {"norm": norm}
