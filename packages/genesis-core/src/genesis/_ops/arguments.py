"""Argument checks and conversions shared by the composite op modules (predicates, rounding,
pointwise composites): PyTorch's TypeErrors for non-tensors, and numbers as 0-d operands."""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._ops import creation
from genesis._tensor import Tensor, _cast_raw

_FLOAT = 2


def require_tensor(fn: str, arg: str, value) -> None:
    """PyTorch's TypeError for a non-tensor where a tensor argument is expected."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(value).__name__}")


def is_number(value) -> bool:
    """Whether ``value`` is a Python int or float (bools are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def require_tensor_or_number(fn: str, **arguments) -> None:
    """TypeError unless every argument is a tensor or a number, and one at least a tensor."""
    for arg, value in arguments.items():
        if not isinstance(value, Tensor) and not is_number(value):
            raise TypeError(f"{fn}(): argument '{arg}' must be a Tensor or a number, not "
                            f"{type(value).__name__}")
    if not any(isinstance(v, Tensor) for v in arguments.values()):
        raise TypeError(f"{fn}(): expected at least one Tensor argument among "
                        f"{', '.join(arguments)}, got only numbers")


def float_result(a, b) -> dt.DType:
    """The promoted dtype of ``a`` and ``b``, the default float dtype for integers/bools."""
    dtype = dt.result_type(a, b)
    return dtype if dtype.kind == _FLOAT else dt.get_default_dtype()


def as_operand(value, dtype: dt.DType, like: Tensor) -> Tensor:
    """``value`` (a tensor or a number) as a tensor of ``dtype`` on ``like``'s device."""
    if isinstance(value, Tensor):
        return _cast_raw(value, dtype)
    return creation.full((), value, dtype=dtype, device=like.device)
