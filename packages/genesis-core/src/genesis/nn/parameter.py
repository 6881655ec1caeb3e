"""``Parameter``: a tensor that a :class:`~genesis.nn.Module` registers as learnable."""

from __future__ import annotations

from genesis._tensor import Tensor

__all__ = ["Parameter"]

_VIEW_FIELDS = ("storage", "shape", "strides", "offset", "dtype", "device", "_backend")


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered when set on a Module.

    It shares storage with ``data``; ops on it return plain tensors, and
    ``param.data`` / ``param.detach()`` are plain tensors too, as in PyTorch.

    >>> p = genesis.nn.Parameter(genesis.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            from genesis._ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: data={type(data).__name__}, expected a genesis Tensor "
                            "(wrap numbers with genesis.tensor first)")
        for name in _VIEW_FIELDS:
            setattr(self, name, getattr(data, name))
        self.grad = None
        self._cache = None
        self._base = self._views = self._hooks = None
        self._ctx = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
