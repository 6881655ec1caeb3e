"""Collectives on Genesis tensors with PyTorch's signatures, over any collective backend.

Here lives everything PyTorch-shaped: argument checks, global ranks (``src``/``dst``) to
group ranks, staging non-contiguous tensors through a contiguous copy, ``ReduceOp.AVG``,
work handles and the debug-mode check that all ranks call the same collective. The backend
(:mod:`genesis.backends.collectives`) only moves contiguous buffers.
"""

from __future__ import annotations

import enum
import json

from genesis._autograd.function import mark_modified
from genesis._autograd.grad_mode import no_grad
from genesis._ops.creation import empty
from genesis._tensor import Tensor
from genesis.distributed import _state
from genesis.distributed._work import Work, run


class ReduceOp(enum.Enum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter_tensor`` combine values."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"  # SUM, then a division by the group size (floating-point tensors)

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


def _op(op, tensor: Tensor, where: str, pg) -> tuple[str, bool]:
    """``(the op for the backend, whether the core divides by the group size afterwards)``:
    ``ReduceOp.AVG`` goes as ``"avg"`` to a backend that averages itself (its process
    group's ``averages``), else as SUM followed by a division here."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{where}: op={op!r}, expected a genesis.distributed.ReduceOp")
    if op is not ReduceOp.AVG:
        return op.value, False
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"{where}: op=ReduceOp.AVG needs a floating-point tensor, got "
                         f"{tensor.dtype}")
    return ("avg", False) if getattr(pg.impl, "averages", False) else ("sum", True)


def _member(group):
    """The group, or None when this rank is not in it (PyTorch: the call does nothing)."""
    pg = _state.resolve(group)
    return None if pg.impl is None else pg


def _check(t, name: str, where: str, pg) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{where}: {name}={type(t).__name__}, expected a genesis Tensor")
    if t.device.type not in pg.devices:
        raise ValueError(f"{where}: {name} is on device {t.device}, but backend "
                         f"{pg.backend_name!r} communicates tensors on {list(pg.devices)}")


def _same(t: Tensor, ref: Tensor, name: str, where: str, numel: int | None = None) -> None:
    if t.dtype is not ref.dtype:
        raise ValueError(f"{where}: {name} has dtype {t.dtype}, expected {ref.dtype} (the input "
                         "tensor's)")
    if numel is not None and t.numel() != numel:
        raise ValueError(f"{where}: {name} has {t.numel()} elements (shape "
                         f"{tuple(t.shape)}), expected {numel}")


def _group_rank(pg, global_rank: int, name: str, where: str) -> int:
    if not isinstance(global_rank, int) or global_rank not in pg.ranks:
        raise ValueError(f"{where}: {name}={global_rank!r}, expected a global rank in the "
                         f"group {pg.ranks}")
    return pg.ranks.index(global_rank)


def _staged(t: Tensor) -> Tensor:
    """``t`` itself when contiguous, else a contiguous copy (written back by ``_write_back``)."""
    if t.is_contiguous():
        return t.detach()
    with no_grad():
        return t.detach().contiguous()


def _write_back(pairs: list) -> None:
    """Copy staged results into their targets; tell autograd the targets were written."""
    with no_grad():
        for target, staged in pairs:
            if staged.storage is not target.storage:
                target.detach().copy_(staged)
            mark_modified(target)


def _debug_check(pg, what: str, t: Tensor | None) -> None:
    """In debug mode: every rank must be calling the same collective on the same shape and
    dtype; otherwise each rank raises naming its own call and the first one that differs."""
    if not _state._World.debug:
        return
    mine = [what, None if t is None else list(t.shape), None if t is None else t.dtype.name]
    calls = [json.loads(b) for b in pg.impl.all_gather_bytes(json.dumps(mine).encode(),
                                                             pg.timeout)]
    for rank, call in enumerate(calls):
        if call != mine:
            raise RuntimeError(
                f"mismatched collectives (debug mode): rank {pg.ranks[pg.impl.rank]} called "
                f"{what} with shape {tuple(mine[1] or ())} dtype {mine[2]}, but rank "
                f"{pg.ranks[rank]} called {call[0]} with shape {tuple(call[1] or ())} dtype "
                f"{call[2]}")


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` over every rank of ``group`` with ``op``; every rank gets the result,
    in place."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "all_reduce", pg)
    name, divide = _op(op, tensor, "all_reduce", pg)
    _debug_check(pg, "all_reduce", tensor)
    staged = _staged(tensor)
    impl = pg.impl.all_reduce(staged, name)

    def finish() -> None:
        if divide:
            with no_grad():
                staged.div_(pg.size())
        _write_back([(tensor, staged)])
    return run(Work(impl, pg.timeout, finish), async_op)


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank of ``group``."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "broadcast", pg)
    root = _group_rank(pg, src, "src", "broadcast")
    _debug_check(pg, "broadcast", tensor)
    staged = _staged(tensor)
    impl = pg.impl.broadcast(staged, root)
    return run(Work(impl, pg.timeout, lambda: _write_back([(tensor, staged)])), async_op)


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group=None,
           async_op: bool = False):
    """Reduce ``tensor`` over ``group`` with ``op`` into rank ``dst``'s ``tensor``."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "reduce", pg)
    name, divide = _op(op, tensor, "reduce", pg)
    root = _group_rank(pg, dst, "dst", "reduce")
    _debug_check(pg, "reduce", tensor)
    staged = _staged(tensor)
    impl = pg.impl.reduce(staged, root, name)

    def finish() -> None:
        if pg.impl.rank == root:
            if divide:
                with no_grad():
                    staged.div_(pg.size())
            _write_back([(tensor, staged)])
    return run(Work(impl, pg.timeout, finish), async_op)


def _chunks(flat: Tensor, n: int, shape: tuple) -> list:
    """``n`` views of ``flat``, each of ``shape``."""
    size = flat.numel() // n if n else 0
    return [flat[i * size:(i + 1) * size].view(shape) for i in range(n)]


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """``tensor_list[r]`` gets rank ``r``'s ``tensor`` (one tensor per rank of ``group``)."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "all_gather", pg)
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list has {_len(tensor_list)} entries, expected "
                         f"{pg.size()} (one per rank)")
    for i, t in enumerate(tensor_list):
        _check(t, f"tensor_list[{i}]", "all_gather", pg)
        _same(t, tensor, f"tensor_list[{i}]", "all_gather", tensor.numel())
    _debug_check(pg, "all_gather", tensor)
    flat = empty(pg.size() * tensor.numel(), dtype=tensor.dtype, device=tensor.device)
    impl = pg.impl.all_gather(flat, _staged(tensor))
    parts = _chunks(flat, pg.size(), tuple(tensor.shape))

    def finish() -> None:
        _write_back([(t, p.view(tuple(t.shape))) for t, p in zip(tensor_list, parts)])
    return run(Work(impl, pg.timeout, finish), async_op)


def _len(obj) -> object:
    return len(obj) if isinstance(obj, (list, tuple)) else type(obj).__name__


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Every rank's ``input_tensor`` concatenated (or stacked) along dim 0 into
    ``output_tensor``, whose size is the group size times the input's."""
    pg = _member(group)
    if pg is None:
        return None
    where = "all_gather_into_tensor"
    _check(input_tensor, "input_tensor", where, pg)
    _check(output_tensor, "output_tensor", where, pg)
    _same(output_tensor, input_tensor, "output_tensor", where, pg.size() * input_tensor.numel())
    _debug_check(pg, where, input_tensor)
    out = _staged(output_tensor)
    impl = pg.impl.all_gather(out, _staged(input_tensor))
    return run(Work(impl, pg.timeout, lambda: _write_back([(output_tensor, out)])), async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group=None, async_op: bool = False):
    """Reduce ``input`` (the group size times ``output``'s elements) over ``group``; rank
    ``r``'s ``output`` gets the ``r``-th chunk of the result."""
    pg = _member(group)
    if pg is None:
        return None
    where = "reduce_scatter_tensor"
    _check(input, "input", where, pg)
    _check(output, "output", where, pg)
    name, divide = _op(op, input, where, pg)
    _same(input, output, "input", where, pg.size() * output.numel())
    _debug_check(pg, where, input)
    out = _staged(output)
    impl = pg.impl.reduce_scatter(out, _staged(input), name)

    def finish() -> None:
        if divide:
            with no_grad():
                out.div_(pg.size())
        _write_back([(output, out)])
    return run(Work(impl, pg.timeout, finish), async_op)


def gather(tensor: Tensor, gather_list: list | None = None, dst: int = 0, group=None,
           async_op: bool = False):
    """Rank ``dst``'s ``gather_list[r]`` gets rank ``r``'s ``tensor``; other ranks pass no
    list."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "gather", pg)
    root = _group_rank(pg, dst, "dst", "gather")
    is_root = pg.impl.rank == root
    if is_root:
        if not isinstance(gather_list, (list, tuple)) or len(gather_list) != pg.size():
            raise ValueError(f"gather: gather_list has {_len(gather_list)} entries on the "
                             f"destination rank, expected {pg.size()} (one per rank)")
        for i, t in enumerate(gather_list):
            _check(t, f"gather_list[{i}]", "gather", pg)
            _same(t, tensor, f"gather_list[{i}]", "gather", tensor.numel())
    elif gather_list:
        raise ValueError("gather: gather_list must be None or empty on ranks other than dst")
    _debug_check(pg, "gather", tensor)
    flat = (empty(pg.size() * tensor.numel(), dtype=tensor.dtype, device=tensor.device)
            if is_root else None)
    impl = pg.impl.gather(flat, _staged(tensor), root)

    def finish() -> None:
        if is_root:
            parts = _chunks(flat, pg.size(), tuple(tensor.shape))
            _write_back([(t, p.view(tuple(t.shape))) for t, p in zip(gather_list, parts)])
    return run(Work(impl, pg.timeout, finish), async_op)


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int = 0, group=None,
            async_op: bool = False):
    """Rank ``r``'s ``tensor`` gets rank ``src``'s ``scatter_list[r]``."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "scatter", pg)
    root = _group_rank(pg, src, "src", "scatter")
    flat = None
    if pg.impl.rank == root:
        if not isinstance(scatter_list, (list, tuple)) or len(scatter_list) != pg.size():
            raise ValueError(f"scatter: scatter_list has {_len(scatter_list)} entries on the "
                             f"source rank, expected {pg.size()} (one per rank)")
        for i, t in enumerate(scatter_list):
            _check(t, f"scatter_list[{i}]", "scatter", pg)
            _same(t, tensor, f"scatter_list[{i}]", "scatter", tensor.numel())
        from genesis._ops.shape import cat
        with no_grad():
            flat = cat([t.detach().reshape(-1) for t in scatter_list]) if scatter_list else None
    elif scatter_list:
        raise ValueError("scatter: scatter_list must be None or empty on ranks other than src")
    _debug_check(pg, "scatter", tensor)
    out = _staged(tensor)
    impl = pg.impl.scatter(out, flat, root)
    return run(Work(impl, pg.timeout, lambda: _write_back([(tensor, out)])), async_op)


def _split_counts(splits, t: Tensor, n: int, name: str) -> list:
    """Element counts per rank of a dim-0 split (None: equal parts)."""
    rows = t.shape[0] if t.ndim else 1
    per_row = t.numel() // rows if rows else 0
    if splits is None or len(splits) == 0:
        if rows % n:
            raise ValueError(f"all_to_all_single: {name} has {rows} rows along dim 0, which "
                             f"do not split evenly over {n} ranks; pass {name}_split_sizes")
        return [rows // n * per_row] * n
    splits = [int(s) for s in splits]
    if len(splits) != n or sum(splits) != rows or min(splits) < 0:
        raise ValueError(f"all_to_all_single: {name}_split_sizes={splits}, expected {n} "
                         f"non-negative sizes summing to {rows} (dim 0 of {name})")
    return [s * per_row for s in splits]


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: list | None = None,
                      input_split_sizes: list | None = None, group=None,
                      async_op: bool = False):
    """Split ``input`` along dim 0, send part ``j`` to rank ``j``, and concatenate what every
    rank sent here into ``output`` (equal parts unless split sizes are given)."""
    pg = _member(group)
    if pg is None:
        return None
    where = "all_to_all_single"
    _check(input, "input", where, pg)
    _check(output, "output", where, pg)
    _same(output, input, "output", where)
    in_counts = _split_counts(input_split_sizes, input, pg.size(), "input")
    out_counts = _split_counts(output_split_sizes, output, pg.size(), "output")
    _debug_check(pg, where, None)
    out = _staged(output)
    impl = pg.impl.all_to_all(out, _staged(input), out_counts, in_counts)
    return run(Work(impl, pg.timeout, lambda: _write_back([(output, out)])), async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of ``group`` has reached this call."""
    pg = _member(group)
    if pg is None:
        return None
    _debug_check(pg, "barrier", None)
    return run(Work(pg.impl.barrier(), pg.timeout), async_op)


def isend(tensor: Tensor, dst: int, group=None, tag: int = 0) -> Work | None:
    """Start sending ``tensor`` to global rank ``dst``; returns the work handle."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "isend", pg)
    peer = _group_rank(pg, dst, "dst", "isend")
    if peer == pg.impl.rank:
        raise ValueError(f"isend: dst={dst} is this rank; send to another rank")
    with no_grad():
        data = tensor.detach().contiguous() if not tensor.is_contiguous() else tensor.detach()
    return Work(pg.impl.send(data, peer, tag), pg.timeout)


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> Work | None:
    """Start receiving into ``tensor`` from global rank ``src`` (None: any rank);
    ``work.result()`` (after ``wait``) is the sender's global rank."""
    pg = _member(group)
    if pg is None:
        return None
    _check(tensor, "tensor", "irecv", pg)
    peer = None if src is None else _group_rank(pg, src, "src", "irecv")
    staged = _staged(tensor)
    impl = pg.impl.recv(staged, peer, tag)

    def sender() -> int:
        return pg.ranks[peer if peer is not None else impl.source]
    return Work(impl, pg.timeout, lambda: _write_back([(tensor, staged)]), sender)


def send(tensor: Tensor, dst: int, group=None, tag: int = 0) -> None:
    """Send ``tensor`` to global rank ``dst`` (blocks until it can be reused)."""
    work = isend(tensor, dst, group, tag)
    if work is not None:
        work.wait()


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> int:
    """Receive into ``tensor`` from global rank ``src`` (None: any); returns the sender."""
    work = irecv(tensor, src, group, tag)
    return -1 if work is None else work.result()
