"""What the linear-algebra ops share: argument checks, the door to a backend's factorization
kernels, LAPACK-style failure reports, small matrix helpers, and the autograd node for one
output of a factorization computed once."""

from __future__ import annotations

from collections.abc import Callable

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._autograd.grad_mode import _State
from genesis._ops.creation import arange, eye
from genesis._ops.elementwise import where
from genesis._ops.fused import fused_kernel
from genesis._tensor import Tensor, _make

#: PyTorch's names of the dtypes, as its error messages spell them
TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
               "bfloat16": "BFloat16", "int8": "Char", "uint8": "Byte", "int16": "Short",
               "int32": "Int", "int64": "Long", "bool": "Bool"}
_FLOAT = 2


class LinAlgError(RuntimeError):
    """A matrix function failed on its input (singular, not positive-definite), as
    ``torch.linalg.LinAlgError``."""


def torch_name(dtype: dt.DType) -> str:
    return TORCH_NAMES[dtype.name]


def check_tensor(fn: str, name: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {type(x).__name__}")


def detached(x: Tensor) -> Tensor:
    """``x`` outside the graph (the kernels' input)."""
    return x.detach() if x.requires_grad else x


def check_floating(fn: str, x: Tensor, low_precision: bool = False,
                   cpu_kernel: str | None = None, floats_only: bool = False) -> None:
    """PyTorch's dtype errors of a LAPACK-backed function: float32/float64 only (float16 and
    bfloat16 too when ``low_precision``). Where PyTorch's CPU kernel ``cpu_kernel`` is what
    refuses the half types (every other type too, when ``floats_only``), its
    ``NotImplementedError`` is raised."""
    if cpu_kernel is not None and (floats_only or x.dtype.kind == _FLOAT) and \
            x.dtype.name not in ("float32", "float64"):
        raise NotImplementedError(f"\"{cpu_kernel}\" not implemented for "
                                  f"'{torch_name(x.dtype)}'")
    if x.dtype.kind != _FLOAT:
        raise RuntimeError(f"{fn}: Expected a floating point or complex tensor as input. Got "
                           f"{torch_name(x.dtype)}")
    if not low_precision and x.dtype.itemsize < 4:
        raise RuntimeError(f"{fn}: Low precision dtypes not supported. Got "
                           f"{torch_name(x.dtype)}")


def check_matrix(fn: str, A, square: bool = True, cpu_kernel: str | None = None,
                 floats_only: bool = False) -> None:
    """``A`` is a float tensor of (square when ``square``) matrices ``(..., m, n)``; see
    :func:`check_floating` for ``cpu_kernel`` and ``floats_only``."""
    check_tensor(fn, "A", A)
    if A.ndim < 2:
        raise RuntimeError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fn}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    check_floating(fn, A, cpu_kernel=cpu_kernel, floats_only=floats_only)


def kernel(fn: str, name: str, like: Tensor) -> Callable:
    """The backend's factorization kernel ``name`` (``genesis.backends.protocol.FUSED_OPS``);
    a backend without it cannot run ``fn``."""
    k = fused_kernel(name, like)
    if k is None:
        raise NotImplementedError(f"{fn}: the {like.device.type!r} backend provides no "
                                  f"{name!r} kernel")
    return k


def raise_failures(fn: str, info: Tensor, message: Callable[[int], str]) -> None:
    """Raise :class:`LinAlgError` for the first matrix whose LAPACK ``info`` is not 0, as
    PyTorch words it: ``message(info)``, prefixed by the batch element in a batch."""
    codes = info.reshape(-1).tolist() if info.numel() else []
    for i, code in enumerate(codes):
        if code:
            where_ = f"(Batch element {i}): " if info.ndim else ""
            raise LinAlgError(f"{fn}: {where_}{message(int(code))}")


# -- matrix helpers (differentiable) --------------------------------------------------------

def mat_t(x: Tensor) -> Tensor:
    """The transpose of the last two dimensions."""
    return x.transpose(-1, -2)


def eye_like(n: int, like: Tensor, m: int | None = None) -> Tensor:
    return eye(n, m, dtype=like.dtype, device=like.device)


def tril(x: Tensor, k: int = 0) -> Tensor:
    """The entries of the matrices ``x`` on and below diagonal ``k``, zero elsewhere."""
    rows, cols = x.shape[-2:]
    below = arange(cols, device=x.device) <= arange(rows, device=x.device).unsqueeze(-1) + k
    return where(below, x, 0.0)


def diag_embed(v: Tensor) -> Tensor:
    """Matrices with the last dimension of ``v`` on their diagonal."""
    n = v.shape[-1]
    return where(eye(n, dtype=dt.bool_, device=v.device), v.unsqueeze(-1), 0.0)


def off_diagonal(x: Tensor, fill: float) -> Tensor:
    """``x`` with ``fill`` on the diagonal of each (square) matrix."""
    return where(eye(x.shape[-1], dtype=dt.bool_, device=x.device), fill, x)


def scale_diagonal(x: Tensor, factor: float) -> Tensor:
    """``x`` with the diagonal of each (square) matrix multiplied by ``factor``."""
    return x * where(eye(x.shape[-1], dtype=dt.bool_, device=x.device), factor, 1.0)


def batch_eye(n: int, like: Tensor, batch: tuple) -> Tensor:
    """The identity as a ``batch + (n, n)`` stride-0 view (no copies)."""
    return eye_like(n, like).expand(*batch, n, n)


# -- one output of a factorization ----------------------------------------------------------

class FactorOutput(Function):
    """Output ``which`` of a factorization of ``a`` whose results ``outs`` were computed once.

    Its backward is ``rule(a, outs, which, g)``: this output's share of the factorization's
    backward formula. The formulas are linear in the output gradients, so the shares of the
    outputs a loss uses add up to the whole. When the backward itself is recorded (double
    backward), ``redo(a)`` recomputes the outputs differentiably for the rule to use.
    The outputs alias ``outs``, which are saved inputs of every node, checked at backward
    like any saved tensor.
    """

    saves = (0,)

    def forward(self, a, *outs, which: int, rule: Callable, redo: Callable):
        self.which, self.rule, self.redo = which, rule, redo
        o = outs[which]
        return _make(o.storage, o.shape, o.dtype, o.device, o._backend, o.strides, o.offset)

    @property
    def needed_saves(self) -> tuple:
        return tuple(range(len(self.inputs)))

    def backward(self, g):
        a, *outs = self.inputs
        if _State.enabled:
            outs = self.redo(a)
        grad = self.rule(a, tuple(outs), self.which, g)
        return (grad,) + (None,) * len(outs)


def factor_outputs(a: Tensor, outs: tuple, rule: Callable, redo: Callable,
                   differentiable: tuple | None = None) -> tuple:
    """``outs`` (raw results of one factorization of ``a``) as outputs in ``a``'s graph; the
    positions not in ``differentiable`` (default: all) stay plain tensors."""
    if not (_State.enabled and a.requires_grad):
        return outs
    keep = range(len(outs)) if differentiable is None else differentiable
    return tuple(FactorOutput.apply(a, *outs, which=i, rule=rule, redo=redo) if i in keep
                 else o for i, o in enumerate(outs))
