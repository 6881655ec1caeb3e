"""Reverse-mode differentiation over the dynamic graph (``Tensor.backward``)."""

from __future__ import annotations

from genesis.autograd.grad_mode import _State

__all__ = ["run_backward"]


_DONE = object()  # stack marker: all inputs of the tensor below it are ordered


def _topological_order(root) -> list:
    """Tensors reachable from ``root`` that need gradients, inputs before users."""
    order, visited, stack = [], set(), [root]
    push = stack.append
    while stack:  # iterative: deep graphs (long RNN loops) must not hit the recursion limit
        t = stack.pop()
        if t is _DONE:
            order.append(stack.pop())
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        ctx = t._ctx
        if ctx is None or ctx.inputs is None:
            order.append(t)
            continue
        push(t)
        push(_DONE)
        for p, need in zip(ctx.inputs, ctx.needs_input_grad):
            if need and id(p) not in visited:
                push(p)
    return order


def _sum_to(grad, shape: tuple):
    """Sum a broadcast gradient back to ``shape`` (the one place broadcasting is undone)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[i + lead] != 1)
    out = grad.sum(axes, keepdim=True) if axes else grad
    return out.reshape(shape)


def run_backward(root, grad, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) * grad into ``.grad`` of every leaf requiring grad."""
    order = _topological_order(root)
    grads = {id(root): grad}
    claimed = {id(grad.storage)}  # storages already owned by user-visible tensors
    prev_mode = _State.enabled
    _State.enabled = create_graph
    try:
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            ctx = t._ctx
            if ctx is None or t._retains_grad:
                if id(g.storage) in claimed and not create_graph:
                    g = g.clone()
                claimed.add(id(g.storage))
                _accumulate(t, g, create_graph)
                if ctx is None:
                    continue
            if ctx.inputs is None:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). Specify "
                    "retain_graph=True if you need to backward through the graph a second time.")
            parent_grads = ctx.backward(g)
            if type(parent_grads) is not tuple:
                parent_grads = (parent_grads,)
            for p, need, pg in zip(ctx.inputs, ctx.needs_input_grad, parent_grads):
                if not need or pg is None:
                    continue
                if pg.shape != p.shape:
                    pg = _sum_to(pg, p.shape)
                if pg.dtype is not p.dtype:
                    pg = pg.to(p.dtype)
                prev = grads.get(id(p))
                grads[id(p)] = pg if prev is None else prev + pg
            if not retain_graph:
                ctx.release()
    finally:
        _State.enabled = prev_mode


def _accumulate(t, g, create_graph: bool) -> None:
    grad = t.grad
    if grad is None:
        t.grad = g if create_graph else g.detach()
    elif create_graph or grad.requires_grad:
        t.grad = grad + g
    elif grad.shape == g.shape and grad.dtype is g.dtype and grad._backend is g._backend:
        grad._backend.binary("add", grad, g, grad.dtype, grad)  # in place, no dispatch
    else:
        grad.add_(g)
