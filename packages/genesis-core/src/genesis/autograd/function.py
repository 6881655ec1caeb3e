"""The differentiable-op base class: forward with raw kernels, backward with tensor ops."""

from __future__ import annotations

from genesis.autograd.grad_mode import _State

__all__ = ["Function"]


class Function:
    """One node of the autograd graph.

    A subclass defines ``forward(self, *args)`` computing the result with
    raw (non-recording) kernels and saving what backward needs on ``self``,
    and ``backward(self, grad)`` returning one gradient per positional
    argument (``None`` for non-tensors or inputs that need none), written with
    ordinary differentiable tensor ops so every backend gets it for free and
    it can be differentiated again. Gradients for broadcast inputs may keep
    the broadcast shape: the engine sums them back once.
    """

    inputs: tuple | None
    needs_input_grad: tuple

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls.__new__(cls)
        out = ctx.forward(*args, **kwargs)
        if _State.enabled:
            needs = tuple([getattr(a, "requires_grad", False) is True for a in args])
            if True in needs:
                ctx.inputs = args
                ctx.needs_input_grad = needs
                out.requires_grad = True
                out._ctx = ctx
        return out

    def forward(self, *args, **kwargs):  # pragma: no cover - the interface
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad):  # pragma: no cover - the interface
        raise NotImplementedError(f"{type(self).__name__} does not support backward")

    def release(self) -> None:
        """Free everything saved for backward (the graph is single-use by default)."""
        self.__dict__.clear()
        self.inputs = None

    @property
    def name(self) -> str:
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"
