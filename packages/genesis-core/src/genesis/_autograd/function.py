"""The differentiable-op base class: forward with raw kernels, backward with tensor ops."""

from __future__ import annotations

from genesis._autograd.grad_mode import _State

__all__ = ["Function", "Versions", "mark_modified"]


class Versions:
    """In-place writes, as a global epoch and the epoch each storage was last written at.

    Recording a node stores the current epoch; at backward, a saved tensor whose storage
    was written at a later epoch has changed under the graph. Keyed by storage identity:
    an id can only be reused after its storage died, by which time no node can hold it.
    """

    epoch = 0
    written: dict = {}

    @staticmethod
    def written_after(storage, epoch: int) -> bool:
        """Whether ``storage`` was written in place after ``epoch``."""
        return Versions.written.get(id(storage), 0) > epoch


def mark_modified(tensor) -> None:
    """Tell autograd ``tensor``'s storage was written in place (Genesis's in-place ops do
    this themselves; call it after writing through a backend kernel directly)."""
    Versions.epoch += 1
    Versions.written[id(tensor.storage)] = Versions.epoch


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
    needs_input_grad: list
    #: per input: the node its gradient flows to -- the producing Function, or the leaf tensor
    #: itself; fixed at forward time, so rebinding a tensor later (an in-place op) does not
    #: reroute this node's gradients
    edges: list
    #: weak reference to the output tensor when it called ``retain_grad()``
    retained = None
    #: ``register_hook`` functions of the output tensor, run on its gradient first
    hooks = None
    #: what backward reads back: input positions and/or ``"out"`` (``self.out``); the
    #: engine raises if one of them was modified in place after this node was recorded
    saves: tuple = ()

    @property
    def needed_saves(self) -> tuple:
        """The entries of :attr:`saves` this node will actually read (all of them, unless a
        Function knows better: see :class:`ProductSaves`)."""
        return self.saves

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls.__new__(cls)
        out = ctx.forward(*args, **kwargs)
        if _State.enabled:
            needs = [getattr(a, "requires_grad", False) is True for a in args]
            if True in needs:
                ctx.inputs = args
                ctx.needs_input_grad = needs
                # a Function is always truthy: `a._ctx or a` is the producer, else the leaf
                ctx.edges = [(a._ctx or a) if n else None for a, n in zip(args, needs)]
                if cls.saves:
                    ctx.epoch = Versions.epoch
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


class ProductSaves:
    """Mixin for a product of two inputs (mul, matmul, linear): each input is read only
    for the gradient of the other, so writing one in place is fine when the other needs
    no gradient (as in PyTorch, which saves them the same way)."""

    saves = (0, 1)

    @property
    def needed_saves(self) -> tuple:
        needs_a, needs_b = self.needs_input_grad[:2]
        return (1,) * needs_a + (0,) * needs_b

