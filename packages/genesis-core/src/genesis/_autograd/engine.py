"""Reverse-mode differentiation over the dynamic graph (``Tensor.backward``)."""

from __future__ import annotations

from genesis._autograd.function import Function, Versions
from genesis._autograd.grad_mode import _State

__all__ = ["PostAccumulateGradHook", "run_backward"]


class PostAccumulateGradHook:
    """A ``register_post_accumulate_grad_hook`` function, kept in the leaf's hook list (so copies
    and pickles drop it like the others) and run with the tensor once ``.grad`` is updated."""

    __slots__ = ("fn",)

    def __init__(self, fn) -> None:
        self.fn = fn


_DONE = object()  # stack marker: all inputs of the node below it are ordered


def _topological_order(root) -> list:
    """Graph nodes reachable from ``root`` (Functions, and leaf tensors at the edges),
    inputs before users (a depth-first post-order)."""
    order, visited, stack = [], set(), [root]
    push = stack.append
    while stack:  # iterative: deep graphs (long RNN loops) must not hit the recursion limit
        node = stack.pop()
        if node is _DONE:
            order.append(stack.pop())
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        if not isinstance(node, Function) or node.inputs is None:
            order.append(node)
            continue
        push(node)
        push(_DONE)
        # pushed last to first, so the first input (the activation a layer consumed) is
        # explored first and the layer's own leaves (weight, bias) land right before it in
        # the order: backward then accumulates each parameter's gradient right after its layer,
        # not after the whole network below it (what lets DDP start all-reduces early)
        for edge in reversed(node.edges):
            if edge is not None and id(edge) not in visited:
                push(edge)
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
    start = root._ctx if root._ctx is not None else root
    order = _topological_order(start)
    grads = {id(start): grad}
    claimed = {id(grad.storage)}  # storages already owned by user-visible tensors
    # id -> storage of gradient buffers that a node's backward made and only ``grads`` holds,
    # which a node with ``backward_into`` may add its gradient into in place (see Strided)
    owned: dict[int, object] = {}
    prev_mode = _State.enabled
    _State.enabled = create_graph
    try:
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            owned.pop(id(g.storage), None)
            if not isinstance(node, Function):  # a leaf tensor
                if node._hooks:
                    g = _run_hooks(node._hooks, g)
                if id(g.storage) in claimed and not create_graph:
                    g = g.clone()
                claimed.add(id(g.storage))
                _accumulate(node, g, create_graph)
                if node._hooks:
                    _run_post_accumulate_hooks(node)
                continue
            if node.hooks:
                g = _run_hooks(node.hooks, g)
            if node.retained is not None:  # a non-leaf output that called retain_grad()
                t = node.retained()
                if t is not None and t._retains_grad and t._ctx is node:
                    if id(g.storage) in claimed and not create_graph:
                        g = g.clone()
                    claimed.add(id(g.storage))
                    _accumulate(t, g, create_graph)
            if node.inputs is None:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). Specify "
                    "retain_graph=True if you need to backward through the graph a second time.")
            if node.saves and Versions.epoch != node.epoch:
                _check_saved(node)
            into = None if create_graph else getattr(node, "backward_into", None)
            if into is not None and node.edges[0] is not None:
                prev = grads.get(id(node.edges[0]))
                if prev is not None and owned.get(id(prev.storage)) is prev.storage and \
                        into(g, prev):
                    if not retain_graph:
                        node.release()
                    continue
            parent_grads = node.backward(g)
            if type(parent_grads) is not tuple:
                parent_grads = (parent_grads,)
            for p, edge, pg in zip(node.inputs, node.edges, parent_grads):
                if edge is None or pg is None:
                    continue
                if pg.shape != p.shape:
                    pg = _sum_to(pg, p.shape)
                if pg.dtype is not p.dtype:
                    pg = pg.to(p.dtype)
                prev = grads.get(id(edge))
                if prev is None:
                    grads[id(edge)] = pg
                    if into is not None:  # a fresh buffer that only the engine holds
                        owned[id(pg.storage)] = pg.storage
                else:  # the sum is a new buffer that only the engine holds too
                    owned.pop(id(prev.storage), None)
                    total = grads[id(edge)] = prev + pg
                    owned[id(total.storage)] = total.storage
            if not retain_graph:
                node.release()
    finally:
        _State.enabled = prev_mode


def _run_hooks(hooks: list, g):
    """Each ``register_hook`` function in turn; one that returns a tensor replaces ``g``."""
    for hook in list(hooks):
        if type(hook) is PostAccumulateGradHook:
            continue
        out = hook(g)
        if out is not None:
            if getattr(out, "shape", None) != g.shape:
                raise RuntimeError(f"hook {hook!r} returned a gradient of shape "
                                   f"{getattr(out, 'shape', type(out).__name__)}, expected "
                                   f"{g.shape}")
            g = out
    return g


def _run_post_accumulate_hooks(leaf) -> None:
    for hook in list(leaf._hooks):
        if type(hook) is PostAccumulateGradHook and hook.fn(leaf) is not None:
            raise RuntimeError(f"post-accumulate-grad hook {hook.fn!r} returned a value; it must "
                               "return None (it may modify tensor.grad in place)")


def _check_saved(node) -> None:
    """PyTorch's error for a saved tensor written in place after the node was recorded."""
    for which in node.needed_saves:
        t = getattr(node, "out", None) if which == "out" else node.inputs[which]
        storage = getattr(t, "storage", None)
        if storage is not None and Versions.written_after(storage, node.epoch):
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{t.dtype.name} {list(t.shape)}], which is "
                f"{'the output' if which == 'out' else f'input {which}'} of {node.name}, was "
                "written after the graph recorded it. Use an out-of-place op (or .clone()) "
                "before modifying it.")


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
