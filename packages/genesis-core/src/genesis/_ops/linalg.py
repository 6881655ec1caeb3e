"""Matrix multiplication with batching and broadcasting."""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._autograd.function import Function, ProductSaves
from genesis._ops.autocast import autocast_op
from genesis._tensor import Tensor, _cast_raw, _expand_raw, _make, broadcast_shapes


def matmul_raw(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` without autograd for operands of one dtype and equal batch dims."""
    shape = a.shape[:-1] + (b.shape[-1],)
    return _make(a._backend.matmul(a, b, a.dtype), shape, a.dtype, a.device, a._backend)


class Matmul(ProductSaves, Function):
    """``(..., n, k) @ (..., k, m)``; batch dims broadcast, summed back by the engine."""

    def forward(self, a, b):
        self.a, self.b = a, b
        dtype = a.dtype if a.dtype is b.dtype else dt.result_type(a, b)
        a, b = _cast_raw(a, dtype), _cast_raw(b, dtype)
        batch = a.shape[:-2] if a.shape[:-2] == b.shape[:-2] else \
            broadcast_shapes(a.shape[:-2], b.shape[:-2])
        if a.shape[:-2] != batch:
            a = _expand_raw(a, batch + a.shape[-2:])
        if b.shape[:-2] != batch:
            b = _expand_raw(b, batch + b.shape[-2:])
        shape = batch + (a.shape[-2], b.shape[-1])
        return _make(a._backend.matmul(a, b, dtype), shape, dtype, a.device, a._backend)

    def backward(self, g):
        na, nb = self.needs_input_grad
        ga = g @ self.b.transpose(-1, -2) if na else None
        gb = self.a.transpose(-1, -2) @ g if nb else None
        return ga, gb


@autocast_op("matmul")
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D operands and batch broadcasting."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"matmul: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim == 0:
            raise RuntimeError(f"matmul: both arguments to matmul need to be at least 1D, but "
                               f"{name} is 0D")
    if input.ndim > 2 and other.ndim == 2:
        # (..., n, k) @ (k, m) is one (N*n, k) @ (k, m) GEMM, not a loop over the batch; its
        # backward then also stays two single GEMMs instead of a batch of them plus a sum
        if input.shape[-1] != other.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({input.numel() // max(input.shape[-1], 1)}x{input.shape[-1]} "
                               f"and {other.shape[0]}x{other.shape[1]})")
        flat = Matmul.apply(input.reshape(-1, input.shape[-1]), other)
        return flat.reshape(*input.shape[:-1], other.shape[1])
    a = input.unsqueeze(0) if input.ndim == 1 else input
    b = other.unsqueeze(-1) if other.ndim == 1 else other
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[-2]}x"
                           f"{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    out = Matmul.apply(a, b)
    if other.ndim == 1:
        out = out.squeeze(-1)
    if input.ndim == 1:
        out = out.squeeze(-2 if other.ndim > 1 else -1)
    return out


@autocast_op("mm")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


@autocast_op("bmm")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors ``(b, n, k) @ (b, k, m)``."""
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)
