"""Vector and matrix products: dot, vdot, inner, outer/ger, mv, the fused multiply-adds
(addmm, addmv, addr, baddbmm, addbmm and their in-place forms), cross, multi_dot, vecdot.

All are composites of ``matmul`` and elementwise ops, with PyTorch's argument checks.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis import _dtype as dt
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._ops.einsum import tensordot
from genesis._ops.elementwise import logical_and, logical_or, where
from genesis._ops.linalg import matmul
from genesis._ops.linalg_common import check_floating, check_tensor, torch_name
from genesis._ops.shape import cat
from genesis._tensor import Tensor, _wrap_dim, broadcast_shapes

__all__ = ["dot", "vdot", "inner", "outer", "ger", "mv", "addmm", "addmv", "addr", "baddbmm",
           "addbmm", "cross"]

_FLOAT = 2
#: PyTorch's C++ scalar type names (baddbmm's dtype error)
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int8": "signed char", "uint8": "unsigned char",
              "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


def _no_bool(kernel: str, *tensors: Tensor) -> None:
    if any(t.dtype is dt.bool_ for t in tensors):
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _check_vectors(a: Tensor, b: Tensor) -> None:
    check_tensor("dot", "input", a)
    check_tensor("dot", "tensor", b)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{torch_name(a.dtype)} and {torch_name(b.dtype)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    _no_bool("dot", a)


@autocast_op("dot")
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The inner product of two 1-D tensors of one dtype (a 0-d tensor)."""
    _check_vectors(input, tensor)
    return matmul(input, tensor)


@autocast_op("vdot")
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """:func:`dot` with the first vector conjugated (the same for real tensors)."""
    _check_vectors(input, other)
    return matmul(input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dimension of both tensors (a product for 0-d ones)."""
    check_tensor("inner", "input", input)
    check_tensor("inner", "other", other)
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.dtype is not other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    _no_bool("dot", input)
    return tensordot(input, other, ([-1], [-1]))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product ``input[i] * vec2[j]`` of two 1-D tensors (types promote)."""
    for name, v in (("self", input), ("vec2", vec2)):
        check_tensor("outer", name, v)
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return input.unsqueeze(-1) * vec2


ger = outer


def _check_mv(mat: Tensor, vec: Tensor, input: Tensor | None) -> None:
    check_tensor("mv", "mat", mat)
    check_tensor("mv", "vec", vec)
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got "
                           f"{1 if input is None else input.ndim}, {mat.ndim}, {vec.ndim}")
    self_dtype = vec.dtype if input is None else input.dtype
    if not (self_dtype is mat.dtype is vec.dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{torch_name(self_dtype)}, {torch_name(mat.dtype)}, and "
                           f"{torch_name(vec.dtype)}")
    if mat.shape[1] != vec.shape[0] or (input is not None and input.ndim == 1 and
                                        input.shape[0] not in (1, mat.shape[0])):
        n = mat.shape[0] if input is None or input.ndim == 0 else input.shape[0]
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({mat.shape[0]}x"
                           f"{mat.shape[1]}), vec ({vec.shape[0]})")
    _no_bool("addmv_impl_cpu", mat)


@autocast_op("mv")
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product of a 2-D and a 1-D tensor."""
    _check_mv(input, vec, None)
    return matmul(input, vec)


def _integral_scalars(dtype: dt.DType, beta, alpha, strict: bool) -> tuple:
    """``beta`` and ``alpha`` for an integral (or bool) product: float ones are refused when
    ``strict`` (addr) and truncated otherwise, as PyTorch does."""
    if dtype.kind == _FLOAT:
        return beta, alpha
    for name, v in (("beta", beta), ("alpha", alpha)):
        if strict and isinstance(v, float):
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                               "floating point number.")
    return int(beta), int(alpha)


def _combine(input: Tensor, product: Tensor, beta, alpha, strict: bool = False) -> Tensor:
    """``beta * input + alpha * product``, ``input`` broadcast to the product; with ``beta ==
    0`` the input's values (even nan) are ignored, as in PyTorch."""
    beta, alpha = _integral_scalars(product.dtype, beta, alpha, strict)
    shape = broadcast_shapes(input.shape, product.shape)
    if shape != product.shape:
        input.expand(*product.shape)  # raises PyTorch's expand error
    if product.dtype is dt.bool_:
        term = logical_and(product, bool(alpha))
        return logical_or(term, logical_and(input, bool(beta)))
    term = product if alpha == 1 else product * alpha
    if beta == 0:  # a zero of the right shape, through which the input gets a zero gradient
        return term + where(zeros(product.shape, dtype=dt.bool_, device=product.device),
                            input, 0)
    return term + (input if beta == 1 else input * beta)


@autocast_op("addmv")
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    check_tensor("addmv", "input", input)
    _check_mv(mat, vec, input)
    return _combine(input, matmul(mat, vec), beta, alpha)


@autocast_op("addmm")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1``, ``mat2``."""
    check_tensor("addmm", "input", input)
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        check_tensor("addmm", name, m)
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    for name, a in (("self", input), ("mat1", mat1)):
        if a.dtype is not mat2.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{torch_name(a.dtype)} and {torch_name(mat2.dtype)}")
    _no_bool("addmm_impl_cpu_", mat1)
    return _combine(input, matmul(mat1, mat2), beta, alpha)


def _check_batches(fn: str, input: Tensor, batch1: Tensor, batch2: Tensor) -> None:
    check_tensor(fn, "input", input)
    for name, b in (("batch1", batch1), ("batch2", batch2)):
        check_tensor(fn, name, b)
        if b.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if fn == "addbmm" and batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{batch1.shape[0]} and {batch2.shape[0]}")
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch1.shape[0]}, {batch1.shape[2]}] but got: "
                           f"[{batch2.shape[0]}, {batch2.shape[1]}].")
    if not (input.dtype is batch1.dtype is batch2.dtype):
        raise RuntimeError(f"Input dtypes must be the same, got: input "
                           f"{_CPP_NAMES[input.dtype.name]}, batch1: "
                           f"{_CPP_NAMES[batch1.dtype.name]}, batch2: "
                           f"{_CPP_NAMES[batch2.dtype.name]}")
    _no_bool(fn, batch1)


@autocast_op("baddbmm")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D ``batch1``, ``batch2``."""
    _check_batches("baddbmm", input, batch1, batch2)
    return _combine(input, matmul(batch1, batch2), beta, alpha)


@autocast_op("addbmm")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``: one matrix product over the
    batch and inner dimensions together."""
    _check_batches("addbmm", input, batch1, batch2)
    b, n, k = batch1.shape
    m = batch2.shape[2]
    product = matmul(batch1.permute(1, 0, 2).reshape(n, b * k), batch2.reshape(b * k, m))
    return _combine(input, product, beta, alpha)


@autocast_op("addr")
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)`` (types promote)."""
    check_tensor("addr", "input", input)
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        check_tensor("addr", name, v)
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    product = vec1.unsqueeze(-1) * vec2
    dtype = dt.result_type(input, product)
    return _combine(input.to(dtype), product.to(dtype), beta, alpha, strict=True)


def _inplace(fn, name: str):
    def method(self: Tensor, *args, beta=1, alpha=1) -> Tensor:
        out = fn(self, *args, beta=beta, alpha=alpha)
        if out.shape != self.shape:
            raise RuntimeError(f"Bad in-place call: input tensor size {list(self.shape)} and "
                               f"output tensor size {list(out.shape)} should match")
        return self.copy_(out)

    method.__name__ = name
    method.__doc__ = f"In-place :func:`{fn.__name__}`."
    return method


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (other dimensions broadcast)."""
    check_tensor("linalg.cross", "input", input)
    check_tensor("linalg.cross", "other", other)
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = _wrap_dim(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {torch_name(input.dtype)} but found "
                           f"{torch_name(other.dtype)}")
    _no_bool("cross", input)
    a = [input.narrow(d, i, 1) for i in range(3)]
    b = [other.narrow(d, i, 1) for i in range(3)]
    return cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                a[0] * b[1] - a[1] * b[0]], d)


@autocast_op("cross")
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """``torch.cross``: :func:`genesis.linalg.cross` along ``dim``, by default the first
    dimension of size 3."""
    check_tensor("cross", "input", input)
    check_tensor("cross", "other", other)
    if dim is None and input.ndim == other.ndim:
        shape = broadcast_shapes(input.shape, other.shape)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=-1 if dim is None else dim)


@autocast_op("linalg_multi_dot")
def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (the first and last may be vectors), multiplied in
    the order that needs the fewest operations."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        check_tensor("multi_dot", f"tensors[{i}]", t)
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            where_ = {0: "the first tensor", len(tensors) - 1: "the last tensor"}.get(
                i, f"tensor {i}")
            raise RuntimeError(f"multi_dot(): {where_} must be "
                               f"{'1D or 2D' if len(allowed) == 2 else '2D'} but got {t.ndim}D")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {_CPP_NAMES[tensors[0].dtype.name]} and tensor {i} "
                               f"{_CPP_NAMES[t.dtype.name]}")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = list(tensors)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} "
                               "cannot be multiplied")
    out = _chain(mats, _chain_order(mats), 0, len(mats) - 1)
    if first_vec and last_vec:
        return out.reshape(())
    if first_vec:
        return out.squeeze(0)
    return out.squeeze(-1) if last_vec else out


def _chain_order(mats: list) -> list:
    """The classic dynamic program for the cheapest parenthesization: ``split[i][j]``."""
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    n = len(mats)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(mats: list, split: list, i: int, j: int) -> Tensor:
    if i == j:
        return mats[i]
    k = split[i][j]
    return matmul(_chain(mats, split, i, k), _chain(mats, split, k + 1, j))


@autocast_op("linalg_vecdot")
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of vectors along ``dim`` (other dimensions broadcast)."""
    check_tensor("linalg.vecdot", "x", x)
    check_tensor("linalg.vecdot", "y", y)
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {torch_name(x.dtype)} and y of type {torch_name(y.dtype)} "
                           "instead")
    check_floating("linalg.vecdot", x, low_precision=True)
    return (x * y).sum(dim)


TENSOR_METHODS = {
    "dot": dot, "vdot": vdot, "inner": inner, "outer": outer, "ger": ger, "mv": mv,
    "addmm": addmm, "addmv": addmv, "addr": addr, "baddbmm": baddbmm, "addbmm": addbmm,
    "addmm_": _inplace(addmm, "addmm_"), "addmv_": _inplace(addmv, "addmv_"),
    "addr_": _inplace(addr, "addr_"), "baddbmm_": _inplace(baddbmm, "baddbmm_"),
    "addbmm_": _inplace(addbmm, "addbmm_"),
    "cross": cross,
}
