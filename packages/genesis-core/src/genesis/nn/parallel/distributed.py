"""``DistributedDataParallel``: one model replica per rank, gradients averaged over ranks."""

from __future__ import annotations

import contextlib
from collections import OrderedDict

from genesis import distributed as dist
from genesis._autograd.grad_mode import is_grad_enabled
from genesis.nn.modules.module import Module
from genesis.nn.parallel._reducer import Reducer


class DistributedDataParallel(Module):
    """Data parallelism with PyTorch's semantics: ``module``'s parameters and buffers are
    broadcast from rank 0 here, each rank runs forward/backward on its share of the batch, and
    gradients are averaged over the ranks during backward, in buckets of ``bucket_cap_mb``
    whose all-reduce starts as soon as their gradients are ready.

    ``broadcast_buffers``: copy rank 0's buffers (e.g. BatchNorm statistics) before each
    forward. ``find_unused_parameters``: find, at each forward, parameters the output does
    not depend on, so backward need not wait for them. ``gradient_as_bucket_view``: leave
    ``.grad`` as views of the communication buffers (saves a copy and memory).
    ``no_sync()`` skips averaging, for gradient accumulation. ``device_ids`` and
    ``output_device`` must be None or name this process's single device.
    """

    def __init__(self, module: Module, device_ids: list | None = None, output_device=None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group=None,
                 bucket_cap_mb: float | None = 25, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module={type(module).__name__}, "
                            "expected a genesis.nn.Module")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError(f"DistributedDataParallel: device_ids={device_ids!r}, expected None "
                             "or one device (one process per device)")
        if bucket_cap_mb is None:
            bucket_cap_mb = 25
        if not isinstance(bucket_cap_mb, (int, float)) or bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb={bucket_cap_mb!r}, "
                             "expected a positive number of megabytes")
        self.module = module
        self.process_group = dist._state.resolve(process_group)
        self.device_ids = device_ids
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        params = [p for p in module.parameters() if p.requires_grad]
        self._sync_states(list(module.parameters()) + list(module.buffers()))
        self.reducer = Reducer(params, self.process_group, int(bucket_cap_mb * 1024 * 1024),
                               gradient_as_bucket_view) if params else None

    def _sync_states(self, tensors: list) -> None:
        """Rank 0's values in every rank's ``tensors`` (started together, then awaited)."""
        src = self.process_group.ranks[0]
        works = [dist.broadcast(t.detach(), src=src, group=self.process_group, async_op=True)
                 for t in tensors]
        for w in works:
            if w is not None:
                w.wait()

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.process_group.size() > 1:
            buffers = list(self.module.buffers())
            if buffers:
                self._sync_states(buffers)
        out = self.module(*inputs, **kwargs)
        if self.reducer is not None and is_grad_enabled() and self.require_backward_grad_sync:
            self.reducer.arm(out, self.find_unused_parameters)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally without averaging; the first
        backward after it averages the accumulated sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load a state dict saved from this wrapper (keys ``module.*``) or from the bare
        model (no prefix), so single-process checkpoints load into a DDP run."""
        if state_dict and not any(k.startswith("module.") for k in state_dict):
            state_dict = OrderedDict(("module." + k, v) for k, v in state_dict.items())
        return super().load_state_dict(state_dict, strict=strict, assign=assign)
