"""The in-place method (``x.ceil_()``, ``x.fmod_(y)``...) of an out-of-place composite op.

The op computes its result out of place; the method stores it in ``self`` through
``Tensor.copy_``, which records the write for autograd (or refuses it on a leaf that requires
grad). When the write is recorded the op reads a clone of ``self``, so the values its graph
saved are not the ones the write replaces.
"""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._autograd.grad_mode import is_grad_enabled
from genesis._tensor import Tensor


def can_cast(src: dt.DType, dst: dt.DType) -> bool:
    """PyTorch's ``can_cast`` for in-place results: never to a lower kind (float -> int,
    int -> bool)."""
    return src.kind <= dst.kind


def check_inplace_result(name: str, self: Tensor, result: Tensor) -> None:
    """Raise as PyTorch does when ``result`` cannot be stored in ``self``."""
    if result.shape != self.shape:
        raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match the "
                           f"broadcast shape {list(result.shape)}")
    if not can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired "
                           f"output type {self.dtype}")


def inplace_variant(fn, name: str):
    """The method ``name`` (e.g. ``"ceil_"``): ``self`` takes ``fn(self, *args, **kwargs)``."""
    def method(self: Tensor, *args, **kwargs) -> Tensor:
        recorded = is_grad_enabled() and (
            self.requires_grad or any(getattr(a, "requires_grad", False) is True
                                      for a in (*args, *kwargs.values())))
        result = fn(self.clone() if recorded else self, *args, **kwargs)
        check_inplace_result(name, self, result)
        return self.copy_(result)

    method.__name__ = name
    method.__doc__ = f"In-place :func:`{fn.__name__}`."
    return method


def with_inplace(*fns) -> dict:
    """``{"name": fn, "name_": its in-place method}`` for each of ``fns`` (a module's
    ``TENSOR_METHODS`` entries)."""
    methods = {}
    for fn in fns:
        methods[fn.__name__] = fn
        methods[fn.__name__ + "_"] = inplace_variant(fn, fn.__name__ + "_")
    return methods
