"""In-place writes under autograd: recording one (the tensor takes the result's value and node,
writing through shared storage where its base or other views see it), and ``x[key] = value``.

Every in-place op of :mod:`genesis._ops.tensor_methods` and ``nn.functional``'s ``inplace=``
paths come through :func:`_tracked`, :func:`_alias` and :func:`_rebind`.
"""

from __future__ import annotations

import numpy as np

from genesis._autograd.function import mark_modified
from genesis._autograd.grad_mode import _State
from genesis._ops.indexing import (
    IndexPut,
    _copy_raw,
    _parse,
    _positions,
    _positions_tensor,
    _scatter_values,
)
from genesis._ops.shape import Strided
from genesis._tensor import Tensor, _make, _view, broadcast_shapes, from_data

# -- recording an in-place op ----------------------------------------------------------------


def _tracked(self: Tensor, *others) -> bool:
    """Whether an in-place op must be recorded; leaves that require grad (and views of
    them) refuse it."""
    if not _State.enabled:
        return False
    if self.requires_grad and self._ctx is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    base = self._base
    if base is not None and base.requires_grad and base._ctx is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation."
        )
    return self.requires_grad or any(getattr(o, "requires_grad", False) for o in others)


def _live_views(base: Tensor, besides: Tensor | None = None) -> list:
    """The views of ``base`` still alive (a view that repeats elements, stride 0, is left
    out: it cannot be refreshed by a plain strided view)."""
    if not base._views:
        return []
    return [v for v in list(base._views)
            if v is not besides and all(st or n == 1 for n, st in zip(v.shape, v.strides))]


def _covers(view: Tensor, base: Tensor) -> bool:
    """Whether ``view`` is all of ``base`` in the same order (a reshape of it)."""
    return (view.numel() == base.numel() and view.offset == base.offset
            and view.is_contiguous())


def _writes_through(self: Tensor) -> bool:
    """Whether a recorded in-place op on ``self`` writes into the storage it shares, where
    its base and the other views see the result (as in PyTorch): for a view of part of a
    plainly laid-out base, and for a base or reshaped base whose other views are alive.
    Otherwise ``self`` simply takes the result's storage (cheaper: nobody else sees it)."""
    base = self._base
    if base is None:
        return bool(_live_views(self))
    return base.is_contiguous() and (not _covers(self, base) or bool(_live_views(base, self)))


def _identity(self: Tensor) -> Tensor:
    """A new tensor object for ``self``'s storage, layout and graph node."""
    a = _make(self.storage, self.shape, self.dtype, self.device, self._backend, self.strides,
              self.offset)
    a.requires_grad, a._ctx = self.requires_grad, self._ctx
    return a


def _alias(self: Tensor) -> Tensor:
    """``self``'s current value and graph node, as the operand of a recorded in-place op.

    The op computes from the alias, so its graph keeps the old value and never refers to
    ``self``, which :func:`_rebind` then points at the result. When the op will write
    through ``self``'s storage the alias is a copy, so what the graph saved stays intact.
    """
    if not _writes_through(self):
        return _identity(self)
    a = _copy_raw(self)
    a.requires_grad, a._ctx = self.requires_grad, self._ctx
    return a


def _rebind(self: Tensor, new: Tensor) -> Tensor:
    """Recorded in-place op: the tensor takes the result's value and graph node.

    Writing through (see :func:`_writes_through`), the result is copied into ``self``'s
    storage; a view's base gets a :class:`WriteThroughView` node of its old node and the
    result, so gradients reach the written values from the base too; and the other live
    views of the base become views of its new node (PyTorch regenerates them the same
    way). Otherwise ``self`` (and a base it reshapes) takes the result's storage.
    """
    if new.shape != self.shape:  # an operand broadcast the result beyond the tensor
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(new.shape)}")
    base = self._base
    if _writes_through(self):
        self._backend.copy_(self, new.detach().to(self.dtype))
        self._ctx, self.requires_grad = new._ctx, new.requires_grad
        self._cache = None
        if base is None:
            base = self
        else:
            pos = _positions(self.shape, self.strides, self.offset - base.offset, {})
            written = WriteThroughView.apply(_identity(base), new,
                                             _positions_tensor(pos, base))
            base._ctx, base.requires_grad = written._ctx, written.requires_grad
        mark_modified(base)
        for view in _live_views(base, self):
            fresh = Strided.apply(_identity(base), view.shape, view.strides, view.offset)
            view._ctx, view.requires_grad = fresh._ctx, fresh.requires_grad
        return self
    if base is not None and _covers(self, base):  # a reshape of the base: both take the result
        reshaped = new.reshape(base.shape)
        for name in ("storage", "strides", "offset", "dtype", "_ctx", "requires_grad"):
            setattr(base, name, getattr(reshaped, name))
        base._cache = None
        mark_modified(base)
    for name in ("storage", "shape", "strides", "offset", "dtype", "_ctx", "requires_grad"):
        setattr(self, name, getattr(new, name))
    self._cache = None
    return self


class WriteThroughView(IndexPut):
    """The base after an in-place write through one of its views: the values are already
    in its storage; the gradient of the view's elements goes to the written values, the
    rest to the base as it was (PyTorch's CopySlices)."""

    def forward(self, base, value, pos):
        self.pos = pos
        return _make(base.storage, base.shape, base.dtype, base.device, base._backend,
                     base.strides, base.offset)


def _check_inplace_shape(self: Tensor, other) -> None:
    if isinstance(other, Tensor) and other.shape != self.shape:
        if broadcast_shapes(self.shape, other.shape) != self.shape:
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast "
                f"shape {list(broadcast_shapes(self.shape, other.shape))}"
            )


def setitem(x: Tensor, key, value) -> None:
    """``x[key] = value`` in place (value: a number or a tensor broadcastable to the target)."""
    tracked = _State.enabled and (x.requires_grad or getattr(value, "requires_grad", False))
    if tracked and x.is_leaf and x.requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if isinstance(value, (list, tuple, np.ndarray)):
        value = from_data(value, dtype=x.dtype, device=x.device)
    while isinstance(value, Tensor) and value.ndim and value.shape[0] == 1:
        value = value.squeeze(0)  # torch drops leading size-1 dims of the value
    if tracked:
        c = x.contiguous() if not x.is_contiguous() or x.offset else _alias(x)
        shape, strides, offset, advanced = _parse(c, key)
        pos = _positions(shape, strides, offset, advanced or {})
        _rebind(x, IndexPut.apply(c, value, _positions_tensor(pos, x)))
        return
    shape, strides, offset, advanced = _parse(x, key)
    if not advanced:
        target = _view(x, shape, strides, offset)
        if isinstance(value, Tensor):
            src = value.detach()
            if src.shape != shape:
                src = src.expand(shape)
            if src.dtype is not x.dtype:
                src = src.to(x.dtype)
            x._backend.copy_(target, src)
        else:
            x._backend.fill_(target, value)
        return
    pos = _positions(shape, strides, offset, advanced)
    _scatter_values(x, _positions_tensor(pos, x), value)
