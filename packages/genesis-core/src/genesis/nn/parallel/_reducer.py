"""Gradient buckets for DistributedDataParallel: each parameter's post-accumulate-grad hook
marks it ready; a bucket whose parameters are all ready starts its all-reduce at once, while
backward goes on computing the rest (communication overlaps computation).

Buckets start in index order on every rank (a ready bucket waits for the ones before it), so
the ranks issue their collectives in the same sequence, as MPI and NCCL require.
"""

from __future__ import annotations

from genesis._autograd.engine import _topological_order
from genesis._autograd.grad_mode import no_grad
from genesis._ops.creation import zeros
from genesis._tensor import Tensor
from genesis.distributed import ReduceOp, all_reduce

FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's: the first bucket starts communicating early


class Bucket:
    """Parameters whose gradients travel in one flat buffer."""

    def __init__(self, params: list) -> None:
        self.params = params
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        self.buffer = zeros(total, dtype=params[0].dtype, device=params[0].device)
        self.pending = len(params)
        self.work = None

    def view(self, i: int) -> Tensor:
        """Parameter ``i``'s slice of the buffer, in its shape."""
        p = self.params[i]
        return self.buffer[self.offsets[i]:self.offsets[i] + p.numel()].view(tuple(p.shape))


def assign_buckets(params: list, cap_bytes: int) -> list:
    """Parameters in reverse registration order (gradients tend to arrive that way), split by
    dtype and device into buckets of at most ``cap_bytes`` (the first one at most 1 MiB)."""
    buckets, open_by_kind = [], {}
    for p in reversed(params):
        kind = (p.dtype, str(p.device))
        current = open_by_kind.get(kind)
        limit = min(FIRST_BUCKET_BYTES, cap_bytes) if not buckets else cap_bytes
        size = p.numel() * p.element_size()
        if current is None or (current and current[1] + size > limit):
            current = open_by_kind[kind] = [[], 0]
            buckets.append(current[0])
        current[0].append(p)
        current[1] += size
    return [Bucket(b) for b in buckets if b]


class Reducer:
    """Averages the gradients of ``params`` over ``group`` once per armed backward."""

    def __init__(self, params: list, group, cap_bytes: int, grad_as_view: bool) -> None:
        self.params, self.group, self.grad_as_view = params, group, grad_as_view
        self.buckets = assign_buckets(params, cap_bytes)
        self.where = {}  # id(param) -> (bucket index, index in bucket)
        for b, bucket in enumerate(self.buckets):
            for i, p in enumerate(bucket.params):
                self.where[id(p)] = (b, i)
        self.handles = [p.register_post_accumulate_grad_hook(self._ready) for p in params]
        self.armed = False
        self.ready: set = set()
        self.next_bucket = 0

    def arm(self, outputs, find_unused: bool) -> None:
        """Expect one backward; with ``find_unused``, parameters the outputs do not depend on
        count as ready now (their gradient contributes zeros)."""
        if self.armed and self.ready:
            unready = [i for i, p in enumerate(self.params) if id(p) not in self.ready]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. Parameters that received no gradient in the last backward: indices "
                f"{unready}. Pass find_unused_parameters=True to DistributedDataParallel if "
                "some parameters do not take part in producing the loss.")
        self.armed, self.ready, self.next_bucket = True, set(), 0
        for bucket in self.buckets:
            bucket.pending, bucket.work = len(bucket.params), None
        if find_unused:
            used = {id(n) for t in _tensors(outputs) if t.requires_grad
                    for n in _topological_order(t._ctx if t._ctx is not None else t)}
            for p in self.params:
                if id(p) not in used:
                    self._mark(p)

    def _ready(self, param: Tensor) -> None:
        if self.armed and id(param) not in self.ready:
            self._mark(param)

    def _mark(self, param: Tensor) -> None:
        self.ready.add(id(param))
        b, _ = self.where[id(param)]
        self.buckets[b].pending -= 1
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            self._launch(self.buckets[self.next_bucket])
            self.next_bucket += 1
        for bucket in self.buckets[:self.next_bucket]:
            if bucket.work is not None:
                bucket.work.is_completed()  # lets MPI progress the transfers in flight
        if self.next_bucket == len(self.buckets):
            self._finish()

    def _launch(self, bucket: Bucket) -> None:
        with no_grad():
            for i, p in enumerate(bucket.params):
                view = bucket.view(i)
                g = p.grad
                if g is None:
                    view.zero_()
                elif g.storage is not bucket.buffer.storage:
                    view.copy_(g)
        bucket.work = all_reduce(bucket.buffer, op=ReduceOp.AVG, group=self.group,
                                 async_op=True)

    def _finish(self) -> None:
        """Wait for every bucket and hand the averaged gradients to the parameters."""
        with no_grad():
            for bucket in self.buckets:
                bucket.work.wait()
                for i, p in enumerate(bucket.params):
                    view = bucket.view(i)
                    if self.grad_as_view:
                        p.grad = view
                    elif p.grad is None or p.grad.storage is view.storage:
                        p.grad = view.clone()
                    else:
                        p.grad.copy_(view)
        self.armed = False
        self.ready = set()

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def _tensors(obj) -> list:
    """The tensors in a forward's output (a tensor, or nested lists/tuples/dicts of them)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors(item)]
    return []
