"""The one door to a backend's optional kernels (``genesis.backends.protocol.FUSED_OPS``).

Library code (``nn.functional``, ``genesis.optim``, linear algebra) asks here for a kernel by
name and falls back to its composite when the backend declares none; it never reaches into
a backend itself.
"""

from __future__ import annotations

from collections.abc import Callable

from genesis import _dtype as dt
from genesis._tensor import Tensor, _make
from genesis.backends.protocol import FUSED_OPS


def fused_kernel(name: str, like: Tensor) -> Callable | None:
    """The kernel ``name`` declared by the backend of ``like``'s device, or None."""
    if name not in FUSED_OPS:
        raise KeyError(f"fused_kernel: name={name!r} is not one of "
                       f"genesis.backends.protocol.FUSED_OPS {sorted(FUSED_OPS)}")
    return like._backend.capabilities.fused.get(name)


def wrap(storage, shape: tuple, like: Tensor, dtype: dt.DType | None = None) -> Tensor:
    """A tensor over a kernel's result ``storage`` (contiguous ``shape``) on ``like``'s
    device, of ``like``'s dtype unless ``dtype`` is given."""
    return _make(storage, tuple(shape), like.dtype if dtype is None else dtype, like.device,
                 like._backend)


def run_fused(name: str, like: Tensor, *args, shape: tuple | None = None,
              dtype: dt.DType | None = None) -> Tensor | None:
    """``kernel(*args)`` as a tensor of ``shape`` (default ``like.shape``) when the backend
    declares the single-output kernel ``name``; None otherwise (run the composite)."""
    kernel = fused_kernel(name, like)
    if kernel is None:
        return None
    return wrap(kernel(*args), like.shape if shape is None else shape, like, dtype)
