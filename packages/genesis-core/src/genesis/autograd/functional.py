"""``genesis.autograd.grad``: gradients of outputs with respect to chosen inputs."""

from __future__ import annotations

from collections.abc import Sequence

from genesis._autograd.engine import run_backward
from genesis._tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Return d(outputs)/d(inputs) without touching the inputs' ``.grad``.

    ``outputs`` and ``inputs`` are tensors or sequences of tensors; ``grad_outputs``
    defaults to ones for single-element outputs.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    gos = [grad_outputs] if isinstance(grad_outputs, Tensor) or grad_outputs is None and \
        len(outs) == 1 else list(grad_outputs or [None] * len(outs))
    saved = [(t.grad, t._retains_grad) for t in ins]
    for t in ins:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        t.grad = None
        if t._ctx is not None:
            t.retain_grad()
    try:
        keep = create_graph if retain_graph is None else retain_graph
        for i, (o, go) in enumerate(zip(outs, gos)):
            if go is None:
                if o.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                go = o.new_ones(o.shape)
            run_backward(o, go, retain_graph=keep or i < len(outs) - 1,
                         create_graph=create_graph)
        result = tuple(t.grad for t in ins)
    finally:
        for t, (g, r) in zip(ins, saved):
            t.grad, t._retains_grad = g, r
    if not allow_unused and any(r is None for r in result):
        raise RuntimeError("One of the differentiated Tensors appears to not have been used in "
                           "the graph. Set allow_unused=True if this is the desired behavior.")
    return result


def _as_list(x) -> Sequence:
    return x if isinstance(x, (list, tuple)) else [x]
